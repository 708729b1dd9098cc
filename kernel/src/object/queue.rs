//! Wait queues: the threads blocked on an endpoint or a notification
//! (seL4's `tcb_queue_t` with `tcbEPNext`/`tcbEPPrev`), linked through
//! the TCBs. The classic kernel's are FIFO; the MCS kernel's are ordered
//! by priority as seL4's MCS `tcbAppend` orders them: a thread goes after
//! the last queued thread of equal or higher priority (FIFO among
//! equals), and moves when its priority changes ([`TcbQueue::reorder`],
//! seL4's `reorderEP`/`reorderNTFN`), so the queue stays sorted.
//!
//! [`WaitQueue`] is the queue as the object stores it, together with the
//! object's state; [`TcbQueue`] is its head and tail loaded into a value,
//! which the IPC code (`ipc::endpoint`, `ipc::notification`, the fastpath)
//! changes and stores back together with the object's new state.

use crate::object::tcb::{tcb_at, TcbRef};
use core::cell::Cell;
use core::marker::PhantomData;

/// A queue's head and tail TCB addresses (0 = none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcbQueue {
    pub head: u64,
    pub tail: u64,
}

impl TcbQueue {
    pub fn is_empty(&self) -> bool {
        self.head == 0
    }

    pub fn first(&self) -> Option<TcbRef> {
        tcb_at(self.head)
    }

    /// Appends `t` (seL4's `tcbEPAppend`).
    #[cfg(not(feature = "mcs"))]
    pub fn append(&mut self, t: TcbRef) {
        let pa = t.paddr().0;
        t.get().set_ep_links(self.tail, 0);
        match tcb_at(self.tail) {
            Some(last) => last.get().set_ep_links(last.get().ep_prev(), pa),
            None => self.head = pa,
        }
        self.tail = pa;
    }

    /// Queues `t` after the last thread of equal or higher priority
    /// (seL4's MCS `tcbAppend`). A thread of higher priority than the
    /// head's goes first at once; otherwise the walk goes back from the
    /// tail over the threads of lower priority, so a thread of the lowest
    /// priority present is appended in constant time.
    #[cfg(feature = "mcs")]
    pub fn append(&mut self, t: TcbRef) {
        self.append_inline(t);
    }

    /// [`TcbQueue::append`] inlined into its caller: the MCS fastpath's
    /// ReplyRecv, which then calls no function at all and so saves no
    /// registers (called out of line, the append cost it ~20 instructions
    /// a ReplyRecv in spills and saves).
    #[cfg(feature = "mcs")]
    #[inline(always)]
    pub fn append_inline(&mut self, t: TcbRef) {
        if self.tail == 0 {
            // Empty: the common case (a server waiting alone, on the
            // fastpath's ReplyRecv), linked without looking at priorities.
            let pa = t.paddr().0;
            t.get().set_ep_links(0, 0);
            self.head = pa;
            self.tail = pa;
            return;
        }
        let prio = t.get().priority();
        let mut after = self.tail;
        if self.first().is_some_and(|h| prio > h.get().priority()) {
            after = 0;
        }
        while let Some(a) = tcb_at(after) {
            if a.get().priority() >= prio {
                break;
            }
            after = a.get().ep_prev();
        }
        self.insert_after(t, after);
    }

    /// seL4's MCS `reorderEP`/`reorderNTFN`: `t`, queued here, has a new
    /// priority and moves to where [`TcbQueue::append`] would put it (the
    /// queue without it being sorted). The walk starts at its place and
    /// goes towards the head if it now outranks the thread before it,
    /// towards the tail otherwise (past the threads of equal or higher
    /// priority): the same place as seL4's remove-and-append, found in as
    /// many steps as it moves.
    ///
    /// Every thread it passes, and `t`, loses its CancelBadgedSends mark
    /// ([`Tcb::release_badged_cancel_mark`]): a preempted walk whose
    /// cursor a queued thread moves past (or that names `t`) starts again
    /// from the head, so a thread never examined cannot hide before a
    /// cursor (`ipc::cancel::cancel_badged_sends`).
    ///
    /// [`Tcb::release_badged_cancel_mark`]: crate::object::tcb::Tcb::release_badged_cancel_mark
    #[cfg(feature = "mcs")]
    pub fn reorder(&mut self, t: TcbRef) {
        let tcb = t.get();
        let prio = tcb.priority();
        tcb.release_badged_cancel_mark();
        let mut after = tcb.ep_prev();
        if tcb_at(after).is_some_and(|p| p.get().priority() < prio) {
            while let Some(a) = tcb_at(after) {
                if a.get().priority() >= prio {
                    break;
                }
                a.get().release_badged_cancel_mark();
                after = a.get().ep_prev();
            }
        } else {
            let mut next = tcb.ep_next();
            while let Some(n) = tcb_at(next) {
                if n.get().priority() < prio {
                    break;
                }
                n.get().release_badged_cancel_mark();
                after = next;
                next = n.get().ep_next();
            }
        }
        self.remove(t);
        self.insert_after(t, after);
    }

