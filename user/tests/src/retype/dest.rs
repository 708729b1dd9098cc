//! Where Retype puts the new caps: a window of consecutive slots in the
//! root or a nested CNode (named by index and depth, or depth 0 for the
//! root excap itself), and the errors of a bad offset, count, window,
//! occupied slot or destination lookup (ABI ref §7.2, §8).

use crate::fixture::{
    expect_err, expect_nested_tag, expect_ok, expect_tag, failed_lookup, missing, range, retype,
    retype_into, Env, ROOT,
};
use crate::framework::{Ctx, TestResult};
use sel4::{tag, CNode, CapRights, Error, LookupFailure, ObjectType, Word};

pub(super) fn several_objects(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let d = env.slots(6)?;
    expect_ok(
        retype(ut, ObjectType::Endpoint, 0, d + 1, 4),
        "Retype of 4 endpoints",
    )?;
    expect_tag(d, tag::NULL, "slot before the window")?;
    for s in d + 1..d + 5 {
        expect_tag(s, tag::ENDPOINT, "slot in the window")?;
    }
    expect_tag(d + 5, tag::NULL, "slot after the window")
}

pub(super) fn nested_cnode(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let cn = env.cnode(2)?;
    expect_ok(
        retype_into(env.pool(), ObjectType::Endpoint, cn, 1, 2),
        "Retype into slots 1..3 of a radix-2 CNode at depth 64",
    )?;
    for (i, want) in [tag::NULL, tag::ENDPOINT, tag::ENDPOINT, tag::NULL]
        .into_iter()
        .enumerate()
    {
        expect_nested_tag(&env, cn, i as Word, 2, want, "nested slot")?;
    }
    Ok(())
}

pub(super) fn depth_zero(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let cn = env.cnode(2)?;
    // Depth 0: the excap itself is the destination and the index is ignored.
    expect_ok(
        env.pool().retype(
            ObjectType::Notification,
            0,
            CNode::from_bits(cn),
            0xdead_beef,
            0,
            3,
            1,
        ),
        "Retype with node_depth 0",
    )?;
    expect_nested_tag(&env, cn, 3, 2, tag::NOTIFICATION, "nested slot 3")
}

pub(super) fn offset_beyond_radix(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slots = 1u64 << env.radix;
    for offset in [slots, slots + 1, Word::MAX] {
        expect_err(
            retype(env.pool(), ObjectType::Endpoint, 0, offset, 1),
            range(0, slots - 1),
            "Retype into the root at an offset past its last slot",
        )?;
    }
    let cn = env.cnode(2)?;
    expect_err(
        retype_into(env.pool(), ObjectType::Endpoint, cn, 4, 1),
        range(0, 3),
        "Retype into a radix-2 CNode at offset 4",
    )
}

pub(super) fn num_objects_range(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    for n in [0, 257, Word::MAX] {
        expect_err(
            retype(env.pool(), ObjectType::Endpoint, 0, slot, n),
            range(1, 256),
            "Retype of 0 or more than 256 objects",
        )?;
    }
    expect_tag(slot, tag::NULL, "destination")
}

pub(super) fn window_overrun(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slots = 1u64 << env.radix;
    expect_err(
        retype(env.pool(), ObjectType::Endpoint, 0, slots - 2, 3),
        range(1, 2),
        "Retype of 3 objects into the root's last 2 slots",
    )?;
    let cn = env.cnode(2)?;
    expect_err(
        retype_into(env.pool(), ObjectType::Endpoint, cn, 1, 4),
        range(1, 3),
        "Retype of 4 objects at offset 1 of a radix-2 CNode",
    )?;
    expect_err(
        retype_into(env.pool(), ObjectType::Endpoint, cn, 3, 2),
        range(1, 1),
        "Retype of 2 objects at offset 3 of a radix-2 CNode",
    )?;
    expect_ok(
        retype_into(env.pool(), ObjectType::Endpoint, cn, 1, 3),
        "Retype of 3 objects at offset 1 of a radix-2 CNode",
    )
}

pub(super) fn occupied_destination(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let d = env.slots(3)?;
    expect_ok(
        crate::fixture::copy(d + 1, sel4::init::TCB, CapRights::ALL),
        "Copy of the TCB cap",
    )?;
    expect_err(
        retype(ut, ObjectType::Endpoint, 0, d, 3),
        Error::DeleteFirst,
        "Retype over an occupied slot",
    )?;
    expect_tag(d, tag::NULL, "first slot of the window (nothing created)")?;
    expect_tag(d + 1, tag::THREAD, "occupied slot")?;
    expect_tag(d + 2, tag::NULL, "last slot of the window")?;
    // Nothing was taken from the untyped: a whole 4 KiB frame still fits.
    let f = env.slot()?;
    expect_ok(
        retype(ut, ObjectType::SmallPage, 0, f, 1),
        "Retype of 4 KiB afterwards",
    )
}

pub(super) fn dest_not_cnode(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let empty = env.slot()?;
    let pool = env.pool();
    expect_err(
        pool.retype(ObjectType::Endpoint, 0, ROOT, ep, 64, 0, 1),
        missing(false, 64),
        "Retype into an endpoint at depth 64",
    )?;
    expect_err(
        pool.retype(ObjectType::Endpoint, 0, ROOT, empty, 64, 0, 1),
        missing(false, 64),
        "Retype into an empty slot at depth 64",
    )?;
    expect_err(
        pool.retype(ObjectType::Endpoint, 0, CNode::from_bits(ep), 0, 0, 0, 1),
        missing(false, 0),
        "Retype with depth 0 and an endpoint as root",
    )?;
    expect_err(
        pool.retype(ObjectType::Endpoint, 0, CNode::from_bits(ep), ep, 64, 0, 1),
        failed_lookup(false, LookupFailure::InvalidRoot),
        "Retype with an endpoint as root at depth 64",
    )
}

pub(super) fn dest_depth_range(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let cn = env.cnode(2)?;
    for depth in [65, 0x140, Word::MAX] {
        expect_err(
            env.pool()
                .retype(ObjectType::Endpoint, 0, ROOT, cn, depth, 0, 1),
            range(1, 64),
            "Retype with node_depth > 64",
        )?;
    }
    Ok(())
}

pub(super) fn dest_depth_guard_mismatch(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let cn = env.cnode(2)?;
    expect_err(
        env.pool()
            .retype(ObjectType::Endpoint, 0, ROOT, cn, 13, 0, 1),
        failed_lookup(false, env.short_depth_failure(13)),
        "Retype with node_depth 13",
    )
}
