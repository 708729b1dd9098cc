//! Every PageTable_Map, Page_Map and PageTable_Unmap error with its data,
//! in seL4's order; kernel addresses refused; labels that do not belong to
//! the object (ch. 7 Address Spaces and Virtual Memory; ABI ref §7.8, §8).

use super::{frame, map_rw, peek, table, tables_for, VA, VS};
use crate::check_eq;
use crate::fixture::{copy, delete, expect_err, expect_ok, missing, raw, Env, ROOT};
use crate::framework::{Ctx, TestResult};
use sel4::abi::invocation::label;
use sel4::abi::vm::USER_TOP;
use sel4::cap::init_caps::{ASID_CONTROL, ASID_POOL};
use sel4::{init, CapRights, Error, Frame, ObjectType, PageTable, Word};

const RW: CapRights = CapRights::READ_WRITE;
const BAD_CAP_1: Error = Error::InvalidCapability { index: 1 };
const BAD_ARG_0: Error = Error::InvalidArgument { index: 0 };

pub(super) fn page_table_map(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (t, unmapped) = (table(&env)?, table(&env)?);
    let empty = env.slot()?;
    let tm = t.bits();
    expect_err(
        raw(tm, label::RISCV_PAGE_TABLE_MAP, &[VA], &[VS.bits()]),
        Error::TruncatedMessage,
        "one message register",
    )?;
    expect_err(
        raw(tm, label::RISCV_PAGE_TABLE_MAP, &[VA, 0], &[]),
        Error::TruncatedMessage,
        "no VSpace cap",
    )?;
    expect_err(
        VS.map(VS, VA, 0),
        Error::InvalidCapability { index: 0 },
        "mapping a mapped table (the root VSpace)",
    )?;
    // The VSpace is checked before the address.
    for (vs, what) in [
        (unmapped, "an unassigned table as VSpace"),
        (PageTable::from_bits(init::CNODE), "a CNode as VSpace"),
        (PageTable::from_bits(empty), "an empty slot as VSpace"),
    ] {
        expect_err(t.map(vs, USER_TOP, 0), BAD_CAP_1, what)?;
    }
    expect_err(t.map(VS, USER_TOP, 0), BAD_ARG_0, "vaddr = USER_TOP")?;
    // A 2 MiB frame where the leaf table would go.
    let l1 = table(&env)?;
    expect_ok(l1.map(VS, VA, 0), "level-1 table")?;
    let m = Frame::from_bits(env.create(ObjectType::MegaPage, 0)?);
    map_rw(m, VA)?;
    expect_err(
        t.map(VS, VA + 0x1000, 0),
        Error::DeleteFirst,
        "a table over a 2 MiB frame",
    )?;
    // Nothing changed: the table is still unmapped, so not copyable.
    let c = env.slot()?;
    expect_err(
        copy(c, tm, CapRights::ALL),
        Error::IllegalOperation,
        "Copy after the failures",
    )
}

