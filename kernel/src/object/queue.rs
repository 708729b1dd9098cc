//! Wait queues: the threads blocked on an endpoint or a notification
//! (seL4's `tcb_queue_t` with `tcbEPNext`/`tcbEPPrev`), FIFO and linked
//! through the TCBs.
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
    pub fn append(&mut self, t: TcbRef) {
        let pa = t.paddr().0;
        t.get().set_ep_links(self.tail, 0);
        match tcb_at(self.tail) {
            Some(last) => last.get().set_ep_links(last.get().ep_prev(), pa),
            None => self.head = pa,
        }
        self.tail = pa;
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
    head: Cell<u64>,
    tail_state: Cell<u64>,
    state: PhantomData<S>,
}

impl<S: QueueState> WaitQueue<S> {
    #[inline]
    pub fn state(&self) -> S {
        S::from_bits(self.tail_state.get() & STATE_MASK)
    }
    /// The queued threads' head and tail.
    #[inline]
    pub fn tcbs(&self) -> TcbQueue {
        TcbQueue {
            head: self.head.get(),
            tail: self.tail_state.get() & !STATE_MASK,
        }
    }
    /// Stores the queue `q` and the state `state` as they are.
    #[inline]
    pub fn set(&self, q: TcbQueue, state: S) {
        self.head.set(q.head);
        self.tail_state.set((q.tail & !STATE_MASK) | state.bits());
    }
    /// Stores the queue `q` with the state its threads wait in, `waiting`;
    /// Idle once `q` is empty.
    #[inline]
    pub fn store(&self, q: TcbQueue, waiting: S) {
        self.set(q, if q.is_empty() { S::IDLE } else { waiting });
    }
}
