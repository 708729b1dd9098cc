//! The kernel's vocabulary: addresses, regions and sets of them, VM rights, seL4's errors
//! with their error data, lookup failures and faults. A leaf: it imports nothing of the
//! kernel, and every layer above may use it.

mod error;
mod fault;
pub mod fdt;
mod lookup_fault;
mod region_set;

pub use error::{Preempted, SyscallError};
pub use fault::{Fault, FAULT_WORDS};
pub use lookup_fault::LookupFault;
pub use region_set::{RegionSet, TooManyRegions};

/// A physical address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PAddr(pub u64);

impl PAddr {
    /// The address `bytes` further on (wrapping is a kernel bug, not user input).
    pub const fn add(self, bytes: u64) -> PAddr {
        PAddr(self.0 + bytes)
    }
    /// Whether the address is a multiple of `2^bits`.
    pub const fn is_aligned(self, bits: u32) -> bool {
        self.0 & ((1u64 << bits) - 1) == 0
    }
}

/// An address space as one word (seL4's `satp` fields without the mode):
/// the root page table's page number in bits 0..44, the ASID in bits
/// 44..60. The address-space switch compares and installs this word
/// whole (`arch::set_vspace`); 0 names none (no root lies at address 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VSpaceWord(pub u64);

impl VSpaceWord {
    /// The word of root `root` (page-aligned, below 2^56) and `asid`.
    #[inline]
    pub const fn new(root: PAddr, asid: u16) -> VSpaceWord {
        VSpaceWord((root.0 >> 12) | ((asid as u64) << 44))
    }

    /// The root page table's physical address.
    #[inline]
    pub const fn root(self) -> PAddr {
        PAddr((self.0 & ((1 << 44) - 1)) << 12)
    }

    /// The ASID.
    #[inline]
    pub const fn asid(self) -> u16 {
        (self.0 >> 44) as u16
    }
}

/// VM rights of a frame capability (ABI ref §11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmRights {
    /// Not accessible from user mode.
    KernelOnly = 1,
    /// Read only.
    ReadOnly = 2,
    /// Read and write.
    ReadWrite = 3,
}

impl VmRights {
    /// The rights of a capability's two-bit field (other values: none).
    pub const fn from_bits2(v: u64) -> VmRights {
        match v {
            2 => VmRights::ReadOnly,
            3 => VmRights::ReadWrite,
            _ => VmRights::KernelOnly,
        }
    }
}

/// A physical memory region `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Region {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl Region {
    /// A region from its bounds.
    pub const fn new(start: u64, end: u64) -> Region {
        Region { start, end }
    }
    /// Size in bytes (0 for an empty or inverted region).
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
    /// Whether the region holds no byte.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }
    /// Whether the regions share a byte.
    pub const fn overlaps(&self, other: &Region) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Rounds `x` up to a multiple of `2^bits` (saturating at the top).
pub const fn round_up(x: u64, bits: u32) -> u64 {
    let m = (1u64 << bits) - 1;
    match x.checked_add(m) {
        Some(v) => v & !m,
        None => !m,
    }
}

/// Rounds `x` down to a multiple of `2^bits`.
pub const fn round_down(x: u64, bits: u32) -> u64 {
    x & !((1u64 << bits) - 1)
}
