//! Relations between capabilities that the derivation tree rests on, and
//! derivation itself (ch. 3 Capability Spaces, *Capability Derivation
//! Tree*; ABI ref §4 "Derivation", §11): which memory a capability names,
//! seL4's `sameRegionAs`, `sameObjectAs` and MDB parent rule, which new
//! capabilities are revocable, and `deriveCap`; and the derivation-tree
//! operations that rest on them, `cteInsert` and `isFinalCapability`.
//!
//! The operations that each type answers its own way ([`cap_region`],
//! [`same_region_as`], [`same_object_as`], [`derive_cap`]) are exhaustive
//! `match`es, so that a new capability type must be placed in each;
//! [`is_cap_revocable`] states one rule for every type but the few it names.

use super::cap::Cap;
use super::cte::{insert_child, SlotRef};
use super::zombie::Zombie;
use crate::types::SyscallError;
use cairn_abi::cap::tag;

/// The memory a capability's object occupies: `(start, size_bits)`; `None`
/// for capabilities that name no memory (control caps, IRQ handlers,
/// classic reply caps, null). A zombie still names its object's memory.
pub fn cap_region(cap: &Cap) -> Option<(u64, u32)> {
    use cairn_abi::object as o;
    Some(match *cap {
        Cap::Untyped { ptr, size_bits, .. } => (ptr.0, size_bits as u32),
        Cap::Endpoint { ptr, .. } => (ptr.0, o::ENDPOINT_BITS),
        Cap::Notification { ptr, .. } => (ptr.0, o::NOTIFICATION_BITS),
        Cap::CNode { ptr, radix, .. } => (ptr.0, radix as u32 + o::SLOT_BITS),
        Cap::Thread { tcb } => (tcb.0, crate::config::TCB_BITS),
        Cap::Frame { base, size, .. } => (base.0, size.bits()),
        Cap::PageTable { base, .. } => (base.0, o::PAGE_TABLE_BITS),
        Cap::AsidPool { ptr, .. } => (ptr.0, o::ASID_POOL_BITS),
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedContext { ptr, size_bits } => (ptr.0, size_bits as u32),
        // An MCS reply cap names its object (seL4: physical, ReplyBits).
        #[cfg(any(feature = "mcs", test))]
        Cap::ReplyObject { ptr, .. } => (ptr.0, super::cap::REPLY_BITS),
        Cap::Zombie { .. } => {
            let z = Zombie::from_cap(cap)?;
            (z.ptr.0, z.size_bits())
        }
        Cap::Null
        | Cap::Reply { .. }
        | Cap::IrqControl
        | Cap::IrqHandler { .. }
        | Cap::Domain
        | Cap::AsidControl => return None,
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedControl { .. } => return None,
    })
}

/// The last byte of a region (inclusive, so a region reaching the top of
/// the address space does not overflow).
fn region_last(start: u64, bits: u32) -> u64 {
    start.saturating_add(1u64.checked_shl(bits).map_or(u64::MAX, |s| s - 1))
}

/// Whether the memory `b` names lies inside the untyped region `[ptr,
/// ptr + 2^bits)`: what `same_region_as` answers for an untyped, and what
/// `is_mdb_parent_of` asks for a child it does not read in place. Out of
/// line: each inlined a copy of `cap_region`.
#[inline(never)]
fn untyped_covers(b: &Cap, ptr: u64, bits: u32) -> bool {
    cap_region(b).is_some_and(|(sb, bb)| contains(ptr, bits, sb, bb))
}

/// Whether `[sb, sb + 2^bb)` lies inside `[sa, sa + 2^ba)`.
fn contains(sa: u64, ba: u32, sb: u64, bb: u32) -> bool {
    sa <= sb && region_last(sb, bb) <= region_last(sa, ba)
}

