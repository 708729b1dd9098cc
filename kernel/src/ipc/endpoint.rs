//! Endpoint IPC (ch. 4 Message Passing): Send, Call and Recv rendezvous,
//! seL4's `sendIPC`, `receiveIPC`, `cancelAllIPC` and `cancelBadgedSends`.
//!
//! An endpoint holds one FIFO of threads that all wait for the same thing:
//! to send (state Send) or to receive (state Recv). A sender that finds a
//! receiver waiting transfers at once, and vice versa; otherwise it queues
//! (or, non-blocking, gives up). A Call leaves the caller BlockedOnReply
//! with a reply capability in the receiver's caller slot (classic
//! configuration), provided the endpoint cap has Grant or GrantReply;
//! without either the caller can never be replied to and becomes Inactive,
//! as in seL4.

use super::notification::complete_signal;
use super::reply::setup_caller_cap;
use super::transfer::do_ipc_transfer;
use crate::arch::BADGE_REGISTER;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::tcb::{BlockingIpc, TcbRef, ThreadState};
use crate::sched::{possible_switch_to, reschedule_required, set_thread_state};
use crate::types::PAddr;

/// How a send goes (from the endpoint cap used).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendArgs {
    pub blocking: bool,
    pub is_call: bool,
    pub badge: u64,
    pub can_grant: bool,
    pub can_grant_reply: bool,
}

/// seL4's `sendIPC`: `thread` sends on `ep`.
pub fn send_ipc(thread: TcbRef, ep_pa: PAddr, a: SendArgs) {
    let ep = &EndpointRef::new(ep_pa).get().queue;
    let mut q = ep.tcbs();
    match ep.state() {
        EndpointState::Idle | EndpointState::Send => {
            if a.blocking {
                let ipc = BlockingIpc {
                    can_grant: a.can_grant,
                    can_grant_reply: a.can_grant_reply,
                    is_call: a.is_call,
                };
                thread.get().set_blocking(ep_pa.0, a.badge, ipc);
                set_thread_state(thread, ThreadState::BlockedOnSend);
                q.append(thread);
                ep.store(q, EndpointState::Send);
            }
        }
        EndpointState::Recv => {
            let Some(dest) = q.pop() else {
                ep.store(q, EndpointState::Idle);
                return;
            };
            ep.store(q, EndpointState::Recv);
            do_ipc_transfer(thread, Some(ep_pa), a.badge, a.can_grant, dest);
            let reply_can_grant = dest.get().blocking_ipc().can_grant;
            set_thread_state(dest, ThreadState::Running);
            possible_switch_to(dest);
            if a.is_call {
                if a.can_grant || a.can_grant_reply {
                    setup_caller_cap(thread, dest, reply_can_grant);
                } else {
                    set_thread_state(thread, ThreadState::Inactive);
                }
            }
        }
    }
}

/// seL4's `receiveIPC`: `thread` receives on `ep` through a cap with
/// Grant `can_grant`. A pending signal on its bound notification is taken
/// first.
pub fn receive_ipc(thread: TcbRef, ep_pa: PAddr, can_grant: bool, blocking: bool) {
    let bound = thread.get().bound_notification();
    if bound != 0
        && NotificationRef::new(PAddr(bound)).get().queue.state() == NotificationState::Active
    {
        complete_signal(PAddr(bound), thread);
        return;
    }
    let ep = &EndpointRef::new(ep_pa).get().queue;
    let mut q = ep.tcbs();
    match ep.state() {
        EndpointState::Idle | EndpointState::Recv => {
            if blocking {
                let ipc = BlockingIpc {
                    can_grant,
                    ..BlockingIpc::default()
                };
                thread.get().set_blocking(ep_pa.0, 0, ipc);
                set_thread_state(thread, ThreadState::BlockedOnReceive);
                q.append(thread);
                ep.store(q, EndpointState::Recv);
            } else {
                nb_recv_failed(thread);
            }
        }
        EndpointState::Send => {
            let Some(sender) = q.pop() else {
                ep.store(q, EndpointState::Idle);
                return;
            };
            ep.store(q, EndpointState::Send);
            let s = sender.get();
            let ipc = s.blocking_ipc();
            do_ipc_transfer(
                sender,
                Some(ep_pa),
                s.blocking_badge(),
                ipc.can_grant,
                thread,
            );
            if ipc.is_call {
                if ipc.can_grant || ipc.can_grant_reply {
                    setup_caller_cap(sender, thread, can_grant);
                } else {
                    set_thread_state(sender, ThreadState::Inactive);
                }
            } else {
                set_thread_state(sender, ThreadState::Running);
                possible_switch_to(sender);
            }
        }
    }
}

/// seL4's `doNBRecvFailedTransfer`: a non-blocking receive found nothing;
/// the badge register says 0.
pub fn nb_recv_failed(thread: TcbRef) {
    thread.get().set_reg(BADGE_REGISTER, 0);
}

/// Takes `t`, blocked on the endpoint `ep`, out of its queue (part of
/// seL4's `cancelIPC`).
pub fn dequeue(ep_pa: PAddr, t: TcbRef) {
    let ep = &EndpointRef::new(ep_pa).get().queue;
    let mut q = ep.tcbs();
    q.remove(t);
    ep.store(q, ep.state());
}

/// seL4's `cancelAllIPC`: the endpoint's last cap is gone; every queued
/// thread restarts its system call (and will find the cap missing).
pub fn cancel_all_ipc(ep_pa: PAddr) {
    let ep = &EndpointRef::new(ep_pa).get().queue;
    if ep.state() != EndpointState::Idle {
        super::restart_all(ep);
    }
}

/// seL4's `cancelBadgedSends`: every thread queued to send on `ep` with
/// `badge` restarts (it will find its badged cap revoked). The walk is
/// bounded by the number of threads, so it is not preemptible.
pub fn cancel_badged_sends(ep_pa: PAddr, badge: u64) {
    let ep = &EndpointRef::new(ep_pa).get().queue;
    if ep.state() != EndpointState::Send {
        return;
    }
    let mut q = ep.tcbs();
    for t in q.iter() {
        let tcb = t.get();
        if tcb.state() == ThreadState::BlockedOnSend && tcb.blocking_badge() == badge {
            q.remove(t);
            set_thread_state(t, ThreadState::Restart);
            crate::sched::enqueue(t);
        }
    }
    ep.store(q, EndpointState::Send);
    reschedule_required();
}
