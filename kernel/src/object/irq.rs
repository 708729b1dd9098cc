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
//!   clears it). Deleting the handler cap masks the line and frees it.

use crate::cap::cte::{cnode_slot, cte_insert, SlotRef};
use crate::cap::delete::cte_delete;
use crate::cap::Cap;
use crate::object::cnode::lookup_slot_for_cnode_op;
use crate::object::invocation::{Invocation, InvocationResult};
use crate::state::kernel;
use crate::types::PAddr;
use crate::types::SyscallError;
use cairn_abi::invocation::label;

/// `maxIRQ` on qemu-riscv-virt (non-SMP): the highest IRQ number, which
/// is the kernel timer's.
pub const MAX_IRQ: u16 = 96;
/// The kernel's timer interrupt number.
pub const KERNEL_TIMER_IRQ: u16 = 96;
/// Slots of the IRQ node (a power of two above `MAX_IRQ`; 4 KiB).
pub const IRQ_SLOTS: usize = 128;

/// The state of an IRQ line (seL4's `irq_state_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqState {
    /// No handler cap: masked.
    Inactive,
    /// A handler cap exists: interrupts signal its notification.
    Signal,
    /// The kernel's own timer.
    Timer,
}

/// The state of `irq`.
pub fn state(irq: u16) -> IrqState {
    if irq == KERNEL_TIMER_IRQ {
        return IrqState::Timer;
    }
    match kernel().irq_state.get(irq as usize).map_or(0, |c| c.get()) {
        1 => IrqState::Signal,
        _ => IrqState::Inactive,
    }
}

/// seL4's `setIRQState`: records the state and masks the line unless it
/// is in use.
fn set_state(irq: u16, s: IrqState) {
    if let Some(c) = kernel().irq_state.get(irq as usize) {
        c.set(matches!(s, IrqState::Signal) as u8);
    }
    crate::arch::irq_set_masked(irq, s == IrqState::Inactive);
}

/// The IRQ node slot of `irq` (the caller keeps `irq` ≤ `MAX_IRQ`).
fn irq_slot(irq: u16) -> Option<SlotRef> {
    let node = kernel().irq_node.get();
    (node != 0 && (irq as usize) < IRQ_SLOTS).then(|| cnode_slot(PAddr(node), irq as u64))
}

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

/// Decodes and performs an IRQ control invocation (`IRQControl_Get`, or
/// RISC-V's `IRQControl_GetTrigger`, whose trigger the PLIC ignores).
pub fn decode_control(inv: &Invocation) -> InvocationResult {
    let (args, first) = match inv.label {
        label::IRQ_ISSUE_IRQ_HANDLER => (3, 1),
        label::RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER => (4, 2),
        _ => return Err(SyscallError::IllegalOperation.into()),
    };
    let root = match inv.extra_cap(0) {
        Some((_, cap)) if inv.length >= args => cap,
        _ => return Err(SyscallError::TruncatedMessage.into()),
    };
    let irq = check_irq(inv.arg(0))?;
    if state(irq) != IrqState::Inactive {
        return Err(SyscallError::RevokeFirst.into());
    }
    let (index, depth) = (inv.arg(first), inv.arg(first + 1));
    let dest = lookup_slot_for_cnode_op(false, root, index, depth)?;
    if !dest.get().cap().is_null() {
        return Err(SyscallError::DeleteFirst.into());
    }
    set_state(irq, IrqState::Signal);
    cte_insert(Cap::IrqHandler { irq }, inv.slot, dest);
    Ok(0)
}

/// Decodes and performs an IRQ handler invocation: Ack, SetNotification,
/// Clear.
pub fn decode_handler(inv: &Invocation, irq: u16) -> InvocationResult {
    match inv.label {
        label::IRQ_ACK_IRQ => {
            crate::arch::irq_set_masked(irq, false);
            Ok(0)
        }
        label::IRQ_SET_IRQ_HANDLER => {
            let Some((slot, cap)) = inv.extra_cap(0) else {
                return Err(SyscallError::TruncatedMessage.into());
            };
            if !matches!(cap, Cap::Notification { rights, .. } if rights.write()) {
                return Err(SyscallError::InvalidCapability { index: 0 }.into());
            }
            if let Some(s) = irq_slot(irq) {
                let _ = cte_delete(s);
                cte_insert(cap, slot, s);
            }
            Ok(0)
        }
        label::IRQ_CLEAR_IRQ_HANDLER => {
            if let Some(s) = irq_slot(irq) {
                let _ = cte_delete(s);
            }
            Ok(0)
        }
        _ => Err(SyscallError::IllegalOperation.into()),
    }
}

