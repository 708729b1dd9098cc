//! Page-table invocations (ch. 7 Address Spaces and Virtual Memory, *Page
//! Tables*; ch. 10 API `seL4_RISCV_PageTable_*`; ABI ref §7.8, §11):
//! `PageTable_Map` and `PageTable_Unmap`, and unmapping a page table when
//! its last capability is deleted (seL4's `unmapPageTable`).
//!
//! Decode order (seL4's `decodeRISCVPageTableInvocation`):
//!
//! * **Unmap** (checked first, needs no arguments): the invoked cap must be
//!   the final cap to the table (RevokeFirst), and a table that is the
//!   registered root of its ASID cannot be unmapped (RevokeFirst). The
//!   table is removed from its parent, the TLB entries of the ASID are
//!   flushed, and the whole table is zeroed, so that it never carries
//!   stale entries into another VSpace.
//! * any other label but **Map**: IllegalOperation.
//! * **Map**: length ≥ 2 and extra cap 0 (TruncatedMessage); the invoked
//!   table not already mapped (InvalidCapability(0)); extra cap 0 an
//!   assigned page table (InvalidCapability(1)); vaddr below `USER_TOP`
//!   (InvalidArgument(0)); its ASID still registered (FailedLookup,
//!   InvalidRoot) to that root (InvalidCapability(1)); the walk towards
//!   vaddr must stop at an empty entry above the last level (DeleteFirst).
//!   The table goes into that entry; the cap records vaddr rounded down to
//!   the region the entry covers.

use super::{check_vspace, find_vspace_for_asid, unmap_page_table, vspace_of};
use crate::arch;
use crate::arch::vspace as pt;
use crate::cap::derive::is_final_capability;
use crate::cap::{Cap, Mapping, SlotRef};
use crate::object::access::zero;
use crate::object::invocation::{need, Invocation};
use crate::types::PAddr;
use crate::types::SyscallError;
use cairn_abi::invocation::label;
use cairn_abi::object::PAGE_TABLE_BITS;
use cairn_abi::vm::USER_TOP;

/// A decoded page-table operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageTableOp {
    /// Write `cap` (now mapped) to the invoked `slot` and `pte` to the
    /// entry at `at` in the VSpace of `asid`.
    Map {
        slot: SlotRef,
        cap: Cap,
        pte: u64,
        at: PAddr,
        asid: u16,
    },
    /// Unmap the table at `base` (if `mapping`), zero it, and mark the
    /// cap in the invoked `slot` unmapped.
    Unmap {
        slot: SlotRef,
        base: PAddr,
        mapping: Option<Mapping>,
    },
}

/// Decodes a page-table invocation without changing anything: the
/// invoked capability's fields as the dispatch decoded them.
#[inline(always)]
pub fn decode(
    inv: &Invocation,
    base: PAddr,
    mapping: Option<Mapping>,
) -> Result<PageTableOp, SyscallError> {
    if inv.label == label::RISCV_PAGE_TABLE_UNMAP {
        if !is_final_capability(inv.slot) {
            return Err(SyscallError::RevokeFirst);
        }
        if let Some(m) = mapping {
            if find_vspace_for_asid(m.asid) == Some(base) {
                return Err(SyscallError::RevokeFirst);
            }
        }
        return Ok(PageTableOp::Unmap {
            slot: inv.slot,
            base,
            mapping,
        });
    }
    if inv.label != label::RISCV_PAGE_TABLE_MAP {
        return Err(SyscallError::IllegalOperation);
    }
    need(inv.length >= 2)?;
    let (_, vspace) = inv.need_extra_words(0)?;
    if mapping.is_some() {
        return Err(SyscallError::InvalidCapability { index: 0 });
    }
    let vaddr = inv.arg(0);
    let (root, asid) = vspace_of(vspace)?;
    if vaddr >= USER_TOP {
        return Err(SyscallError::InvalidArgument { index: 0 });
    }
    check_vspace(root, asid)?;
    let (at, bits_left) = pt::lookup_pt_slot(root, vaddr);
    if bits_left == pt::level_bits(pt::LEVELS - 1) || pt::is_valid(pt::read_pte(at)) {
        return Err(SyscallError::DeleteFirst);
    }
    let cap = Cap::PageTable {
        base,
        mapping: Some(Mapping {
            asid,
            vaddr: vaddr & !((1u64 << bits_left) - 1),
        }),
    };
    Ok(PageTableOp::Map {
        slot: inv.slot,
        cap,
        pte: pt::pte_table(base),
        at,
        asid,
    })
}

/// Performs a decoded page-table operation (it cannot fail).
pub fn perform(op: &PageTableOp) {
    match *op {
        PageTableOp::Map {
            slot,
            cap,
            pte,
            at,
            asid,
        } => {
            slot.get().set_cap(cap);
            pt::write_pte(at, pte);
            arch::sfence_vma_asid(asid);
        }
        PageTableOp::Unmap {
            slot,
            base,
            mapping,
        } => {
            if let Some(m) = mapping {
                unmap_page_table(base, m);
                zero(base, 1 << PAGE_TABLE_BITS);
            }
            slot.get().set_cap(Cap::PageTable {
                base,
                mapping: None,
            });
        }
    }
}
