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
//! `seL4_BenchmarkResetLog` starts a measurement ([`reset`]);
//! `seL4_BenchmarkFinalizeLog` ends it and prints one line on the kernel
//! console ([`report`]), which `cargo xtask bench` and the tests read:
//!
//! ```text
//! cairn: bench: timer-irqs=12 latency-max=41 latency-sum=310 timebase-hz=10000000 preemptions=12
//! ```
//!
//! Recording costs a few instructions per timer interrupt and is always on,
//! so that the figures do not depend on the configuration.

use crate::state::kernel;

/// A timer interrupt was handled `late` timebase units after its deadline.
#[inline]
pub fn record_timer_latency(late: u64) {
    kernel().record_timer_latency(late);
}

/// Starts a new measurement.
pub fn reset() {
    kernel().reset_bench();
}

/// The figures since the last [`reset`]: (timer interrupts, max latency,
/// latency sum, preemptions).
pub fn figures() -> (u64, u64, u64, u64) {
    kernel().bench_figures()
}

/// Prints the figures since the last [`reset`] (format in the module doc).
pub fn report(timebase_hz: u64) {
    let (irqs, max, sum, preemptions) = figures();
    kprintln!(
        "cairn: bench: timer-irqs={} latency-max={} latency-sum={} timebase-hz={} preemptions={}",
        irqs,
        max,
        sum,
        timebase_hz,
        preemptions
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_starts_a_new_measurement() {
        crate::state::reset();
        record_timer_latency(5);
        record_timer_latency(2);
        assert_eq!(figures(), (2, 5, 7, 0));
        kernel().set_preemptions(3);
        reset();
        assert_eq!(figures(), (0, 0, 0, 0));
        kernel().set_preemptions(7);
        record_timer_latency(1);
        assert_eq!(figures(), (1, 1, 1, 4));
    }
}
