//! `cargo xtask coverage`: line coverage of the kernel by its host tests
//! (docs/coverage.md).
//!
//! The kernel's unit tests are built with `-C instrument-coverage` (into
//! `target/coverage/`, apart from the ordinary builds) and run with
//! `LLVM_PROFILE_FILE` pointing there; Debian's `llvm-profdata-N` merges
//! the raw profiles and `llvm-cov-N` reads them, N being the LLVM major
//! version of the host rustc (the raw profile format changes with it).
//! The figures are per kernel module (the first directory or file under
//! `kernel/src/`), with the test-only code left out: the tests
//! themselves, `testutil.rs`, `cap/tree_check.rs` and the fuzz driver. An
//! HTML report, line by line, is written to `target/coverage/html/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::prereq::{self, rustc_llvm_major, Need};
use crate::probe::System;
use crate::toolchain::host_cargo;

/// Test-only files of the kernel, left out of the figures (a regular
/// expression on the path, for llvm-cov's `-ignore-filename-regex`).
/// Anchored at `kernel/src/` so that the checkout's own path (say, a
/// directory named `fuzz`) cannot match.
pub const TEST_ONLY: &str = r"(kernel/src/.*(/tests?[_/.]|tests\.rs|proptests|testutil\.rs|tree_check\.rs)|kernel/src/fuzz/|/\.cargo/|/rustc/|/abi/src/|/config/src/|/out/)";

/// Lines covered and lines in all, per kernel module.
pub type Table = BTreeMap<String, (u64, u64)>;