    /// Links `t` in after the queued thread `after` (0: at the head).
    #[cfg(feature = "mcs")]
    #[inline(always)]
    fn insert_after(&mut self, t: TcbRef, after: u64) {
        let pa = t.paddr().0;
        let next = match tcb_at(after) {
            Some(a) => {
                let next = a.get().ep_next();
                a.get().set_ep_links(a.get().ep_prev(), pa);
                next
            }
            None => core::mem::replace(&mut self.head, pa),
        };
        t.get().set_ep_links(after, next);
        match tcb_at(next) {
            Some(n) => n.get().set_ep_links(pa, n.get().ep_next()),
            None => self.tail = pa,
        }
    }

    /// Removes `t`, which must be in this queue (seL4's `tcbEPDequeue`).
    #[inline]
    pub fn remove(&mut self, t: TcbRef) {
        let tcb = t.get();
        let (prev, next) = (tcb.ep_prev(), tcb.ep_next());
        match tcb_at(prev) {
            Some(p) => p.get().set_ep_links(p.get().ep_prev(), next),
            None => self.head = next,
        }
        match tcb_at(next) {
            Some(n) => n.get().set_ep_links(prev, n.get().ep_next()),
            None => self.tail = prev,
        }
        tcb.set_ep_links(0, 0);
    }

    /// Removes and returns the first thread ([`TcbQueue::remove`] of the
    /// head, whose back link is 0: not read).
    #[inline]
    pub fn pop(&mut self) -> Option<TcbRef> {
        let t = self.first()?;
        let tcb = t.get();
        let next = tcb.ep_next();
        match tcb_at(next) {
            Some(n) => n.get().set_ep_links(0, n.get().ep_next()),
            None => self.tail = 0,
        }
        self.head = next;
        tcb.set_ep_links(0, 0);
        Some(t)
    }

    /// The queued threads, first to last. The links are read as the walk
    /// goes, so the caller may remove the thread just returned.
    pub fn iter(&self) -> impl Iterator<Item = TcbRef> {
        let mut next = self.head;
        core::iter::from_fn(move || {
            let t = tcb_at(next)?;
            next = t.get().ep_next();
            Some(t)
        })
    }
}

/// The state of an object with a wait queue (`EndpointState`,
/// `NotificationState`): two bits, 0 being Idle.
pub trait QueueState: Copy {
    /// No thread waits (and, for a notification, no signal is pending).
    const IDLE: Self;
    /// The state stored as `bits` (two bits).
    fn from_bits(bits: u64) -> Self;
    /// The state's two bits.
    fn bits(self) -> u64;
}

const STATE_MASK: u64 = 3;

/// A wait queue as an endpoint or notification stores it: word 0 = head
/// TCB (physical address, 0 = empty); word 1 = tail TCB with the object's
/// state `S` in its two low bits (TCBs are at least 1 KiB aligned, so
/// those bits are free). Any bit pattern is a valid value.
#[repr(C)]
pub struct WaitQueue<S> {
    raw: RawWaitQueue,
    state: PhantomData<S>,
}

/// A [`WaitQueue`] with its state as the two bits (0: Idle): what code
/// shared by endpoints and notifications works on, so that it is
/// compiled once, not once per state type ([`WaitQueue::raw`]).
#[repr(C)]
pub struct RawWaitQueue {
    head: Cell<u64>,
    tail_state: Cell<u64>,
}

impl RawWaitQueue {
    /// The state's two bits.
    #[inline]
    pub fn state_bits(&self) -> u64 {
        self.tail_state.get() & STATE_MASK
    }
    /// The queued threads' head and tail.
    #[inline]
    pub fn tcbs(&self) -> TcbQueue {
        TcbQueue {
            head: self.head.get(),
            tail: self.tail_state.get() & !STATE_MASK,
        }
    }
    /// Stores the queue `q` and the state's two bits `bits` (< 4) as they
    /// are.
    #[inline]
    pub fn set_bits(&self, q: TcbQueue, bits: u64) {
        self.head.set(q.head);
        self.tail_state.set((q.tail & !STATE_MASK) | bits);
    }
    /// Stores the queue `q` with the state its threads wait in (as bits),
    /// `waiting`; Idle (0) once `q` is empty.
    #[inline]
    pub fn store_bits(&self, q: TcbQueue, waiting: u64) {
        self.set_bits(q, if q.is_empty() { 0 } else { waiting });
    }
}

impl<S: QueueState> WaitQueue<S> {
    #[inline]
    pub fn state(&self) -> S {
        S::from_bits(self.raw.state_bits())
    }
    /// The queued threads' head and tail.
    #[inline]
    pub fn tcbs(&self) -> TcbQueue {
        self.raw.tcbs()
    }
    /// Stores the queue `q` and the state `state` as they are.
    #[inline]
    pub fn set(&self, q: TcbQueue, state: S) {
        self.raw.set_bits(q, state.bits());
    }
    /// The queue without its state's type.
    #[inline]
    pub fn raw(&self) -> &RawWaitQueue {
        &self.raw
    }
    /// seL4's MCS `reorderEP`/`reorderNTFN`: moves the queued thread `t`,
    /// whose priority changed, to its place ([`TcbQueue::reorder`]); the
    /// state stays.
    #[cfg(feature = "mcs")]
    pub fn reorder(&self, t: TcbRef) {
        let mut q = self.tcbs();
        q.reorder(t);
        self.set(q, self.state());
    }
    /// Stores the queue `q` with the state its threads wait in, `waiting`;
    /// Idle once `q` is empty.
    #[inline]
    pub fn store(&self, q: TcbQueue, waiting: S) {
        self.set(q, if q.is_empty() { S::IDLE } else { waiting });
    }
}
