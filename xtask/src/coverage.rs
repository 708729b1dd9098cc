//! `cargo xtask coverage`: line coverage of the kernel by its host tests,
//! in both configurations (docs/coverage.md).
//!
//! The kernel's unit tests are built twice with `-C instrument-coverage`
//! (into `target/coverage/`, apart from the ordinary builds): classic and
//! with `--features mcs`. Each binary runs with `LLVM_PROFILE_FILE`
//! pointing to its own directory; Debian's `llvm-profdata-N` merges each
//! run's raw profiles and `llvm-cov-N` exports each run's line counts as
//! LCOV, N being the LLVM major version of the host rustc (the raw
//! profile format changes with it). The two runs are merged per source
//! line here: a line is kernel code if either build instruments it (so
//! code compiled in one configuration counts in that one only, and a line
//! compiled in both counts once), and covered if either run executes it.
//! The figures are per kernel module (the first directory or file under
//! `kernel/src/`), with the test-only code left out: the tests
//! themselves, `testutil.rs`, `cap/tree_check.rs` and the fuzz driver. An
//! HTML report of both runs, line by line, is written to
//! `target/coverage/html/`.

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

/// Execution counts of one run: per source file, per instrumented line.
pub type Lines = BTreeMap<String, BTreeMap<u32, u64>>;

/// Lines covered and lines in all.
pub type Count = (u64, u64);

/// One module's counts: classic run, MCS run, and both merged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Row {
    pub classic: Count,
    pub mcs: Count,
    pub both: Count,
}

/// Per kernel module.
pub type Table = BTreeMap<String, Row>;

