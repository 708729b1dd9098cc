//! Host tests of the ASID invocations (ABI ref §7.8, §11): MakePool takes
//! the first free pool, Assign the first free ASID and copies the kernel
//! half; every error with its data; exhaustion; what deleting a VSpace
//! root or an ASID pool does to the ASIDs and to the running thread.

use super::tests::{
    bare, base_of, mapping_of, new, page_map, pt_map, root_of, DELETE_FIRST, FAILED_LOOKUP,
    ILLEGAL, INVALID_CAPABILITY, REVOKE_FIRST, TRUNCATED, VA,
};
use crate::arch::host::{Flush, SimMachine, HOST_KERNEL_ROOT};
use crate::arch::vspace as pt;
use crate::cap::derive::is_mdb_parent_of;
use crate::cap::{Cap, Mapping};
use crate::object::access::{read_word, write_word};
use crate::object::vspace::find_vspace_for_asid;
use crate::state::{kernel, NUM_ASID_POOLS};
use crate::testutil::{boot, err, ok, Outcome, TestKernel};
use cairn_abi::cap::init;
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType as T;

const RANGE: u64 = 4;

/// `ASIDControl_MakePool(untyped, root CNode, dest, 64)`.
fn make_pool(k: &TestKernel, ut: u64, dest: u64) -> Outcome {
    k.call(
        init::ASID_CONTROL,
        l::RISCV_ASID_CONTROL_MAKE_POOL,
        &[dest, 64],
        &[ut, init::CNODE],
    )
}

/// `ASIDPool_Assign(pool, vspace)`.
fn assign(k: &TestKernel, pool: u64, vspace: u64) -> Outcome {
    k.call(pool, l::RISCV_ASID_POOL_ASSIGN, &[], &[vspace])
}

/// A new pool in slot `dest` (from a fresh 4 KiB untyped); returns its
/// ASID base.
fn pool_at(k: &TestKernel, dest: u64) -> u16 {
    let ut = k.make(T::Untyped, 12, 1)[0];
    assert_eq!(make_pool(k, ut, dest), ok());
    match k.cap(dest) {
        Cap::AsidPool { asid_base, .. } => asid_base,
        other => panic!("no pool: {other:?}"),
    }
}

/// `n` new page tables (Retype makes at most 256 per call).
fn tables(k: &TestKernel, n: u64) -> Vec<u64> {
    let mut v = Vec::new();
    while (v.len() as u64) < n {
        v.extend(k.make(T::PageTable, 0, (n - v.len() as u64).min(256)));
    }
    v
}

fn delete(k: &TestKernel, slot: u64) {
    assert_eq!(k.call(init::CNODE, l::CNODE_DELETE, &[slot, 64], &[]), ok());
}

#[test]
fn make_pool_takes_the_first_free_pool_and_the_whole_untyped() {
    let k = boot();
    let ut = k.make(T::Untyped, 12, 1)[0];
    let Cap::Untyped { ptr, .. } = k.cap(ut) else {
        panic!()
    };
    // Leftovers in the memory are cleared.
    write_word(ptr.add(8), 0xDEAD);
    let d = k.first_empty;
    assert_eq!(make_pool(&k, ut, d), ok());
    assert_eq!(
        k.cap(d),
        Cap::AsidPool {
            ptr,
            asid_base: 512
        }
    );
    assert!(matches!(
        k.cap(ut),
        Cap::Untyped {
            free_index: 4096,
            ..
        }
    ));
    assert!(is_mdb_parent_of(k.slot(ut), k.slot(d)));
    assert_eq!(read_word(ptr.add(8)), 0);
    assert_eq!(kernel().asid_pool(1).map_or(0, |p| p.0), ptr.0);
    // The untyped now has a child; another pool needs another untyped.
    assert_eq!(make_pool(&k, ut, d + 1), err(REVOKE_FIRST, &[]));
    assert_eq!(pool_at(&k, d + 1), 1024);
    // A freed pool number is the first free one again.
    delete(&k, d);
    assert_eq!(kernel().asid_pool(1).map_or(0, |p| p.0), 0);
    assert_eq!(pool_at(&k, d + 2), 512);
}

