//! The specification's own tests: small hand-built states, each rule
//! checked against what the manual says.

use crate::cap::{Cap, EpRights, Kind};
use crate::error::{LookupFault, SyscallError};
use crate::state::{SlotId, State};

// The world shared with the MCS tests (`tests_world.rs`); the other
// classic test files take it from here.
pub(crate) use crate::tests_world::{boot, call, entry, root, root_cap, BUFFER, ROOT, TCB, UT};

#[test]
fn guard_mismatch_reports_the_guard() {
    let s = boot();
    // Depth 8 from a CNode with a 60-bit guard: the guard does not fit.
    assert_eq!(
        s.resolve(&root_cap(), 1, 8),
        Err(LookupFault::GuardMismatch {
            bits_left: 8,
            guard_found: 0,
            bits_found: 60
        })
    );
    // A set bit in the guard's range.
    assert_eq!(
        s.resolve(&root_cap(), 1 << 20, 64),
        Err(LookupFault::GuardMismatch {
            bits_left: 64,
            guard_found: 0,
            bits_found: 60
        })
    );
    assert_eq!(s.resolve(&root_cap(), 5, 64), Ok((root(5), 0)));
}

#[test]
fn retype_aligns_and_moves_the_watermark() {
    let mut s = boot();
    // Two endpoints (16 bytes) into slots 2, 3, then a TCB (2 KiB): it
    // starts at the next 2 KiB boundary.
    assert_eq!(call(&mut s, 1, 1, &[2, 0, 0, 0, 2, 2], &[0]), Ok(()));
    assert_eq!(call(&mut s, 1, 1, &[1, 0, 0, 0, 4, 1], &[0]), Ok(()));
    assert_eq!(s.cap(root(4)), Some(Cap::Thread { obj: UT + 0x800 }));
    let Some(Cap::Untyped { watermark, .. }) = s.cap(root(1)) else {
        panic!()
    };
    assert_eq!(watermark, 0x1000);
    // Newest first under the untyped.
    let kids = &s.entry(root(1)).unwrap().children;
    assert_eq!(kids, &vec![root(4), root(3), root(2)]);
    // Too many: the error says how many bytes are left.
    assert_eq!(
        call(&mut s, 1, 1, &[0, 16, 0, 0, 5, 1], &[0]),
        Err(SyscallError::NotEnoughMemory {
            available: 0x10000 - 0x1000
        })
    );
    // A full destination slot.
    assert_eq!(
        call(&mut s, 1, 1, &[2, 0, 0, 0, 4, 1], &[0]),
        Err(SyscallError::DeleteFirst)
    );
    // Revoke, and the untyped starts again from 0.
    assert_eq!(call(&mut s, 0, 17, &[1, 64], &[]), Ok(()));
    assert!(s.cap(root(2)).is_none() && !s.objects.contains_key(&UT));
    assert_eq!(call(&mut s, 1, 1, &[2, 0, 0, 0, 2, 1], &[0]), Ok(()));
    assert!(matches!(
        s.cap(root(2)),
        Some(Cap::Endpoint { obj: UT, .. })
    ));
}

