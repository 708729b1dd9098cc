//! Host tests of Delete and Revoke: finalisation per object type, zombies
//! (self-containing CNodes, a TCB whose CSpace holds its own cap), deep and
//! wide revokes, and preemption of a 10 000-capability revoke.

use super::tests::{cn, ram_untyped, retype, T_CNODE, T_EP, T_PAGE, T_TCB, T_UNTYPED};
use crate::arch::host::SimMachine;
use crate::arch::vspace as pt;
use crate::cap::cte::{cnode_slot, cte_move, SlotRef};
use crate::cap::delete::{cte_delete, cte_revoke};
use crate::cap::derive::cte_insert;
use crate::cap::tree_check::check_tree;
use crate::cap::Cap;
use crate::object::tcb::{Tcb, TcbRef, ThreadState, TCB_CNODE_ENTRIES, TCB_CTABLE};
use crate::object::vspace::find_vspace_for_asid;
use crate::preempt::WORK_UNITS_PER_PREEMPTION;
use crate::state::kernel;
use crate::testutil::{boot, ok, Outcome, TestKernel};
use crate::types::PAddr;
use cairn_abi::cap::init;
use cairn_abi::invocation::label as l;

/// Every slot of the root CNode and of the root TCB.
fn root_slots(k: &TestKernel) -> Vec<SlotRef> {
    let mut v: Vec<SlotRef> = (0..1u64 << k.radix).map(|i| k.slot(i)).collect();
    v.extend((0..TCB_CNODE_ENTRIES).map(|i| Tcb::slot(k.tcb, i)));
    v
}

fn cnode_slots(ptr: PAddr, radix: u32) -> Vec<SlotRef> {
    (0..1u64 << radix).map(|i| cnode_slot(ptr, i)).collect()
}

fn cnode_ptr(c: Cap) -> PAddr {
    match c {
        Cap::CNode { ptr, .. } => ptr,
        other => panic!("not a CNode: {other:?}"),
    }
}

#[test]
fn delete_of_a_copy_leaves_the_original() {
    let k = boot();
    let ut = ram_untyped(&k);
    let e = k.first_empty;
    retype(&k, ut, T_EP, 0, e, 1);
    assert_eq!(cn(&k, l::CNODE_COPY, &[e + 1, 64, e, 64, 0xF]), ok());
    assert_eq!(cn(&k, l::CNODE_DELETE, &[e + 1, 64]), ok());
    assert!(k.cap(e + 1).is_null() && !k.cap(e).is_null());
    assert_eq!(
        cn(&k, l::CNODE_DELETE, &[e + 1, 64]),
        ok(),
        "deleting nothing"
    );
    check_tree(&root_slots(&k), true);
}

#[test]
fn revoke_removes_badged_subtrees_wide_and_deep() {
    let k = boot();
    let ut = ram_untyped(&k);
    let e = k.first_empty;
    retype(&k, ut, T_EP, 0, e, 1);
    // Wide: 50 badged mints, each with 5 copies.
    let mut s = e + 1;
    for b in 1..=50 {
        assert_eq!(cn(&k, l::CNODE_MINT, &[s, 64, e, 64, 0xF, b]), ok());
        for i in 1..=5 {
            assert_eq!(cn(&k, l::CNODE_COPY, &[s + i, 64, s, 64, 0xF]), ok());
        }
        s += 6;
    }
    check_tree(&root_slots(&k), true);
    // Revoking one badged cap takes only its copies.
    assert_eq!(cn(&k, l::CNODE_REVOKE, &[e + 1, 64]), ok());
    assert!((e + 2..e + 7).all(|i| k.cap(i).is_null()));
    assert!(!k.cap(e + 1).is_null() && !k.cap(e + 7).is_null());
    assert_eq!(cn(&k, l::CNODE_REVOKE, &[e, 64]), ok());
    assert!((e + 1..s).all(|i| k.cap(i).is_null()));
    check_tree(&root_slots(&k), true);
    // Deep: a chain of untypeds, each half of the previous, down to 2^5
    // bytes, each also holding an endpoint beside its child.
    let base = e + 1;
    let Cap::Untyped { size_bits, .. } = k.cap(ut) else {
        panic!()
    };
    let depth = size_bits as u64 - 5;
    assert!(depth >= 16, "a chain of {depth} untypeds is not deep");
    assert_eq!(cn(&k, l::CNODE_REVOKE, &[ut, 64]), ok());
    retype(&k, ut, T_UNTYPED, (size_bits - 1) as u64, base, 1);
    for i in 1..depth {
        retype(
            &k,
            base + i - 1,
            T_UNTYPED,
            size_bits as u64 - 1 - i,
            base + i,
            1,
        );
        retype(&k, base + i - 1, T_EP, 0, base + 100 + i, 1);
    }
    check_tree(&root_slots(&k), true);
    assert_eq!(cn(&k, l::CNODE_REVOKE, &[base, 64]), ok());
    assert!((base + 1..base + 100 + depth).all(|i| k.cap(i).is_null()));
    assert!(!k.cap(base).is_null());
    check_tree(&root_slots(&k), true);
}

