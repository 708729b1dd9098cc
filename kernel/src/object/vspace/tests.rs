//! Host tests of the page-table invocations (the walk, where a table goes,
//! Map and Unmap errors with their exact data, ABI ref §7.8, §8), and the
//! helpers the other VSpace tests share. Frames are tested in
//! `tests_page.rs`, ASIDs in `tests_asid.rs`.

use crate::arch::host::{Flush, SimMachine};
use crate::arch::vspace as pt;
use crate::cap::{Cap, Mapping};
use crate::object::access::read_word;
use crate::testutil::{boot, err, ok, Outcome, TestKernel};
use crate::types::PAddr;
use cairn_abi::cap::init;
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType as T;
use cairn_abi::vm::USER_TOP;

/// Error codes (ABI ref §8).
pub const INVALID_ARGUMENT: u64 = 1;
pub const INVALID_CAPABILITY: u64 = 2;
pub const ILLEGAL: u64 = 3;
pub const ALIGNMENT: u64 = 5;
pub const FAILED_LOOKUP: u64 = 6;
pub const TRUNCATED: u64 = 7;
pub const DELETE_FIRST: u64 = 8;
pub const REVOKE_FIRST: u64 = 9;

/// A free GiB of the test root task's address space (it uses GiB 0).
pub const VA: u64 = 0x4000_0000;
/// The root task's ASID.
pub const ROOT_ASID: u16 = 1;

/// `PageTable_Map(pt, vspace, vaddr, attr)`.
pub fn pt_map(k: &TestKernel, table: u64, vspace: u64, vaddr: u64) -> Outcome {
    k.call(table, l::RISCV_PAGE_TABLE_MAP, &[vaddr, 0], &[vspace])
}

/// `Page_Map(frame, vspace, vaddr, rights, attr)`.
pub fn page_map(
    k: &TestKernel,
    frame: u64,
    vspace: u64,
    vaddr: u64,
    rights: u64,
    attr: u64,
) -> Outcome {
    k.call(frame, l::RISCV_PAGE_MAP, &[vaddr, rights, attr], &[vspace])
}

/// A call with no arguments and no extra caps.
pub fn bare(k: &TestKernel, cap: u64, label: u64) -> Outcome {
    k.call(cap, label, &[], &[])
}

/// One new object of type `t`; returns its slot.
pub fn new(k: &TestKernel, t: T) -> u64 {
    k.make(t, 0, 1)[0]
}

/// The root VSpace's page table.
pub fn root_of(k: &TestKernel, vspace: u64) -> PAddr {
    match k.cap(vspace) {
        Cap::PageTable { base, .. } => base,
        other => panic!("not a page table: {other:?}"),
    }
}

/// The mapping recorded in a frame or page-table cap.
pub fn mapping_of(k: &TestKernel, slot: u64) -> Option<Mapping> {
    match k.cap(slot) {
        Cap::Frame { mapping, .. } | Cap::PageTable { mapping, .. } => mapping,
        other => panic!("not a frame or page table: {other:?}"),
    }
}

/// The physical address of a frame or table cap's object.
pub fn base_of(k: &TestKernel, slot: u64) -> PAddr {
    match k.cap(slot) {
        Cap::Frame { base, .. } | Cap::PageTable { base, .. } => base,
        other => panic!("not a frame or page table: {other:?}"),
    }
}

/// The leaf entry for `va` in the VSpace rooted at `root` and the bits it
/// translates (0 if the walk ends at an empty entry).
pub fn leaf(root: PAddr, va: u64) -> (u64, u32) {
    let (slot, bits) = pt::lookup_pt_slot(root, va);
    (pt::read_pte(slot), bits)
}

