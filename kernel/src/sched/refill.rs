//! The sporadic-server refill queue of an MCS scheduling context (seL4's
//! `sporadic.c` behaviour, from its manual and documented behaviour; the
//! code is Cairn's own). Pure and arch-neutral: time is in timer ticks,
//! passed in; nothing here reads a clock or touches kernel state.
//!
//! A scheduling context with budget *B* and period *P* holds *B* ticks as
//! a queue of **refills**, each an amount that becomes usable at a release
//! time. The thread may run only on the head refill, from its release time
//! on. What it consumes is not lost: it comes back as a new refill at the
//! tail, released one period after the head's release time (seL4's rule:
//! usage is charged from the release, not from when the thread actually
//! ran). Hence:
//!
//! * the amounts always add up to *B* (nothing is created or lost);
//! * each tick of budget, charged at release time *r*, is next usable at
//!   *r + P*, so no window of length *P* holds more than *B* of charged
//!   release time: the sliding-window guarantee of a sporadic server. A
//!   thread that runs as soon as it is released runs at most *B* in any
//!   window of *P*; one delayed after its release (preempted) loses
//!   nothing, as a periodic task with release jitter;
//! * the queue holds at most `max` refills (the SchedContext's size): when
//!   it is full, a new refill is merged into the tail. Every merge puts the
//!   merged amounts in one refill released no earlier than either part
//!   (tokens are only ever delayed, never advanced), which keeps both
//!   guarantees.
//! * the head always holds at least the minimum budget (seL4's
//!   `MIN_BUDGET`, twice the kernel's worst-case entry time), so that a
//!   thread is never switched to for less time than the switch costs: a
//!   smaller head is merged into the next refill.
//!
//! A **round-robin** context (budget = period) has no period to enforce:
//! its two refills are the rest of the current timeslice (head) and what
//! was used of it (tail); when the head falls below the minimum the
//! timeslice is over, and the whole budget is available again at once.
//!
//! The queue lives in the SchedContext object as seL4 lays it out: the
//! header's `head`/`tail` indices and `max` over a circular array of
//! 16-byte [`Refill`]s (`seL4_RefillSizeBytes`) that follows the header.
//! This module works on a [`RefillState`] and that array, so it is tested
//! on the host without any object (`refill/tests.rs`).
//!
//! Arithmetic: times and amounts come from user space (µs converted by
//! `sched::ticks`, bounded by `SchedControl_ConfigureFlags`), or from the
//! clock. Every sum saturates and every difference is checked, so no input
//! can overflow, panic or wrap a release time into the past; with the
//! configuration bounds (a period below 2^61 ticks) and a 64-bit clock
//! nothing saturates within the life of a machine.

/// Time and durations, in timer ticks (seL4's `ticks_t`).
pub type Ticks = u64;

/// One refill (seL4's `refill_t`: `rTime`, `rAmount`; 16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Refill {
    /// When the amount becomes usable.
    pub time: Ticks,
    /// How much may be used.
    pub amount: Ticks,
}

impl Refill {
    /// The end of the refill if used as soon as it is released.
    fn end(&self) -> Ticks {
        self.time.saturating_add(self.amount)
    }
}

/// The refill bookkeeping in a SchedContext's header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct RefillState {
    /// The period (`scPeriod`).
    pub period: Ticks,
    /// The budget: what the refills add up to.
    pub budget: Ticks,
    /// Index of the head refill in the array (`scRefillHead`).
    pub head: u64,
    /// Index of the tail refill, inclusive (`scRefillTail`).
    pub tail: u64,
    /// Capacity of the queue, in refills (`scRefillMax`).
    pub max: u64,
    /// Sporadic (`seL4_SchedContext_Sporadic`): a thread waking after its
    /// head refill's release time starts that refill at the wake time.
    pub sporadic: bool,
}

/// Every SchedContext holds at least two refills (`seL4_CoreSchedContext
/// Bytes` includes them): round robin needs both.
pub const MIN_REFILLS: u64 = 2;

/// Where the refills are kept: a slice in the host tests and for the
/// small copies `object::sched_context` makes, the SchedContext object
/// itself (read and written in place) when the scheduler charges time.
pub trait RefillArray {
    /// How many refills it has room for.
    fn room(&self) -> u64;
    /// Refill `i`; `None` past the room.
    fn get(&self, i: u64) -> Option<Refill>;
    /// Sets refill `i`; nothing past the room.
    fn set(&mut self, i: u64, r: Refill);
}