/// seL4's `sameRegionAs`: `b` is in the region `a` has authority over.
pub fn same_region_as(a: &Cap, b: &Cap) -> bool {
    match *a {
        Cap::Untyped { ptr, size_bits, .. } => untyped_covers(b, ptr.0, size_bits as u32),
        Cap::Endpoint { ptr: x, .. } => matches!(*b, Cap::Endpoint { ptr: y, .. } if x == y),
        Cap::Notification { ptr: x, .. } => {
            matches!(*b, Cap::Notification { ptr: y, .. } if x == y)
        }
        Cap::CNode {
            ptr: x, radix: rx, ..
        } => matches!(*b, Cap::CNode { ptr: y, radix: ry, .. } if x == y && rx == ry),
        Cap::Thread { tcb: x } => matches!(*b, Cap::Thread { tcb: y } if x == y),
        Cap::Reply { tcb: x, .. } => matches!(*b, Cap::Reply { tcb: y, .. } if x == y),
        Cap::Domain => matches!(*b, Cap::Domain),
        Cap::IrqControl => matches!(*b, Cap::IrqControl | Cap::IrqHandler { .. }),
        Cap::IrqHandler { irq: x } => matches!(*b, Cap::IrqHandler { irq: y } if x == y),
        Cap::Frame {
            base: x, size: sx, ..
        } => matches!(*b, Cap::Frame { base: y, size: sy, .. }
            if contains(x.0, sx.bits(), y.0, sy.bits())),
        Cap::PageTable { base: x, .. } => matches!(*b, Cap::PageTable { base: y, .. } if x == y),
        Cap::AsidControl => matches!(*b, Cap::AsidControl),
        Cap::AsidPool { ptr: x, .. } => matches!(*b, Cap::AsidPool { ptr: y, .. } if x == y),
        // seL4 compares a SchedContext's size too, and calls every
        // SchedControl capability the same region, whatever its core.
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedContext {
            ptr: x,
            size_bits: sx,
        } => matches!(*b, Cap::SchedContext { ptr: y, size_bits: sy } if x == y && sx == sy),
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedControl { .. } => matches!(*b, Cap::SchedControl { .. }),
        #[cfg(any(feature = "mcs", test))]
        Cap::ReplyObject { ptr: x, .. } => matches!(*b, Cap::ReplyObject { ptr: y, .. } if x == y),
        Cap::Null | Cap::Zombie { .. } => false,
    }
}

/// seL4's `sameObjectAs`: `a` and `b` name the same object (used to decide
/// whether a capability is the last one to its object). Untyped and IRQ
/// control capabilities are never "the same object" as anything, so their
/// deletion never finalises anything; frames must match exactly.
pub fn same_object_as(a: &Cap, b: &Cap) -> bool {
    match *a {
        Cap::Untyped { .. } | Cap::IrqControl => false,
        Cap::Frame {
            base: x,
            size: sx,
            is_device: dx,
            ..
        } => matches!(*b, Cap::Frame { base: y, size: sy, is_device: dy, .. }
            if x == y && sx == sy && dx == dy),
        Cap::Null
        | Cap::Endpoint { .. }
        | Cap::Notification { .. }
        | Cap::Reply { .. }
        | Cap::CNode { .. }
        | Cap::Thread { .. }
        | Cap::IrqHandler { .. }
        | Cap::Zombie { .. }
        | Cap::Domain
        | Cap::PageTable { .. }
        | Cap::AsidControl
        | Cap::AsidPool { .. } => same_region_as(a, b),
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedContext { .. } | Cap::SchedControl { .. } | Cap::ReplyObject { .. } => {
            same_region_as(a, b)
        }
    }
}

/// seL4's `isMDBParentOf`: whether the capability in `b` is a derivation
/// child of the one in `a` (given that `b` follows `a` in the list).
pub fn is_mdb_parent_of(a: SlotRef, b: SlotRef) -> bool {
    let (sa, sb) = (a.get(), b.get());
    if !sa.revocable() {
        return false;
    }
    // An untyped parent, read in place (every Retype asks, and every
    // revoke of an untyped for each child): what `same_region_as` says
    // for it, and an untyped has no badge.
    if let Some((ptr, bits)) = sa.words().untyped() {
        // The child read in place too when it is a frame, an untyped or
        // an endpoint (what Retypes make most, and so what a revoke of an
        // untyped meets most), otherwise decoded.
        let wb = sb.words();
        let child = match wb.tag() {
            tag::FRAME => wb.frame().map(|(base, fbits, _, _)| (base.0, fbits)),
            tag::UNTYPED => wb.untyped().map(|(p, ubits)| (p.0, ubits)),
            tag::ENDPOINT => wb
                .endpoint()
                .map(|(p, _, _)| (p.0, cairn_abi::object::ENDPOINT_BITS)),
            _ => return untyped_covers(&sb.cap(), ptr.0, bits),
        };
        return child.is_some_and(|(s, b)| contains(ptr.0, bits, s, b));
    }
    let (ca, cb) = (sa.cap(), sb.cap());
    if !same_region_as(&ca, &cb) {
        return false;
    }
    // Same region: both are endpoints (or both notifications) if `a` is.
    match ca.badge() {
        Some(x) if x != 0 => cb.badge() == Some(x) && !sb.first_badged(),
        Some(_) | None => true,
    }
}

/// seL4's `ensureNoChildren`: RevokeFirst if the slot has a derivation child.
pub fn ensure_no_children(slot: SlotRef) -> Result<(), SyscallError> {
    match slot.get().next() {
        Some(next) if is_mdb_parent_of(slot, next) => Err(SyscallError::RevokeFirst),
        _ => Ok(()),
    }
}

