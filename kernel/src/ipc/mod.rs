//! Inter-process communication (ch. 4 Message Passing, ch. 5
//! Notifications, ch. 6 *Faults*), classic configuration.
//!
//! | module | owns |
//! |---|---|
//! | `cancel` | cancelling IPC and suspending: what deletion does to waiting threads |
//! | `endpoint` | Send/Call/Recv rendezvous |
//! | `notification` | Signal, Wait, Poll, binding a notification to a TCB |
//! | `transfer` | what a message carries: MRs, caps, badges, fault messages |
//! | `reply` | reply caps of Calls, replies, fault replies (classic) |
//! | `call_stack` | MCS: reply objects, the call stack, SchedContext donation |
//! | `mcs_reply` | MCS: replying through a reply object (budget checks, timeout faults) |
//! | `fault` | sending a fault to the thread's fault handler |
//! | `message` | a thread's message registers, the kernel's replies |
//!
//! This module also has the thread-state operations that the TCB
//! invocations share with IPC: [`restart`], and (from `cancel`)
//! [`cancel_ipc`] and [`suspend`]. Callers are `api` (system calls and
//! invocations), `object::tcb` and `cap::finalise`.

#[cfg(feature = "mcs")]
pub mod call_stack;
pub mod cancel;
pub mod endpoint;
pub mod fault;
#[cfg(feature = "mcs")]
pub mod mcs_reply;
pub mod message;
pub mod notification;
pub mod reply;
pub mod transfer;

// Both configurations (the classic-only parts are cfg'd inside).
#[cfg(test)]
mod tests;

pub use cancel::{cancel_ipc, suspend};

#[cfg(not(feature = "mcs"))]
use crate::cap::cte::{insert_original, SlotRef};
#[cfg(not(feature = "mcs"))]
use crate::cap::Cap;
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::{Tcb, TCB_REPLY};
use crate::object::tcb::{TcbRef, ThreadState};
use crate::sched::{enqueue, possible_switch_to, set_thread_state};

/// seL4's `restart` (Resume): a stopped thread (seL4's `isStopped`:
/// Inactive or blocked in IPC) abandons its IPC and runs again from its
/// restart point.
pub fn restart(t: TcbRef) {
    if !t.get().state().is_runnable() {
        cancel_ipc(t);
        #[cfg(not(feature = "mcs"))]
        setup_reply_master(t);
        set_thread_state(t, ThreadState::Restart);
        // MCS: a passive thread (no SchedContext) waits for one.
        #[cfg(feature = "mcs")]
        if t.get().sched_context().is_none() {
            return;
        }
        enqueue(t);
        possible_switch_to(t);
    }
}

/// seL4's `setupReplyMaster` (classic; MCS has no master reply cap):
/// gives `t` its master reply cap (the root of the reply caps of its
/// Calls) if its reply slot is empty.
#[cfg(not(feature = "mcs"))]
pub fn setup_reply_master(t: TcbRef) {
    let slot: SlotRef = Tcb::slot(t, TCB_REPLY);
    // Read in place: asked at every Call.
    if slot.get().words().is_null() {
        insert_original(
            slot,
            Cap::Reply {
                tcb: t.paddr(),
                master: true,
                can_grant: true,
            },
        );
    }
}