impl RefillArray for [Refill] {
    fn room(&self) -> u64 {
        <[Refill]>::len(self) as u64
    }
    fn get(&self, i: u64) -> Option<Refill> {
        <[Refill]>::get(self, usize::try_from(i).ok()?).copied()
    }
    fn set(&mut self, i: u64, r: Refill) {
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| self.get_mut(i)) {
            *slot = r;
        }
    }
}

impl<const N: usize> RefillArray for [Refill; N] {
    fn room(&self) -> u64 {
        N as u64
    }
    fn get(&self, i: u64) -> Option<Refill> {
        RefillArray::get(self.as_slice(), i)
    }
    fn set(&mut self, i: u64, r: Refill) {
        RefillArray::set(self.as_mut_slice(), i, r)
    }
}

/// The host tests keep their arrays in vectors.
#[cfg(test)]
impl RefillArray for Vec<Refill> {
    fn room(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn get(&self, i: u64) -> Option<Refill> {
        RefillArray::get(self.as_slice(), i)
    }
    fn set(&mut self, i: u64, r: Refill) {
        RefillArray::set(self.as_mut_slice(), i, r)
    }
}

/// A refill queue: the header's state over the object's refill array.
pub struct Refills<'a, A: RefillArray + ?Sized = [Refill]> {
    st: &'a mut RefillState,
    buf: &'a mut A,
    min_budget: Ticks,
}

impl<'a, A: RefillArray + ?Sized> Refills<'a, A> {
    /// The queue of `st` over `buf` (the refill array), with the kernel's
    /// minimum budget. A `max` larger than `buf` is clamped to it, so a
    /// corrupt header cannot reach outside the object.
    pub fn new(st: &'a mut RefillState, buf: &'a mut A, min_budget: Ticks) -> Self {
        st.max = st.max.min(buf.room()).max(1);
        st.head = st.head.min(st.max - 1);
        st.tail = st.tail.min(st.max - 1);
        Refills {
            st,
            buf,
            min_budget,
        }
    }

    /// Starts a fresh queue (seL4's `refill_new`): the whole budget
    /// released at `now`. Round robin (`budget == period`) keeps a second,
    /// empty refill for the used part of the timeslice.
    pub fn configure(&mut self, budget: Ticks, period: Ticks, max: u64, now: Ticks) {
        self.st.budget = budget;
        self.st.period = period;
        self.st.max = self.capacity(max);
        self.st.head = 0;
        self.st.tail = 0;
        self.set(
            0,
            Refill {
                time: now,
                amount: budget,
            },
        );
        if self.round_robin() {
            self.push(Refill {
                time: now,
                amount: 0,
            });
        }
    }

    /// Changes the parameters of a context that may be in use (seL4's
    /// `refill_update`): the head keeps what it has left (up to the new
    /// budget), starting now if it is released, and the rest of the new
    /// budget is released one new period after the head's time, as seL4
    /// 16.0.0 places it (Cairn released it at that time plus the period
    /// less the rest until 2026-12-07, up to a budget earlier than seL4).
    pub fn update(&mut self, budget: Ticks, period: Ticks, max: u64, now: Ticks) {
        let head = self.head();
        if budget == period {
            // Round robin has no history to keep.
            self.configure(budget, period, max, now);
            return;
        }
        self.st.budget = budget;
        self.st.period = period;
        self.st.max = self.capacity(max);
        self.st.head = 0;
        self.st.tail = 0;
        let time = if head.time <= now { now } else { head.time };
        let amount = head.amount.min(budget);
        self.set(0, Refill { time, amount });
        if let Some(unused) = budget.checked_sub(amount).filter(|u| *u > 0) {
            // With period > budget (ConfigureFlags' rule) this starts
            // after the head's end; saturating for any other input.
            let at = time.saturating_add(period);
            self.push_or_merge(Refill {
                time: at,
                amount: unused,
            });
        }
        self.ensure_min_head();
    }

    /// Whether budget equals period: a timeslice, not a reservation.
    pub fn round_robin(&self) -> bool {
        self.st.budget == self.st.period
    }

    /// The head refill.
    pub fn head(&self) -> Refill {
        self.get(0)
    }

    /// Whether the head refill is released at `now` (seL4's
    /// `refill_ready`, without its allowance for kernel entry time, so
    /// that the window guarantee is exact).
    pub fn ready(&self, now: Ticks) -> bool {
        self.head().time <= now
    }

