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
    let n = k.work_units.get() + 1;
    if n < WORK_UNITS_PER_PREEMPTION {
        k.work_units.set(n);
        return Ok(());
    }
    k.work_units.set(0);
    if arch::interrupt_pending() {
        k.preemptions.set(k.preemptions.get() + 1);
        return Err(Preempted);
    }
    Ok(())
}

/// Starts a new kernel entry's work count.
pub fn reset_work_units() {
    kernel().work_units.set(0);
}
