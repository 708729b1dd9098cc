//! Host tests of the CNode invocations: every method, every error with its
//! exact message registers (ABI ref §7.4, §8), the rights/badge/guard rules
//! and Rotate's pivot rules. Deletion, zombies and preemption are tested in
//! `tests_delete.rs`.

use crate::cap::cte::cnode_slot;
use crate::cap::derive::cte_insert;
use crate::cap::derive::is_mdb_parent_of;
use crate::cap::{Cap, VmRights};
use crate::testutil::{boot, err, ok, Outcome, TestKernel};
use cairn_abi::cap::{cnode_cap_data, init, CapRights};
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType as T;

/// Error codes (ABI ref §8).
pub const ILLEGAL: u64 = 3;
pub const RANGE: u64 = 4;
pub const FAILED_LOOKUP: u64 = 6;
pub const TRUNCATED: u64 = 7;
pub const DELETE_FIRST: u64 = 8;
pub const REVOKE_FIRST: u64 = 9;

/// Invokes the root CNode.
pub fn cn(k: &TestKernel, label: u64, mrs: &[u64]) -> Outcome {
    k.call(init::CNODE, label, mrs, &[init::CNODE])
}

/// The largest RAM untyped's slot.
pub fn ram_untyped(k: &TestKernel) -> u64 {
    k.untypeds
        .clone()
        .filter(|&i| {
            matches!(
                k.cap(i),
                Cap::Untyped {
                    is_device: false,
                    ..
                }
            )
        })
        .max_by_key(|&i| match k.cap(i) {
            Cap::Untyped { size_bits, .. } => size_bits,
            _ => 0,
        })
        .expect("a RAM untyped")
}

/// Retypes `n` objects of `ty` (seL4 object type number) with `size` into
/// root slots from `slot` on, from the untyped in root slot `ut`.
pub fn retype(k: &TestKernel, ut: u64, ty: u64, size: u64, slot: u64, n: u64) {
    let r = k.call(
        ut,
        l::UNTYPED_RETYPE,
        &[ty, size, 0, 0, slot, n],
        &[init::CNODE],
    );
    assert_eq!(r, ok(), "retype type {ty} into {slot}");
}

/// Object type numbers (ABI ref §5).
pub const T_UNTYPED: u64 = T::Untyped as u64;
pub const T_TCB: u64 = T::Tcb as u64;
pub const T_EP: u64 = T::Endpoint as u64;
pub const T_NTFN: u64 = T::Notification as u64;
pub const T_CNODE: u64 = T::CapTable as u64;
pub const T_PAGE: u64 = T::SmallPage as u64;
pub const T_PT: u64 = T::PageTable as u64;

/// A booted kernel with an endpoint in slot `e`, a notification in `e + 1`
/// and the RAM untyped they came from; returns (kernel, e, untyped slot).
fn with_ep() -> (TestKernel, u64, u64) {
    let k = boot();
    let ut = ram_untyped(&k);
    let e = k.first_empty;
    retype(&k, ut, T_EP, 0, e, 1);
    retype(&k, ut, T_NTFN, 0, e + 1, 1);
    (k, e, ut)
}

fn ep_of(c: Cap) -> (u64, u64) {
    match c {
        Cap::Endpoint { badge, rights, .. } | Cap::Notification { badge, rights, .. } => {
            (badge, rights.0)
        }
        other => panic!("not an endpoint: {other:?}"),
    }
}

#[test]
fn label_and_length_checks_come_first() {
    let k = boot();
    assert_eq!(cn(&k, l::TCB_SET_FLAGS, &[1, 64]), err(ILLEGAL, &[]));
    assert_eq!(
        cn(&k, l::IRQ_ISSUE_IRQ_HANDLER, &[1, 64]),
        err(ILLEGAL, &[])
    );
    assert_eq!(cn(&k, l::CNODE_REVOKE, &[1]), err(TRUNCATED, &[]));
    assert_eq!(cn(&k, l::CNODE_COPY, &[]), err(TRUNCATED, &[]));
}