#[test]
fn deleting_mapped_frames_and_tables_unmaps_them() {
    let k = boot();
    let Cap::PageTable { base: root, .. } = k.cap(init::VSPACE) else {
        panic!()
    };
    let Cap::Frame {
        mapping: Some(m), ..
    } = k.cap(init::BOOT_INFO_FRAME)
    else {
        panic!()
    };
    let (slot, _) = pt::lookup_pt_slot(root, m.vaddr);
    assert!(pt::is_valid(pt::read_pte(slot)));
    assert_eq!(cn(&k, l::CNODE_DELETE, &[init::BOOT_INFO_FRAME, 64]), ok());
    assert_eq!(pt::read_pte(slot), 0, "frame unmapped");
    // The leaf table of the image (the last userImagePaging slot, 17).
    let Cap::PageTable {
        mapping: Some(tm), ..
    } = k.cap(17)
    else {
        panic!("slot 17 is not a page table")
    };
    assert_eq!(pt::lookup_pt_slot(root, tm.vaddr).1, 12);
    assert_eq!(cn(&k, l::CNODE_DELETE, &[17, 64]), ok());
    assert_eq!(pt::lookup_pt_slot(root, tm.vaddr).1, 21, "table unmapped");
    // The VSpace root: its ASID goes with the last cap (the TCB's copy first).
    assert_eq!(
        cte_delete(Tcb::slot(k.tcb, crate::object::tcb::TCB_VTABLE)),
        Ok(())
    );
    assert_eq!(find_vspace_for_asid(1), Some(root));
    assert_eq!(cn(&k, l::CNODE_DELETE, &[init::VSPACE, 64]), ok());
    assert_eq!(find_vspace_for_asid(1), None);
    // The ASID pool leaves the ASID table.
    assert_ne!(kernel().asid_pool(0).map_or(0, |p| p.0), 0);
    assert_eq!(cn(&k, l::CNODE_DELETE, &[init::ASID_POOL, 64]), ok());
    assert_eq!(kernel().asid_pool(0).map_or(0, |p| p.0), 0);
    check_tree(&root_slots(&k), true);
}

#[test]
fn deleting_a_running_thread_suspends_it() {
    let k = boot();
    let ut = ram_untyped(&k);
    let e = k.first_empty;
    retype(&k, ut, T_TCB, 0, e, 1);
    let Cap::Thread { tcb } = k.cap(e) else {
        panic!()
    };
    let t = TcbRef::new(tcb);
    // MCS: a thread runs only with a scheduling context.
    #[cfg(feature = "mcs")]
    k.give_sched_context(t);
    t.get().set_state(ThreadState::Running);
    crate::sched::enqueue(t);
    assert!(t.get().in_ready_queue());
    assert_eq!(cn(&k, l::CNODE_DELETE, &[e, 64]), ok());
    assert_eq!(t.get().state(), ThreadState::Inactive);
    assert!(!t.get().in_ready_queue());
    assert!(k.cap(e).is_null());
    // The root thread deletes its own (last) TCB cap: it stops.
    let _ = k.call(init::CNODE, l::CNODE_DELETE, &[init::TCB, 64], &[]);
    assert_eq!(k.tcb.get().state(), ThreadState::Inactive);
    assert_ne!(crate::sched::schedule(), Some(k.tcb), "another thread runs");
    assert!(k.cap(init::TCB).is_null());
    assert!((0..TCB_CNODE_ENTRIES).all(|i| Tcb::slot(k.tcb, i).get().cap().is_null()));
    assert!(
        !k.cap(init::CNODE).is_null(),
        "the root CNode had another cap"
    );
}

