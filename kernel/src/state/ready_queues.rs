//! The ready queues: one FIFO of runnable threads per (domain, priority),
//! and per domain a bitmap of the non-empty priorities, so that the
//! highest one is found with a few `leading_zeros` (seL4's
//! `ksReadyQueues` and `ksReadyQueuesL1Bitmap`/`L2Bitmap`, flattened to one
//! level: 256 priorities are four words).
//!
//! The highest set bit of a bitmap word is remembered with the word
//! (`msb_memo`): the scheduler chooses among the same few priorities again
//! and again, and rv64imac has no `clz` (about fifty instructions in
//! software); a word seen last time costs a compare. A cache of a pure
//! function: enqueueing and dequeueing pay nothing for it
//! (docs/benchmarks.md, "The MCS scheduler's choice").
//!
//! A queue links TCBs through their `sched_prev`/`sched_next` fields; a TCB
//! records whether it is queued, so enqueueing twice or dequeueing an
//! unqueued thread is harmless. Part of [`super::KernelState`]; changed by
//! `sched` (and read by the fastpath).
//!
//! MCS: one thread may be *deferred* ([`ReadyQueues::enqueue_deferred`]):
//! it is at the head of its queue as far as anyone can tell (its flag says
//! queued; a head enqueue and every reader but the scheduler's choice link
//! it first; a dequeue of it just forgets it; an append leaves it where it
//! logically is, ahead), but it is linked only if something looks. The woken thread of a
//! donating Call or of a reply that gives a SchedContext back is queued
//! while the scheduler must choose afresh (seL4's `possibleSwitchTo`:
//! `rescheduleRequired`, `SCHED_ENQUEUE`) and, almost always, chosen by
//! that same choice; deferred, it is chosen without being linked and
//! unlinked ([`ReadyQueues::take_best`]; docs/benchmarks.md, "The MCS
//! woken thread deferred").

use crate::config::{NUM_DOMAINS, NUM_PRIORITIES};
use crate::object::tcb::{tcb_at, Tcb, TcbRef};
use core::cell::Cell;

const BITMAP_WORDS: usize = NUM_PRIORITIES.div_ceil(64);
const QUEUES: usize = NUM_DOMAINS * NUM_PRIORITIES;

/// One FIFO: the physical addresses of its first and last TCB (0: none).
#[derive(Debug)]
struct Queue {
    head: Cell<u64>,
    tail: Cell<u64>,
}

/// Every ready queue.
// The small fields first, the queues last: the state puts these queues
// after its other small fields (`KernelState`), so that the fastpath's
// bitmap lookups and `deferred` are within reach of the kernel's gp.
#[derive(Debug)]
#[repr(C)]
pub struct ReadyQueues {
    /// MCS: the deferred thread (physical address; 0: none), logically at
    /// the head of its queue (module doc). Never one at kernel exit.
    #[cfg(feature = "mcs")]
    deferred: Cell<u64>,
    bitmap: [[Cell<u64>; BITMAP_WORDS]; NUM_DOMAINS],
    /// The last bitmap word whose highest set bit was computed, and that
    /// bit (module doc); a zero word is never looked up.
    msb_memo: (Cell<u64>, Cell<usize>),
    queues: [Queue; QUEUES],
}

impl ReadyQueues {
    pub(super) const fn new() -> ReadyQueues {
        ReadyQueues {
            #[cfg(feature = "mcs")]
            deferred: Cell::new(0),
            bitmap: [const { [const { Cell::new(0) }; BITMAP_WORDS] }; NUM_DOMAINS],
            msb_memo: (Cell::new(0), Cell::new(0)),
            queues: [const {
                Queue {
                    head: Cell::new(0),
                    tail: Cell::new(0),
                }
            }; QUEUES],
        }
    }

    /// Makes these queues a copy of `o` (host: `state::restore`).
    #[cfg(not(target_os = "none"))]
    pub(super) fn copy_from(&self, o: &ReadyQueues) {
        let ReadyQueues {
            #[cfg(feature = "mcs")]
            deferred,
            queues,
            bitmap,
            msb_memo,
        } = self;
        #[cfg(feature = "mcs")]
        deferred.set(o.deferred.get());
        for (q, p) in queues.iter().zip(&o.queues) {
            q.head.set(p.head.get());
            q.tail.set(p.tail.get());
        }
        for (b, c) in bitmap.iter().flatten().zip(o.bitmap.iter().flatten()) {
            b.set(c.get());
        }
        // A cache only, but copied too: a restored state is the saved one
        // to the word (the fuzz driver compares them).
        msb_memo.0.set(o.msb_memo.0.get());
        msb_memo.1.set(o.msb_memo.1.get());
    }

