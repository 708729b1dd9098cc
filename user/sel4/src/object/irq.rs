//! Interrupts (ch. 8 Hardware I/O, *Interrupt Delivery*; ABI ref §7.5, §12):
//! IRQ control and IRQ handler caps.

use super::invoke;
use crate::cap::{CNode, IrqControl, IrqHandler, Notification};
use crate::error::Error;
use crate::message::Message;
use cairn_abi::invocation::label;
use cairn_abi::Word;

/// Marshals `seL4_IRQControl_Get`: MR0 irq, MR1 index, MR2 depth; extra cap
/// 0 the destination root.
pub fn get_msg(irq: Word, root: CNode, index: Word, depth: u8) -> Message {
    Message::new(
        label::IRQ_ISSUE_IRQ_HANDLER,
        &[irq, index, Word::from(depth)],
        &[root.cptr()],
    )
}

/// Marshals `seL4_IRQControl_GetTrigger`: MR0 irq, MR1 trigger (0 level,
/// 1 edge), MR2 index, MR3 depth; extra cap 0 the destination root.
pub fn get_trigger_msg(irq: Word, trigger: Word, root: CNode, index: Word, depth: u8) -> Message {
    Message::new(
        label::RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER,
        &[irq, trigger, index, Word::from(depth)],
        &[root.cptr()],
    )
}

impl IrqControl {
    /// `seL4_IRQControl_Get`: an IRQ handler cap for `irq` into the slot.
    pub fn get(self, irq: Word, root: CNode, index: Word, depth: u8) -> Result<(), Error> {
        invoke(self.cptr(), &get_msg(irq, root, index, depth)).map(drop)
    }

    /// `seL4_IRQControl_GetTrigger`.
    pub fn get_trigger(
        self,
        irq: Word,
        trigger: Word,
        root: CNode,
        index: Word,
        depth: u8,
    ) -> Result<(), Error> {
        invoke(
            self.cptr(),
            &get_trigger_msg(irq, trigger, root, index, depth),
        )
        .map(drop)
    }
}

impl IrqHandler {
    /// `seL4_IRQHandler_Ack`.
    pub fn ack(self) -> Result<(), Error> {
        invoke(self.cptr(), &Message::empty(label::IRQ_ACK_IRQ)).map(drop)
    }

    /// `seL4_IRQHandler_SetNotification`.
    pub fn set_notification(self, notification: Notification) -> Result<(), Error> {
        invoke(
            self.cptr(),
            &Message::new(label::IRQ_SET_IRQ_HANDLER, &[], &[notification.cptr()]),
        )
        .map(drop)
    }

    /// `seL4_IRQHandler_Clear`.
    pub fn clear(self) -> Result<(), Error> {
        invoke(self.cptr(), &Message::empty(label::IRQ_CLEAR_IRQ_HANDLER)).map(drop)
    }
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::object::testing::{ok, one_call};

    #[test]
    fn control() {
        let m = get_msg(10, CNode::from_bits(2), 200, 64);
        assert_eq!(
            (m.label(), m.mrs(), m.caps()),
            (26, &[10, 200, 64][..], &[2][..])
        );
        let m = get_trigger_msg(10, 1, CNode::from_bits(2), 200, 64);
        assert_eq!(
            (m.label(), m.mrs(), m.caps()),
            (40, &[10, 1, 200, 64][..], &[2][..])
        );
    }

    #[test]
    fn handler() {
        let h = IrqHandler::from_bits(200);
        let (_, _, m) = one_call(ok(), || h.ack());
        assert_eq!(m.label(), 27);
        let (_, _, m) = one_call(ok(), || h.set_notification(Notification::from_bits(41)));
        assert_eq!((m.label(), m.caps()), (28, &[41][..]));
        let (_, _, m) = one_call(ok(), || h.clear());
        assert_eq!(m.label(), 29);
    }
}
