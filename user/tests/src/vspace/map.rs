//! Mapping at each level and using the mappings: write and read through
//! them, two mappings of one frame, remapping with fewer rights, unmapping
//! and mapping elsewhere, 2 MiB and 1 GiB frames, running code from a
//! mapped frame, Page_GetAddress (ch. 7 Address Spaces and Virtual Memory;
//! ABI ref §7.8, §11).

use super::{frame, map_rw, peek, poke, table, tables_for, CODE, VA, VS};
use crate::fixture::{
    copy, device_untyped, expect_err, expect_ok, failure, missing, retype, revoke, Env,
};
use crate::framework::{Ctx, TestResult};
use crate::{check, check_eq};
use sel4::{CapRights, Error, Frame, ObjectType, Word};

pub(super) fn table_levels(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (l1, l2, l3) = (table(&env)?, table(&env)?, table(&env)?);
    let f = frame(&env)?;
    expect_err(
        f.map(VS, VA, CapRights::READ_WRITE, 0),
        missing(false, 30),
        "Page_Map with no table for the GiB",
    )?;
    expect_ok(
        l1.map(VS, VA + 0x12_3456, 0),
        "PageTable_Map of a level-1 table",
    )?;
    expect_err(
        f.map(VS, VA, CapRights::READ_WRITE, 0),
        missing(false, 21),
        "Page_Map with only the level-1 table",
    )?;
    expect_ok(
        l2.map(VS, VA + 0x12_3456, 0),
        "PageTable_Map of a leaf table",
    )?;
    expect_err(
        l3.map(VS, VA, 0),
        Error::DeleteFirst,
        "a third table: all levels present",
    )?;
    expect_ok(
        f.map(VS, VA, CapRights::READ_WRITE, 0),
        "Page_Map with both tables",
    )?;
    // Mapped tables can be copied; an unmapped one cannot.
    let (c1, c3) = (env.slot()?, env.slot()?);
    expect_ok(
        copy(c1, l1.bits(), CapRights::ALL),
        "Copy of a mapped table",
    )?;
    expect_err(
        copy(c3, l3.bits(), CapRights::ALL),
        Error::IllegalOperation,
        "Copy of an unmapped table",
    )
}

pub(super) fn write_read(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    map_rw(f, VA)?;
    for i in 0..512 {
        // SAFETY: `f` is mapped read-write at VA (4 KiB).
        let v = unsafe { peek(VA + 8 * i) };
        check!(v == 0, "word {i} of a new frame reads {v:#x}");
    }
    let pattern = |i: Word| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555;
    for i in 0..512 {
        // SAFETY: as above.
        unsafe { poke(VA + 8 * i, pattern(i)) };
    }
    for i in 0..512 {
        // SAFETY: as above.
        let v = unsafe { peek(VA + 8 * i) };
        check_eq!(v, pattern(i), "word read back");
    }
    Ok(())
}

pub(super) fn get_address(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (f, g) = (frame(&env)?, frame(&env)?);
    let a = expect_ok(f.get_address(), "GetAddress of an unmapped frame")?;
    let b = expect_ok(g.get_address(), "GetAddress of another frame")?;
    check!(
        a % 4096 == 0 && b % 4096 == 0,
        "addresses {a:#x}, {b:#x} not page aligned"
    );
    check!(a != b, "two frames at one address {a:#x}");
    // The frames come from the pool, which is RAM from the biggest RAM
    // untyped.
    let Some(big) = ctx
        .bi
        .untypeds()
        .filter(|u| !u.is_device)
        .max_by_key(|u| u.size_bits)
    else {
        return Err(failure!("no RAM untyped"));
    };
    let end = big.paddr + big.size().unwrap_or(0);
    check!(
        (big.paddr..end).contains(&a),
        "frame at {a:#x} outside {:#x}..{end:#x}",
        big.paddr
    );
    tables_for(&env, VS, VA)?;
    map_rw(f, VA)?;
    check_eq!(
        expect_ok(f.get_address(), "GetAddress when mapped")?,
        a,
        "address once mapped"
    );
    let ipc = expect_ok(
        sel4::cap::init_caps::IPC_BUFFER.get_address(),
        "GetAddress of the IPC buffer",
    )?;
    check!(ipc % 4096 == 0 && ipc != 0, "IPC buffer at {ipc:#x}");
    Ok(())
}

