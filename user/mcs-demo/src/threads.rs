//! The three threads of the scenario and what they share with the root
//! thread, which reads it once the control loop is done.
//!
//! * The **control loop** waits on the timer's notification, once per
//!   period, as a periodic seL4 thread released by a timer does: each
//!   signal is a release. It reads the clock (its release jitter: how
//!   long after the alarm it runs), acknowledges the IRQ, sets the next
//!   alarm one period after this release (not after now, so releases do
//!   not drift), does a fixed amount of work on the driver's latest sample,
//!   and reads the clock again: finishing after the next release is a
//!   missed deadline.
//! * The **driver** polls its (simulated) sensor without pause, keeping
//!   the latest sample for the control loop: a polling driver uses all
//!   the time it is given.
//! * The **hog** spins: best effort, misbehaving, at the highest priority.
//!   It watches the time counter for gaps (time others ran) to count its
//!   own running time, independently of the kernel's accounting.

use crate::rtc::{Rtc, Timer};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use sel4::{IrqHandler, Notification};

/// The period of the control loop (ns of the RTC).
pub const PERIOD_NS: u64 = 5_000_000;

/// The first release (RTC ns), set by the root before it starts the loop.
pub static FIRST_RELEASE: AtomicU64 = AtomicU64::new(0);
/// The latest sample of the driver.
static SAMPLE: AtomicU64 = AtomicU64::new(1);
/// Samples the driver has taken.
pub static SAMPLES: AtomicU64 = AtomicU64::new(0);

/// The control loop's record.
pub struct Record {
    pub periods: AtomicU64,
    pub misses: AtomicU64,
    /// Releases seen before their alarm's time (must stay 0).
    pub early: AtomicU64,
    pub jitter_min: AtomicU64,
    pub jitter_max: AtomicU64,
    pub jitter_sum: AtomicU64,
    /// Longest time from a release to the end of its work.
    pub response_max: AtomicU64,
    /// The control loop's output, so the work cannot be optimised away.
    pub output: AtomicU64,
    pub done: AtomicBool,
}

pub static RECORD: Record = Record {
    periods: AtomicU64::new(0),
    misses: AtomicU64::new(0),
    early: AtomicU64::new(0),
    jitter_min: AtomicU64::new(u64::MAX),
    jitter_max: AtomicU64::new(0),
    jitter_sum: AtomicU64::new(0),
    response_max: AtomicU64::new(0),
    output: AtomicU64::new(0),
    done: AtomicBool::new(false),
};

/// How many periods the control loop runs: 10 000 for `cargo xtask run
/// --demo mcs` (which sets `CAIRN_MCS_DEMO_PERIODS`), fewer for the test
/// image.
pub const PERIODS: u64 = match option_env!("CAIRN_MCS_DEMO_PERIODS") {
    Some(s) => parse(s),
    None => 200,
};

const fn parse(s: &str) -> u64 {
    let b = s.as_bytes();
    let (mut i, mut n) = (0, 0u64);
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "CAIRN_MCS_DEMO_PERIODS: not a number"
        );
        n = n * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    n
}

/// Iterations of the control loop's work per period: about 1.9 ms of
/// instructions (38 % of the period; its budget is 60 %).
const WORK: u64 = 160_000;

/// The control loop's fixed work: a filter over the sample, `WORK` steps.
fn work(sample: u64) -> u64 {
    let mut x = sample | 1;
    for i in 0..WORK {
        // A xorshift step mixed with the sample: cheap, not foldable.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_add(core::hint::black_box(i));
    }
    x
}

/// The control loop. The root maps the RTC and stores the caps in
/// [`TIMER_IRQ`] and [`TIMER_NTFN`] before it resumes this thread.
pub fn control(_: usize) {
    let t = Timer {
        rtc: Rtc::mapped(),
        irq: IrqHandler::from_bits(TIMER_IRQ.load(Relaxed)),
        ntfn: Notification::from_bits(TIMER_NTFN.load(Relaxed)),
    };
    let r = &RECORD;
    let mut release = FIRST_RELEASE.load(Relaxed);
    for k in 0..PERIODS {
        t.ntfn.wait();
        let woke = t.rtc.now();
        let next = release + PERIOD_NS;
        // Lower the line and unmask it before the next alarm can raise
        // it: QEMU's PLIC does not signal a source that became pending
        // while masked when it is unmasked (docs/mcs.md "The demo"), so an
        // alarm already due (a late release) must find it unmasked.
        t.rtc.clear_interrupt();
        let _ = t.irq.ack();
        if k + 1 < PERIODS {
            t.rtc.set_alarm(next);
        }
        if woke < release {
            r.early.fetch_add(1, Relaxed);
        }
        let jitter = woke.saturating_sub(release);
        r.jitter_min.fetch_min(jitter, Relaxed);
        r.jitter_max.fetch_max(jitter, Relaxed);
        r.jitter_sum.fetch_add(jitter, Relaxed);
        let out = work(SAMPLE.load(Relaxed));
        r.output.fetch_xor(out, Relaxed);
        let end = t.rtc.now();
        r.response_max
            .fetch_max(end.saturating_sub(release), Relaxed);
        if end > next {
            r.misses.fetch_add(1, Relaxed);
        }
        r.periods.fetch_add(1, Relaxed);
        release = next;
    }
    r.done.store(true, Relaxed);
}

/// The timer's IRQ handler and notification (cptrs), set by the root
/// before it resumes the control loop.
pub static TIMER_IRQ: AtomicU64 = AtomicU64::new(0);
pub static TIMER_NTFN: AtomicU64 = AtomicU64::new(0);

/// The driver: polls the sensor for ever.
pub fn driver(_: usize) {
    let mut s = SAMPLE.load(Relaxed);
    loop {
        // The simulated sensor: a reading that changes at each poll.
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        SAMPLE.store(s >> 16, Relaxed);
        SAMPLES.fetch_add(1, Relaxed);
    }
}

/// Time counter units the hog ran, over its finished runs.
pub static HOG_TIME: AtomicU64 = AtomicU64::new(0);
/// The hog's finished runs.
pub static HOG_RUNS: AtomicU64 = AtomicU64::new(0);
/// Two readings of the time counter (10 MHz) further apart than this
/// (50 µs) mean the reader was not running in between.
const GAP: u64 = 500;

/// The time counter (`rdtime`, 10 MHz on QEMU virt).
pub fn rdtime() -> u64 {
    let t: u64;
    // SAFETY: reads the time CSR into a register; no memory access.
    unsafe { core::arch::asm!("rdtime {}", out(reg) t, options(nomem, nostack)) };
    t
}

/// The hog: spins for ever, adding up its runs.
pub fn hog(_: usize) {
    let mut start = rdtime();
    let mut last = start;
    loop {
        let t = rdtime();
        if t - last > GAP {
            HOG_TIME.fetch_add(last - start, Relaxed);
            HOG_RUNS.fetch_add(1, Relaxed);
            start = t;
        }
        last = t;
    }
}
