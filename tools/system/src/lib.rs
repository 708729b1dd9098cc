//! Cairn's system tool: whole systems from descriptions.
//!
//! Reads a system description in seL4 Microkit's XML format (Microkit
//! 2.3.0's System Description File, [`sdf`]) or a textual CapDL spec
//! ([`capdl::parse`]), validates it, reporting every problem at
//! `file:line:column` ([`diag`]), and turns it into the CapDL model
//! ([`capdl`]), which it writes as seL4's textual CapDL or as JSON. From
//! a description it also draws the authority graph ([`graph`]).
//!
//! `cargo xtask system FILE` is the command (xtask/src/system.rs);
//! docs/system.md describes the format, the model and what comes next
//! (the image builder and the CapDL loader, issue 14).
#![forbid(unsafe_code)]

pub mod boot;
pub mod capdl;
pub mod delivery;
pub mod diag;
pub mod graph;
pub mod layout;
pub mod sdf;
pub mod setvar;

#[cfg(test)]
mod tests;

pub use capdl::Spec;
pub use diag::Diagnostic;
pub use sdf::{Config, System};

/// What a file was read into.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The system, when the input was a description (not CapDL).
    pub system: Option<System>,
    /// The CapDL model.
    pub spec: Spec,
}

/// Whether `path` names a CapDL spec (`.cdl`) rather than a system
/// description.
pub fn is_capdl(path: &str) -> bool {
    path.ends_with(".cdl")
}

/// Reads `text` (the contents of `path`): CapDL if the name ends in
/// `.cdl`, else a system description, for the kernel configuration
/// `config`.
pub fn load(path: &str, text: &str, config: Config) -> Result<Loaded, Vec<Diagnostic>> {
    if is_capdl(path) {
        let spec = capdl::parse::parse(path, text)?;
        return Ok(Loaded { system: None, spec });
    }
    let system = sdf::parse(path, text, config)?;
    let spec = capdl::build::build(&system, config);
    Ok(Loaded {
        system: Some(system),
        spec,
    })
}

/// The CapDL text of `loaded`, headed by where it came from.
pub fn cdl_text(path: &str, loaded: &Loaded) -> String {
    let from = if loaded.system.is_some() {
        format!("CapDL spec of {path} (a Microkit 2.3.0 system description), made by cairn-system")
    } else {
        format!("CapDL spec read from {path} by cairn-system")
    };
    capdl::print::print(&loaded.spec, &[from])
}

/// The JSON form of `spec`.
pub fn json_text(spec: &Spec) -> String {
    let mut s = serde_json::to_string_pretty(spec).unwrap_or_default();
    s.push('\n');
    s
}
