//! The IRQ table: each line's state and its slot in the IRQ node (seL4's
//! `intStateIRQTable` and `intStateIRQNode`, kept in `state`), with the
//! side effect on the interrupt controller. Used by the IRQ invocations
//! (`object::irq`) and by deleting an IRQ handler cap (`cap::finalise`);
//! it calls nothing that deletes capabilities, so it stays below both.

use crate::cap::cte::{cnode_slot, SlotRef};
use crate::state::{kernel, IrqState, IRQ_SLOTS};

/// The state of `irq`.
pub fn state(irq: u16) -> IrqState {
    kernel().irq_state(irq)
}

/// seL4's `setIRQState`: records the state and masks the line unless it
/// is in use. Out of line: issuing a handler and deleting the last one
/// (`cap::delete`) each inlined the masking through the PLIC.
#[inline(never)]
pub fn set_state(irq: u16, s: IrqState) {
    kernel().set_irq_state(irq, s);
    crate::arch::irq_set_masked(irq, s == IrqState::Inactive);
}

/// The IRQ node slot of `irq` (the caller keeps `irq` ≤ `MAX_IRQ`).
pub fn irq_slot(irq: u16) -> Option<SlotRef> {
    let node = kernel().irq_node()?;
    ((irq as usize) < IRQ_SLOTS).then(|| cnode_slot(node, irq as u64))
}
