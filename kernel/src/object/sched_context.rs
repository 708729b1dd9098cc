//! The MCS SchedContext object in memory (issue 12, docs/mcs.md): a
//! 96-byte header followed by the circular refill array, as seL4's
//! `sched_context_t` and its refills. Words are read and written in place
//! through `access::read_word`/`write_word` (a SchedContext can hold
//! thousands of refills; nothing copies the array), so this module needs
//! no `unsafe` and no `KernelObject` promise. The layout is Cairn's own
//! (user space never sees it), of seL4's size, so an object of a given
//! size holds the refills seL4's would.
//!
//! | offset | field | seL4 |
//! |---|---|---|
//! | 0x00 | period (ticks) | `scPeriod` |
//! | 0x08 | budget (ticks): what the refills add up to | (their sum) |
//! | 0x10 | consumed (ticks) | `scConsumed` |
//! | 0x18 | bound TCB (0 = none) | `scTcb` |
//! | 0x20 | reply object at the head of the call stack | `scReply` |
//! | 0x28 | bound notification | `scNotification` |
//! | 0x30 | badge | `scBadge` |
//! | 0x38 | the TCB yielding to it | `scYieldFrom` |
//! | 0x40 | refill capacity, 0 = not configured | `scRefillMax` |
//! | 0x48 | head refill index | `scRefillHead` |
//! | 0x50 | tail refill index (inclusive) | `scRefillTail` |
//! | 0x58 | bit 0 sporadic; bits 15..8 the object's size bits (set when configured); bits 63..48 core | `scSporadic`, `scCore` |
//! | 0x60.. | refills: (release time, amount), 16 bytes each | `refill_t` |
//!
//! A zeroed object (a new one) is unconfigured: no refills, nothing bound.

use crate::object::access::{read_word, write_word};
use crate::sched::refill::{Refill, RefillArray, RefillState, Refills, Ticks, MIN_REFILLS};
use crate::sched::ticks::Clock;
use crate::types::PAddr;

const PERIOD: u64 = 0x00;
const BUDGET: u64 = 0x08;
const CONSUMED: u64 = 0x10;
const TCB: u64 = 0x18;
#[cfg(feature = "mcs")]
const REPLY: u64 = 0x20;
#[cfg(feature = "mcs")]
const NOTIFICATION: u64 = 0x28;
const BADGE: u64 = 0x30;
#[cfg(feature = "mcs")]
const YIELD_FROM: u64 = 0x38;
const REFILL_MAX: u64 = 0x40;
const REFILL_HEAD: u64 = 0x48;
const REFILL_TAIL: u64 = 0x50;
const FLAGS: u64 = 0x58;
/// The flags word's bits: `scSporadic`, and whether the context is round
/// robin (budget = period), kept with the parameters
/// ([`SchedContextRef::set_refill_state`]) so that a switch of contexts
/// tells a constant-bandwidth context that needs seL4's unblock check
/// from the others by one word ([`needs_switch_unblock_check_at`]).
const SPORADIC: u64 = 1;
const ROUND_ROBIN: u64 = 2;
/// Where the flags word keeps the object's size bits (a TCB names its
/// SchedContext by address only; the scheduler needs the size to bound
/// the refill array).
const SIZE_SHIFT: u64 = 8;
const SIZE_MASK: u64 = 0xff << SIZE_SHIFT;

/// Bytes of a SchedContext before its refill array. Cairn keeps seL4's
/// `sizeof(sched_context_t)` on RV64 (ABI ref §5: `seL4_CoreSchedContext
/// Bytes` = 128 = 96 + two refills), so that an object of a given size
/// holds the refills seL4's would and `seL4_MaxExtraRefills` is true.
pub const SCHED_CONTEXT_HEADER_BYTES: u64 = 96;

/// Bytes of one refill (`seL4_RefillSizeBytes`).
const REFILL_BYTES: u64 = 16;

/// The refills a SchedContext of `size_bits` holds (seL4's
/// `refill_absolute_max`); 0 for a size below the header or past a word.
pub fn refill_capacity(size_bits: u32) -> u64 {
    1u64.checked_shl(size_bits)
        .and_then(|bytes| bytes.checked_sub(SCHED_CONTEXT_HEADER_BYTES))
        .map_or(0, |rest| rest / REFILL_BYTES)
}

