//! Host tests of the frame invocations: mapping at each level, remapping
//! and rights, copies, every Page_Map error with its exact data (ABI ref
//! §7.8, §8), TLB flushes, and what deleting a frame or table unmaps.

use super::tests::*;
use crate::arch::host::{Flush, SimMachine};
use crate::arch::vspace as pt;
use crate::cap::cte::{cnode_slot, insert_original};
use crate::cap::{Cap, FrameSize, Mapping, VmRights};
use crate::object::access::{read_word, write_word};
use crate::object::vspace::find_vspace_for_asid;
use crate::testutil::{boot, err, ok, Outcome};
use crate::types::PAddr;
use cairn_abi::cap::{init, CapRights};
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType as T;
use cairn_abi::vm::{EXECUTE_NEVER, USER_TOP};

#[test]
fn small_frame_maps_with_full_rights_and_reports_its_address() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    tables_at_va(&k);
    let f = new(&k, T::SmallPage);
    let base = base_of(&k, f);
    SimMachine::take_flushes();
    assert_eq!(page_map(&k, f, init::VSPACE, VA + 0x5000, 0xF, 0), ok());
    assert_eq!(
        SimMachine::take_flushes(),
        vec![Flush::Page(VA + 0x5000, ROOT_ASID)]
    );
    let (pte, bits) = leaf(root, VA + 0x5000);
    assert_eq!((pt::pte_paddr(pte), bits), (base, 12));
    assert_eq!(pte & 0xFF, USER_RWX, "V R W X U A D, not G");
    assert_eq!(
        mapping_of(&k, f),
        Some(Mapping {
            asid: ROOT_ASID,
            vaddr: VA + 0x5000
        })
    );
    let get = |s| bare(&k, s, l::RISCV_PAGE_GET_ADDRESS);
    assert_eq!(
        get(f),
        Outcome::Reply {
            label: 0,
            mrs: vec![base.0]
        }
    );
    let unmapped = new(&k, T::SmallPage);
    assert_eq!(
        get(unmapped),
        Outcome::Reply {
            label: 0,
            mrs: vec![base_of(&k, unmapped).0]
        }
    );
}

#[test]
fn large_and_huge_frames_map_at_their_levels() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    let l1 = new(&k, T::PageTable);
    assert_eq!(pt_map(&k, l1, init::VSPACE, VA), ok());
    let m = k.make(T::MegaPage, 0, 1)[0];
    assert_eq!(
        page_map(&k, m, init::VSPACE, VA + 0x10_0000, 3, 0),
        err(ALIGNMENT, &[])
    );
    assert_eq!(page_map(&k, m, init::VSPACE, VA + 0x20_0000, 3, 0), ok());
    let (pte, bits) = leaf(root, VA + 0x20_0000);
    assert_eq!((pt::pte_paddr(pte), bits), (base_of(&k, m), 21));
    // A 1 GiB frame (the simulated RAM is smaller: the cap is made by
    // hand; mapping writes only the entry).
    let g = k.first_empty;
    let giga = Cap::Frame {
        base: PAddr(0x4000_0000),
        size: FrameSize::Giga,
        rights: VmRights::ReadWrite,
        is_device: true,
        mapping: None,
    };
    insert_original(cnode_slot(k.cnode, g), giga);
    assert_eq!(
        page_map(&k, g, init::VSPACE, 0x8020_0000, 3, 0),
        err(ALIGNMENT, &[])
    );
    // Where a level-1 table is, a 1 GiB frame cannot go.
    assert_eq!(
        page_map(&k, g, init::VSPACE, VA, 3, 0),
        err(FAILED_LOOKUP, &[0, 2, 21])
    );
    assert_eq!(
        page_map(&k, g, init::VSPACE, 0x8000_0000, 3, EXECUTE_NEVER),
        ok()
    );
    let (pte, bits) = leaf(root, 0x8000_0000 + 0x1234_5678);
    assert_eq!((pt::pte_paddr(pte), bits), (PAddr(0x4000_0000), 30));
    assert_eq!(pte & 0xFF, USER_RWX & !pt::PTE_X);
    // The last GiB ends at USER_TOP's page: refused.
    assert_eq!(
        page_map(&k, g, init::VSPACE, 0x3F_C000_0000, 3, 0),
        err(INVALID_ARGUMENT, &[0])
    );
}

