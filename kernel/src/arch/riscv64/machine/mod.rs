//! The RISC-V 64 bare-metal machine layer (QEMU `virt`, Sv39, S-mode under
//! OpenSBI). It owns everything that touches the hardware: boot (`_start`,
//! the kernel's page table), trap entry and exit, CSRs, SBI calls,
//! device-tree parsing, the timer and the PLIC. Generic code reaches it only
//! through the machine interface re-exported by `crate::arch` (see
//! `arch/mod.rs`). Upward it calls only an `arch::Kernel`, which the kernel
//! binary plugs in with [`machine_entry_points!`](crate::machine_entry_points).
//!
//! Kernel virtual memory (ABI ref §6.2), built once at boot by `entry`:
//!
//! ```text
//! root entry  virtual range                               maps
//!   0..=255   user space                                  (per VSpace)
//! 256..=509   PPTR_BASE 0xFFFFFFC000000000 ..             paddr 0 .. 254 GiB (1 GiB leaves)
//!   510       KERNEL_ELF window 0xFFFFFFFF80000000 ..     paddr 0x80000000 .. (1 GiB leaf)
//!   511       unused (devices are reached through the PPTR window)
//! ```
//!
//! Machine state (platform description, tick length, SBI features) is one
//! [`Machine`] written once at boot and read through [`machine`].
#![allow(unsafe_code)]

mod csr;
mod entry;
mod entry_points;
mod fpu;
mod panic;
mod platform;
mod plic;
mod sbi;
mod stack;
mod timer;
mod trap;

use crate::types::{PAddr, VSpaceWord};
use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

pub use csr::interrupt_pending;
/// The cycle counter (instructions under `qemu -icount`), for benchmark
/// figures.
pub use csr::read_cycle as cycles;
#[doc(hidden)]
pub use entry::boot_main;
pub use fpu::{fpu_load, fpu_save};
pub use platform::Platform;
pub use plic::{plic_disable, plic_enable};
#[doc(hidden)]
pub use trap::{fastpath_trap, user_trap};

/// Masks (`masked`) or unmasks IRQ `irq` at the PLIC.
pub fn irq_set_masked(irq: u16, masked: bool) {
    if masked {
        plic_disable(irq as u32);
    } else {
        plic_enable(irq as u32);
    }
}
pub use timer::{now, set_deadline, timebase_hz};

/// Virtual address of physical address 0 in the physical-memory window.
pub const PPTR_BASE: u64 = 0xFFFF_FFC0_0000_0000;
/// End of the physical-memory window (`PPTR_TOP`); the kernel-ELF window
/// starts here.
pub const PPTR_TOP: u64 = 0xFFFF_FFFF_8000_0000;
/// Virtual address the kernel is linked at (`KERNEL_ELF_BASE`).
pub const KERNEL_ELF_BASE: u64 = 0xFFFF_FFFF_8020_0000;
/// Virtual minus physical address inside the kernel-ELF window.
pub const KERNEL_ELF_OFFSET: u64 = 0xFFFF_FFFF_0000_0000;
/// First physical address beyond the window (`PADDR_TOP`).
pub const PADDR_TOP: u64 = PPTR_TOP - PPTR_BASE;

/// Everything the machine layer learnt at boot.
pub struct Machine {
    /// The platform as described by the device tree.
    pub platform: Platform,
    /// Timer ticks (timebase units) per kernel tick.
    pub tick: u64,
    /// The SBI TIME extension is present (else legacy set_timer).
    pub sbi_time: bool,
}

/// A value written once during boot and read-only afterwards.
struct BootOnce<T> {
    /// 0 empty, 1 being written, 2 ready.
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written once, before `state` becomes 2 (Release), and
// only shared references are handed out after that (Acquire), so no thread
// can observe a partial write or a write racing a read.
unsafe impl<T: Sync> Sync for BootOnce<T> {}

impl<T> BootOnce<T> {
    const fn new() -> Self {
        BootOnce {
            state: AtomicU8::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Stores the value; a second call is refused and gets `v` back.
    fn set(&self, v: T) -> Result<(), T> {
        if self
            .state
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(v);
        }
        // SAFETY: the compare-exchange above made us the only writer, and no
        // reader looks at `value` until `state` is 2.
        unsafe { (*self.value.get()).write(v) };
        self.state.store(2, Ordering::Release);
        Ok(())
    }

    fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) != 2 {
            return None;
        }
        // SAFETY: state 2 means the value was fully written and is never
        // written again.
        Some(unsafe { (*self.value.get()).assume_init_ref() })
    }
}

static MACHINE: BootOnce<Machine> = BootOnce::new();

/// The machine description, once boot has parsed the platform.
pub fn machine() -> Option<&'static Machine> {
    MACHINE.get()
}

/// Kernel virtual address of physical address `pa` (physical-memory window).
pub fn paddr_to_kptr(pa: PAddr) -> usize {
    (pa.0.wrapping_add(PPTR_BASE)) as usize
}

/// Kernel virtual address of the range `[pa, pa + len)`: its start's (the
/// window covers all RAM; the host checks and records the whole range).
#[inline]
pub fn paddr_range_to_kptr(pa: PAddr, _len: u64) -> usize {
    paddr_to_kptr(pa)
}

/// Physical address of kernel pointer `p`, from either the physical-memory
/// window or the kernel-ELF window.
pub fn kptr_to_paddr(p: usize) -> PAddr {
    let v = p as u64;
    if v >= PPTR_TOP {
        PAddr(v.wrapping_sub(KERNEL_ELF_OFFSET))
    } else {
        PAddr(v.wrapping_sub(PPTR_BASE))
    }
}

