//! MCS: the scheduler's time bookkeeping (seL4's `ksCurTime`,
//! `ksConsumed`, `ksCurSC`, `ksReprogram` and `ksReleaseHead`), part of
//! [`super::KernelState`] in the MCS build only. `sched::mcs` changes it.
//!
//! Invariants: `consumed` is the time the running SchedContext has used
//! since it was last charged, measured up to `cur_time`; the release
//! queue holds only threads whose TCB is marked as on it (the TCB's queue
//! word), linked through their scheduler links, sorted by the release
//! time of their SchedContext's head refill (earliest first).

use core::cell::Cell;

/// The MCS scheduler's state outside objects.
#[derive(Debug)]
pub struct McsState {
    /// The time of the current kernel entry (`ksCurTime`), in ticks.
    cur_time: Cell<u64>,
    /// Ticks used by the running SchedContext and not yet charged.
    consumed: Cell<u64>,
    /// The SchedContext whose time is running (`ksCurSC`; 0 = none).
    cur_sc: Cell<u64>,
    /// The timer must be programmed again at kernel exit.
    reprogram: Cell<bool>,
    /// The first thread of the release queue (TCB address; 0 = none).
    release_head: Cell<u64>,
    /// The minimum budget in ticks, once the clock has started (0 before:
    /// `sched::mcs` then works it out from the timer's rate).
    min_budget: Cell<u64>,
    /// The idle thread's timeslice in ticks (seL4's `ksIdleSC` budget),
    /// once the clock has started (0 before: the idle timer is then never
    /// programmed).
    idle_budget: Cell<u64>,
}

impl McsState {
    pub(super) const fn new() -> McsState {
        McsState {
            cur_time: Cell::new(0),
            consumed: Cell::new(0),
            cur_sc: Cell::new(0),
            reprogram: Cell::new(true),
            release_head: Cell::new(0),
            min_budget: Cell::new(0),
            idle_budget: Cell::new(0),
        }
    }

    /// Makes this state a copy of `o` (host: `state::restore`).
    #[cfg(not(target_os = "none"))]
    pub(super) fn copy_from(&self, o: &McsState) {
        let McsState {
            cur_time,
            consumed,
            cur_sc,
            reprogram,
            release_head,
            min_budget,
            idle_budget,
        } = self;
        cur_time.set(o.cur_time.get());
        consumed.set(o.consumed.get());
        cur_sc.set(o.cur_sc.get());
        reprogram.set(o.reprogram.get());
        release_head.set(o.release_head.get());
        min_budget.set(o.min_budget.get());
        idle_budget.set(o.idle_budget.get());
    }

    /// Host tests: sets the entry's time back to `t` (a test that sets the
    /// simulated clock back; the machine's clock never runs backwards and
    /// [`McsState::update_time`] ignores it). Nothing is charged.
    #[cfg(test)]
    pub fn rewind_time(&self, t: u64) {
        if t < self.cur_time.get() {
            self.cur_time.set(t);
        }
    }

    /// The time of the current kernel entry.
    pub fn cur_time(&self) -> u64 {
        self.cur_time.get()
    }

    /// A kernel entry at `now` (seL4's `updateTimestamp`): the time since
    /// the last one is added to what the running context has used. A
    /// clock that seems to run backwards adds nothing. Returns the
    /// uncharged usage after it (the entry's budget check reads it).
    #[inline]
    pub fn update_time(&self, now: u64) -> u64 {
        let cur = self.cur_time.get();
        let mut used = self.consumed.get();
        if now > cur {
            // Cannot wrap: `consumed` only ever grows by these steps of
            // `cur_time` (and is reset to 0), so it stays at most
            // `cur_time`, and the sum at most `now`. Plain steps, not
            // saturating ones: every kernel entry runs this.
            used = used.wrapping_add(now - cur);
            self.consumed.set(used);
            self.cur_time.set(now);
        }
        used
    }

    /// Ticks used and not yet charged.
    pub fn consumed(&self) -> u64 {
        self.consumed.get()
    }

    /// Takes the uncharged ticks (they are being charged).
    pub fn take_consumed(&self) -> u64 {
        self.consumed.replace(0)
    }

    /// The running SchedContext's address, if any.
    pub fn cur_sc(&self) -> u64 {
        self.cur_sc.get()
    }

    pub fn set_cur_sc(&self, sc: u64) {
        self.cur_sc.set(sc);
    }

    /// Whether the timer is to be programmed again at kernel exit.
    pub fn reprogram(&self) -> bool {
        self.reprogram.get()
    }

    pub fn set_reprogram(&self, v: bool) {
        self.reprogram.set(v);
    }

    /// The first thread of the release queue (TCB address, 0 = none).
    pub fn release_head(&self) -> u64 {
        self.release_head.get()
    }

    pub fn set_release_head(&self, t: u64) {
        self.release_head.set(t);
    }

    /// The minimum budget, recorded at boot when the kernel's time is
    /// first set (0 before).
    pub fn min_budget(&self) -> u64 {
        self.min_budget.get()
    }

    pub fn set_min_budget(&self, t: u64) {
        self.min_budget.set(t);
    }

    /// The idle thread's timeslice, recorded at boot (0 before).
    pub fn idle_budget(&self) -> u64 {
        self.idle_budget.get()
    }

    pub fn set_idle_budget(&self, t: u64) {
        self.idle_budget.set(t);
    }
}
