//! The untyped watermark: NotEnoughMemory with the free bytes, alignment
//! of each object to its size, RevokeFirst for an untyped with children,
//! and the reset that follows a Revoke or the deletion of the last child
//! (ch. 2 Objects, *Untyped Memory*, *Reusing Memory*; ABI ref §7.2).

use crate::fixture::{
    expect_err, expect_nested_tag, expect_ok, expect_tag, retype, retype_into, revoke, Env,
};
use crate::framework::{Ctx, TestResult};
use sel4::{tag, CapRights, Error, ObjectType, Untyped, Word};

/// Fails unless `ut` is full: one more endpoint, into root slot `slot`,
/// is NotEnoughMemory with 0 bytes available.
fn expect_full(ut: Untyped, slot: Word, what: &str) -> TestResult {
    expect_err(
        retype(ut, ObjectType::Endpoint, 0, slot, 1),
        Error::NotEnoughMemory { available: 0 },
        what,
    )
}

pub(super) fn not_enough_memory(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = env.slots(2)?;
    let ut = env.untyped(12)?;
    expect_ok(
        retype(ut, ObjectType::SmallPage, 0, s, 1),
        "Retype of a frame",
    )?;
    expect_full(ut, s + 1, "Retype from a full 4 KiB untyped")?;
    let s = env.slots(4)?;
    let ut = env.untyped(12)?;
    expect_ok(
        retype(ut, ObjectType::Endpoint, 0, s, 1),
        "Retype of an endpoint",
    )?;
    expect_err(
        retype(ut, ObjectType::SmallPage, 0, s + 1, 1),
        Error::NotEnoughMemory {
            available: 4096 - 16,
        },
        "Retype of 4 KiB after 16 bytes",
    )?;
    let ut = env.untyped(12)?;
    expect_err(
        retype(ut, ObjectType::Untyped, 13, s + 1, 1),
        Error::NotEnoughMemory { available: 4096 },
        "Retype of 8 KiB from 4 KiB",
    )?;
    expect_err(
        retype(ut, ObjectType::Tcb, 0, s + 1, 3),
        Error::NotEnoughMemory { available: 4096 },
        "Retype of 3 TCBs from 4 KiB",
    )?;
    expect_tag(s + 1, tag::NULL, "destination")
}

pub(super) fn exhaust_256_endpoints(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let cn = env.cnode(8)?;
    expect_ok(
        retype_into(ut, ObjectType::Endpoint, cn, 0, 256),
        "Retype of 256 endpoints from 4 KiB",
    )?;
    let s = env.slot()?;
    expect_full(ut, s, "Retype of a 257th endpoint")?;
    expect_nested_tag(&env, cn, 255, 8, tag::ENDPOINT, "nested slot 255")
}

