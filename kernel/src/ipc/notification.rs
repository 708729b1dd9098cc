//! Notifications (ch. 5 Notifications): Signal, Wait/Poll, binding to a
//! TCB; seL4's `sendSignal`, `receiveSignal`, `completeSignal` and binding
//! (cancelling and unbinding are `cancel`'s).
//!
//! A notification is a word of badge bits plus a queue of waiters. A
//! signal with nobody waiting ORs the badge into the word (Active); a
//! signal with a waiter wakes the first one with the badge. A TCB bound to
//! the notification also receives its signals while it waits in an
//! endpoint Recv (the Recv returns with the badge).
//!
//! MCS: a notification bound to a SchedContext lends it to a passive
//! thread (one with no SchedContext) that takes a signal from it, and the
//! thread gives it back when it next waits (on the notification, or on an
//! endpoint as the notification's bound thread).

use crate::arch::BADGE_REGISTER;
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::queue::TcbQueue;
use crate::object::tcb::{tcb_at, BlockingIpc, TcbRef, ThreadState};
#[cfg(not(feature = "mcs"))]
use crate::sched::possible_switch_to;
use crate::sched::set_thread_state;
use crate::types::PAddr;

fn set_active(n: NotificationRef, badge: u64) {
    let o = n.get();
    o.queue.set(TcbQueue::default(), NotificationState::Active);
    o.set_msg_identifier(badge);
}

// MCS: out of line, a leaf with the scheduler's wake-up inlined
// (`sched::signal_switch_to`), tail-called by `send_signal`.
#[cfg_attr(feature = "mcs", inline(never))]
fn wake(t: TcbRef, badge: u64, #[cfg(feature = "mcs")] n: NotificationRef) {
    set_thread_state(t, ThreadState::Running);
    t.get().set_reg(BADGE_REGISTER, badge);
    #[cfg(feature = "mcs")]
    {
        maybe_donate_sched_context(t, n);
        crate::sched::signal_switch_to(t, n.get().sched_context());
    }
    #[cfg(not(feature = "mcs"))]
    possible_switch_to(t);
}

/// MCS (seL4's `maybeDonateSchedContext`): a passive `t` woken by `n`
/// runs on the SchedContext bound to `n`, if no thread has it.
#[cfg(feature = "mcs")]
fn maybe_donate_sched_context(t: TcbRef, n: NotificationRef) {
    if t.get().sched_context().is_some() {
        return;
    }
    if let Some(sc) = n.get().sched_context() {
        if crate::object::sched_context::tcb_of(sc).is_none() {
            crate::sched::mcs::donate(sc, t);
        }
    }
}

/// MCS (seL4's `maybeReturnSchedContext`): `t`, about to wait, gives back
/// the SchedContext that the notification at `ntfn` lent it.
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn maybe_return_sched_context(ntfn: PAddr, t: TcbRef) {
    let Some(sc) = NotificationRef::new(ntfn).get().sched_context() else {
        return;
    };
    if t.get().sched_context() == Some(sc) {
        t.get().set_sched_context(None);
        crate::object::sched_context::set_tcb_of(sc, None);
        if crate::state::kernel().is_current(t) {
            crate::sched::reschedule_required();
        }
    }
}

/// seL4's `sendSignal`: signals `ntfn` with `badge`.
pub fn send_signal(ntfn: PAddr, badge: u64) {
    let n = NotificationRef::new(ntfn);
    match n.get().queue.state() {
        NotificationState::Idle => {
            match tcb_at(n.get().bound_tcb()) {
                // A bound thread waiting in an endpoint Recv takes the
                // signal; one in any other state (even BlockedOnReply in a
                // Call) does not, and the signal stays pending.
                Some(t) if t.get().state() == ThreadState::BlockedOnReceive => {
                    super::cancel::cancel_ipc(t);
                    wake(
                        t,
                        badge,
                        #[cfg(feature = "mcs")]
                        n,
                    );
                }
                _ => set_active(n, badge),
            }
        }
        NotificationState::Waiting => {
            let mut q = n.get().queue.tcbs();
            match q.pop() {
                Some(dest) => {
                    n.get().queue.store(q, NotificationState::Waiting);
                    wake(
                        dest,
                        badge,
                        #[cfg(feature = "mcs")]
                        n,
                    );
                }
                None => set_active(n, badge),
            }
        }
        NotificationState::Active => {
            let o = n.get();
            o.set_msg_identifier(o.msg_identifier() | badge);
        }
    }
}

/// seL4's `receiveSignal`: `thread` waits on (`blocking`) or polls `ntfn`.
pub fn receive_signal(thread: TcbRef, ntfn: PAddr, blocking: bool) {
    let n = NotificationRef::new(ntfn).get();
    match n.queue.state() {
        NotificationState::Idle | NotificationState::Waiting => {
            if blocking {
                thread.get().set_blocking(ntfn.0, 0, BlockingIpc::default());
                set_thread_state(thread, ThreadState::BlockedOnNotification);
                let mut q = n.queue.tcbs();
                q.append(thread);
                n.queue.store(q, NotificationState::Waiting);
                #[cfg(feature = "mcs")]
                maybe_return_sched_context(ntfn, thread);
            } else {
                super::message::nb_recv_failed(thread);
            }
        }
        NotificationState::Active => complete_signal(ntfn, thread),
    }
}

/// seL4's `completeSignal`: `tcb` takes the pending signal of its bound
/// notification (an endpoint Recv that found it Active).
pub fn complete_signal(ntfn: PAddr, tcb: TcbRef) {
    let o = NotificationRef::new(ntfn).get();
    if o.queue.state() == NotificationState::Active {
        tcb.get().set_reg(BADGE_REGISTER, o.msg_identifier());
        o.queue.set(TcbQueue::default(), NotificationState::Idle);
        #[cfg(feature = "mcs")]
        maybe_donate_sched_context(tcb, NotificationRef::new(ntfn));
    }
}

/// Binds `ntfn` and `tcb` to each other (the caller has checked that
/// neither is bound).
pub fn bind_notification(tcb: TcbRef, ntfn: PAddr) {
    NotificationRef::new(ntfn)
        .get()
        .set_bound_tcb(tcb.paddr().0);
    tcb.get().set_bound_notification(ntfn.0);
}