/// The kernel module of a source path (`kernel/src/cap/derive.rs` ->
/// `cap`, `kernel/src/preempt.rs` -> `preempt`), if it is kernel source.
pub fn module_of(path: &str) -> Option<String> {
    let rest = path.split("kernel/src/").nth(1)?;
    let first = rest.split('/').next()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// Adds up `llvm-cov export -summary-only` JSON per module.
pub fn table(export: &serde_json::Value) -> Table {
    let mut t = Table::new();
    let files = export["data"][0]["files"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for f in files {
        let (Some(name), Some(lines)) = (f["filename"].as_str(), f["summary"].get("lines")) else {
            continue;
        };
        let Some(m) = module_of(name) else { continue };
        let e = t.entry(m).or_default();
        e.0 += lines["covered"].as_u64().unwrap_or(0);
        e.1 += lines["count"].as_u64().unwrap_or(0);
    }
    t
}

fn percent(covered: u64, all: u64) -> f64 {
    if all == 0 {
        100.0
    } else {
        100.0 * covered as f64 / all as f64
    }
}

/// The report: one line per module, then the total outside `arch/` (the
/// issue's figure) and the total of all.
pub fn report(t: &Table) -> String {
    let mut s = format!(
        "{:<12} {:>8} {:>8} {:>7}\n",
        "module", "lines", "covered", "%"
    );
    let (mut c, mut a, mut c_na, mut a_na) = (0, 0, 0, 0);
    for (m, &(covered, all)) in t {
        s += &format!(
            "{m:<12} {all:>8} {covered:>8} {:>6.1}%\n",
            percent(covered, all)
        );
        c += covered;
        a += all;
        if m != "arch" {
            c_na += covered;
            a_na += all;
        }
    }
    s += &format!(
        "{:<12} {a_na:>8} {c_na:>8} {:>6.1}%\n",
        "not arch/",
        percent(c_na, a_na)
    );
    s += &format!("{:<12} {a:>8} {c:>8} {:>6.1}%\n", "all", percent(c, a));
    s
}

fn run_tool(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// Builds the kernel's test binary with coverage; returns its path. The
/// host target is named (`--target`) so that `RUSTFLAGS` reach the test
/// binary only, not the build scripts (which would leave profiles in the
/// source tree when cargo runs them).
fn build_tests(target_dir: &Path) -> Result<PathBuf, String> {
    let triple = crate::fuzz::host_triple()?;
    let out = run_tool(
        host_cargo()
            .args(["test", "-p", "cairn-kernel", "--lib", "--no-run"])
            .args(["--target", &triple])
            .args(["--message-format=json-render-diagnostics"])
            .arg("--target-dir")
            .arg(target_dir)
            .env("RUSTFLAGS", "-C instrument-coverage")
            .env_remove("CAIRN_CONFIG"),
    )?;
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["profile"]["test"] == true)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built no kernel test binary".into())
}

/// Builds, runs and reports.
pub fn run(verbose: bool) -> Result<(), String> {
    prereq::ensure(&[Need::LlvmCov])?;
    let n = rustc_llvm_major(&System).ok_or("cannot read rustc's LLVM version")?;
    let (profdata, cov) = (format!("llvm-profdata-{n}"), format!("llvm-cov-{n}"));
    let dir = Path::new("target/coverage");
    let raw = dir.join("profraw");
    let _ = std::fs::remove_dir_all(&raw);
    std::fs::create_dir_all(&raw).map_err(|e| format!("{}: {e}", raw.display()))?;
    eprintln!("coverage: building the kernel's host tests with -C instrument-coverage");
    let bin = build_tests(dir)?;
    eprintln!("coverage: running {}", bin.display());
    let mut test = Command::new(&bin);
    test.env("LLVM_PROFILE_FILE", raw.join("kernel-%p-%m.profraw"));
    if !verbose {
        test.arg("--quiet");
    }
    let status = test
        .status()
        .map_err(|e| format!("cannot run the tests: {e}"))?;
    if !status.success() {
        return Err(format!("the kernel's host tests failed ({status})"));
    }
    let profiles: Vec<PathBuf> = std::fs::read_dir(&raw)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .collect();
    let merged = dir.join("kernel.profdata");
    run_tool(
        Command::new(&profdata)
            .args(["merge", "-sparse", "-o"])
            .arg(&merged)
            .args(&profiles),
    )?;
    let common = |c: &mut Command| {
        c.arg("-instr-profile")
            .arg(&merged)
            .arg(format!("-ignore-filename-regex={TEST_ONLY}"))
            .arg(&bin);
    };
    let mut export = Command::new(&cov);
    export.args(["export", "-summary-only"]);
    common(&mut export);
    let json: serde_json::Value = serde_json::from_slice(&run_tool(&mut export)?)
        .map_err(|e| format!("llvm-cov export: {e}"))?;
    let text = report(&table(&json));
    print!("{text}");
    std::fs::write(dir.join("report.txt"), &text).map_err(|e| e.to_string())?;
    let html = dir.join("html");
    let mut show = Command::new(&cov);
    show.args(["show", "-format=html", "-show-line-counts-or-regions"])
        .arg(format!("-output-dir={}", html.display()));
    common(&mut show);
    run_tool(&mut show)?;
    println!(
        "coverage: per line in {}/index.html; summary in {}",
        html.display(),
        dir.join("report.txt").display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_the_first_part_under_kernel_src() {
        assert_eq!(
            module_of("/r/kernel/src/cap/derive.rs").as_deref(),
            Some("cap")
        );
        assert_eq!(
            module_of("/r/kernel/src/preempt.rs").as_deref(),
            Some("preempt")
        );
        assert_eq!(module_of("/r/abi/src/lib.rs"), None);
    }

    #[test]
    fn the_figure_outside_arch_leaves_arch_out() {
        let json = serde_json::json!({"data": [{"files": [
            {"filename": "/r/kernel/src/arch/host/mod.rs", "summary": {"lines": {"count": 100, "covered": 0}}},
            {"filename": "/r/kernel/src/cap/derive.rs", "summary": {"lines": {"count": 10, "covered": 9}}},
            {"filename": "/r/kernel/src/cap/cte.rs", "summary": {"lines": {"count": 10, "covered": 10}}},
        ]}]});
        let t = table(&json);
        assert_eq!(t["cap"], (19, 20));
        let r = report(&t);
        assert!(r.contains("not arch/          20       19   95.0%"), "{r}");
        assert!(r.contains("all               120       19   15.8%"), "{r}");
    }
}
