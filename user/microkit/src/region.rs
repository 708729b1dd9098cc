//! Memory-region variables: 64-bit variables the system tool sets in the
//! PD's program from the description (`setvar_vaddr`, `setvar_size`,
//! `setvar_id`, ...), and the volatile, bounds-checked access to a mapped
//! region that a PD needs for shared memory and device registers.

use core::sync::atomic::{AtomicU64, Ordering};

/// A variable of the PD's program that the system tool sets before boot
/// (a `setvar_*` of the description); 0 when the description sets none.
///
/// An atomic so that the compiler reads it from memory rather than
/// assuming its initial value; it is 8 bytes, as the tool requires.
#[repr(transparent)]
pub struct SetVar(AtomicU64);

impl SetVar {
    /// A variable the tool will set.
    pub const fn new() -> SetVar {
        SetVar(AtomicU64::new(0))
    }

    /// Its value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Sets it, as the tool would (host tests).
    #[cfg(test)]
    pub(crate) fn set(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed)
    }
}

impl Default for SetVar {
    fn default() -> Self {
        SetVar::new()
    }
}

/// Declares a [`SetVar`] under the symbol the description names:
/// `setvar!(pub UART_IRQ = "uart_irq");`.
#[macro_export]
macro_rules! setvar {
    ($vis:vis $name:ident = $symbol:literal) => {
        #[export_name = $symbol]
        $vis static $name: $crate::SetVar = $crate::SetVar::new();
    };
}

/// A memory region mapped into the PD: its address is the variable the
/// tool sets from the map's `setvar_vaddr`, its size the one the PD
/// declares (at most the region's size in the description).
pub struct MemoryRegion {
    vaddr: &'static SetVar,
    size: usize,
}

/// Declares a [`MemoryRegion`] of `size` bytes whose address the tool
/// writes into the symbol `symbol` (the map's `setvar_vaddr`):
/// `memory_region!(pub SAMPLES = "samples", 0x1000);`.
#[macro_export]
macro_rules! memory_region {
    ($(#[$attr:meta])* $vis:vis $name:ident = $symbol:literal, $size:expr) => {
        $(#[$attr])*
        $vis static $name: $crate::MemoryRegion = {
            $crate::setvar!(VADDR = $symbol);
            $crate::MemoryRegion::new(&VADDR, $size)
        };
    };
}

impl MemoryRegion {
    /// The region whose address is in `vaddr`, `size` bytes long.
    pub const fn new(vaddr: &'static SetVar, size: usize) -> MemoryRegion {
        MemoryRegion { vaddr, size }
    }

    /// Its address in the PD (0: the description maps it nowhere).
    pub fn vaddr(&self) -> u64 {
        self.vaddr.get()
    }

    /// Its size in bytes, as declared.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The address of `len` bytes at `offset`, aligned to `len`; panics
    /// when they are outside the region, or the region is not mapped.
    fn at(&self, offset: usize, len: usize) -> usize {
        let base = self.vaddr() as usize;
        assert!(base != 0, "memory region not mapped (no setvar_vaddr)");
        assert!(
            offset.checked_add(len).is_some_and(|e| e <= self.size),
            "offset {offset:#x} outside the region of {:#x} bytes",
            self.size
        );
        assert!(
            offset.is_multiple_of(len),
            "unaligned access at {offset:#x}"
        );
        base + offset
    }

    /// The byte at `offset` (a volatile read: another PD or a device may
    /// change it).
    pub fn read_u8(&self, offset: usize) -> u8 {
        let p = self.at(offset, 1) as *const u8;
        // SAFETY: `at` checked that the byte is inside the region, which
        // the loader maps at `vaddr` for the PD's whole life (the
        // description's map, its address set by the tool); the PD's own
        // Rust objects are never there (the tool refuses programs that
        // overlap a map). Volatile: shared memory and device registers
        // change behind the compiler's back.
        unsafe { p.read_volatile() }
    }

    /// Writes the byte at `offset` (faults if the map is read-only).
    pub fn write_u8(&self, offset: usize, value: u8) {
        let p = self.at(offset, 1) as *mut u8;
        // SAFETY: as in `read_u8`; a write to a read-only map is a fault
        // the kernel reports, not a write.
        unsafe { p.write_volatile(value) }
    }

    /// Writes the aligned 32-bit word at `offset` (device registers of
    /// that width).
    pub fn write_u32(&self, offset: usize, value: u32) {
        let p = self.at(offset, 4) as *mut u32;
        // SAFETY: as in `write_u8`, and `at` checked the alignment.
        unsafe { p.write_volatile(value) }
    }

    /// The aligned 64-bit word at `offset`.
    pub fn read_u64(&self, offset: usize) -> u64 {
        let p = self.at(offset, 8) as *const u64;
        // SAFETY: as in `read_u8`, and `at` checked the alignment.
        unsafe { p.read_volatile() }
    }

    /// Writes the aligned 64-bit word at `offset`.
    pub fn write_u64(&self, offset: usize, value: u64) {
        let p = self.at(offset, 8) as *mut u64;
        // SAFETY: as in `write_u8`, and `at` checked the alignment.
        unsafe { p.write_volatile(value) }
    }
}