pub(super) fn page_map(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let f = frame(&env)?;
    let unmapped = table(&env)?;
    let fm = f.bits();
    expect_err(
        raw(fm, label::RISCV_PAGE_MAP, &[VA, RW.0], &[VS.bits()]),
        Error::TruncatedMessage,
        "two message registers",
    )?;
    expect_err(
        raw(fm, label::RISCV_PAGE_MAP, &[VA, RW.0, 0], &[]),
        Error::TruncatedMessage,
        "no VSpace cap",
    )?;
    for (vs, what) in [
        (unmapped, "an unassigned table as VSpace"),
        (PageTable::from_bits(init::CNODE), "a CNode as VSpace"),
        (PageTable::from_bits(fm), "the frame itself as VSpace"),
    ] {
        expect_err(f.map(vs, USER_TOP, RW, 0), BAD_CAP_1, what)?;
    }
    expect_err(f.map(VS, USER_TOP, RW, 0), BAD_ARG_0, "vaddr = USER_TOP")?;
    // The last page below USER_TOP passes the range check (and then has
    // no table).
    expect_err(
        f.map(VS, USER_TOP - 0x1000, RW, 0),
        missing(false, 30),
        "the last user page",
    )?;
    expect_err(
        f.map(VS, VA + 0x800, RW, 0),
        Error::AlignmentError,
        "misaligned vaddr",
    )?;
    // seL4 computes the last byte with wrapping arithmetic: for the top
    // page it wraps, and the misalignment is what is reported.
    expect_err(
        f.map(VS, Word::MAX, RW, 0),
        Error::AlignmentError,
        "vaddr = 2^64 - 1",
    )?;
    // Occupied entries: the root task's own image and IPC buffer.
    expect_err(
        f.map(VS, ctx.image_start, RW, 0),
        Error::DeleteFirst,
        "the image's first page",
    )?;
    expect_err(
        f.map(VS, ctx.bi.ipc_buffer_addr(), RW, 0),
        Error::DeleteFirst,
        "the IPC buffer's page",
    )?;
    expect_ok(f.get_address().map(drop), "the frame is still usable")
}

pub(super) fn missing_level(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let f = frame(&env)?;
    // MR2 of the reply is the bits left (libsel4's
    // seL4_MappingFailedLookupLevel): 30 = no level-1 table, 21 = no leaf.
    expect_err(
        f.map(VS, VA, RW, 0),
        missing(false, 30),
        "no table for the GiB",
    )?;
    let l1 = table(&env)?;
    expect_ok(l1.map(VS, VA, 0), "level-1 table")?;
    expect_err(f.map(VS, VA, RW, 0), missing(false, 21), "no leaf table")?;
    expect_err(
        f.map(VS, VA + 0x3F_F000, RW, 0),
        missing(false, 21),
        "no leaf table, top of the GiB's first 4 MiB",
    )?;
    let l2 = table(&env)?;
    expect_ok(l2.map(VS, VA, 0), "leaf table")?;
    expect_ok(f.map(VS, VA, RW, 0), "Page_Map")
}

pub(super) fn remap_in_place(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    map_rw(f, VA)?;
    expect_err(
        f.map(VS, VA + 0x1000, RW, 0),
        BAD_ARG_0,
        "the mapped frame at another address",
    )?;
    // In another VSpace (once the walk there reaches a leaf table).
    let other = table(&env)?;
    expect_ok(ASID_POOL.assign(other), "ASIDPool_Assign")?;
    expect_err(
        f.map(other, VA, RW, 0),
        missing(false, 30),
        "another VSpace without tables",
    )?;
    tables_for(&env, other, VA)?;
    expect_err(
        f.map(other, VA, RW, 0),
        BAD_CAP_1,
        "the mapped frame in another VSpace",
    )?;
    expect_err(
        f.map(other, VA + 0x2000, RW, 0),
        BAD_CAP_1,
        "... at another address",
    )?;
    // In place: a remap.
    expect_ok(
        f.map(VS, VA, CapRights::ALL, 1),
        "remap in place, execute-never",
    )?;
    // SAFETY: mapped read-write.
    check_eq!(unsafe { peek(VA) }, 0, "read after the remap");
    Ok(())
}

pub(super) fn kernel_addresses(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (t, f) = (table(&env)?, frame(&env)?);
    let m = Frame::from_bits(env.create(ObjectType::MegaPage, 0)?);
    let other = table(&env)?;
    expect_ok(ASID_POOL.assign(other), "ASIDPool_Assign")?;
    let kernel = [
        USER_TOP,
        0x40_0000_0000,        // 2^38: root index 256, the kernel half
        0x8000_0000_0000_0000, // non-canonical
        0xFFFF_FFC0_0000_0000, // PPTR_BASE: the physical-memory window
        0xFFFF_FFC0_8020_0000, // the kernel image in the window
        0xFFFF_FFFF_8020_0000, // KERNEL_ELF_BASE
        0xFFFF_FFFF_C000_0000, // KDEV_BASE
        0xFFFF_FFFF_FFFF_F000, // the last page
    ];
    for vs in [VS, other] {
        for va in kernel {
            expect_err(
                t.map(vs, va, 0),
                BAD_ARG_0,
                "PageTable_Map at a kernel address",
            )?;
            expect_err(
                f.map(vs, va, RW, 0),
                BAD_ARG_0,
                "Page_Map at a kernel address",
            )?;
        }
        // A 2 MiB frame whose last byte would be at or above USER_TOP.
        expect_err(
            m.map(vs, 0x3F_FFE0_0000, RW, 0),
            BAD_ARG_0,
            "2 MiB frame across USER_TOP",
        )?;
    }
    Ok(())
}

