//! Delete, Revoke and SaveCaller (classic only) on caps whose objects have other caps
//! left: what goes, what stays, and that Move keeps a cap's place in the
//! derivation tree (ch. 3 Capability Spaces, *Deletion and Revocation*,
//! *Capability Derivation Tree*). The deletion of a last cap to a CNode is
//! in [`super::zombie`].

use crate::fixture::{
    copy, delete, expect_ok, expect_tag, expect_tags, mint, move_, revoke, Env, FULL, ROOT,
};
#[cfg(not(sel4_mcs))]
use crate::fixture::{expect_err, failed_lookup};
use crate::framework::{Ctx, TestResult};
#[cfg(not(sel4_mcs))]
use sel4::Error;
use sel4::{init, tag, CapRights};

pub(super) fn delete_empties(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let t = env.tcb_copy()?;
    let c = env.slot()?;
    expect_ok(copy(c, ep, CapRights::ALL), "Copy of the endpoint")?;
    for s in [ep, t, c] {
        expect_ok(delete(s), "Delete")?;
        expect_tag(s, tag::NULL, "deleted slot")?;
    }
    expect_tag(init::TCB, tag::THREAD, "the root TCB cap")
}

pub(super) fn delete_empty(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = env.slot()?;
    expect_ok(delete(s), "Delete of an empty slot")?;
    expect_ok(delete(s), "Delete of it again")?;
    expect_tag(s, tag::NULL, "the slot")
}

pub(super) fn delete_original_keeps_copy(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let c = env.slot()?;
    expect_ok(copy(c, ep, CapRights::ALL), "Copy of the endpoint")?;
    expect_ok(delete(ep), "Delete of the original")?;
    expect_tags(&[(ep, tag::NULL), (c, tag::ENDPOINT)], "after Delete")?;
    // The object is alive: the copy still works.
    expect_ok(
        ROOT.cancel_badged_sends(c, FULL),
        "CancelBadgedSends on the copy",
    )
}

pub(super) fn revoke_derived(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let other = env.endpoint()?;
    let d = env.slots(5)?;
    expect_ok(copy(d, ep, CapRights::ALL), "Copy")?;
    expect_ok(copy(d + 1, d, CapRights::READ_WRITE), "Copy of the copy")?;
    expect_ok(mint(d + 2, ep, CapRights::ALL, 3), "Mint")?;
    expect_ok(copy(d + 3, d + 2, CapRights::ALL), "Copy of the minted cap")?;
    expect_ok(
        copy(d + 4, other, CapRights::ALL),
        "Copy of another endpoint",
    )?;
    expect_ok(revoke(ep), "Revoke")?;
    expect_tags(
        &[
            (ep, tag::ENDPOINT),
            (d, tag::NULL),
            (d + 1, tag::NULL),
            (d + 2, tag::NULL),
            (d + 3, tag::NULL),
            (other, tag::ENDPOINT),
            (d + 4, tag::ENDPOINT),
        ],
        "after Revoke",
    )
}

pub(super) fn revoke_leaf(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slots(2)?;
    expect_ok(copy(d, ep, CapRights::ALL), "Copy")?;
    expect_ok(copy(d + 1, ep, CapRights::ALL), "Second copy")?;
    expect_ok(revoke(d), "Revoke of a copy")?;
    expect_tags(
        &[
            (ep, tag::ENDPOINT),
            (d, tag::ENDPOINT),
            (d + 1, tag::ENDPOINT),
        ],
        "after Revoke of a leaf",
    )
}

pub(super) fn revoke_empty(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = env.slot()?;
    expect_ok(revoke(s), "Revoke of an empty slot")?;
    expect_tag(s, tag::NULL, "the slot")
}

pub(super) fn move_keeps_derivation(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slots(3)?;
    expect_ok(copy(d, ep, CapRights::ALL), "Copy")?;
    // Moving the original keeps it the parent of the copy.
    expect_ok(move_(d + 1, ep), "Move of the original")?;
    // Moving the copy keeps it a child.
    expect_ok(move_(d + 2, d), "Move of the copy")?;
    expect_ok(revoke(d + 1), "Revoke of the moved original")?;
    expect_tags(
        &[(d + 1, tag::ENDPOINT), (d + 2, tag::NULL)],
        "after Revoke",
    )
}

#[cfg(not(sel4_mcs))]
pub(super) fn save_caller_nothing(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = env.slot()?;
    // The root task was never called, so it has no reply cap to save.
    expect_ok(ROOT.save_caller(s, FULL), "SaveCaller with no caller")?;
    expect_tag(s, tag::NULL, "the slot")
}

#[cfg(not(sel4_mcs))]
pub(super) fn save_caller_occupied(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = env.tcb_copy()?;
    expect_err(
        ROOT.save_caller(s, FULL),
        Error::DeleteFirst,
        "SaveCaller into an occupied slot",
    )?;
    expect_err(
        ROOT.save_caller(s, 13),
        failed_lookup(false, env.short_depth_failure(13)),
        "SaveCaller at depth 13",
    )?;
    expect_tag(s, tag::THREAD, "the slot")
}
