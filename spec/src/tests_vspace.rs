//! The VSpace methods (`vspace.rs`) on `tests::boot()`: three page tables
//! (root slot 2, 3, 4), a 4 KiB untyped (5), two 4 KiB frames (6, 7) and
//! the ASID control cap (8), all from the untyped in slot 1.

use crate::cap::{Cap, VmRights};
use crate::error::{LookupFault, SyscallError};
use crate::invoke::Invocation;
use crate::state::{Object, State};
use crate::tests::{boot, call, root, TCB, UT};
use crate::vspace::*;

const PT0: u64 = UT;
const PT1: u64 = UT + 0x1000;
const PT2: u64 = UT + 0x2000;
const POOL: u64 = UT + 0x3000;
const F6: u64 = UT + 0x4000;
const COPY: u64 = 20;
const DELETE: u64 = 18;

fn retype(s: &mut State, ty: u64, size: u64, dest: u64, n: u64) {
    assert_eq!(call(s, 1, 1, &[ty, size, 0, 0, dest, n], &[0]), Ok(()));
}

fn vm_world() -> State {
    let mut s = boot();
    retype(&mut s, 8, 0, 2, 3);
    retype(&mut s, 0, 12, 5, 1);
    retype(&mut s, 6, 0, 6, 2);
    s.insert_original(root(8), Cap::AsidControl);
    s
}

/// MakePool into slot 9, then Assign of table 2: ASID 1 (0 is never
/// given out).
fn with_vspace() -> State {
    let mut s = vm_world();
    assert_eq!(
        call(&mut s, 8, ASID_CONTROL_MAKE_POOL, &[9, 64], &[5, 0]),
        Ok(())
    );
    assert_eq!(call(&mut s, 9, ASID_POOL_ASSIGN, &[], &[2]), Ok(()));
    s
}

fn failed(bits_left: u32) -> Result<(), SyscallError> {
    Err(SyscallError::FailedLookup {
        source: false,
        fault: LookupFault::MissingCapability { bits_left },
    })
}

fn mapped(s: &State, slot: u64) -> Option<(u64, u64)> {
    match s.cap(root(slot)) {
        Some(Cap::Frame { mapped, .. } | Cap::PageTable { mapped, .. }) => mapped,
        other => panic!("slot {slot}: {other:?}"),
    }
}