    /// Whether the head would still hold the minimum budget after `usage`
    /// more ticks (seL4's `refill_sufficient`).
    pub fn sufficient(&self, usage: Ticks) -> bool {
        self.head()
            .amount
            .checked_sub(usage)
            .is_some_and(|left| left >= self.min_budget)
    }

    /// Charges `usage` ticks of running that ended at `now` (seL4's
    /// `refill_budget_check`, or its round-robin accounting). Returns
    /// whether the thread must stop: its head is used up (a sporadic
    /// context waits for its next release) or its timeslice is over (round
    /// robin: the whole budget is back, the thread goes to the end of its
    /// queue).
    ///
    /// seL4's rule: usage is charged from the head refill's release time,
    /// not from when the thread actually ran. The used part comes back at
    /// `head.time + period`, and what is left of the head is released
    /// `usage` later (`head.time + usage`), so successive charges of one
    /// refill follow each other in "release time". A thread delayed after
    /// its release (preempted, or a constant-bandwidth context woken late)
    /// gets its budget back at the same time as an undelayed one: a
    /// periodic loop does not drift. What this bounds is the release
    /// schedule: no window of one period holds more than the budget of
    /// charged release time, and the thread never runs before a release;
    /// a delayed thread may run up to the budget on each side of a release
    /// (a periodic task with release jitter, as in seL4).
    pub fn budget_check(&mut self, usage: Ticks, now: Ticks) -> bool {
        if self.round_robin() {
            return self.charge_round_robin(usage, now);
        }
        let mut left = self.charge_whole_budgets(usage);
        // Overrun: whole heads are charged, each back one period after its
        // release (seL4's `handle_overrun`).
        while left > 0 && self.head().amount <= left {
            let head = self.head();
            let Some(time) = head.time.checked_add(self.st.period) else {
                break; // released never: nothing more to charge
            };
            left -= head.amount;
            self.charge_entire_head(time);
        }
        let head = self.head();
        if left > 0 && head.amount > left {
            if let Some(time) = head.time.checked_add(self.st.period) {
                self.set(
                    0,
                    Refill {
                        time: head.time.saturating_add(left),
                        amount: head.amount - left,
                    },
                );
                // The queue has room: the head kept a part, and
                // push_or_merge merges when the queue is full.
                self.push_or_merge(Refill { time, amount: left });
            }
        }
        self.ensure_min_head();
        !(self.ready(now) && self.sufficient(0))
    }

    /// Usage of at least the whole budget (a long overrun): each whole
    /// budget charged delays every refill by one period, at once rather
    /// than refill by refill. Returns what is left to charge (less than
    /// the budget).
    fn charge_whole_budgets(&mut self, usage: Ticks) -> Ticks {
        let budget = self.st.budget.max(1);
        let rounds = usage / budget;
        if rounds == 0 {
            return usage;
        }
        let delay = rounds.saturating_mul(self.st.period);
        for i in 0..self.count() {
            let mut r = self.get(i);
            r.time = r.time.saturating_add(delay);
            self.set(i, r);
        }
        usage % budget
    }

    /// Charges all of the head, whose amount comes back at `time` (one
    /// period after the head's release; seL4's `charge_entire_head_refill`).
    fn charge_entire_head(&mut self, time: Ticks) {
        let head = self.head();
        let back = Refill {
            time,
            amount: head.amount,
        };
        if self.count() == 1 {
            self.set(0, back);
        } else {
            self.pop();
            self.push_or_merge(back);
        }
    }

    /// Gives up what is left of the head refill at `now` (`seL4_Yield`
    /// under MCS: seL4's `handleYield` charges the whole head as if used,
    /// from its release time). The head comes back one period after its
    /// release, so a periodic loop (work, then Yield) keeps its period
    /// however late in it the work ended. Round robin: the timeslice ends,
    /// the whole budget is available again at once (the thread goes to the
    /// end of its queue). Call after charging the time actually used.
    pub fn yield_head(&mut self, now: Ticks) {
        if self.round_robin() {
            self.set(
                0,
                Refill {
                    time: now,
                    amount: self.st.budget,
                },
            );
            self.set(
                1,
                Refill {
                    time: now,
                    amount: 0,
                },
            );
            return;
        }
        let head = self.head();
        if let Some(time) = head.time.checked_add(self.st.period) {
            self.charge_entire_head(time);
        }
        self.ensure_min_head();
    }

