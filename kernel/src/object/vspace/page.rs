//! Frame invocations (ch. 7 Address Spaces and Virtual Memory, *Mapping
//! Attributes*, *Page*; ch. 10 API `seL4_RISCV_Page_*`; ABI ref §7.8,
//! §11): `Page_Map`, `Page_Unmap`, `Page_GetAddress`, and unmapping a
//! frame when a capability to it is deleted (seL4's `unmapPage`).
//!
//! Every frame capability holds at most one mapping of its own; a copy of
//! a frame capability starts unmapped and maps independently.
//!
//! `Page_Map` decode order (seL4's `decodeRISCVFrameInvocation`): length ≥ 3
//! and extra cap 0 (TruncatedMessage); extra cap 0 an assigned page table
//! (InvalidCapability(1)); its ASID still registered (FailedLookup,
//! InvalidRoot) to that root (InvalidCapability(1)); the frame's last byte
//! below `USER_TOP` (InvalidArgument(0)); vaddr aligned to the frame size
//! (AlignmentError); the walk towards vaddr must stop at the level of the
//! frame's size (else FailedLookup, MissingCapability with the bits left:
//! 30 = no level-1 table, 21 = no leaf table, 12 = a leaf table where a
//! larger frame should go). A frame cap that is already mapped may only be
//! mapped again at the same ASID (InvalidCapability(1)) and vaddr
//! (InvalidArgument(0)): that *remaps* it with new rights and attributes.
//! An unmapped frame needs an empty entry (DeleteFirst).
//!
//! The entry's rights are the cap's VM rights masked by the rights word
//! (seL4's `maskVMRights`: read and write → RW, read only → RO, no read →
//! kernel-only, so a write-only request gives no data access), and it is
//! executable unless the attribute word has `ExecuteNever` (bit 0). A
//! kernel-only executable entry is execute-only; kernel-only and
//! execute-never gives an invalid entry (seL4's `makeUserPTE`).

use super::{check_vspace, unmap_page, vspace_of};
use crate::arch;
use crate::arch::vspace as pt;
use crate::cap::rights::mask_vm_rights;
use crate::cap::{Cap, LookupFault, SlotRef};
use crate::object::invocation::{need, Invocation, Reply};
use crate::types::PAddr;
use crate::types::SyscallError;
use cairn_abi::cap::CapRights;
use cairn_abi::invocation::label;
use cairn_abi::vm::{EXECUTE_NEVER, USER_TOP};

/// A decoded frame operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameOp {
    /// Record the frame cap in the invoked `slot` as mapped at `vaddr` in
    /// `asid` (its words updated in place) and write `pte` to the entry at
    /// `at`.
    Map {
        slot: SlotRef,
        pte: u64,
        at: PAddr,
        vaddr: u64,
        asid: u16,
    },
    /// Remove the mapping of the cap in the invoked slot, if any.
    Unmap(SlotRef),
    /// Reply with the frame's physical address.
    GetAddress(PAddr),
}

/// Decodes a frame invocation without changing anything. The frame cap
/// and the VSpace cap are read in place (their words), not decoded:
/// `Page_Map` is made once per page mapped.
#[inline(always)]
pub fn decode(inv: &Invocation) -> Result<FrameOp, SyscallError> {
    let Some((base, bits, rights, _)) = inv.cap.frame() else {
        return Err(SyscallError::IllegalOperation);
    };
    match inv.label {
        label::RISCV_PAGE_MAP => {}
        label::RISCV_PAGE_UNMAP => return Ok(FrameOp::Unmap(inv.slot)),
        label::RISCV_PAGE_GET_ADDRESS => return Ok(FrameOp::GetAddress(base)),
        _ => return Err(SyscallError::IllegalOperation),
    }
    need(inv.length >= 3)?;
    let (_, vspace) = inv.need_extra_words(0)?;
    let (vaddr, rights_mask, attr) = (inv.arg(0), CapRights(inv.arg(1)), inv.arg(2));
    let (root, asid) = vspace_of(vspace)?;
    check_vspace(root, asid)?;
    // seL4 computes the last byte with wrapping arithmetic; a vaddr for
    // which it wraps is misaligned, so it fails the next check.
    if vaddr.wrapping_add((1u64 << bits) - 1) >= USER_TOP {
        return Err(SyscallError::InvalidArgument { index: 0 });
    }
    if vaddr & ((1u64 << bits) - 1) != 0 {
        return Err(SyscallError::AlignmentError);
    }
    let (at, bits_left) = pt::lookup_pt_slot(root, vaddr);
    if bits_left != bits {
        return Err(SyscallError::FailedLookup {
            source: false,
            fault: LookupFault::MissingCapability { bits_left },
        });
    }
    let existing = pt::read_pte(at);
    match inv.cap.mapping() {
        Some(m) => {
            if m.asid != asid {
                return Err(SyscallError::InvalidCapability { index: 1 });
            }
            if m.vaddr != vaddr {
                return Err(SyscallError::InvalidArgument { index: 0 });
            }
            // Unreachable (the walk never stops at a table entry), kept as
            // seL4 keeps it.
            if pt::is_page_table(existing) {
                return Err(SyscallError::DeleteFirst);
            }
        }
        None => {
            if pt::is_valid(existing) {
                return Err(SyscallError::DeleteFirst);
            }
        }
    }
    let vm_rights = mask_vm_rights(rights, rights_mask);
    let executable = attr & EXECUTE_NEVER == 0;
    Ok(FrameOp::Map {
        slot: inv.slot,
        pte: pt::pte_leaf(base, vm_rights, executable),
        at,
        vaddr,
        asid,
    })
}

/// Performs a decoded frame operation (it cannot fail); returns what the
/// caller's reply carries. Inlined into the invocation path, where the
/// reply is then read from registers, not returned through memory.
#[inline(always)]
pub fn perform(op: &FrameOp) -> Reply {
    match *op {
        FrameOp::Map {
            slot,
            pte,
            at,
            vaddr,
            asid,
        } => {
            let cte = slot.get();
            cte.set_words(cte.words().with_mapping(asid, vaddr));
            pt::write_pte(at, pte);
            arch::sfence_vma_page(vaddr, asid);
            Reply::Empty
        }
        FrameOp::Unmap(slot) => {
            unmap_slot(slot);
            Reply::Empty
        }
        FrameOp::GetAddress(base) => Reply::Word(base.0),
    }
}

/// seL4's `performPageInvocationUnmap`: unmaps the frame cap in `slot`
/// and marks it unmapped.
#[inline(never)]
fn unmap_slot(slot: SlotRef) {
    let mut cap = slot.get().cap();
    if let Cap::Frame {
        base,
        size,
        ref mut mapping,
        ..
    } = cap
    {
        if let Some(m) = mapping.take() {
            unmap_page(base, size, m);
        }
        slot.get().set_cap(cap);
    }
}
