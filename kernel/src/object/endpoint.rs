//! Endpoint objects (ch. 4 Message Passing (IPC), *Endpoints*): the layout
//! only. Retype creates endpoints (`object::create`); the IPC code owns
//! their behaviour.
//!
//! An endpoint is `2^seL4_EndpointBits` = 16 bytes (ABI ref §5): a queue of
//! threads waiting to send or to receive, and the queue's state. Like every
//! kernel object it is made of `Cell`s of integers (see `object::access`).

use crate::object::access::ObjPtr;
use core::cell::Cell;

/// The endpoint's queue state (seL4's `endpoint_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum EndpointState {
    /// No thread waits.
    Idle = 0,
    /// The queued threads wait to send.
    Send = 1,
    /// The queued threads wait to receive.
    Recv = 2,
}

const STATE_MASK: u64 = 3;

/// An endpoint: word 0 = queue head TCB (physical address, 0 = empty);
/// word 1 = queue tail TCB with the [`EndpointState`] in its two low bits
/// (TCBs are at least 1 KiB aligned, so those bits are free).
#[repr(C)]
pub struct Endpoint {
    head: Cell<u64>,
    tail_state: Cell<u64>,
}

/// A typed pointer to an endpoint.
pub type EndpointRef = ObjPtr<Endpoint>;

impl Endpoint {
    /// The first queued thread's TCB address (0: none).
    pub fn queue_head(&self) -> u64 {
        self.head.get()
    }
    /// The last queued thread's TCB address (0: none).
    pub fn queue_tail(&self) -> u64 {
        self.tail_state.get() & !STATE_MASK
    }
    /// The queue state.
    pub fn state(&self) -> EndpointState {
        match self.tail_state.get() & STATE_MASK {
            1 => EndpointState::Send,
            2 => EndpointState::Recv,
            _ => EndpointState::Idle,
        }
    }
    /// Sets the queue (head and tail TCB addresses) and its state.
    pub fn set_queue(&self, head: u64, tail: u64, state: EndpointState) {
        self.head.set(head);
        self.tail_state.set((tail & !STATE_MASK) | state as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;
    use crate::types::PAddr;

    #[test]
    fn fresh_endpoint_is_idle_and_queue_round_trips() {
        SimMachine::install(0x8000_0000, 1 << 16);
        let ep = EndpointRef::new(PAddr(0x8000_0010)).get();
        assert_eq!(ep.state(), EndpointState::Idle);
        assert_eq!((ep.queue_head(), ep.queue_tail()), (0, 0));
        ep.set_queue(0x8000_0400, 0x8000_0800, EndpointState::Recv);
        assert_eq!(ep.state(), EndpointState::Recv);
        assert_eq!(
            (ep.queue_head(), ep.queue_tail()),
            (0x8000_0400, 0x8000_0800)
        );
    }
}
