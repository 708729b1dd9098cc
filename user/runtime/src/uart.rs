//! QEMU virt's UART (an ns16550a) for user-level drivers: the demo's echo
//! driver and the benchmarks' interrupt case both map it from its device
//! untyped and take its interrupt (IRQ 10) through a notification; what
//! they share is here, said once.
//!
//! [`map`] splits the device untyped that covers the UART down to its
//! 4 KiB page (`Untyped_Retype` into two halves, keeping the half with the
//! UART), retypes that page into a frame and maps it at [`VADDR`] (page
//! tables from RAM as `Page_Map` asks for them; device memory is uncached
//! by the platform's PMAs). It hands back a [`Uart`], the only way to one,
//! so the registers are never touched before the page is mapped.
//!
//! The kernel's console (OpenSBI's putchar) writes to the same UART; both
//! only ever wait for the transmitter to be empty, so they interleave.

use crate::alloc::SlotAllocator;
use core::sync::atomic::{AtomicBool, Ordering};
use sel4::cap::init_caps::{CNODE, VSPACE};
use sel4::{BootInfo, CapRights, Error, Frame, ObjectType, PageTable, Untyped, Word};

/// The UART's physical address and IRQ on QEMU virt (ABI ref §12).
pub const PADDR: Word = 0x1000_0000;
/// The UART's interrupt line at the PLIC.
pub const IRQ: Word = 10;
/// Where [`map`] maps the UART's page (clear of the image and of the
/// benchmarks' mapping range).
pub const VADDR: Word = 0x7000_0000;
const PAGE_BITS: u8 = 12;

/// Receive buffer (read) and transmit holding register (write).
pub const RBR_THR: usize = 0;
/// Interrupt enable.
pub const IER: usize = 1;
/// Modem control.
pub const MCR: usize = 4;
/// Line status.
pub const LSR: usize = 5;
/// `IER`: interrupt when received data is available.
pub const IER_RX_AVAILABLE: u8 = 0x01;
/// `IER`: interrupt when the transmitter holding register is empty.
pub const IER_THR_EMPTY: u8 = 0x02;
/// `MCR`: DTR, RTS and OUT2 (which gates the interrupt output).
pub const MCR_INTERRUPTS: u8 = 0x0B;
/// `LSR`: a received byte is waiting.
pub const LSR_DATA_READY: u8 = 0x01;
/// `LSR`: the transmitter can take a byte.
pub const LSR_THR_EMPTY: u8 = 0x20;

/// What went wrong: the step and the kernel's error.
pub struct Failed(pub &'static str, pub Error);

/// The UART's registers, one byte apart (QEMU virt: reg-shift 0), mapped
/// at [`VADDR`]. Made only once [`map`] has mapped the page: by `map`
/// itself, or by [`mapped`] for the root task's other threads.
#[derive(Clone, Copy)]
pub struct Uart(*mut u8);

/// Whether [`map`] has mapped the UART's page.
static MAPPED: AtomicBool = AtomicBool::new(false);

/// The UART, once [`map`] has mapped it (from any thread of the root task).
pub fn mapped() -> Option<Uart> {
    MAPPED
        .load(Ordering::Acquire)
        .then_some(Uart(VADDR as *mut u8))
}

impl Uart {
    /// Reads register `r` (< 8).
    pub fn read(&self, r: usize) -> u8 {
        // SAFETY: a `Uart` exists only once `map` has mapped the UART's
        // page read-write at `self.0` (`VADDR`), and the root task never
        // unmaps it;
        // `r` < 8 stays inside the page, and device registers need
        // volatile access.
        unsafe { self.0.wrapping_add(r).read_volatile() }
    }

    /// Writes `v` to register `r` (< 8).
    pub fn write(&self, r: usize, v: u8) {
        // SAFETY: as in `read`.
        unsafe { self.0.wrapping_add(r).write_volatile(v) }
    }

    /// Sends `c` once the transmitter is empty.
    pub fn put(&self, c: u8) {
        while self.read(LSR) & LSR_THR_EMPTY == 0 {
            core::hint::spin_loop();
        }
        self.write(RBR_THR, c);
    }
}

/// The first of `n` free root CNode slots (a driver's own slots too).
pub fn take(slots: &mut SlotAllocator, n: Word) -> Result<Word, Failed> {
    slots.alloc_range(n).map(|r| r.start).ok_or(Failed(
        "out of root CNode slots",
        Error::NotEnoughMemory { available: 0 },
    ))
}

fn retype(ut: Untyped, t: ObjectType, bits: Word, slot: Word, n: Word) -> Result<(), Error> {
    ut.retype(t, bits, CNODE, 0, 0, slot, n)
}

/// The frame of the device page at `paddr`: splits the device untyped
/// that holds it in halves down to one page.
fn device_frame(bi: &BootInfo, slots: &mut SlotAllocator, paddr: Word) -> Result<Frame, Failed> {
    let ut = bi
        .untypeds()
        .find(|u| u.is_device && u.paddr <= paddr && paddr - u.paddr < u.size().unwrap_or(0))
        .ok_or(Failed(
            "no device untyped holds the UART",
            Error::IllegalOperation,
        ))?;
    let (mut cap, mut base, mut bits) = (ut.cap, ut.paddr, ut.size_bits);
    while bits > PAGE_BITS {
        let halves = take(slots, 2)?;
        retype(cap, ObjectType::Untyped, Word::from(bits - 1), halves, 2)
            .map_err(|e| Failed("splitting the device untyped", e))?;
        bits -= 1;
        let upper = paddr >= base + (1 << bits);
        if upper {
            base += 1 << bits;
        }
        cap = Untyped::from_bits(halves + upper as Word);
    }
    let frame = take(slots, 1)?;
    retype(cap, ObjectType::SmallPage, 0, frame, 1)
        .map_err(|e| Failed("retyping the UART frame", e))?;
    Ok(Frame::from_bits(frame))
}

/// Maps the UART's page at [`VADDR`] in the root task's VSpace, with
/// root CNode slots from `slots` (one frame, two for each halving of the
/// device untyped, one for each page table) and page tables from `ram`.
pub fn map(bi: &BootInfo, ram: Untyped, slots: &mut SlotAllocator) -> Result<Uart, Failed> {
    let frame = device_frame(bi, slots, PADDR)?;
    loop {
        match frame.map(VSPACE, VADDR, CapRights::READ_WRITE, 0) {
            Ok(()) => {
                MAPPED.store(true, Ordering::Release);
                return Ok(Uart(VADDR as *mut u8));
            }
            Err(Error::FailedLookup { .. }) => {
                let pt = take(slots, 1)?;
                retype(ram, ObjectType::PageTable, 0, pt, 1)
                    .map_err(|e| Failed("retyping a page table", e))?;
                PageTable::from_bits(pt)
                    .map(VSPACE, VADDR, 0)
                    .map_err(|e| Failed("mapping a page table", e))?;
            }
            Err(e) => return Err(Failed("mapping the UART", e)),
        }
    }
}