#[test]
fn page_map_errors_in_sel4s_order() {
    let k = boot();
    let f = new(&k, T::SmallPage);
    let unmapped_root = new(&k, T::PageTable);
    let map = |mrs: &[u64], extra: &[u64]| k.call(f, l::RISCV_PAGE_MAP, mrs, extra);
    assert_eq!(map(&[VA, 3], &[init::VSPACE]), err(TRUNCATED, &[]));
    assert_eq!(map(&[VA, 3, 0], &[]), err(TRUNCATED, &[]));
    // A bad VSpace first.
    assert_eq!(
        map(&[USER_TOP + 1, 3, 0], &[init::CNODE]),
        err(INVALID_CAPABILITY, &[1])
    );
    assert_eq!(
        map(&[USER_TOP + 1, 3, 0], &[unmapped_root]),
        err(INVALID_CAPABILITY, &[1])
    );
    assert_eq!(
        map(&[USER_TOP + 1, 3, 0], &[f]),
        err(INVALID_CAPABILITY, &[1])
    );
    // The address range, then alignment.
    assert_eq!(
        map(&[USER_TOP, 3, 0], &[init::VSPACE]),
        err(INVALID_ARGUMENT, &[0])
    );
    assert_eq!(
        map(&[USER_TOP + 1, 3, 0], &[init::VSPACE]),
        err(INVALID_ARGUMENT, &[0])
    );
    assert_eq!(
        map(&[0xFFFF_FFC0_8000_0000, 3, 0], &[init::VSPACE]),
        err(INVALID_ARGUMENT, &[0])
    );
    // seL4's last-byte sum wraps for the top page: misaligned, not refused.
    assert_eq!(map(&[u64::MAX, 3, 0], &[init::VSPACE]), err(ALIGNMENT, &[]));
    assert_eq!(
        map(&[VA + 0x800, 3, 0], &[init::VSPACE]),
        err(ALIGNMENT, &[])
    );
    // Missing tables: MR2 = bits left.
    assert_eq!(
        map(&[VA, 3, 0], &[init::VSPACE]),
        err(FAILED_LOOKUP, &[0, 2, 30])
    );
    let l1 = new(&k, T::PageTable);
    assert_eq!(pt_map(&k, l1, init::VSPACE, VA), ok());
    assert_eq!(
        map(&[VA, 3, 0], &[init::VSPACE]),
        err(FAILED_LOOKUP, &[0, 2, 21])
    );
    // A 2 MiB frame where a leaf table is.
    let m = k.make(T::MegaPage, 0, 1)[0];
    assert_eq!(
        page_map(&k, m, init::VSPACE, 0, 3, 0),
        err(FAILED_LOOKUP, &[0, 2, 12])
    );
    // An occupied entry (the root task's image).
    assert_eq!(
        map(&[0x10000, 3, 0], &[init::VSPACE]),
        err(DELETE_FIRST, &[])
    );
    // Bad labels.
    for label in [
        l::RISCV_PAGE_TABLE_MAP,
        l::RISCV_PAGE_TABLE_UNMAP,
        l::RISCV_ASID_POOL_ASSIGN,
        0,
        1000,
    ] {
        assert_eq!(
            k.call(f, label, &[VA, 3, 0], &[init::VSPACE]),
            err(ILLEGAL, &[])
        );
    }
    assert_eq!(mapping_of(&k, f), None, "failed decodes change nothing");
}

#[test]
fn a_mapped_frame_remaps_only_in_place() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    tables_at_va(&k);
    let f = new(&k, T::SmallPage);
    assert_eq!(page_map(&k, f, init::VSPACE, VA, 3, 0), ok());
    // Elsewhere in the same VSpace: InvalidArgument(0).
    assert_eq!(
        page_map(&k, f, init::VSPACE, VA + 0x1000, 3, 0),
        err(INVALID_ARGUMENT, &[0])
    );
    // Remap in place with fewer rights; the TLB entry is flushed.
    SimMachine::take_flushes();
    assert_eq!(
        page_map(&k, f, init::VSPACE, VA, CapRights::CAN_READ.0, 0),
        ok()
    );
    assert_eq!(SimMachine::take_flushes(), vec![Flush::Page(VA, ROOT_ASID)]);
    assert_eq!(
        leaf(root, VA).0 & (pt::PTE_R | pt::PTE_W | pt::PTE_X),
        pt::PTE_R | pt::PTE_X
    );
    assert_eq!(page_map(&k, f, init::VSPACE, VA, 3, EXECUTE_NEVER), ok());
    assert_eq!(
        leaf(root, VA).0 & (pt::PTE_R | pt::PTE_W | pt::PTE_X),
        pt::PTE_R | pt::PTE_W
    );
    // Another VSpace: InvalidCapability(1), once the walk there succeeds
    // (seL4 walks before it looks at the frame's mapping).
    let other = new(&k, T::PageTable);
    assert_eq!(
        k.call(init::ASID_POOL, l::RISCV_ASID_POOL_ASSIGN, &[], &[other]),
        ok()
    );
    assert_eq!(
        page_map(&k, f, other, VA, 3, 0),
        err(FAILED_LOOKUP, &[0, 2, 30])
    );
    let (o1, o2) = (new(&k, T::PageTable), new(&k, T::PageTable));
    assert_eq!(pt_map(&k, o1, other, VA), ok());
    assert_eq!(pt_map(&k, o2, other, VA), ok());
    assert_eq!(
        page_map(&k, f, other, VA, 3, 0),
        err(INVALID_CAPABILITY, &[1])
    );
    assert_eq!(
        page_map(&k, f, other, VA + 0x1000, 3, 0),
        err(INVALID_CAPABILITY, &[1])
    );
}

