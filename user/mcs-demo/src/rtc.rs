//! The timer that releases the control loop: QEMU virt's Goldfish RTC, a
//! 64-bit nanosecond clock with one alarm that raises IRQ 11, driven from
//! user space as seL4 systems drive their timers (seL4's own user-level
//! timer for qemu-riscv-virt uses this device too). The kernel's timer is
//! the kernel's; user space gets time from a device of its own.
//!
//! QEMU runs the RTC on the clock `-rtc clock=vm` selects: the virtual
//! clock, which under `-icount shift=0` advances one nanosecond per
//! instruction (`qemu::ICOUNT_ARGS` in the xtask), so alarms and readings
//! are in instructions and the same on every run.
//!
//! Setting it up is the UART driver's recipe (`user/demo/src/uart.rs`):
//! the device untyped that holds the page is split down to it, the frame
//! mapped, the IRQ's handler cap bound to a notification.

use cairn_rt::alloc::{create_object, SlotAllocator, UntypedAllocator};
use sel4::cap::init_caps::{CNODE, IRQ_CONTROL, VSPACE};
use sel4::{
    BootInfo, CapRights, Error, Frame, IrqHandler, Notification, ObjectType, PageTable, Untyped,
    Word,
};

/// The RTC's page and IRQ on QEMU virt (its device tree's `rtc@101000`).
const RTC_PADDR: Word = 0x10_1000;
pub const RTC_IRQ: Word = 11;
/// The badge of the timer's signals.
pub const TIMER_BADGE: Word = 1;
/// Where the root task maps it.
const RTC_VADDR: Word = 0x7000_0000;
const PAGE_BITS: u8 = 12;

// Goldfish RTC registers, 32 bits each (QEMU's hw/rtc/goldfish_rtc.c).
const TIME_LOW: usize = 0x00;
const TIME_HIGH: usize = 0x04;
const ALARM_LOW: usize = 0x08;
const ALARM_HIGH: usize = 0x0c;
const IRQ_ENABLED: usize = 0x10;
const CLEAR_INTERRUPT: usize = 0x1c;

/// The mapped RTC: the root task sets it up, then only the control loop
/// uses it.
#[derive(Clone, Copy)]
pub struct Rtc(Word);

/// The RTC, its IRQ handler and the notification the IRQ signals.
pub struct Timer {
    pub rtc: Rtc,
    pub irq: IrqHandler,
    pub ntfn: Notification,
}