/// A decoded `SchedControl_ConfigureFlags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Configure {
    pub budget: Ticks,
    pub period: Ticks,
    /// The queue's capacity: the extra refills plus the two every
    /// SchedContext has.
    pub max_refills: u64,
    pub badge: u64,
    /// `seL4_SchedContext_Sporadic` (bit 0 of the flags; other bits are
    /// ignored, as seL4 ignores them).
    pub sporadic: bool,
}

/// `SchedContext_Consumed` and YieldTo's reply (seL4's
/// `schedContext_updateConsumed`): the µs to report for `consumed` ticks,
/// which are taken out of it. Normally all of them (rounded down to whole
/// µs, the rest dropped as seL4 drops it); on a timer slower than 1 MHz
/// only as many as fit in the reply word, the rest left for the next call.
pub fn take_consumed(consumed: &mut Ticks, clock: Clock) -> u64 {
    let most = clock.us_to_ticks(u64::MAX).unwrap_or(Ticks::MAX);
    let taken = (*consumed).min(most);
    *consumed -= taken;
    clock.ticks_to_us(taken)
}

/// A SchedContext object of `2^size_bits` bytes at `ptr` (what a
/// `Cap::SchedContext` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedContextRef {
    ptr: PAddr,
    size_bits: u8,
}

impl SchedContextRef {
    pub const fn new(ptr: PAddr, size_bits: u8) -> SchedContextRef {
        SchedContextRef { ptr, size_bits }
    }

    pub const fn paddr(self) -> PAddr {
        self.ptr
    }

    /// The SchedContext at `ptr` as a TCB names it, of the size recorded
    /// when it was configured (an unconfigured one has room for no
    /// refills: nothing reads or writes its array).
    pub fn at(ptr: PAddr) -> SchedContextRef {
        let bits = (read_word(ptr.add(FLAGS)) & SIZE_MASK) >> SIZE_SHIFT;
        SchedContextRef::new(ptr, bits as u8)
    }

    /// Records the object's size in its header (see [`SchedContextRef::at`]).
    fn record_size(self) {
        let flags = self.word(FLAGS) & !SIZE_MASK;
        self.set_word(FLAGS, flags | (self.size_bits as u64) << SIZE_SHIFT);
    }

