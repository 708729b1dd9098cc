//! Untyped memory and `Untyped_Retype` (ch. 2 Kernel Services and Objects,
//! *Kernel Memory Allocation*, *Reusing Memory*; ch. 10 API,
//! `seL4_Untyped_Retype`; ABI ref §5, §6.6, §7.2, §8).
//!
//! An untyped capability names `2^size_bits` bytes and a *watermark* (its
//! free index, in bytes): objects are carved at the watermark rounded up to
//! the object size, and the watermark only grows, until the untyped has no
//! children left; then the next Retype resets it (`untyped_reset`) and
//! allocation starts again at 0.
//!
//! Decoding checks everything in seL4's order, so that each error (and its
//! data) is the one seL4 reports; performing can only be preempted (during
//! the reset). Objects are made by `object::create`; their caps go to
//! consecutive empty slots of the destination CNode, as derivation-tree
//! children of the untyped slot. [`decode`] and [`perform`] are called by
//! the syscall layer (`api`) only.

use super::create::{allowed_in_device_memory, create_object, frame_size, object_size_bits};
use super::untyped_reset::reset_untyped;
use crate::cap::cte::{cnode_slot, insert_child, insert_child_words};
use crate::cap::derive::ensure_no_children;
use crate::cap::{Cap, CapWords, SlotRef};
use crate::object::cnode::{lookup_slot_for_cnode_op, missing};
use crate::object::invocation::{need, Invocation};
use crate::types::{round_up, PAddr};
use crate::types::{Preempted, SyscallError};
use cairn_abi::invocation::label;
use cairn_abi::object::UNTYPED_RETYPE_MAX_OBJECTS;
use cairn_abi::object::{ObjectType, MAX_UNTYPED_BITS, MIN_UNTYPED_BITS};

/// Bits in a word (`wordBits`).
const WORD_BITS: u64 = 64;

/// A decoded `Untyped_Retype`: everything the operation needs, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retype {
    /// The invoked untyped's slot.
    slot: SlotRef,
    /// Reset the untyped first (it has no children).
    reset: bool,
    /// Where the first object goes (aligned to the object size).
    base: PAddr,
    ty: ObjectType,
    /// The user's size argument (radix for CNodes, size for untypeds).
    user_size: u32,
    /// log2 of each object's size.
    object_bits: u32,
    /// The destination CNode and the first slot of the window.
    dest: PAddr,
    offset: u64,
    count: u64,
    is_device: bool,
}

/// Decodes an invocation of an untyped capability (Retype is its only
/// method) without changing anything. `cap` is the invoked capability as
/// the dispatch decoded it (inlined: not decoded a second time).
#[inline(always)]
pub fn decode(inv: &Invocation, cap: Cap) -> Result<Retype, SyscallError> {
    if inv.label != label::UNTYPED_RETYPE {
        return Err(SyscallError::IllegalOperation);
    }
    decode_retype(inv, cap)
}

