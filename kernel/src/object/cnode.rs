//! CNode invocations (ch. 3 Capability Spaces, *CNode Methods*; ch. 10
//! API reference `seL4_CNode_*`; ABI ref §7.4, §4, §8): Revoke, Delete,
//! CancelBadgedSends, Copy, Mint, Move, Mutate, Rotate, SaveCaller.
//!
//! This file decodes: it checks everything in seL4's order and changes
//! nothing. [`perform`] then carries the operation out; it can fail only by
//! being preempted (Revoke and Delete), and a restarted call redoes what is
//! left. [`decode`] and [`perform`] are called by the syscall layer
//! (`api`) for CNode capabilities; [`lookup_slot_for_cnode_op`] by the
//! other decoders that take a destination slot.
//!
//! Decode order (seL4's `decodeCNodeInvocation`): label in range, else
//! IllegalOperation; length ≥ 2, else TruncatedMessage; the destination
//! `(index, depth)` relative to the invoked CNode (FailedLookup with source
//! = 0); then per method: length and extra caps (TruncatedMessage), empty
//! destination (DeleteFirst), source lookup relative to extra cap 0's root
//! (FailedLookup with source = 1), a non-empty source, rights masking,
//! badge/guard data, derivation; a null result is IllegalOperation.

mod perform;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_delete;

use crate::cap::derive::derive_cap;
use crate::cap::lookup::{lookup_slot_exact, LookupFault, LookupRoot};
use crate::cap::rights::{has_cancel_send_rights, mask_cap_rights, update_cap_data};
use crate::cap::{Cap, CapWords, SlotRef};
use crate::object::invocation::{need, Invocation};
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::{Tcb, TCB_CALLER};
use crate::types::SyscallError;
use cairn_abi::cap::CapRights;
use cairn_abi::invocation::label;

pub use perform::perform;

/// A decoded CNode operation (seL4's `invokeCNode*` arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CNodeOp {
    /// Delete every derivation descendant of the slot's capability.
    Revoke(SlotRef),
    /// Delete the slot's capability.
    Delete(SlotRef),
    /// Cancel the sends queued on an endpoint with the capability's badge.
    CancelBadgedSends(Cap),
    /// Copy or Mint: insert `cap`, derived from `src`, into `dest`.
    Insert {
        cap: Cap,
        src: SlotRef,
        dest: SlotRef,
    },
    /// Move or Mutate: move `src` to `dest` as `cap`.
    Move {
        cap: Cap,
        src: SlotRef,
        dest: SlotRef,
    },
    /// Rotate: pivot's capability to `dest` (as `pivot_cap`), source's to
    /// the pivot (as `src_cap`); `dest == src` swaps.
    Rotate {
        src_cap: Cap,
        pivot_cap: Cap,
        src: SlotRef,
        pivot: SlotRef,
        dest: SlotRef,
    },
    /// Move the reply capability in the invoking thread's caller slot
    /// (`src`), if there is one, to `dest`.
    #[cfg(not(feature = "mcs"))]
    SaveCaller { src: SlotRef, dest: SlotRef },
}

/// seL4's `lookupSlotForCNodeOp`: the slot at exactly `depth` bits of
/// `index` from `root`. The root must be a CNode (InvalidRoot), the depth
/// 1..=64 (RangeError(1, 64)); lookup failures are FailedLookup with
/// `source` saying which lookup failed.
pub fn lookup_slot_for_cnode_op(
    source: bool,
    root: impl LookupRoot,
    index: u64,
    depth: u64,
) -> Result<SlotRef, SyscallError> {
    let failed = |fault| SyscallError::FailedLookup { source, fault };
    if root.cnode_fields().is_none() {
        return Err(failed(LookupFault::InvalidRoot));
    }
    let depth = match u32::try_from(depth) {
        Ok(d @ 1..=64) => d,
        _ => return Err(SyscallError::RangeError { min: 1, max: 64 }),
    };
    lookup_slot_exact(root, index, depth).map_err(failed)
}

/// [`lookup_slot_for_cnode_op`] from a root's two words (an extra cap as
/// sent: the root is never decoded), out of line: the rare invocations
/// (Copy, Mint, Move, Mutate, Rotate, MakePool, IssueIRQHandler) share one
/// copy; Retype keeps its own, inlined (docs/benchmarks.md, "Code size").
#[inline(never)]
pub fn lookup_slot_rare(
    source: bool,
    root: CapWords,
    index: u64,
    depth: u64,
) -> Result<SlotRef, SyscallError> {
    lookup_slot_for_cnode_op(source, root, index, depth)
}

/// seL4's `ensureEmptySlot`.
fn ensure_empty(slot: SlotRef) -> Result<(), SyscallError> {
    match slot.get().words().is_null() {
        true => Ok(()),
        false => Err(SyscallError::DeleteFirst),
    }
}

/// The "slot is empty" error of a lookup at `depth` (1..=64):
/// MissingCapability with the depth.
pub fn missing(source: bool, depth: u64) -> SyscallError {
    SyscallError::FailedLookup {
        source,
        fault: LookupFault::MissingCapability {
            bits_left: depth as u32, // checked 1..=64 by the lookup
        },
    }
}