#[test]
fn an_empty_slot_is_found_and_invoking_it_is_invalid_capability() {
    let k = boot();
    let e = k.first_empty;
    for label in [l::CNODE_COPY, l::UNTYPED_RETYPE, 0x7777] {
        let r = k.call(e, label, &[0, 64, 0, 64, 0xF, 0], &[init::CNODE]);
        assert_eq!(r, err(2, &[0]), "label {label}");
    }
    // A null extra cap is found too: here it is the source root.
    assert_eq!(
        k.call(init::CNODE, l::CNODE_COPY, &[e, 64, 1, 64, 0xF], &[e]),
        err(FAILED_LOOKUP, &[1, 1])
    );
}

#[test]
fn destination_lookup_errors_carry_sel4s_data() {
    let k = boot();
    let r = k.radix as u64;
    let e = k.first_empty;
    for depth in [0, 65, u64::MAX] {
        assert_eq!(cn(&k, l::CNODE_DELETE, &[e, depth]), err(RANGE, &[1, 64]));
    }
    // Depth 13: the root's guard needs 64 - R bits (ABI ref §6.7's example).
    assert_eq!(
        cn(&k, l::CNODE_DELETE, &[e, 13]),
        err(FAILED_LOOKUP, &[0, 4, 13, 0, 64 - r])
    );
    // A cptr beyond the radix misses the zero guard.
    assert_eq!(
        cn(&k, l::CNODE_DELETE, &[1 << r, 64]),
        err(FAILED_LOOKUP, &[0, 4, 64, 0, 64 - r])
    );
    // Depth 63 leaves too few bits for guard + radix.
    assert_eq!(
        cn(&k, l::CNODE_DELETE, &[e, 63]),
        err(FAILED_LOOKUP, &[0, 3, 63, 64])
    );
    // The destination is looked up before anything else is checked.
    assert_eq!(
        cn(&k, l::CNODE_COPY, &[e, 13, 1, 64]),
        err(FAILED_LOOKUP, &[0, 4, 13, 0, 64 - r])
    );
}

#[test]
fn copy_errors_in_sel4s_order() {
    let k = boot();
    let e = k.first_empty;
    let copy = |mrs: &[u64], extra: &[u64]| k.call(init::CNODE, l::CNODE_COPY, mrs, extra);
    // Too short, or no source root.
    assert_eq!(copy(&[e, 64, 1], &[init::CNODE]), err(TRUNCATED, &[]));
    assert_eq!(copy(&[e, 64, 1, 64, 0xF], &[]), err(TRUNCATED, &[]));
    // Occupied destination before the source lookup (ABI ref §6.7: label 8).
    assert_eq!(
        copy(&[1, 64, e + 1, 64, 0xF], &[init::CNODE]),
        err(DELETE_FIRST, &[])
    );
    // Source root not a CNode; bad source depth; empty source.
    assert_eq!(
        copy(&[e, 64, 1, 64, 0xF], &[init::IPC_BUFFER]),
        err(FAILED_LOOKUP, &[1, 1])
    );
    assert_eq!(
        copy(&[e, 64, 1, 0, 0xF], &[init::CNODE]),
        err(RANGE, &[1, 64])
    );
    assert_eq!(
        copy(&[e, 64, e + 1, 64, 0xF], &[init::CNODE]),
        err(FAILED_LOOKUP, &[1, 2, 64])
    );
    // Length 4 passes the common check but Copy needs the rights word.
    assert_eq!(copy(&[e, 64, 1, 64], &[init::CNODE]), err(TRUNCATED, &[]));
    // Not derivable: IRQ control.
    assert_eq!(
        copy(&[e, 64, init::IRQ_CONTROL, 64, 0xF], &[init::CNODE]),
        err(ILLEGAL, &[])
    );
    assert!(k.cap(e).is_null(), "failed decodes change nothing");
    // Mint and Mutate need their data word.
    assert_eq!(
        cn(&k, l::CNODE_MINT, &[e, 64, 1, 64, 0xF]),
        err(TRUNCATED, &[])
    );
    assert_eq!(
        cn(&k, l::CNODE_MUTATE, &[e, 64, 1, 64]),
        err(TRUNCATED, &[])
    );
}