pub(super) fn page_table_unmap(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (_, l2) = tables_for(&env, VS, VA)?;
    let (f, g) = (frame(&env)?, frame(&env)?);
    map_rw(f, VA)?;
    // Not the final cap.
    let c = env.slot()?;
    expect_ok(copy(c, l2.bits(), CapRights::ALL), "Copy of the leaf table")?;
    expect_err(l2.unmap(), Error::RevokeFirst, "Unmap with a copy around")?;
    expect_err(
        PageTable::from_bits(c).unmap(),
        Error::RevokeFirst,
        "Unmap of the copy",
    )?;
    expect_ok(delete(c), "Delete of the copy")?;
    expect_ok(l2.unmap(), "PageTable_Unmap")?;
    expect_ok(l2.unmap(), "PageTable_Unmap of an unmapped table")?;
    expect_err(
        g.map(VS, VA + 0x1000, RW, 0),
        missing(false, 21),
        "Page_Map after the unmap",
    )?;
    // The table was zeroed: mapped again (elsewhere), it holds no stale
    // entry for f.
    expect_ok(
        l2.map(VS, VA + 0x20_0000, 0),
        "PageTable_Map again, 2 MiB further",
    )?;
    expect_ok(
        g.map(VS, VA + 0x20_0000, RW, 0),
        "Page_Map where f's entry was",
    )?;
    // VSpace roots cannot be unmapped.
    expect_err(VS.unmap(), Error::RevokeFirst, "Unmap of the root VSpace")?;
    let r = table(&env)?;
    expect_ok(ASID_POOL.assign(r), "ASIDPool_Assign")?;
    expect_err(r.unmap(), Error::RevokeFirst, "Unmap of an assigned root")
}

pub(super) fn bad_labels(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (t, f) = (table(&env)?, frame(&env)?);
    let cases: [(Word, &[Word], &str); 4] = [
        (
            t.bits(),
            &[
                label::RISCV_PAGE_MAP,
                label::RISCV_PAGE_UNMAP,
                label::RISCV_PAGE_GET_ADDRESS,
                label::RISCV_ASID_POOL_ASSIGN,
                0,
            ],
            "page table",
        ),
        (
            f.bits(),
            &[
                label::RISCV_PAGE_TABLE_MAP,
                label::RISCV_PAGE_TABLE_UNMAP,
                label::RISCV_ASID_CONTROL_MAKE_POOL,
                label::UNTYPED_RETYPE,
                0,
            ],
            "frame",
        ),
        (
            ASID_CONTROL.bits(),
            &[label::RISCV_ASID_POOL_ASSIGN, label::RISCV_PAGE_MAP, 0],
            "ASID control",
        ),
        (
            ASID_POOL.bits(),
            &[
                label::RISCV_ASID_CONTROL_MAKE_POOL,
                label::RISCV_PAGE_TABLE_UNMAP,
                0,
            ],
            "ASID pool",
        ),
    ];
    for (cap, labels, what) in cases {
        for &l in labels {
            expect_err(
                raw(cap, l, &[VA, RW.0, 0], &[VS.bits(), ROOT.bits()]),
                Error::IllegalOperation,
                what,
            )?;
        }
    }
    Ok(())
}
