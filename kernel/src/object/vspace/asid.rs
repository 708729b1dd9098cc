//! ASID invocations (ch. 7 Address Spaces and Virtual Memory, *ASID
//! Control*, *ASID Pools*; ch. 10 API `seL4_RISCV_ASIDControl_MakePool`,
//! `seL4_RISCV_ASIDPool_Assign`; ABI ref §7.8, §11).
//!
//! An ASID is 16 bits: a 7-bit pool number (the index in the kernel's
//! ASID table) and a 9-bit index in that pool. Pool 0 is the root task's;
//! ASID 0 is never handed out (it is the kernel's own address space).
//!
//! * **MakePool** (seL4's order): length ≥ 2 and extra caps 0 and 1
//!   (TruncatedMessage); a free pool number, the first (DeleteFirst if
//!   none); extra cap 0 a non-device untyped of exactly 4 KiB
//!   (InvalidCapability(1)) without children (RevokeFirst); the destination
//!   (index, depth) in extra cap 1's CSpace (the CNode-op lookup errors,
//!   source = 0); an empty destination (DeleteFirst). The untyped's memory
//!   becomes the zeroed pool, its watermark full, and the pool cap its
//!   derivation child.
//! * **Assign**: extra cap 0 (TruncatedMessage); an unmapped,
//!   unassigned page table (InvalidCapability(1)); the invoked pool still
//!   in the ASID table (FailedLookup, InvalidRoot) as the cap's object
//!   (InvalidCapability(0)); a free ASID in the pool, the first
//!   (DeleteFirst if none). The table gets the kernel's global mappings
//!   and becomes that ASID's root; its cap is marked mapped at address 0.

use super::{asid_high, asid_low, AsidPoolRef, ASIDS_PER_POOL};
use crate::arch::vspace as pt;
use crate::cap::derive::cte_insert;
use crate::cap::derive::ensure_no_children;
use crate::cap::{Cap, LookupFault, Mapping, SlotRef};
use crate::object::access::zero;
use crate::object::cnode::lookup_slot_rare;
use crate::object::invocation::Invocation;
use crate::state::kernel;
use crate::types::PAddr;
use crate::types::SyscallError;
use cairn_abi::invocation::label;
use cairn_abi::object::ASID_POOL_BITS;

/// A decoded MakePool: the untyped (slot and cap fields), the destination
/// slot and the pool number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MakePool {
    untyped: SlotRef,
    frame: PAddr,
    dest: SlotRef,
    pool: usize,
}

/// A decoded Assign: the page table's slot and base, the pool and the ASID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assign {
    vspace: SlotRef,
    root: PAddr,
    pool: AsidPoolRef,
    asid: u16,
}

/// Decodes `ASIDControl_MakePool` (the ASID control capability's only
/// method) without changing anything.
#[inline(always)]
pub fn decode_make_pool(inv: &Invocation) -> Result<MakePool, SyscallError> {
    if inv.label != label::RISCV_ASID_CONTROL_MAKE_POOL {
        return Err(SyscallError::IllegalOperation);
    }
    let (Some((ut_slot, untyped)), Some((_, root)), true) =
        (inv.extra_cap(0), inv.extra_words(1), inv.length >= 2)
    else {
        return Err(SyscallError::TruncatedMessage);
    };
    let (index, depth) = (inv.arg(0), inv.arg(1));
    let pool = kernel()
        .free_asid_pool_index()
        .ok_or(SyscallError::DeleteFirst)?;
    let Cap::Untyped {
        ptr,
        size_bits,
        is_device: false,
        ..
    } = untyped
    else {
        return Err(SyscallError::InvalidCapability { index: 1 });
    };
    if u32::from(size_bits) != ASID_POOL_BITS {
        return Err(SyscallError::InvalidCapability { index: 1 });
    }
    ensure_no_children(ut_slot)?;
    let dest = lookup_slot_rare(false, root, index, depth)?;
    if !dest.get().words().is_null() {
        return Err(SyscallError::DeleteFirst);
    }
    Ok(MakePool {
        untyped: ut_slot,
        frame: ptr,
        dest,
        pool,
    })
}

/// Performs a decoded MakePool (seL4's `performASIDControlInvocation`;
/// it cannot fail).
pub fn perform_make_pool(op: MakePool) {
    let MakePool {
        untyped,
        frame,
        dest,
        pool,
    } = op;
    if let Cap::Untyped {
        ptr,
        size_bits,
        is_device,
        ..
    } = untyped.get().cap()
    {
        untyped.get().set_cap(Cap::Untyped {
            ptr,
            size_bits,
            free_index: 1 << size_bits,
            is_device,
        });
    }
    zero(frame, 1 << ASID_POOL_BITS);
    // `pool` < 128, so the base fits the 16-bit ASID.
    let asid_base = (pool * ASIDS_PER_POOL) as u16;
    cte_insert(
        Cap::AsidPool {
            ptr: frame,
            asid_base,
        },
        untyped,
        dest,
    );
    kernel().set_asid_pool(pool, Some(frame));
}

/// Decodes `ASIDPool_Assign` without changing anything: the pool and its
/// first ASID as the dispatch decoded them from the invoked capability.
#[inline(always)]
pub fn decode_assign(inv: &Invocation, ptr: PAddr, asid_base: u16) -> Result<Assign, SyscallError> {
    if inv.label != label::RISCV_ASID_POOL_ASSIGN {
        return Err(SyscallError::IllegalOperation);
    }
    let (vspace, vspace_cap) = inv.need_extra(0)?;
    let Cap::PageTable {
        base: root,
        mapping: None,
    } = vspace_cap
    else {
        return Err(SyscallError::InvalidCapability { index: 1 });
    };
    let registered = kernel().asid_pool(asid_high(asid_base)).map_or(0, |p| p.0);
    if registered == 0 {
        return Err(SyscallError::FailedLookup {
            source: false,
            fault: LookupFault::InvalidRoot,
        });
    }
    if registered != ptr.0 {
        return Err(SyscallError::InvalidCapability { index: 0 });
    }
    let pool = AsidPoolRef::new(ptr);
    // The pool's first ASID (its base is a multiple of 512); ASID 0 is
    // never given out.
    let first = asid_base as usize - asid_low(asid_base);
    let free = pool
        .get()
        .entries
        .iter()
        .enumerate()
        .position(|(i, e)| first + i != 0 && e.get() == 0)
        .ok_or(SyscallError::DeleteFirst)?;
    let asid = u16::try_from(first + free).map_err(|_| SyscallError::DeleteFirst)?;
    Ok(Assign {
        vspace,
        root,
        pool,
        asid,
    })
}

/// Performs a decoded Assign (seL4's `performASIDPoolInvocation`; it
/// cannot fail).
pub fn perform_assign(op: Assign) {
    let Assign {
        vspace,
        root,
        pool,
        asid,
    } = op;
    vspace.get().set_cap(Cap::PageTable {
        base: root,
        mapping: Some(Mapping { asid, vaddr: 0 }),
    });
    pt::copy_global_mappings(root);
    if let Some(e) = pool.get().entries.get(asid_low(asid)) {
        e.set(root.0);
    }
}