#[test]
fn copy_masks_rights_and_makes_a_child() {
    let (k, e, _) = with_ep();
    let d = e + 2;
    assert_eq!(cn(&k, l::CNODE_COPY, &[d, 64, e, 64, 0b0110]), ok());
    assert_eq!(ep_of(k.cap(d)), (0, 0b0110));
    assert!(is_mdb_parent_of(k.slot(e), k.slot(d)));
    assert!(!k.slot(d).get().revocable());
    // Rights never grow back.
    assert_eq!(cn(&k, l::CNODE_COPY, &[d + 1, 64, d, 64, 0xF]), ok());
    assert_eq!(ep_of(k.cap(d + 1)), (0, 0b0110));
    // Notifications: only Read and Write.
    assert_eq!(cn(&k, l::CNODE_COPY, &[d + 2, 64, e + 1, 64, 0b0001]), ok());
    assert_eq!(ep_of(k.cap(d + 2)), (0, 0b0001));
}

#[test]
fn frame_copies_lose_their_mapping_and_rights_shrink() {
    let k = boot();
    let d = k.first_empty;
    assert_eq!(
        cn(&k, l::CNODE_COPY, &[d, 64, init::IPC_BUFFER, 64, 0b10]),
        ok()
    );
    let Cap::Frame {
        rights, mapping, ..
    } = k.cap(d)
    else {
        panic!()
    };
    assert_eq!((rights, mapping), (VmRights::ReadOnly, None));
    assert!(matches!(
        k.cap(init::IPC_BUFFER),
        Cap::Frame {
            mapping: Some(_),
            ..
        }
    ));
    // Write-only is unsupported: the copy is kernel-only.
    assert_eq!(
        cn(&k, l::CNODE_COPY, &[d + 1, 64, init::IPC_BUFFER, 64, 0b01]),
        ok()
    );
    assert!(matches!(
        k.cap(d + 1),
        Cap::Frame {
            rights: VmRights::KernelOnly,
            ..
        }
    ));
}

#[test]
fn page_tables_derive_only_when_mapped() {
    let k = boot();
    let ut = ram_untyped(&k);
    let d = k.first_empty;
    retype(&k, ut, T_PT, 0, d, 1);
    assert_eq!(
        cn(&k, l::CNODE_COPY, &[d + 1, 64, d, 64, 0xF]),
        err(ILLEGAL, &[])
    );
    assert_eq!(
        cn(&k, l::CNODE_COPY, &[d + 1, 64, init::VSPACE, 64, 0xF]),
        ok()
    );
    assert_eq!(k.cap(d + 1), k.cap(init::VSPACE));
}

#[test]
fn untyped_with_children_must_be_revoked_first() {
    let (k, e, ut) = with_ep();
    assert_eq!(
        cn(&k, l::CNODE_COPY, &[e + 2, 64, ut, 64, 0xF]),
        err(REVOKE_FIRST, &[])
    );
    assert_eq!(cn(&k, l::CNODE_REVOKE, &[ut, 64]), ok());
    assert!(k.cap(e).is_null() && k.cap(e + 1).is_null());
    assert_eq!(cn(&k, l::CNODE_COPY, &[e + 2, 64, ut, 64, 0xF]), ok());
    assert!(is_mdb_parent_of(k.slot(ut), k.slot(e + 2)));
    let Cap::Untyped {
        free_index,
        size_bits,
        ..
    } = k.cap(ut)
    else {
        panic!()
    };
    assert_eq!(
        free_index,
        1 << size_bits,
        "a full-size child makes the parent full"
    );
}

