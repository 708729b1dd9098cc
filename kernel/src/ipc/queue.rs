//! Queues of threads blocked on an endpoint or a notification (seL4's
//! `tcb_queue_t` with `tcbEPNext`/`tcbEPPrev`): FIFO, linked through the
//! TCBs. The queue's head and tail live in the endpoint or notification
//! object; callers load them into a [`TcbQueue`], change it, and store it
//! back together with the object's new state.

use crate::object::tcb::TcbRef;
use crate::types::PAddr;

fn tcb_at(pa: u64) -> Option<TcbRef> {
    (pa != 0).then(|| TcbRef::new(PAddr(pa)))
}

/// A queue's head and tail TCB addresses (0 = none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcbQueue {
    pub head: u64,
    pub tail: u64,
}

impl TcbQueue {
    /// Whether no thread is queued.
    pub fn is_empty(&self) -> bool {
        self.head == 0
    }

    /// The first thread.
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

    /// Removes and returns the first thread.
    pub fn pop(&mut self) -> Option<TcbRef> {
        let t = self.first()?;
        self.remove(t);
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