    /// The queue, priority and bitmap of `t`'s domain and priority (both
    /// clamped: the TCB invocations keep them in range). Never `None`: the
    /// clamps keep both lookups in range, so the compiler drops the checks.
    fn place(&self, t: &Tcb) -> Option<(&Queue, usize, &[Cell<u64>; BITMAP_WORDS])> {
        let (dom, prio) = Self::domain_and_priority(t);
        let queue = self.queues.get(dom * NUM_PRIORITIES + prio)?;
        Some((queue, prio, self.bitmap.get(dom)?))
    }

    /// `t`'s domain and priority, each clamped into its table's range.
    #[inline(always)]
    fn domain_and_priority(t: &Tcb) -> (usize, usize) {
        // With one domain this clamp is a constant 0 (clippy says so).
        #[allow(
            clippy::absurd_extreme_comparisons,
            clippy::unnecessary_min_or_max,
            reason = "NUM_DOMAINS is a configuration constant, 1 by default"
        )]
        let dom = (t.domain() as usize).min(NUM_DOMAINS - 1);
        (dom, (t.priority() as usize).min(NUM_PRIORITIES - 1))
    }

    fn set_bit(bitmap: &[Cell<u64>; BITMAP_WORDS], prio: usize, on: bool) {
        if let Some(w) = bitmap.get(prio / 64) {
            let m = 1u64 << (prio % 64);
            w.set(if on { w.get() | m } else { w.get() & !m });
        }
    }

    /// Puts `t` at the head of its queue (seL4's `tcbSchedEnqueue`).
    pub fn enqueue(&self, t: TcbRef) {
        // A deferred thread goes behind `t` (it was enqueued first).
        self.flush();
        if t.get().in_ready_queue() {
            return;
        }
        self.link_head(t);
    }

    /// Links `t`, in no queue, at the head of its queue.
    #[inline(always)]
    fn link_head(&self, t: TcbRef) {
        let tcb = t.get();
        let Some((q, prio, bitmap)) = self.place(tcb) else {
            return;
        };
        let old = q.head.get();
        tcb.set_sched_links(0, old);
        match tcb_at(old) {
            Some(o) => o.get().set_sched_links(t.paddr().0, o.get().sched_next()),
            None => q.tail.set(t.paddr().0),
        }
        q.head.set(t.paddr().0);
        tcb.set_in_ready_queue(true);
        Self::set_bit(bitmap, prio, true);
    }

    /// Puts `t` at the tail of its queue (seL4's `tcbSchedAppend`).
    pub fn append(&self, t: TcbRef) {
        // A deferred thread stays deferred: at its queue's head, it is
        // ahead of `t` either way.
        let tcb = t.get();
        if tcb.in_ready_queue() {
            return;
        }
        let Some((q, prio, bitmap)) = self.place(tcb) else {
            return;
        };
        let old = q.tail.get();
        tcb.set_sched_links(old, 0);
        match tcb_at(old) {
            Some(o) => o.get().set_sched_links(o.get().sched_prev(), t.paddr().0),
            None => q.head.set(t.paddr().0),
        }
        q.tail.set(t.paddr().0);
        tcb.set_in_ready_queue(true);
        Self::set_bit(bitmap, prio, true);
    }

    /// Takes `t` out of its queue (seL4's `tcbSchedDequeue`).
    pub fn dequeue(&self, t: TcbRef) {
        let tcb = t.get();
        if !tcb.in_ready_queue() {
            return;
        }
        // The deferred thread is forgotten; any other leaves its queue,
        // and the deferred one stays where it logically is.
        #[cfg(feature = "mcs")]
        if tcb.is_deferred() {
            return self.forget_deferred(tcb);
        }
        let Some((q, prio, bitmap)) = self.place(tcb) else {
            return;
        };
        let (prev, next) = (tcb.sched_prev(), tcb.sched_next());
        match tcb_at(prev) {
            Some(p) => p.get().set_sched_links(p.get().sched_prev(), next),
            None => q.head.set(next),
        }
        match tcb_at(next) {
            Some(n) => n.get().set_sched_links(prev, n.get().sched_next()),
            None => q.tail.set(prev),
        }
        tcb.set_sched_links(0, 0);
        tcb.set_in_ready_queue(false);
        if q.head.get() == 0 {
            Self::set_bit(bitmap, prio, false);
        }
    }

    /// The highest priority with a queued thread in `domain`.
    #[inline]
    pub fn highest_priority(&self, domain: usize) -> Option<usize> {
        self.flush();
        self.highest_linked(domain)
    }

    /// [`Self::highest_priority`] of the linked threads.
    #[inline(always)]
    fn highest_linked(&self, domain: usize) -> Option<usize> {
        self.bitmap
            .get(domain)?
            .iter()
            .enumerate()
            .rev()
            .find(|(_, w)| w.get() != 0)
            .map(|(i, w)| i * 64 + self.msb(w.get()))
    }

    /// The highest set bit of `w` (not 0): the memo's if `w` is the word
    /// it remembers, else computed and remembered.
    #[inline(always)]
    fn msb(&self, w: u64) -> usize {
        let (word, bit) = &self.msb_memo;
        if word.get() == w {
            return bit.get();
        }
        let b = 63 - w.leading_zeros() as usize;
        word.set(w);
        bit.set(b);
        b
    }

    /// Whether a thread of a priority above `prio` is queued in `domain`
    /// (seL4's `isHighestPrio`, negated): the bits above `prio` in the
    /// bitmap, without finding the highest (no `clz` in RV64IMAC: the
    /// fastpath asks this, and a count of leading zeros there cost fifty
    /// instructions and registers all around). MCS: never asked while a
    /// thread is deferred (the fastpath runs before anything is woken, and
    /// the scheduler asks it for a candidate, which excludes a deferral:
    /// [`Self::enqueue_deferred`]), so the bitmap is the whole answer.
    #[inline]
    pub fn any_above(&self, domain: usize, prio: usize) -> bool {
        #[cfg(feature = "mcs")]
        debug_assert_eq!(self.deferred.get(), 0, "asked past a deferred thread");
        self.bits_above(domain, prio)
    }

    /// [`Self::any_above`] on the bitmap alone.
    // A plain loop: the iterator adapters it was written with first were
    // kept out of line once it stopped being `any_above` itself.
    #[inline(always)]
    fn bits_above(&self, domain: usize, prio: usize) -> bool {
        let Some(b) = self.bitmap.get(domain) else {
            return false;
        };
        let (word, bit) = (prio / 64, prio % 64);
        // `>> bit >> 1`: no overflow for bit 63.
        if b.get(word).is_some_and(|w| w.get() >> bit >> 1 != 0) {
            return true;
        }
        let mut i = word + 1;
        while let Some(w) = b.get(i) {
            if w.get() != 0 {
                return true;
            }
            i += 1;
        }
        false
    }

    /// The first thread of the highest non-empty priority of `domain`.
    pub fn best(&self, domain: usize) -> Option<TcbRef> {
        self.flush();
        let p = self.highest_priority(domain)?;
        tcb_at(self.queues.get(domain * NUM_PRIORITIES + p)?.head.get())
    }

    /// [`Self::best`], taken off its queue (seL4's `chooseThread` then
    /// `tcbSchedDequeue` of the head): only the head's links change.
    /// MCS: a deferred thread of `domain` with no queued thread above its
    /// priority is the head of the highest queue, and is taken without
    /// being linked.
    #[inline]
    pub fn take_best(&self, domain: usize) -> Option<TcbRef> {
        #[cfg(feature = "mcs")]
        if let Some(t) = self.take_deferred(domain) {
            return Some(t);
        }
        let p = self.highest_linked(domain)?;
        let q = self.queues.get(domain * NUM_PRIORITIES + p)?;
        let t = tcb_at(q.head.get())?;
        let tcb = t.get();
        let next = tcb.sched_next();
        q.head.set(next);
        match tcb_at(next) {
            Some(n) => n.get().set_sched_links(0, n.get().sched_next()),
            None => {
                q.tail.set(0);
                if let Some(b) = self.bitmap.get(domain) {
                    Self::set_bit(b, p, false);
                }
            }
        }
        tcb.set_sched_links(0, 0);
        tcb.set_in_ready_queue(false);
        Some(t)
    }

    /// [`Self::enqueue`], deferred (module doc): `t` counts as at the head
    /// of its queue, and is linked there only if anything but
    /// [`Self::take_best`] looks at the queues first. A thread deferred
    /// before is linked now (it was enqueued first). Called only while the
    /// scheduler must choose afresh (`Action::ChooseNew`), so that nothing
    /// asks [`Self::any_above`] meanwhile; the choice at kernel exit
    /// (`sched::schedule`) always ends the deferral.
    #[cfg(feature = "mcs")]
    #[inline(always)]
    pub fn enqueue_deferred(&self, t: TcbRef) {
        let tcb = t.get();
        if tcb.in_ready_queue() {
            return;
        }
        self.flush();
        self.deferred.set(t.paddr().0);
        tcb.set_deferred();
    }

    /// [`Self::dequeue`] of the deferred thread `tcb`: forgotten. Out of
    /// line (rare), so that `dequeue` stays small enough to be inlined
    /// where it was.
    #[cfg(feature = "mcs")]
    #[cold]
    #[inline(never)]
    fn forget_deferred(&self, tcb: &Tcb) {
        self.deferred.set(0);
        tcb.set_in_ready_queue(false);
    }

    /// Whether a thread is deferred (the scheduler's usual choice; the
    /// invariant checks: never at exit).
    #[cfg(feature = "mcs")]
    #[inline(always)]
    pub fn has_deferred(&self) -> bool {
        self.deferred.get() != 0
    }

    /// The deferred thread, taken, if it is `domain`'s best: no thread of
    /// a higher priority is queued (at the head of its own queue, it would
    /// be chosen). Otherwise it is linked ([`Self::flush`]) and the choice
    /// is the queues'.
    #[cfg(feature = "mcs")]
    #[inline(always)]
    pub fn take_deferred(&self, domain: usize) -> Option<TcbRef> {
        match self.deferred_best(domain) {
            Some(t) => {
                self.take_deferred_best(t);
                Some(t)
            }
            None => {
                self.flush();
                None
            }
        }
    }

    /// The deferred thread, if it is `domain`'s best (as
    /// [`Self::take_deferred`] finds it); nothing changes.
    #[cfg(feature = "mcs")]
    #[inline(always)]
    pub fn deferred_best(&self, domain: usize) -> Option<TcbRef> {
        let t = tcb_at(self.deferred.get())?;
        let (dom, prio) = Self::domain_and_priority(t.get());
        (dom == domain && !self.bits_above(domain, prio)).then_some(t)
    }

    /// Takes the deferred thread `t`, which [`Self::deferred_best`] found
    /// the best: it leaves its queue without ever having been linked.
    #[cfg(feature = "mcs")]
    #[inline(always)]
    pub fn take_deferred_best(&self, t: TcbRef) {
        debug_assert_eq!(self.deferred.get(), t.paddr().0, "not the deferred thread");
        self.deferred.set(0);
        t.get().set_in_ready_queue(false);
    }

    /// Links the deferred thread, if any, at the head of its queue: the
    /// queues are then what they would have been had it been enqueued.
    /// Inline, the link included: a call would cost every caller its
    /// saved registers (rare: something looked between a wake-up and the
    /// choice).
    #[inline(always)]
    fn flush(&self) {
        #[cfg(feature = "mcs")]
        if let Some(t) = tcb_at(self.deferred.get()) {
            self.deferred.set(0);
            t.get().set_in_ready_queue(false);
            self.link_head(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_above_agrees_with_the_highest_priority() {
        let r = ReadyQueues::new();
        let dom = 0;
        let bitmap = &r.bitmap[dom];
        let prios = [0usize, 1, 63, 64, 100, 127, 128, 200, 255];
        // Every pair of queued priorities (and one alone, and none).
        for &a in &prios {
            for &b in &prios {
                for w in bitmap {
                    w.set(0);
                }
                ReadyQueues::set_bit(bitmap, a, true);
                ReadyQueues::set_bit(bitmap, b, a != 0 || b != 0);
                let highest = r.highest_priority(dom);
                for p in 0..NUM_PRIORITIES {
                    assert_eq!(
                        r.any_above(dom, p),
                        highest.is_some_and(|h| h > p),
                        "queued {a} and {b}, asked {p}"
                    );
                }
            }
        }
    }

    /// One step of [`queues_agree_with_a_model`]: a thread (index) joins
    /// the head or the tail of its queue, leaves it, or the best is taken.
    #[derive(Clone, Copy, Debug)]
    /// `EnqueueDeferred` is an enqueue as the model sees it (classic: an
    /// enqueue, there being no deferral); `Check`
    /// compares everything (its readers link a deferred thread, so it is
    /// an op of its own: the others run on deferred state between checks).
    enum Op {
        Enqueue(usize),
        EnqueueDeferred(usize),
        Append(usize),
        Dequeue(usize),
        TakeBest,
        Check,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0..THREADS).prop_map(Op::Enqueue),
            (0..THREADS).prop_map(Op::EnqueueDeferred),
            (0..THREADS).prop_map(Op::Append),
            (0..THREADS).prop_map(Op::Dequeue),
            Just(Op::TakeBest),
            Just(Op::Check),
        ]
    }

    const THREADS: usize = 8;

    /// Priorities the threads of one case get: at a word's edges, two
    /// equal, in one word and across words.
    fn prios() -> impl proptest::strategy::Strategy<Value = Vec<u64>> {
        use proptest::prelude::*;
        let prio = prop_oneof![
            Just(0u64),
            Just(63),
            Just(64),
            Just(127),
            Just(200),
            Just(255),
            0u64..256
        ];
        proptest::collection::vec(prio, THREADS)
    }

    proptest::proptest! {
        /// The remembered highest bit (`highest_priority`) and
        /// `take_best` give what a model of seL4's queues gives, after
        /// any sequence of queue operations: the same priority, the same
        /// thread (ties: the head of the queue, as enqueued or appended),
        /// the same order left behind.
        #[test]
        fn queues_agree_with_a_model(
            prio in prios(),
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            let k = crate::testutil::boot();
            let ts = k.threads(0, THREADS as u64);
            for (t, p) in ts.iter().zip(&prio) {
                t.get().set_priority(*p);
            }
            let r = ReadyQueues::new();
            // The model: one list per priority, head first.
            let mut model: Vec<Vec<usize>> = vec![Vec::new(); NUM_PRIORITIES];
            for o in ops.into_iter().chain([Op::Check]) {
                match o {
                    Op::Enqueue(i) | Op::Append(i) => {
                        let q = &mut model[prio[i] as usize];
                        if !q.contains(&i) {
                            match o {
                                Op::Enqueue(_) => q.insert(0, i),
                                _ => q.push(i),
                            }
                        }
                        match o {
                            Op::Enqueue(_) => r.enqueue(ts[i]),
                            _ => r.append(ts[i]),
                        }
                    }
                    Op::EnqueueDeferred(i) => {
                        let q = &mut model[prio[i] as usize];
                        if !q.contains(&i) {
                            q.insert(0, i);
                        }
                        #[cfg(feature = "mcs")]
                        r.enqueue_deferred(ts[i]);
                        #[cfg(not(feature = "mcs"))]
                        r.enqueue(ts[i]);
                    }
                    Op::Dequeue(i) => {
                        model[prio[i] as usize].retain(|&j| j != i);
                        r.dequeue(ts[i]);
                    }
                    Op::TakeBest => {
                        let want = model.iter_mut().rev().find(|q| !q.is_empty());
                        let want = want.map(|q| q.remove(0));
                        let got = r.take_best(0);
                        proptest::prop_assert_eq!(got, want.map(|i| ts[i]));
                        if let Some(t) = got {
                            proptest::prop_assert!(!t.get().in_ready_queue());
                        }
                    }
                    Op::Check => {
                        // The highest priority (remembered or not), the
                        // best thread, every queue are the model's.
                        let highest = model.iter().rposition(|q| !q.is_empty());
                        proptest::prop_assert_eq!(r.highest_priority(0), highest);
                        proptest::prop_assert_eq!(
                            r.best(0),
                            highest.and_then(|h| model[h].first().map(|&i| ts[i]))
                        );
                        for (p, q) in model.iter().enumerate() {
                            let got: Vec<_> = r.queue(0, p).collect();
                            let want: Vec<_> = q.iter().map(|&i| ts[i]).collect();
                            proptest::prop_assert_eq!(got, want, "queue {}", p);
                        }
                    }
                }
                // After each step: every thread's flag says whether the
                // model holds it.
                for (i, t) in ts.iter().enumerate() {
                    let held = model[prio[i] as usize].contains(&i);
                    proptest::prop_assert_eq!(t.get().in_ready_queue(), held, "thread {}", i);
                }
            }
        }
    }

    impl ReadyQueues {
        /// The queue of `domain` and `prio`, head first.
        pub fn queue(&self, domain: usize, prio: usize) -> impl Iterator<Item = TcbRef> + '_ {
            self.flush();
            let mut next = self
                .queues
                .get(domain * NUM_PRIORITIES + prio)
                .map_or(0, |q| q.head.get());
            core::iter::from_fn(move || {
                let t = tcb_at(next)?;
                next = t.get().sched_next();
                Some(t)
            })
        }
    }
}
