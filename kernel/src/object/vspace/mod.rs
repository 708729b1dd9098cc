//! Address spaces (ch. 7 Address Spaces and Virtual Memory; ABI ref §7.8,
//! §11): the ASID table and ASID pools, finding and installing a thread's
//! VSpace, and the invocations of the four RISC-V VSpace capabilities.
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | ASID pools, the ASID table, `find_vspace_for_asid`, `setVMRoot`, ASID deletion, unmapping a frame or page table |
//! | `page_table.rs` | `PageTable_Map`, `PageTable_Unmap` |
//! | `page.rs` | `Page_Map`, `Page_Unmap`, `Page_GetAddress` |
//! | `asid.rs` | `ASIDControl_MakePool`, `ASIDPool_Assign` |
//!
//! The Sv39 entry format and walks are `arch::vspace`'s. Each invocation
//! module decodes (checks everything in seL4's order, changes nothing) and
//! then performs; performing cannot fail. The syscall layer (`api`) calls
//! the decoders and performers, `cap::finalise` the unmap and delete
//! functions, which are in this file so that finalising never imports
//! invocation code.
//!
//! # Why user space never reaches kernel memory
//!
//! * Every mapping a user asks for ends below `USER_TOP` (2^38 − 4 KiB), so
//!   it lives under root entries 0..256; the kernel half (256..512) is only
//!   ever written by [`arch::vspace::copy_global_mappings`] from the
//!   kernel's own table, whose entries are not user-accessible.
//! * Frames and page tables are made only from untyped memory (page tables
//!   never from device untypeds), so a user entry only ever points to
//!   memory user space owns.
//! * A page table is zeroed when it is unmapped (`PageTable_Unmap`) and
//!   is fresh (zero) when retyped, so a table never brings stale entries
//!   into a VSpace; a thread whose VSpace is no longer valid runs on the
//!   kernel's own table (no user mappings), never on a root that may be
//!   freed and reused.
//! * Every change to a live entry is followed by a TLB flush.

pub mod asid;
pub mod page;
pub mod page_table;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_asid;
#[cfg(test)]
mod tests_page;

use crate::arch;
use crate::arch::vspace as pt;
use crate::cap::words::CapWords;
use crate::cap::{Cap, FrameSize, LookupFault, Mapping};
use crate::object::access::ObjPtr;
use crate::object::tcb::{Tcb, TcbRef, TCB_VTABLE};
use crate::state::kernel;
use crate::types::SyscallError;
use crate::types::{PAddr, VSpaceWord};
use core::cell::Cell;

/// ASIDs per pool (`2^seL4_ASIDPoolIndexBits`).
pub const ASIDS_PER_POOL: usize = 1 << cairn_abi::object::ASID_POOL_INDEX_BITS;

/// An ASID pool: the VSpace root (page table physical address, 0 = free)
/// of each of its 512 ASIDs.
#[repr(C)]
pub struct AsidPool {
    /// Root page table of each ASID in the pool.
    pub entries: [Cell<u64>; ASIDS_PER_POOL],
}

/// A pointer to an ASID pool.
pub type AsidPoolRef = ObjPtr<AsidPool>;

/// The ASID table entry (pool number) of `asid` (seL4's `ASID_HIGH`).
const fn asid_high(asid: u16) -> usize {
    asid as usize / ASIDS_PER_POOL
}

/// The index of `asid` within its pool (seL4's `ASID_LOW`).
const fn asid_low(asid: u16) -> usize {
    asid as usize % ASIDS_PER_POOL
}

/// The pool registered for `asid`'s pool number, if any.
#[inline]
fn pool_of(asid: u16) -> Option<AsidPoolRef> {
    kernel().asid_pool(asid_high(asid)).map(AsidPoolRef::new)
}

/// The VSpace root registered for `asid`, if any (seL4's
/// `findVSpaceForASID`; `None` is its InvalidRoot lookup fault).
#[inline]
pub fn find_vspace_for_asid(asid: u16) -> Option<PAddr> {
    let root = pool_of(asid)?.get().entries.get(asid_low(asid))?.get();
    (root != 0).then_some(PAddr(root))
}

/// The error of an invocation whose VSpace's ASID has no root (seL4 sets
/// the InvalidRoot lookup fault in `findVSpaceForASID`).
pub const NO_VSPACE_FOR_ASID: SyscallError = SyscallError::FailedLookup {
    source: false,
    fault: LookupFault::InvalidRoot,
};

/// The root and ASID of extra cap 0 of a Map invocation, which must be an
/// assigned page table (else InvalidCapability(1); seL4 checks the type
/// and the mapped bit only), read in place.
fn vspace_of(extra: CapWords) -> Result<(PAddr, u16), SyscallError> {
    Cap::assigned_vspace(extra.0).ok_or(SyscallError::InvalidCapability { index: 1 })
}

/// That the ASID of a VSpace cap still names that root: FailedLookup
/// (InvalidRoot) if the ASID has no root, InvalidCapability(1) if it names
/// another one.
fn check_vspace(root: PAddr, asid: u16) -> Result<(), SyscallError> {
    match find_vspace_for_asid(asid) {
        None => Err(NO_VSPACE_FOR_ASID),
        Some(r) if r != root => Err(SyscallError::InvalidCapability { index: 1 }),
        Some(_) => Ok(()),
    }
}