#[test]
fn mint_badges_once_and_sets_guards() {
    let (k, e, _) = with_ep();
    let d = e + 2;
    assert_eq!(cn(&k, l::CNODE_MINT, &[d, 64, e, 64, 0xF, 42]), ok());
    assert_eq!(ep_of(k.cap(d)), (42, 0xF));
    let s = k.slot(d).get();
    assert!(
        s.revocable() && s.first_badged(),
        "a new badge starts a subtree"
    );
    assert!(is_mdb_parent_of(k.slot(e), k.slot(d)));
    // A badged cap cannot be re-badged, not even with 0.
    assert_eq!(
        cn(&k, l::CNODE_MINT, &[d + 1, 64, d, 64, 0xF, 7]),
        err(ILLEGAL, &[])
    );
    assert_eq!(
        cn(&k, l::CNODE_MINT, &[d + 1, 64, d, 64, 0xF, 0]),
        err(ILLEGAL, &[])
    );
    // Badge 0 from an unbadged cap is a plain copy.
    assert_eq!(cn(&k, l::CNODE_MINT, &[d + 1, 64, e, 64, 0x3, 0]), ok());
    assert!(!k.slot(d + 1).get().revocable());
    // Copies of the badged cap are its children.
    assert_eq!(cn(&k, l::CNODE_COPY, &[d + 2, 64, d, 64, 0xF]), ok());
    assert!(is_mdb_parent_of(k.slot(d), k.slot(d + 2)));
    assert!(!k.slot(d + 2).get().first_badged());
    // CNode guard data.
    let data = cnode_cap_data(0x5, 3);
    assert_eq!(
        cn(&k, l::CNODE_MINT, &[d + 3, 64, init::CNODE, 64, 0, data]),
        ok()
    );
    let Cap::CNode {
        guard, guard_size, ..
    } = k.cap(d + 3)
    else {
        panic!()
    };
    assert_eq!((guard, guard_size), (5, 3));
    let too_big = cnode_cap_data(0, 65 - k.radix as u64);
    assert_eq!(
        cn(&k, l::CNODE_MINT, &[d + 4, 64, init::CNODE, 64, 0, too_big]),
        err(ILLEGAL, &[])
    );
}

#[test]
fn move_and_mutate_keep_the_tree_position() {
    let (k, e, ut) = with_ep();
    let d = e + 2;
    assert_eq!(cn(&k, l::CNODE_MINT, &[d, 64, e, 64, 0xF, 9]), ok());
    assert_eq!(cn(&k, l::CNODE_COPY, &[d + 1, 64, d, 64, 0xF]), ok());
    // Move the badged (revocable, first badged) cap.
    assert_eq!(cn(&k, l::CNODE_MOVE, &[d + 5, 64, d, 64]), ok());
    assert!(k.cap(d).is_null());
    let s = k.slot(d + 5).get();
    assert!(s.revocable() && s.first_badged());
    assert!(is_mdb_parent_of(k.slot(e), k.slot(d + 5)));
    assert!(is_mdb_parent_of(k.slot(d + 5), k.slot(d + 1)));
    // Mutate never badges: endpoints and notifications refuse.
    assert_eq!(
        cn(&k, l::CNODE_MUTATE, &[d, 64, d + 5, 64, 0]),
        err(ILLEGAL, &[])
    );
    assert_eq!(
        cn(&k, l::CNODE_MUTATE, &[d, 64, e + 1, 64, 3]),
        err(ILLEGAL, &[])
    );
    // Mutate of a CNode changes its guard; other caps ignore the data.
    assert_eq!(cn(&k, l::CNODE_COPY, &[d, 64, init::CNODE, 64, 0]), ok());
    assert_eq!(
        cn(
            &k,
            l::CNODE_MUTATE,
            &[d + 6, 64, d, 64, cnode_cap_data(1, 2)]
        ),
        ok()
    );
    assert!(matches!(
        k.cap(d + 6),
        Cap::CNode {
            guard: 1,
            guard_size: 2,
            ..
        }
    ));
    assert_eq!(cn(&k, l::CNODE_MUTATE, &[d + 7, 64, ut, 64, 1234]), ok());
    assert!(matches!(k.cap(d + 7), Cap::Untyped { .. }));
    assert!(k.slot(d + 7).get().revocable());
    // Move of an empty source.
    assert_eq!(
        cn(&k, l::CNODE_MOVE, &[d + 8, 64, d, 64]),
        err(FAILED_LOOKUP, &[1, 2, 64])
    );
}

