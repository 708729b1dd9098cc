//! A user-level UART driver, as seL4 systems have them (ch. 8 Hardware
//! I/O): the root task maps QEMU virt's ns16550a from its device untyped,
//! takes the UART's interrupt (IRQ 10) through a notification, and echoes
//! what is typed until Enter.
//!
//! Steps, each an invocation the kernel checks:
//! 1. split the device untyped that covers the UART down to its 4 KiB page
//!    (`Untyped_Retype` into two halves, keeping the half with the UART)
//!    and retype that page into a frame;
//! 2. map it at [`UART_VADDR`] (page tables from RAM as `Page_Map` asks
//!    for them); device memory is uncached by the platform's PMAs;
//! 3. `IRQControl_Get(10)`, a notification, `IRQHandler_SetNotification`;
//! 4. enable the UART's receive interrupt, `IRQHandler_Ack`, then wait:
//!    each signal means input; read it, echo it, Ack.
//!
//! The kernel's console (OpenSBI's putchar) writes to the same UART; both
//! only ever wait for the transmitter to be empty, so they interleave.

use cairn_rt::println;
use sel4::cap::init_caps::{CNODE, IRQ_CONTROL, VSPACE};
use sel4::{
    BootInfo, CapRights, Error, Frame, IrqHandler, Notification, ObjectType, PageTable, Untyped,
    Word,
};

/// The UART's physical address and IRQ on QEMU virt (ABI ref §12).
const UART_PADDR: Word = 0x1000_0000;
const UART_IRQ: Word = 10;
/// Where the driver maps the UART's page.
pub const UART_VADDR: Word = 0x7000_0000;
const PAGE_BITS: u8 = 12;
/// Longest line kept (the rest is echoed but not kept).
const LINE: usize = 64;

/// What went wrong, for the demo's output.
pub struct Failed(pub &'static str, pub Error);

/// Hands out root CNode slots from BootInfo's empty region.
pub struct Slots(pub Word);

impl Slots {
    fn next(&mut self) -> Word {
        self.0 += 1;
        self.0 - 1
    }
}

fn retype(ut: Untyped, t: ObjectType, bits: Word, slot: Word, n: Word) -> Result<(), Error> {
    ut.retype(t, bits, CNODE, 0, 0, slot, n)
}

/// The frame of the device page at `paddr`: splits the device untyped
/// that holds it in halves down to one page.
fn device_frame(bi: &BootInfo, slots: &mut Slots, paddr: Word) -> Result<Frame, Failed> {
    let ut = bi
        .untypeds()
        .find(|u| u.is_device && u.paddr <= paddr && paddr - u.paddr < u.size().unwrap_or(0))
        .ok_or(Failed(
            "no device untyped holds the UART",
            Error::IllegalOperation,
        ))?;
    let (mut cap, mut base, mut bits) = (ut.cap, ut.paddr, ut.size_bits);
    while bits > PAGE_BITS {
        let halves = slots.next();
        slots.next();
        retype(cap, ObjectType::Untyped, Word::from(bits - 1), halves, 2)
            .map_err(|e| Failed("splitting the device untyped", e))?;
        bits -= 1;
        let upper = paddr >= base + (1 << bits);
        if upper {
            base += 1 << bits;
        }
        cap = Untyped::from_bits(halves + upper as Word);
    }
    let frame = slots.next();
    retype(cap, ObjectType::SmallPage, 0, frame, 1)
        .map_err(|e| Failed("retyping the UART frame", e))?;
    Ok(Frame::from_bits(frame))
}

/// Maps `frame` at `vaddr`, making page tables from `ram` as needed.
fn map(frame: Frame, vaddr: Word, ram: Untyped, slots: &mut Slots) -> Result<(), Failed> {
    loop {
        match frame.map(VSPACE, vaddr, CapRights::READ_WRITE, 0) {
            Ok(()) => return Ok(()),
            Err(Error::FailedLookup { .. }) => {
                let pt = slots.next();
                retype(ram, ObjectType::PageTable, 0, pt, 1)
                    .map_err(|e| Failed("retyping a page table", e))?;
                PageTable::from_bits(pt)
                    .map(VSPACE, vaddr, 0)
                    .map_err(|e| Failed("mapping a page table", e))?;
            }
            Err(e) => return Err(Failed("mapping the UART", e)),
        }
    }
}

/// The ns16550a's registers, one byte apart (QEMU virt: reg-shift 0).
struct Uart(*mut u8);

const RBR_THR: usize = 0;
const IER: usize = 1;
const MCR: usize = 4;
const LSR: usize = 5;
const LSR_DATA_READY: u8 = 0x01;
const LSR_THR_EMPTY: u8 = 0x20;

impl Uart {
    fn read(&self, r: usize) -> u8 {
        // SAFETY: the UART's page is mapped read-write at `self.0` for
        // the rest of the root task's life (`map`), `r` < 8 stays inside
        // it, and device registers need volatile access.
        unsafe { self.0.add(r).read_volatile() }
    }

    fn write(&self, r: usize, v: u8) {
        // SAFETY: as in `read`.
        unsafe { self.0.add(r).write_volatile(v) }
    }

    fn put(&self, c: u8) {
        while self.read(LSR) & LSR_THR_EMPTY == 0 {
            core::hint::spin_loop();
        }
        self.write(RBR_THR, c);
    }
}

/// Sets up the driver and echoes one line; returns it (up to [`LINE`]
/// bytes) and its length.
pub fn run(bi: &BootInfo, slots: &mut Slots) -> Result<([u8; LINE], usize), Failed> {
    let ram = bi
        .untypeds()
        .filter(|u| !u.is_device && u.size_bits >= 16)
        .min_by_key(|u| u.size_bits)
        .ok_or(Failed(
            "no RAM untyped",
            Error::NotEnoughMemory { available: 0 },
        ))?;
    let scratch = Untyped::from_bits(slots.next());
    retype(ram.cap, ObjectType::Untyped, 16, scratch.bits(), 1)
        .map_err(|e| Failed("carving scratch memory", e))?;
    let frame = device_frame(bi, slots, UART_PADDR)?;
    map(frame, UART_VADDR, scratch, slots)?;
    let handler = IrqHandler::from_bits(slots.next());
    IRQ_CONTROL
        .get(UART_IRQ, CNODE, handler.bits(), 64)
        .map_err(|e| Failed("IRQControl_Get", e))?;
    let ntfn = Notification::from_bits(slots.next());
    retype(scratch, ObjectType::Notification, 0, ntfn.bits(), 1)
        .map_err(|e| Failed("retyping the notification", e))?;
    handler
        .set_notification(ntfn)
        .map_err(|e| Failed("IRQHandler_SetNotification", e))?;

    let uart = Uart(UART_VADDR as *mut u8);
    uart.write(MCR, 0x0B); // DTR, RTS, OUT2 (the interrupt output)
    uart.write(IER, 0x01); // interrupt when received data is available
    handler.ack().map_err(|e| Failed("IRQHandler_Ack", e))?;
    println!("cairn-demo: user-level UART driver ready (IRQ {UART_IRQ}); type a line:");

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