/// seL4's `isCapRevocable`: whether `derived`, made from `src`, starts a
/// revocable subtree of its own. A badged endpoint or notification minted
/// from an unbadged one is (and is the "first badged" copy); IRQ handlers
/// issued by IRQ control and untypeds are; nothing else is (RISC-V arch
/// caps never are).
pub fn is_cap_revocable(derived: &Cap, src: &Cap) -> bool {
    match *derived {
        Cap::Endpoint { badge, .. } => {
            !matches!(*src, Cap::Endpoint { badge: b, .. } if b == badge)
        }
        Cap::Notification { badge, .. } => {
            !matches!(*src, Cap::Notification { badge: b, .. } if b == badge)
        }
        Cap::IrqHandler { .. } => matches!(*src, Cap::IrqControl),
        Cap::Untyped { .. } => true,
        // Listed, not `_`: a new capability type must be placed here on
        // purpose.
        Cap::Null
        | Cap::CNode { .. }
        | Cap::Reply { .. }
        | Cap::Thread { .. }
        | Cap::IrqControl
        | Cap::Zombie { .. }
        | Cap::Domain
        | Cap::Frame { .. }
        | Cap::PageTable { .. }
        | Cap::AsidControl
        | Cap::AsidPool { .. } => false,
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedContext { .. } | Cap::SchedControl { .. } | Cap::ReplyObject { .. } => false,
    }
}

/// seL4's `cteInsert`: puts `cap`, derived from the capability in `src`,
/// into the empty slot `dest` right after `src` in the derivation list, with
/// revocable/first-badged status by `is_cap_revocable`. A child untyped
/// covering its whole parent makes the parent full (no more retypes from it
/// until revoked).
pub fn cte_insert(cap: Cap, src: SlotRef, dest: SlotRef) {
    let src_cap = src.get().cap();
    let revocable = is_cap_revocable(&cap, &src_cap);
    if let (
        Cap::Untyped {
            ptr,
            size_bits,
            is_device,
            ..
        },
        Cap::Untyped {
            ptr: p2,
            size_bits: b2,
            ..
        },
    ) = (src_cap, cap)
    {
        if ptr == p2 && size_bits == b2 {
            src.get().set_cap(Cap::Untyped {
                ptr,
                size_bits,
                free_index: 1u64.checked_shl(size_bits as u32).unwrap_or(0),
                is_device,
            });
        }
    }
    insert_child(src, dest, cap, revocable);
}

/// seL4's `isFinalCapability`: no neighbour in the list names the same
/// object (copies of a capability are always adjacent to it, so looking at
/// the two neighbours suffices).
pub fn is_final_capability(slot: SlotRef) -> bool {
    let s = slot.get();
    let cap = s.cap();
    let same = |other: Option<SlotRef>, before: bool| {
        other.is_some_and(|o| {
            let oc = o.get().cap();
            if before {
                same_object_as(&oc, &cap)
            } else {
                same_object_as(&cap, &oc)
            }
        })
    };
    !same(s.prev(), true) && !same(s.next(), false)
}