/// Maps a level-1 and a leaf table for [VA, VA + 2 MiB) in the root
/// VSpace; returns their slots.
pub fn tables_at_va(k: &TestKernel) -> (u64, u64) {
    let (l1, l2) = (new(k, T::PageTable), new(k, T::PageTable));
    assert_eq!(pt_map(k, l1, init::VSPACE, VA), ok());
    assert_eq!(pt_map(k, l2, init::VSPACE, VA), ok());
    (l1, l2)
}

pub const USER_RWX: u64 =
    pt::PTE_V | pt::PTE_R | pt::PTE_W | pt::PTE_X | pt::PTE_U | pt::PTE_A | pt::PTE_D;

#[test]
fn page_table_goes_to_the_first_missing_level() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    let (l1, l2, l3) = (
        new(&k, T::PageTable),
        new(&k, T::PageTable),
        new(&k, T::PageTable),
    );
    let va = VA + 0x23_4567;
    SimMachine::take_flushes();
    assert_eq!(pt_map(&k, l1, init::VSPACE, va), ok());
    assert_eq!(SimMachine::take_flushes(), vec![Flush::Asid(ROOT_ASID)]);
    let top = pt::read_pte(pt::slot(root, pt::index(va, 0)));
    assert_eq!(top, pt::pte_table(base_of(&k, l1)));
    // The cap records vaddr rounded down to what the entry covers.
    assert_eq!(
        mapping_of(&k, l1),
        Some(Mapping {
            asid: ROOT_ASID,
            vaddr: VA
        })
    );
    assert_eq!(pt_map(&k, l2, init::VSPACE, va), ok());
    assert_eq!(
        mapping_of(&k, l2),
        Some(Mapping {
            asid: ROOT_ASID,
            vaddr: VA + 0x20_0000
        })
    );
    assert_eq!(pt::lookup_pt_slot(root, va).1, 12);
    // All levels present.
    assert_eq!(pt_map(&k, l3, init::VSPACE, va), err(DELETE_FIRST, &[]));
    assert_eq!(mapping_of(&k, l3), None);
    // The last user address has a level of its own too.
    assert_eq!(pt_map(&k, l3, init::VSPACE, USER_TOP - 1), ok());
    assert_eq!(
        mapping_of(&k, l3),
        Some(Mapping {
            asid: ROOT_ASID,
            vaddr: 0x3F_C000_0000
        })
    );
}

#[test]
fn page_table_map_errors_in_sel4s_order() {
    let k = boot();
    let t = new(&k, T::PageTable);
    let unmapped_root = new(&k, T::PageTable);
    let map = |mrs: &[u64], extra: &[u64]| k.call(t, l::RISCV_PAGE_TABLE_MAP, mrs, extra);
    assert_eq!(map(&[VA], &[init::VSPACE]), err(TRUNCATED, &[]));
    assert_eq!(map(&[VA, 0], &[]), err(TRUNCATED, &[]));
    // The invoked table is already mapped (the root VSpace is).
    assert_eq!(
        k.call(
            init::VSPACE,
            l::RISCV_PAGE_TABLE_MAP,
            &[VA, 0],
            &[init::VSPACE]
        ),
        err(INVALID_CAPABILITY, &[0])
    );
    // A bad VSpace before a bad address.
    assert_eq!(
        map(&[USER_TOP, 0], &[init::CNODE]),
        err(INVALID_CAPABILITY, &[1])
    );
    assert_eq!(
        map(&[USER_TOP, 0], &[unmapped_root]),
        err(INVALID_CAPABILITY, &[1])
    );
    assert_eq!(
        map(&[USER_TOP, 0], &[k.first_empty]),
        err(INVALID_CAPABILITY, &[1])
    );
    // Kernel addresses.
    for va in [
        USER_TOP,
        0x40_0000_0000,
        0xFFFF_FFC0_0000_0000,
        0xFFFF_FFFF_8020_0000,
        u64::MAX,
    ] {
        assert_eq!(
            map(&[va, 0], &[init::VSPACE]),
            err(INVALID_ARGUMENT, &[0]),
            "{va:#x}"
        );
    }
    // A 2 MiB frame where the leaf table would go.
    let l1 = new(&k, T::PageTable);
    assert_eq!(pt_map(&k, l1, init::VSPACE, VA), ok());
    let big = k.make(T::MegaPage, 0, 1)[0];
    assert_eq!(page_map(&k, big, init::VSPACE, VA, 3, 0), ok());
    assert_eq!(map(&[VA, 0], &[init::VSPACE]), err(DELETE_FIRST, &[]));
    // Other labels.
    for label in [
        l::RISCV_PAGE_MAP,
        l::RISCV_PAGE_GET_ADDRESS,
        l::CNODE_COPY,
        0,
    ] {
        assert_eq!(map(&[VA, 0], &[init::VSPACE]), err(DELETE_FIRST, &[]));
        assert_eq!(
            k.call(t, label, &[VA, 0], &[init::VSPACE]),
            err(ILLEGAL, &[])
        );
    }
    assert_eq!(mapping_of(&k, t), None, "failed decodes change nothing");
}

