//! The domain schedule (ch. 6, *Domains*; ABI ref §7.6) as data: a table
//! of `(domain, duration in ticks)` entries run in order from the start
//! index, the position in it and the time left. An entry of 0 (domain 0,
//! duration 0) is an end marker that wraps back to the start; the table's
//! last entry always stays one. As in seL4 16, the boot schedule is one
//! entry, domain 0 for the longest duration, so one-domain systems never
//! switch.
//!
//! The methods keep the table's shape; what a change of domain does to the
//! scheduler is `sched::domain`'s.

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
    pub(super) const fn new() -> DomainSchedule {
        let mut table = [const { Cell::new(0) }; NUM_DOMAIN_SCHEDULES];
        table[0] = Cell::new(MAX_DURATION);
        DomainSchedule {
            table,
            index: Cell::new(0),
            start: Cell::new(0),
            time: Cell::new(MAX_DURATION),
        }
    }

    /// Makes this schedule a copy of `o` (host: `state::restore`).
    #[cfg(not(target_os = "none"))]
    pub(super) fn copy_from(&self, o: &DomainSchedule) {
        let DomainSchedule {
            table,
            index,
            start,
            time,
        } = self;
        for (e, f) in table.iter().zip(&o.table) {
            e.set(f.get());
        }
        for (a, b) in [(index, &o.index), (start, &o.start), (time, &o.time)] {
            a.set(b.get());
        }
    }

    fn entry(&self, i: u64) -> u64 {
        self.table.get(i as usize).map_or(0, Cell::get)
    }

    /// Whether entry `i` is an end marker (or beyond the table).
    pub fn is_end_marker(&self, i: u64) -> bool {
        self.entry(i) == 0
    }

    /// Entry `i` as (domain, duration) (the refinement test reads the
    /// table).
    #[cfg(test)]
    pub fn entry_at(&self, i: u64) -> (u64, u64) {
        let e = self.entry(i);
        (e >> DOMAIN_SHIFT, e & MAX_DURATION)
    }

    /// The start index.
    pub fn start(&self) -> u64 {
        self.start.get()
    }

    /// Writes entry `i` (the caller has checked the arguments; the last
    /// entry is never written, so it stays an end marker).
    pub fn configure(&self, i: u64, domain: u64, duration: u64) {
        if (i as usize) < NUM_DOMAIN_SCHEDULES - 1 {
            if let Some(c) = self.table.get(i as usize) {
                c.set((domain << DOMAIN_SHIFT) | (duration & MAX_DURATION));
            }
        }
    }

    /// Makes `i` the start index and ends the current domain's time, so
    /// that the next step of the schedule goes to entry `i`.
    pub fn restart_at(&self, i: u64) {
        self.start.set(i);
        self.time.set(0);
        // The entry before the reserved end marker: the next step wraps to
        // the start.
        self.index.set(NUM_DOMAIN_SCHEDULES as u64 - 2);
    }

    /// Counts one tick of domain time; true if the domain's time is up.
    pub fn tick(&self) -> bool {
        self.time.set(self.time.get().saturating_sub(1));
        self.time.get() == 0
    }

    /// Whether the current domain has no time left.
    pub fn time_used_up(&self) -> bool {
        self.time.get() == 0
    }

    /// Moves to the next entry (wrapping to the start at an end marker),
    /// gives it its full time and returns its domain.
    pub fn advance(&self) -> u64 {
        let mut i = self.index.get() + 1;
        if self.is_end_marker(i) {
            i = self.start.get();
        }
        self.index.set(i);
        let e = self.entry(i);
        self.time.set(e & MAX_DURATION);
        e >> DOMAIN_SHIFT
    }
}
