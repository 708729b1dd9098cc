//! MCS replies (ch. 4 Message Passing, *Reply objects*; ch. 6,
//! *Scheduling contexts*, passive servers; ABI ref §13): reply objects
//! linked to callers, and the call stack along which a SchedContext is
//! lent (seL4's `reply_push`, `reply_pop`, `reply_remove`,
//! `reply_remove_tcb`, `reply_unlink` and the MCS `doReplyTransfer`).
//!
//! The links (`object::reply` stores them):
//! * A receiver blocked on Recv with a reply object and that object name
//!   each other (`Tcb::reply_object`, the reply's thread).
//! * A Call received with a reply object ([`push`]) moves the link to the
//!   caller, which waits BlockedOnReply on it. If the caller has a
//!   SchedContext and the receiver has none (a passive server), the
//!   SchedContext is lent to the receiver and the reply is pushed on its
//!   call stack: the SchedContext names the newest reply (`scReply`), each
//!   reply the one below (`prev`) and the one above (`next`), the newest
//!   the SchedContext itself (its `next` is the head mark).
//! * Replying through the object (`ipc::mcs_reply::do_reply_transfer`, above
//!   this file's layer: it may raise a timeout fault) pops it: the
//!   SchedContext goes back to the caller (unless the caller got another
//!   meanwhile) and the stack's head moves down one.
//! * Removing a reply or a caller from the middle of a stack ([`remove`],
//!   [`remove_tcb`]: a deleted reply object, a cancelled Call) breaks the
//!   stack there; the SchedContext stays where it is, and the replies
//!   below can no longer take it back.
//!
//! Called by `ipc::endpoint` (the rendezvous), `ipc::mcs_reply`,
//! `ipc::cancel`, `api::recv` and `cap::finalise` (the final reply cap,
//! SchedContext).

use crate::object::reply::{Next, ReplyRef};
use crate::object::sched_context::set_reply;
use crate::object::tcb::{tcb_at, TcbRef, ThreadState};
use crate::sched::mcs::donate;
use crate::sched::set_thread_state;

/// seL4's `reply_unlink`: `reply` and `tcb` (blocked on Recv with it, or
/// waiting on it for a reply) let go of each other; the thread becomes
/// Inactive.
pub fn unlink(reply: ReplyRef, tcb: TcbRef) {
    let_go(reply, tcb);
    set_thread_state(tcb, ThreadState::Inactive);
}

/// [`unlink`] without the thread's state, which the caller sets.
#[inline(always)]
fn let_go(reply: ReplyRef, tcb: TcbRef) {
    reply.set_tcb(0);
    tcb.get().set_reply_object(None);
}

/// seL4's `reply_push`: `caller`'s Call was received by `callee` with
/// `reply` (already unlinked from the callee): the caller waits on it for
/// the reply; a passive callee runs on the caller's SchedContext if
/// `can_donate`.
pub fn push(caller: TcbRef, callee: TcbRef, reply: ReplyRef, can_donate: bool) {
    reply.set_tcb(caller.paddr().0);
    caller.get().set_reply_object(Some(reply));
    set_thread_state(caller, ThreadState::BlockedOnReply);
    let Some(sc) = caller.get().sched_context() else {
        return;
    };
    if can_donate && callee.get().sched_context().is_none() {
        let below = crate::object::sched_context::reply(sc);
        if let Some(b) = below {
            b.set_next(Next::Reply(reply));
        }
        reply.set_prev(below);
        reply.set_next(Next::Head(sc));
        set_reply(sc, Some(reply));
        donate(sc, callee);
    }
}

