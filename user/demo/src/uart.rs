//! A user-level UART driver, as seL4 systems have them (ch. 8 Hardware
//! I/O): the root task maps QEMU virt's ns16550a from its device untyped
//! (`cairn_rt::uart::map`), takes the UART's interrupt (IRQ 10) through a
//! notification, and echoes what is typed until Enter.
//!
//! Steps, each an invocation the kernel checks:
//! 1. split the device untyped that covers the UART down to its 4 KiB page
//!    and retype that page into a frame; map it (`cairn_rt::uart`);
//! 2. `IRQControl_Get(10)`, a notification, `IRQHandler_SetNotification`;
//! 3. enable the UART's receive interrupt, `IRQHandler_Ack`, then wait:
//!    each signal means input; read it, echo it, Ack.

use cairn_rt::alloc::SlotAllocator;
use cairn_rt::println;
use cairn_rt::uart::{self, Failed, IER, LSR, LSR_DATA_READY, MCR, RBR_THR};
use sel4::cap::init_caps::{CNODE, IRQ_CONTROL};
use sel4::{BootInfo, Error, IrqHandler, Notification, ObjectType, Untyped};

/// Longest line kept (the rest is echoed but not kept).
const LINE: usize = 64;

/// Sets up the driver and echoes one line; returns it (up to [`LINE`]
/// bytes) and its length.
pub fn run(bi: &BootInfo, slots: &mut SlotAllocator) -> Result<([u8; LINE], usize), Failed> {
    let ram = bi
        .untypeds()
        .filter(|u| !u.is_device && u.size_bits >= 16)
        .min_by_key(|u| u.size_bits)
        .ok_or(Failed(
            "no RAM untyped",
            Error::NotEnoughMemory { available: 0 },
        ))?;
    let scratch = Untyped::from_bits(uart::take(slots, 1)?);
    ram.cap
        .retype(ObjectType::Untyped, 16, CNODE, 0, 0, scratch.bits(), 1)
        .map_err(|e| Failed("carving scratch memory", e))?;
    let uart = uart::map(bi, scratch, slots)?;
    let handler = IrqHandler::from_bits(uart::take(slots, 1)?);
    IRQ_CONTROL
        .get(uart::IRQ, CNODE, handler.bits(), 64)
        .map_err(|e| Failed("IRQControl_Get", e))?;
    let ntfn = Notification::from_bits(uart::take(slots, 1)?);
    scratch
        .retype(ObjectType::Notification, 0, CNODE, 0, 0, ntfn.bits(), 1)
        .map_err(|e| Failed("retyping the notification", e))?;
    handler
        .set_notification(ntfn)
        .map_err(|e| Failed("IRQHandler_SetNotification", e))?;

    uart.write(MCR, uart::MCR_INTERRUPTS);
    uart.write(IER, uart::IER_RX_AVAILABLE);
    handler.ack().map_err(|e| Failed("IRQHandler_Ack", e))?;
    println!(
        "cairn-demo: user-level UART driver ready (IRQ {}); type a line:",
        uart::IRQ
    );

    let (mut line, mut len) = ([0u8; LINE], 0);
    loop {
        ntfn.wait();
        while uart.read(LSR) & LSR_DATA_READY != 0 {
            let c = uart.read(RBR_THR);
            if c == b'\r' || c == b'\n' {
                uart.put(b'\r');
                uart.put(b'\n');
                uart.write(IER, 0);
                handler.ack().map_err(|e| Failed("IRQHandler_Ack", e))?;
                return Ok((line, len));
            }
            uart.put(c);
            if let Some(slot) = line.get_mut(len) {
                *slot = c;
                len += 1;
            }
        }
        handler.ack().map_err(|e| Failed("IRQHandler_Ack", e))?;
    }
}