pub(super) fn aligned_placement(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    // Endpoint at 0, TCB rounded up to 2048: the untyped is then full.
    let s = env.slots(3)?;
    let ut = env.untyped(12)?;
    expect_ok(
        retype(ut, ObjectType::Endpoint, 0, s, 1),
        "Retype of an endpoint",
    )?;
    expect_ok(
        retype(ut, ObjectType::Tcb, 0, s + 1, 1),
        "Retype of a 2 KiB TCB",
    )?;
    expect_full(ut, s + 2, "Retype after an aligned TCB")?;
    // Endpoint at 0, notification at its size (32 bytes; MCS: 64): 4032
    // bytes = 252 endpoints left (MCS: 3968 bytes = 248).
    let ntfn = 1 << sel4::abi::object::NOTIFICATION_BITS;
    let left: Word = 4096 - 2 * ntfn;
    let fit = left / 16;
    let s = env.slots(2)?;
    let ut = env.untyped(12)?;
    let cn = env.cnode(8)?;
    expect_ok(
        retype(ut, ObjectType::Endpoint, 0, s, 1),
        "Retype of an endpoint",
    )?;
    expect_ok(
        retype(ut, ObjectType::Notification, 0, s + 1, 1),
        "Retype of a notification",
    )?;
    expect_err(
        retype_into(ut, ObjectType::Endpoint, cn, 0, fit + 1),
        Error::NotEnoughMemory { available: left },
        "Retype of one endpoint too many into what is left",
    )?;
    expect_ok(
        retype_into(ut, ObjectType::Endpoint, cn, 0, fit),
        "Retype of the endpoints that fit",
    )?;
    expect_err(
        retype_into(ut, ObjectType::Endpoint, cn, fit, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype from the full untyped",
    )
}

pub(super) fn copy_with_children(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let s = env.slots(3)?;
    expect_ok(
        retype(ut, ObjectType::Endpoint, 0, s, 1),
        "Retype of an endpoint",
    )?;
    expect_err(
        crate::fixture::copy(s + 1, ut.bits(), CapRights::ALL),
        Error::RevokeFirst,
        "Copy of an untyped with children",
    )?;
    expect_err(
        crate::fixture::mint(s + 1, ut.bits(), CapRights::ALL, 0),
        Error::RevokeFirst,
        "Mint of an untyped with children",
    )?;
    expect_tag(s + 1, tag::NULL, "destination")?;
    expect_ok(revoke(ut.bits()), "Revoke of the untyped")?;
    expect_tag(s, tag::NULL, "the endpoint after Revoke")?;
    expect_ok(
        crate::fixture::copy(s + 1, ut.bits(), CapRights::ALL),
        "Copy of the untyped without children",
    )?;
    expect_tag(s + 1, tag::UNTYPED, "the copy")
}

pub(super) fn revoke_resets(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let cn = env.cnode(8)?;
    let s = env.slots(2)?;
    expect_ok(
        retype_into(ut, ObjectType::Endpoint, cn, 0, 255),
        "Retype of 255 endpoints",
    )?;
    expect_ok(
        retype(ut, ObjectType::Endpoint, 0, s, 1),
        "Retype of the 256th",
    )?;
    expect_full(ut, s + 1, "Retype from the full untyped")?;
    expect_ok(revoke(ut.bits()), "Revoke of the untyped")?;
    expect_tag(s, tag::NULL, "a child after Revoke")?;
    expect_nested_tag(&env, cn, 0, 8, tag::NULL, "nested child 0 after Revoke")?;
    expect_tag(ut.bits(), tag::UNTYPED, "the untyped after Revoke")?;
    expect_ok(
        retype_into(ut, ObjectType::Endpoint, cn, 0, 256),
        "Retype of 256 endpoints after Revoke",
    )
}

pub(super) fn delete_last_child_resets(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let s = env.slots(2)?;
    expect_ok(
        retype(ut, ObjectType::SmallPage, 0, s, 1),
        "Retype of a frame",
    )?;
    expect_full(ut, s + 1, "Retype from the full untyped")?;
    expect_ok(crate::fixture::delete(s), "Delete of the only child")?;
    expect_ok(
        retype(ut, ObjectType::SmallPage, 0, s + 1, 1),
        "Retype of a frame once the untyped has no children",
    )
}

pub(super) fn child_untyped(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let parent = env.untyped(13)?;
    let kids = env.slots(2)?;
    expect_ok(
        retype(parent, ObjectType::Untyped, 12, kids, 2),
        "Retype of two 4 KiB untypeds",
    )?;
    let s = env.slots(3)?;
    expect_full(parent, s, "Retype from the split parent")?;
    let kid = Untyped::from_bits(kids + 1);
    expect_ok(
        retype(kid, ObjectType::Tcb, 0, s, 2),
        "Retype of two TCBs from a child",
    )?;
    expect_tag(s, tag::THREAD, "first TCB")?;
    expect_tag(s + 1, tag::THREAD, "second TCB")?;
    expect_full(kid, s + 2, "Retype from the full child")
}
