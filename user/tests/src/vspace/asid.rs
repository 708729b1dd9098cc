//! ASIDControl_MakePool and ASIDPool_Assign: the pool and ASID they hand
//! out, their errors, running out of pools, a second VSpace sharing a
//! frame, and a VSpace whose pool is gone (ch. 7 Address Spaces and
//! Virtual Memory, *ASID Control*, *ASID Pools*; ABI ref §7.8, §11).

use super::{frame, map_rw, peek, poke, table, tables_for, VA, VS};
use crate::fixture::{
    copy, delete, device_untyped, expect_err, expect_ok, expect_tag, failed_lookup, failure, raw,
    retype, revoke, Env, FULL, ROOT,
};
use crate::framework::{Ctx, TestResult};
use crate::{check_eq, fail};
use sel4::abi::invocation::label;
use sel4::cap::init_caps::{ASID_CONTROL, ASID_POOL};
use sel4::{
    init, tag, AsidPool, CNode, CapRights, Error, Frame, LookupFailure, ObjectType, PageTable,
    Untyped,
};

const RW: CapRights = CapRights::READ_WRITE;
const BAD_CAP_1: Error = Error::InvalidCapability { index: 1 };

/// A new ASID pool (from a new 4 KiB untyped) in a fresh slot.
fn pool(env: &Env<'_>) -> Result<AsidPool, crate::framework::Failure> {
    let ut = env.untyped(12)?;
    let p = env.slot()?;
    expect_ok(
        ASID_CONTROL.make_pool(ut, ROOT, p, FULL),
        "ASIDControl_MakePool",
    )?;
    Ok(AsidPool::from_bits(p))
}