/// seL4's `deriveCap`: turns `cap` (already masked), which lives in `slot`,
/// into the capability a Copy, Mint or IPC transfer places. `cap` becomes
/// `Cap::Null` when it is not derivable (the caller answers
/// IllegalOperation): zombies,
/// IRQ control and (classic) reply capabilities. An untyped with children
/// gives RevokeFirst; an unmapped page table IllegalOperation. A frame copy
/// is unmapped (ABI ref §4, §11); on an error `cap` is unchanged.
/// Out of line: called by decoders and cap transfer, none on a fast
/// path; one copy instead of one per caller. In place, not by value: a
/// `Cap` returned through a `Result` was copied out and back by every
/// caller (docs/benchmarks.md, "Code size").
#[inline(never)]
pub fn derive_cap(slot: SlotRef, cap: &mut Cap) -> Result<(), SyscallError> {
    match cap {
        Cap::Zombie { .. } | Cap::IrqControl | Cap::Reply { .. } => *cap = Cap::Null,
        Cap::Untyped { .. } => ensure_no_children(slot)?,
        Cap::PageTable { mapping, .. } => {
            if mapping.is_none() {
                return Err(SyscallError::IllegalOperation);
            }
        }
        Cap::Frame { mapping, .. } => *mapping = None,
        Cap::Null
        | Cap::Endpoint { .. }
        | Cap::Notification { .. }
        | Cap::CNode { .. }
        | Cap::Thread { .. }
        | Cap::IrqHandler { .. }
        | Cap::Domain
        | Cap::AsidControl
        | Cap::AsidPool { .. } => {}
        // Copied as they are (seL4's deriveCap default; MCS reply caps
        // are derivable, unlike classic ones).
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedContext { .. } | Cap::SchedControl { .. } | Cap::ReplyObject { .. } => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;
    use crate::cap::cte::{cnode_slot, insert_child, insert_original};
    use crate::types::PAddr;
    use cairn_abi::cap::CapRights;

    const BASE: u64 = 0x8000_0000;

    #[test]
    fn untyped_region_contains_its_objects() {
        let ut = Cap::Untyped {
            ptr: PAddr(0x9000_0000),
            size_bits: 16,
            free_index: 0,
            is_device: false,
        };
        let inside = Cap::Endpoint {
            ptr: PAddr(0x9000_fff0),
            badge: 0,
            rights: CapRights::ALL,
        };
        let straddles = Cap::CNode {
            ptr: PAddr(0x9000_f000),
            radix: 8,
            guard_size: 0,
            guard: 0,
        };
        let outside = Cap::Thread {
            tcb: PAddr(0x9001_0000),
        };
        assert!(same_region_as(&ut, &inside));
        assert!(!same_region_as(&ut, &straddles));
        assert!(!same_region_as(&ut, &outside));
        assert!(!same_region_as(&ut, &Cap::IrqControl));
        assert!(same_region_as(
            &Cap::IrqControl,
            &Cap::IrqHandler { irq: 3 }
        ));
    }

    #[test]
    fn badged_children_of_badged_caps() {
        SimMachine::install(BASE, 1 << 16);
        let ep = |badge| Cap::Endpoint {
            ptr: PAddr(0x9000_0000),
            badge,
            rights: CapRights::ALL,
        };
        let cn = PAddr(BASE);
        let (orig, minted, copy) = (cnode_slot(cn, 0), cnode_slot(cn, 1), cnode_slot(cn, 2));
        insert_original(orig, ep(0));
        assert_eq!(ensure_no_children(orig), Ok(()));
        insert_child(orig, minted, ep(5), true); // a mint: revocable, first badged
        assert!(is_mdb_parent_of(orig, minted));
        assert_eq!(ensure_no_children(orig), Err(SyscallError::RevokeFirst));
        insert_child(minted, copy, ep(5), false); // a copy of the badged cap
        assert!(is_mdb_parent_of(minted, copy));
        assert!(
            !is_mdb_parent_of(copy, minted),
            "a non-revocable copy has no children"
        );
    }

    /// The MCS capabilities' derivation rules, as seL4's: a SchedContext
    /// is one region with its size, inside the untyped it came from, copies
    /// as it is and is not revocable; every SchedControl capability is the
    /// same region (whatever its core) and names no memory.
    #[test]
    fn mcs_caps_derive_as_sel4s() {
        SimMachine::install(BASE, 1 << 16);
        let sc = |ptr, size_bits| Cap::SchedContext {
            ptr: PAddr(ptr),
            size_bits,
        };
        let ut = Cap::Untyped {
            ptr: PAddr(0x9000_0000),
            size_bits: 12,
            free_index: 0,
            is_device: false,
        };
        assert_eq!(cap_region(&sc(0x9000_0400, 10)), Some((0x9000_0400, 10)));
        assert!(same_region_as(&ut, &sc(0x9000_0c00, 10)));
        assert!(!same_region_as(&ut, &sc(0x9000_0800, 12)));
        assert!(same_object_as(&sc(0x9000_0400, 10), &sc(0x9000_0400, 10)));
        assert!(!same_object_as(&sc(0x9000_0400, 10), &sc(0x9000_0400, 11)));
        assert!(!same_object_as(&sc(0x9000_0400, 10), &sc(0x9000_0800, 10)));
        let (c0, c1) = (Cap::SchedControl { core: 0 }, Cap::SchedControl { core: 1 });
        assert_eq!(cap_region(&c0), None);
        assert!(same_region_as(&c0, &c1));
        assert!(!same_region_as(&c0, &Cap::Domain));
        assert!(!same_region_as(&ut, &c0));

        let cn = PAddr(BASE);
        let (orig, copy) = (cnode_slot(cn, 0), cnode_slot(cn, 1));
        insert_original(orig, sc(0x9000_0400, 10));
        assert!(is_final_capability(orig));
        let mut derived = sc(0x9000_0400, 10);
        assert_eq!(derive_cap(orig, &mut derived), Ok(()));
        assert_eq!(derived, sc(0x9000_0400, 10));
        assert!(!is_cap_revocable(&sc(0x9000_0400, 10), &ut));
        cte_insert(sc(0x9000_0400, 10), orig, copy);
        assert!(!copy.get().revocable());
        assert!(
            is_mdb_parent_of(orig, copy),
            "revoking the original deletes copies"
        );
        assert!(!is_final_capability(orig) && !is_final_capability(copy));
        let mut derived = c1;
        assert_eq!(derive_cap(orig, &mut derived), Ok(()));
        assert_eq!(derived, c1);
        assert!(!is_cap_revocable(&c1, &c0));
    }
}
