//! Deleting the capability of a mapped frame or table unmaps it; revoking
//! the untyped they came from unmaps everything (ch. 7 Address Spaces and
//! Virtual Memory; ABI ref §11 "Deleting the final cap ...").

use super::{map_rw, peek, poke, table, tables_for, VA, VS};
use crate::check_eq;
use crate::fixture::{copy, delete, expect_err, expect_ok, expect_tag, missing, revoke, Env};
use crate::framework::{Ctx, TestResult};
use sel4::cap::init_caps::ASID_POOL;
use sel4::{tag, CapRights, Frame};

const RW: CapRights = CapRights::READ_WRITE;

pub(super) fn frame(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let (f, g, h) = (
        super::frame(&env)?,
        super::frame(&env)?,
        super::frame(&env)?,
    );
    map_rw(f, VA)?;
    expect_ok(delete(f.bits()), "Delete of the mapped frame cap")?;
    map_rw(g, VA)?;
    // SAFETY: `g` is mapped read-write at VA.
    unsafe { poke(VA, 0x600D) };
    // A copy's mapping goes with the copy (not the last cap).
    let c = env.slot()?;
    expect_ok(copy(c, g.bits(), CapRights::ALL), "Copy of the frame cap")?;
    map_rw(Frame::from_bits(c), VA + 0x1000)?;
    expect_ok(delete(c), "Delete of the copy")?;
    map_rw(h, VA + 0x1000)?;
    // SAFETY: `g` is still mapped at VA.
    check_eq!(unsafe { peek(VA) }, 0x600D, "the original's mapping");
    Ok(())
}

pub(super) fn page_table(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (l1, l2) = tables_for(&env, VS, VA)?;
    let (f, g) = (super::frame(&env)?, super::frame(&env)?);
    map_rw(f, VA)?;
    expect_ok(delete(l2.bits()), "Delete of the leaf table")?;
    expect_err(
        g.map(VS, VA + 0x1000, RW, 0),
        missing(false, 21),
        "Page_Map without the leaf table",
    )?;
    expect_ok(delete(l1.bits()), "Delete of the level-1 table")?;
    expect_err(
        g.map(VS, VA, RW, 0),
        missing(false, 30),
        "Page_Map without the level-1 table",
    )?;
    // f's mapping went with its table: unmapping it is harmless.
    expect_ok(f.unmap(), "Page_Unmap of the frame whose table is gone")?;
    // Deleting an assigned root frees its ASID; the table is gone.
    let r = table(&env)?;
    expect_ok(ASID_POOL.assign(r), "ASIDPool_Assign")?;
    expect_ok(delete(r.bits()), "Delete of the root")?;
    expect_tag(r.bits(), tag::NULL, "the root's slot")
}

pub(super) fn revoke_all(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let f = super::frame(&env)?;
    map_rw(f, VA)?;
    let r = table(&env)?;
    expect_ok(ASID_POOL.assign(r), "ASIDPool_Assign")?;
    tables_for(&env, r, VA)?;
    expect_ok(revoke(env.pool().bits()), "Revoke of the pool untyped")?;
    expect_tag(f.bits(), tag::NULL, "the frame's slot")?;
    let g = super::frame(&env)?;
    expect_err(
        g.map(VS, VA, RW, 0),
        missing(false, 30),
        "Page_Map after the revoke",
    )
}
