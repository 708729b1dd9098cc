//! Cancelling IPC: what deleting an object or stopping a thread does to
//! the threads blocked on it (seL4's `cancelIPC`, `cancelAllIPC`,
//! `cancelBadgedSends`, `cancelSignal`, `cancelAllSignals`,
//! `unbindNotification`, `unbindMaybeNotification` and `suspend`).
//!
//! This file is one third of the one import cycle seL4's semantics force
//! on the kernel: deleting a capability (`cap::delete`) finalises its
//! object (`cap::finalise`), which cancels the IPC of the threads queued on
//! it or suspends the thread; cancelling a Call that waits for its reply
//! deletes the reply capability, which is deleting a capability again. So
//! everything here may be called from a delete, and calls back into
//! `cap::delete` only through [`cancel_ipc`] (seL4's `cteDeleteOne` of the
//! reply capability). The rendezvous themselves
//! (`endpoint`, `notification`, `reply`) stay outside the cycle.
//!
//! Callers: `cap::finalise`, `ipc` (restart, signals to a bound thread),
//! the TCB invocations (Suspend, unbinding).

#[cfg(not(feature = "mcs"))]
use crate::cap::delete::cte_delete_one;
#[cfg(not(feature = "mcs"))]
use crate::cap::{Cap, SlotRef};
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::queue::{RawWaitQueue, TcbQueue};
use crate::object::tcb::{tcb_at, TcbRef, ThreadState};
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::{Tcb, TCB_REPLY};
use crate::preempt::preemption_point;
use crate::sched::{enqueue, reschedule_required, set_thread_state};
use crate::types::{PAddr, Preempted};

/// seL4's `cancelIPC`: whatever `t` is blocked in is abandoned. A thread
/// waiting to send or receive leaves the queue and becomes Inactive; one
/// waiting for a reply loses the reply cap (and any fault it was for).
#[cfg(not(feature = "mcs"))]
pub fn cancel_ipc(t: TcbRef) {
    let tcb = t.get();
    match tcb.state() {
        ThreadState::BlockedOnSend | ThreadState::BlockedOnReceive => {
            dequeue_from_endpoint(PAddr(tcb.blocking_object()), t);
            set_thread_state(t, ThreadState::Inactive);
        }
        ThreadState::BlockedOnNotification => {
            cancel_signal(t, PAddr(tcb.blocking_object()));
        }
        ThreadState::BlockedOnReply => {
            t.get().set_fault(None);
            if let Some(slot) = caller_cap_of(t) {
                cte_delete_one(slot);
            }
        }
        ThreadState::Inactive | ThreadState::Running | ThreadState::Restart => {}
    }
}

/// seL4's MCS `cancelIPC`: as the classic one, but any fault is
/// forgotten whatever the state, a receiver lets go of its reply object,
/// and a caller waiting for its reply leaves the call stack
/// (`call_stack::remove_tcb`; no capability is deleted).
#[cfg(feature = "mcs")]
pub fn cancel_ipc(t: TcbRef) {
    let tcb = t.get();
    tcb.set_fault(None);
    match tcb.state() {
        ThreadState::BlockedOnSend | ThreadState::BlockedOnReceive => {
            dequeue_from_endpoint(PAddr(tcb.blocking_object()), t);
            unlink_receiver_reply(t);
            set_thread_state(t, ThreadState::Inactive);
        }
        ThreadState::BlockedOnNotification => {
            cancel_signal(t, PAddr(tcb.blocking_object()));
        }
        ThreadState::BlockedOnReply => crate::ipc::call_stack::remove_tcb(t),
        ThreadState::Inactive | ThreadState::Running | ThreadState::Restart => {}
    }
}

/// MCS: a thread leaving a Recv lets go of its reply object, if any.
#[cfg(feature = "mcs")]
fn unlink_receiver_reply(t: TcbRef) {
    if t.get().state() == ThreadState::BlockedOnReceive {
        if let Some(r) = t.get().reply_object() {
            crate::ipc::call_stack::unlink(r, t);
        }
    }
}

/// A thread taken out of an endpoint or notification queue whose object
/// goes restarts its system call (classic: always, and is queued).
#[cfg(not(feature = "mcs"))]
#[inline(always)]
fn restart_queued(t: TcbRef) {
    set_thread_state(t, ThreadState::Restart);
    enqueue(t);
}