/// seL4's `reply_pop`: `reply`, the head of its SchedContext's stack,
/// is answered: the head moves down, the SchedContext goes back to `tcb`
/// (the caller waiting on it) unless it has another, and the two unlink.
fn pop(reply: ReplyRef, tcb: TcbRef, sc: crate::types::PAddr) {
    let below = reply.prev();
    set_reply(sc, below);
    if let Some(b) = below {
        b.set_next(Next::Head(sc));
    }
    reply.set_next(Next::None);
    reply.set_prev(None);
    // Unlinked first (it touches neither the context nor the scheduler's
    // action: `tcb` waits on the reply, it is not the running thread), so
    // that `donate`'s rare case is a tail call and the usual pop saves no
    // register.
    let_go(reply, tcb);
    if tcb.get().sched_context().is_none() {
        donate(sc, tcb);
    }
}

/// seL4's `reply_remove`: `reply`, on which `tcb` waits for its reply,
/// leaves the call stack: popped if it is the head, else the stack is
/// broken at it. The thread becomes Inactive.
pub fn remove(reply: ReplyRef, tcb: TcbRef) {
    // First: nothing below reads the state (`donate` asks about the
    // thread that had the context, not `tcb`).
    set_thread_state(tcb, ThreadState::Inactive);
    detach(reply, tcb);
}

/// [`remove`] leaving `tcb`'s state to the caller: the reply
/// (`ipc::mcs_reply::do_reply_transfer`) sets it at once (Running,
/// Restart or Inactive), and seL4's Inactive in between is seen by
/// nothing (`tcb` is not the running thread, and no queue or handler is
/// asked about it meanwhile).
pub fn detach(reply: ReplyRef, tcb: TcbRef) {
    if let Next::Head(sc) = reply.next() {
        return pop(reply, tcb, sc);
    }
    cut_out(reply, tcb);
}

/// seL4's `reply_remove_tcb`: `tcb`, waiting for a reply, abandons it
/// (cancelled IPC): its reply object leaves the call stack, which is
/// broken there (the SchedContext stays with the thread that has it).
pub fn remove_tcb(tcb: TcbRef) {
    let Some(reply) = tcb.get().reply_object() else {
        set_thread_state(tcb, ThreadState::Inactive);
        return;
    };
    if let Next::Head(sc) = reply.next() {
        set_reply(sc, None);
    }
    cut_out(reply, tcb);
    set_thread_state(tcb, ThreadState::Inactive);
}

/// Breaks the call stack at `reply` (the caller has dealt with a
/// SchedContext it heads): the reply above and the one below no longer
/// name it, and it and `tcb` let go of each other (the caller sets the
/// state).
fn cut_out(reply: ReplyRef, tcb: TcbRef) {
    if let Next::Reply(above) = reply.next() {
        above.set_prev(None);
    }
    if let Some(b) = reply.prev() {
        b.set_next(Next::None);
    }
    reply.set_prev(None);
    reply.set_next(Next::None);
    let_go(reply, tcb);
}

/// The receive side of a Recv with `reply`: a reply object still linked
/// to another thread (a receiver blocked with it, or a caller whose reply
/// never came) is taken from it first (seL4's `receiveIPC`: that thread's
/// IPC is cancelled).
pub fn reclaim(reply: ReplyRef, receiver: TcbRef) {
    if let Some(t) = tcb_at(reply.tcb()) {
        if t != receiver {
            super::cancel::cancel_ipc(t);
        }
    }
}

/// The last capability to `reply` is deleted (seL4's `finaliseCap` of a
/// reply cap): the thread it links lets go of it.
pub fn finalise(reply: ReplyRef) {
    let Some(t) = tcb_at(reply.tcb()) else {
        return;
    };
    match t.get().state() {
        ThreadState::BlockedOnReply => remove(reply, t),
        ThreadState::BlockedOnReceive => super::cancel::cancel_ipc(t),
        // A link from no other state is a kernel bug: drop it.
        _ => reply.set_tcb(0),
    }
}

/// The last capability to the SchedContext at `sc` is deleted (seL4's
/// `schedContext_unbindReply`): the reply heading its stack no longer
/// names it.
pub fn unbind_sched_context(sc: crate::types::PAddr) {
    if let Some(r) = crate::object::sched_context::reply(sc) {
        r.set_next(Next::None);
        set_reply(sc, None);
    }
}