#[test]
fn make_pool_errors_in_sel4s_order() {
    let k = boot();
    let ut = k.make(T::Untyped, 12, 1)[0];
    let d = k.first_empty;
    let mp = |mrs: &[u64], extra: &[u64]| {
        k.call(
            init::ASID_CONTROL,
            l::RISCV_ASID_CONTROL_MAKE_POOL,
            mrs,
            extra,
        )
    };
    for label in [l::RISCV_ASID_POOL_ASSIGN, l::UNTYPED_RETYPE, 0] {
        assert_eq!(
            k.call(init::ASID_CONTROL, label, &[d, 64], &[ut, init::CNODE]),
            err(ILLEGAL, &[])
        );
    }
    assert_eq!(mp(&[d], &[ut, init::CNODE]), err(TRUNCATED, &[]));
    assert_eq!(mp(&[d, 64], &[ut]), err(TRUNCATED, &[]));
    // The untyped: exactly 4 KiB, RAM, an untyped at all.
    let big = k.make(T::Untyped, 13, 1)[0];
    let frame = new(&k, T::SmallPage);
    for bad in [big, frame, init::CNODE, k.first_empty + 100] {
        assert_eq!(
            mp(&[d, 64], &[bad, init::CNODE]),
            err(INVALID_CAPABILITY, &[1])
        );
    }
    let dev = k
        .untypeds
        .clone()
        .find(|&i| {
            matches!(
                k.cap(i),
                Cap::Untyped {
                    is_device: true,
                    ..
                }
            )
        })
        .expect("a device untyped");
    let small_dev = k.first_empty + 50;
    assert_eq!(k.retype(dev, T::Untyped as u64, 12, small_dev, 1), ok());
    assert_eq!(
        mp(&[d, 64], &[small_dev, init::CNODE]),
        err(INVALID_CAPABILITY, &[1])
    );
    // Children: RevokeFirst before the destination is looked at.
    let parent = k.make(T::Untyped, 12, 1)[0];
    assert_eq!(
        k.retype(parent, T::Endpoint as u64, 0, k.first_empty + 51, 1),
        ok()
    );
    assert_eq!(mp(&[0, 0], &[parent, init::CNODE]), err(REVOKE_FIRST, &[]));
    // The destination: CNode-op lookup errors (source = 0), then empty.
    assert_eq!(mp(&[d, 0], &[ut, init::CNODE]), err(RANGE, &[1, 64]));
    assert_eq!(mp(&[d, 64], &[ut, init::TCB]), err(FAILED_LOOKUP, &[0, 1]));
    assert_eq!(
        mp(&[init::TCB, 64], &[ut, init::CNODE]),
        err(DELETE_FIRST, &[])
    );
    assert!(
        matches!(k.cap(ut), Cap::Untyped { free_index: 0, .. }),
        "nothing changed"
    );
    assert_eq!(kernel().asid_pool(1).map_or(0, |p| p.0), 0);
}

#[test]
fn pools_run_out_at_128() {
    let k = boot();
    let first = k.first_empty;
    for p in 1..NUM_ASID_POOLS as u64 {
        assert_eq!(pool_at(&k, first + p) as u64, p * 512);
    }
    // No free pool: DeleteFirst, whatever the other arguments.
    let ut = k.make(T::Untyped, 12, 1)[0];
    assert_eq!(make_pool(&k, ut, first + 1), err(DELETE_FIRST, &[]));
    assert_eq!(
        k.call(
            init::ASID_CONTROL,
            l::RISCV_ASID_CONTROL_MAKE_POOL,
            &[0, 0],
            &[init::TCB, init::TCB]
        ),
        err(DELETE_FIRST, &[])
    );
    // Pool 0 is the root task's: deleting its cap frees it.
    delete(&k, init::ASID_POOL);
    assert_eq!(pool_at(&k, first), 0);
}

