//! `cargo xtask bench --profile CASE`: where the instructions of one
//! benchmark iteration go, per function, kernel and root task alike.
//!
//! How: the benchmark root task is built twice with only `CASE` enabled
//! (`CAIRN_BENCH_ONLY`), once with `N` and once with `2N` iterations
//! (`CAIRN_BENCH_ITERATIONS`). Each image runs under `-icount shift=0
//! -singlestep -d exec,nochain`: QEMU logs every instruction it executes
//! (one translation block per instruction) whose address lies in the
//! kernel's or the root task's text. The two runs differ by exactly `N`
//! iterations, so subtracting their per-function counts and dividing by
//! `N` leaves the cost of one iteration, with boot and set-up cancelled
//! out. Addresses are attributed to functions through the ELF symbol
//! tables. A timer tick that lands in one run and not the other shows as
//! a fraction of an instruction in the tick's functions.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

use crate::bench::BENCH;
use crate::build::{repo_root, short, Builder};
use crate::prereq::{self, Need};
use crate::qemu;

/// The cases that can be profiled: the `op=` names of `user/bench`'s IPC
/// measurements, round trips and one way, and the per-page memory cases
/// (a profile build maps as many pages as iterations, at most 500, and
/// runs the phases before the case too: retype for map, retype and map
/// for protect; the totals and the revoke benchmark do not scale with
/// `CAIRN_BENCH_ITERATIONS`).
pub const CASES: [&str; 27] = [
    "null-syscall",
    "yield",
    "call-reply-recv-0-same-as",
    "call-reply-recv-4-same-as",
    "call-reply-recv-10-same-as",
    "lib-call-reply-recv-0-same-as",
    "lib-call-reply-recv-4-same-as",
    "lib-call-reply-recv-10-same-as",
    "call-reply-recv-0-cross-as",
    "call-reply-recv-4-cross-as",
    "signal-higher-prio",
    "irq-to-handler",
    "call-0-same-as",
    "call-4-same-as",
    "call-10-same-as",
    "call-0-cross-as",
    "call-4-cross-as",
    "call-10-cross-as",
    "call-0-same-as-fpu",
    "send-0-higher-prio",
    "broadcast",
    "producer-to-consumer",
    "consumer-to-producer",
    "retype-frames-1",
    "map-pages-1",
    "protect-pages-1",
    "unprotect-pages-1",
];

/// The longest one logged run may take (software emulation, one log line
/// per instruction: about a minute for the default iteration counts).
const RUN_LIMIT: Duration = Duration::from_secs(900);

/// Runs the profile of `case` with `iterations` (N) and prints the table.
/// `config`: kernel options on top of benchmark=on (`mcs=on` profiles the
/// MCS kernel and the bench built for it).
pub fn run(case: &str, iterations: u64, config: &[String], verbose: bool) -> Result<(), String> {
    if !CASES.contains(&case) && !crate::bench_mcs::CASES.contains(&case) {
        return Err(format!(
            "no benchmark case {case:?} to profile; the cases: {}",
            CASES.join(", ")
        ));
    }
    if iterations == 0 {
        return Err("--iterations must be at least 1".into());
    }
    let toolchain =
        prereq::ensure(&[Need::CrossToolchain, Need::Qemu])?.ok_or("no cross toolchain")?;
    let b = Builder::new(toolchain);
    let cfg = crate::bench::config_with(config)?;
    let kernel = b.kernel(&cfg)?;
    let dir = repo_root().join("target/bench/profile");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut runs = Vec::new();
    for n in [iterations, 2 * iterations] {
        let root = build_root_task(&b, case, n, &cfg, &dir)?;
        let image = b.image(&kernel, &root, &format!("profile-{n}"))?;
        let symbols = Symbols::of(&[&kernel, &root])?;
        eprintln!("xtask: logging every instruction of {case} x {n} (software emulation: slow)");
        let counts = logged_run(&image, &symbols, case, verbose)?;
        runs.push((counts, symbols));
    }
    let (small, _) = &runs[0];
    let (large, symbols) = &runs[1];
    print!("{}", table(case, iterations, small, large, symbols));
    Ok(())
}