fn rotate(
    k: &TestKernel,
    dest: u64,
    dest_badge: u64,
    pivot: u64,
    pivot_badge: u64,
    src: u64,
) -> Outcome {
    k.call(
        init::CNODE,
        l::CNODE_ROTATE,
        &[dest, 64, dest_badge, pivot, 64, pivot_badge, src, 64],
        &[init::CNODE, init::CNODE],
    )
}

#[test]
fn rotate_moves_pivot_to_dest_and_source_to_pivot() {
    let k = boot();
    let (a, b, c) = (k.first_empty, k.first_empty + 1, k.first_empty + 2);
    let (fb, fi) = (k.cap(init::BOOT_INFO_FRAME), k.cap(init::IPC_BUFFER));
    assert_eq!(
        cn(&k, l::CNODE_MOVE, &[a, 64, init::BOOT_INFO_FRAME, 64]),
        ok()
    );
    assert_eq!(cn(&k, l::CNODE_MOVE, &[b, 64, init::IPC_BUFFER, 64]), ok());
    // src a -> pivot b; pivot b -> dest c.
    assert_eq!(rotate(&k, c, 0, b, 0, a), ok());
    assert_eq!((k.cap(a), k.cap(b), k.cap(c)), (Cap::Null, fb, fi));
    // dest == src swaps.
    assert_eq!(rotate(&k, c, 0, b, 0, c), ok());
    assert_eq!((k.cap(b), k.cap(c)), (fi, fb));
    let ipc_child = crate::object::tcb::Tcb::slot(k.tcb, crate::object::tcb::TCB_BUFFER);
    assert_eq!(
        k.slot(b).get().next(),
        Some(ipc_child),
        "positions travel with the caps"
    );
}

#[test]
fn rotate_errors() {
    let (k, e, _) = with_ep();
    let (a, b, c) = (e + 2, e + 3, e + 4);
    assert_eq!(
        cn(&k, l::CNODE_MOVE, &[a, 64, init::BOOT_INFO_FRAME, 64]),
        ok()
    );
    assert_eq!(cn(&k, l::CNODE_MOVE, &[b, 64, init::IPC_BUFFER, 64]), ok());
    let short = k.call(
        init::CNODE,
        l::CNODE_ROTATE,
        &[c, 64, 0, b, 64, 0, a],
        &[2, 2],
    );
    assert_eq!(short, err(TRUNCATED, &[]));
    let one = k.call(
        init::CNODE,
        l::CNODE_ROTATE,
        &[c, 64, 0, b, 64, 0, a, 64],
        &[2],
    );
    assert_eq!(one, err(TRUNCATED, &[]));
    assert_eq!(rotate(&k, c, 0, a, 0, a), err(ILLEGAL, &[]), "pivot == src");
    assert_eq!(
        rotate(&k, b, 0, b, 0, a),
        err(ILLEGAL, &[]),
        "pivot == dest"
    );
    assert_eq!(rotate(&k, init::DOMAIN, 0, b, 0, a), err(DELETE_FIRST, &[]));
    assert_eq!(
        rotate(&k, c, 0, b, 0, c + 1),
        err(FAILED_LOOKUP, &[1, 2, 64])
    );
    assert_eq!(
        rotate(&k, c, 0, c + 1, 0, a),
        err(FAILED_LOOKUP, &[0, 2, 64])
    );
    // Endpoints cannot be rotated (preserve = true gives null).
    assert_eq!(rotate(&k, c, 0, b, 0, e), err(ILLEGAL, &[]));
    assert_eq!(rotate(&k, c, 0, e, 0, a), err(ILLEGAL, &[]));
    assert!(k.cap(c).is_null(), "nothing moved");
}

