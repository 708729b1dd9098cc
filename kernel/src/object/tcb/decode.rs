//! Decoding TCB invocations (seL4's `decodeTCBInvocation` and its
//! `decode*` helpers; ABI ref §7.3). Every check is made here, in seL4's
//! order, and nothing is changed; the result is a [`TcbOp`] for
//! `perform`. The MCS forms of SetSpace, SetSchedParams and
//! SetTimeoutEndpoint are decoded by `super::mcs`; Configure is shared
//! (MCS drops the fault endpoint word, so its words start one earlier).
//! What thread control decodes into, and the checks both decoders make,
//! are `super::control`'s.
//!
//! Orders that matter (seL4 16):
//! - ReadRegisters: length ≥ 2, count 1..=32 (RangeError(1, 32)), target ≠
//!   caller (IllegalOperation).
//! - WriteRegisters: length ≥ 2, length − 2 ≥ count (TruncatedMessage),
//!   target ≠ caller; count is then clamped to 32.
//! - CopyRegisters: length ≥ 1 and extra cap 0 (TruncatedMessage), a TCB
//!   (InvalidCapability(1)).
//! - Configure: length ≥ 4 and three extra caps; the buffer (if its address
//!   ≠ 0: derive, frame, not device, 1 KiB aligned); the CSpace/VSpace
//!   slots of the target not in a long-running delete; the CSpace root
//!   (cap data applied if ≠ 0, derived, a CNode); the VSpace root (derived,
//!   a mapped page table). SetSpace is the same without the buffer, with the
//!   long-running check first. Every failed check of a root or buffer cap is
//!   IllegalOperation, except what deriving it reports (RevokeFirst for an
//!   untyped with children, IllegalOperation for an unmapped page table).
//! - Priorities: length and extra cap 0, the authority a TCB
//!   (InvalidCapability(1)), each value ≤ the authority's MCP
//!   (RangeError(0, MCP)); SetSchedParams checks the MCP, then the priority.

use super::control::{
    authority, check_prio, decode_space, illegal_unless, BufferUpdate, NewCap, ThreadControl,
    SPACE_DATA_ARG,
};
use super::TcbRef;
use crate::cap::derive::derive_cap;
use crate::cap::{Cap, SlotRef};
use crate::ipc::message::MessageRegs;
use crate::object::invocation::{need, Invocation};
use crate::object::notification::NotificationRef;
use crate::types::PAddr;
use crate::types::SyscallError;
use cairn_abi::invocation::label;
use cairn_abi::message::IPC_BUFFER_SIZE_BITS;

use super::registers::CONTEXT_WORDS;

/// A decoded TCB operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcbOp {
    /// Reply with the first `count` registers of `src`.
    ReadRegisters {
        src: TcbRef,
        suspend_source: bool,
        count: usize,
    },
    /// Write the first `count` registers of `dest` from the caller's
    /// message registers 2.. (`values`; read when performed, as seL4 does:
    /// nothing can change them in between).
    WriteRegisters {
        dest: TcbRef,
        resume_target: bool,
        count: usize,
        values: MessageRegs,
    },
    /// Copy registers from `src` into `dest`.
    CopyRegisters {
        dest: TcbRef,
        src: TcbRef,
        suspend_source: bool,
        resume_target: bool,
        transfer_frame: bool,
        transfer_integer: bool,
    },
    /// Configure, SetSpace, SetIPCBuffer, SetPriority, SetMCPriority,
    /// SetSchedParams.
    ThreadControl(ThreadControl),
    /// Stop the thread.
    Suspend(TcbRef),
    /// Restart a stopped thread.
    Resume(TcbRef),
    /// Bind `ntfn` to the thread (`None`: unbind).
    NotificationControl { tcb: TcbRef, ntfn: Option<PAddr> },
    /// Set the thread's `tp`.
    SetTlsBase { tcb: TcbRef, base: u64 },
    /// Clear, then set, TCB flags; reply with the result.
    SetFlags { tcb: TcbRef, clear: u64, set: u64 },
}

