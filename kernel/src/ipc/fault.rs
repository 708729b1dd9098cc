//! Delivering a fault to the thread's fault handler (ch. 6 Threads and
//! Execution, *Faults*; ABI ref §9; seL4's `handleFault`, `sendFaultIPC`,
//! `handleDoubleFault`), classic configuration.
//!
//! The handler is found at fault time: the TCB's fault-handler cptr is
//! looked up in the faulting thread's own CSpace. It must be an endpoint
//! cap with Send and Grant or GrantReply; the fault is then stored in the
//! TCB and sent as a Call with the cap's badge, so that the handler gets a
//! reply cap and its reply restarts (or stops) the thread. With no valid
//! handler the thread becomes Inactive, and a debug kernel says why.
//!
//! MCS (seL4's MCS `handleFault`, `handleTimeout`, `sendFaultIPC`): no
//! lookup; the handler is the endpoint cap in the TCB's fault-handler
//! slot (`TCB_FAULT_HANDLER`), checked when it was installed
//! (`object::tcb::mcs::valid_fault_handler`). A null cap there means no
//! handler: the thread becomes Inactive. Timeout faults go to the cap in
//! the timeout-handler slot ([`send_timeout_fault`]).

use super::endpoint::{send_ipc, SendArgs};
#[cfg(not(feature = "mcs"))]
use crate::cap::lookup::{lookup_cap_rare, LookupFault};
#[cfg(feature = "mcs")]
use crate::cap::CapWords;
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::TCB_CTABLE;
use crate::object::tcb::{Tcb, TcbRef, ThreadState, NAME_LEN};
use crate::sched::set_thread_state;
use crate::types::Fault;

/// seL4's `handleFault`: sends `fault` to `tcb`'s handler, or stops it.
#[cfg(not(feature = "mcs"))]
pub fn handle_fault(tcb: TcbRef, fault: Fault) {
    if let Err(second) = send_fault_ipc(tcb, fault) {
        double_fault(tcb, fault, second);
    }
}

/// seL4's `sendFaultIPC`; `Err` is the fault that finding the handler
/// raised (a cap fault on the handler cptr).
#[cfg(not(feature = "mcs"))]
fn send_fault_ipc(tcb: TcbRef, fault: Fault) -> Result<(), Fault> {
    let handler = tcb.get().fault_handler();
    let root = Tcb::slot(tcb, TCB_CTABLE).get().words();
    let cap_fault = |lookup| Fault::Cap {
        addr: handler,
        in_recv_phase: false,
        lookup,
    };
    let (_, cap) = lookup_cap_rare(root, handler).map_err(cap_fault)?;
    match cap.endpoint() {
        Some((ptr, badge, rights))
            if rights.write() && (rights.grant() || rights.grant_reply()) =>
        {
            tcb.get().set_fault(Some(fault));
            let args = SendArgs {
                blocking: true,
                is_call: true,
                badge,
                can_grant: rights.grant(),
                can_grant_reply: true,
                regs: None,
            };
            send_ipc(tcb, ptr, args);
            Ok(())
        }
        _ => Err(cap_fault(LookupFault::MissingCapability { bits_left: 0 })),
    }
}

/// MCS: seL4's `handleFault`: sends `fault` to the endpoint in `tcb`'s
/// fault-handler slot, or, if that slot is empty, stops the thread.
#[cfg(feature = "mcs")]
pub fn handle_fault(tcb: TcbRef, fault: Fault) {
    use crate::object::tcb::TCB_FAULT_HANDLER;
    let handler = Tcb::slot(tcb, TCB_FAULT_HANDLER).get().words();
    if !send_fault_to(tcb, fault, handler, true) {
        double_fault(tcb, fault, "empty fault-handler slot");
    }
}

/// MCS: seL4's `handleTimeout` (with the check of `validTimeoutHandler`
/// that its callers make): the budget of `tcb` ran out; if its
/// timeout-handler slot holds an endpoint cap, a timeout fault with its
/// SchedContext's badge goes there (the thread waits for the reply) and
/// this returns true. Otherwise nothing changes and it returns false:
/// the scheduler then handles the exhausted budget as for any thread.
#[cfg(feature = "mcs")]
pub fn send_timeout_fault(tcb: TcbRef) -> bool {
    use crate::object::tcb::TCB_TIMEOUT_HANDLER;
    let handler = Tcb::slot(tcb, TCB_TIMEOUT_HANDLER).get().words();
    if handler.endpoint().is_none() {
        return false;
    }
    let badge = tcb
        .get()
        .sched_context()
        .map_or(0, crate::object::sched_context::badge_at);
    // No lending with a timeout fault: the handler runs on its own
    // SchedContext (seL4 passes canDonate = false for it).
    send_fault_to(tcb, Fault::Timeout { badge }, handler, false)
}

/// MCS: seL4's `sendFaultIPC`: stores `fault` and sends it (a blocking
/// send that the fault makes a call) with the cap's badge and rights, if `handler` is an endpoint cap (it
/// was checked by `valid_fault_handler` when installed); false for any
/// other (the null cap: no handler). With `can_donate` a passive handler
/// runs on the faulting thread's SchedContext until it replies.
#[cfg(feature = "mcs")]
fn send_fault_to(tcb: TcbRef, fault: Fault, handler: CapWords, can_donate: bool) -> bool {
    let Some((ptr, badge, rights)) = handler.endpoint() else {
        return false;
    };
    tcb.get().set_fault(Some(fault));
    // Not a Call (seL4 16.0.0's `sendFaultIPC` passes `do_call` false):
    // the stored fault makes the rendezvous link the reply object
    // (`endpoint::complete_send`, `complete_receive`); the thread's
    // blocked state says what seL4's does (found by the refinement test,
    // docs/spec.md "Divergences found").
    let args = SendArgs {
        blocking: true,
        is_call: false,
        badge,
        can_grant: rights.grant(),
        can_grant_reply: rights.grant_reply(),
        regs: None,
        can_donate,
    };
    send_ipc(tcb, ptr, args);
    true
}

/// seL4's `handleDoubleFault` (classic; `second` is the fault that
/// finding the handler raised, a `Fault`) and MCS's
/// `handleNoFaultHandler` (`second` says the slot is empty): no handler
/// could take `first`; the thread stops.
fn double_fault(tcb: TcbRef, first: Fault, second: impl core::fmt::Debug) {
    if crate::config::DEBUG_BUILD {
        let t = tcb.get();
        let mut name = [0u8; NAME_LEN];
        let len = t.name(&mut name);
        kprintln!(
            "cairn: thread {:#x} \"{}\" faulted at pc {:#x}: {:x?}; no valid fault handler ({:x?}), thread suspended",
            tcb.paddr().0,
            core::str::from_utf8(name.get(..len).unwrap_or(&[])).unwrap_or("?"),
            t.fault_ip(),
            first,
            second
        );
    }
    set_thread_state(tcb, ThreadState::Inactive);
}