/// Kernel console output (SBI legacy console_putchar).
pub fn console_putchar(c: u8) {
    sbi::console_putchar(c);
}

/// Powers the machine off. `success` → SBI system reset (QEMU exits 0);
/// failure → the test finisher's FAIL code 1 (QEMU exits 1), else an SBI
/// reset with reason "system failure". Never returns.
pub fn halt(success: bool) -> ! {
    power_off(success, machine().and_then(|m| m.platform.test_finisher))
}

/// [`halt`] with the test finisher given explicitly (boot failures happen
/// before [`Machine`] is set).
fn power_off(success: bool, test_finisher: Option<u64>) -> ! {
    if let (false, Some(addr)) = (success, test_finisher) {
        let reg = paddr_to_kptr(PAddr(addr)) as *mut u32;
        // SAFETY: the device tree names a sifive,test finisher at `addr`;
        // the physical-memory window maps it, and writing its FAIL code
        // only ends the simulation.
        unsafe { reg.write_volatile(0x3333 | (1 << 16)) };
    }
    sbi::system_reset(success);
    loop {
        csr::wfi();
    }
}

/// `satp`'s ASID field: bits 59..44.
const SATP_ASID_SHIFT: u64 = 44;
/// Cairn's ASIDs are 16 bits (`seL4_NumASIDPoolsBits` + `seL4_ASIDPoolIndexBits`).
const ASID_BITS: u32 =
    cairn_abi::object::NUM_ASID_POOLS_BITS + cairn_abi::object::ASID_POOL_INDEX_BITS;

/// The MMU tags TLB entries with all of Cairn's ASID bits (found at boot
/// by [`probe_asid_bits`]): switching address spaces needs no flush,
/// because every change to a live mapping flushes its own ASID (or the
/// whole TLB), and an ASID is flushed before it is given to another root
/// (`object::vspace`: `delete_asid`, `delete_asid_pool`). Otherwise
/// every switch flushes the TLB, and the per-ASID flushes flush more.
static ASIDS_TAGGED: AtomicBool = AtomicBool::new(false);

/// How many ASID bits `satp` implements (as seL4 finds out at boot):
/// all-ones written into the ASID field of the current `satp` and read
/// back. Records whether Cairn's ASIDs fit ([`ASIDS_TAGGED`]).
pub fn probe_asid_bits() -> u32 {
    let old = csr::read_satp();
    csr::write_satp(old | (0xFFFF << SATP_ASID_SHIFT));
    let bits = ((csr::read_satp() >> SATP_ASID_SHIFT) & 0xFFFF).trailing_ones();
    csr::write_satp(old);
    csr::sfence_vma_all();
    ASIDS_TAGGED.store(bits >= ASID_BITS, Ordering::Relaxed);
    bits
}

/// Switches the user address space: `satp` = Sv39 | the word's ASID and
/// root PPN. The TLB keeps its entries (they are tagged with their ASID),
/// unless the MMU has too few ASID bits, in which case it is flushed.
#[inline]
pub fn set_vspace(w: VSpaceWord) {
    csr::write_satp((8u64 << 60) | w.0);
    if !ASIDS_TAGGED.load(Ordering::Relaxed) {
        csr::sfence_vma_all();
    }
}

/// Whether the MMU tags TLB entries with all of Cairn's ASIDs, so that an
/// address-space switch needs no flush ([`probe_asid_bits`]).
#[inline]
pub fn asids_tagged() -> bool {
    ASIDS_TAGGED.load(Ordering::Relaxed)
}

/// [`set_vspace`] for a caller that knows [`asids_tagged`] (the
/// fastpath switching to the address space installed before the active
/// one, which is only recorded then): `satp` alone.
#[inline]
pub fn set_vspace_tagged(w: VSpaceWord) {
    debug_assert!(asids_tagged());
    csr::write_satp((8u64 << 60) | w.0);
}

/// Flushes the whole TLB.
pub fn sfence_vma_all() {
    csr::sfence_vma_all();
}

/// Flushes the TLB entries of one page of one address space (`sfence.vma
/// vaddr, asid`), after a leaf entry changed (without ASIDs: of that page
/// in every address space).
pub fn sfence_vma_page(vaddr: u64, asid: u16) {
    if ASIDS_TAGGED.load(Ordering::Relaxed) {
        csr::sfence_vma_page(vaddr, u64::from(asid));
    } else {
        csr::sfence_vma_vaddr(vaddr);
    }
}

/// Flushes every TLB entry of one address space (`sfence.vma x0, asid`),
/// after an intermediate entry changed or the ASID was released (without
/// ASIDs: the whole TLB).
pub fn sfence_vma_asid(asid: u16) {
    if ASIDS_TAGGED.load(Ordering::Relaxed) {
        csr::sfence_vma_asid(u64::from(asid));
    } else {
        csr::sfence_vma_all();
    }
}

/// Physical address of the kernel's own root page table: no user
/// mappings, installed (with ASID 0) for a thread without a valid VSpace.
pub fn kernel_vspace_root() -> PAddr {
    entry::kernel_root_paddr()
}

/// The kernel root page table's entry `index` (256..512; 0 otherwise).
pub fn kernel_global_pte(index: usize) -> u64 {
    entry::kernel_root_entry(index)
}