/// What failed while setting up the timer.
pub type Failed = (&'static str, Error);

impl Rtc {
    /// The RTC as [`Timer::new`] maps it.
    pub fn mapped() -> Rtc {
        Rtc(RTC_VADDR)
    }

    fn read(self, r: usize) -> u32 {
        // SAFETY: the RTC's page is mapped read-write at `self.0` for the
        // root task's whole life (`Timer::new`), `r` < 0x20 stays inside
        // it, and device registers need volatile 32-bit accesses.
        unsafe { ((self.0 as usize + r) as *const u32).read_volatile() }
    }

    fn write(self, r: usize, v: u32) {
        // SAFETY: as in `read`.
        unsafe { ((self.0 as usize + r) as *mut u32).write_volatile(v) }
    }

    /// The time in ns. The device's description has a read of the low
    /// half latch the high half, QEMU 7.2 reads the clock again: two
    /// readings with the same high half, the second one taken, are right
    /// either way (the low half wraps every 4.3 s).
    pub fn now(self) -> u64 {
        loop {
            let _ = self.read(TIME_LOW);
            let high = self.read(TIME_HIGH);
            let low = self.read(TIME_LOW);
            if self.read(TIME_HIGH) == high {
                return (u64::from(high) << 32) | u64::from(low);
            }
        }
    }

    /// Raises the IRQ at `at` (ns; at once if that has passed). The low
    /// half's write arms it.
    pub fn set_alarm(self, at: u64) {
        self.write(ALARM_HIGH, (at >> 32) as u32);
        self.write(ALARM_LOW, at as u32);
    }

    /// Lowers the IRQ line (the device keeps it raised until told).
    pub fn clear_interrupt(self) {
        self.write(CLEAR_INTERRUPT, 1);
    }
}

impl Timer {
    /// Maps the RTC, takes its IRQ and binds it to a new notification;
    /// the alarm's IRQ is enabled at the device and acknowledged once, so
    /// the first alarm signals.
    pub fn new(
        bi: &BootInfo,
        ram: &mut UntypedAllocator,
        slots: &mut SlotAllocator,
    ) -> Result<Timer, Failed> {
        let frame = device_frame(bi, slots)?;
        map(frame, ram, slots)?;
        let irq = IrqHandler::from_bits(slots.alloc().ok_or(NO_SLOTS)?.0);
        IRQ_CONTROL
            .get(RTC_IRQ, CNODE, irq.bits(), 64)
            .map_err(|e| ("IRQControl_Get", e))?;
        let ntfn = create_object(ram, slots, ObjectType::Notification, 0).map_err(|_| {
            (
                "retyping the notification",
                Error::NotEnoughMemory { available: 0 },
            )
        })?;
        let ntfn = Notification::from_bits(ntfn.0);
        // The IRQ signals through a badged copy, so that a wake-up says
        // it came from the timer.
        let badged = slots.alloc().ok_or(NO_SLOTS)?.0;
        CNODE
            .mint(
                badged,
                64,
                CNODE,
                ntfn.bits(),
                64,
                CapRights::ALL,
                TIMER_BADGE,
            )
            .map_err(|e| ("CNode_Mint", e))?;
        irq.set_notification(Notification::from_bits(badged))
            .map_err(|e| ("IRQHandler_SetNotification", e))?;
        let rtc = Rtc(RTC_VADDR);
        rtc.clear_interrupt();
        rtc.write(IRQ_ENABLED, 1);
        irq.ack().map_err(|e| ("IRQHandler_Ack", e))?;
        Ok(Timer { rtc, irq, ntfn })
    }
}

const NO_SLOTS: Failed = (
    "out of CNode slots",
    Error::NotEnoughMemory { available: 0 },
);

/// The frame of the RTC's page: the device untyped holding it, split in
/// halves down to one page.
fn device_frame(bi: &BootInfo, slots: &mut SlotAllocator) -> Result<Frame, Failed> {
    let ut = bi
        .untypeds()
        .find(|u| {
            u.is_device && u.paddr <= RTC_PADDR && RTC_PADDR - u.paddr < u.size().unwrap_or(0)
        })
        .ok_or(("no device untyped holds the RTC", Error::IllegalOperation))?;
    let (mut cap, mut base, mut bits) = (ut.cap, ut.paddr, ut.size_bits);
    while bits > PAGE_BITS {
        let halves = slots.alloc_range(2).ok_or(NO_SLOTS)?.start;
        cap.retype(
            ObjectType::Untyped,
            Word::from(bits - 1),
            CNODE,
            0,
            0,
            halves,
            2,
        )
        .map_err(|e| ("splitting the device untyped", e))?;
        bits -= 1;
        let upper = RTC_PADDR >= base + (1 << bits);
        if upper {
            base += 1 << bits;
        }
        cap = Untyped::from_bits(halves + Word::from(upper));
    }
    let frame = slots.alloc().ok_or(NO_SLOTS)?.0;
    cap.retype(ObjectType::SmallPage, 0, CNODE, 0, 0, frame, 1)
        .map_err(|e| ("retyping the RTC's frame", e))?;
    Ok(Frame::from_bits(frame))
}

/// Maps `frame` at [`RTC_VADDR`], with page tables from RAM as needed.
fn map(frame: Frame, ram: &mut UntypedAllocator, slots: &mut SlotAllocator) -> Result<(), Failed> {
    loop {
        match frame.map(VSPACE, RTC_VADDR, CapRights::READ_WRITE, 0) {
            Ok(()) => return Ok(()),
            Err(Error::FailedLookup { .. }) => {
                let pt = create_object(ram, slots, ObjectType::PageTable, 0).map_err(|_| {
                    (
                        "retyping a page table",
                        Error::NotEnoughMemory { available: 0 },
                    )
                })?;
                PageTable::from_bits(pt.0)
                    .map(VSPACE, RTC_VADDR, 0)
                    .map_err(|e| ("mapping a page table", e))?;
            }
            Err(e) => return Err(("mapping the RTC", e)),
        }
    }
}
