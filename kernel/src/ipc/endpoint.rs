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
//! as in seL4. The MCS kernel links the caller to the receiver's reply
//! object instead, and may lend the caller's SchedContext to a passive
//! receiver (`call_stack`); the two differ only in how a rendezvous ends
//! (`complete_send`, `complete_receive`, one of each per configuration).

#[cfg(feature = "mcs")]
use super::call_stack;
use super::message::MessageRegs;
use super::notification::complete_signal;
#[cfg(not(feature = "mcs"))]
use super::reply::setup_caller_cap;
use super::transfer::do_ipc_transfer;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
#[cfg(feature = "mcs")]
use crate::object::reply::ReplyRef;
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
    /// MCS: the sender may lend its SchedContext to a passive receiver
    /// (Call, a fault, and the send phase of ReplyRecv, NBSendRecv and
    /// NBSendWait; not Send or NBSend).
    #[cfg(feature = "mcs")]
    pub can_donate: bool,
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
            complete_send(thread, dest, &a);
        }
    }
}

/// The end of a send that found `dest` waiting (classic): `dest` runs, and
/// a Call leaves a reply cap in its caller slot.
#[cfg(not(feature = "mcs"))]
#[inline(always)]
fn complete_send(thread: TcbRef, dest: TcbRef, a: &SendArgs) {
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

/// The end of a send that found `dest` waiting (MCS, seL4's `sendIPC`):
/// `dest` lets go of its reply object, to which a Call (or a fault)
/// links the sender, lending its SchedContext to a passive `dest`; a
/// donating send lends it without a reply. Then `dest` runs.
#[cfg(feature = "mcs")]
fn complete_send(thread: TcbRef, dest: TcbRef, a: &SendArgs) {
    let reply = dest.get().reply_object();
    if let Some(r) = reply {
        call_stack::unlink(r, dest);
    }
    if a.is_call || thread.get().has_fault() {
        match reply {
            Some(r) if a.can_grant || a.can_grant_reply => {
                call_stack::push(thread, dest, r, a.can_donate)
            }
            _ => set_thread_state(thread, ThreadState::Inactive),
        }
    } else if a.can_donate && dest.get().sched_context().is_none() {
        if let Some(sc) = thread.get().sched_context() {
            crate::sched::mcs::donate(sc, dest);
        }
    }
    set_thread_state(dest, ThreadState::Running);
    possible_switch_to(dest);
}

/// seL4's `receiveIPC`: `thread` receives on `ep` through a cap with
/// Grant `can_grant` (MCS: with the reply object `reply`, if any). A
/// pending signal on its bound notification is taken first.
pub fn receive_ipc(
    thread: TcbRef,
    ep_pa: PAddr,
    can_grant: bool,
    blocking: bool,
    #[cfg(feature = "mcs")] reply: Option<ReplyRef>,
) {
    #[cfg(feature = "mcs")]
    if let Some(r) = reply {
        call_stack::reclaim(r, thread);
    }
    let bound = thread.get().bound_notification();
    if bound != 0
        && NotificationRef::new(PAddr(bound)).get().queue.state() == NotificationState::Active
    {
        complete_signal(PAddr(bound), thread);
        return;
    }
    // MCS: a thread about to wait passively gives back the SchedContext
    // its notification lent it.
    #[cfg(feature = "mcs")]
    if bound != 0 && blocking {
        super::notification::maybe_return_sched_context(PAddr(bound), thread);
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
                #[cfg(feature = "mcs")]
                if let Some(r) = reply {
                    thread.get().set_reply_object(Some(r));
                    r.set_tcb(thread.paddr().0);
                } else {
                    thread.get().set_reply_object(None);
                }
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
            // A preempted CancelBadgedSends that stopped at it starts
            // again from the head (`cancel::cancel_badged_sends`).
            s.release_badged_cancel_mark();
            let ipc = s.blocking_ipc();
            do_ipc_transfer(
                sender,
                None,
                Some(ep_pa),
                s.blocking_badge(),
                ipc.can_grant,
                thread,
            );
            #[cfg(not(feature = "mcs"))]
            complete_receive(sender, thread, ipc, can_grant);
            #[cfg(feature = "mcs")]
            complete_receive(sender, thread, ipc, reply);
        }
    }
}

/// The end of a receive that found `sender` waiting (classic): a Call
/// leaves a reply cap in the receiver's caller slot, a send runs on.
#[cfg(not(feature = "mcs"))]
#[inline(always)]
fn complete_receive(sender: TcbRef, thread: TcbRef, ipc: BlockingIpc, can_grant: bool) {
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

/// The end of a receive that found `sender` waiting (MCS, seL4's
/// `receiveIPC`): a Call (or a fault) is linked to the receiver's reply
/// object, lending the sender's SchedContext to a passive receiver;
/// without a reply object (Wait, NBWait) or Grant the caller can never be
/// answered and becomes Inactive. A send runs on.
#[cfg(feature = "mcs")]
fn complete_receive(sender: TcbRef, thread: TcbRef, ipc: BlockingIpc, reply: Option<ReplyRef>) {
    // A sporadic context that waited with its thread starts its released
    // refill now (seL4's `refill_unblock_check`): it may be lent to the
    // receiver below, which then runs on it.
    crate::sched::mcs::unblock_check(sender);
    let fault = sender.get().fault();
    if ipc.is_call || fault.is_some() {
        match reply {
            Some(r) if ipc.can_grant || ipc.can_grant_reply => {
                // Never lent with a timeout fault: the handler runs on its
                // own time.
                let timeout = matches!(fault, Some(crate::types::Fault::Timeout { .. }));
                let can_donate = sender.get().sched_context().is_some() && !timeout;
                call_stack::push(sender, thread, r, can_donate);
            }
            _ => set_thread_state(sender, ThreadState::Inactive),
        }
    } else {
        set_thread_state(sender, ThreadState::Running);
        possible_switch_to(sender);
    }
}