/// MCS (seL4's `removeAndRestart...QueuedThread`,
/// `restart_thread_if_no_fault`): a receiver lets go of its reply object;
/// a thread that was delivering a fault becomes Inactive, any other
/// restarts, and is queued if it has a SchedContext.
#[cfg(feature = "mcs")]
fn restart_queued(t: TcbRef) {
    unlink_receiver_reply(t);
    if t.get().has_fault() {
        set_thread_state(t, ThreadState::Inactive);
    } else {
        set_thread_state(t, ThreadState::Restart);
        if t.get().sched_context().is_some() {
            enqueue(t);
        }
    }
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
    crate::fpu::release(t);
    let tcb = t.get();
    if tcb.state() == ThreadState::Running {
        tcb.set_fault_ip(tcb.next_ip());
    }
    crate::sched::rare::dequeue(t);
    // MCS: a YieldTo it made is forgotten (seL4's
    // `schedContext_cancelYieldTo`).
    #[cfg(feature = "mcs")]
    crate::object::sched_context::cancel_yield_to(t);
    set_thread_state(t, ThreadState::Inactive);
}

/// Takes `t`, blocked on the endpoint `ep`, out of its queue (part of
/// seL4's `cancelIPC`).
fn dequeue_from_endpoint(ep_pa: PAddr, t: TcbRef) {
    let ep = &EndpointRef::new(ep_pa).get().queue;
    let mut q = ep.tcbs();
    q.remove(t);
    ep.store(q, ep.state());
    t.get().release_badged_cancel_mark();
}

/// The reply cap to `t` derived from its master, if any (the master's only
/// possible derivation-tree child).
#[cfg(not(feature = "mcs"))]
fn caller_cap_of(t: TcbRef) -> Option<SlotRef> {
    let next = Tcb::slot(t, TCB_REPLY).get().next()?;
    match next.get().cap() {
        Cap::Reply {
            tcb, master: false, ..
        } if tcb == t.paddr() => Some(next),
        _ => None,
    }
}

/// seL4's `cancelSignal`: `t` stops waiting on `ntfn` and becomes
/// Inactive.
fn cancel_signal(t: TcbRef, ntfn: PAddr) {
    let n = &NotificationRef::new(ntfn).get().queue;
    if n.state() == NotificationState::Waiting {
        let mut q = n.tcbs();
        q.remove(t);
        n.store(q, NotificationState::Waiting);
    }
    set_thread_state(t, ThreadState::Inactive);
}

/// The loop of seL4's `cancelAllIPC` and `cancelAllSignals`, made
/// preemptible: the object's last cap is being deleted, so every thread
/// that waits in its queue restarts its system call (and will find the cap
/// missing). One thread leaves the head of the queue per work unit; the
/// queue, stored back each time, is the progress, so a preempted delete
/// restarts with the threads still queued. Until the last one is gone the
/// object is an ordinary one with a shorter queue: a thread that queues on
/// it meanwhile (through the cap not yet deleted) is restarted in its turn.
///
/// Not generic, and out of line: endpoints and notifications share one
/// copy (each had one inlined into `finalise_step`).
#[inline(never)]
fn restart_all(queue: &RawWaitQueue) -> Result<(), Preempted> {
    reschedule_required();
    let waiting = queue.state_bits();
    loop {
        let mut q = queue.tcbs();
        let Some(t) = q.pop() else {
            queue.set_bits(TcbQueue::default(), 0);
            return Ok(());
        };
        queue.store_bits(q, waiting);
        t.get().release_badged_cancel_mark();
        restart_queued(t);
        preemption_point()?;
    }
}

/// seL4's `cancelAllIPC`: the endpoint's last cap is gone; every queued
/// thread restarts its system call (and will find the cap missing).
/// Preemptible ([`restart_all`]).
pub fn cancel_all_ipc(ep_pa: PAddr) -> Result<(), Preempted> {
    let ep = &EndpointRef::new(ep_pa).get().queue;
    if ep.state() == EndpointState::Idle {
        return Ok(());
    }
    restart_all(ep.raw())
}

