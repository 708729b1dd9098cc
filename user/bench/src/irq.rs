//! Interrupt delivery to a user handler thread (issue 12, "Figures": the
//! MCS kernel's IRQ-to-handler beside the classic one's): the UART of
//! QEMU virt (ns16550a, IRQ 10, as the demo's driver takes it) raises its
//! transmitter-empty interrupt as soon as the root thread enables it; the
//! kernel takes the interrupt, signals the handler's notification, and
//! the handler thread (priority 255, above the root thread's 254) runs.
//! Timed from just before the root's write to the UART's interrupt-enable
//! register to the handler's Wait returning; the handler then disables
//! the interrupt, acknowledges it (`IRQHandler_Ack`) and waits again.
//!
//! Output: `bench ipc op=irq-to-handler` (MCS: `mcs-ipc`), median and
//! minimum of `ipc::ITERATIONS` (`threads::time_wake_ups`).

use crate::ipc::wanted;
use crate::threads::{start, time_wake_ups, Failed, Room, WOKEN_AT};
use cairn_rt::alloc::SlotAllocator;
use cairn_rt::uart::{self, IER, IER_THR_EMPTY, MCR, MCR_INTERRUPTS};
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::abi::bootinfo::SlotRegion;
use sel4::cap::init_caps::{CNODE, IRQ_CONTROL, TCB};
use sel4::{benchmark, BootInfo, IrqHandler, Notification, ObjectType, Untyped, Word};

/// Root CNode slots the case takes (the device untyped's halves, the
/// frame, page tables, the IRQ handler).
const SLOTS: Word = 64;

/// The handler's notification and IRQ handler caps.
static NTFN: AtomicU64 = AtomicU64::new(0);
static HANDLER: AtomicU64 = AtomicU64::new(0);

impl From<uart::Failed> for Failed {
    fn from(uart::Failed(what, e): uart::Failed) -> Self {
        Failed(what, e)
    }
}

/// The handler thread: waits, notes the time, silences the UART and
/// acknowledges the interrupt.
fn handler(_: usize) {
    let n = Notification::from_bits(NTFN.load(Ordering::SeqCst));
    let h = IrqHandler::from_bits(HANDLER.load(Ordering::SeqCst));
    let uart = uart::mapped();
    loop {
        n.wait();
        WOKEN_AT.store(benchmark::cycles(), Ordering::SeqCst);
        if let Some(u) = uart {
            u.write(IER, 0);
        }
        let _ = h.ack();
    }
}

/// Runs the case with objects from `room` and root slots from `slot` on
/// ([`SLOTS`] of them).
pub fn run(bi: &BootInfo, room: &mut Room, slot: Word) -> Result<(), Failed> {
    if !wanted("irq-to-handler") {
        return Ok(());
    }
    let mut slots = SlotAllocator::new(SlotRegion {
        start: slot,
        end: slot + SLOTS,
    });
    let scratch = Untyped::from_bits(room.create_sized(ObjectType::Untyped, 16)?);
    let u = uart::map(bi, scratch, &mut slots)?;
    let h = IrqHandler::from_bits(uart::take(&mut slots, 1)?);
    IRQ_CONTROL
        .get(uart::IRQ, CNODE, h.bits(), 64)
        .map_err(|e| Failed("IRQControl_Get", e))?;
    let n = room.create(ObjectType::Notification)?;
    h.set_notification(Notification::from_bits(n))
        .map_err(|e| Failed("IRQHandler_SetNotification", e))?;
    NTFN.store(n, Ordering::SeqCst);
    HANDLER.store(h.bits(), Ordering::SeqCst);
    u.write(IER, 0);
    u.write(MCR, MCR_INTERRUPTS);
    h.ack().map_err(|e| Failed("IRQHandler_Ack", e))?;
    // The handler runs at once (above the root thread) and waits.
    TCB.set_priority(TCB, 254)
        .map_err(|e| Failed("lowering the root thread", e))?;
    let partner = start(bi, room, None, handler, 255)?;
    let timed = time_wake_ups("irq-to-handler", partner, || u.write(IER, IER_THR_EMPTY));
    u.write(IER, 0);
    timed
}
