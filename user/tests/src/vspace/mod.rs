//! VSpace invocations: PageTable_Map/Unmap, Page_Map/Unmap/GetAddress,
//! ASIDControl_MakePool, ASIDPool_Assign, their errors with their data,
//! and what deleting frames, tables and pools unmaps (ch. 7 Address Spaces
//! and Virtual Memory; ch. 10 API *RISC-V*; ABI ref §7.8, §11).
//!
//! Mappings go into the root task's own VSpace at [`VA`] (the second GiB,
//! where the root task has nothing), with tables and frames from the
//! fixture's pool: the revoke before each test deletes them, which unmaps
//! them, so every test starts with nothing mapped there. The root task
//! reads and writes only through mappings the kernel reported as made, so
//! a failing test cannot fault the suite. Accesses that fault are made by
//! a worker thread (`ipc::worker`) whose VM faults the root thread handles
//! (`faults`).
//!
//! | file | what |
//! |---|---|
//! | `map` | mapping at each level, access through mappings, remap, copies, GetAddress |
//! | `errors` | every Map/Unmap error in seL4's order, kernel addresses refused |
//! | `asid` | MakePool, Assign, exhaustion, a second VSpace |
//! | `delete` | deleting frames, tables, roots and pools unmaps them |
//! | `faults` | VM faults: demand paging, access after unmap, write to read-only, fetch from never-execute |

mod asid;
mod delete;
mod errors;
mod faults;
mod map;

use crate::fixture::{expect_ok, Env};
use crate::framework::{Failure, Test};
use sel4::cap::init_caps;
use sel4::{CapRights, Frame, ObjectType, PageTable, Word};

/// A free GiB of the root task's address space: the root task lives in
/// the first (ABI ref §6.3), so nothing maps here and no table exists.
pub(super) const VA: Word = 0x4000_0000;
/// The root task's VSpace.
pub(super) const VS: PageTable = init_caps::VSPACE;

/// A new page table from the pool.
pub(super) fn table(env: &Env<'_>) -> Result<PageTable, Failure> {
    env.create(ObjectType::PageTable, 0)
        .map(PageTable::from_bits)
}

/// A new 4 KiB frame from the pool.
pub(super) fn frame(env: &Env<'_>) -> Result<Frame, Failure> {
    env.create(ObjectType::SmallPage, 0).map(Frame::from_bits)
}

/// New level-1 and leaf tables mapped in `vspace` for the 2 MiB at `va`.
pub(super) fn tables_for(
    env: &Env<'_>,
    vspace: PageTable,
    va: Word,
) -> Result<(PageTable, PageTable), Failure> {
    let (l1, l2) = (table(env)?, table(env)?);
    expect_ok(l1.map(vspace, va, 0), "PageTable_Map of the level-1 table")?;
    expect_ok(l2.map(vspace, va, 0), "PageTable_Map of the leaf table")?;
    Ok((l1, l2))
}

/// Maps `f` read-write at `va` in the root VSpace.
pub(super) fn map_rw(f: Frame, va: Word) -> Result<(), Failure> {
    expect_ok(
        f.map(VS, va, CapRights::READ_WRITE, 0),
        "Page_Map read-write",
    )
}

/// Writes `v` at `va`.
///
/// # Safety
/// A writable frame must be mapped at `va` in the root task's VSpace, and
/// nothing of the program may live there (only test frames map at [`VA`]).
pub(super) unsafe fn poke(va: Word, v: u64) {
    // SAFETY: the caller's contract: `va` is mapped writable, test-only.
    unsafe { (va as *mut u64).write_volatile(v) }
}

/// Reads the word at `va`.
///
/// # Safety
/// A readable frame must be mapped at `va` in the root task's VSpace.
pub(super) unsafe fn peek(va: Word) -> u64 {
    // SAFETY: the caller's contract: `va` is mapped readable.
    unsafe { (va as *const u64).read_volatile() }
}

/// `addi a0, zero, 42; ret`: a C-ABI function returning 42.
pub(super) const CODE: [u32; 2] = [0x02A0_0513, 0x0000_8067];

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "vspace_page_table_map_fills_levels_in_order",
        run: map::table_levels,
    },
    Test {
        name: "vspace_page_map_write_then_read",
        run: map::write_read,
    },
    Test {
        name: "vspace_page_get_address",
        run: map::get_address,
    },
    Test {
        name: "vspace_two_mappings_of_one_frame_alias",
        run: map::copies_alias,
    },
    Test {
        name: "vspace_remap_read_only_still_reads",
        run: map::remap_read_only,
    },
    Test {
        name: "vspace_unmap_then_map_elsewhere_keeps_contents",
        run: map::unmap_remap_elsewhere,
    },
    Test {
        name: "vspace_large_page_maps_below_level_1_table",
        run: map::large_page,
    },
    Test {
        name: "vspace_huge_device_page_maps_in_root_table",
        run: map::huge_page,
    },
    Test {
        name: "vspace_executable_page_runs_code",
        run: map::executable,
    },
    Test {
        name: "vspace_page_table_map_errors",
        run: errors::page_table_map,
    },
    Test {
        name: "vspace_page_map_errors",
        run: errors::page_map,
    },
    Test {
        name: "vspace_page_map_missing_table_reports_level",
        run: errors::missing_level,
    },
    Test {
        name: "vspace_mapped_frame_remaps_only_in_place",
        run: errors::remap_in_place,
    },
    Test {
        name: "vspace_kernel_addresses_refused",
        run: errors::kernel_addresses,
    },
    Test {
        name: "vspace_page_table_unmap_rules",
        run: errors::page_table_unmap,
    },
    Test {
        name: "vspace_bad_labels_illegal",
        run: errors::bad_labels,
    },
    Test {
        name: "vspace_asid_make_pool_and_assign",
        run: asid::make_pool_assign,
    },
    Test {
        name: "vspace_asid_make_pool_errors",
        run: asid::make_pool_errors,
    },
    Test {
        name: "vspace_asid_assign_errors",
        run: asid::assign_errors,
    },
    Test {
        name: "vspace_asid_pools_run_out",
        run: asid::pools_run_out,
    },
    Test {
        name: "vspace_second_vspace_maps_same_frame",
        run: asid::second_vspace,
    },
    Test {
        name: "vspace_deleted_pool_asid_lookup_fails",
        run: asid::deleted_pool,
    },
    Test {
        name: "vspace_delete_frame_unmaps",
        run: delete::frame,
    },
    Test {
        name: "vspace_delete_page_table_unmaps",
        run: delete::page_table,
    },
    Test {
        name: "vspace_revoke_untyped_unmaps_everything",
        run: delete::revoke_all,
    },
    Test {
        name: "vspace_demand_paging_16_mib",
        run: faults::demand_paging,
    },
    Test {
        name: "vspace_access_after_unmap_faults",
        run: faults::access_after_unmap,
    },
    Test {
        name: "vspace_write_to_read_only_mapping_faults",
        run: faults::write_read_only,
    },
    Test {
        name: "vspace_fetch_from_non_executable_faults",
        run: faults::fetch_never_execute,
    },
];
