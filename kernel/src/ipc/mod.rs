//! Inter-process communication (ch. 4 Message Passing, ch. 5
//! Notifications, ch. 6 *Faults*), classic configuration.
//!
//! | module | owns |
//! |---|---|
//! | `endpoint` | Send/Call/Recv rendezvous, cancelling queued IPC |
//! | `notification` | Signal, Wait, Poll, binding a notification to a TCB |
//! | `transfer` | what a message carries: MRs, caps, badges, fault messages |
//! | `reply` | reply caps of Calls, replies, fault replies |
//! | `fault` | sending a fault to the thread's fault handler |
//! | `message` | a thread's message registers, the kernel's replies |
//!
//! This module also has the thread-state operations that the TCB
//! invocations and deletion share with IPC: [`cancel_ipc`], [`suspend`],
//! [`restart`]. Callers are `api` (system calls and invocations),
//! `object::tcb` and `cap::finalise`.

pub mod endpoint;
pub mod fault;
pub mod message;
pub mod notification;
pub mod reply;
pub mod transfer;

#[cfg(test)]
mod tests;

use crate::cap::cte::{insert_original, SlotRef};
use crate::cap::Cap;
use crate::object::queue::{QueueState, TcbQueue, WaitQueue};
use crate::object::tcb::{Tcb, TcbRef, ThreadState, TCB_REPLY};
use crate::sched::{dequeue, enqueue, possible_switch_to, reschedule_required, set_thread_state};
use crate::types::PAddr;

/// seL4's `cancelIPC`: whatever `t` is blocked in is abandoned. A thread
/// waiting to send or receive leaves the queue and becomes Inactive; one
/// waiting for a reply loses the reply cap (and any fault it was for).
pub fn cancel_ipc(t: TcbRef) {
    let tcb = t.get();
    match tcb.state() {
        ThreadState::BlockedOnSend | ThreadState::BlockedOnReceive => {
            endpoint::dequeue(PAddr(tcb.blocking_object()), t);
            set_thread_state(t, ThreadState::Inactive);
        }
        ThreadState::BlockedOnNotification => {
            notification::cancel_signal(t, PAddr(tcb.blocking_object()));
        }
        ThreadState::BlockedOnReply => {
            t.get().set_fault(None);
            if let Some(slot) = reply::caller_cap_of(t) {
                crate::cap::delete::cte_delete_one(slot);
            }
        }
        ThreadState::Inactive | ThreadState::Running | ThreadState::Restart => {}
    }
}

/// The loop of seL4's `cancelAllIPC` and `cancelAllSignals`: the object's
/// last cap is gone, so its queue empties (state Idle) and every thread
/// that waited in it restarts its system call (and will find the cap
/// missing).
fn restart_all<S: QueueState>(queue: &WaitQueue<S>) {
    let q = queue.tcbs();
    queue.set(TcbQueue::default(), S::IDLE);
    for t in q.iter() {
        t.get().set_ep_links(0, 0);
        set_thread_state(t, ThreadState::Restart);
        enqueue(t);
    }
    reschedule_required();
}

/// seL4's `suspend`: `t` stops (Inactive), abandoning any IPC. A running
/// thread's restart point moves past its system call, so that a later
/// Resume does not repeat it.
///
/// Out of line: it is rare (TCB_Suspend, TCB finalisation), and inlined it
/// enlarges `finalise_cap`'s frame, which every revoke and delete pays.
#[inline(never)]
pub fn suspend(t: TcbRef) {
    cancel_ipc(t);
    let tcb = t.get();
    if tcb.state() == ThreadState::Running {
        tcb.set_fault_ip(tcb.next_ip());
    }
    dequeue(t);
    set_thread_state(t, ThreadState::Inactive);
}

/// Whether `t` is stopped: Inactive or blocked in IPC (seL4's
/// `isStopped`).
pub fn is_stopped(t: TcbRef) -> bool {
    !matches!(t.get().state(), ThreadState::Running | ThreadState::Restart)
}

/// seL4's `restart` (Resume): a stopped thread abandons its IPC and runs
/// again from its restart point.
pub fn restart(t: TcbRef) {
    if is_stopped(t) {
        cancel_ipc(t);
        setup_reply_master(t);
        set_thread_state(t, ThreadState::Restart);
        enqueue(t);
        possible_switch_to(t);
    }
}

/// seL4's `setupReplyMaster`: gives `t` its master reply cap (the root of
/// the reply caps of its Calls) if its reply slot is empty.
pub fn setup_reply_master(t: TcbRef) {
    let slot: SlotRef = Tcb::slot(t, TCB_REPLY);
    if slot.get().cap().is_null() {
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
