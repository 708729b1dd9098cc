//! MCS: the SchedContext invocations, decoded with seL4's checks in
//! seL4's order (`decodeSchedContextInvocation`) and performed (issue 12,
//! docs/mcs.md). A YieldTo that lets the other thread run first links
//! the caller and the context (`tcbYieldTo`/`scYieldFrom`); the caller's
//! reply is written when it next runs (`super::complete_yield_to`).

use super::bind_tcb;
use super::{bind_notification, notification_at, unbind_notification, SchedContextRef};
use crate::cap::Cap;
use crate::object::invocation::{Invocation, Reply};
use crate::object::notification::NotificationRef;
use crate::object::tcb::mcs::is_blocked;
use crate::object::tcb::TcbRef;
use crate::sched;
use crate::sched::mcs::unbind_tcb;
use crate::types::PAddr;
use crate::types::SyscallError;
use cairn_abi::invocation::label as l;

/// A decoded SchedContext invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedContextOp {
    /// `SchedContext_Consumed`: report and clear the consumed time.
    Consumed(SchedContextRef),
    /// `SchedContext_Unbind`: the bound thread lets go of it.
    Unbind(SchedContextRef),
    /// `SchedContext_Bind` to a thread that has none.
    BindTcb(SchedContextRef, TcbRef),
    /// `SchedContext_UnbindObject` of the (not running) thread bound to it.
    UnbindTcb(SchedContextRef),
    /// `SchedContext_Bind` to a notification: neither is bound.
    BindNotification(SchedContextRef, PAddr),
    /// `SchedContext_UnbindObject` of the notification bound to it.
    UnbindNotification(SchedContextRef),
    /// `SchedContext_YieldTo` the thread bound to it.
    YieldTo(SchedContextRef, TcbRef),
}

/// Decodes an invocation of the SchedContext `sc` (seL4's
/// `decodeSchedContextInvocation`).
pub fn decode(inv: &Invocation, sc: SchedContextRef) -> Result<SchedContextOp, SyscallError> {
    match inv.label {
        l::SCHED_CONTEXT_CONSUMED => Ok(SchedContextOp::Consumed(sc)),
        // "cannot unbind sc of current thread"
        l::SCHED_CONTEXT_UNBIND if sc.tcb() == Some(inv.caller.paddr()) => {
            Err(SyscallError::IllegalOperation)
        }
        l::SCHED_CONTEXT_UNBIND => Ok(SchedContextOp::Unbind(sc)),
        l::SCHED_CONTEXT_BIND => decode_bind(inv, sc),
        l::SCHED_CONTEXT_UNBIND_OBJECT => decode_unbind_object(inv, sc),
        l::SCHED_CONTEXT_YIELD_TO => decode_yield_to(inv, sc),
        _ => Err(SyscallError::IllegalOperation),
    }
}

/// The extra capability, or TruncatedMessage.
fn extra_cap(inv: &Invocation) -> Result<Cap, SyscallError> {
    inv.extra_cap(0)
        .map(|(_, c)| c)
        .ok_or(SyscallError::TruncatedMessage)
}

/// Bind: the context and the thread must both be unbound, and a blocked
/// thread needs a context whose budget is released (it may be woken and
/// must then be able to run).
fn decode_bind(inv: &Invocation, sc: SchedContextRef) -> Result<SchedContextOp, SyscallError> {
    match extra_cap(inv)? {
        Cap::Thread { tcb } => {
            let t = TcbRef::new(tcb);
            if sc.tcb().is_some() || t.get().sched_context().is_some() {
                return Err(SyscallError::IllegalOperation);
            }
            if is_blocked(t.get().state()) && !sc.is_released(crate::sched::mcs::cur_time()) {
                return Err(SyscallError::IllegalOperation);
            }
            Ok(SchedContextOp::BindTcb(sc, t))
        }
        Cap::Notification { ptr, .. } => {
            let n = NotificationRef::new(ptr).get();
            if notification_at(sc.paddr()).is_some() || n.sched_context().is_some() {
                return Err(SyscallError::IllegalOperation);
            }
            Ok(SchedContextOp::BindNotification(sc, ptr))
        }
        _ => Err(SyscallError::InvalidCapability { index: 1 }),
    }
}

/// UnbindObject: the named object must be the one bound, and not the
/// running thread.
fn decode_unbind_object(
    inv: &Invocation,
    sc: SchedContextRef,
) -> Result<SchedContextOp, SyscallError> {
    match extra_cap(inv)? {
        Cap::Thread { tcb } => {
            if sc.tcb() != Some(tcb) || tcb == inv.caller.paddr() {
                return Err(SyscallError::IllegalOperation);
            }
            Ok(SchedContextOp::UnbindTcb(sc))
        }
        Cap::Notification { ptr, .. } => {
            if notification_at(sc.paddr()) != Some(ptr) {
                return Err(SyscallError::IllegalOperation);
            }
            Ok(SchedContextOp::UnbindNotification(sc))
        }
        _ => Err(SyscallError::InvalidCapability { index: 1 }),
    }
}

