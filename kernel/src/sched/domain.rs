//! Domains (ch. 6, *Domains*; ABI ref §7.6): what the domain schedule
//! (`state::domain_schedule`, the data) does to scheduling. User space
//! changes the schedule with the domain cap's `ScheduleConfigure` and
//! `ScheduleSetStart` (`object::domain`, which calls these functions).
//!
//! With one domain the tick does not count domain time (seL4's
//! `timerTick`), so the domain never changes.

use crate::object::tcb::TcbRef;
use crate::state::kernel;

pub use crate::state::domain_schedule::{MAX_DURATION, NUM_DOMAIN_SCHEDULES};

/// Makes `i` the start index and ends the current domain's time, so that
/// the next scheduling decision switches to entry `i` (seL4's
/// `invokeDomainScheduleSetStart`).
pub fn set_start(i: u64) {
    kernel().domains().restart_at(i);
    super::rare::reschedule_required();
}

/// Counts one tick of domain time; true if the domain's time is up.
pub fn tick() -> bool {
    crate::config::NUM_DOMAINS > 1 && kernel().domains().tick()
}

/// seL4's `setDomain`: moves `t` to `domain`, requeueing it.
pub fn set_domain(t: TcbRef, domain: u64) {
    super::rare::dequeue(t);
    t.get().set_domain(domain);
    if t.get().state().is_runnable() {
        super::rare::enqueue(t);
    }
    if kernel().is_current(t) {
        super::rare::reschedule_required();
    }
}