#[test]
fn assign_gives_the_first_free_asid_and_the_kernel_half() {
    let k = boot();
    let (a, b) = (new(&k, T::PageTable), new(&k, T::PageTable));
    assert_eq!(assign(&k, init::ASID_POOL, a), ok());
    assert_eq!(mapping_of(&k, a), Some(Mapping { asid: 2, vaddr: 0 }));
    let root = base_of(&k, a);
    assert_eq!(find_vspace_for_asid(2), Some(root));
    for i in 0..512 {
        let want = if i < 256 {
            0
        } else {
            crate::arch::kernel_global_pte(i)
        };
        assert_eq!(pt::read_pte(pt::slot(root, i as u64)), want, "entry {i}");
    }
    assert_eq!(assign(&k, init::ASID_POOL, b), ok());
    assert_eq!(mapping_of(&k, b).map(|m| m.asid), Some(3));
    // A new pool hands out its base first (it is not ASID 0).
    let p = k.first_empty;
    assert_eq!(pool_at(&k, p), 512);
    let c = new(&k, T::PageTable);
    assert_eq!(assign(&k, p, c), ok());
    assert_eq!(mapping_of(&k, c).map(|m| m.asid), Some(512));
    // An assigned table is a VSpace: tables and frames map into it.
    let (l1, l2, f) = (
        new(&k, T::PageTable),
        new(&k, T::PageTable),
        new(&k, T::SmallPage),
    );
    assert_eq!(pt_map(&k, l1, c, VA), ok());
    assert_eq!(pt_map(&k, l2, c, VA), ok());
    assert_eq!(page_map(&k, f, c, VA, 3, 0), ok());
    let (slot, bits) = pt::lookup_pt_slot(base_of(&k, c), VA);
    assert_eq!(
        (pt::pte_paddr(pt::read_pte(slot)), bits),
        (base_of(&k, f), 12)
    );
    assert_eq!(
        mapping_of(&k, f),
        Some(Mapping {
            asid: 512,
            vaddr: VA
        })
    );
}

#[test]
fn assign_errors_in_sel4s_order() {
    let k = boot();
    let t = new(&k, T::PageTable);
    for label in [l::RISCV_ASID_CONTROL_MAKE_POOL, l::RISCV_PAGE_MAP, 0] {
        assert_eq!(k.call(init::ASID_POOL, label, &[], &[t]), err(ILLEGAL, &[]));
    }
    assert_eq!(
        bare(&k, init::ASID_POOL, l::RISCV_ASID_POOL_ASSIGN),
        err(TRUNCATED, &[])
    );
    // Not a page table, or one already mapped or assigned.
    let (l1, f) = (new(&k, T::PageTable), new(&k, T::SmallPage));
    assert_eq!(pt_map(&k, l1, init::VSPACE, VA), ok());
    for bad in [init::VSPACE, l1, f, init::CNODE, k.first_empty] {
        assert_eq!(
            assign(&k, init::ASID_POOL, bad),
            err(INVALID_CAPABILITY, &[1])
        );
    }
    // The pool is not (or no longer) the one in the ASID table. User space
    // cannot get there (the last pool cap's deletion clears the entry), so
    // the table is changed by hand.
    let p = k.first_empty;
    pool_at(&k, p);
    let real = kernel().asid_pool(1).expect("pool 1 registered");
    kernel().set_asid_pool(1, None);
    assert_eq!(assign(&k, p, t), err(FAILED_LOOKUP, &[0, 1]));
    kernel().set_asid_pool(1, Some(real.add(0x1000)));
    assert_eq!(assign(&k, p, t), err(INVALID_CAPABILITY, &[0]));
    kernel().set_asid_pool(1, Some(real));
    assert_eq!(mapping_of(&k, t), None, "failed decodes change nothing");
    assert_eq!(assign(&k, p, t), ok());
}