/// The last CNode label: MCS has no SaveCaller (its reply capabilities
/// live in reply objects), so Rotate ends its range.
#[cfg(not(feature = "mcs"))]
const CNODE_LAST_LABEL: u64 = label::CNODE_SAVE_CALLER;
#[cfg(feature = "mcs")]
const CNODE_LAST_LABEL: u64 = label::CNODE_ROTATE;

/// Decodes a CNode invocation without changing anything.
#[inline(always)]
pub fn decode(inv: &Invocation) -> Result<CNodeOp, SyscallError> {
    if !(label::CNODE_REVOKE..=CNODE_LAST_LABEL).contains(&inv.label) {
        return Err(SyscallError::IllegalOperation);
    }
    need(inv.length >= 2)?;
    let dest = lookup_slot_for_cnode_op(false, inv.cap, inv.arg(0), inv.arg(1))?;
    match inv.label {
        label::CNODE_COPY | label::CNODE_MINT | label::CNODE_MOVE | label::CNODE_MUTATE => {
            decode_transfer(inv, dest)
        }
        label::CNODE_REVOKE => Ok(CNodeOp::Revoke(dest)),
        label::CNODE_DELETE => Ok(CNodeOp::Delete(dest)),
        #[cfg(not(feature = "mcs"))]
        label::CNODE_SAVE_CALLER => {
            ensure_empty(dest)?;
            Ok(CNodeOp::SaveCaller {
                src: Tcb::slot(inv.caller, TCB_CALLER),
                dest,
            })
        }
        label::CNODE_CANCEL_BADGED_SENDS => {
            let cap = dest.get().cap();
            if !has_cancel_send_rights(&cap) {
                return Err(SyscallError::IllegalOperation);
            }
            Ok(CNodeOp::CancelBadgedSends(cap))
        }
        label::CNODE_ROTATE => decode_rotate(inv, dest),
        _ => Err(SyscallError::IllegalOperation),
    }
}

/// Copy, Mint, Move, Mutate.
fn decode_transfer(inv: &Invocation, dest: SlotRef) -> Result<CNodeOp, SyscallError> {
    need(inv.length >= 4)?;
    let (_, src_root) = inv.need_extra_words(0)?;
    let (src_index, src_depth) = (inv.arg(2), inv.arg(3));
    ensure_empty(dest)?;
    let src = lookup_slot_rare(true, src_root, src_index, src_depth)?;
    let src_cap = src.get().cap();
    if src_cap.is_null() {
        return Err(missing(true, src_depth));
    }
    let (cap, is_move) = match inv.label {
        // One path for both: the rights masked once, derived once.
        label::CNODE_COPY | label::CNODE_MINT => {
            let mint = inv.label == label::CNODE_MINT;
            need(inv.length >= 5 + mint as usize)?;
            let mut cap = src_cap;
            mask_cap_rights(CapRights(inv.arg(4)), &mut cap);
            if mint {
                update_cap_data(false, inv.arg(5), &mut cap);
            }
            derive_cap(src, &mut cap)?;
            (cap, false)
        }
        label::CNODE_MUTATE => {
            need(inv.length >= 5)?;
            let mut cap = src_cap;
            update_cap_data(true, inv.arg(4), &mut cap);
            (cap, true)
        }
        _ => (src_cap, true), // Move
    };
    if cap.is_null() {
        return Err(SyscallError::IllegalOperation);
    }
    Ok(match is_move {
        true => CNodeOp::Move { cap, src, dest },
        false => CNodeOp::Insert { cap, src, dest },
    })
}

/// Rotate: MR2 dest badge (applied to the pivot's capability, which goes to
/// dest), MR3/4 pivot index/depth, MR5 pivot badge (applied to the source's
/// capability, which goes to the pivot), MR6/7 source index/depth; extra
/// caps: pivot root, source root.
fn decode_rotate(inv: &Invocation, dest: SlotRef) -> Result<CNodeOp, SyscallError> {
    need(inv.length >= 8)?;
    let (Some((_, pivot_root)), Some((_, src_root))) = (inv.extra_words(0), inv.extra_words(1))
    else {
        return Err(SyscallError::TruncatedMessage);
    };
    let (pivot_data, pivot_index, pivot_depth) = (inv.arg(2), inv.arg(3), inv.arg(4));
    let (src_data, src_index, src_depth) = (inv.arg(5), inv.arg(6), inv.arg(7));
    let src = lookup_slot_rare(true, src_root, src_index, src_depth)?;
    // seL4 reports a failed pivot lookup as a source lookup.
    let pivot = lookup_slot_rare(true, pivot_root, pivot_index, pivot_depth)?;
    if pivot == src || pivot == dest {
        return Err(SyscallError::IllegalOperation);
    }
    if src != dest {
        ensure_empty(dest)?;
    }
    let src_cap = src.get().cap();
    if src_cap.is_null() {
        return Err(missing(true, src_depth));
    }
    let pivot_cap = pivot.get().cap();
    if pivot_cap.is_null() {
        return Err(missing(false, pivot_depth));
    }
    let (mut new_src, mut new_pivot) = (src_cap, pivot_cap);
    update_cap_data(true, src_data, &mut new_src);
    update_cap_data(true, pivot_data, &mut new_pivot);
    if new_src.is_null() || new_pivot.is_null() {
        return Err(SyscallError::IllegalOperation);
    }
    Ok(CNodeOp::Rotate {
        src_cap: new_src,
        pivot_cap: new_pivot,
        src,
        pivot,
        dest,
    })
}
