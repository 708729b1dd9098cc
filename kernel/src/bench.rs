//! Kernel measurements for benchmarks (`benchmark` configuration; seL4's
//! `KernelBenchmarks = generic`, ABI ref §14): how late the kernel takes
//! its timer interrupt, and how often long operations were preempted.
//!
//! The latency of a timer interrupt is the time from its deadline to the
//! kernel handling it, in timebase units. While user code runs this is the
//! trap entry alone; while the kernel is in a long operation (revoke,
//! delete, untyped reset) it is the time to the next preemption point, so
//! the maximum over a run bounds the kernel's non-preemptible stretches.
//!
//! `seL4_BenchmarkResetLog` starts a measurement (`KernelState::reset_bench`);
//! `seL4_BenchmarkFinalizeLog` ends it and prints one line on the kernel
//! console ([`report`]), which `cargo xtask bench` and the tests read:
//!
//! ```text
//! cairn: bench: timer-irqs=12 latency-max=41 latency-sum=310 timebase-hz=10000000 preemptions=12 stretch-max=61234
//! ```
//!
//! `stretch-max` is the longest a CNode operation (revoke, delete,
//! CancelBadgedSends: the ones user space can make long) ran without
//! polling for interrupts, in cycles (instructions under icount): from
//! its start to its first preemption check, between two checks, or from
//! the last check to its end. Unlike the timer latency it does not depend
//! on where a tick happens to fall.
//!
//! Recording costs a few instructions per timer interrupt and is always on,
//! so that the figures do not depend on the configuration.

use crate::state::kernel;

/// Prints the figures since the measurement started (format in the module
/// doc).
pub fn report(timebase_hz: u64) {
    let (irqs, max, sum, preemptions) = kernel().bench_figures();
    kprintln!(
        "cairn: bench: timer-irqs={} latency-max={} latency-sum={} timebase-hz={} preemptions={} stretch-max={}",
        irqs,
        max,
        sum,
        timebase_hz,
        preemptions,
        kernel().stretch_max()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_starts_a_new_measurement() {
        crate::state::reset();
        let k = kernel();
        k.record_timer_latency(5);
        k.record_timer_latency(2);
        assert_eq!(k.bench_figures(), (2, 5, 7, 0));
        k.set_preemptions(3);
        k.reset_bench();
        assert_eq!(k.bench_figures(), (0, 0, 0, 0));
        k.set_preemptions(7);
        k.record_timer_latency(1);
        assert_eq!(k.bench_figures(), (1, 1, 1, 4));
    }
}