/// Decodes `Untyped_Retype` (seL4's `decodeUntypedInvocation`), checking in
/// seL4's order; changes nothing.
#[inline(always)]
fn decode_retype(inv: &Invocation, cap: Cap) -> Result<Retype, SyscallError> {
    let Cap::Untyped {
        ptr,
        size_bits,
        free_index,
        is_device,
    } = cap
    else {
        return Err(SyscallError::IllegalOperation);
    };
    need(inv.length >= 6)?;
    let (_, root) = inv.need_extra_words(0)?;
    let (ty, user_size) = (inv.arg(0), inv.arg(1));
    let (node_index, node_depth) = (inv.arg(2), inv.arg(3));
    let (offset, count) = (inv.arg(4), inv.arg(5));

    let ty = ObjectType::from_word(ty).ok_or(SyscallError::InvalidArgument { index: 0 })?;
    let size_error = SyscallError::RangeError {
        min: 0,
        max: MAX_UNTYPED_BITS as u64,
    };
    if user_size >= WORD_BITS {
        return Err(size_error);
    }
    let user_size = user_size as u32;
    let object_bits = object_size_bits(ty, user_size);
    if object_bits > MAX_UNTYPED_BITS {
        return Err(size_error);
    }
    let too_small = match ty {
        ObjectType::CapTable => user_size == 0,
        ObjectType::Untyped => user_size < MIN_UNTYPED_BITS,
        #[cfg(feature = "mcs")]
        ObjectType::SchedContext => user_size < cairn_abi::object::MIN_SCHED_CONTEXT_BITS,
        _ => false,
    };
    if too_small {
        return Err(SyscallError::InvalidArgument { index: 1 });
    }

    let (dest, radix) = destination_cnode(root, node_index, node_depth)?;
    let node_size = 1u64.checked_shl(radix).unwrap_or(0);
    let last_slot = node_size.wrapping_sub(1);
    if offset > last_slot {
        return Err(SyscallError::RangeError {
            min: 0,
            max: last_slot,
        });
    }
    if !(1..=UNTYPED_RETYPE_MAX_OBJECTS).contains(&count) {
        return Err(SyscallError::RangeError {
            min: 1,
            max: UNTYPED_RETYPE_MAX_OBJECTS,
        });
    }
    let room = (last_slot - offset).saturating_add(1); // offset <= last_slot
    if count > room {
        return Err(SyscallError::RangeError { min: 1, max: room });
    }
    for i in offset..offset + count {
        if !cnode_slot(dest, i).get().words().is_null() {
            return Err(SyscallError::DeleteFirst);
        }
    }

    // With no children the untyped is reset first and allocation starts at
    // 0, whatever its free index says; otherwise it goes on from the
    // watermark.
    let reset = ensure_no_children(inv.slot).is_ok();
    let used = if reset { 0 } else { free_index };
    let free_bytes = (1u64 << size_bits).saturating_sub(used);
    // If `count` objects fit in the free bytes they also fit once the start
    // is aligned: the untyped's end is aligned to the (smaller) object size.
    if (free_bytes >> object_bits) < count {
        return Err(SyscallError::NotEnoughMemory {
            available: free_bytes,
        });
    }
    if is_device && !allowed_in_device_memory(ty) {
        return Err(SyscallError::InvalidArgument { index: 1 });
    }
    Ok(Retype {
        slot: inv.slot,
        reset,
        base: PAddr(round_up(ptr.0 + used, object_bits)),
        ty,
        user_size,
        object_bits,
        dest,
        offset,
        count,
        is_device,
    })
}

/// The CNode the new caps go to: the root itself for depth 0, else the
/// CNode capability at `(index, depth)` from the root (seL4's
/// `lookupTargetSlot`, the same checks as a CNode operation's). Returns
/// its address and radix.
/// The root is read in place, as sent (not decoded).
fn destination_cnode(root: CapWords, index: u64, depth: u64) -> Result<(PAddr, u32), SyscallError> {
    let node = match depth {
        0 => root.cnode().map(|(ptr, radix, _, _)| (ptr, radix)),
        // Read in place: only the CNode's address and radix are needed.
        _ => lookup_slot_for_cnode_op(false, root, index, depth)?
            .get()
            .words()
            .cnode()
            .map(|(ptr, radix, _, _)| (ptr, radix)),
    };
    node.ok_or_else(|| missing(false, depth))
}

/// Performs a decoded Retype (seL4's `invokeUntyped_Retype`): reset if
/// needed (the only step that can be preempted), move the watermark past
/// the new objects, create them and insert their caps.
pub fn perform(r: &Retype) -> Result<(), Preempted> {
    if r.reset {
        reset_untyped(r.slot)?;
    }
    let s = r.slot.get();
    let w = s.words();
    if let Some((ptr, _)) = w.untyped() {
        let end = r.base.0 + (r.count << r.object_bits);
        s.set_words(w.with_free_index(end - ptr.0));
    }
    if let Some(size) = frame_size(r.ty) {
        // Frames: the words written directly, no per-object dispatch.
        for i in 0..r.count {
            let cap = CapWords::new_frame(r.base.add(i << r.object_bits), size, r.is_device);
            insert_child_words(r.slot, cnode_slot(r.dest, r.offset + i), cap, true);
        }
        return Ok(());
    }
    for i in 0..r.count {
        let at = r.base.add(i << r.object_bits);
        let cap = create_object(r.ty, at, r.user_size, r.is_device);
        insert_child(r.slot, cnode_slot(r.dest, r.offset + i), cap, true);
    }
    Ok(())
}

#[cfg(test)]
#[path = "untyped_tests.rs"]
mod tests;