/// seL4's `checkValidIPCBuffer` (RISC-V): a frame, not a device frame, at
/// an address aligned to the buffer's 1 KiB.
fn check_valid_ipc_buffer(addr: u64, cap: &Cap) -> Result<(), SyscallError> {
    match *cap {
        Cap::Frame {
            is_device: false, ..
        } => {}
        _ => return Err(SyscallError::IllegalOperation),
    }
    match addr & ((1 << IPC_BUFFER_SIZE_BITS) - 1) {
        0 => Ok(()),
        _ => Err(SyscallError::AlignmentError),
    }
}

/// The buffer part of Configure and SetIPCBuffer: `addr` 0 means none (the
/// frame cap is then not looked at).
fn decode_buffer(addr: u64, (src, mut cap): (SlotRef, Cap)) -> Result<BufferUpdate, SyscallError> {
    if addr == 0 {
        return Ok(BufferUpdate { addr, frame: None });
    }
    derive_cap(src, &mut cap)?;
    check_valid_ipc_buffer(addr, &cap)?;
    Ok(BufferUpdate {
        addr,
        frame: Some(NewCap { cap, src }),
    })
}

/// Configure's message length: the space's data, then the buffer address.
const CONFIGURE_ARGS: usize = SPACE_DATA_ARG + 3;

/// Decodes an invocation of the TCB capability for `target`.
#[inline(always)]
pub fn decode(inv: &Invocation, target: TcbRef) -> Result<TcbOp, SyscallError> {
    let control = |mcp, priority, space, buffer| {
        TcbOp::ThreadControl(ThreadControl {
            target,
            slot: inv.slot,
            mcp,
            priority,
            space,
            buffer,
            #[cfg(feature = "mcs")]
            mcs: Default::default(),
        })
    };
    match inv.label {
        label::TCB_READ_REGISTERS => decode_read_registers(inv, target),
        label::TCB_WRITE_REGISTERS => decode_write_registers(inv, target),
        label::TCB_COPY_REGISTERS => decode_copy_registers(inv, target),
        label::TCB_SUSPEND => Ok(TcbOp::Suspend(target)),
        label::TCB_RESUME => Ok(TcbOp::Resume(target)),
        label::TCB_CONFIGURE => {
            need(inv.length >= CONFIGURE_ARGS)?;
            let (croot, vroot, frame) =
                (inv.need_extra(0)?, inv.need_extra(1)?, inv.need_extra(2)?);
            let buffer = decode_buffer(inv.arg(CONFIGURE_ARGS - 1), frame)?;
            let space = decode_space(inv, target, croot, vroot)?;
            Ok(control(None, None, Some(space), Some(buffer)))
        }
        #[cfg(feature = "mcs")]
        label::TCB_SET_SPACE => super::mcs::decode_set_space(inv, target).map(TcbOp::ThreadControl),
        #[cfg(feature = "mcs")]
        label::TCB_SET_SCHED_PARAMS => {
            super::mcs::decode_set_sched_params(inv, target).map(TcbOp::ThreadControl)
        }
        #[cfg(feature = "mcs")]
        label::TCB_SET_TIMEOUT_ENDPOINT => {
            super::mcs::decode_set_timeout_endpoint(inv, target).map(TcbOp::ThreadControl)
        }
        #[cfg(not(feature = "mcs"))]
        label::TCB_SET_SPACE => {
            need(inv.length >= 3)?;
            let (croot, vroot) = (inv.need_extra(0)?, inv.need_extra(1)?);
            let space = decode_space(inv, target, croot, vroot)?;
            Ok(control(None, None, Some(space), None))
        }
        label::TCB_SET_IPC_BUFFER => {
            need(inv.length >= 1)?;
            let frame = inv.need_extra(0)?;
            let buffer = decode_buffer(inv.arg(0), frame)?;
            Ok(control(None, None, None, Some(buffer)))
        }
        label::TCB_SET_PRIORITY | label::TCB_SET_MC_PRIORITY => {
            need(inv.length >= 1)?;
            let (_, auth) = inv.need_extra(0)?;
            let value = inv.arg(0);
            check_prio(value, authority(auth)?)?;
            Ok(match inv.label {
                label::TCB_SET_PRIORITY => control(None, Some(value), None, None),
                _ => control(Some(value), None, None, None),
            })
        }
        #[cfg(not(feature = "mcs"))]
        label::TCB_SET_SCHED_PARAMS => {
            need(inv.length >= 2)?;
            let (_, auth) = inv.need_extra(0)?;
            let (mcp, prio) = (inv.arg(0), inv.arg(1));
            let auth = authority(auth)?;
            check_prio(mcp, auth)?;
            check_prio(prio, auth)?;
            Ok(control(Some(mcp), Some(prio), None, None))
        }
        label::TCB_BIND_NOTIFICATION => decode_bind_notification(inv, target),
        label::TCB_UNBIND_NOTIFICATION => {
            illegal_unless(target.get().bound_notification() != 0)?;
            Ok(TcbOp::NotificationControl {
                tcb: target,
                ntfn: None,
            })
        }
        label::TCB_SET_TLS_BASE => {
            need(inv.length >= 1)?;
            Ok(TcbOp::SetTlsBase {
                tcb: target,
                base: inv.arg(0),
            })
        }
        label::TCB_SET_FLAGS => {
            need(inv.length >= 2)?;
            Ok(TcbOp::SetFlags {
                tcb: target,
                clear: inv.arg(0),
                set: inv.arg(1),
            })
        }
        _ => Err(SyscallError::IllegalOperation),
    }
}