#[test]
fn a_pool_runs_out_after_512_asids() {
    let k = boot();
    let p = k.first_empty;
    pool_at(&k, p);
    let roots = tables(&k, 513);
    for (i, &r) in roots.iter().take(512).enumerate() {
        assert_eq!(assign(&k, p, r), ok());
        assert_eq!(mapping_of(&k, r).map(|m| m.asid), Some(512 + i as u16));
    }
    assert_eq!(assign(&k, p, roots[512]), err(DELETE_FIRST, &[]));
    // Deleting a root frees its ASID for the next Assign.
    delete(&k, roots[7]);
    assert_eq!(assign(&k, p, roots[512]), ok());
    assert_eq!(mapping_of(&k, roots[512]).map(|m| m.asid), Some(519));
    // The root task's pool has 510 left (ASID 0 is never given, 1 is taken).
    let more = tables(&k, 511);
    for &r in more.iter().take(510) {
        assert_eq!(assign(&k, init::ASID_POOL, r), ok());
    }
    assert_eq!(
        assign(&k, init::ASID_POOL, more[510]),
        err(DELETE_FIRST, &[])
    );
}

#[test]
fn deleting_a_root_or_pool_releases_its_asids() {
    let k = boot();
    let p = k.first_empty;
    pool_at(&k, p);
    let (r, r2) = (new(&k, T::PageTable), new(&k, T::PageTable));
    assert_eq!(assign(&k, p, r), ok());
    let l1 = new(&k, T::PageTable);
    assert_eq!(pt_map(&k, l1, r, VA), ok());
    // Deleting the pool: the ASID has no root any more.
    delete(&k, p);
    assert_eq!(find_vspace_for_asid(512), None);
    let l2 = new(&k, T::PageTable);
    assert_eq!(pt_map(&k, l2, r, VA), err(FAILED_LOOKUP, &[0, 1]));
    let f = new(&k, T::SmallPage);
    assert_eq!(page_map(&k, f, r, VA, 3, 0), err(FAILED_LOOKUP, &[0, 1]));
    // The same pool number, another root for ASID 512: r is the wrong one.
    let p2 = k.first_empty + 1;
    assert_eq!(pool_at(&k, p2), 512);
    assert_eq!(assign(&k, p2, r2), ok());
    assert_eq!(mapping_of(&k, r2).map(|m| m.asid), Some(512));
    assert_eq!(pt_map(&k, l2, r, VA), err(INVALID_CAPABILITY, &[1]));
    assert_eq!(page_map(&k, f, r, VA, 3, 0), err(INVALID_CAPABILITY, &[1]));
    // A dead root is an ordinary table to Unmap: zeroed, then assignable.
    assert_eq!(bare(&k, r, l::RISCV_PAGE_TABLE_UNMAP), ok());
    let base = base_of(&k, r);
    assert!((0..512).all(|i| read_word(base.add(8 * i)) == 0));
    assert_eq!(assign(&k, p2, r), ok());
    assert_eq!(mapping_of(&k, r).map(|m| m.asid), Some(513));
    // Deleting a root's last cap releases its ASID and flushes it.
    SimMachine::take_flushes();
    delete(&k, r2);
    assert_eq!(find_vspace_for_asid(512), None);
    assert!(SimMachine::take_flushes().contains(&Flush::Asid(512)));
    assert_eq!(find_vspace_for_asid(513), Some(base));
}

#[test]
fn a_thread_whose_vspace_dies_runs_on_the_kernel_table() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    assert_eq!(SimMachine::vspace(), Some((root, 1)));
    // Deleting the root task's ASID pool takes its ASID away; the running
    // thread must not keep the root (it may be freed and reused).
    delete(&k, init::ASID_POOL);
    assert_eq!(find_vspace_for_asid(1), None);
    assert_eq!(SimMachine::vspace(), Some((HOST_KERNEL_ROOT, 0)));
    crate::object::vspace::activate_thread_vspace(k.tcb);
    assert_eq!(SimMachine::vspace(), Some((HOST_KERNEL_ROOT, 0)));
}