#[test]
fn mint_badges_and_revoke_takes_the_subtree() {
    let mut s = boot();
    assert_eq!(call(&mut s, 1, 1, &[2, 0, 0, 0, 2, 1], &[0]), Ok(()));
    // Mint badge 7 into 3 (a new original: child of the unbadged cap),
    // Copy 3 into 4 (child of the badged one).
    assert_eq!(call(&mut s, 0, 21, &[3, 64, 2, 64, 0xF, 7], &[0]), Ok(()));
    assert_eq!(call(&mut s, 0, 20, &[4, 64, 3, 64, 0x3], &[0]), Ok(()));
    let e4 = s.entry(root(4)).unwrap();
    assert_eq!(e4.parent, Some(root(3)));
    assert!(matches!(e4.cap, Cap::Endpoint { badge: 7, rights, .. }
        if rights == EpRights::from_word(3)));
    // A badged cap cannot be re-badged.
    assert_eq!(
        call(&mut s, 0, 21, &[5, 64, 3, 64, 0xF, 9], &[0]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(call(&mut s, 0, 17, &[2, 64], &[]), Ok(()));
    assert!(s.cap(root(3)).is_none() && s.cap(root(4)).is_none());
    assert!(s.cap(root(2)).is_some());
}

#[test]
fn deleting_a_cnode_deletes_its_caps_but_nested_ones_become_zombies() {
    let mut s = boot();
    // CNodes A (slot 2) and B (slot 3), an endpoint in slot 4.
    assert_eq!(call(&mut s, 1, 1, &[4, 2, 0, 0, 2, 2], &[0]), Ok(()));
    assert_eq!(call(&mut s, 1, 1, &[2, 0, 0, 0, 4, 1], &[0]), Ok(()));
    // Move the endpoint into A's slot 1 and A's cap into B's slot 1 (A
    // and B have no guard: index 1 at depth 2).
    assert_eq!(call(&mut s, 2, 22, &[1, 2, 4, 64], &[0]), Ok(()));
    assert_eq!(call(&mut s, 3, 22, &[1, 2, 2, 64], &[0]), Ok(()));
    let Some(Cap::CNode { obj: b, .. }) = s.cap(root(3)) else {
        panic!()
    };
    let Some(Cap::CNode { obj: a, .. }) = s.cap(SlotId { obj: b, index: 1 }) else {
        panic!()
    };
    assert!(matches!(
        s.cap(SlotId { obj: a, index: 1 }),
        Some(Cap::Endpoint { .. })
    ));
    // Deleting B empties it; A, met inside B, becomes a zombie in its own
    // slot 0 and keeps its other caps.
    assert_eq!(call(&mut s, 0, 18, &[3, 64], &[]), Ok(()));
    assert!(!s.objects.contains_key(&b));
    assert_eq!(
        s.cap(SlotId { obj: a, index: 0 }),
        Some(Cap::Zombie {
            obj: a,
            kind: Kind::CNode { radix: 2 },
            count: 4,
        })
    );
    assert!(s.cap(SlotId { obj: a, index: 1 }).is_some());
    // Revoking the untyped reaches the zombie and destroys A.
    assert_eq!(call(&mut s, 0, 17, &[1, 64], &[]), Ok(()));
    assert!(!s.objects.contains_key(&a));
}

/// The first divergence of `cargo xtask spec --seed 11` (docs/spec.md):
/// CNodes A and B each hold the last cap to the other, A's cap in B's
/// slot 0. Revoking their untyped deletes A's cap first: emptying A meets
/// B's last cap, whose zombie moves into B's slot 0, the very slot being
/// deleted, which then destroys B, not A (seL4's `reduceZombie`). A is
/// left a zombie in its own slot 0 until the revoke reaches it; nothing
/// leaks.
#[test]
fn revoke_through_two_cnodes_holding_each_others_last_cap() {
    let mut s = boot();
    let before: Vec<u64> = s.objects.keys().copied().collect();
    // B in slot 2, A in slot 3 (A is the newest child: deleted first).
    assert_eq!(call(&mut s, 1, 1, &[4, 2, 0, 0, 2, 2], &[0]), Ok(()));
    let (Some(Cap::CNode { obj: b, .. }), Some(Cap::CNode { obj: a, .. })) =
        (s.cap(root(2)), s.cap(root(3)))
    else {
        panic!()
    };
    assert_eq!(s.entry(root(1)).map(|e| e.children[0]), Some(root(3)));
    // B's cap into A's slot 1; A's cap into B's slot 0, through A and B
    // (index 1 in A, then 0 in B: 4 bits).
    assert_eq!(call(&mut s, 3, 22, &[1, 2, 2, 64], &[0]), Ok(()));
    assert_eq!(call(&mut s, 3, 22, &[0b0100, 4, 3, 64], &[0]), Ok(()));
    let at = |obj, index| s.cap(SlotId { obj, index });
    assert!(matches!(at(b, 0), Some(Cap::CNode { obj, .. }) if obj == a));
    assert!(matches!(at(a, 1), Some(Cap::CNode { obj, .. }) if obj == b));
    // Delete A's cap, in B's slot 0, as the revoke's first step.
    s.delete(SlotId { obj: b, index: 0 }, true);
    assert!(!s.objects.contains_key(&b), "B is destroyed");
    let z = SlotId { obj: a, index: 0 };
    assert_eq!(
        s.cap(z),
        Some(Cap::Zombie {
            obj: a,
            kind: Kind::CNode { radix: 2 },
            count: 2
        }),
        "A: a zombie in its slot 0, slots 0 and 1 left"
    );
    assert_eq!(s.entry(z).and_then(|e| e.parent), Some(root(1)));
    // The revoke reaches A's zombie and destroys A.
    assert_eq!(call(&mut s, 0, 17, &[1, 64], &[]), Ok(()));
    assert_eq!(s.objects.keys().copied().collect::<Vec<_>>(), before);
}

/// A CNode whose last cap sits in its own slot 2: deleting that cap
/// empties slot 3, then meets the zombie's own slot, which moves the
/// zombie into slot 0 and ends; slot 1 keeps its cap until a deletion
/// reaches the zombie (seL4's `reduceZombie`, rule 2 of docs/spec.md).
#[test]
fn a_cnode_holding_its_last_cap_in_slot_2_stays_a_zombie() {
    let mut s = boot();
    assert_eq!(call(&mut s, 1, 1, &[4, 2, 0, 0, 2, 1], &[0]), Ok(()));
    let Some(Cap::CNode { obj: a, .. }) = s.cap(root(2)) else {
        panic!()
    };
    // A copy of the root CNode's cap into A's slot 1, A's cap into its
    // slot 2.
    assert_eq!(call(&mut s, 2, 20, &[1, 2, 0, 64, 15], &[0]), Ok(()));
    assert_eq!(call(&mut s, 2, 22, &[2, 2, 2, 64], &[0]), Ok(()));
    let at = |s: &State, index| s.cap(SlotId { obj: a, index });
    s.delete(SlotId { obj: a, index: 2 }, true);
    assert_eq!(
        at(&s, 0),
        Some(Cap::Zombie {
            obj: a,
            kind: Kind::CNode { radix: 2 },
            count: 3
        })
    );
    assert_eq!(at(&s, 1), Some(root_cap()));
    assert_eq!(at(&s, 2), None);
    assert_eq!(call(&mut s, 0, 17, &[1, 64], &[]), Ok(()));
    assert!(!s.objects.contains_key(&a));
}