fn decode_read_registers(inv: &Invocation, target: TcbRef) -> Result<TcbOp, SyscallError> {
    need(inv.length >= 2)?;
    let (flags, count) = (inv.arg(0), inv.arg(1));
    let count = match usize::try_from(count) {
        Ok(n @ 1..=CONTEXT_WORDS) => n,
        _ => {
            return Err(SyscallError::RangeError {
                min: 1,
                max: CONTEXT_WORDS as u64,
            })
        }
    };
    // Bits 8..15 are architecture flags: none on RISC-V.
    illegal_unless(target != inv.caller)?;
    Ok(TcbOp::ReadRegisters {
        src: target,
        suspend_source: flags & 1 != 0,
        count,
    })
}

fn decode_write_registers(inv: &Invocation, target: TcbRef) -> Result<TcbOp, SyscallError> {
    need(inv.length >= 2)?;
    let (flags, count) = (inv.arg(0), inv.arg(1));
    // `length - 2 < count`, with `length` ≤ 120 and any count.
    need(count <= (inv.length - 2) as u64)?;
    illegal_unless(target != inv.caller)?;
    let count = (count as usize).min(CONTEXT_WORDS); // ≤ 118 by the check
    Ok(TcbOp::WriteRegisters {
        dest: target,
        resume_target: flags & 1 != 0,
        count,
        values: inv.msg,
    })
}

fn decode_copy_registers(inv: &Invocation, target: TcbRef) -> Result<TcbOp, SyscallError> {
    need(inv.length >= 1)?;
    let (_, src) = inv.need_extra(0)?;
    let flags = inv.arg(0);
    Ok(TcbOp::CopyRegisters {
        dest: target,
        src: authority(src)?,
        suspend_source: flags & 1 != 0,
        resume_target: flags & 2 != 0,
        transfer_frame: flags & 4 != 0,
        transfer_integer: flags & 8 != 0,
    })
}

fn decode_bind_notification(inv: &Invocation, target: TcbRef) -> Result<TcbOp, SyscallError> {
    let (_, cap) = inv.need_extra(0)?;
    illegal_unless(target.get().bound_notification() == 0)?;
    let Cap::Notification { ptr, rights, .. } = cap else {
        return Err(SyscallError::IllegalOperation);
    };
    illegal_unless(rights.read())?;
    let n = NotificationRef::new(ptr).get();
    illegal_unless(n.queue.tcbs().is_empty() && n.bound_tcb() == 0)?;
    Ok(TcbOp::NotificationControl {
        tcb: target,
        ntfn: Some(ptr),
    })
}
