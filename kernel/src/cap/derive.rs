//! Relations between capabilities that the derivation tree rests on (ch. 3,
//! *Capability Derivation Tree*): which object or region a capability
//! names, "same region", and seL4's MDB parent rule.

use super::cap::Cap;
use super::cte::SlotRef;
use crate::api::error::SyscallError;

/// The memory a capability's object occupies: `(start, size_bits)`; `None`
/// for capabilities that name no memory (control caps, IRQ handlers, null).
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
        Cap::Null
        | Cap::Reply { .. }
        | Cap::IrqControl
        | Cap::IrqHandler { .. }
        | Cap::Zombie { .. }
        | Cap::Domain
        | Cap::AsidControl => return None,
    })
}

fn region_end(start: u64, bits: u32) -> u64 {
    start.saturating_add(1u64.checked_shl(bits).unwrap_or(u64::MAX))
}

/// seL4's `sameRegionAs`: `b` is in the region `a` has authority over.
pub fn same_region_as(a: &Cap, b: &Cap) -> bool {
    match (a, b) {
        (Cap::Untyped { .. }, _) => match (cap_region(a), cap_region(b)) {
            (Some((sa, ba)), Some((sb, bb))) => {
                sa <= sb && region_end(sb, bb) <= region_end(sa, ba)
            }
            _ => false,
        },
        (Cap::Endpoint { ptr: x, .. }, Cap::Endpoint { ptr: y, .. }) => x == y,
        (Cap::Notification { ptr: x, .. }, Cap::Notification { ptr: y, .. }) => x == y,
        (
            Cap::CNode {
                ptr: x, radix: rx, ..
            },
            Cap::CNode {
                ptr: y, radix: ry, ..
            },
        ) => x == y && rx == ry,
        (Cap::Thread { tcb: x }, Cap::Thread { tcb: y }) => x == y,
        (Cap::Reply { tcb: x, .. }, Cap::Reply { tcb: y, .. }) => x == y,
        (Cap::Domain, Cap::Domain) => true,
        (Cap::IrqControl, Cap::IrqControl | Cap::IrqHandler { .. }) => true,
        (Cap::IrqHandler { irq: x }, Cap::IrqHandler { irq: y }) => x == y,
        (
            Cap::Frame {
                base: x, size: sx, ..
            },
            Cap::Frame {
                base: y, size: sy, ..
            },
        ) => x.0 <= y.0 && region_end(y.0, sy.bits()) <= region_end(x.0, sx.bits()),
        (Cap::PageTable { base: x, .. }, Cap::PageTable { base: y, .. }) => x == y,
        (Cap::AsidControl, Cap::AsidControl) => true,
        (Cap::AsidPool { ptr: x, .. }, Cap::AsidPool { ptr: y, .. }) => x == y,
        _ => false,
    }
}

/// seL4's `isMDBParentOf`: whether the capability in `b` is a derivation
/// child of the one in `a` (given that `b` follows `a` in the list).
pub fn is_mdb_parent_of(a: SlotRef, b: SlotRef) -> bool {
    let (sa, sb) = (a.get(), b.get());
    if !sa.revocable() {
        return false;
    }
    let (ca, cb) = (sa.cap(), sb.cap());
    if !same_region_as(&ca, &cb) {
        return false;
    }
    match (ca, cb) {
        (Cap::Endpoint { badge: x, .. }, Cap::Endpoint { badge: y, .. })
        | (Cap::Notification { badge: x, .. }, Cap::Notification { badge: y, .. }) => {
            x == 0 || (x == y && !sb.first_badged())
        }
        _ => true,
    }
}

/// seL4's `ensureNoChildren`: RevokeFirst if the slot has a derivation child.
pub fn ensure_no_children(slot: SlotRef) -> Result<(), SyscallError> {
    match slot.get().next() {
        Some(next) if is_mdb_parent_of(slot, next) => Err(SyscallError::RevokeFirst),
        _ => Ok(()),
    }
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
}