pub(super) fn make_pool_assign(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let p = env.slot()?;
    expect_ok(
        ASID_CONTROL.make_pool(ut, ROOT, p, FULL),
        "ASIDControl_MakePool",
    )?;
    expect_tag(p, tag::ASID_POOL, "the new pool")?;
    // The pool uses the whole untyped, and is its child.
    let e = env.slot()?;
    expect_err(
        retype(ut, ObjectType::Endpoint, 0, e, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype from the pool's untyped",
    )?;
    expect_err(
        ASID_CONTROL.make_pool(ut, ROOT, e, FULL),
        Error::RevokeFirst,
        "a second pool from it",
    )?;
    // Assign makes a table a VSpace root: mapped (so copyable), not
    // assignable again, and a VSpace to map into.
    let pool = AsidPool::from_bits(p);
    let r = table(&env)?;
    let c = env.slot()?;
    expect_err(
        copy(c, r.bits(), CapRights::ALL),
        Error::IllegalOperation,
        "Copy before Assign",
    )?;
    expect_ok(pool.assign(r), "ASIDPool_Assign")?;
    expect_ok(copy(c, r.bits(), CapRights::ALL), "Copy after Assign")?;
    expect_err(pool.assign(r), BAD_CAP_1, "a second Assign")?;
    expect_err(ASID_POOL.assign(r), BAD_CAP_1, "Assign from another pool")?;
    tables_for(&env, r, VA)?;
    let f = frame(&env)?;
    expect_ok(f.map(r, VA, RW, 0), "Page_Map into the new VSpace")?;
    // Copies of the pool cap assign too.
    let pc = env.slot()?;
    expect_ok(copy(pc, p, CapRights::ALL), "Copy of the pool cap")?;
    expect_ok(
        AsidPool::from_bits(pc).assign(table(&env)?),
        "Assign through the copy",
    )
}

pub(super) fn make_pool_errors(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let d = env.slot()?;
    let (a, u) = (ASID_CONTROL.bits(), ut.bits());
    expect_err(
        raw(
            a,
            label::RISCV_ASID_CONTROL_MAKE_POOL,
            &[d],
            &[u, ROOT.bits()],
        ),
        Error::TruncatedMessage,
        "one message register",
    )?;
    expect_err(
        raw(a, label::RISCV_ASID_CONTROL_MAKE_POOL, &[d, 64], &[u]),
        Error::TruncatedMessage,
        "one extra cap",
    )?;
    let big = env.untyped(13)?;
    let f = frame(&env)?;
    let empty = env.slot()?;
    for (bad, what) in [
        (big, "an 8 KiB untyped"),
        (Untyped::from_bits(f.bits()), "a frame"),
        (Untyped::from_bits(empty), "an empty slot"),
        (Untyped::from_bits(init::CNODE), "a CNode"),
    ] {
        expect_err(ASID_CONTROL.make_pool(bad, ROOT, d, FULL), BAD_CAP_1, what)?;
    }
    // Device memory cannot hold a pool.
    let Some(dev) = device_untyped(ctx, 12) else {
        fail!("no device untyped");
    };
    let ds = env.slot()?;
    expect_ok(
        retype(dev.cap, ObjectType::Untyped, 12, ds, 1),
        "a 4 KiB device untyped",
    )?;
    let r = ASID_CONTROL.make_pool(Untyped::from_bits(ds), ROOT, d, FULL);
    let _ = revoke(dev.cap.bits());
    expect_err(r, BAD_CAP_1, "a device untyped")?;
    // An untyped with children, before the destination is looked at.
    let parent = env.untyped(12)?;
    expect_ok(
        retype(parent, ObjectType::Endpoint, 0, env.slot()?, 1),
        "Retype of an endpoint",
    )?;
    expect_err(
        ASID_CONTROL.make_pool(parent, ROOT, 0, 0),
        Error::RevokeFirst,
        "an untyped with children",
    )?;
    // The destination.
    expect_err(
        ASID_CONTROL.make_pool(ut, ROOT, d, 0),
        Error::RangeError { min: 1, max: 64 },
        "depth 0",
    )?;
    expect_err(
        ASID_CONTROL.make_pool(ut, CNode::from_bits(f.bits()), d, FULL),
        failed_lookup(false, LookupFailure::InvalidRoot),
        "a frame as the destination root",
    )?;
    expect_err(
        ASID_CONTROL.make_pool(ut, ROOT, init::TCB, FULL),
        Error::DeleteFirst,
        "an occupied destination",
    )?;
    expect_tag(d, tag::NULL, "the destination after the failures")?;
    expect_ok(
        ASID_CONTROL.make_pool(ut, ROOT, d, FULL),
        "MakePool after the failures",
    )
}

pub(super) fn assign_errors(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    expect_err(
        raw(ASID_POOL.bits(), label::RISCV_ASID_POOL_ASSIGN, &[], &[]),
        Error::TruncatedMessage,
        "no extra cap",
    )?;
    let (l1, _) = tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    let empty = env.slot()?;
    for (bad, what) in [
        (VS, "the root VSpace (assigned)"),
        (l1, "a mapped table"),
        (PageTable::from_bits(f.bits()), "a frame"),
        (PageTable::from_bits(init::CNODE), "a CNode"),
        (PageTable::from_bits(empty), "an empty slot"),
    ] {
        expect_err(ASID_POOL.assign(bad), BAD_CAP_1, what)?;
    }
    Ok(())
}

pub(super) fn pools_run_out(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut made = 0;
    let mut first = None;
    loop {
        let ut = env.untyped(12)?;
        let d = env.slot()?;
        match ASID_CONTROL.make_pool(ut, ROOT, d, FULL) {
            Ok(()) => {
                made += 1;
                first.get_or_insert(d);
            }
            Err(Error::DeleteFirst) => break,
            Err(e) => fail!("MakePool number {}: {e}", made + 1),
        }
        if made > 127 {
            fail!("more than 127 pools made");
        }
    }
    // Pool 0 is the root task's; 1..=127 are free at the start.
    check_eq!(made, 127, "pools made before DeleteFirst");
    // With no pool free, the other checks do not happen.
    expect_err(
        ASID_CONTROL.make_pool(Untyped::from_bits(init::CNODE), ROOT, 0, 0),
        Error::DeleteFirst,
        "MakePool with bad arguments and no pool free",
    )?;
    // Deleting one frees its number.
    let Some(first) = first else {
        return Err(failure!("no pool made"));
    };
    expect_ok(delete(first), "Delete of a pool cap")?;
    pool(&env).map(drop)
}

pub(super) fn second_vspace(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let r = table(&env)?;
    expect_ok(ASID_POOL.assign(r), "ASIDPool_Assign")?;
    tables_for(&env, r, VA)?;
    tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    let c = env.slot()?;
    expect_ok(copy(c, f.bits(), CapRights::ALL), "Copy of the frame cap")?;
    let c = Frame::from_bits(c);
    map_rw(f, VA)?;
    expect_err(
        f.map(r, VA, RW, 0),
        BAD_CAP_1,
        "the same cap into the second VSpace",
    )?;
    expect_ok(
        c.map(r, VA + 0x5000, RW, 0),
        "the copy into the second VSpace",
    )?;
    // SAFETY: `f` is mapped read-write at VA in this VSpace.
    unsafe { poke(VA, 0x005E_C05D) };
    // SAFETY: as above.
    check_eq!(unsafe { peek(VA) }, 0x005E_C05D, "read back");
    check_eq!(
        expect_ok(c.get_address(), "GetAddress of the copy")?,
        expect_ok(f.get_address(), "GetAddress")?,
        "the two mappings' frame"
    );
    // The second VSpace's entries are its own: VA + 0x5000 is still free
    // here.
    let g = frame(&env)?;
    map_rw(g, VA + 0x5000)?;
    // SAFETY: `g` is mapped read-write there.
    let got = unsafe { peek(VA + 0x5000) };
    check_eq!(got, 0, "the root VSpace's page at VA + 0x5000");
    Ok(())
}

pub(super) fn deleted_pool(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let p = pool(&env)?;
    let r = table(&env)?;
    expect_ok(p.assign(r), "ASIDPool_Assign")?;
    let (l1, f) = (table(&env)?, frame(&env)?);
    expect_ok(delete(p.bits()), "Delete of the pool")?;
    let gone = failed_lookup(false, LookupFailure::InvalidRoot);
    expect_err(
        l1.map(r, VA, 0),
        gone,
        "PageTable_Map into a VSpace whose pool is gone",
    )?;
    expect_err(f.map(r, VA, RW, 0), gone, "Page_Map into it")?;
    // A new pool takes the number and its first ASID goes to another
    // table: r's ASID now names another root.
    let p2 = pool(&env)?;
    let r2 = table(&env)?;
    expect_ok(p2.assign(r2), "Assign in the new pool")?;
    expect_err(
        l1.map(r, VA, 0),
        BAD_CAP_1,
        "PageTable_Map into the stale VSpace",
    )?;
    expect_err(
        f.map(r, VA, RW, 0),
        BAD_CAP_1,
        "Page_Map into the stale VSpace",
    )?;
    // A stale root is an ordinary table to Unmap, and can be assigned again.
    expect_ok(r.unmap(), "PageTable_Unmap of the stale root")?;
    expect_ok(p2.assign(r), "Assign of the old root")?;
    expect_ok(l1.map(r, VA, 0), "PageTable_Map into it")
}
