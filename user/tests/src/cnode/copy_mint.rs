//! Copy and Mint: the new cap, an occupied destination or empty source,
//! badges (set once, kept by Copy and Move), rights (they only shrink), and
//! CancelBadgedSends, which needs an endpoint cap with all rights (ch. 3
//! Capability Spaces, *CNode Methods*; ch. 4 IPC, *Endpoint Badges*).

use crate::fixture::{
    copy, expect_err, expect_ok, expect_tag, expect_tags, mint, missing, move_, mutate, Env, FULL,
    ROOT,
};
use crate::framework::{Ctx, TestResult};
use sel4::{init, tag, CapRights, Error, ObjectType, Word};

pub(super) fn copy_same_cap(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let ntfn = env.create(ObjectType::Notification, 0)?;
    let d = env.slots(4)?;
    expect_ok(copy(d, init::TCB, CapRights::ALL), "Copy of the TCB cap")?;
    expect_ok(copy(d + 1, ep, CapRights::ALL), "Copy of an endpoint")?;
    expect_ok(copy(d + 2, ntfn, CapRights::ALL), "Copy of a notification")?;
    expect_ok(copy(d + 3, d + 1, CapRights::ALL), "Copy of a copy")?;
    expect_tags(
        &[
            (d, tag::THREAD),
            (d + 1, tag::ENDPOINT),
            (d + 2, tag::NOTIFICATION),
            (d + 3, tag::ENDPOINT),
            (ep, tag::ENDPOINT),
        ],
        "after Copy",
    )
}

pub(super) fn copy_occupied(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.tcb_copy()?;
    for r in [
        copy(d, ep, CapRights::ALL),
        mint(d, ep, CapRights::ALL, 1),
        move_(d, ep),
        mutate(d, ep, 0),
    ] {
        expect_err(
            r,
            Error::DeleteFirst,
            "Copy/Mint/Move/Mutate into an occupied slot",
        )?;
    }
    expect_tags(
        &[(d, tag::THREAD), (ep, tag::ENDPOINT)],
        "after DeleteFirst",
    )
}

pub(super) fn copy_empty_source(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (d, empty) = (env.slot()?, env.slot()?);
    for r in [
        copy(d, empty, CapRights::ALL),
        mint(d, empty, CapRights::ALL, 0),
        move_(d, empty),
        mutate(d, empty, 0),
    ] {
        expect_err(
            r,
            missing(true, 64),
            "Copy/Mint/Move/Mutate from an empty slot",
        )?;
    }
    expect_tag(d, tag::NULL, "destination")
}

pub(super) fn mint_badge_endpoint(ctx: &Ctx<'_>) -> TestResult {
    mint_badge_once(ctx, ObjectType::Endpoint, tag::ENDPOINT)
}

pub(super) fn mint_badge_notification(ctx: &Ctx<'_>) -> TestResult {
    mint_badge_once(ctx, ObjectType::Notification, tag::NOTIFICATION)
}

fn mint_badge_once(ctx: &Ctx<'_>, t: ObjectType, want: Word) -> TestResult {
    let env = Env::new(ctx)?;
    let obj = env.create(t, 0)?;
    let d = env.slots(2)?;
    expect_ok(mint(d, obj, CapRights::ALL, 0x5a5a), "Mint with a badge")?;
    expect_tag(d, want, "badged cap")?;
    for badge in [7, 0] {
        expect_err(
            mint(d + 1, d, CapRights::ALL, badge),
            Error::IllegalOperation,
            "Mint from an already badged cap",
        )?;
    }
    expect_tag(d + 1, tag::NULL, "destination")
}

pub(super) fn mint_badge_zero(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slots(2)?;
    expect_ok(mint(d, ep, CapRights::ALL, 0), "Mint with badge 0")?;
    expect_ok(
        mint(d + 1, d, CapRights::ALL, 9),
        "Mint with a badge from it",
    )?;
    expect_tags(&[(d, tag::ENDPOINT), (d + 1, tag::ENDPOINT)], "after Mint")
}

pub(super) fn copy_keeps_badge(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slots(3)?;
    expect_ok(mint(d, ep, CapRights::ALL, 3), "Mint with a badge")?;
    expect_ok(copy(d + 1, d, CapRights::ALL), "Copy of the badged cap")?;
    expect_err(
        mint(d + 2, d + 1, CapRights::ALL, 4),
        Error::IllegalOperation,
        "Mint from a copy of a badged cap",
    )?;
    expect_ok(move_(d + 2, d + 1), "Move of the badged copy")?;
    expect_err(
        mint(d + 1, d + 2, CapRights::ALL, 4),
        Error::IllegalOperation,
        "Mint from the moved badged cap",
    )
}

pub(super) fn rights_only_shrink(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slots(4)?;
    // CancelBadgedSends needs all four rights, so it tells a full cap from
    // a reduced one.
    expect_ok(
        ROOT.cancel_badged_sends(ep, FULL),
        "CancelBadgedSends, all rights",
    )?;
    expect_ok(mint(d, ep, CapRights::READ_WRITE, 0), "Mint with ReadWrite")?;
    expect_ok(
        mint(d + 1, d, CapRights::ALL, 0),
        "Mint of it with all rights",
    )?;
    expect_ok(
        copy(d + 2, d + 1, CapRights::ALL),
        "Copy of that with all rights",
    )?;
    expect_ok(copy(d + 3, ep, CapRights::NO_WRITE), "Copy with NoWrite")?;
    for s in d..d + 4 {
        expect_tag(s, tag::ENDPOINT, "reduced copy")?;
        expect_err(
            ROOT.cancel_badged_sends(s, FULL),
            Error::IllegalOperation,
            "CancelBadgedSends on a cap without all rights",
        )?;
    }
    Ok(())
}

pub(super) fn cancel_badged_sends(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slot()?;
    expect_ok(mint(d, ep, CapRights::ALL, 0x77), "Mint with a badge")?;
    expect_ok(
        ROOT.cancel_badged_sends(ep, FULL),
        "CancelBadgedSends, badge 0",
    )?;
    expect_ok(
        ROOT.cancel_badged_sends(d, FULL),
        "CancelBadgedSends, badged",
    )?;
    expect_tags(
        &[(ep, tag::ENDPOINT), (d, tag::ENDPOINT)],
        "after CancelBadgedSends",
    )
}

pub(super) fn cancel_badged_sends_non_endpoint(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ntfn = env.create(ObjectType::Notification, 0)?;
    let empty = env.slot()?;
    for s in [ntfn, init::TCB, init::CNODE, empty] {
        expect_err(
            ROOT.cancel_badged_sends(s, FULL),
            Error::IllegalOperation,
            "CancelBadgedSends on a non-endpoint slot",
        )?;
    }
    Ok(())
}