/// Installs the address space of thread `t` (seL4's `setVMRoot`) if it is
/// not already active. A thread whose VSpace cap is not an assigned page
/// table still registered for its ASID runs on the kernel's own table with
/// ASID 0 (no user mappings: its first user access faults), never on a
/// stale root.
///
/// The two address spaces last installed are always the kernel's table or
/// still registered for their ASIDs: deleting an ASID or a pool forgets
/// them ([`reload_vspace`]). So a thread whose cap names either needs no
/// ASID lookup; that is every switch between threads of one address
/// space, and between a client and its server in two. Inlined: it is on
/// every thread switch's path.
#[inline(always)]
pub fn activate_thread_vspace(t: TcbRef) {
    let k = kernel();
    let target = match Tcb::slot(t, TCB_VTABLE).get().assigned_vspace_word() {
        Some(w) => {
            if w == k.active_vspace_word() {
                return;
            }
            if k.is_recent_vspace(w) || find_vspace_for_asid(w.asid()) == Some(w.root()) {
                w
            } else {
                VSpaceWord::new(arch::kernel_vspace_root(), 0)
            }
        }
        None => VSpaceWord::new(arch::kernel_vspace_root(), 0),
    };
    if k.active_vspace_word() != target {
        k.set_active_vspace(target);
        arch::set_vspace(target);
    }
}

/// [`activate_thread_vspace`] of `t` if its VSpace cap names one of the
/// two address spaces last installed, done as the fastpath's switch does
/// it; false, having changed nothing, for any other (the caller then
/// calls [`activate_thread_vspace`], which looks the ASID up). The active
/// one needs nothing; the previous one is recorded only with tagged
/// ASIDs and is still registered for its ASID (deleting an ASID or a pool
/// forgets both), so switching to it is the exchange of the two and
/// `satp` alone, as [`activate_thread_vspace`] would do. The MCS
/// scheduler's leaf asks it, so that a switch between a client and its
/// server in two address spaces reads the VTable slot once and calls
/// nothing (docs/mcs.md, "The switch of address space in the leaf").
#[inline(always)]
pub fn activate_recent_vspace(t: TcbRef) -> bool {
    let k = kernel();
    let Some(w) = Tcb::slot(t, TCB_VTABLE).get().assigned_vspace_word() else {
        return false;
    };
    let active = k.active_vspace_word();
    if w == active {
        return true;
    }
    // `w` is never 0 (an assigned VSpace's ASID is never 0, which is the
    // kernel's own), so an empty previous entry never matches.
    if w != k.previous_vspace_word() {
        return false;
    }
    k.swap_active_vspace(active, w);
    arch::set_vspace_tagged(w);
    true
}

/// Re-decides the running thread's address space after an ASID changed
/// hands (seL4 calls `setVMRoot(ksCurThread)`).
fn reload_vspace() {
    let k = kernel();
    k.forget_active_vspace();
    if let Some(t) = k.current_tcb() {
        activate_thread_vspace(t);
    }
}

/// Removes the ASID of a VSpace root whose last capability is deleted
/// (seL4's `deleteASID`): the pool entry is cleared if it still names
/// `root`, the ASID's TLB entries are flushed.
pub fn delete_asid(asid: u16, root: PAddr) {
    let Some(pool) = pool_of(asid) else { return };
    if let Some(e) = pool.get().entries.get(asid_low(asid)) {
        if e.get() == root.0 {
            arch::sfence_vma_asid(asid);
            e.set(0);
            reload_vspace();
        }
    }
}

/// Removes an ASID pool from the ASID table when its last capability is
/// deleted (seL4's `deleteASIDPool`). Its 512 ASIDs lose their roots at
/// once; the TLB is flushed as a whole.
pub fn delete_asid_pool(asid_base: u16, pool: PAddr) {
    let k = kernel();
    if k.asid_pool(asid_high(asid_base)) == Some(pool) {
        k.set_asid_pool(asid_high(asid_base), None);
        arch::sfence_vma_all();
        reload_vspace();
    }
}

/// Removes a frame's mapping if the ASID still has a root and the entry
/// the walk reaches at the frame's level still points to this frame, then
/// flushes that page (seL4's `unmapPage`). Anything else means the mapping
/// is already gone (its table was unmapped or its ASID deleted), and the
/// entry, which may now belong to another frame, is left alone.
pub fn unmap_page(base: PAddr, size: FrameSize, m: Mapping) {
    let Some(root) = find_vspace_for_asid(m.asid) else {
        return;
    };
    let (slot, bits) = pt::lookup_pt_slot(root, m.vaddr);
    if bits != size.bits() {
        return;
    }
    let pte = pt::read_pte(slot);
    if !pt::is_valid(pte) || pt::is_page_table(pte) || pt::pte_paddr(pte) != base {
        return;
    }
    pt::write_pte(slot, 0);
    arch::sfence_vma_page(m.vaddr, m.asid);
}

/// Removes the page table at `table` from the entry that maps it, if the
/// walk from the ASID's root towards its address still reaches it, and
/// flushes the ASID's TLB entries (seL4's `unmapPageTable`; a stale
/// mapping is left alone: nothing reaches the table through it).
pub fn unmap_page_table(table: PAddr, m: Mapping) {
    let Some(root) = find_vspace_for_asid(m.asid) else {
        return;
    };
    let mut cur = root;
    let mut entry = None;
    for level in 0..pt::LEVELS - 1 {
        if cur == table {
            break;
        }
        let s = pt::slot(cur, pt::index(m.vaddr, level));
        let pte = pt::read_pte(s);
        if !pt::is_page_table(pte) {
            return;
        }
        entry = Some(s);
        cur = pt::pte_paddr(pte);
    }
    if let (true, Some(s)) = (cur == table, entry) {
        pt::write_pte(s, 0);
        arch::sfence_vma_asid(m.asid);
    }
}
