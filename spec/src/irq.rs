//! Interrupts (manual §9.1 *Interrupt Delivery*, ch. 10
//! `seL4_IRQControl_Get`, `seL4_IRQHandler_*`; RISC-V's
//! `IRQIssueIRQHandler` and `IssueIRQHandlerTrigger`).
//!
//! IRQControl hands out one IRQHandler cap per interrupt line; the line is
//! then *issued* until its last handler cap is deleted. A handler cap names
//! a notification (SetNotification, Clear) that the kernel signals when
//! the interrupt arrives, and then delivers nothing more from that line
//! until the handler acknowledges it (Ack).
//!
//! The notification cap lives in a slot of the kernel's *IRQ node*, slot
//! *irq* (seL4's `intStateIRQNode`): a CNode no cap names, an object of
//! the state like any other CNode ([`Irqs::node`]), so that the cap has
//! its place in the derivation tree and deleting it is an ordinary
//! deletion (which may destroy the notification).

use crate::cap::{same_object, Cap, ObjId};
use crate::error::SyscallError;
use crate::invoke::Invocation;
use crate::state::{SlotId, State};
use std::collections::BTreeMap;

/// The labels (seL4 16.0.0, RISC-V): the generic ones the same in both
/// configurations (MCS adds SetTimeoutEndpoint and drops SaveCaller
/// before them); the RISC-V one after the VSpace labels (MCS: six
/// further on, after the scheduling-context labels).
pub const ISSUE_IRQ_HANDLER: u64 = 26;
pub const ACK: u64 = 27;
pub const SET_NOTIFICATION: u64 = 28;
pub const CLEAR: u64 = 29;
pub const ISSUE_IRQ_HANDLER_TRIGGER: u64 = if crate::MCS { 46 } else { 40 };

/// The highest interrupt number (`maxIRQ` of QEMU `virt`): the kernel's
/// timer, never issued.
pub const MAX_IRQ: u64 = 96;
pub const TIMER_IRQ: u64 = MAX_IRQ;

/// An issued line: whether it waits for an Ack (the kernel masks it from
/// the interrupt's delivery until then).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub masked: bool,
}

/// The kernel's interrupt state: the IRQ node and the issued lines (every
/// other line but the timer's is inactive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Irqs {
    /// The IRQ node (a CNode in [`State::objects`]); `None`: no
    /// interrupts modelled.
    pub node: Option<ObjId>,
    pub issued: BTreeMap<u64, Line>,
}

impl State {
    /// The IRQ node's slot of `irq`.
    pub fn irq_slot(&self, irq: u64) -> Option<SlotId> {
        self.irqs.node.map(|obj| SlotId { obj, index: irq })
    }

    /// IRQControl: `IRQIssueIRQHandler` (irq, dest index, depth; the
    /// destination CNode as extra cap 0) and `IssueIRQHandlerTrigger`
    /// (irq, trigger, index, depth), checked in seL4's order: length and
    /// extra cap (TruncatedMessage), the number (RangeError 1..=MAX_IRQ),
    /// the line not issued (RevokeFirst; the timer's always is), the
    /// destination (a lookup error), empty (DeleteFirst). The handler cap
    /// is IRQControl's child.
    pub(crate) fn irq_control(
        &mut self,
        slot: SlotId,
        inv: &Invocation,
        extra: &[Option<Cap>],
    ) -> Result<(), SyscallError> {
        let first = match inv.label {
            ISSUE_IRQ_HANDLER => 1,
            ISSUE_IRQ_HANDLER_TRIGGER => 2,
            _ => return Err(SyscallError::IllegalOperation),
        };
        if inv.words.len() < first + 2 || extra.is_empty() {
            return Err(SyscallError::TruncatedMessage);
        }
        let irq = inv.words[0];
        if irq == 0 || irq > MAX_IRQ {
            return Err(SyscallError::RangeError {
                min: 1,
                max: MAX_IRQ,
            });
        }
        if irq == TIMER_IRQ || self.irqs.issued.contains_key(&irq) {
            return Err(SyscallError::RevokeFirst);
        }
        let (index, depth) = (inv.words[first], inv.words[first + 1]);
        // An empty slot is the null cap: not a CNode (InvalidRoot).
        let root = extra[0].unwrap_or(Cap::IrqControl);
        let dest = self.lookup_slot_for_cnode_op(false, &root, index, depth)?;
        if self.cap(dest).is_some() {
            return Err(SyscallError::DeleteFirst);
        }
        self.irqs.issued.insert(irq, Line { masked: false });
        self.insert_derived(slot, dest, Cap::IrqHandler { irq });
        Ok(())
    }

    /// The checks of an IRQHandler method: SetNotification needs extra cap
    /// 0 (TruncatedMessage), a notification cap with the right to signal
    /// (InvalidCapability 0); an unknown label is IllegalOperation.
    pub(crate) fn irq_handler_check(
        &self,
        inv: &Invocation,
        extra: &[Option<Cap>],
    ) -> Result<(), SyscallError> {
        match inv.label {
            ACK | CLEAR => Ok(()),
            SET_NOTIFICATION => match extra.first() {
                None => Err(SyscallError::TruncatedMessage),
                Some(Some(Cap::Notification { rights, .. })) if rights.write => Ok(()),
                Some(_) => Err(SyscallError::InvalidCapability { index: 0 }),
            },
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    /// Performs an IRQHandler method `irq_handler_check` accepted: Ack
    /// unmasks the line; SetNotification deletes the cap in the line's
    /// IRQ node slot and puts the notification cap (from `src`) there, as
    /// `src`'s child; Clear deletes it.
    pub(crate) fn irq_handler(&mut self, irq: u64, label: u64, src: Option<(SlotId, Cap)>) {
        let Some(node_slot) = self.irq_slot(irq) else {
            return;
        };
        match label {
            ACK => {
                if let Some(l) = self.irqs.issued.get_mut(&irq) {
                    l.masked = false;
                }
            }
            SET_NOTIFICATION => {
                self.delete(node_slot, true);
                if let Some((s, cap)) = src {
                    // The source may have gone with the deletion (the
                    // last cap to the notification was in the node).
                    if self.cap(s).is_some_and(|c| same_object(&c, &cap)) {
                        self.insert_derived(s, node_slot, cap);
                    }
                }
            }
            CLEAR => self.delete(node_slot, true),
            _ => {}
        }
    }

    /// The last IRQHandler cap to `irq` is deleted: the notification cap
    /// in its IRQ node slot goes, and the line is inactive (masked).
    pub(crate) fn deleting_irq_handler(&mut self, irq: u64) {
        if let Some(s) = self.irq_slot(irq) {
            self.delete(s, false);
        }
        self.irqs.issued.remove(&irq);
    }

    /// Interrupt `irq` arrives (§9.1): on an issued line that is not
    /// waiting for an Ack, the notification in its IRQ node slot (if the
    /// cap there may signal) is signalled with the cap's badge and the line
    /// waits for an Ack. Elsewhere nothing happens (a masked line raises
    /// nothing; the timer's is not modelled). Whether it was delivered.
    pub fn interrupt(&mut self, irq: u64) -> bool {
        match self.irqs.issued.get_mut(&irq) {
            Some(l) if !l.masked => l.masked = true,
            _ => return false,
        }
        if let Some(Cap::Notification { obj, badge, rights }) =
            self.irq_slot(irq).and_then(|s| self.cap(s))
        {
            if rights.write {
                self.signal(obj, badge);
            }
        }
        true
    }
}
