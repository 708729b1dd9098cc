//! The MCS fastpath (seL4's `fastpath_call` and `fastpath_reply_recv`
//! under `CONFIG_KERNEL_MCS`): a short Call that lends the caller's
//! SchedContext to a passive server waiting with a reply object, and the
//! server's ReplyRecv that gives it back, done directly.
//!
//! seL4's MCS fastpath takes only the donating case: a server with a
//! SchedContext of its own (the Call lends nothing, and the scheduler
//! must charge one context and start the other) and a caller that has one
//! again take the general path. On top of the classic guards
//! (`super`'s: a short message, no fault, an endpoint cap with the rights,
//! a thread to switch straight to in a recorded address space):
//!
//! * Call: the receiver has no SchedContext and is blocked with a reply
//!   object; the caller runs on a SchedContext.
//! * ReplyRecv: the cap in the reply register (a6) is a reply object,
//!   which heads the call stack of the caller's SchedContext (so the
//!   SchedContext goes back along it) and links a caller waiting for its
//!   reply without a fault and without a SchedContext of its own.
//!
//! Time is not read: the SchedContext that runs is the same before and
//! after (it moves with the message), so there is nothing to charge and
//! no timer to program (seL4's fastpath does not update the timestamp
//! either; the next kernel entry through the general path charges the
//! time spent here to the same context). The outcome is that of the
//! general path: `ipc::endpoint::complete_send` with `call_stack::push`,
//! and `call_stack::do_reply_transfer` (pop) followed by
//! `receive_ipc` blocking with the reply object, then the scheduler
//! switching to the thread. `ipc::tests::props_mcs` checks this against
//! the general path over random IPC; `ipc::tests::fastpath_mcs` each
//! guard.

use super::{call_guards, deliver_and_switch, reply_recv_guards, switch_target, CallGuards};
use crate::arch::{Resume, REPLY_REGISTER};
use crate::cap::lookup::FastLookup;
use crate::object::endpoint::EndpointState;
use crate::object::reply::{Next, ReplyRef};
use crate::object::sched_context::{reply as sc_reply, set_reply, set_tcb_of};
use crate::object::tcb::{tcb_at, BlockingIpc, TcbRef, ThreadState};
use cairn_abi::message::MessageInfo;

/// seL4's MCS `fastpath_call`: the thread to resume, or `None` for the
/// general path.
#[inline]
pub(super) fn call(
    cur_ref: TcbRef,
    cspace: impl FastLookup,
    cptr: u64,
    info: MessageInfo,
) -> Option<Resume> {
    let cur = cur_ref.get();
    let CallGuards {
        ep,
        mut q,
        badge,
        dest: dest_ref,
    } = call_guards(cspace, cptr)?;
    let dest = dest_ref.get();
    if dest.sched_context().is_some() {
        return None;
    }
    let reply = dest.reply_object()?;
    let sc = cur.sched_context()?;
    let switch = switch_target(cur, dest_ref)?;
    // Committed: the receiver lets go of its reply object, the caller
    // waits on it, and the reply goes on top of the SchedContext's call
    // stack as the SchedContext moves to the receiver (`reply_push`).
    q.pop();
    ep.store(q, EndpointState::Recv);
    dest.set_reply_object(None);
    reply.set_tcb(cur_ref.paddr().0);
    cur.set_reply_object(Some(reply));
    cur.set_state(ThreadState::BlockedOnReply);
    let below = sc_reply(sc);
    if let Some(b) = below {
        b.set_next(Next::Reply(reply));
    }
    reply.set_prev(below);
    reply.set_next(Next::Head(sc));
    set_reply(sc, Some(reply));
    cur.set_sched_context(None);
    set_tcb_of(sc, Some(dest_ref));
    dest.set_sched_context(Some(sc));
    Some(deliver_and_switch(cur, dest_ref, switch, badge, info))
}

/// seL4's MCS `fastpath_reply_recv`: the thread to resume, or `None` for
/// the general path.
#[inline]
pub(super) fn reply_recv(
    cur_ref: TcbRef,
    cspace: impl FastLookup,
    cptr: u64,
    info: MessageInfo,
) -> Option<Resume> {
    let cur = cur_ref.get();
    // The message was checked first (`try_ipc`); the reply cap before
    // the endpoint's (the second lookup keeps fewer of the first one's
    // values live).
    let reply = ReplyRef::new(cspace.lookup(cur.reg(REPLY_REGISTER))?.reply_object()?);
    let (ptr, ep, rights) = reply_recv_guards(cspace, cur, cptr)?;
    // The reply heads the stack of the SchedContext the caller lent.
    let Next::Head(sc) = reply.next() else {
        return None;
    };
    if cur.sched_context() != Some(sc) {
        return None;
    }
    // The switch first of the caller's guards: its scan of the ready
    // queues (a loop) then runs with the fewest values live, which kept
    // a callee-saved register off the prologue.
    let caller_ref = tcb_at(reply.tcb())?;
    let switch = switch_target(cur, caller_ref)?;
    let caller = caller_ref.get();
    if caller.state() != ThreadState::BlockedOnReply
        || caller.has_fault()
        || caller.sched_context().is_some()
    {
        return None;
    }
    // Committed: the reply is popped off the stack and the SchedContext
    // goes back to the caller (`reply_pop`); the server then waits on the
    // endpoint with the same reply object (`receive_ipc`).
    let below = reply.prev();
    set_reply(sc, below);
    if let Some(b) = below {
        b.set_next(Next::Head(sc));
    }
    reply.set_prev(None);
    reply.set_next(Next::None);
    cur.set_sched_context(None);
    set_tcb_of(sc, Some(caller_ref));
    caller.set_sched_context(Some(sc));
    caller.set_reply_object(None);
    let ipc = BlockingIpc {
        can_grant: rights.grant(),
        ..BlockingIpc::default()
    };
    cur.set_blocking(ptr.0, 0, ipc);
    cur.set_state(ThreadState::BlockedOnReceive);
    reply.set_tcb(cur_ref.paddr().0);
    cur.set_reply_object(Some(reply));
    let mut q = ep.tcbs();
    q.append_inline(cur_ref);
    ep.set(q, EndpointState::Recv);
    Some(deliver_and_switch(cur, caller_ref, switch, 0, info))
}
