//! MCS: the TCB invocations whose MCS form differs from the classic one
//! (issue 12, docs/mcs.md; seL4 16's `decodeSetSpace`,
//! `decodeSetSchedParams`, `decodeSetTimeoutEndpoint` and the two halves
//! of thread control, `invokeTCB_ThreadControlCaps` and
//! `invokeTCB_ThreadControlSched`). MCS keeps the fault and timeout
//! handlers as endpoint caps in two TCB slots (`TCB_FAULT_HANDLER`,
//! `TCB_TIMEOUT_HANDLER`) and binds SchedContexts through SetSchedParams.
//!
//! Orders that matter (seL4 16, MCS):
//! - SetSpace: length ≥ 2 and three extra caps (fault handler, CSpace
//!   root, VSpace root), else TruncatedMessage; then the classic space
//!   checks (cap data in MR0 and MR1); then the fault handler
//!   (InvalidCapability(1)).
//! - SetSchedParams: length ≥ 2 and three extra caps (authority,
//!   SchedContext or null, fault handler); the authority a TCB
//!   (InvalidCapability(1)); MCP, then priority ≤ its MCP (RangeError);
//!   a SchedContext other than the thread's own: the thread has none and
//!   it is unbound (IllegalOperation each); a blocked thread needs a
//!   released budget (IllegalOperation); a null cap for the running
//!   thread is IllegalOperation, any other cap InvalidCapability(2); then
//!   the fault handler (InvalidCapability(3)).
//! - SetTimeoutEndpoint: extra cap 0 (TruncatedMessage), a valid handler
//!   (InvalidCapability(1)); no message words.
//!
//! Handler caps are installed as they are, not derived (as seL4 does):
//! a child of their source slot, if both it and the invoked TCB cap are
//! still there after the old handler's deletion.

use super::control::{
    authority, check_prio, decode_space, HandlerUpdate, HandlerUpdates, NewCap, ScUpdate,
    ThreadControl,
};
use super::{TcbRef, ThreadState, TCB_FAULT_HANDLER, TCB_TIMEOUT_HANDLER};
use crate::cap::{Cap, SlotRef};
use crate::object::invocation::{need, Invocation};
use crate::object::sched_context::SchedContextRef;
use crate::types::SyscallError;

/// seL4's `validFaultHandler`: a null cap (no handler) or an endpoint cap
/// that can Send and Grant or GrantReply (the handler must be able to
/// reply).
pub fn valid_fault_handler(cap: &Cap) -> bool {
    match cap {
        Cap::Null => true,
        Cap::Endpoint { rights, .. } => rights.write() && (rights.grant() || rights.grant_reply()),
        _ => false,
    }
}

/// The update of the handler slot `slot` from extra cap `(src, cap)` if
/// that is a valid handler, else InvalidCapability(`index`).
fn handler(
    slot: usize,
    (src, cap): (SlotRef, Cap),
    index: u64,
) -> Result<HandlerUpdate, SyscallError> {
    if !valid_fault_handler(&cap) {
        return Err(SyscallError::InvalidCapability { index });
    }
    let slot = slot as u8; // 3 or 4
    Ok(match cap.is_null() {
        true => HandlerUpdate::Clear { slot },
        false => HandlerUpdate::Install { slot, src },
    })
}

/// seL4's `isBlocked`: waiting on an endpoint, notification or reply.
pub fn is_blocked(s: ThreadState) -> bool {
    matches!(
        s,
        ThreadState::BlockedOnReceive
            | ThreadState::BlockedOnSend
            | ThreadState::BlockedOnReply
            | ThreadState::BlockedOnNotification
    )
}

fn control(inv: &Invocation, target: TcbRef) -> ThreadControl {
    ThreadControl {
        target,
        slot: inv.slot,
        mcp: None,
        priority: None,
        space: None,
        buffer: None,
        mcs: HandlerUpdates::default(),
    }
}