/// The last handler cap of `irq` is being deleted: its notification cap
/// goes (seL4's `deletingIRQHandler`).
pub fn deleting_irq_handler(irq: u16) {
    if let Some(s) = irq_slot(irq) {
        let _ = cte_delete(s);
    }
}

/// The last handler cap of `irq` is gone: mask the line and let IRQ
/// control issue it again (seL4's `postCapDeletion`).
pub fn irq_handler_deleted(irq: u16) {
    set_state(irq, IrqState::Inactive);
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
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;
    use crate::object::notification::{NotificationRef, NotificationState};
    use crate::testutil::{boot, err, ok, TestKernel};
    use cairn_abi::cap::init;
    use cairn_abi::object::ObjectType as T;

    const RANGE: u64 = 4;
    const REVOKE_FIRST: u64 = 9;
    const DELETE_FIRST: u64 = 8;
    const TRUNCATED: u64 = 7;
    const INVALID_CAP: u64 = 2;

    fn get(k: &TestKernel, irq: u64, slot: u64) -> crate::testutil::Outcome {
        k.call(
            init::IRQ_CONTROL,
            label::IRQ_ISSUE_IRQ_HANDLER,
            &[irq, slot, 64],
            &[init::CNODE],
        )
    }

    fn ntfn_state(k: &TestKernel, s: u64) -> (NotificationState, u64) {
        let Cap::Notification { ptr, .. } = k.cap(s) else {
            panic!("not a notification")
        };
        let n = NotificationRef::new(ptr).get();
        (n.queue.state(), n.msg_identifier())
    }

    #[test]
    fn irq_control_get_checks_in_sel4s_order() {
        let k = boot();
        let s = k.make(T::Endpoint, 0, 1)[0];
        for bad in [0, 97, u64::MAX] {
            assert_eq!(get(&k, bad, k.first_empty), err(RANGE, &[1, 96]));
        }
        assert_eq!(get(&k, 96, k.first_empty), err(REVOKE_FIRST, &[]), "timer");
        assert_eq!(get(&k, 10, s), err(DELETE_FIRST, &[]), "occupied slot");
        let short = k.call(
            init::IRQ_CONTROL,
            label::IRQ_ISSUE_IRQ_HANDLER,
            &[10, 5],
            &[init::CNODE],
        );
        assert_eq!(short, err(TRUNCATED, &[]));
        assert!(!SimMachine::irq_unmasked(10));
        assert_eq!(get(&k, 10, k.first_empty), ok());
        assert_eq!(k.cap(k.first_empty), Cap::IrqHandler { irq: 10 });
        assert!(SimMachine::irq_unmasked(10), "issuing unmasks the line");
        assert_eq!(
            get(&k, 10, k.first_empty + 1),
            err(REVOKE_FIRST, &[]),
            "issued"
        );
        let trig = k.call(
            init::IRQ_CONTROL,
            label::RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER,
            &[11, 1, k.first_empty + 1, 64],
            &[init::CNODE],
        );
        assert_eq!(trig, ok());
        assert_eq!(k.cap(k.first_empty + 1), Cap::IrqHandler { irq: 11 });
    }

    #[test]
    fn an_interrupt_signals_and_stays_masked_until_ack() {
        let k = boot();
        let h = k.first_empty;
        assert_eq!(get(&k, 10, h), ok());
        let n = k.make(T::Notification, 0, 1)[0];
        let set = |cap: u64| k.call(h, label::IRQ_SET_IRQ_HANDLER, &[], &[cap]);
        assert_eq!(set(init::TCB), err(INVALID_CAP, &[0]));
        assert_eq!(
            k.call(h, label::IRQ_SET_IRQ_HANDLER, &[], &[]),
            err(TRUNCATED, &[])
        );
        // A badged copy: the interrupt signals with its badge.
        let b = h + 1;
        let mint = k.call(
            init::CNODE,
            cairn_abi::invocation::label::CNODE_MINT,
            &[b, 64, n, 64, 0xF, 0x20],
            &[init::CNODE],
        );
        assert_eq!(mint, ok());
        assert_eq!(set(b), ok());
        handle_interrupt(10);
        assert_eq!(ntfn_state(&k, n), (NotificationState::Active, 0x20));
        assert!(!SimMachine::irq_unmasked(10), "masked until acknowledged");
        assert_eq!(k.call(h, label::IRQ_ACK_IRQ, &[], &[]), ok());
        assert!(SimMachine::irq_unmasked(10));
        // Clear: the next interrupt signals nothing.
        assert_eq!(k.call(h, label::IRQ_CLEAR_IRQ_HANDLER, &[], &[]), ok());
        let before = ntfn_state(&k, n);
        handle_interrupt(10);
        assert_eq!(ntfn_state(&k, n), before);
        assert_eq!(k.call(h, 0x7777, &[], &[]), err(3, &[]), "bad label");
    }

    #[test]
    fn deleting_the_handler_masks_and_frees_the_line_and_revoking_the_notification_unbinds() {
        let k = boot();
        let h = k.first_empty;
        assert_eq!(get(&k, 12, h), ok());
        let n = k.make(T::Notification, 0, 1)[0];
        assert_eq!(k.call(h, label::IRQ_SET_IRQ_HANDLER, &[], &[n]), ok());
        let slot = irq_slot(12).expect("IRQ node");
        assert!(matches!(slot.get().cap(), Cap::Notification { .. }));
        // Revoking the user's notification cap removes the IRQ's copy.
        let r = k.call(
            init::CNODE,
            cairn_abi::invocation::label::CNODE_REVOKE,
            &[n, 64],
            &[],
        );
        assert_eq!(r, ok());
        assert!(slot.get().cap().is_null());
        let d = k.call(
            init::CNODE,
            cairn_abi::invocation::label::CNODE_DELETE,
            &[h, 64],
            &[],
        );
        assert_eq!(d, ok());
        assert!(!SimMachine::irq_unmasked(12));
        assert_eq!(state(12), IrqState::Inactive);
        assert_eq!(get(&k, 12, h), ok(), "issued again");
    }

    #[test]
    fn spurious_and_out_of_range_interrupts_are_masked_reported_and_signal_nothing() {
        let k = boot();
        let h = k.first_empty;
        assert_eq!(get(&k, 10, h), ok());
        let n = k.make(T::Notification, 0, 1)[0];
        assert_eq!(k.call(h, label::IRQ_SET_IRQ_HANDLER, &[], &[n]), ok());
        let before = ntfn_state(&k, n);
        SimMachine::take_console();
        // A line nobody claimed, unmasked (as if left so by the firmware).
        crate::arch::irq_set_masked(5, false);
        handle_interrupt(5);
        assert!(!SimMachine::irq_unmasked(5), "a spurious line is masked");
        assert_eq!(state(5), IrqState::Inactive);
        // The timer's line (the machine layer handles it), a number past
        // the last line, one past any IRQ state, one past u16.
        handle_interrupt(96);
        handle_interrupt(97);
        handle_interrupt(1000);
        handle_interrupt(u32::MAX);
        let want = if crate::config::DEBUG_BUILD {
            "cairn: spurious interrupt 5\r\ncairn: spurious interrupt 97\r\ncairn: spurious interrupt 1000\r\n"
        } else {
            ""
        };
        assert_eq!(SimMachine::take_console(), want);
        assert_eq!(ntfn_state(&k, n), before, "no signal");
        assert!(SimMachine::irq_unmasked(10), "the claimed line untouched");
        assert_eq!(state(10), IrqState::Signal);
        assert_eq!(state(96), IrqState::Timer);
        assert_eq!(kernel().current_tcb(), Some(k.tcb));
        assert_eq!(
            k.tcb.get().state(),
            crate::object::tcb::ThreadState::Running
        );
    }
}
