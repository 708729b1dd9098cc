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
//! minimum of [`ITERATIONS`].

use crate::ipc::{report, wanted, ITERATIONS};
use crate::threads::{start, Failed, Room};
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::cap::init_caps::{CNODE, IRQ_CONTROL, TCB, VSPACE};
use sel4::{
    benchmark, BootInfo, CapRights, Error, Frame, IrqHandler, Notification, ObjectType, PageTable,
    Untyped, Word,
};

/// The UART's physical address and IRQ on QEMU virt (ABI ref §12).
const UART_PADDR: Word = 0x1000_0000;
const UART_IRQ: Word = 10;
/// Where the UART's page is mapped (clear of the image and of the
/// mapping benchmarks' range).
const UART_VADDR: Word = 0x7000_0000;
const PAGE_BITS: u8 = 12;
/// The ns16550a's interrupt-enable and modem-control registers, and the
/// enable bit of the transmitter-empty interrupt.
const IER: usize = 1;
const MCR: usize = 4;
const IER_THR_EMPTY: u8 = 0x02;

/// The handler's notification and IRQ handler caps.
static NTFN: AtomicU64 = AtomicU64::new(0);
static HANDLER: AtomicU64 = AtomicU64::new(0);
/// The handler's `rdcycle` when its Wait returned.
static WOKEN_AT: AtomicU64 = AtomicU64::new(0);

/// Writes UART register `r` (< 8).
fn uart_write(r: usize, v: u8) {
    let reg = (UART_VADDR as *mut u8).wrapping_add(r);
    // SAFETY: the UART's page is mapped read-write at UART_VADDR for the
    // rest of the root task's life (`run` maps it before any write), `r`
    // < 8 stays inside it, and device registers need volatile access.
    unsafe { reg.write_volatile(v) }
}

/// Root CNode slots from `next` on.
struct Slots(Word);

impl Slots {
    fn next(&mut self) -> Word {
        self.0 += 1;
        self.0 - 1
    }
}

fn retype(ut: Untyped, t: ObjectType, bits: Word, slot: Word, n: Word) -> Result<(), Failed> {
    ut.retype(t, bits, CNODE, 0, 0, slot, n)
        .map_err(|e| Failed("retype", e))
}

/// The frame of the device page at `paddr`: the device untyped that holds
/// it split in halves down to one page.
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
        retype(cap, ObjectType::Untyped, Word::from(bits - 1), halves, 2)?;
        bits -= 1;
        let upper = paddr >= base + (1 << bits);
        if upper {
            base += 1 << bits;
        }
        cap = Untyped::from_bits(halves + upper as Word);
    }
    let frame = slots.next();
    retype(cap, ObjectType::SmallPage, 0, frame, 1)?;
    Ok(Frame::from_bits(frame))
}

/// Maps `frame` at `vaddr`, page tables from `ram` as needed.
fn map(frame: Frame, vaddr: Word, ram: Untyped, slots: &mut Slots) -> Result<(), Failed> {
    loop {
        match frame.map(VSPACE, vaddr, CapRights::READ_WRITE, 0) {
            Ok(()) => return Ok(()),
            Err(Error::FailedLookup { .. }) => {
                let pt = slots.next();
                retype(ram, ObjectType::PageTable, 0, pt, 1)?;
                PageTable::from_bits(pt)
                    .map(VSPACE, vaddr, 0)
                    .map_err(|e| Failed("mapping a page table", e))?;
            }
            Err(e) => return Err(Failed("mapping the UART", e)),
        }
    }
}

/// The handler thread: waits, notes the time, silences the UART and
/// acknowledges the interrupt.
fn handler(_: usize) {
    let n = Notification::from_bits(NTFN.load(Ordering::SeqCst));
    let h = IrqHandler::from_bits(HANDLER.load(Ordering::SeqCst));
    loop {
        n.wait();
        WOKEN_AT.store(benchmark::cycles(), Ordering::SeqCst);
        uart_write(IER, 0);
        let _ = h.ack();
    }
}

/// Runs the case with objects from `room` and root slots from `slot` on
/// (about 40: the device untyped's halves, the frame, page tables).
pub fn run(bi: &BootInfo, room: &mut Room, slot: Word) -> Result<(), Failed> {
    if !wanted("irq-to-handler") {
        return Ok(());
    }
    let mut slots = Slots(slot);
    let scratch = Untyped::from_bits(room.create_sized(ObjectType::Untyped, 16)?);
    let frame = device_frame(bi, &mut slots, UART_PADDR)?;
    map(frame, UART_VADDR, scratch, &mut slots)?;
    let h = IrqHandler::from_bits(slots.next());
    IRQ_CONTROL
        .get(UART_IRQ, CNODE, h.bits(), 64)
        .map_err(|e| Failed("IRQControl_Get", e))?;
    let n = room.create(ObjectType::Notification)?;
    h.set_notification(Notification::from_bits(n))
        .map_err(|e| Failed("IRQHandler_SetNotification", e))?;
    NTFN.store(n, Ordering::SeqCst);
    HANDLER.store(h.bits(), Ordering::SeqCst);
    uart_write(IER, 0);
    uart_write(MCR, 0x0B); // DTR, RTS, OUT2 (the interrupt output)
    h.ack().map_err(|e| Failed("IRQHandler_Ack", e))?;
    // The handler runs at once (above the root thread) and waits.
    TCB.set_priority(TCB, 254)
        .map_err(|e| Failed("lowering the root thread", e))?;
    let partner = start(bi, room, None, handler, 255)?;
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        let start = benchmark::cycles();
        uart_write(IER, IER_THR_EMPTY);
        *s = WOKEN_AT.load(Ordering::SeqCst).wrapping_sub(start);
    }
    report("irq-to-handler", &mut samples);
    partner
        .suspend()
        .map_err(|e| Failed("suspending the handler", e))?;
    uart_write(IER, 0);
    TCB.set_priority(TCB, 255)
        .map_err(|e| Failed("restoring the root thread", e))
}
