//! `cargo xtask spec`: the refinement test (docs/spec.md) for as many
//! steps as asked. It is the kernel crate's host test
//! `cap::proptests::refine::kernel_refines_the_spec`, which `cargo xtask
//! test` runs with its default step count; here the step count and the
//! seed go to it through `CAIRN_SPEC_STEPS` and `CAIRN_SPEC_SEED`, and it
//! runs optimised (`--release`), its summary and any failure (the shrunk
//! sequence) streamed. With `--config mcs=on` it runs the kernel crate's
//! `mcs` feature, which turns on the spec's (docs/spec.md, "MCS").

use crate::toolchain::host_cargo;

/// The test's full name in the kernel crate.
const TEST: &str = "cap::proptests::refine::kernel_refines_the_spec";

/// Runs `steps` steps (with `seed`, else a random one) on the classic or
/// (`mcs`) the MCS kernel; whether it passed.
pub fn run(steps: u64, seed: Option<u64>, mcs: bool) -> Result<bool, String> {
    let mut cmd = host_cargo();
    cmd.current_dir(crate::build::repo_root()).args([
        "test",
        "--release",
        "-p",
        "cairn-kernel",
        "--lib",
    ]);
    if mcs {
        cmd.args(["--features", "mcs"]);
    }
    cmd.arg(TEST)
        .args(["--", "--exact", "--nocapture"])
        .env("CAIRN_SPEC_STEPS", steps.to_string())
        .env("RUST_BACKTRACE", "0");
    // A fresh seed unless given, printed so that a failure reproduces.
    let seed = seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(1, |d| d.as_nanos() as u64 % 1_000_000_007)
    });
    cmd.env("CAIRN_SPEC_SEED", seed.to_string());
    let config = if mcs { "MCS" } else { "classic" };
    eprintln!("xtask: refinement test ({config}), {steps} steps, seed {seed}");
    let start = std::time::Instant::now();
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    eprintln!(
        "xtask: {} in {:.1} s",
        if status.success() { "passed" } else { "FAILED" },
        start.elapsed().as_secs_f64()
    );
    Ok(status.success())
}