#[test]
fn cancel_badged_sends_needs_a_full_rights_endpoint() {
    let (k, e, _) = with_ep();
    assert_eq!(
        cn(&k, l::CNODE_CANCEL_BADGED_SENDS, &[e, 64]),
        ok(),
        "badge 0: no-op"
    );
    assert_eq!(cn(&k, l::CNODE_MINT, &[e + 2, 64, e, 64, 0xF, 3]), ok());
    assert_eq!(cn(&k, l::CNODE_CANCEL_BADGED_SENDS, &[e + 2, 64]), ok());
    assert_eq!(cn(&k, l::CNODE_COPY, &[e + 3, 64, e + 2, 64, 0x7]), ok());
    assert_eq!(
        cn(&k, l::CNODE_CANCEL_BADGED_SENDS, &[e + 3, 64]),
        err(ILLEGAL, &[])
    );
    assert_eq!(
        cn(&k, l::CNODE_CANCEL_BADGED_SENDS, &[e + 1, 64]),
        err(ILLEGAL, &[])
    );
    assert_eq!(
        cn(&k, l::CNODE_CANCEL_BADGED_SENDS, &[e + 9, 64]),
        err(ILLEGAL, &[])
    );
}

#[cfg(not(feature = "mcs"))] // MCS has no SaveCaller
#[test]
fn save_caller_moves_the_reply_cap() {
    use crate::object::tcb::{Tcb, TCB_CALLER};
    use crate::types::PAddr;
    let k = boot();
    let d = k.first_empty;
    assert_eq!(
        cn(&k, l::CNODE_SAVE_CALLER, &[d, 64]),
        ok(),
        "empty caller slot"
    );
    assert!(k.cap(d).is_null());
    assert_eq!(
        cn(&k, l::CNODE_SAVE_CALLER, &[1, 64]),
        err(DELETE_FIRST, &[])
    );
    let reply = Cap::Reply {
        tcb: PAddr(0x8000_0000),
        master: false,
        can_grant: true,
    };
    let caller = Tcb::slot(k.tcb, TCB_CALLER);
    crate::cap::cte::insert_original(caller, reply);
    assert_eq!(cn(&k, l::CNODE_SAVE_CALLER, &[d, 64]), ok());
    assert_eq!(k.cap(d), reply);
    assert!(caller.get().cap().is_null());
    // Reply caps cannot be copied.
    assert_eq!(
        cn(&k, l::CNODE_COPY, &[d + 1, 64, d, 64, 0xF]),
        err(ILLEGAL, &[])
    );
}

#[test]
fn copy_into_another_cnode_through_its_own_cap() {
    let k = boot();
    let ut = ram_untyped(&k);
    let c = k.first_empty;
    retype(&k, ut, T_CNODE, 4, c, 1);
    let Cap::CNode { ptr, .. } = k.cap(c) else {
        panic!()
    };
    // Invoke the new CNode (radix 4, no guard): destination (3, 4).
    let r = k.call(
        c,
        l::CNODE_COPY,
        &[3, 4, init::DOMAIN, 64, 0xF],
        &[init::CNODE],
    );
    assert_eq!(r, ok());
    assert_eq!(cnode_slot(ptr, 3).get().cap(), Cap::Domain);
    let r = k.call(c, l::CNODE_DELETE, &[3, 5], &[]);
    assert_eq!(r, err(FAILED_LOOKUP, &[0, 3, 1, 0]));
    // The kernel-level insert gives the same tree as Copy.
    cte_insert(Cap::Domain, k.slot(init::DOMAIN), cnode_slot(ptr, 4));
    assert_eq!(k.call(c, l::CNODE_DELETE, &[4, 4], &[]), ok());
    assert!(cnode_slot(ptr, 4).get().cap().is_null());
    let _ = CapRights::ALL;
}