/// seL4's `cancelBadgedSends`: every thread queued to send on `ep` with
/// `badge` restarts (it will find its badged cap revoked). `invoker` is
/// the thread whose CNode_CancelBadgedSends this is.
///
/// Preemptible: one queued thread examined per work unit. Threads that
/// match leave the queue; the others stay, in order, and the last one
/// examined is the cursor a restarted call continues after. The cursor is
/// kept in the invoker (with the badge) and marked in the thread it names
/// (`Tcb::set_badged_cancel_mark`), and the link is kept both ways and
/// never stale: only the cursor thread carries the mark (the previous
/// one loses it as the cursor moves on); a thread that leaves its send
/// queue, by any path, or moves in it (MCS), clears the walker's cursor
/// and its mark (`Tcb::release_badged_cancel_mark`); a walk that takes
/// over another walk's cursor thread clears that walk's cursor; a
/// walker's deletion clears its cursor's mark ([`forget_badged_cancel`]).
/// So a cursor always names a live thread still queued where the walk
/// left it (never a deleted TCB whose memory user space may have been
/// given since), and a cursor whose thread left the queue (and perhaps
/// queued again at its end, after threads never examined) is gone: the
/// walk starts again at the head.
///
/// Why a valid cursor can be trusted: every thread before it that has
/// been queued since the walk began was examined and does not match (a
/// queued thread's badge is fixed). In the classic kernel nothing is
/// ever inserted before a queued thread. Under MCS the queue is ordered
/// by priority, so two things can put a thread before the cursor: a new
/// sender of higher priority (it was not queued when the walk began, so
/// it may stay, as if it had sent after the call), and a reorder, when a
/// queued sender's priority changes (`TcbQueue::reorder`). A reorder
/// clears the mark of every thread it moves past and of the thread
/// itself, so if it moves a sender never examined past the cursor, or
/// moves the cursor, the cursor is no longer valid and the walk starts
/// again from the head. So at the end no sender that stayed queued with
/// the badge from the call to its end is left, in either build.
pub fn cancel_badged_sends(invoker: TcbRef, ep_pa: PAddr, badge: u64) -> Result<(), Preempted> {
    let ep = &EndpointRef::new(ep_pa).get().queue;
    if ep.state() != EndpointState::Send {
        forget_badged_cancel(invoker);
        return Ok(());
    }
    reschedule_required();
    let mut next = match badged_cancel_cursor(invoker, ep_pa, badge) {
        Some(cursor) => cursor.get().ep_next(),
        None => {
            forget_badged_cancel(invoker);
            ep.tcbs().head
        }
    };
    while let Some(t) = tcb_at(next) {
        let tcb = t.get();
        next = tcb.ep_next();
        if tcb.blocking_badge() == badge {
            let mut q = ep.tcbs();
            q.remove(t);
            ep.store(q, EndpointState::Send);
            tcb.release_badged_cancel_mark();
            restart_queued(t);
        } else {
            forget_badged_cancel(invoker);
            tcb.release_badged_cancel_mark();
            tcb.set_badged_cancel_mark(invoker.paddr().0);
            invoker.get().set_badged_cancel_cursor(t.paddr().0, badge);
        }
        preemption_point()?;
    }
    forget_badged_cancel(invoker);
    Ok(())
}

/// Ends `invoker`'s CancelBadgedSends cursor, if it has one: the cursor
/// thread (live: see [`cancel_badged_sends`]) loses its mark. Called as
/// a walk ends or starts again, and when the invoker's TCB is deleted
/// (`cap::finalise`), so that no mark outlives its walker.
pub fn forget_badged_cancel(invoker: TcbRef) {
    let (cursor, _) = invoker.get().badged_cancel_cursor();
    if let Some(c) = tcb_at(cursor) {
        if c.get().badged_cancel_mark() == invoker.paddr().0 {
            c.get().set_badged_cancel_mark(0);
        }
    }
    invoker.get().set_badged_cancel_cursor(0, 0);
}

/// The thread after which `invoker`'s preempted CancelBadgedSends of
/// `badge` on `ep_pa` continues, if it has a cursor for this call: a
/// thread still blocked sending on `ep_pa` (the link is never stale, so
/// it is live and where the walk left it; the state, object and mark are
/// checked all the same) from the walk for the same badge.
fn badged_cancel_cursor(invoker: TcbRef, ep_pa: PAddr, badge: u64) -> Option<TcbRef> {
    let (cursor, cursor_badge) = invoker.get().badged_cancel_cursor();
    let t = tcb_at(cursor)?;
    let tcb = t.get();
    let valid = cursor_badge == badge
        && tcb.state() == ThreadState::BlockedOnSend
        && tcb.blocking_object() == ep_pa.0
        && tcb.badged_cancel_mark() == invoker.paddr().0;
    valid.then_some(t)
}

/// seL4's `cancelAllSignals`: the notification's last cap is gone; every
/// waiter restarts its system call. Preemptible ([`restart_all`]).
pub fn cancel_all_signals(ntfn: PAddr) -> Result<(), Preempted> {
    let n = &NotificationRef::new(ntfn).get().queue;
    if n.state() != NotificationState::Waiting {
        return Ok(());
    }
    restart_all(n.raw())
}

/// seL4's `unbindNotification`: `tcb` loses its bound notification, if any.
pub fn unbind_notification(tcb: TcbRef) {
    let n = tcb.get().bound_notification();
    if n != 0 {
        NotificationRef::new(PAddr(n)).get().set_bound_tcb(0);
        tcb.get().set_bound_notification(0);
    }
}

/// seL4's `unbindMaybeNotification`: `ntfn` loses its bound TCB, if any.
pub fn unbind_maybe_notification(ntfn: PAddr) {
    let n = NotificationRef::new(ntfn).get();
    if let Some(t) = tcb_at(n.bound_tcb()) {
        n.set_bound_tcb(0);
        t.get().set_bound_notification(0);
    }
}
