//! Endpoint objects (ch. 4 Message Passing (IPC), *Endpoints*): the layout
//! only. Retype creates endpoints (`object::create`); the IPC code owns
//! their behaviour.
//!
//! An endpoint is `2^seL4_EndpointBits` = 16 bytes (ABI ref §5): a queue of
//! threads waiting to send or to receive, and the queue's state. Like every
//! kernel object it is made of `Cell`s of integers (see `object::access`).

use crate::object::access::ObjPtr;
use crate::object::queue::{QueueState, WaitQueue};

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

impl QueueState for EndpointState {
    const IDLE: Self = EndpointState::Idle;
    fn from_bits(bits: u64) -> Self {
        match bits {
            1 => EndpointState::Send,
            2 => EndpointState::Recv,
            _ => EndpointState::Idle,
        }
    }
    fn bits(self) -> u64 {
        self as u64
    }
}

/// An endpoint: its queue and the queue's state.
#[repr(C)]
pub struct Endpoint {
    /// The waiting threads and the [`EndpointState`].
    pub queue: WaitQueue<EndpointState>,
}

/// A typed pointer to an endpoint.
pub type EndpointRef = ObjPtr<Endpoint>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;
    use crate::object::queue::TcbQueue;
    use crate::types::PAddr;

    #[test]
    fn fresh_endpoint_is_idle_and_queue_round_trips() {
        SimMachine::install(0x8000_0000, 1 << 16);
        let q = &EndpointRef::new(PAddr(0x8000_0010)).get().queue;
        assert_eq!(q.state(), EndpointState::Idle);
        assert_eq!(q.tcbs(), TcbQueue::default());
        let tcbs = TcbQueue {
            head: 0x8000_0400,
            tail: 0x8000_0800,
        };
        q.set(tcbs, EndpointState::Recv);
        assert_eq!((q.tcbs(), q.state()), (tcbs, EndpointState::Recv));
        q.store(TcbQueue::default(), EndpointState::Send);
        assert_eq!(q.state(), EndpointState::Idle, "empty: Idle");
    }
}