#[test]
fn page_table_unmap_needs_the_final_cap_and_zeroes_the_table() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    let (l1, l2) = tables_at_va(&k);
    let f = new(&k, T::SmallPage);
    assert_eq!(page_map(&k, f, init::VSPACE, VA, 3, 0), ok());
    // A copy (allowed: the table is mapped) makes the original not final.
    let c = k.first_empty;
    assert_eq!(
        k.call(
            init::CNODE,
            l::CNODE_COPY,
            &[c, 64, l2, 64, 0xF],
            &[init::CNODE]
        ),
        ok()
    );
    assert_eq!(
        bare(&k, l2, l::RISCV_PAGE_TABLE_UNMAP),
        err(REVOKE_FIRST, &[])
    );
    assert_eq!(
        bare(&k, c, l::RISCV_PAGE_TABLE_UNMAP),
        err(REVOKE_FIRST, &[])
    );
    assert_eq!(k.call(init::CNODE, l::CNODE_DELETE, &[c, 64], &[]), ok());
    let table = base_of(&k, l2);
    assert_ne!(read_word(table), 0);
    SimMachine::take_flushes();
    assert_eq!(bare(&k, l2, l::RISCV_PAGE_TABLE_UNMAP), ok());
    assert_eq!(SimMachine::take_flushes(), vec![Flush::Asid(ROOT_ASID)]);
    assert_eq!(mapping_of(&k, l2), None);
    assert!(
        (0..512).all(|i| read_word(table.add(8 * i)) == 0),
        "table zeroed"
    );
    assert_eq!(leaf(root, VA), (0, 21), "the level-1 entry is empty again");
    // Unmapping an unmapped table does nothing; it can be mapped again.
    assert_eq!(bare(&k, l2, l::RISCV_PAGE_TABLE_UNMAP), ok());
    assert_eq!(pt_map(&k, l2, init::VSPACE, VA + 0x40_0000), ok());
    assert_eq!(
        mapping_of(&k, l1),
        Some(Mapping {
            asid: ROOT_ASID,
            vaddr: VA
        })
    );
}

#[test]
fn a_vspace_root_cannot_be_unmapped() {
    let k = boot();
    let r = new(&k, T::PageTable);
    assert_eq!(
        k.call(init::ASID_POOL, l::RISCV_ASID_POOL_ASSIGN, &[], &[r]),
        ok()
    );
    assert_eq!(
        bare(&k, r, l::RISCV_PAGE_TABLE_UNMAP),
        err(REVOKE_FIRST, &[])
    );
    // The root task's root has a copy in its TCB: not final either.
    assert_eq!(
        bare(&k, init::VSPACE, l::RISCV_PAGE_TABLE_UNMAP),
        err(REVOKE_FIRST, &[])
    );
    assert!(mapping_of(&k, r).is_some());
}