    /// Runs `f` on the refill queue, in place in the object, with the
    /// kernel's minimum budget; the header's bookkeeping is written back
    /// afterwards. Does nothing (returns `None`) on an unconfigured one.
    pub fn with_refills<R>(
        self,
        min_budget: Ticks,
        f: impl FnOnce(&mut Refills<'_, InObject>) -> R,
    ) -> Option<R> {
        let mut st = self.refill_state();
        if st.max == 0 {
            return None;
        }
        let mut arr = InObject(self);
        let r = f(&mut Refills::new(&mut st, &mut arr, min_budget));
        self.set_refill_state(&st);
        Some(r)
    }

    /// The head refill of a configured one. Reads the two header words it
    /// needs, not the whole [`RefillState`]: every kernel entry asks
    /// (the words are volatile, so unused ones would still be loaded).
    #[inline]
    pub fn head_refill(self) -> Option<Refill> {
        head_refill_at(self.ptr)
    }

    /// Whether the sporadic flag is set (`scSporadic`).
    #[inline]
    pub fn is_sporadic(self) -> bool {
        self.word(FLAGS) & SPORADIC != 0
    }

    /// Charges `usage` ticks that ended at `now` (`Refills::budget_check`,
    /// whose result it returns; `None` for an unconfigured context).
    pub fn budget_check(self, usage: Ticks, now: Ticks, min_budget: Ticks) -> Option<bool> {
        self.charge(Charge::Used(usage), now, min_budget)
    }

    /// Gives up the head refill at `now` (`Refills::yield_head`); `None`
    /// for an unconfigured context.
    pub fn yield_head(self, now: Ticks, min_budget: Ticks) -> Option<()> {
        self.charge(Charge::Yield, now, min_budget).map(|_| ())
    }

    /// [`SchedContextRef::budget_check`] and [`SchedContextRef::yield_head`].
    /// A round-robin context (budget = period) always holds exactly its
    /// two refills, and both operations only move time between them,
    /// leaving the header as it is: they run on a copy of the two, which
    /// spares every change of SchedContext the header's read and
    /// write-back (docs/benchmarks.md, MCS). Any other shape takes the
    /// whole queue in place. Inlined into its two callers, so that each
    /// runs only its own operation.
    #[inline(always)]
    fn charge(self, op: Charge, now: Ticks, min_budget: Ticks) -> Option<bool> {
        let (period, budget) = (self.word(PERIOD), self.word(BUDGET));
        let (max, head, tail) = (
            self.word(REFILL_MAX),
            self.word(REFILL_HEAD),
            self.word(REFILL_TAIL),
        );
        // Both indices below the capacity word: inside the object, as in
        // `head_refill_at`.
        let round_robin = period == budget && max == MIN_REFILLS;
        if !(round_robin && head < max && tail < max && head != tail) {
            return self.charge_queue(op, now, min_budget);
        }
        let (head_at, tail_at) = (refill_addr(self.ptr, head), refill_addr(self.ptr, tail));
        let pair = [read_refill(head_at), read_refill(tail_at)];
        let mut st = RefillState {
            period,
            budget,
            head: 0,
            tail: 1,
            max: MIN_REFILLS,
            sporadic: false,
        };
        let mut buf = pair;
        let r = op.on(&mut Refills::new(&mut st, &mut buf, min_budget), now);
        write_refill(head_at, buf[0]);
        write_refill(tail_at, buf[1]);
        Some(r)
    }

    /// [`SchedContextRef::charge`] on the whole queue; out of line, so that
    /// the round-robin case saves no registers for it.
    #[inline(never)]
    fn charge_queue(self, op: Charge, now: Ticks, min_budget: Ticks) -> Option<bool> {
        self.with_refills(min_budget, |q| op.on(q, now))
    }

    fn word(self, off: u64) -> u64 {
        read_word(self.ptr.add(off))
    }

    fn set_word(self, off: u64, v: u64) {
        write_word(self.ptr.add(off), v)
    }

    /// How many refills the object has room for.
    pub fn capacity(self) -> u64 {
        refill_capacity(self.size_bits as u32)
    }

    /// Whether it has been configured (seL4: `scRefillMax > 0`).
    pub fn is_configured(self) -> bool {
        self.word(REFILL_MAX) != 0
    }

    /// The bound thread's TCB address, if any.
    pub fn tcb(self) -> Option<PAddr> {
        let t = self.word(TCB);
        (t != 0).then_some(PAddr(t))
    }

    pub fn set_tcb(self, tcb: Option<PAddr>) {
        self.set_word(TCB, tcb.map_or(0, |t| t.0));
    }

    /// Time consumed since last read (`scConsumed`).
    pub fn consumed(self) -> Ticks {
        self.word(CONSUMED)
    }

    pub fn set_consumed(self, t: Ticks) {
        self.set_word(CONSUMED, t)
    }

    /// The refill bookkeeping of the header.
    pub fn refill_state(self) -> RefillState {
        RefillState {
            period: self.word(PERIOD),
            budget: self.word(BUDGET),
            head: self.word(REFILL_HEAD),
            tail: self.word(REFILL_TAIL),
            max: self.word(REFILL_MAX),
            sporadic: self.word(FLAGS) & SPORADIC != 0,
        }
    }

    /// Writes the refill bookkeeping back; `max` is bounded by the
    /// object's capacity so that no index reaches past it.
    pub fn set_refill_state(self, st: &RefillState) {
        let max = st.max.min(self.capacity());
        self.set_word(PERIOD, st.period);
        self.set_word(BUDGET, st.budget);
        self.set_word(REFILL_HEAD, st.head.min(max.saturating_sub(1)));
        self.set_word(REFILL_TAIL, st.tail.min(max.saturating_sub(1)));
        self.set_word(REFILL_MAX, max);
        let flags = self.word(FLAGS) & !(SPORADIC | ROUND_ROBIN);
        let round_robin = if st.budget == st.period {
            ROUND_ROBIN
        } else {
            0
        };
        self.set_word(FLAGS, flags | st.sporadic as u64 | round_robin);
    }

    /// Refill `i` of the array; `None` past the object's capacity.
    pub fn refill(self, i: u64) -> Option<Refill> {
        (i < self.capacity()).then(|| read_refill(refill_addr(self.ptr, i)))
    }

    /// Sets refill `i`; does nothing past the object's capacity.
    pub fn set_refill(self, i: u64, r: Refill) {
        if i < self.capacity() {
            write_refill(refill_addr(self.ptr, i), r);
        }
    }

    /// Configures a fresh queue of the minimum two refills (seL4's
    /// `refill_new(sc, MIN_REFILLS, budget, period)`), the budget
    /// released at `now`: what boot gives the root thread.
    pub fn configure_min_refills(self, budget: Ticks, period: Ticks, now: Ticks, min: Ticks) {
        let mut st = RefillState::default();
        let mut buf = [Refill::default(); MIN_REFILLS as usize];
        Refills::new(&mut st, &mut buf, min).configure(budget, period, MIN_REFILLS, now);
        self.record_size();
        self.set_refill_state(&st);
        for (i, r) in (0..).zip(buf) {
            self.set_refill(i, r);
        }
    }

    /// Whether it is configured and its head refill is released at `now`
    /// (seL4's `sc_released`, without the kernel-entry allowance, as
    /// `Refills::ready`).
    pub fn is_released(self, now: Ticks) -> bool {
        let st = self.refill_state();
        st.max != 0 && self.refill(st.head).is_some_and(|h| h.time <= now)
    }

    /// seL4's `refill_unblock_check` on the object, for a configured
    /// sporadic context that was not in use: a head released in the past
    /// starts now, taking in the refills released before it would end
    /// (as `Refills::unblock_check`, in place).
    pub fn unblock_check(self, now: Ticks) {
        if self.is_sporadic() {
            self.start_head_at(now);
        }
    }

    /// seL4's `refill_unblock_check` as its `switchSchedContext` runs it
    /// on a constant-bandwidth (not sporadic) context becoming the running
    /// one: as [`Self::unblock_check`], for the other contexts.
    pub fn switch_unblock_check(self, now: Ticks) {
        if !self.is_sporadic() {
            self.start_head_at(now);
        }
    }

    /// The unblock check's work: a configured context that is not round
    /// robin (seL4's returns early for one) and whose head was released
    /// by `now` has that head start at `now`, merged with the refills
    /// released before it would end.
    fn start_head_at(self, now: Ticks) {
        let mut st = self.refill_state();
        if st.max == 0 || st.budget == st.period {
            return;
        }
        let Some(mut head) = self.refill(st.head) else {
            return;
        };
        if head.time > now {
            return;
        }
        head.time = now;
        while st.head != st.tail {
            let next_i = (st.head + 1) % st.max;
            let Some(next) = self.refill(next_i) else {
                break;
            };
            if next.time > head.time.saturating_add(head.amount) {
                break;
            }
            head.amount = head.amount.saturating_add(next.amount);
            st.head = next_i;
        }
        self.set_refill(st.head, head);
        self.set_refill_state(&st);
    }

    /// The badge a notification bound to it delivers (`scBadge`).
    pub fn badge(self) -> u64 {
        self.word(BADGE)
    }

    /// New parameters from `SchedControl_ConfigureFlags`: seL4's
    /// `refill_update` when `keep_bandwidth` (the context is configured
    /// and its thread runnable, so what it has left of its head refill
    /// is kept) and budget ≠ period, `refill_new` otherwise, released at
    /// `now`; then the requested refill capacity, the sporadic flag and
    /// the badge. Both refill operations start the queue afresh at index
    /// 0 and touch refills 0 and 1 only, so they run on a copy of the
    /// head and one more refill, not the array.
    pub fn set_parameters(
        self,
        c: &Configure,
        keep_bandwidth: bool,
        now: Ticks,
        min_budget: Ticks,
    ) {
        let old = self.refill_state();
        let head = self.refill(old.head).unwrap_or_default();
        let mut st = RefillState {
            head: 0,
            tail: 0,
            max: MIN_REFILLS,
            ..old
        };
        let mut buf = [head, Refill::default()];
        let mut q = Refills::new(&mut st, &mut buf, min_budget);
        if keep_bandwidth && old.max != 0 {
            q.update(c.budget, c.period, MIN_REFILLS, now);
        } else {
            q.configure(c.budget, c.period, MIN_REFILLS, now);
        }
        // Round robin keeps its two refills, as seL4's refill_new(MIN_REFILLS).
        st.max = if c.budget == c.period {
            MIN_REFILLS
        } else {
            c.max_refills
        };
        st.sporadic = c.sporadic;
        self.record_size();
        self.set_refill_state(&st);
        for (i, r) in (0..).zip(buf) {
            self.set_refill(i, r);
        }
        self.set_word(BADGE, c.badge);
    }

    /// The last capability to it is deleted: it becomes unconfigured
    /// (seL4's finaliseCap zeroes `scRefillMax` and `scSporadic`), and
    /// the thread bound to it, if any, is left without one.
    pub fn mark_unconfigured(self) {
        self.set_word(REFILL_MAX, 0);
        let flags = self.word(FLAGS) & !SPORADIC;
        self.set_word(FLAGS, flags);
    }
}

/// The head refill of the SchedContext at `sc`, if it is configured
/// ([`SchedContextRef::head_refill`]), without reading the object's size:
/// every kernel entry asks. The head index is bounded by the capacity
/// word instead, which [`SchedContextRef::set_refill_state`] (its only
/// writer besides unconfiguring) never sets above what the object holds,
/// with the head below it; so a head below it is inside the object.
#[inline]
pub fn head_refill_at(sc: PAddr) -> Option<Refill> {
    let max = read_word(sc.add(REFILL_MAX));
    let head = read_word(sc.add(REFILL_HEAD));
    (head < max).then(|| read_refill(refill_addr(sc, head)))
}

/// Whether the SchedContext at `sc` is configured (seL4's `sc_active`),
/// reading the one word that says so ([`SchedContextRef::is_configured`]
/// without the size word [`SchedContextRef::at`] reads).
#[inline]
pub fn is_configured_at(sc: PAddr) -> bool {
    read_word(sc.add(REFILL_MAX)) != 0
}

/// seL4's `commitTime` for a round-robin context in the usual case: the
/// context at `sc` is round robin (budget = period, its two refills) and
/// its head holds `used` and still the minimum budget after it (what the
/// kernel entry checked). Then `used` moves from the head's amount to the
/// tail's, as seL4 does, and into `Consumed`: exactly what
/// [`SchedContextRef::budget_check`] and `set_consumed` give there, from
/// the words that change, without the object's size, the refill times or
/// a copy of the queue (every change of SchedContext charges; docs/
/// benchmarks.md, "IRQ to its handler"). False, changing nothing, in
/// any other case.
#[inline]
pub fn commit_round_robin_at(sc: PAddr, used: Ticks, min_budget: Ticks) -> bool {
    let max = read_word(sc.add(REFILL_MAX));
    let (head, tail) = (
        read_word(sc.add(REFILL_HEAD)),
        read_word(sc.add(REFILL_TAIL)),
    );
    // Both indices below the capacity word: inside the object, as in
    // `head_refill_at`.
    if max != MIN_REFILLS || head >= max || tail >= max || head == tail {
        return false;
    }
    if read_word(sc.add(PERIOD)) != read_word(sc.add(BUDGET)) {
        return false;
    }
    let (head_at, tail_at) = (refill_addr(sc, head), refill_addr(sc, tail));
    let left = read_word(head_at.add(8)).checked_sub(used);
    let Some(left) = left.filter(|&l| l >= min_budget) else {
        return false;
    };
    // Plain sums, exact: the two amounts add up to the budget, which
    // ConfigureFlags bounds far below the word (`MAX_PERIOD_US`), and
    // `Consumed` counts time the clock has seen.
    write_word(head_at.add(8), left);
    write_word(tail_at.add(8), read_word(tail_at.add(8)).wrapping_add(used));
    write_word(
        sc.add(CONSUMED),
        read_word(sc.add(CONSUMED)).wrapping_add(used),
    );
    true
}

/// Whether the SchedContext at `sc` has the sporadic flag
/// ([`SchedContextRef::is_sporadic`], one word read).
#[inline]
pub fn is_sporadic_at(sc: PAddr) -> bool {
    read_word(sc.add(FLAGS)) & SPORADIC != 0
}

/// Whether the SchedContext at `sc` is constant bandwidth and not round
/// robin: the contexts seL4's `switchSchedContext` gives an unblock check
/// when they become the running one ([`SchedContextRef::switch_unblock_check`]),
/// told apart by one word read and one test (every change of context
/// asks: docs/benchmarks.md, "IRQ to its handler").
#[inline(always)]
pub fn needs_switch_unblock_check_at(sc: PAddr) -> bool {
    read_word(sc.add(FLAGS)) & (SPORADIC | ROUND_ROBIN) == 0
}

/// Where refill `i` of the SchedContext at `sc` is; only for an index
/// below its capacity ([`SchedContextRef::refill`]) or its capacity word
/// ([`head_refill_at`]).
fn refill_addr(sc: PAddr, i: u64) -> PAddr {
    sc.add(SCHED_CONTEXT_HEADER_BYTES + REFILL_BYTES * i)
}

fn read_refill(at: PAddr) -> Refill {
    Refill {
        time: read_word(at),
        amount: read_word(at.add(8)),
    }
}

fn write_refill(at: PAddr, r: Refill) {
    write_word(at, r.time);
    write_word(at.add(8), r.amount);
}

/// What [`SchedContextRef::charge`] does to the refills.
#[derive(Clone, Copy)]
enum Charge {
    /// `Refills::budget_check` of this usage.
    Used(Ticks),
    /// `Refills::yield_head`.
    Yield,
}

impl Charge {
    // Inline: on the round-robin copy, the queue's other cases fold away.
    #[inline(always)]
    fn on<A: RefillArray + ?Sized>(self, q: &mut Refills<'_, A>, now: Ticks) -> bool {
        match self {
            Charge::Used(usage) => q.budget_check(usage, now),
            Charge::Yield => {
                q.yield_head(now);
                false
            }
        }
    }
}

/// The refill array of a SchedContext, read and written in place.
pub struct InObject(SchedContextRef);

impl RefillArray for InObject {
    fn room(&self) -> u64 {
        self.0.capacity()
    }
    fn get(&self, i: u64) -> Option<Refill> {
        self.0.refill(i)
    }
    fn set(&mut self, i: u64, r: Refill) {
        self.0.set_refill(i, r)
    }
}

/// MCS: binds `sc` and `tcb` to each other (seL4's
/// `schedContext_bindTCB`, without the scheduling, which waits for the
/// MCS scheduler: docs/mcs.md). The caller has checked that neither is
/// bound.
#[cfg(feature = "mcs")]
pub fn bind_tcb(sc: SchedContextRef, tcb: crate::object::tcb::TcbRef) {
    sc.set_tcb(Some(tcb.paddr()));
    tcb.get().set_sched_context(Some(sc.paddr()));
}

/// MCS: the reply object heading the call stack of the SchedContext at
/// `sc` (`scReply`): the last Call that lent it and is not yet answered.
#[cfg(feature = "mcs")]
pub fn reply(sc: PAddr) -> Option<crate::object::reply::ReplyRef> {
    crate::object::reply::ReplyRef::at(read_word(sc.add(REPLY)))
}

/// MCS: sets [`reply`]; `ipc::call_stack` keeps the stack consistent.
#[cfg(feature = "mcs")]
pub fn set_reply(sc: PAddr, r: Option<crate::object::reply::ReplyRef>) {
    write_word(sc.add(REPLY), r.map_or(0, |r| r.paddr().0))
}

/// MCS: the badge of the SchedContext at `sc` (`scBadge`), which a
/// timeout fault carries.
#[cfg(feature = "mcs")]
pub fn badge_at(sc: PAddr) -> u64 {
    read_word(sc.add(BADGE))
}

/// MCS: the µs the SchedContext at `sc` consumed since last asked, taken
/// out of it (seL4's `schedContext_updateConsumed`, for a timeout fault's
/// message and `SchedContext_Consumed`).
#[cfg(feature = "mcs")]
pub fn take_consumed_us(sc: PAddr) -> u64 {
    let clock = Clock::new(crate::arch::timebase_hz());
    let mut consumed = read_word(sc.add(CONSUMED));
    let us = take_consumed(&mut consumed, clock);
    write_word(sc.add(CONSUMED), consumed);
    us
}

/// MCS: the notification bound to the SchedContext at `sc`
/// (`scNotification`), if any.
#[cfg(feature = "mcs")]
pub fn notification_at(sc: PAddr) -> Option<PAddr> {
    let n = read_word(sc.add(NOTIFICATION));
    (n != 0).then_some(PAddr(n))
}

/// MCS: binds `sc` and the notification `ntfn` to each other (seL4's
/// `schedContext_bindNtfn`); the caller has checked that neither is
/// bound. A passive server waiting on it runs on `sc` when it is
/// signalled (that lending is the signal path's).
#[cfg(feature = "mcs")]
pub fn bind_notification(sc: PAddr, ntfn: PAddr) {
    write_word(sc.add(NOTIFICATION), ntfn.0);
    crate::object::notification::NotificationRef::new(ntfn)
        .get()
        .set_sched_context(Some(sc));
}

/// MCS: the SchedContext at `sc` and its notification, if any, let go of
/// each other (seL4's `schedContext_unbindNtfn`).
#[cfg(feature = "mcs")]
pub fn unbind_notification(sc: PAddr) {
    if let Some(n) = notification_at(sc) {
        crate::object::notification::NotificationRef::new(n)
            .get()
            .set_sched_context(None);
    }
    write_word(sc.add(NOTIFICATION), 0);
}

/// MCS: the notification at `ntfn` and its SchedContext, if any, let go
/// of each other (seL4's `schedContextMaybeUnbindNtfn`).
#[cfg(feature = "mcs")]
pub fn unbind_notification_of(ntfn: PAddr) {
    let n = crate::object::notification::NotificationRef::new(ntfn);
    if let Some(sc) = n.get().sched_context() {
        unbind_notification(sc);
    }
}

/// MCS: the thread bound to the SchedContext at `sc`, if any.
#[cfg(feature = "mcs")]
pub fn tcb_of(sc: PAddr) -> Option<crate::object::tcb::TcbRef> {
    crate::object::tcb::tcb_at(read_word(sc.add(TCB)))
}

/// MCS: sets the thread bound to the SchedContext at `sc` (one side of
/// the link; the caller sets the thread's).
#[cfg(feature = "mcs")]
pub fn set_tcb_of(sc: PAddr, t: Option<crate::object::tcb::TcbRef>) {
    write_word(sc.add(TCB), t.map_or(0, |t| t.paddr().0))
}

/// MCS: the thread waiting to be told what the SchedContext at `sc`
/// consumed after it yielded to it (`scYieldFrom`), if any.
#[cfg(feature = "mcs")]
pub fn yield_from(sc: PAddr) -> Option<crate::object::tcb::TcbRef> {
    crate::object::tcb::tcb_at(read_word(sc.add(YIELD_FROM)))
}

/// MCS: links `yielder` and the SchedContext at `sc` it yields to
/// (`tcbYieldTo` and `scYieldFrom`); neither is linked.
#[cfg(feature = "mcs")]
pub fn link_yield_to(yielder: crate::object::tcb::TcbRef, sc: PAddr) {
    write_word(sc.add(YIELD_FROM), yielder.paddr().0);
    yielder.get().set_yield_to(Some(sc));
}

/// MCS: seL4's `schedContext_cancelYieldTo`: `t` and the SchedContext it
/// yielded to, if any, let go of each other (`t` is suspended or deleted:
/// it is told nothing).
#[cfg(feature = "mcs")]
pub fn cancel_yield_to(t: crate::object::tcb::TcbRef) {
    if let Some(sc) = t.get().yield_to() {
        write_word(sc.add(YIELD_FROM), 0);
        t.get().set_yield_to(None);
    }
}

/// MCS: seL4's `schedContext_completeYieldTo`: `yielder` gets the reply
/// of its `SchedContext_YieldTo`, the µs the context it yielded to has
/// consumed (taken out of it), in its registers as a kernel reply of one
/// word (MR0 is a register: no IPC buffer is needed), and the link is
/// broken. Called when it next runs (`api`), or when the context or the
/// thread bound to it is deleted (`cap::finalise`). Nothing without a link.
#[cfg(feature = "mcs")]
pub fn complete_yield_to(yielder: crate::object::tcb::TcbRef) {
    let Some(sc) = yielder.get().yield_to() else {
        return;
    };
    let us = take_consumed_us(sc);
    let t = yielder.get();
    t.set_reg(crate::arch::BADGE_REGISTER, 0);
    t.set_reg(crate::arch::MSG_REGISTERS[0], us);
    let info = cairn_abi::message::MessageInfo::new(0, 0, 0, 1);
    t.set_reg(crate::arch::MSG_INFO_REGISTER, info.0);
    cancel_yield_to(yielder);
}

// MCS: the SchedContext invocations (decode and perform).
#[cfg(feature = "mcs")]
mod invoke;
#[cfg(feature = "mcs")]
pub use invoke::{bind, decode, perform, SchedContextOp};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;

