//! Sv39 page-table entries and walks (ABI ref §11). Pure data manipulation
//! of page-table memory through `object::access`; builds on the host too.

use crate::arch::{read_word, write_word};
use crate::types::{PAddr, VmRights};

/// Valid.
pub const PTE_V: u64 = 1 << 0;
/// Readable.
pub const PTE_R: u64 = 1 << 1;
/// Writable.
pub const PTE_W: u64 = 1 << 2;
/// Executable.
pub const PTE_X: u64 = 1 << 3;
/// User accessible.
pub const PTE_U: u64 = 1 << 4;
/// Global.
pub const PTE_G: u64 = 1 << 5;
/// Accessed.
pub const PTE_A: u64 = 1 << 6;
/// Dirty.
pub const PTE_D: u64 = 1 << 7;

/// Number of page-table levels (Sv39).
pub const LEVELS: u32 = 3;
/// Entries per table.
pub const ENTRIES: u64 = 512;
/// First root-table index of the kernel half (user space uses 0..256).
pub const KERNEL_ROOT_INDEX: usize = 256;

/// Bits of virtual address translated below level `level` (0 = root):
/// 30, 21, 12.
pub const fn level_bits(level: u32) -> u32 {
    12 + 9 * (LEVELS - 1 - level)
}

/// Index of `vaddr` in a table at `level`.
pub const fn index(vaddr: u64, level: u32) -> u64 {
    (vaddr >> level_bits(level)) & (ENTRIES - 1)
}

/// An entry pointing to the next-level table at `pa`.
pub const fn pte_table(pa: PAddr) -> u64 {
    ((pa.0 >> 12) << 10) | PTE_V
}

/// A user leaf entry for a frame at `pa` (ABI ref §11: R unless
/// KernelOnly, W if ReadWrite, X unless execute-never; U, A, D set; R = W =
/// X = 0 yields an invalid entry).
pub const fn pte_leaf(pa: PAddr, rights: VmRights, execute: bool) -> u64 {
    let r = !matches!(rights, VmRights::KernelOnly);
    let w = matches!(rights, VmRights::ReadWrite);
    if !r && !w && !execute {
        return 0;
    }
    ((pa.0 >> 12) << 10)
        | PTE_V
        | PTE_U
        | PTE_A
        | PTE_D
        | if r { PTE_R } else { 0 }
        | if w { PTE_W } else { 0 }
        | if execute { PTE_X } else { 0 }
}

/// Whether the entry is valid.
pub const fn is_valid(pte: u64) -> bool {
    pte & PTE_V != 0
}

/// Whether a valid entry is a leaf (maps memory) rather than a table.
pub const fn is_leaf(pte: u64) -> bool {
    pte & (PTE_R | PTE_W | PTE_X) != 0
}

/// Whether the entry points to a next-level table (seL4's
/// `isPTEPageTable`: valid, no R/W/X).
pub const fn is_page_table(pte: u64) -> bool {
    is_valid(pte) && !is_leaf(pte)
}

/// Physical address an entry points to.
pub const fn pte_paddr(pte: u64) -> PAddr {
    PAddr(((pte >> 10) & ((1 << 44) - 1)) << 12)
}

/// Address of entry `i` of the table at `table`.
pub const fn slot(table: PAddr, i: u64) -> PAddr {
    PAddr(table.0 + i * 8)
}

/// seL4's `lookupPTSlot`: walks from `root` towards `vaddr` while entries
/// are valid tables. Returns the entry where the walk stops and the number
/// of address bits that entry translates (30, 21 or 12). Inlined: it is
/// a few instructions a level, on the path of every `Page_Map`.
#[inline(always)]
pub fn lookup_pt_slot(root: PAddr, vaddr: u64) -> (PAddr, u32) {
    let mut table = root;
    let mut level = 0;
    loop {
        let s = slot(table, index(vaddr, level));
        let pte = read_word(s);
        if level + 1 == LEVELS || !is_valid(pte) || is_leaf(pte) {
            return (s, level_bits(level));
        }
        table = pte_paddr(pte);
        level += 1;
    }
}

/// seL4's `copyGlobalMappings`: gives the root table at `root` the kernel
/// half (entries 256..512), read from the kernel's own root table through
/// the machine layer. These are the only kernel entries a VSpace ever
/// holds; they are global and not user-accessible, and user mappings can
/// never reach them (every user address is below `USER_TOP` < 2^38, so its
/// root index is below 256).
pub fn copy_global_mappings(root: PAddr) {
    for i in KERNEL_ROOT_INDEX as u64..ENTRIES {
        write_pte(slot(root, i), crate::arch::kernel_global_pte(i as usize));
    }
}

/// Writes an entry.
pub fn write_pte(at: PAddr, pte: u64) {
    write_word(at, pte);
}

/// Reads an entry.
pub fn read_pte(at: PAddr) -> u64 {
    read_word(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;

    const BASE: u64 = 0x8000_0000;

    #[test]
    fn leaf_bits_follow_the_rights() {
        let pa = PAddr(0x8040_3000);
        let rw = pte_leaf(pa, VmRights::ReadWrite, true);
        assert_eq!(
            rw & 0xFF,
            PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D
        );
        assert_eq!(pte_paddr(rw), pa);
        let ro = pte_leaf(pa, VmRights::ReadOnly, false);
        assert_eq!(ro & (PTE_R | PTE_W | PTE_X), PTE_R);
        assert_eq!(pte_leaf(pa, VmRights::KernelOnly, false), 0);
        assert!(is_leaf(ro) && !is_leaf(pte_table(pa)));
        assert!(is_page_table(pte_table(pa)) && !is_page_table(ro) && !is_page_table(0));
        // Execute-only (no read, no write) is a valid user leaf.
        let x = pte_leaf(pa, VmRights::KernelOnly, true);
        assert_eq!(x & 0xFF, PTE_V | PTE_X | PTE_U | PTE_A | PTE_D);
    }

    #[test]
    fn user_addresses_never_index_the_kernel_half() {
        let last = cairn_abi::vm::USER_TOP - 1;
        assert!(index(last, 0) < KERNEL_ROOT_INDEX as u64);
        assert_eq!(index(last, 0), 255);
    }

    #[test]
    fn global_mappings_fill_exactly_the_kernel_half() {
        SimMachine::install(BASE, 1 << 20);
        let root = PAddr(BASE);
        copy_global_mappings(root);
        for i in 0..ENTRIES {
            let want = crate::arch::kernel_global_pte(i as usize);
            assert_eq!(read_pte(slot(root, i)), want, "entry {i}");
            assert_eq!(want != 0, i >= 256);
            assert_eq!(want & PTE_U, 0, "kernel entries are supervisor-only");
        }
    }

    #[test]
    fn walk_stops_at_the_first_missing_level() {
        SimMachine::install(BASE, 1 << 20);
        let root = PAddr(BASE);
        let l1 = PAddr(BASE + 0x1000);
        let l2 = PAddr(BASE + 0x2000);
        let va = 0x12_3456_7000u64;
        assert_eq!(lookup_pt_slot(root, va), (slot(root, index(va, 0)), 30));
        write_pte(slot(root, index(va, 0)), pte_table(l1));
        assert_eq!(lookup_pt_slot(root, va), (slot(l1, index(va, 1)), 21));
        write_pte(slot(l1, index(va, 1)), pte_table(l2));
        assert_eq!(lookup_pt_slot(root, va), (slot(l2, index(va, 2)), 12));
        assert_eq!((level_bits(0), level_bits(1), level_bits(2)), (30, 21, 12));
    }
}
