//! Preemption points (ch. 2, *Kernel Memory Allocation* and seL4's
//! "incremental consistency"): long operations (revoke, delete of large
//! CNodes, untyped reset) call [`preemption_point`] after each unit of work.
//! Every `WORK_UNITS_PER_PREEMPTION` units it checks for a pending interrupt;
//! if one is pending the operation stops with [`Preempted`],
//! having recorded its progress in its objects (never on the stack), and
//! the system call is restarted after the interrupt is handled.

use crate::arch;
use crate::state::kernel;
use crate::types::Preempted;

/// Work units between two checks (seL4's
/// `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION` default).
pub const WORK_UNITS_PER_PREEMPTION: u64 = 100;

/// Counts one unit of work; `Err(Preempted)` if an interrupt is pending at
/// a check.
pub fn preemption_point() -> Result<(), Preempted> {
    let k = kernel();
    if !k.count_work_unit(WORK_UNITS_PER_PREEMPTION) {
        return Ok(());
    }
    k.record_stretch(arch::cycles(), false);
    if arch::interrupt_pending() {
        k.count_preemption();
        return Err(Preempted);
    }
    Ok(())
}

/// A preemptible operation (a CNode invocation) starts, or restarts: the
/// work count starts afresh, so that its first check comes after a full
/// interval whatever ran before (its longest stretch without a check is
/// then the same whatever the phase of the count was), and the benchmark
/// figure "longest stretch without an interrupt poll" (`bench`) starts
/// from here. A restart still makes a full interval of progress before
/// it can be preempted again.
#[inline]
pub fn operation_start() {
    let k = kernel();
    k.start_work_count(first_units());
    k.record_stretch(arch::cycles(), true);
}

/// The work count an operation starts with: 0 (tests may place the first
/// check elsewhere, [`set_first_check_after`]).
#[inline]
fn first_units() -> u64 {
    #[cfg(test)]
    if let Some(n) = FIRST_CHECK.with(core::cell::Cell::get) {
        return WORK_UNITS_PER_PREEMPTION - n.clamp(1, WORK_UNITS_PER_PREEMPTION);
    }
    0
}

#[cfg(test)]
std::thread_local! {
    static FIRST_CHECK: core::cell::Cell<Option<u64>> = const { core::cell::Cell::new(None) };
}

/// Tests: the next operations make their first preemption check after
/// `n` units (1..=100) instead of a full interval (`None`: a full one).
#[cfg(test)]
pub fn set_first_check_after(n: Option<u64>) {
    FIRST_CHECK.with(|c| c.set(n));
}

/// Marks the end of a preemptible operation (completed or preempted): the
/// stretch since its last poll counts too.
#[inline]
pub fn stretch_end() {
    kernel().record_stretch(arch::cycles(), false);
}