    /// An object of `2^size_bits` bytes in fresh zeroed simulated RAM.
    fn object(size_bits: u8) -> SchedContextRef {
        SimMachine::install(0x8000_0000, 1 << 16);
        SchedContextRef::new(PAddr(0x8000_0000), size_bits)
    }

    #[test]
    fn a_zeroed_object_is_unconfigured_and_unbound() {
        let sc = object(8);
        assert!(!sc.is_configured());
        assert_eq!(sc.tcb(), None);
        assert_eq!(sc.refill_state(), RefillState::default());
        assert_eq!(sc.capacity(), (256 - 96) / 16);
    }

    #[test]
    fn header_and_refills_round_trip_within_the_object() {
        let sc = object(7);
        let st = RefillState {
            period: 500,
            budget: 200,
            head: 1,
            tail: 0,
            max: 2,
            sporadic: true,
        };
        sc.set_refill_state(&st);
        assert_eq!(sc.refill_state(), st);
        let r = Refill {
            time: 7,
            amount: 200,
        };
        sc.set_refill(1, r);
        assert_eq!(sc.refill(1), Some(r));
        // A 128-byte object holds two refills: index 2 is outside it.
        assert_eq!(sc.refill(2), None);
        sc.set_refill(2, r);
        assert_eq!(sc.refill(2), None);
        // A max beyond the object is bounded to it.
        sc.set_refill_state(&RefillState { max: 99, ..st });
        assert_eq!(sc.refill_state().max, 2);
        sc.set_tcb(Some(PAddr(0x8000_1000)));
        sc.mark_unconfigured();
        let after = sc.refill_state();
        assert!(!sc.is_configured() && !after.sporadic);
        assert_eq!((after.period, after.budget), (500, 200));
        assert_eq!(sc.tcb(), Some(PAddr(0x8000_1000)));
    }

