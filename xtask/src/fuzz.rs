//! `cargo xtask fuzz`: builds the libFuzzer target in `fuzz/` and runs it
//! (docs/fuzzing.md).
//!
//! cargo-fuzz is not needed: what it adds to a build is a handful of
//! stable `-C` flags (SanitizerCoverage's LLVM pass with inline 8-bit
//! counters and the PC table, which libFuzzer reads; see [`RUSTFLAGS`]),
//! given here in `RUSTFLAGS` for the host target only (`--target`, so that
//! build scripts are not instrumented). No sanitizer runtime is linked
//! (AddressSanitizer needs a nightly-only flag): the kernel is safe Rust
//! outside a few audited blocks, and the simulated machine checks every
//! physical address it is handed, so a wild access is a panic anyway.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::prereq::{self, Need};
use crate::toolchain::host_cargo;

/// What to run.
pub struct Options {
    /// Stop after this many executions.
    pub execs: Option<u64>,
    /// Stop after this many seconds.
    pub seconds: Option<u64>,
    /// Print every line libFuzzer prints (otherwise only its progress
    /// pulses and the end).
    pub verbose: bool,
    /// Fuzz the MCS kernel (`--config mcs=on`): the kernel's `mcs`
    /// feature, with its own build, corpus and findings under
    /// `target/fuzz-mcs` (the two configurations' inputs mean different
    /// system calls).
    pub mcs: bool,
}

/// Where a configuration's build, corpus and findings go.
fn dir(mcs: bool) -> &'static Path {
    Path::new(if mcs {
        "target/fuzz-mcs"
    } else {
        "target/fuzz"
    })
}

/// The instrumentation libFuzzer needs (what cargo-fuzz passes, but
/// comparison tracing: `-sanitizer-coverage-trace-compares` instruments
/// every comparison, the invariant checks' included, and took half of
/// each execution's time, while the input decoder (`kernel/src/fuzz/
/// input.rs`) already draws boundary values and capability addresses
/// itself; without it the fuzzer runs twice as many executions).
pub const RUSTFLAGS: [&str; 5] = [
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "--cfg=fuzzing",
];

/// Longest input libFuzzer makes: a few hundred kernel entries, past
/// which a run's cost grows faster than what it finds.
const MAX_LEN: u64 = 1024;

/// The figures of a run, from libFuzzer's output.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub execs: u64,
    pub exec_per_sec: u64,
    /// Coverage: edges (`cov`) and features (`ft`, edges with hit counts
    /// and comparison values).
    pub edges: u64,
    pub features: u64,
    pub corpus: u64,
}

/// Reads the figures from libFuzzer's status lines (`#N DONE cov: C ft:
/// F corp: K/...`) and final stats (`stat::number_of_executed_units`,
/// `stat::average_exec_per_sec`); later lines win.
pub fn parse(out: &str) -> Figures {
    let mut f = Figures::default();
    let num = |s: &str| {
        s.trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .ok()
    };
    for line in out.lines() {
        let mut words = line.split_whitespace();
        if let Some(n) = words.next().and_then(|w| w.strip_prefix('#')) {
            if let Some(n) = num(n) {
                f.execs = n;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            for pair in words.windows(2) {
                let v = pair[1].split('/').next().and_then(num);
                match (pair[0], v) {
                    ("cov:", Some(v)) => f.edges = v,
                    ("ft:", Some(v)) => f.features = v,
                    ("corp:", Some(v)) => f.corpus = v,
                    ("exec/s:", Some(v)) => f.exec_per_sec = v,
                    _ => {}
                }
            }
        } else if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            f.execs = num(v.trim()).unwrap_or(f.execs);
        } else if let Some(v) = line.strip_prefix("stat::average_exec_per_sec:") {
            f.exec_per_sec = num(v.trim()).unwrap_or(f.exec_per_sec);
        }
    }
    f
}

/// The files libFuzzer left in `dir` for its findings (crash-, timeout-,
/// oom-, leak-, slow-unit- followed by the input's hash).
fn findings(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| {
                ["crash-", "timeout-", "oom-", "leak-"]
                    .iter()
                    .any(|k| n.starts_with(k))
            })
        })
        .collect();
    v.sort();
    v
}

/// The host's target triple (rustc's `host:`).
pub fn host_triple() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "rustc -vV names no host".into())
}

