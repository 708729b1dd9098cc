//! The ready queues: one FIFO of runnable threads per (domain, priority),
//! and per domain a bitmap of the non-empty priorities, so that the
//! highest one is found with a few `leading_zeros` (seL4's
//! `ksReadyQueues` and `ksReadyQueuesL1Bitmap`/`L2Bitmap`, flattened to one
//! level: 256 priorities are four words).
//!
//! A queue links TCBs through their `sched_prev`/`sched_next` fields; a TCB
//! records whether it is queued, so enqueueing twice or dequeueing an
//! unqueued thread is harmless. Part of [`super::KernelState`]; changed by
//! `sched` (and read by the fastpath).

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
#[derive(Debug)]
pub struct ReadyQueues {
    queues: [Queue; QUEUES],
    bitmap: [[Cell<u64>; BITMAP_WORDS]; NUM_DOMAINS],
}

impl ReadyQueues {
    pub(super) const fn new() -> ReadyQueues {
        ReadyQueues {
            queues: [const {
                Queue {
                    head: Cell::new(0),
                    tail: Cell::new(0),
                }
            }; QUEUES],
            bitmap: [const { [const { Cell::new(0) }; BITMAP_WORDS] }; NUM_DOMAINS],
        }
    }

    /// Makes these queues a copy of `o` (host: `state::restore`).
    #[cfg(not(target_os = "none"))]
    pub(super) fn copy_from(&self, o: &ReadyQueues) {
        let ReadyQueues { queues, bitmap } = self;
        for (q, p) in queues.iter().zip(&o.queues) {
            q.head.set(p.head.get());
            q.tail.set(p.tail.get());
        }
        for (b, c) in bitmap.iter().flatten().zip(o.bitmap.iter().flatten()) {
            b.set(c.get());
        }
    }

    /// The queue, priority and bitmap of `t`'s domain and priority (both
    /// clamped: the TCB invocations keep them in range). Never `None`: the
    /// clamps keep both lookups in range, so the compiler drops the checks.
    fn place(&self, t: &Tcb) -> Option<(&Queue, usize, &[Cell<u64>; BITMAP_WORDS])> {
        // With one domain this clamp is a constant 0 (clippy says so).
        #[allow(
            clippy::absurd_extreme_comparisons,
            clippy::unnecessary_min_or_max,
            reason = "NUM_DOMAINS is a configuration constant, 1 by default"
        )]
        let dom = (t.domain() as usize).min(NUM_DOMAINS - 1);
        let prio = (t.priority() as usize).min(NUM_PRIORITIES - 1);
        let queue = self.queues.get(dom * NUM_PRIORITIES + prio)?;
        Some((queue, prio, self.bitmap.get(dom)?))
    }

    fn set_bit(bitmap: &[Cell<u64>; BITMAP_WORDS], prio: usize, on: bool) {
        if let Some(w) = bitmap.get(prio / 64) {
            let m = 1u64 << (prio % 64);
            w.set(if on { w.get() | m } else { w.get() & !m });
        }
    }

    /// Puts `t` at the head of its queue (seL4's `tcbSchedEnqueue`).
    pub fn enqueue(&self, t: TcbRef) {
        let tcb = t.get();
        if tcb.in_ready_queue() {
            return;
        }
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
    pub fn highest_priority(&self, domain: usize) -> Option<usize> {
        self.bitmap
            .get(domain)?
            .iter()
            .enumerate()
            .rev()
            .find(|(_, w)| w.get() != 0)
            .map(|(i, w)| i * 64 + 63 - w.get().leading_zeros() as usize)
    }

    /// Whether a thread of a priority above `prio` is queued in `domain`
    /// (seL4's `isHighestPrio`, negated): the bits above `prio` in the
    /// bitmap, without finding the highest (no `clz` in RV64IMAC: the
    /// fastpath asks this, and a count of leading zeros there cost fifty
    /// instructions and registers all around).
    #[inline]
    pub fn any_above(&self, domain: usize, prio: usize) -> bool {
        let Some(b) = self.bitmap.get(domain) else {
            return false;
        };
        let (word, bit) = (prio / 64, prio % 64);
        b.iter().enumerate().skip(word).any(|(i, w)| {
            // `>> bit >> 1`: no overflow for bit 63.
            let above = if i == word {
                w.get() >> bit >> 1
            } else {
                w.get()
            };
            above != 0
        })
    }

    /// The first thread of the highest non-empty priority of `domain`.
    pub fn best(&self, domain: usize) -> Option<TcbRef> {
        let p = self.highest_priority(domain)?;
        tcb_at(self.queues.get(domain * NUM_PRIORITIES + p)?.head.get())
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

    impl ReadyQueues {
        /// The queue of `domain` and `prio`, head first.
        pub fn queue(&self, domain: usize, prio: usize) -> impl Iterator<Item = TcbRef> + '_ {
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
