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

use super::endpoint::{send_ipc, SendArgs};
use crate::cap::lookup::{lookup_cap, LookupFault};
use crate::cap::Cap;
use crate::object::tcb::{Tcb, TcbRef, ThreadState, NAME_LEN, TCB_CTABLE};
use crate::sched::set_thread_state;
use crate::types::Fault;

/// seL4's `handleFault`: sends `fault` to `tcb`'s handler, or stops it.
pub fn handle_fault(tcb: TcbRef, fault: Fault) {
    if let Err(second) = send_fault_ipc(tcb, fault) {
        double_fault(tcb, fault, second);
    }
}

/// seL4's `sendFaultIPC`; `Err` is the fault that finding the handler
/// raised (a cap fault on the handler cptr).
fn send_fault_ipc(tcb: TcbRef, fault: Fault) -> Result<(), Fault> {
    let handler = tcb.get().fault_handler();
    let root = Tcb::slot(tcb, TCB_CTABLE).get().words();
    let cap_fault = |lookup| Fault::Cap {
        addr: handler,
        in_recv_phase: false,
        lookup,
    };
    let (_, cap) = lookup_cap(root, handler).map_err(cap_fault)?;
    match cap {
        Cap::Endpoint { ptr, badge, rights }
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

/// seL4's `handleDoubleFault`: no handler could take `first`; the thread
/// stops.
fn double_fault(tcb: TcbRef, first: Fault, second: Fault) {
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
