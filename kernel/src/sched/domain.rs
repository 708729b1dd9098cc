//! Domains and the domain schedule (ch. 6, *Domains*; ABI ref §7.6).
//!
//! The schedule is a table of `(domain, duration in ticks)` entries run in
//! order from the start index; an entry of 0 (domain 0, duration 0) is an
//! end marker that wraps back to the start. The table's last entry always
//! stays an end marker. As in seL4 16, boot installs one entry, domain 0
//! for the longest duration, so one-domain systems never switch; user
//! space changes the table with the domain cap's `ScheduleConfigure` and
//! `ScheduleSetStart` (`object::domain`).
//!
//! With one domain the tick does not count domain time (seL4's
//! `timerTick`), so the domain never changes.

use crate::state::kernel;
use core::cell::Cell;

/// Entries of the schedule (`CONFIG_NUM_DOMAIN_SCHEDULES`: 2 with one
/// domain, else 100).
pub const NUM_DOMAIN_SCHEDULES: usize = if crate::config::NUM_DOMAINS > 1 {
    100
} else {
    2
};
/// Largest duration of an entry (56 bits: seL4 packs the domain on top).
pub const MAX_DURATION: u64 = u64::MAX >> 8;
const DOMAIN_SHIFT: u32 = 56;

/// The domain schedule and the current position in it.
#[derive(Debug)]
pub struct DomainSchedule {
    table: [Cell<u64>; NUM_DOMAIN_SCHEDULES],
    index: Cell<u64>,
    start: Cell<u64>,
    /// Ticks left for the current domain.
    time: Cell<u64>,
}

impl DomainSchedule {
    /// The boot schedule: domain 0 for [`MAX_DURATION`] ticks.
    pub const fn new() -> DomainSchedule {
        let mut table = [const { Cell::new(0) }; NUM_DOMAIN_SCHEDULES];
        table[0] = Cell::new(MAX_DURATION);
        DomainSchedule {
            table,
            index: Cell::new(0),
            start: Cell::new(0),
            time: Cell::new(MAX_DURATION),
        }
    }
}

impl Default for DomainSchedule {
    fn default() -> Self {
        Self::new()
    }
}

fn entry(i: u64) -> u64 {
    kernel().domains.table.get(i as usize).map_or(0, Cell::get)
}

/// Whether entry `i` is an end marker (or beyond the table).
pub fn is_end_marker(i: u64) -> bool {
    entry(i) == 0
}

/// The start index.
pub fn start() -> u64 {
    kernel().domains.start.get()
}

/// Writes entry `i` (the caller has checked the arguments).
pub fn configure(i: u64, domain: u64, duration: u64) {
    if let Some(c) = kernel().domains.table.get(i as usize) {
        c.set((domain << DOMAIN_SHIFT) | (duration & MAX_DURATION));
    }
}

/// Makes `i` the start index and ends the current domain's time, so that
/// the next scheduling decision switches to entry `i` (seL4's
/// `invokeDomainScheduleSetStart`).
pub fn set_start(i: u64) {
    let d = &kernel().domains;
    d.start.set(i);
    d.time.set(0);
    // The entry before the reserved end marker: the next step wraps to
    // the start.
    d.index.set(NUM_DOMAIN_SCHEDULES as u64 - 2);
    super::reschedule_required();
}

/// Counts one tick of domain time; true if the domain's time is up.
pub fn tick() -> bool {
    if crate::config::NUM_DOMAINS <= 1 {
        return false;
    }
    let d = &kernel().domains;
    d.time.set(d.time.get().saturating_sub(1));
    d.time.get() == 0
}

/// Whether the current domain has no time left.
pub fn time_used_up() -> bool {
    kernel().domains.time.get() == 0
}

/// Moves to the next entry of the schedule (seL4's `nextDomain`).
pub fn next_domain() {
    let k = kernel();
    let d = &k.domains;
    let mut i = d.index.get() + 1;
    if is_end_marker(i) {
        i = d.start.get();
    }
    d.index.set(i);
    k.work_units.set(0);
    let e = entry(i);
    k.cur_domain.set(e >> DOMAIN_SHIFT);
    d.time.set(e & MAX_DURATION);
}

/// seL4's `setDomain`: moves `t` to `domain`, requeueing it.
pub fn set_domain(t: crate::object::tcb::TcbRef, domain: u64) {
    super::dequeue(t);
    t.get().set_domain(domain);
    if t.get().state().is_runnable() {
        super::enqueue(t);
    }
    if kernel().current.get() == t.paddr().0 {
        super::reschedule_required();
    }
}