    /// Called when the thread becomes runnable at `now` (seL4's
    /// `refill_unblock_check`): a sporadic context whose head was released
    /// while it slept starts that refill now, and takes in the refills
    /// that are released before it would run out.
    pub fn unblock_check(&mut self, now: Ticks) {
        if self.round_robin() || !self.st.sporadic || !self.ready(now) {
            return;
        }
        let mut head = self.head();
        head.time = now;
        while self.count() > 1 {
            let next = self.get(1);
            if next.time > head.end() {
                break;
            }
            // `next` runs after the head's amount, which ends no earlier
            // than its release: merging delays nothing.
            head.amount = head.amount.saturating_add(next.amount);
            self.pop();
        }
        self.set(0, head);
    }

    /// The number of refills in the queue (at least one).
    pub fn count(&self) -> u64 {
        let (h, t, m) = (self.st.head, self.st.tail, self.st.max);
        if t >= h {
            t - h + 1
        } else {
            m - h + t + 1
        }
    }

    /// The refills, head first.
    pub fn iter(&self) -> impl Iterator<Item = Refill> + '_ {
        (0..self.count()).map(|i| self.get(i))
    }

    /// What the refills add up to (the budget, always).
    pub fn total(&self) -> Ticks {
        self.iter().fold(0, |sum, r| sum.saturating_add(r.amount))
    }

    /// The state, for the SchedContext to store.
    pub fn state(&self) -> RefillState {
        *self.st
    }

    fn charge_round_robin(&mut self, usage: Ticks, now: Ticks) -> bool {
        let (mut head, mut tail) = (self.head(), self.get(1));
        let used = usage.min(head.amount);
        head.amount -= used;
        tail.amount = tail.amount.saturating_add(used);
        let over = head.amount < self.min_budget;
        if over {
            head = Refill {
                time: now,
                amount: self.st.budget,
            };
            tail = Refill {
                time: now,
                amount: 0,
            };
        }
        self.set(0, head);
        self.set(1, tail);
        over
    }

    /// Appends `r` at the tail, or merges it into the tail when the queue
    /// is full or `r` would start before the tail ends (seL4's
    /// `schedule_used`). The merged refill runs the tail's amount, then
    /// `r`'s: it is released when neither part starts early.
    fn push_or_merge(&mut self, r: Refill) {
        let last = self.count() - 1;
        let tail = self.get(last);
        if self.count() < self.st.max && r.time >= tail.end() {
            self.push(r);
            return;
        }
        let time = tail.time.max(r.time.saturating_sub(tail.amount));
        self.set(
            last,
            Refill {
                time,
                amount: tail.amount.saturating_add(r.amount),
            },
        );
    }

    /// Merges a head below the minimum budget into the next refill, which
    /// is released when the head's part can run without starting early.
    fn ensure_min_head(&mut self) {
        while self.count() > 1 && self.head().amount < self.min_budget {
            let (head, next) = (self.head(), self.get(1));
            self.pop();
            self.set(
                0,
                Refill {
                    time: head.time.max(next.time.saturating_sub(head.amount)),
                    amount: head.amount.saturating_add(next.amount),
                },
            );
        }
    }

    /// `max` refills, as far as the array allows (at least one, so that
    /// index arithmetic never divides by zero).
    fn capacity(&self, max: u64) -> u64 {
        max.min(self.buf.room()).max(1)
    }

    /// Array index of the `i`-th refill from the head.
    fn index(&self, i: u64) -> u64 {
        (self.st.head + i) % self.st.max
    }

    fn get(&self, i: u64) -> Refill {
        self.buf.get(self.index(i)).unwrap_or_default()
    }

    fn set(&mut self, i: u64, r: Refill) {
        let at = self.index(i);
        self.buf.set(at, r);
    }

    /// Appends `r`; the caller has checked that there is room.
    fn push(&mut self, r: Refill) {
        if self.count() < self.st.max {
            self.st.tail = (self.st.tail + 1) % self.st.max;
            self.set(self.count() - 1, r);
        }
    }

    /// Drops the head; the caller has checked that another refill follows.
    fn pop(&mut self) {
        if self.count() > 1 {
            self.st.head = (self.st.head + 1) % self.st.max;
        }
    }
}

#[cfg(test)]
mod tests;
