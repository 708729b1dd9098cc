//! Invocations of kernel objects (seL4's `handleInvocation`): look up the
//! invoked capability and the extra capabilities, decode and perform the
//! operation on the capability's object, and reply.
//!
//! Every object module follows seL4's rule *decode, then perform*: decoding
//! checks everything and changes nothing; performing cannot fail except by
//! being preempted (and then leaves its objects consistent and the caller in
//! the Restart state, so that the syscall runs again).

use crate::arch::{BADGE_REGISTER, CAP_REGISTER, MSG_INFO_REGISTER};
use crate::cap::lookup::lookup_cap;
use crate::cap::Cap;
use crate::ipc::endpoint::{send_ipc, SendArgs};
use crate::ipc::fault::handle_fault;
use crate::ipc::message::{reply_error, MessageRegs};
use crate::ipc::notification::send_signal;
use crate::ipc::reply::do_reply_transfer;
use crate::ipc::transfer::lookup_extra_caps;
use crate::object::invocation::{Invocation, InvocationResult};
use crate::object::tcb::{Tcb, TcbRef, ThreadState, TCB_CTABLE};
use crate::types::Fault;
use crate::types::{KernelError, SyscallError};
use cairn_abi::message::{MessageInfo, MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH, N_MSG_REGISTERS};

/// seL4's `handleInvocation` for Call (`is_call`), Send and NBSend
/// (`is_blocking` false).
pub fn handle_invocation(caller: TcbRef, is_call: bool, is_blocking: bool) {
    let t = caller.get();
    let info = MessageInfo(t.reg(MSG_INFO_REGISTER));
    let cptr = t.reg(CAP_REGISTER);
    let root = Tcb::slot(caller, TCB_CTABLE).get().cap();
    let (slot, cap) = match lookup_cap(root, cptr) {
        Ok(found) => found,
        Err(lookup) => {
            if is_blocking {
                handle_fault(
                    caller,
                    Fault::Cap {
                        addr: cptr,
                        in_recv_phase: false,
                        lookup,
                    },
                );
            }
            return;
        }
    };
    let msg = MessageRegs::of(caller, false);
    let mut length = (info.length() as usize).min(MSG_MAX_LENGTH);
    if !msg.has_buffer() && length > N_MSG_REGISTERS {
        length = N_MSG_REGISTERS;
    }
    let mut inv = Invocation {
        caller,
        label: info.label(),
        length,
        msg,
        slot,
        cap,
        extra: [None; MSG_MAX_EXTRA_CAPS],
        blocking: is_blocking,
        call: is_call,
    };
    if let Err((xptr, lookup)) =
        lookup_extra_caps(caller, &inv.msg, info.extra_caps() as usize, &mut inv.extra)
    {
        if is_blocking {
            handle_fault(
                caller,
                Fault::Cap {
                    addr: xptr,
                    in_recv_phase: false,
                    lookup,
                },
            );
        }
        return;
    }
    t.set_state(ThreadState::Restart);
    match decode_invocation(&inv) {
        Ok(n) => {
            if t.state() == ThreadState::Restart {
                if is_call {
                    let mrs = MessageRegs::of(caller, true);
                    let n = (0..n)
                        .take_while(|&i| i < N_MSG_REGISTERS || mrs.has_buffer())
                        .count();
                    t.set_reg(BADGE_REGISTER, 0);
                    t.set_reg(MSG_INFO_REGISTER, MessageInfo::new(0, 0, 0, n as u64).0);
                }
                t.set_state(ThreadState::Running);
            }
        }
        Err(KernelError::Syscall(e)) => {
            t.set_state(ThreadState::Running);
            if is_call {
                reply_error(caller, &e);
            }
        }
        Err(KernelError::Preempted) => {
            // Run the system call again when the thread next runs.
            t.set_next_ip(t.fault_ip());
        }
    }
}

/// Dispatches on the invoked capability's type (one exhaustive match, no
/// wildcard: a new capability type must be placed here).
fn decode_invocation(inv: &Invocation) -> InvocationResult {
    match inv.cap {
        Cap::Null | Cap::Zombie { .. } => Err(SyscallError::InvalidCapability { index: 0 }.into()),
        Cap::Untyped { .. } => crate::object::untyped::decode_invocation(inv),
        Cap::CNode { .. } => crate::object::cnode::decode_invocation(inv),
        Cap::Endpoint { ptr, badge, rights } => {
            if !rights.write() {
                return Err(SyscallError::InvalidCapability { index: 0 }.into());
            }
            let args = SendArgs {
                blocking: inv.blocking,
                is_call: inv.call,
                badge,
                can_grant: rights.grant(),
                can_grant_reply: rights.grant_reply(),
            };
            send_ipc(inv.caller, ptr, args);
            Ok(0)
        }
        Cap::Notification { ptr, badge, rights } => {
            if !rights.write() {
                return Err(SyscallError::InvalidCapability { index: 0 }.into());
            }
            send_signal(ptr, badge);
            Ok(0)
        }
        Cap::Reply {
            tcb,
            master,
            can_grant,
        } => {
            if master {
                return Err(SyscallError::InvalidCapability { index: 0 }.into());
            }
            do_reply_transfer(inv.caller, TcbRef::new(tcb), inv.slot, can_grant);
            Ok(0)
        }
        Cap::Thread { tcb } => crate::object::tcb::decode_invocation(inv, tcb),
        Cap::IrqControl => crate::object::irq::decode_control(inv),
        Cap::IrqHandler { irq } => crate::object::irq::decode_handler(inv, irq),
        Cap::Domain => crate::object::domain::decode_invocation(inv),
        Cap::Frame { .. } => crate::object::vspace::page::decode_invocation(inv),
        Cap::PageTable { .. } => crate::object::vspace::page_table::decode_invocation(inv),
        Cap::AsidControl => crate::object::vspace::asid::decode_control_invocation(inv),
        Cap::AsidPool { .. } => crate::object::vspace::asid::decode_pool_invocation(inv),
    }
}