    #[test]
    fn head_refill_reads_only_a_configured_head_inside_the_object() {
        let sc = object(7);
        assert_eq!(sc.head_refill(), None, "unconfigured");
        let r = Refill {
            time: 3,
            amount: 400,
        };
        sc.set_refill(1, r);
        let st = RefillState {
            period: 500,
            budget: 400,
            head: 1,
            tail: 1,
            max: 2,
            sporadic: false,
        };
        sc.set_refill_state(&st);
        assert_eq!(sc.head_refill(), Some(r));
        assert_eq!(head_refill_at(sc.paddr()), Some(r));
        // The header's writer keeps the head below the capacity word.
        sc.set_refill_state(&RefillState { head: 7, ..st });
        assert_eq!(sc.refill_state().head, 1);
        sc.mark_unconfigured();
        assert_eq!(sc.head_refill(), None);
    }

    /// The object's charge and yield (a copy of the two refills for round
    /// robin, the queue in place otherwise) and its unblock checks leave
    /// the header and refills exactly as `Refills::budget_check`,
    /// `yield_head` and `unblock_check` on a slice do, and the charge
    /// returns what it does.
    #[test]
    fn budget_check_in_the_object_matches_the_refill_queue() {
        let min = 200;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..400 {
            let sc = object(8);
            let period = 1_000 + rand(50_000);
            let budget = if round % 2 == 0 {
                period
            } else {
                (min * 2 + rand(period)).min(period)
            };
            let mut st = RefillState::default();
            let mut model = vec![Refill::default(); sc.capacity() as usize];
            let max = 2 + rand(sc.capacity() - 1);
            let mut now = rand(10_000);
            {
                let mut q = Refills::new(&mut st, model.as_mut_slice(), min);
                q.configure(budget, period, max, now);
            }
            st.sporadic = round % 3 == 0;
            sc.record_size();
            sc.set_refill_state(&st);
            for (i, r) in (0..).zip(&model) {
                sc.set_refill(i, *r);
            }
            for _ in 0..20 {
                now += rand(3 * period);
                let usage = rand(2 * budget);
                if rand(5) == 0 {
                    // The object's unblock checks (a wake-up's on a
                    // sporadic context, a switch's on a constant-bandwidth
                    // one) merge as the queue's sporadic one does.
                    let sporadic = st.sporadic;
                    st.sporadic = true;
                    Refills::new(&mut st, model.as_mut_slice(), min).unblock_check(now);
                    st.sporadic = sporadic;
                    match sporadic {
                        true => sc.unblock_check(now),
                        false => sc.switch_unblock_check(now),
                    }
                } else {
                    let mut q = Refills::new(&mut st, model.as_mut_slice(), min);
                    if rand(4) == 0 {
                        q.yield_head(now);
                        assert_eq!(sc.yield_head(now, min), Some(()), "round {round}");
                    } else {
                        let want = q.budget_check(usage, now);
                        assert_eq!(
                            sc.budget_check(usage, now, min),
                            Some(want),
                            "round {round}"
                        );
                    }
                }
                assert_eq!(sc.refill_state(), st, "round {round}");
                for (i, r) in (0..).zip(&model) {
                    assert_eq!(sc.refill(i), Some(*r), "round {round}, refill {i}");
                }
            }
        }
        // Unconfigured: nothing to charge.
        assert_eq!(object(8).budget_check(5, 5, min), None);
        assert_eq!(object(8).yield_head(5, min), None);
    }
}
