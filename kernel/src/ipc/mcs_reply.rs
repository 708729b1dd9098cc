//! MCS: replying through a reply object (ch. 4 Message Passing, *Reply
//! objects*; seL4's MCS `doReplyTransfer`). The caller waiting on it is
//! popped off its call stack (`call_stack`: the SchedContext it lent comes
//! back), gets the message or its fault handler's verdict
//! (`reply::handle_fault_reply`), and, if it may run, must have a ready
//! budget: otherwise it waits for its release, or, with a timeout
//! handler, takes a timeout fault (not for the reply to a timeout fault).
//!
//! Apart from `call_stack` because it raises timeout faults: the call
//! stack sits on the deletion path, below fault delivery
//! (docs/architecture.md, "Layers"). Called by `api` (the reply phase of
//! ReplyRecv, Send/NBSend/Call on a reply cap).

use super::call_stack;
use super::fault::send_timeout_fault;
use super::reply::take_fault_reply;
use super::transfer::do_ipc_transfer;
use crate::object::reply::ReplyRef;
use crate::object::tcb::{tcb_at, TcbRef, ThreadState};
use crate::sched::{possible_switch_to, set_thread_state};
use crate::types::Fault;

/// seL4's MCS `doReplyTransfer`: `sender` replies through `reply` (with
/// Grant `grant`). Nothing happens if no caller waits on it. The caller
/// gets the message, or, if it faulted, the handler's verdict; it runs
/// again if it has a SchedContext (back from the stack, or its own)
/// whose head refill is ready. If it is not, the caller waits for it on
/// the release queue (`possible_switch_to` postpones it), or, if it has a
/// timeout handler and the reply did not answer a timeout fault, takes a
/// timeout fault instead.
///
/// The message case inline and the fault case out of line (as the
/// classic `do_reply_transfer`): one word read decides, and no decoded
/// fault is held across the transfer.
pub fn do_reply_transfer(sender: TcbRef, reply: ReplyRef, grant: bool) {
    let Some(receiver) = tcb_at(reply.tcb()) else {
        return;
    };
    if receiver.get().state() != ThreadState::BlockedOnReply {
        return;
    }
    call_stack::detach(reply, receiver);
    if receiver.get().has_fault() {
        return fault_reply(receiver, sender);
    }
    do_ipc_transfer(sender, None, None, 0, grant, receiver);
    set_thread_state(receiver, ThreadState::Running);
    resume(receiver, false);
}

/// The fault half of [`do_reply_transfer`] (rare: out of line): a
/// restarted thread resumes as a replied-to one does, except that the
/// reply to a timeout fault sends no other.
#[inline(never)]
fn fault_reply(receiver: TcbRef, sender: TcbRef) {
    if let Some(f) = take_fault_reply(receiver, sender) {
        resume(receiver, matches!(f, Fault::Timeout { .. }));
    }
}

/// The end of [`do_reply_transfer`] for a `receiver` made runnable: it
/// runs if its budget is ready, else takes a timeout fault (not for the
/// reply to one, `was_timeout`) or waits for its release.
#[inline(always)]
fn resume(receiver: TcbRef, was_timeout: bool) {
    // Without a timeout handler (`send_timeout_fault` would send nothing)
    // the budget is not asked here: `possible_switch_to` makes the same
    // unblock check and postpones a thread whose head is not ready.
    if !was_timeout
        && crate::object::tcb::Tcb::has_timeout_handler(receiver)
        && out_of_budget(receiver)
        && send_timeout_fault(receiver)
    {
        return;
    }
    possible_switch_to(receiver);
}

/// Whether `t` has a configured SchedContext whose head refill is not
/// ready after the check a wake-up makes (seL4's `refill_unblock_check`,
/// then not `refill_ready` and `refill_sufficient`).
fn out_of_budget(t: TcbRef) -> bool {
    let Some(sc) = t.get().sched_context() else {
        return false;
    };
    crate::sched::mcs::unblock_check(t);
    crate::object::sched_context::SchedContextRef::at(sc).is_configured()
        && !crate::sched::mcs::is_schedulable(t)
}