#[test]
fn rights_are_masked_as_sel4s_mask_vm_rights() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    tables_at_va(&k);
    let f = new(&k, T::SmallPage);
    let rwx = pt::PTE_R | pt::PTE_W | pt::PTE_X;
    let cases = [
        (CapRights::ALL.0, 0, pt::PTE_R | pt::PTE_W | pt::PTE_X),
        (
            CapRights::READ_WRITE.0,
            EXECUTE_NEVER,
            pt::PTE_R | pt::PTE_W,
        ),
        (CapRights::CAN_READ.0, 0, pt::PTE_R | pt::PTE_X),
        // Write-only is unsupported: no data access, execute only.
        (CapRights::CAN_WRITE.0, 0, pt::PTE_X),
        (CapRights::NONE.0, 0, pt::PTE_X),
        // Other attribute bits are ignored.
        (CapRights::ALL.0, !EXECUTE_NEVER, rwx),
    ];
    for (rights, attr, want) in cases {
        assert_eq!(page_map(&k, f, init::VSPACE, VA, rights, attr), ok());
        assert_eq!(
            leaf(root, VA).0 & rwx,
            want,
            "rights {rights:#x} attr {attr:#x}"
        );
        assert_eq!(bare(&k, f, l::RISCV_PAGE_UNMAP), ok());
    }
    // No rights and execute-never: the entry is left invalid (but the cap
    // is mapped, so the slot counts as its own).
    assert_eq!(
        page_map(
            &k,
            f,
            init::VSPACE,
            VA,
            CapRights::CAN_WRITE.0,
            EXECUTE_NEVER
        ),
        ok()
    );
    assert_eq!(leaf(root, VA), (0, 12));
    assert!(mapping_of(&k, f).is_some());
    assert_eq!(page_map(&k, f, init::VSPACE, VA, 3, 0), ok(), "remap");
    assert_eq!(bare(&k, f, l::RISCV_PAGE_UNMAP), ok());
    // A read-only cap never maps writable.
    let ro = k.first_empty;
    assert_eq!(
        k.call(
            init::CNODE,
            l::CNODE_COPY,
            &[ro, 64, f, 64, CapRights::CAN_READ.0],
            &[init::CNODE]
        ),
        ok()
    );
    assert_eq!(
        page_map(&k, ro, init::VSPACE, VA, CapRights::ALL.0, 0),
        ok()
    );
    assert_eq!(leaf(root, VA).0 & rwx, pt::PTE_R | pt::PTE_X);
}

#[test]
fn frame_copies_map_independently() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    tables_at_va(&k);
    let f = new(&k, T::SmallPage);
    let base = base_of(&k, f);
    assert_eq!(page_map(&k, f, init::VSPACE, VA, 3, 0), ok());
    let c = k.first_empty;
    assert_eq!(
        k.call(
            init::CNODE,
            l::CNODE_COPY,
            &[c, 64, f, 64, 0xF],
            &[init::CNODE]
        ),
        ok()
    );
    assert_eq!(mapping_of(&k, c), None, "a copy starts unmapped");
    assert_eq!(page_map(&k, c, init::VSPACE, VA + 0x1000, 3, 0), ok());
    assert_eq!(pt::pte_paddr(leaf(root, VA).0), base);
    assert_eq!(pt::pte_paddr(leaf(root, VA + 0x1000).0), base);
    assert_eq!(bare(&k, f, l::RISCV_PAGE_UNMAP), ok());
    assert_eq!(leaf(root, VA).0, 0);
    assert_eq!(pt::pte_paddr(leaf(root, VA + 0x1000).0), base);
    // Deleting a copy (not the last cap) still removes its mapping.
    SimMachine::take_flushes();
    assert_eq!(k.call(init::CNODE, l::CNODE_DELETE, &[c, 64], &[]), ok());
    assert_eq!(leaf(root, VA + 0x1000).0, 0);
    assert!(SimMachine::take_flushes().contains(&Flush::Page(VA + 0x1000, ROOT_ASID)));
}

