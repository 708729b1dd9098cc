//! Scheduling (ch. 6 Threads and Execution): ready queues with a priority
//! bitmap, the choice of the next thread, the timer tick, `seL4_Yield`.
//!
//! As in seL4's classic configuration the running thread is not in a ready
//! queue; it is put back (at the tail of its priority) when the scheduler
//! must choose again. The kernel never changes a priority by itself.

use crate::object::tcb::{Tcb, TcbRef};
use crate::state::kernel;
use crate::types::PAddr;
use core::cell::Cell;

/// Number of priorities (seL4_MaxPrio + 1).
pub const NUM_PRIORITIES: usize = crate::config::NUM_PRIORITIES;
const BITMAP_WORDS: usize = NUM_PRIORITIES.div_ceil(64);

/// One FIFO of runnable threads per priority, and a bitmap of the
/// non-empty ones.
pub struct ReadyQueues {
    head: [Cell<u64>; NUM_PRIORITIES],
    tail: [Cell<u64>; NUM_PRIORITIES],
    bitmap: [Cell<u64>; BITMAP_WORDS],
}

impl ReadyQueues {
    /// Empty queues.
    pub const fn new() -> ReadyQueues {
        ReadyQueues {
            head: [const { Cell::new(0) }; NUM_PRIORITIES],
            tail: [const { Cell::new(0) }; NUM_PRIORITIES],
            bitmap: [const { Cell::new(0) }; BITMAP_WORDS],
        }
    }

    fn prio_of(t: &Tcb) -> usize {
        (t.priority() as usize).min(NUM_PRIORITIES - 1)
    }

    fn set_bit(&self, p: usize, on: bool) {
        if let Some(w) = self.bitmap.get(p / 64) {
            let m = 1u64 << (p % 64);
            w.set(if on { w.get() | m } else { w.get() & !m });
        }
    }

    /// Appends a thread to the tail of its priority's queue (no-op if queued).
    pub fn enqueue(&self, t: TcbRef) {
        let tcb = t.get();
        if tcb.in_ready_queue() {
            return;
        }
        let p = Self::prio_of(tcb);
        let (Some(head), Some(tail)) = (self.head.get(p), self.tail.get(p)) else {
            return;
        };
        let old_tail = tail.get();
        tcb.set_sched_links(old_tail, 0);
        if old_tail == 0 {
            head.set(t.paddr().0);
        } else {
            let ot = TcbRef::new(PAddr(old_tail)).get();
            ot.set_sched_links(ot.sched_prev(), t.paddr().0);
        }
        tail.set(t.paddr().0);
        tcb.set_in_ready_queue(true);
        self.set_bit(p, true);
    }

    /// Removes a thread from its queue (no-op if not queued).
    pub fn dequeue(&self, t: TcbRef) {
        let tcb = t.get();
        if !tcb.in_ready_queue() {
            return;
        }
        let p = Self::prio_of(tcb);
        let (Some(head), Some(tail)) = (self.head.get(p), self.tail.get(p)) else {
            return;
        };
        let (prev, next) = (tcb.sched_prev(), tcb.sched_next());
        if prev == 0 {
            head.set(next);
        } else {
            let pt = TcbRef::new(PAddr(prev)).get();
            pt.set_sched_links(pt.sched_prev(), next);
        }
        if next == 0 {
            tail.set(prev);
        } else {
            let nt = TcbRef::new(PAddr(next)).get();
            nt.set_sched_links(prev, nt.sched_next());
        }
        tcb.set_sched_links(0, 0);
        tcb.set_in_ready_queue(false);
        if head.get() == 0 {
            self.set_bit(p, false);
        }
    }

    /// The highest priority with a runnable thread.
    pub fn highest_priority(&self) -> Option<usize> {
        self.bitmap
            .iter()
            .enumerate()
            .rev()
            .find(|(_, w)| w.get() != 0)
            .map(|(i, w)| i * 64 + 63 - w.get().leading_zeros() as usize)
    }

    /// The first thread of the highest non-empty priority.
    pub fn best(&self) -> Option<TcbRef> {
        let p = self.highest_priority()?;
        match self.head.get(p)?.get() {
            0 => None,
            pa => Some(TcbRef::new(PAddr(pa))),
        }
    }
}

impl Default for ReadyQueues {
    fn default() -> Self {
        Self::new()
    }
}

/// Makes `t` runnable-eligible: puts it in its ready queue and asks for a
/// scheduling decision if it has a higher priority than the running thread.
pub fn make_ready(t: TcbRef) {
    let k = kernel();
    k.ready.enqueue(t);
    match k.current_tcb() {
        Some(c) if c.get().priority() >= t.get().priority() => {}
        _ => k.reschedule.set(true),
    }
}

/// Resolves the pending scheduling decision and returns the thread to run
/// (`None`: idle). Switches the address space if needed.
pub fn schedule() -> Option<TcbRef> {
    let k = kernel();
    let cur = k.current_tcb();
    let cur_runnable = cur.filter(|c| c.get().state().is_runnable());
    if let (Some(c), false) = (cur_runnable, k.reschedule.get()) {
        // Keep running unless a higher priority thread is ready.
        match k.ready.highest_priority() {
            Some(p) if p as u64 > c.get().priority() => {}
            _ => return Some(c),
        }
    }
    k.reschedule.set(false);
    if let Some(c) = cur_runnable {
        k.ready.enqueue(c);
    }
    let next = k.ready.best();
    if let Some(n) = next {
        k.ready.dequeue(n);
        switch_to(n);
    } else {
        k.current.set(0);
    }
    next
}

fn switch_to(t: TcbRef) {
    let k = kernel();
    k.current.set(t.paddr().0);
    crate::object::vspace::activate_thread_vspace(t);
}

/// A kernel timer tick: charge the running thread's timeslice and round
/// robin at equal priority when it runs out (classic configuration).
pub fn timer_tick() {
    let k = kernel();
    k.ticks.set(k.ticks.get().wrapping_add(1));
    if let Some(c) = k.current_tcb() {
        let t = c.get();
        let left = t.time_slice().saturating_sub(1);
        if left == 0 {
            t.set_time_slice(crate::config::TIME_SLICE);
            k.reschedule.set(true);
        } else {
            t.set_time_slice(left);
        }
    }
}

/// `seL4_Yield`: the running thread goes to the tail of its priority.
pub fn yield_current() {
    let k = kernel();
    if let Some(c) = k.current_tcb() {
        c.get().set_time_slice(crate::config::TIME_SLICE);
    }
    k.reschedule.set(true);
}