pub(super) fn copies_alias(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    let c = env.slot()?;
    expect_ok(copy(c, f.bits(), CapRights::ALL), "Copy of the frame cap")?;
    let c = Frame::from_bits(c);
    map_rw(f, VA)?;
    map_rw(c, VA + 0x1000)?;
    // SAFETY: both are mapped read-write.
    unsafe { poke(VA + 0x18, 0xA11A5) };
    // SAFETY: as above.
    let got = unsafe { peek(VA + 0x1018) };
    check_eq!(got, 0xA11A5, "word read through the copy's mapping");
    // SAFETY: as above.
    unsafe { poke(VA + 0x1FF8, 7) };
    // SAFETY: as above.
    let got = unsafe { peek(VA + 0xFF8) };
    check_eq!(got, 7, "word read through the original's mapping");
    check_eq!(
        expect_ok(c.get_address(), "GetAddress of the copy")?,
        expect_ok(f.get_address(), "GetAddress of the original")?,
        "the copy's address"
    );
    Ok(())
}

pub(super) fn remap_read_only(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    map_rw(f, VA)?;
    // SAFETY: mapped read-write.
    unsafe { poke(VA + 0x100, 0xC0FFEE) };
    expect_ok(
        f.map(VS, VA, CapRights::CAN_READ, 0),
        "remap read-only in place",
    )?;
    // SAFETY: still mapped, readable.
    let got = unsafe { peek(VA + 0x100) };
    check_eq!(got, 0xC0FFEE, "read after the downgrade");
    // Rights come back with a new remap (the cap still has them).
    map_rw(f, VA)?;
    // SAFETY: mapped read-write again.
    unsafe { poke(VA + 0x100, 0xBEEF) };
    // SAFETY: as above.
    let got = unsafe { peek(VA + 0x100) };
    check_eq!(got, 0xBEEF, "read after the upgrade");
    // A read-only copy of the cap never maps writable, whatever is asked.
    let ro = env.slot()?;
    expect_ok(copy(ro, f.bits(), CapRights::CAN_READ), "read-only copy")?;
    expect_ok(
        Frame::from_bits(ro).map(VS, VA + 0x1000, CapRights::ALL, 0),
        "map of the read-only copy",
    )?;
    // SAFETY: mapped readable.
    let got = unsafe { peek(VA + 0x1100) };
    check_eq!(got, 0xBEEF, "read through the read-only copy");
    Ok(())
}

pub(super) fn unmap_remap_elsewhere(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let (f, g) = (frame(&env)?, frame(&env)?);
    map_rw(f, VA)?;
    // SAFETY: mapped read-write.
    unsafe { poke(VA + 0x40, 0x1234_5678) };
    expect_ok(f.unmap(), "Page_Unmap")?;
    expect_ok(f.unmap(), "Page_Unmap of an unmapped frame")?;
    map_rw(f, VA + 0x3000)?;
    // SAFETY: mapped read-write at the new address.
    let got = unsafe { peek(VA + 0x3040) };
    check_eq!(got, 0x1234_5678, "contents at the new address");
    // The old address is free for another frame.
    map_rw(g, VA)?;
    // SAFETY: `g` is mapped read-write there.
    let got = unsafe { peek(VA + 0x40) };
    check_eq!(got, 0, "a new frame at the old address");
    Ok(())
}

