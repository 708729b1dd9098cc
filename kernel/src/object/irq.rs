//! Interrupts (ch. 8 Hardware I/O, *Interrupt Delivery*; ABI ref §7.5,
//! §12): IRQ control and IRQ handler capabilities, and turning an
//! interrupt into a notification signal.
//!
//! * IRQ numbers are PLIC sources 1..=95; 96 is the kernel's timer
//!   (`KERNEL_TIMER_IRQ` = `maxIRQ`), never issued to user space.
//! * `IRQControl_Get` issues the one handler cap for a line and unmasks
//!   it. `IRQHandler_SetNotification` puts a copy of a notification cap in
//!   the line's slot of the kernel's IRQ node (a derivation-tree child of
//!   the user's cap, so that revoking the notification unbinds the IRQ).
//! * An interrupt signals that notification with the cap's badge and masks
//!   the line until `IRQHandler_Ack` (the manual's semantics; seL4 on
//!   QEMU's virt board leaves the PLIC line unmasked instead, which a
//!   level-triggered device turns into an interrupt storm until the driver
//!   clears it). Deleting the handler cap masks the line and frees it
//!   (`cap::finalise`, through [`table`]).
//!
//! The invocations decode into [`IssueIrqHandler`] and [`IrqHandlerOp`]
//! (checked in seL4's order, nothing changed) and are performed by
//! [`perform_control`], which cannot fail, and [`perform_handler`], which
//! can only be preempted (deleting the last notification cap); both
//! halves are called by the syscall layer (`api`) only; the machine layer
//! calls [`handle_interrupt`].

use crate::cap::cte::SlotRef;
use crate::cap::delete::cte_delete;
use crate::cap::derive::cte_insert;
use crate::cap::Cap;
use crate::object::cnode::lookup_slot_rare;
use crate::object::invocation::{need, Invocation};
use crate::types::{Preempted, SyscallError};
use cairn_abi::invocation::label;

pub mod table;

pub use crate::state::{IrqState, IRQ_SLOTS, KERNEL_TIMER_IRQ, MAX_IRQ};
pub use table::state;
use table::{irq_slot, set_state};

/// seL4's `Arch_checkIRQ`: 1..=maxIRQ, else RangeError(1, maxIRQ).
fn check_irq(w: u64) -> Result<u16, SyscallError> {
    if w == 0 || w > MAX_IRQ as u64 {
        return Err(SyscallError::RangeError {
            min: 1,
            max: MAX_IRQ as u64,
        });
    }
    Ok(w as u16)
}

/// A decoded invocation of the IRQ control capability, `IRQControl_Get`
/// (or RISC-V's `GetTrigger`): issue the handler cap of `irq` into `dest`,
/// a derivation child of the control cap in `src`, and unmask the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssueIrqHandler {
    irq: u16,
    src: SlotRef,
    dest: SlotRef,
}

/// A decoded invocation of an IRQ handler capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqHandlerOp {
    /// `IRQHandler_Ack`: unmask the line.
    Ack(u16),
    /// `IRQHandler_SetNotification`: the line signals a copy of `cap` (a
    /// notification cap with Write, from `src`).
    SetNotification { irq: u16, cap: Cap, src: SlotRef },
    /// `IRQHandler_Clear`: the line signals nothing.
    Clear(u16),
}

/// Decodes an IRQ control invocation (`IRQControl_Get`, or RISC-V's
/// `IRQControl_GetTrigger`, whose trigger the PLIC ignores) without
/// changing anything.
#[inline(always)]
pub fn decode_control(inv: &Invocation) -> Result<IssueIrqHandler, SyscallError> {
    let (args, first) = match inv.label {
        label::IRQ_ISSUE_IRQ_HANDLER => (3, 1),
        label::RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER => (4, 2),
        _ => return Err(SyscallError::IllegalOperation),
    };
    need(inv.length >= args)?;
    let (_, root) = inv.need_extra_words(0)?;
    let irq = check_irq(inv.arg(0))?;
    if state(irq) != IrqState::Inactive {
        return Err(SyscallError::RevokeFirst);
    }
    let (index, depth) = (inv.arg(first), inv.arg(first + 1));
    let dest = lookup_slot_rare(false, root, index, depth)?;
    if !dest.get().words().is_null() {
        return Err(SyscallError::DeleteFirst);
    }
    Ok(IssueIrqHandler {
        irq,
        src: inv.slot,
        dest,
    })
}

/// Performs a decoded IRQ control operation (it cannot fail).
pub fn perform_control(op: &IssueIrqHandler) {
    set_state(op.irq, IrqState::Signal);
    cte_insert(Cap::IrqHandler { irq: op.irq }, op.src, op.dest);
}

/// Decodes an invocation of the handler cap of `irq` (Ack,
/// SetNotification, Clear) without changing anything.
#[inline(always)]
pub fn decode_handler(inv: &Invocation, irq: u16) -> Result<IrqHandlerOp, SyscallError> {
    match inv.label {
        label::IRQ_ACK_IRQ => Ok(IrqHandlerOp::Ack(irq)),
        label::IRQ_SET_IRQ_HANDLER => {
            let (src, cap) = inv.need_extra(0)?;
            if !matches!(cap, Cap::Notification { rights, .. } if rights.write()) {
                return Err(SyscallError::InvalidCapability { index: 0 });
            }
            Ok(IrqHandlerOp::SetNotification { irq, cap, src })
        }
        label::IRQ_CLEAR_IRQ_HANDLER => Ok(IrqHandlerOp::Clear(irq)),
        _ => Err(SyscallError::IllegalOperation),
    }
}

/// Performs a decoded IRQ handler operation. Only by preemption can it
/// fail: the IRQ node slot holds a notification cap, which may be the
/// last one, with waiters to restart (`ipc::cancel`); the restarted call
/// finds the slot with the waiters left, or empty, and goes on. Without an
/// IRQ node (before boot) there is no slot to change.
pub fn perform_handler(op: &IrqHandlerOp) -> Result<(), Preempted> {
    match *op {
        IrqHandlerOp::Ack(irq) => crate::arch::irq_set_masked(irq, false),
        IrqHandlerOp::SetNotification { irq, cap, src } => {
            if let Some(s) = irq_slot(irq) {
                cte_delete(s)?;
                cte_insert(cap, src, s);
            }
        }
        IrqHandlerOp::Clear(irq) => {
            if let Some(s) = irq_slot(irq) {
                cte_delete(s)?;
            }
        }
    }
    Ok(())
}

/// An external interrupt `irq` arrived (claimed and completed by the
/// machine layer): signal its notification and mask it until Ack.
pub fn handle_interrupt(irq: u32) {
    let Ok(irq) = u16::try_from(irq) else { return };
    match state(irq) {
        IrqState::Signal => {
            if let Some(Cap::Notification { ptr, badge, rights }) =
                irq_slot(irq).map(|s| s.get().cap())
            {
                if rights.write() {
                    crate::ipc::notification::send_signal(ptr, badge);
                }
            }
            crate::arch::irq_set_masked(irq, true);
        }
        IrqState::Timer => {}
        IrqState::Inactive => {
            crate::arch::irq_set_masked(irq, true);
            if crate::config::DEBUG_BUILD {
                kprintln!("cairn: spurious interrupt {}", irq);
            }
        }
    }
}

#[cfg(test)]
mod tests;
