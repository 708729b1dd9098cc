//! IPC and scheduling costs (issue: "Call+ReplyRecv round trip between two
//! address spaces (0 and 4 message words), the same within one address
//! space, a notification signal to a waiting higher-priority thread, and
//! `seL4_Yield`"), each the median and minimum of [`ITERATIONS`] runs, in
//! instructions (`rdcycle` under `-icount shift=0`).
//!
//! Output: `bench ipc op=<name> iterations=N median=M min=m`, then the
//! kernel's `cairn: bench:` line for the interval.

use cairn_rt::println;
use sel4::benchmark;

/// Runs per measurement: 1000, or `CAIRN_BENCH_ITERATIONS` at build time
/// (`cargo xtask bench --profile` builds with two different counts and
/// subtracts, so that set-up costs cancel out).
pub const ITERATIONS: usize = parse_count(option_env!("CAIRN_BENCH_ITERATIONS"), 1000);

/// The one measurement to run when built with `CAIRN_BENCH_ONLY=<op>`
/// (`cargo xtask bench --profile <op>`); all of them otherwise.
const ONLY: Option<&str> = option_env!("CAIRN_BENCH_ONLY");

/// Whether measurement `op` runs in this build.
pub fn wanted(op: &str) -> bool {
    ONLY.is_none_or(|only| only == op)
}

/// A decimal count at compile time; `default` if absent, empty or not a
/// plain positive number.
const fn parse_count(text: Option<&str>, default: usize) -> usize {
    let Some(text) = text else {
        return default;
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut n = 0usize;
    while i < bytes.len() {
        let d = bytes[i];
        if !d.is_ascii_digit() {
            return default;
        }
        n = n * 10 + (d - b'0') as usize;
        i += 1;
    }
    if n == 0 {
        default
    } else {
        n
    }
}

/// Median and minimum of `samples` (sorted in place).
pub fn median_min(samples: &mut [u64]) -> (u64, u64) {
    samples.sort_unstable();
    let min = samples.first().copied().unwrap_or(0);
    let median = samples.get(samples.len() / 2).copied().unwrap_or(0);
    (median, min)
}

/// Prints a measurement and ends its kernel interval.
pub fn report(op: &str, samples: &mut [u64]) {
    let (median, min) = median_min(samples);
    println!(
        "bench {}ipc op={op} iterations={} median={median} min={min}",
        crate::server::PREFIX,
        samples.len()
    );
    benchmark::finalize_log();
}

/// Median and minimum of `samples` minus `overhead`, printed as
/// `bench sel4bench op=<op>`, closing the kernel's interval (the one-way
/// IPC and the sync cases).
pub fn report_sel4bench(op: &str, samples: &mut [u64], overhead: u64) {
    for s in samples.iter_mut() {
        *s = s.saturating_sub(overhead);
    }
    let (median, min) = median_min(samples);
    println!(
        "bench {}sel4bench op={op} iterations={} median={median} min={min} overhead={overhead}",
        crate::server::PREFIX,
        samples.len()
    );
    benchmark::finalize_log();
}

/// `seL4_Yield` with no other thread at the caller's priority: enter the
/// kernel, requeue, choose the same thread, leave.
pub fn yield_alone() {
    if !wanted("yield") {
        return;
    }
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        let start = benchmark::cycles();
        sel4::syscall::yield_now();
        *s = benchmark::cycles().wrapping_sub(start);
    }
    report("yield", &mut samples);
}

/// `seL4_BenchmarkNullSyscall`: the bare cost of entering and leaving the
/// kernel, for comparison.
pub fn null_syscall() {
    if !wanted("null-syscall") {
        return;
    }
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        let start = benchmark::cycles();
        benchmark::null_syscall();
        *s = benchmark::cycles().wrapping_sub(start);
    }
    report("null-syscall", &mut samples);
}
