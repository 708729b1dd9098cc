//! Single words of physical memory, read and written through the kernel's
//! window (`paddr_to_kptr`): page-table entries, IPC-buffer words. Built on
//! the machine interface, so it serves both targets.
#![allow(unsafe_code)]

use crate::types::PAddr;

/// Reads the 64-bit word at `pa` (8-byte aligned RAM inside the window).
pub fn read_word(pa: PAddr) -> u64 {
    let p = super::paddr_to_kptr(pa) as *const u64;
    debug_assert!(p.is_aligned());
    // SAFETY: `pa` is an aligned word of RAM inside the physical window.
    unsafe { core::ptr::read_volatile(p) }
}

/// Writes the 64-bit word at `pa` (8-byte aligned RAM the kernel owns).
pub fn write_word(pa: PAddr, value: u64) {
    let p = super::paddr_to_kptr(pa) as *mut u64;
    debug_assert!(p.is_aligned());
    // SAFETY: `pa` is an aligned word of kernel-owned RAM inside the window.
    unsafe { core::ptr::write_volatile(p, value) }
}
