//! The kernel's periodic tick (ABI ref §12, classic): every
//! `CONFIG_TIMER_TICK_MS` ms, programmed through SBI set_timer relative to
//! `rdtime`. Also enables the timer and external interrupt sources in `sie`
//! and, if configured, user access to the cycle, time and instret counters.

use super::{csr, machine, sbi};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The `time` value the pending tick is programmed for.
static DEADLINE: AtomicU64 = AtomicU64::new(0);

/// The hart has Sstc (`Platform::sstc`), recorded by [`start`]: MCS
/// programs the timer at most kernel exits that change the running
/// SchedContext, and asking the machine description (a once-cell, read
/// with a fence) each time cost about five instructions there.
static SSTC: AtomicBool = AtomicBool::new(false);

/// Timebase units per tick for a timebase of `hz`.
pub const fn tick_length(hz: u64) -> u64 {
    let t = hz.saturating_mul(crate::config::TIMER_TICK_MS) / 1000;
    if t == 0 {
        1
    } else {
        t
    }
}

/// Enables the interrupt sources the kernel uses and arms the first tick.
pub fn start() {
    csr::write_scounteren(if crate::config::USER_CYCLE_COUNTER {
        0x7
    } else {
        0
    });
    csr::set_sie(csr::IRQ_TIMER | csr::IRQ_EXTERNAL);
    SSTC.store(
        machine().is_some_and(|m| m.platform.sstc),
        Ordering::Relaxed,
    );
    // MCS: no tick; the scheduler programs the first deadline at its
    // first decision (a constant: the classic kernel is unchanged).
    if crate::config::KERNEL_MCS {
        set_deadline(u64::MAX);
    } else {
        arm_next_tick();
    }
}

/// MCS: programs the one-shot timer for `time` = `deadline` (timebase
/// units; `u64::MAX`: never), which also clears a pending timer
/// interrupt: Sstc's `stimecmp` where the hart has it (no trip to the
/// firmware), SBI set_timer otherwise.
pub fn set_deadline(deadline: u64) {
    if SSTC.load(Ordering::Relaxed) {
        DEADLINE.store(deadline, Ordering::Relaxed);
        csr::write_stimecmp(deadline);
    } else if let Some(m) = machine() {
        DEADLINE.store(deadline, Ordering::Relaxed);
        sbi::set_timer(deadline, m.sbi_time);
    }
}

/// Programs the next tick one tick length from now (which also clears the
/// pending timer interrupt).
pub fn arm_next_tick() {
    if let Some(m) = machine() {
        let deadline = csr::read_time().wrapping_add(m.tick);
        DEADLINE.store(deadline, Ordering::Relaxed);
        sbi::set_timer(deadline, m.sbi_time);
    }
}

/// How long after its deadline the pending tick is being handled
/// (timebase units), for `bench`.
pub fn lateness() -> u64 {
    csr::read_time().saturating_sub(DEADLINE.load(Ordering::Relaxed))
}

/// The current time: the `time` counter, in timebase units (MCS
/// scheduling contexts keep their refills in these ticks).
pub fn now() -> u64 {
    csr::read_time()
}

/// The timebase frequency (Hz) from the device tree.
pub fn timebase_hz() -> u64 {
    machine().map_or(0, |m| m.platform.timebase)
}