/// Builds `user/bench` with only `case`, `n` times, and keeps a copy of
/// the ELF (the next build overwrites cargo's output).
fn build_root_task(
    b: &Builder,
    case: &str,
    n: u64,
    cfg: &cairn_config::KernelConfig,
    dir: &Path,
) -> Result<PathBuf, String> {
    // The bench crate reads both with `option_env!`; cargo rebuilds it
    // when they change.
    std::env::set_var("CAIRN_BENCH_ONLY", case);
    std::env::set_var("CAIRN_BENCH_ITERATIONS", n.to_string());
    let built = b.user_programs(&[BENCH], cfg);
    std::env::remove_var("CAIRN_BENCH_ONLY");
    std::env::remove_var("CAIRN_BENCH_ITERATIONS");
    let elf = built?
        .remove(BENCH)
        .ok_or("cargo built no benchmark executable")?;
    let copy = dir.join(format!("{BENCH}-{n}.elf"));
    std::fs::copy(&elf, &copy).map_err(|e| format!("copying {}: {e}", elf.display()))?;
    Ok(copy)
}

/// Instructions executed per function (index into [`Symbols::names`]).
type Counts = HashMap<usize, u64>;

/// Boots `image` with instruction logging and counts the logged
/// instructions per function. Fails unless the run measured `case` and
/// ended normally.
fn logged_run(
    image: &Path,
    symbols: &Symbols,
    case: &str,
    verbose: bool,
) -> Result<Counts, String> {
    let mut cmd: Command = qemu::boot_command(image, None);
    cmd.args(qemu::ICOUNT_ARGS)
        .args(["-singlestep", "-d", "exec,nochain", "-dfilter"])
        .arg(symbols.dfilter())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting {}: {e}", qemu::QEMU))?;
    let stdout = child.stdout.take().ok_or("no QEMU stdout")?;
    let console = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stdout).read_to_string(&mut text);
        text
    });
    let stderr = child.stderr.take().ok_or("no QEMU stderr")?;
    let start = Instant::now();
    let mut counts = Counts::new();
    let mut unattributed = 0u64;
    for line in BufReader::with_capacity(1 << 20, stderr).lines() {
        let line = line.map_err(|e| format!("reading QEMU's log: {e}"))?;
        match pc_of(&line) {
            Some(pc) => match symbols.function_at(pc) {
                Some(f) => *counts.entry(f).or_default() += 1,
                None => unattributed += 1,
            },
            None if verbose => eprintln!("{line}"),
            None => {}
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            return Err(format!(
                "the logged run took over {} s",
                RUN_LIMIT.as_secs()
            ));
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for QEMU: {e}"))?;
    let console = console.join().unwrap_or_default();
    if verbose {
        eprint!("{console}");
    }
    let measured = format!("op={case} ");
    if !status.success() || !console.lines().any(|l| l.contains(&measured)) {
        let tail: Vec<&str> = console.lines().rev().take(15).collect();
        return Err(format!(
            "the logged run did not measure {case} ({status}); last lines:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    if unattributed > 0 {
        counts.insert(symbols.unknown(), unattributed);
    }
    Ok(counts)
}

/// The guest pc of a `-d exec` line: `Trace 0: 0x... [cs_base/pc/flags/...]`.
fn pc_of(line: &str) -> Option<u64> {
    let fields = line.strip_prefix("Trace ")?.split_once('[')?.1;
    let pc = fields.split('/').nth(1)?;
    u64::from_str_radix(pc, 16).ok()
}

/// The function symbols of the kernel and the root task, sorted by
/// address, plus their text ranges (for QEMU's `-dfilter`).
struct Symbols {
    /// (start, end, index into `names`).
    ranges: Vec<(u64, u64, usize)>,
    names: Vec<String>,
    texts: Vec<(u64, u64)>,
}

impl Symbols {
    fn of(elves: &[&Path]) -> Result<Symbols, String> {
        let mut s = Symbols {
            ranges: Vec::new(),
            names: Vec::new(),
            texts: Vec::new(),
        };
        for path in elves {
            let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", short(path)))?;
            let text = file
                .section_by_name(".text")
                .ok_or_else(|| format!("{}: no .text", short(path)))?;
            s.texts.push((text.address(), text.address() + text.size()));
            // Functions, and the global labels of assembly code (the trap
            // entry and exit), which have no type.
            let mut found: Vec<(u64, u64, String)> = file
                .symbols()
                .filter(|sym| {
                    sym.kind() == SymbolKind::Text
                        || (sym.is_global() && sym.section_index() == Some(text.index()))
                })
                .filter_map(|sym| {
                    let raw = sym.name().ok().filter(|n| !n.starts_with(['.', '$']))?;
                    let name = format!("{:#}", rustc_demangle::demangle(raw));
                    Some((sym.address(), sym.size(), name))
                })
                .collect();
            found.sort_unstable();
            // Assembly labels (trap entry, boot) carry no size: each runs
            // to the next symbol or the end of the text.
            let text_end = text.address() + text.size();
            for i in 0..found.len() {
                let (start, size, _) = found[i];
                let end = match size {
                    0 => found
                        .iter()
                        .skip(i + 1)
                        .map(|next| next.0)
                        .find(|&a| a > start)
                        .unwrap_or(text_end),
                    _ => start + size,
                };
                let name = std::mem::take(&mut found[i].2);
                s.names.push(name);
                s.ranges.push((start, end, s.names.len() - 1));
            }
        }
        s.ranges.sort_unstable();
        s.names.push("(no symbol)".into());
        Ok(s)
    }

    /// The `-dfilter` argument: the text ranges.
    fn dfilter(&self) -> String {
        let r: Vec<String> = self
            .texts
            .iter()
            .map(|(a, b)| format!("{a:#x}..{:#x}", b.saturating_sub(1)))
            .collect();
        r.join(",")
    }

    fn function_at(&self, pc: u64) -> Option<usize> {
        let i = self.ranges.partition_point(|r| r.0 <= pc).checked_sub(1)?;
        let (start, end, f) = self.ranges[i];
        (start <= pc && pc < end).then_some(f)
    }

    /// The index of "(no symbol)".
    fn unknown(&self) -> usize {
        self.names.len() - 1
    }
}

/// The profile table: instructions per iteration per function, most
/// first, from the runs with N (`small`) and 2N (`large`) iterations.
fn table(case: &str, n: u64, small: &Counts, large: &Counts, symbols: &Symbols) -> String {
    let mut rows: Vec<(f64, &str)> = large
        .iter()
        .map(|(f, &l)| {
            let s = small.get(f).copied().unwrap_or(0);
            ((l as f64 - s as f64) / n as f64, symbols.names[*f].as_str())
        })
        .filter(|(per, _)| per.abs() >= 0.05)
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let total: f64 = rows.iter().map(|r| r.0).sum();
    let mut out = format!(
        "profile {case}: instructions per iteration ({n} and {} iterations, difference / {n})\n",
        2 * n
    );
    out += &format!("{:>10} {:>6}  function\n", "instr", "share");
    for (per, name) in &rows {
        let share = if total > 0.0 {
            100.0 * per / total
        } else {
            0.0
        };
        out += &format!("{per:>10.1} {share:>5.1}%  {name}\n");
    }
    out += &format!("{total:>10.1} 100.0%  total (kernel and root task)\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pc_of_reads_qemu_exec_lines() {
        let line = "Trace 0: 0x7fe2f83d59c0 [0000000000000000/ffffffff802000a4/0020f001/ff020201] ";
        assert_eq!(pc_of(line), Some(0xffff_ffff_8020_00a4));
        assert_eq!(pc_of("cairn: bench: x=1"), None);
        assert_eq!(pc_of("Trace 0: 0x1 [zz/not-hex/0]"), None);
    }

    fn symbols() -> Symbols {
        Symbols {
            ranges: vec![(0x100, 0x110, 0), (0x110, 0x140, 1), (0x200, 0x204, 2)],
            names: vec!["a".into(), "b".into(), "c".into(), "(no symbol)".into()],
            texts: vec![(0x100, 0x204)],
        }
    }

    #[test]
    fn function_at_finds_the_enclosing_symbol_only() {
        let s = symbols();
        assert_eq!(s.function_at(0x100), Some(0));
        assert_eq!(s.function_at(0x10f), Some(0));
        assert_eq!(s.function_at(0x110), Some(1));
        assert_eq!(s.function_at(0x150), None, "between symbols");
        assert_eq!(s.function_at(0xff), None, "below all");
        assert_eq!(s.function_at(0x204), None, "past the last");
        assert_eq!(s.dfilter(), "0x100..0x203");
    }

    #[test]
    fn table_subtracts_the_runs_and_divides_by_n() {
        let s = symbols();
        // Set-up: 1000 in `a` in both runs; per iteration: 30 in `b`, 10 in `c`.
        let small: Counts = [(0, 1000), (1, 300), (2, 100)].into();
        let large: Counts = [(0, 1000), (1, 600), (2, 200)].into();
        let t = table("x", 10, &small, &large, &s);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[2].trim_start().starts_with("30.0  75.0%  b"), "{t}");
        assert!(lines[3].trim_start().starts_with("10.0  25.0%  c"), "{t}");
        assert!(
            lines[4].trim_start().starts_with("40.0 100.0%  total"),
            "{t}"
        );
        assert!(!t.contains("  a\n"), "set-up cancels out: {t}");
    }
}
