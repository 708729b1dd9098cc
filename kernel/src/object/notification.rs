//! Notification objects (ch. 5 Notifications): the layout only. Retype
//! creates notifications (`object::create`); the signalling code owns their
//! behaviour.
//!
//! A notification is `2^seL4_NotificationBits` = 32 bytes in the classic
//! configuration (ABI ref §5): a queue of waiting threads and its state,
//! the notification word (the OR of the badges signalled), and the TCB
//! bound to it; MCS's 64 bytes add the SchedContext bound to it. Like every kernel object it is made of `Cell`s of integers
//! (see `object::access`).

use crate::object::access::ObjPtr;
use crate::object::queue::{QueueState, WaitQueue};
use core::cell::Cell;

/// The notification's state (seL4's `notification_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum NotificationState {
    /// Nothing pending, no thread waits.
    Idle = 0,
    /// Threads wait in the queue.
    Waiting = 1,
    /// A signal is pending in the message word.
    Active = 2,
}

impl QueueState for NotificationState {
    const IDLE: Self = NotificationState::Idle;
    fn from_bits(bits: u64) -> Self {
        match bits {
            1 => NotificationState::Waiting,
            2 => NotificationState::Active,
            _ => NotificationState::Idle,
        }
    }
    fn bits(self) -> u64 {
        self as u64
    }
}

/// A notification: words 0-1 = the wait queue and the state; word 2 = the
/// message word; word 3 = the bound TCB (0 = none); MCS: word 4 = the
/// bound SchedContext (`ntfnSchedContext`, 0 = none).
#[repr(C)]
pub struct Notification {
    /// The waiting threads and the [`NotificationState`].
    pub queue: WaitQueue<NotificationState>,
    msg: Cell<u64>,
    bound_tcb: Cell<u64>,
    #[cfg(feature = "mcs")]
    sched_context: Cell<u64>,
}

/// A typed pointer to a notification.
pub type NotificationRef = ObjPtr<Notification>;

impl Notification {
    /// The notification word (badges signalled and not yet received).
    pub fn msg_identifier(&self) -> u64 {
        self.msg.get()
    }
    pub fn set_msg_identifier(&self, w: u64) {
        self.msg.set(w)
    }
    /// The bound TCB's address (0: none).
    pub fn bound_tcb(&self) -> u64 {
        self.bound_tcb.get()
    }
    /// Binds a TCB (its address; 0 unbinds).
    pub fn set_bound_tcb(&self, tcb: u64) {
        self.bound_tcb.set(tcb)
    }
}

#[cfg(feature = "mcs")]
impl Notification {
    /// MCS: the SchedContext bound to it (`ntfnSchedContext`).
    pub fn sched_context(&self) -> Option<crate::types::PAddr> {
        let sc = self.sched_context.get();
        (sc != 0).then_some(crate::types::PAddr(sc))
    }
    /// Sets [`Notification::sched_context`];
    /// `object::sched_context` keeps the link both ways.
    pub fn set_sched_context(&self, sc: Option<crate::types::PAddr>) {
        self.sched_context.set(sc.map_or(0, |p| p.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;
    use crate::object::queue::TcbQueue;
    use crate::types::PAddr;

    #[test]
    fn fresh_notification_is_idle_and_fields_round_trip() {
        SimMachine::install(0x8000_0000, 1 << 16);
        let n = NotificationRef::new(PAddr(0x8000_0020)).get();
        assert_eq!(n.queue.state(), NotificationState::Idle);
        assert_eq!((n.msg_identifier(), n.bound_tcb()), (0, 0));
        let tcbs = TcbQueue {
            head: 0x8000_0400,
            tail: 0x8000_0c00,
        };
        n.queue.set(tcbs, NotificationState::Waiting);
        n.set_msg_identifier(0b101);
        n.set_bound_tcb(0x8000_1000);
        assert_eq!(n.queue.state(), NotificationState::Waiting);
        assert_eq!(n.queue.tcbs(), tcbs);
        assert_eq!((n.msg_identifier(), n.bound_tcb()), (0b101, 0x8000_1000));
    }
}