pub(super) fn large_page(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let l1 = table(&env)?;
    expect_ok(l1.map(VS, VA, 0), "PageTable_Map of a level-1 table")?;
    let m = Frame::from_bits(env.create(ObjectType::MegaPage, 0)?);
    let at = VA + 0x20_0000;
    expect_err(
        m.map(VS, at + 0x1000, CapRights::READ_WRITE, 0),
        Error::AlignmentError,
        "a 2 MiB frame at a 4 KiB boundary",
    )?;
    map_rw(m, at)?;
    for off in [0, 0x1000, 0x10_0000, 0x1F_FFF8] {
        // SAFETY: the 2 MiB frame is mapped read-write at `at`.
        unsafe { poke(at + off, off ^ 0xABC) };
    }
    for off in [0, 0x1000, 0x10_0000, 0x1F_FFF8] {
        // SAFETY: as above.
        let got = unsafe { peek(at + off) };
        check_eq!(got, off ^ 0xABC, "word of the 2 MiB frame");
    }
    // Where a leaf table is, a 2 MiB frame cannot go: 12 bits left.
    let l2 = table(&env)?;
    expect_ok(l2.map(VS, VA, 0), "PageTable_Map of a leaf table")?;
    let m2 = Frame::from_bits(env.create(ObjectType::MegaPage, 0)?);
    expect_err(
        m2.map(VS, VA, CapRights::READ_WRITE, 0),
        missing(false, 12),
        "a 2 MiB frame over a leaf table",
    )
}

pub(super) fn huge_page(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    // A 1 GiB RAM frame would not fit the pool; device memory is never
    // zeroed, so a device untyped makes one cheaply. It is mapped, not
    // touched.
    let Some(dev) = device_untyped(ctx, 30) else {
        return Err(failure!("no device untyped of 1 GiB or more"));
    };
    let slot = env.slot()?;
    expect_ok(
        retype(dev.cap, ObjectType::GigaPage, 0, slot, 1),
        "Retype of a 1 GiB device frame",
    )?;
    let g = Frame::from_bits(slot);
    let r = (|| {
        let l1 = table(&env)?;
        expect_ok(l1.map(VS, VA, 0), "PageTable_Map of a level-1 table")?;
        expect_err(
            g.map(VS, VA, CapRights::READ_WRITE, 1),
            missing(false, 21),
            "1 GiB frame over a level-1 table",
        )?;
        expect_err(
            g.map(VS, 0x8020_0000, CapRights::READ_WRITE, 1),
            Error::AlignmentError,
            "1 GiB frame at a 2 MiB boundary",
        )?;
        expect_ok(
            g.map(VS, 0x8000_0000, CapRights::READ_WRITE, 1),
            "Page_Map of the 1 GiB frame",
        )?;
        let pa = expect_ok(g.get_address(), "GetAddress")?;
        check!(pa % (1 << 30) == 0, "1 GiB frame at {pa:#x}");
        check!(
            pa >= dev.paddr,
            "frame {pa:#x} below its untyped {:#x}",
            dev.paddr
        );
        expect_ok(g.unmap(), "Page_Unmap of the 1 GiB frame")
    })();
    let _ = revoke(dev.cap.bits());
    r
}

pub(super) fn executable(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    expect_ok(
        f.map(VS, VA, CapRights::READ_WRITE, 0),
        "Page_Map read-write-execute",
    )?;
    for (i, w) in CODE.iter().enumerate() {
        // SAFETY: mapped read-write; nothing else lives there.
        unsafe { ((VA + 4 * i as Word) as *mut u32).write_volatile(*w) };
    }
    // Read-only and executable: the code still runs.
    expect_ok(f.map(VS, VA, CapRights::CAN_READ, 0), "remap read-execute")?;
    #[cfg(target_arch = "riscv64")]
    {
        // SAFETY: `fence.i` only orders instruction fetches after the
        // stores above.
        unsafe { core::arch::asm!("fence.i") };
        // SAFETY: VA holds a complete function (the two instructions
        // above) following the C calling convention, mapped executable.
        let code: extern "C" fn() -> u64 = unsafe { core::mem::transmute(VA as usize) };
        check_eq!(code(), 42, "result of the code in the mapped frame");
    }
    Ok(())
}