/// The kernel module of a source path (`kernel/src/cap/derive.rs` ->
/// `cap`, `kernel/src/preempt.rs` -> `preempt`), if it is kernel source.
pub fn module_of(path: &str) -> Option<String> {
    let rest = path.split("kernel/src/").nth(1)?;
    let first = rest.split('/').next()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// Reads `llvm-cov export -format=lcov`: `SF:` names the file, each
/// `DA:line,count` is one instrumented line (a line seen twice, as LCOV
/// may for generic instances, keeps the sum).
pub fn parse_lcov(text: &str) -> Lines {
    let mut lines = Lines::new();
    let mut file: Option<String> = None;
    for l in text.lines() {
        if let Some(f) = l.strip_prefix("SF:") {
            file = Some(f.to_string());
        } else if l == "end_of_record" {
            file = None;
        } else if let (Some(f), Some(da)) = (&file, l.strip_prefix("DA:")) {
            let mut parts = da.split(',');
            let (Some(Ok(n)), Some(Ok(c))) = (
                parts.next().map(str::parse::<u32>),
                parts.next().map(str::parse::<u64>),
            ) else {
                continue;
            };
            *lines.entry(f.clone()).or_default().entry(n).or_default() += c;
        }
    }
    lines
}

/// The union of two runs: a line is in it if either run instruments it,
/// with the sum of their counts (covered if either covers it).
pub fn merge(a: &Lines, b: &Lines) -> Lines {
    let mut m = a.clone();
    for (f, ls) in b {
        let e = m.entry(f.clone()).or_default();
        for (&n, &c) in ls {
            *e.entry(n).or_default() += c;
        }
    }
    m
}

fn count_into(t: &mut Table, lines: &Lines, pick: fn(&mut Row) -> &mut Count) {
    for (f, ls) in lines {
        let Some(m) = module_of(f) else { continue };
        let e = pick(t.entry(m).or_default());
        e.0 += ls.values().filter(|&&c| c > 0).count() as u64;
        e.1 += ls.len() as u64;
    }
}

/// Adds up both runs and their union per module.
pub fn table(classic: &Lines, mcs: &Lines) -> Table {
    let mut t = Table::new();
    count_into(&mut t, classic, |r| &mut r.classic);
    count_into(&mut t, mcs, |r| &mut r.mcs);
    count_into(&mut t, &merge(classic, mcs), |r| &mut r.both);
    t
}

/// Lines that one run instruments and the other does not (code compiled
/// in one configuration only), outside `arch/`: (covered, all).
pub fn only_in(run: &Lines, other: &Lines) -> Count {
    let mut n = (0, 0);
    for (f, ls) in run {
        if module_of(f).is_none_or(|m| m == "arch") {
            continue;
        }
        for (l, &c) in ls {
            if other.get(f).is_none_or(|o| !o.contains_key(l)) {
                n.0 += u64::from(c > 0);
                n.1 += 1;
            }
        }
    }
    n
}

fn percent((covered, all): Count) -> f64 {
    if all == 0 {
        100.0
    } else {
        100.0 * covered as f64 / all as f64
    }
}

fn add(a: &mut Count, b: Count) {
    a.0 += b.0;
    a.1 += b.1;
}

fn line(name: &str, r: &Row) -> String {
    let run = |(c, a): Count| format!("{a:>6} {c:>6} {:>5.1}%", percent((c, a)));
    format!(
        "{name:<12} {:>8} {:>8} {:>6.1}%   {}   {}\n",
        r.both.1,
        r.both.0,
        percent(r.both),
        run(r.classic),
        run(r.mcs)
    )
}

/// The report: one line per module, then the total outside `arch/` (the
/// issue's figure) and the total of all. The first three columns are
/// both runs merged; then each run on its own lines.
pub fn report(t: &Table) -> String {
    let mut s = format!(
        "{:<12} {:>8} {:>8} {:>7}   {:<20}   {:<20}\n",
        "module", "lines", "covered", "%", "classic: lines cov %", "mcs: lines cov %"
    );
    let (mut all, mut not_arch) = (Row::default(), Row::default());
    for (m, r) in t {
        s += &line(m, r);
        for total in [&mut all]
            .into_iter()
            .chain((m != "arch").then_some(&mut not_arch))
        {
            add(&mut total.classic, r.classic);
            add(&mut total.mcs, r.mcs);
            add(&mut total.both, r.both);
        }
    }
    s += &line("not arch/", &not_arch);
    s += &line("all", &all);
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

/// Builds the kernel's test binary with coverage, classic or MCS; returns
/// its path. The host target is named (`--target`) so that `RUSTFLAGS`
/// reach the test binary only, not the build scripts (which would leave
/// profiles in the source tree when cargo runs them).
fn build_tests(target_dir: &Path, mcs: bool) -> Result<PathBuf, String> {
    let triple = crate::fuzz::host_triple()?;
    let mut cargo = host_cargo();
    cargo
        .args(["test", "-p", "cairn-kernel", "--lib", "--no-run"])
        .args(["--target", &triple])
        .args(["--message-format=json-render-diagnostics"])
        .arg("--target-dir")
        .arg(target_dir)
        .env("RUSTFLAGS", "-C instrument-coverage")
        .env_remove("CAIRN_CONFIG");
    if mcs {
        cargo.args(["--features", "mcs"]);
    }
    let out = run_tool(&mut cargo)?;
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["profile"]["test"] == true)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built no kernel test binary".into())
}

/// One configuration's run: its test binary and merged profile.
struct Run {
    bin: PathBuf,
    profile: PathBuf,
}

/// Builds one configuration's tests, runs them, merges their profiles.
fn measure(
    dir: &Path,
    name: &str,
    mcs: bool,
    verbose: bool,
    profdata: &str,
) -> Result<Run, String> {
    let raw = dir.join("profraw").join(name);
    let _ = std::fs::remove_dir_all(&raw);
    std::fs::create_dir_all(&raw).map_err(|e| format!("{}: {e}", raw.display()))?;
    eprintln!("coverage: building the kernel's {name} host tests with -C instrument-coverage");
    let bin = build_tests(dir, mcs)?;
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
        return Err(format!("the kernel's {name} host tests failed ({status})"));
    }
    let profiles: Vec<PathBuf> = std::fs::read_dir(&raw)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .collect();
    let profile = dir.join(format!("{name}.profdata"));
    run_tool(
        Command::new(profdata)
            .args(["merge", "-sparse", "-o"])
            .arg(&profile)
            .args(&profiles),
    )?;
    Ok(Run { bin, profile })
}

/// One run's line counts, from `llvm-cov export -format=lcov`.
fn lines_of(cov: &str, run: &Run) -> Result<Lines, String> {
    let out = run_tool(
        Command::new(cov)
            .args(["export", "-format=lcov", "-instr-profile"])
            .arg(&run.profile)
            .arg(format!("-ignore-filename-regex={TEST_ONLY}"))
            .arg(&run.bin),
    )?;
    Ok(parse_lcov(&String::from_utf8_lossy(&out)))
}