/// Builds the fuzz target; returns the binary.
pub fn build(verbose: bool, mcs: bool) -> Result<PathBuf, String> {
    prereq::ensure(&[Need::Cxx])?;
    let triple = host_triple()?;
    let target_dir = dir(mcs);
    let mut cmd = host_cargo();
    cmd.args(["build", "--release", "--manifest-path", "fuzz/Cargo.toml"]);
    if mcs {
        cmd.args(["--features", "mcs"]);
    }
    cmd.args(["--target", &triple])
        .arg("--target-dir")
        .arg(target_dir)
        .env("RUSTFLAGS", RUSTFLAGS.join(" "))
        // The root workspace's options (e.g. `CAIRN_CONFIG`) stay the
        // defaults, which the fuzz driver is written against.
        .env_remove("CAIRN_CONFIG");
    if !verbose {
        cmd.arg("--quiet");
    }
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the fuzz target failed ({status})"));
    }
    Ok(target_dir.join(triple).join("release/syscalls"))
}

/// Builds and runs the fuzzer; returns whether it found nothing.
pub fn run(o: &Options) -> Result<bool, String> {
    let bin = build(o.verbose, o.mcs)?;
    let corpus = &dir(o.mcs).join("corpus");
    let artifacts = &dir(o.mcs).join("artifacts");
    for d in [corpus, artifacts] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let before = findings(artifacts);
    let seconds = match (o.execs, o.seconds) {
        (None, None) => Some(60),
        (_, s) => s,
    };
    let start = std::time::Instant::now();
    let (mut total, mut last, mut ok) = (0u64, Figures::default(), true);
    loop {
        let left_execs = o.execs.map(|n| n.saturating_sub(total));
        let left_secs = seconds.map(|s| s.saturating_sub(start.elapsed().as_secs()));
        if left_execs == Some(0) || left_secs == Some(0) {
            break;
        }
        let mut cmd = Command::new(&bin);
        cmd.arg(corpus)
            .arg(format!("-max_len={MAX_LEN}"))
            // A run is a few hundred kernel entries: seconds mean a hang.
            .arg("-timeout=10")
            .arg("-rss_limit_mb=2048")
            .arg("-print_final_stats=1")
            .arg(format!("-artifact_prefix={}/", artifacts.display()));
        if let Some(n) = left_execs {
            cmd.arg(format!("-runs={n}"));
        }
        if let Some(s) = left_secs {
            cmd.arg(format!("-max_total_time={s}"));
        }
        let (status, f) = run_one(cmd, o.verbose, &bin)?;
        total += f.execs;
        ok &= status;
        let stalled = f.execs == 0;
        last = f;
        if !ok || stalled {
            break;
        }
    }
    let secs = start.elapsed().as_secs().max(1);
    let new: Vec<PathBuf> = findings(artifacts)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    println!(
        "fuzz: {total} executions ({} exec/s), coverage {} edges / {} features, corpus {} inputs, {} findings",
        total / secs,
        last.edges,
        last.features,
        last.corpus,
        new.len()
    );
    for p in &new {
        println!(
            "fuzz: finding {} (reproduce: {} {})",
            p.display(),
            bin.display(),
            p.display()
        );
    }
    Ok(ok && new.is_empty())
}

/// Runs one libFuzzer process, echoing its progress; returns whether it
/// ended well and its figures.
fn run_one(mut cmd: Command, verbose: bool, bin: &Path) -> Result<(bool, Figures), String> {
    let mut child = cmd
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let mut out = String::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            // "#N<tab>pulse ..." lines come at every power of two.
            let word = line.split_whitespace().nth(1);
            let progress = matches!(word, Some("pulse" | "DONE" | "INITED"));
            if verbose || progress || line.contains("panicked") || line.starts_with("==") {
                eprintln!("{line}");
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok((status.success(), parse(&out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzers_figures() {
        let out = "INFO: Seed: 1\n\
            #2\tINITED cov: 1299 ft: 2599 corp: 184/824b exec/s: 0 rss: 29Mb\n\
            #4096\tpulse  cov: 1334 ft: 2813 corp: 257/1374b lim: 11 exec/s: 170 rss: 50Mb\n\
            #5025\tDONE   cov: 1346 ft: 2888 corp: 278/1582b lim: 11 exec/s: 162 rss: 55Mb\n\
            Done 5025 runs in 31 second(s)\n\
            stat::number_of_executed_units: 5025\n\
            stat::average_exec_per_sec:     162\n";
        assert_eq!(
            parse(out),
            Figures {
                execs: 5025,
                exec_per_sec: 162,
                edges: 1346,
                features: 2888,
                corpus: 278,
            }
        );
        assert_eq!(parse(""), Figures::default());
    }
}
