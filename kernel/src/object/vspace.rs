//! Address spaces, the architecture-neutral part (ch. 7 Address Spaces and
//! Virtual Memory): ASID pools and the ASID table, installing a thread's
//! VSpace. The page-table format is in `arch::vspace`.

use crate::arch;
use crate::cap::Cap;
use crate::object::access::ObjPtr;
use crate::object::tcb::{Tcb, TcbRef, TCB_VTABLE};
use crate::state::kernel;
use crate::types::PAddr;
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

/// The VSpace root registered for `asid`, if any.
pub fn find_vspace_for_asid(asid: u16) -> Option<PAddr> {
    let pool = kernel()
        .asid_table
        .get((asid as usize) / ASIDS_PER_POOL)?
        .get();
    if pool == 0 {
        return None;
    }
    let root = AsidPoolRef::new(PAddr(pool))
        .get()
        .entries
        .get((asid as usize) % ASIDS_PER_POOL)?
        .get();
    (root != 0).then_some(PAddr(root))
}

/// Installs the address space of thread `t` (seL4's `setVMRoot`) if it is
/// not already active. A thread without a valid VSpace runs with whatever
/// is installed; its first user access will fault.
pub fn activate_thread_vspace(t: TcbRef) {
    let cap = Tcb::slot(t, TCB_VTABLE).get().cap();
    let Cap::PageTable {
        base,
        mapping: Some(m),
    } = cap
    else {
        return;
    };
    if find_vspace_for_asid(m.asid) != Some(base) {
        return;
    }
    let k = kernel();
    if k.active_vspace.get() != (base.0, m.asid) {
        k.active_vspace.set((base.0, m.asid));
        arch::set_vspace(base, m.asid);
    }
}
