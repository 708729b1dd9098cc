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

/// Runs per measurement.
pub const ITERATIONS: usize = 1000;

/// Median and minimum of `samples` (sorted in place).
fn median_min(samples: &mut [u64]) -> (u64, u64) {
    samples.sort_unstable();
    let min = samples.first().copied().unwrap_or(0);
    let median = samples.get(samples.len() / 2).copied().unwrap_or(0);
    (median, min)
}

/// Prints a measurement and ends its kernel interval.
pub fn report(op: &str, samples: &mut [u64]) {
    let (median, min) = median_min(samples);
    println!(
        "bench ipc op={op} iterations={} median={median} min={min}",
        samples.len()
    );
    benchmark::finalize_log();
}

/// `seL4_Yield` with no other thread at the caller's priority: enter the
/// kernel, requeue, choose the same thread, leave.
pub fn yield_alone() {
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
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        let start = benchmark::cycles();
        benchmark::null_syscall();
        *s = benchmark::cycles().wrapping_sub(start);
    }
    report("null-syscall", &mut samples);
}