#[test]
fn unmap_leaves_another_frames_entry_alone() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    let (_, l2) = tables_at_va(&k);
    let (a, b) = (new(&k, T::SmallPage), new(&k, T::SmallPage));
    // Unmapping an unmapped frame is fine.
    assert_eq!(bare(&k, a, l::RISCV_PAGE_UNMAP), ok());
    assert_eq!(page_map(&k, a, init::VSPACE, VA, 3, 0), ok());
    // The leaf table goes (zeroed), a new one comes, b maps where a was.
    assert_eq!(bare(&k, l2, l::RISCV_PAGE_TABLE_UNMAP), ok());
    let l2b = new(&k, T::PageTable);
    assert_eq!(pt_map(&k, l2b, init::VSPACE, VA), ok());
    assert_eq!(page_map(&k, b, init::VSPACE, VA, 3, 0), ok());
    // a's cap still says mapped; unmapping it must not touch b's entry.
    assert_eq!(
        mapping_of(&k, a),
        Some(Mapping {
            asid: ROOT_ASID,
            vaddr: VA
        })
    );
    assert_eq!(bare(&k, a, l::RISCV_PAGE_UNMAP), ok());
    assert_eq!(mapping_of(&k, a), None);
    assert_eq!(pt::pte_paddr(leaf(root, VA).0), base_of(&k, b));
}

#[test]
fn deleting_frames_and_tables_unmaps_them() {
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    let (l1, l2) = tables_at_va(&k);
    let f = new(&k, T::SmallPage);
    assert_eq!(page_map(&k, f, init::VSPACE, VA, 3, 0), ok());
    let del = |s: u64| k.call(init::CNODE, l::CNODE_DELETE, &[s, 64], &[]);
    assert_eq!(del(f), ok());
    assert_eq!(leaf(root, VA), (0, 12));
    let f2 = new(&k, T::SmallPage);
    assert_eq!(page_map(&k, f2, init::VSPACE, VA, 3, 0), ok());
    SimMachine::take_flushes();
    assert_eq!(del(l2), ok());
    assert_eq!(SimMachine::take_flushes(), vec![Flush::Asid(ROOT_ASID)]);
    assert_eq!(leaf(root, VA), (0, 21), "the leaf table is gone");
    assert_eq!(del(l1), ok());
    assert_eq!(leaf(root, VA), (0, 30));
    // f2's mapping went with its table; its cap can unmap harmlessly.
    assert_eq!(bare(&k, f2, l::RISCV_PAGE_UNMAP), ok());
    assert_eq!(find_vspace_for_asid(ROOT_ASID), Some(root));
}

#[test]
fn write_through_one_mapping_reads_through_another() {
    // Two VSpaces map one frame; the kernel's view of the frame is the
    // same memory as both entries name.
    let k = boot();
    let root = root_of(&k, init::VSPACE);
    tables_at_va(&k);
    let other = new(&k, T::PageTable);
    assert_eq!(
        k.call(init::ASID_POOL, l::RISCV_ASID_POOL_ASSIGN, &[], &[other]),
        ok()
    );
    let (o1, o2) = (new(&k, T::PageTable), new(&k, T::PageTable));
    assert_eq!(pt_map(&k, o1, other, VA), ok());
    assert_eq!(pt_map(&k, o2, other, VA), ok());
    let f = new(&k, T::SmallPage);
    let c = k.first_empty;
    assert_eq!(
        k.call(
            init::CNODE,
            l::CNODE_COPY,
            &[c, 64, f, 64, 0xF],
            &[init::CNODE]
        ),
        ok()
    );
    assert_eq!(page_map(&k, f, init::VSPACE, VA, 3, 0), ok());
    assert_eq!(page_map(&k, c, other, VA + 0x3000, 3, 0), ok());
    let a = pt::pte_paddr(leaf(root, VA).0);
    let b = pt::pte_paddr(leaf(root_of(&k, other), VA + 0x3000).0);
    assert_eq!(a, b);
    write_word(a, 0x1234);
    assert_eq!(read_word(b), 0x1234);
    assert_eq!(mapping_of(&k, c).map(|m| m.asid), Some(2));
}