/// A CNode of radix 4 in root slot `at` from untyped `ut`; returns its address.
fn small_cnode(k: &TestKernel, ut: u64, at: u64) -> PAddr {
    retype(k, ut, T_CNODE, 4, at, 1);
    cnode_ptr(k.cap(at))
}

#[test]
fn cnode_holding_its_only_cap_terminates() {
    for self_slot in [0u64, 3, 15] {
        let k = boot();
        let ut = ram_untyped(&k);
        let e = k.first_empty;
        let c = small_cnode(&k, ut, e);
        // Fill it with endpoints and its own cap.
        retype(&k, ut, T_EP, 0, e + 1, 10);
        let others = (1..16).filter(|&i| i != self_slot);
        for (i, at) in (0..10).zip(others) {
            cte_move(k.cap(e + 1 + i), k.slot(e + 1 + i), cnode_slot(c, at));
        }
        cte_move(k.cap(e), k.slot(e), cnode_slot(c, self_slot));
        let mut all = root_slots(&k);
        all.extend(cnode_slots(c, 4));
        check_tree(&all, true);
        // Delete the only cap (as a revoke of the untyped would).
        assert_eq!(cte_delete(cnode_slot(c, self_slot)), Ok(()));
        check_tree(&all, true);
        if self_slot == 0 {
            assert!(cnode_slots(c, 4).iter().all(|s| s.get().cap().is_null()));
        }
        // Whatever is left (a cyclic zombie) goes with the untyped's revoke.
        assert_eq!(cn(&k, l::CNODE_REVOKE, &[ut, 64]), ok());
        assert!(cnode_slots(c, 4).iter().all(|s| s.get().cap().is_null()));
        check_tree(&all, true);
    }
}

#[test]
fn unreachable_cnode_cycles_are_reclaimed_by_revoke() {
    let k = boot();
    let ut = ram_untyped(&k);
    let e = k.first_empty;
    // Three CNodes, each holding the only cap of the next; plus a chain.
    let cs: Vec<PAddr> = (0..3).map(|i| small_cnode(&k, ut, e + i)).collect();
    for i in 0..3u64 {
        let next = (i + 1) % 3;
        cte_move(
            k.cap(e + next),
            k.slot(e + next),
            cnode_slot(cs[i as usize], 15 - i),
        );
    }
    let mut all = root_slots(&k);
    for c in &cs {
        all.extend(cnode_slots(*c, 4));
    }
    check_tree(&all, true);
    assert_eq!(cn(&k, l::CNODE_REVOKE, &[ut, 64]), ok());
    assert!(all
        .iter()
        .skip(root_slots(&k).len())
        .all(|s| s.get().cap().is_null()));
    check_tree(&all, true);
}

