//! Endpoint IPC (ch. 4 Message Passing): Send, Call and Recv rendezvous,
//! seL4's `sendIPC` and `receiveIPC` (cancelling is `cancel`'s).
//!
//! An endpoint holds one FIFO of threads that all wait for the same thing:
//! to send (state Send) or to receive (state Recv). A sender that finds a
//! receiver waiting transfers at once, and vice versa; otherwise it queues
//! (or, non-blocking, gives up). A Call leaves the caller BlockedOnReply
//! with a reply capability in the receiver's caller slot (classic
//! configuration), provided the endpoint cap has Grant or GrantReply;
//! without either the caller can never be replied to and becomes Inactive,
//! as in seL4.

use super::message::MessageRegs;
use super::notification::complete_signal;
use super::reply::setup_caller_cap;
use super::transfer::do_ipc_transfer;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::tcb::{BlockingIpc, TcbRef, ThreadState};
use crate::sched::{possible_switch_to, set_thread_state};
use crate::types::PAddr;

/// How a send goes (from the endpoint cap used).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendArgs {
    pub blocking: bool,
    pub is_call: bool,
    pub badge: u64,
    pub can_grant: bool,
    pub can_grant_reply: bool,
    /// The sender's message registers, if already looked up (an
    /// invocation's are; a faulted sender's MRs are not sent).
    pub regs: Option<MessageRegs>,
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
            do_ipc_transfer(thread, a.regs, Some(ep_pa), a.badge, a.can_grant, dest);
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
                super::message::nb_recv_failed(thread);
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
                None,
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
