//! The tool's tests: the schema element by element (`sdf`), a table of
//! bad descriptions with their messages and positions (`bad`), the CapDL
//! model, text and JSON (`capdl`), and the examples (`examples`).

mod bad;
mod boot;
mod capdl;
mod examples;
mod fill;
mod mcs;
mod sdf;
mod wide;

use crate::sdf::{parse, Config, System};

const CLASSIC: Config = Config { mcs: false };
const MCS: Config = Config { mcs: true };

/// Parses `text`, which must be valid.
fn ok(text: &str, config: Config) -> System {
    match parse("t.system", text, config) {
        Ok(s) => s,
        Err(d) => panic!("unexpected errors:\n{}", crate::diag::render(&d)),
    }
}

/// The path of a file in the repository's examples/.
fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}