#[test]
fn tcb_whose_cspace_holds_its_own_cap_terminates() {
    let k = boot();
    let ut = ram_untyped(&k);
    let e = k.first_empty;
    retype(&k, ut, T_TCB, 0, e, 1);
    let c = small_cnode(&k, ut, e + 1);
    retype(&k, ut, T_PAGE, 0, e + 2, 1);
    let Cap::Thread { tcb } = k.cap(e) else {
        panic!()
    };
    let t = TcbRef::new(tcb);
    // The CNode becomes the thread's CSpace; the thread's cap goes into it.
    cte_move(k.cap(e + 1), k.slot(e + 1), Tcb::slot(t, TCB_CTABLE));
    cte_insert(k.cap(e), k.slot(e), cnode_slot(c, 0));
    cte_move(k.cap(e + 2), k.slot(e + 2), cnode_slot(c, 7));
    let mut all = root_slots(&k);
    all.extend(cnode_slots(c, 4));
    all.extend((0..TCB_CNODE_ENTRIES).map(|i| Tcb::slot(t, i)));
    check_tree(&all, true);
    // Not final: the copy in its CSpace remains; the cycle is unreachable.
    assert_eq!(cn(&k, l::CNODE_DELETE, &[e, 64]), ok());
    assert_eq!(cnode_slot(c, 0).get().cap(), Cap::Thread { tcb });
    check_tree(&all, true);
    assert_eq!(cn(&k, l::CNODE_REVOKE, &[ut, 64]), ok());
    assert!(all
        .iter()
        .skip(root_slots(&k).len())
        .all(|s| s.get().cap().is_null()));
    assert_eq!(t.get().state(), ThreadState::Inactive);
    check_tree(&all, true);
}

#[test]
fn revoke_of_ten_thousand_caps_is_preempted_and_restarts() {
    let k = boot();
    let ut = ram_untyped(&k);
    let e = k.first_empty;
    retype(&k, ut, T_EP, 0, e, 1);
    retype(&k, ut, T_CNODE, 14, e + 1, 1);
    let big = cnode_ptr(k.cap(e + 1));
    const N: u64 = 10_000;
    for i in 0..N {
        cte_insert(k.cap(e), k.slot(e), cnode_slot(big, i));
    }
    let live = || {
        (0..N)
            .filter(|&i| !cnode_slot(big, i).get().cap().is_null())
            .count() as u64
    };
    let mut all = root_slots(&k);
    all.extend(cnode_slots(big, 14));
    SimMachine::set_interrupt_pending_after(Some(1));
    assert_eq!(cn(&k, l::CNODE_REVOKE, &[e, 64]), Outcome::Preempted);
    let left = live();
    assert!(
        left < N && N - left <= WORK_UNITS_PER_PREEMPTION,
        "{} deleted",
        N - left
    );
    assert_eq!(
        k.tcb.get().next_ip(),
        k.tcb.get().fault_ip(),
        "restarts the syscall"
    );
    check_tree(&all, true);
    // With the interrupt still pending each restart makes bounded progress.
    let mut calls = 1;
    while cn(&k, l::CNODE_REVOKE, &[e, 64]) == Outcome::Preempted {
        calls += 1;
        assert!(calls <= N / WORK_UNITS_PER_PREEMPTION + 1);
    }
    assert_eq!(live(), 0);
    assert!(!k.cap(e).is_null());
    check_tree(&all, true);
    // Kernel-level revoke of an already revoked cap does nothing.
    assert_eq!(cte_revoke(k.slot(e)), Ok(()));
}

#[test]
fn deleting_a_big_cnode_is_preempted_inside_the_zombie() {
    let k = boot();
    let ut = ram_untyped(&k);
    let e = k.first_empty;
    retype(&k, ut, T_CNODE, 12, e, 1);
    retype(&k, ut, T_EP, 0, e + 1, 1);
    let c = cnode_ptr(k.cap(e));
    for i in 0..4096 {
        cte_insert(k.cap(e + 1), k.slot(e + 1), cnode_slot(c, i));
    }
    SimMachine::set_interrupt_pending_after(Some(1));
    assert_eq!(cn(&k, l::CNODE_DELETE, &[e, 64]), Outcome::Preempted);
    assert!(
        matches!(k.cap(e), Cap::Zombie { .. }),
        "progress kept in a zombie"
    );
    let mut all = root_slots(&k);
    all.extend(cnode_slots(c, 12));
    check_tree(&all, true);
    SimMachine::set_interrupt_pending_after(None);
    assert_eq!(cn(&k, l::CNODE_DELETE, &[e, 64]), ok());
    assert!(k.cap(e).is_null());
    assert!(cnode_slots(c, 12).iter().all(|s| s.get().cap().is_null()));
    check_tree(&all, true);
}