#[test]
fn make_pool_checks_in_sel4s_order_and_registers_the_pool() {
    let mut s = vm_world();
    let mp = |s: &mut State, w: &[u64], e: &[u64]| call(s, 8, ASID_CONTROL_MAKE_POOL, w, e);
    assert_eq!(
        mp(&mut s, &[9], &[5, 0]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        mp(&mut s, &[9, 64], &[5]),
        Err(SyscallError::TruncatedMessage)
    );
    // The 64 KiB untyped is the wrong size; a frame no untyped.
    let bad = Err(SyscallError::InvalidCapability { index: 1 });
    assert_eq!(mp(&mut s, &[9, 64], &[1, 0]), bad);
    assert_eq!(mp(&mut s, &[9, 64], &[6, 0]), bad);
    assert_eq!(
        mp(&mut s, &[2, 64], &[5, 0]),
        Err(SyscallError::DeleteFirst)
    );
    assert_eq!(
        mp(&mut s, &[9, 0], &[5, 0]),
        Err(SyscallError::RangeError { min: 1, max: 64 })
    );
    assert_eq!(mp(&mut s, &[9, 64], &[5, 0]), Ok(()));
    assert_eq!(s.cap(root(9)), Some(Cap::AsidPool { obj: POOL, base: 0 }));
    let e = s.entry(root(9)).expect("the pool cap");
    assert_eq!((e.original, e.parent), (false, Some(root(5))));
    assert!(matches!(
        s.cap(root(5)),
        Some(Cap::Untyped {
            watermark: 4096,
            ..
        })
    ));
    assert_eq!(s.asid_table.get(&0), Some(&POOL));
    // The untyped now has a child.
    assert_eq!(
        mp(&mut s, &[10, 64], &[5, 0]),
        Err(SyscallError::RevokeFirst)
    );
    // All 128 pool numbers used: DeleteFirst before the untyped is looked at.
    for i in 1..ASID_POOLS {
        s.asid_table.insert(i, POOL);
    }
    assert_eq!(
        mp(&mut s, &[10, 64], &[1, 0]),
        Err(SyscallError::DeleteFirst)
    );
}

#[test]
fn assign_gives_the_first_free_asid_but_never_0() {
    let mut s = with_vspace();
    assert_eq!(mapped(&s, 2), Some((1, 0)));
    assert_eq!(s.find_vspace(1), Some(PT0));
    // A mapped table, a frame: InvalidCapability(1); no cap: truncated.
    let bad = Err(SyscallError::InvalidCapability { index: 1 });
    assert_eq!(call(&mut s, 9, ASID_POOL_ASSIGN, &[], &[2]), bad);
    assert_eq!(call(&mut s, 9, ASID_POOL_ASSIGN, &[], &[6]), bad);
    assert_eq!(
        call(&mut s, 9, ASID_POOL_ASSIGN, &[], &[]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(call(&mut s, 9, ASID_POOL_ASSIGN, &[], &[3]), Ok(()));
    assert_eq!(mapped(&s, 3), Some((2, 0)));
    // The pool deleted: its VSpaces have no ASID, the pool cap's copy
    // would find none registered.
    assert_eq!(call(&mut s, 0, DELETE, &[9, 64], &[]), Ok(()));
    assert!(s.asid_table.is_empty() && !s.objects.contains_key(&POOL));
    assert_eq!(s.find_vspace(1), None);
    assert_eq!(
        call(&mut s, 6, PAGE_MAP, &[0x1000, 3, 0], &[2]),
        Err(SyscallError::FailedLookup {
            source: false,
            fault: LookupFault::InvalidRoot
        })
    );
}

#[test]
fn tables_go_to_the_first_missing_level_and_frames_need_them() {
    let mut s = with_vspace();
    let va = 0x4020_1000u64;
    assert_eq!(call(&mut s, 6, PAGE_MAP, &[va, 3, 0], &[2]), failed(30));
    let e = call(&mut s, 3, PAGE_TABLE_MAP, &[va], &[2]);
    assert_eq!(e, Err(SyscallError::TruncatedMessage));
    assert_eq!(call(&mut s, 3, PAGE_TABLE_MAP, &[va, 0], &[2]), Ok(()));
    assert_eq!(mapped(&s, 3), Some((1, 0x4000_0000)));
    assert_eq!(call(&mut s, 6, PAGE_MAP, &[va, 3, 0], &[2]), failed(21));
    // Mapped already; a VSpace that is no root; past USER_TOP.
    let e = call(&mut s, 3, PAGE_TABLE_MAP, &[va, 0], &[2]);
    assert_eq!(e, Err(SyscallError::InvalidCapability { index: 0 }));
    let e = call(&mut s, 4, PAGE_TABLE_MAP, &[va, 0], &[3]);
    assert_eq!(e, Err(SyscallError::InvalidCapability { index: 1 }));
    let e = call(&mut s, 4, PAGE_TABLE_MAP, &[USER_TOP, 0], &[2]);
    assert_eq!(e, Err(SyscallError::InvalidArgument { index: 0 }));
    assert_eq!(call(&mut s, 4, PAGE_TABLE_MAP, &[va, 0], &[2]), Ok(()));
    assert_eq!(mapped(&s, 4), Some((1, 0x4020_0000)));
    // Every level present: no place for another table.
    assert_eq!(s.lookup_pt_slot(PT0, va), ((PT2, 1), 12));
    assert_eq!(s.pte((PT1, 1)), Some(Pte::Table(PT2)));
    // A table unmapped is emptied; the root cannot be unmapped.
    assert_eq!(
        call(&mut s, 2, PAGE_TABLE_UNMAP, &[], &[]),
        Err(SyscallError::RevokeFirst)
    );
    assert_eq!(call(&mut s, 3, PAGE_TABLE_UNMAP, &[], &[]), Ok(()));
    assert_eq!(mapped(&s, 3), None);
    assert_eq!(s.pte((PT0, 1)), None);
    let e = call(&mut s, 0, COPY, &[11, 64, 3, 64, 3], &[0]);
    assert_eq!(e, Err(SyscallError::IllegalOperation));
    assert!(
        matches!(s.objects.get(&PT1), Some(Object::PageTable { entries }) if entries.is_empty())
    );
}

fn with_leaf_table() -> (State, u64) {
    let mut s = with_vspace();
    let va = 0x20_3000u64;
    assert_eq!(call(&mut s, 3, PAGE_TABLE_MAP, &[va, 0], &[2]), Ok(()));
    assert_eq!(call(&mut s, 4, PAGE_TABLE_MAP, &[va, 0], &[2]), Ok(()));
    (s, va)
}

#[test]
fn frames_map_with_masked_rights_and_remap_only_in_place() {
    let (mut s, va) = with_leaf_table();
    let at = (PT2, 3);
    assert_eq!(
        call(&mut s, 6, PAGE_MAP, &[va + 0x800, 3, 0], &[2]),
        Err(SyscallError::AlignmentError)
    );
    assert_eq!(
        call(&mut s, 6, PAGE_MAP, &[va, 3], &[2]),
        Err(SyscallError::TruncatedMessage)
    );
    // Write without read gives no data access: kernel-only, executable.
    assert_eq!(call(&mut s, 6, PAGE_MAP, &[va, 1, 0], &[2]), Ok(()));
    let page = |rights, exec| {
        Some(Pte::Page {
            frame: F6,
            rights,
            exec,
        })
    };
    assert_eq!(s.pte(at), page(VmRights::KernelOnly, true));
    assert_eq!(mapped(&s, 6), Some((1, va)));
    // The slot is taken; the frame remaps only at its own address.
    assert_eq!(
        call(&mut s, 7, PAGE_MAP, &[va, 3, 0], &[2]),
        Err(SyscallError::DeleteFirst)
    );
    let e = call(&mut s, 6, PAGE_MAP, &[va + 0x1000, 3, 0], &[2]);
    assert_eq!(e, Err(SyscallError::InvalidArgument { index: 0 }));
    assert_eq!(
        call(&mut s, 6, PAGE_MAP, &[va, 3, EXECUTE_NEVER], &[2]),
        Ok(())
    );
    assert_eq!(s.pte(at), page(VmRights::ReadWrite, false));
    // Kernel-only and not executable: an empty slot, the cap still mapped.
    assert_eq!(
        call(&mut s, 6, PAGE_MAP, &[va, 0, EXECUTE_NEVER], &[2]),
        Ok(())
    );
    assert_eq!((s.pte(at), mapped(&s, 6)), (None, Some((1, va))));
    // GetAddress answers by itself: the frame's physical address.
    let inv = Invocation {
        cptr: 6,
        label: PAGE_GET_ADDRESS,
        words: vec![],
        extra: vec![],
    };
    assert_eq!(s.invoke(TCB, &inv), Some(None));
    let t = crate::tests_ipc::thread(&s, TCB);
    assert_eq!((t.info.label, t.info.length, t.mr(0)), (0, 1, F6));
}

#[test]
fn copies_are_unmapped_and_deleting_any_mapped_cap_unmaps() {
    let (mut s, va) = with_leaf_table();
    assert_eq!(call(&mut s, 6, PAGE_MAP, &[va, 3, 0], &[2]), Ok(()));
    assert_eq!(call(&mut s, 0, COPY, &[10, 64, 6, 64, 3], &[0]), Ok(()));
    assert_eq!(mapped(&s, 10), None);
    // The copy maps on its own next door; deleting it removes only its
    // mapping, though the original cap is still there.
    assert_eq!(
        call(&mut s, 10, PAGE_MAP, &[va + 0x1000, 3, 0], &[2]),
        Ok(())
    );
    assert_eq!(call(&mut s, 0, DELETE, &[10, 64], &[]), Ok(()));
    assert_eq!(s.pte((PT2, 4)), None);
    assert!(s.pte((PT2, 3)).is_some());
    // Unmap, then a stale remap attempt of another frame meets nothing.
    assert_eq!(call(&mut s, 6, PAGE_UNMAP, &[], &[]), Ok(()));
    assert_eq!((s.pte((PT2, 3)), mapped(&s, 6)), (None, None));
    // A deleted leaf table leaves its frames' caps mapped; unmapping one
    // then finds nothing to remove.
    assert_eq!(call(&mut s, 7, PAGE_MAP, &[va, 3, 0], &[2]), Ok(()));
    assert_eq!(call(&mut s, 0, DELETE, &[4, 64], &[]), Ok(()));
    assert_eq!(s.pte((PT1, 0)), None);
    assert!(!s.objects.contains_key(&PT2));
    assert_eq!(mapped(&s, 7), Some((1, va)));
    assert_eq!(call(&mut s, 7, PAGE_UNMAP, &[], &[]), Ok(()));
    // A copy of a mapped table can be made (an unmapped one's cannot:
    // `tables_go_to_the_first_missing_level_and_frames_need_them`).
    assert_eq!(call(&mut s, 0, COPY, &[11, 64, 3, 64, 3], &[0]), Ok(()));
    assert_eq!(mapped(&s, 11), Some((1, 0)));
    // Not the last cap: PageTable_Unmap wants a revoke first.
    let e = call(&mut s, 3, PAGE_TABLE_UNMAP, &[], &[]);
    assert_eq!(e, Err(SyscallError::RevokeFirst));
}

#[test]
fn deleting_the_root_removes_its_asid() {
    let mut s = with_vspace();
    assert_eq!(call(&mut s, 0, DELETE, &[2, 64], &[]), Ok(()));
    assert_eq!(s.find_vspace(1), None);
    assert!(matches!(s.objects.get(&POOL), Some(Object::AsidPool { roots }) if roots.is_empty()));
    // The ASID is free again.
    assert_eq!(call(&mut s, 9, ASID_POOL_ASSIGN, &[], &[3]), Ok(()));
    assert_eq!(mapped(&s, 3), Some((1, 0)));
}