/// `TCB_SetSpace` (MCS): fault handler cap, CSpace root, VSpace root.
pub fn decode_set_space(inv: &Invocation, target: TcbRef) -> Result<ThreadControl, SyscallError> {
    need(inv.length >= 2)?;
    let (fh, croot, vroot) = (inv.need_extra(0)?, inv.need_extra(1)?, inv.need_extra(2)?);
    let space = decode_space(inv, target, croot, vroot)?;
    let fh = handler(TCB_FAULT_HANDLER, fh, 1)?;
    let mut tc = control(inv, target);
    tc.space = Some(space);
    tc.mcs.handler = fh;
    Ok(tc)
}

/// `TCB_SetTimeoutEndpoint`: the timeout handler cap.
pub fn decode_set_timeout_endpoint(
    inv: &Invocation,
    target: TcbRef,
) -> Result<ThreadControl, SyscallError> {
    let th = handler(TCB_TIMEOUT_HANDLER, inv.need_extra(0)?, 1)?;
    let mut tc = control(inv, target);
    tc.mcs.handler = th;
    Ok(tc)
}

/// `TCB_SetSchedParams` (MCS): MCP and priority, a SchedContext to bind
/// (or a null cap to unbind) and the fault handler.
pub fn decode_set_sched_params(
    inv: &Invocation,
    target: TcbRef,
) -> Result<ThreadControl, SyscallError> {
    need(inv.length >= 2)?;
    let (auth, sc, fh) = (inv.need_extra(0)?, inv.need_extra(1)?, inv.need_extra(2)?);
    let (mcp, prio) = (inv.arg(0), inv.arg(1));
    let auth = authority(auth.1)?;
    check_prio(mcp, auth)?;
    check_prio(prio, auth)?;
    let t = target.get();
    let sc = match sc.1 {
        Cap::SchedContext { ptr, size_bits } => {
            let sc = SchedContextRef::new(ptr, size_bits);
            if t.sched_context() != Some(ptr) && (t.sched_context().is_some() || sc.tcb().is_some())
            {
                return Err(SyscallError::IllegalOperation);
            }
            if is_blocked(t.state()) && !sc.is_released(crate::sched::mcs::cur_time()) {
                return Err(SyscallError::IllegalOperation);
            }
            Some((ptr, size_bits))
        }
        Cap::Null if target == inv.caller => return Err(SyscallError::IllegalOperation),
        Cap::Null => None,
        _ => return Err(SyscallError::InvalidCapability { index: 2 }),
    };
    let fh = handler(TCB_FAULT_HANDLER, fh, 3)?;
    let mut tc = control(inv, target);
    tc.mcp = Some(mcp);
    tc.priority = Some(prio);
    tc.mcs.handler = fh;
    if t.sched_context() != sc.map(|(ptr, _)| ptr) {
        tc.mcs.sched_context = match sc {
            Some((ptr, size_bits)) => ScUpdate::Bind { ptr, size_bits },
            None => ScUpdate::Unbind,
        };
    }
    Ok(tc)
}

/// The handler part of an MCS thread control, first (seL4's
/// `installTCBCap`): the TCB slot and the new cap as its source slot
/// holds it (`None`: empty the slot).
pub fn handler_cap(update: HandlerUpdate) -> Option<(usize, Option<NewCap>)> {
    match update {
        HandlerUpdate::Keep => None,
        HandlerUpdate::Clear { slot } => Some((slot as usize, None)),
        HandlerUpdate::Install { slot, src } => {
            let cap = src.get().cap();
            Some((slot as usize, Some(NewCap { cap, src })))
        }
    }
}

/// The SchedContext part of an MCS thread control, last (seL4's
/// `invokeTCB_ThreadControlSched`): bind as `SchedContext_Bind` does, or
/// unbind the thread's own.
pub fn perform_sched_context(target: TcbRef, update: ScUpdate) {
    match update {
        ScUpdate::Keep => {}
        ScUpdate::Bind { ptr, size_bits } => {
            crate::object::sched_context::bind(SchedContextRef::new(ptr, size_bits), target)
        }
        ScUpdate::Unbind => {
            if let Some(sc) = target.get().sched_context() {
                crate::sched::mcs::unbind_tcb(sc);
            }
        }
    }
}