/// YieldTo: a bound thread, not the caller, of a priority the caller's
/// MCP covers; a caller already yielding to a context cannot yield again
/// (it cannot be running then: its link ends before it runs; seL4 checks
/// it all the same).
fn decode_yield_to(inv: &Invocation, sc: SchedContextRef) -> Result<SchedContextOp, SyscallError> {
    let t = sc
        .tcb()
        .map(TcbRef::new)
        .ok_or(SyscallError::IllegalOperation)?;
    let c = inv.caller.get();
    if t == inv.caller || t.get().priority() > c.mcp() || c.yield_to().is_some() {
        return Err(SyscallError::IllegalOperation);
    }
    Ok(SchedContextOp::YieldTo(sc, t))
}

/// Performs a decoded SchedContext invocation for `caller`.
pub fn perform(caller: TcbRef, op: &SchedContextOp) -> Reply {
    match *op {
        SchedContextOp::Consumed(sc) => Reply::Word(take_consumed(sc)),
        // seL4's invokeSchedContext_Unbind: the thread and the
        // notification (the reply, once MCS IPC links one).
        SchedContextOp::Unbind(sc) => {
            unbind_tcb(sc.paddr());
            unbind_notification(sc.paddr());
            Reply::Empty
        }
        SchedContextOp::UnbindTcb(sc) => {
            unbind_tcb(sc.paddr());
            Reply::Empty
        }
        SchedContextOp::BindNotification(sc, n) => {
            bind_notification(sc.paddr(), n);
            Reply::Empty
        }
        SchedContextOp::UnbindNotification(sc) => {
            unbind_notification(sc.paddr());
            Reply::Empty
        }
        SchedContextOp::BindTcb(sc, t) => {
            bind(sc, t);
            Reply::Empty
        }
        SchedContextOp::YieldTo(sc, t) => yield_to(caller, sc, t),
    }
}

/// The µs consumed since the last read, taken out of the object.
fn take_consumed(sc: SchedContextRef) -> u64 {
    super::take_consumed_us(sc.paddr())
}

/// seL4's `schedContext_bindTCB`: linked both ways; a sporadic,
/// configured context's head starts now if it was released while unused
/// (`refill_unblock_check`); a runnable thread on a configured context
/// joins the ready queue and the scheduler chooses afresh. (A context
/// whose head is not released would go to the release queue, which the
/// MCS scheduler brings.)
pub fn bind(sc: SchedContextRef, t: TcbRef) {
    bind_tcb(sc, t);
    if sc.is_configured() {
        let st = sc.refill_state();
        if st.sporadic {
            sc.unblock_check(crate::sched::mcs::cur_time());
        }
        if t.get().state().is_runnable() {
            sched::rare::enqueue(t);
            sched::rare::reschedule_required();
        }
    }
}

/// seL4's `invokeSchedContext_YieldTo`: a thread yielding to `sc`
/// already is told what it consumed; a runnable thread whose head refill
/// is not ready waits for it on the release queue (`schedContext_resume`).
/// A schedulable thread of lower priority than the caller's is moved to
/// the head of its queue and the caller goes on with the consumed time.
/// Otherwise it and then the caller go to the heads of their queues, the
/// scheduler chooses afresh, and the two are linked: the caller is
/// answered (the consumed time) when it next runs, or when `sc` or its
/// thread is deleted (an empty reply until then). A thread that cannot
/// run answers at once.
fn yield_to(caller: TcbRef, sc: SchedContextRef, t: TcbRef) -> Reply {
    if let Some(y) = super::yield_from(sc.paddr()) {
        super::complete_yield_to(y);
    }
    let runnable = sc.is_configured() && t.get().state().is_runnable();
    if runnable && !sched::mcs::is_schedulable(t) {
        sched::rare::dequeue(t);
        sched::rare::enqueue(t); // to the release queue (`mcs::admit`)
    }
    if runnable && sched::mcs::is_schedulable(t) {
        sched::rare::dequeue(t);
        if t.get().priority() < caller.get().priority() {
            sched::rare::enqueue(t);
        } else {
            super::link_yield_to(caller, sc.paddr());
            sched::rare::enqueue(caller);
            sched::rare::enqueue(t);
            sched::rare::reschedule_required();
            return Reply::Empty;
        }
    }
    Reply::Word(take_consumed(sc))
}