/// Builds, runs and reports.
pub fn run(verbose: bool) -> Result<(), String> {
    prereq::ensure(&[Need::LlvmCov])?;
    let n = rustc_llvm_major(&System).ok_or("cannot read rustc's LLVM version")?;
    let (profdata, cov) = (format!("llvm-profdata-{n}"), format!("llvm-cov-{n}"));
    let dir = Path::new("target/coverage");
    let classic = measure(dir, "classic", false, verbose, &profdata)?;
    let mcs = measure(dir, "mcs", true, verbose, &profdata)?;
    let (lc, lm) = (lines_of(&cov, &classic)?, lines_of(&cov, &mcs)?);
    let mut text = report(&table(&lc, &lm));
    for (name, (c, a)) in [("classic", only_in(&lc, &lm)), ("mcs", only_in(&lm, &lc))] {
        text += &format!(
            "outside arch/, lines only the {name} build has: {a}, covered {c} ({:.1}%)\n",
            percent((c, a))
        );
    }
    print!("{text}");
    std::fs::write(dir.join("report.txt"), &text).map_err(|e| e.to_string())?;
    // The HTML report reads both binaries with both profiles merged (the
    // two builds' symbols differ, so their counts stay apart per function
    // and llvm-cov combines them per line, as for generic instances).
    let both = dir.join("kernel.profdata");
    run_tool(
        Command::new(&profdata)
            .args(["merge", "-sparse", "-o"])
            .arg(&both)
            .arg(&classic.profile)
            .arg(&mcs.profile),
    )?;
    let html = dir.join("html");
    let _ = std::fs::remove_dir_all(&html);
    run_tool(
        Command::new(&cov)
            .args(["show", "-format=html", "-show-line-counts-or-regions"])
            .arg(format!("-output-dir={}", html.display()))
            .arg("-instr-profile")
            .arg(&both)
            .arg(format!("-ignore-filename-regex={TEST_ONLY}"))
            .arg(&classic.bin)
            .arg("-object")
            .arg(&mcs.bin),
    )?;
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
    fn lcov_records_give_counts_per_line() {
        let l = parse_lcov(
            "SF:/r/kernel/src/cap/cte.rs\nFN:1,f\nDA:3,2\nDA:4,0\nDA:3,1\nLF:2\nend_of_record\n\
             SF:/r/kernel/src/sched/mcs.rs\nDA:10,0\nend_of_record\n",
        );
        assert_eq!(
            l["/r/kernel/src/cap/cte.rs"],
            BTreeMap::from([(3, 3), (4, 0)])
        );
        assert_eq!(l["/r/kernel/src/sched/mcs.rs"], BTreeMap::from([(10, 0)]));
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn a_line_is_covered_if_either_run_covers_it_and_counted_once() {
        let classic = parse_lcov(
            "SF:/r/kernel/src/arch/host/mod.rs\nDA:1,0\nend_of_record\n\
             SF:/r/kernel/src/cap/derive.rs\nDA:1,5\nDA:2,0\nDA:3,0\nDA:7,1\nend_of_record\n",
        );
        // Line 2 is covered by MCS only, 3 by neither; 7 is classic-only
        // code, 9 and 10 MCS-only code (in a file of both).
        let mcs = parse_lcov(
            "SF:/r/kernel/src/cap/derive.rs\nDA:1,0\nDA:2,4\nDA:3,0\nDA:9,1\nDA:10,0\nend_of_record\n\
             SF:/r/kernel/src/sched/mcs.rs\nDA:1,1\nDA:2,0\nend_of_record\n",
        );
        let t = table(&classic, &mcs);
        assert_eq!(
            t["cap"],
            Row {
                classic: (2, 4),
                mcs: (2, 5),
                both: (4, 6)
            }
        );
        assert_eq!(
            t["sched"],
            Row {
                classic: (0, 0),
                mcs: (1, 2),
                both: (1, 2)
            }
        );
        assert_eq!(t["arch"].both, (0, 1));
        assert_eq!(only_in(&classic, &mcs), (1, 1));
        assert_eq!(only_in(&mcs, &classic), (2, 4));
        let r = report(&t);
        assert!(
            r.contains("not arch/           8        5   62.5%        4      2  50.0%        7      3  42.9%"),
            "{r}"
        );
        assert!(r.contains("all                 9        5   55.6%"), "{r}");
    }
}
