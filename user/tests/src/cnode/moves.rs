//! Move, Mutate and Rotate: the cap changes slot, keeps its badge, and the
//! errors of an occupied destination, an empty source and caps whose data
//! cannot be set this way (ch. 3 Capability Spaces, *CNode Methods*).

use crate::fixture::{
    expect_err, expect_ok, expect_tags, mint, missing, move_, mutate, Env, FULL, ROOT,
};
use crate::framework::{Ctx, TestResult};
use sel4::object::cnode::RotateSlot;
use sel4::{tag, CapRights, Error, ObjectType, Word};

/// A Rotate end at full depth in the root.
pub(super) const fn at(index: Word, badge: Word) -> RotateSlot {
    RotateSlot {
        index,
        depth: FULL,
        badge,
    }
}

/// Root Rotate: pivot → dest, src → pivot.
pub(super) fn rotate(dest: RotateSlot, pivot: RotateSlot, src: RotateSlot) -> Result<(), Error> {
    ROOT.rotate(dest, ROOT, pivot, ROOT, src)
}

pub(super) fn move_moves(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slots(2)?;
    expect_ok(move_(d, ep), "Move of an endpoint")?;
    expect_tags(&[(ep, tag::NULL), (d, tag::ENDPOINT)], "after Move")?;
    expect_ok(mint(d + 1, d, CapRights::ALL, 5), "Mint of the moved cap")?;
    expect_ok(move_(ep, d + 1), "Move of a badged cap")?;
    expect_tags(
        &[(d + 1, tag::NULL), (ep, tag::ENDPOINT)],
        "after the second Move",
    )
}

pub(super) fn move_errors(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.tcb_copy()?;
    let empty = env.slot()?;
    expect_err(
        move_(d, ep),
        Error::DeleteFirst,
        "Move into an occupied slot",
    )?;
    expect_err(
        move_(empty, env.slot()?),
        missing(true, 64),
        "Move from an empty slot",
    )?;
    // Moving a cap onto itself: the destination is occupied.
    expect_err(move_(ep, ep), Error::DeleteFirst, "Move onto itself")?;
    expect_tags(
        &[(ep, tag::ENDPOINT), (d, tag::THREAD), (empty, tag::NULL)],
        "after the failures",
    )
}

pub(super) fn mutate_moves(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = env.tcb_copy()?;
    let frame = env.create(ObjectType::SmallPage, 0)?;
    let d = env.slots(2)?;
    expect_ok(mutate(d, t, 0x1234), "Mutate of a TCB cap")?;
    expect_ok(mutate(d + 1, frame, 0x1234), "Mutate of a frame cap")?;
    expect_tags(
        &[
            (t, tag::NULL),
            (d, tag::THREAD),
            (frame, tag::NULL),
            (d + 1, tag::FRAME),
        ],
        "after Mutate",
    )
}

pub(super) fn mutate_ep_illegal(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let ntfn = env.create(ObjectType::Notification, 0)?;
    let d = env.slot()?;
    for src in [ep, ntfn] {
        for data in [0, 1] {
            expect_err(
                mutate(d, src, data),
                Error::IllegalOperation,
                "Mutate of an endpoint or notification",
            )?;
        }
    }
    expect_tags(
        &[
            (d, tag::NULL),
            (ep, tag::ENDPOINT),
            (ntfn, tag::NOTIFICATION),
        ],
        "after the failures",
    )
}

pub(super) fn rotate_three(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let src = env.tcb_copy()?;
    let pivot = env.create(ObjectType::PageTable, 0)?;
    let dest = env.slot()?;
    expect_ok(rotate(at(dest, 0), at(pivot, 0), at(src, 0)), "Rotate")?;
    expect_tags(
        &[
            (dest, tag::PAGE_TABLE),
            (pivot, tag::THREAD),
            (src, tag::NULL),
        ],
        "after Rotate",
    )
}

pub(super) fn rotate_swap(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let a = env.tcb_copy()?;
    let b = env.create(ObjectType::PageTable, 0)?;
    expect_ok(
        rotate(at(a, 0), at(b, 0), at(a, 0)),
        "Rotate with dest == src",
    )?;
    expect_tags(&[(a, tag::PAGE_TABLE), (b, tag::THREAD)], "after the swap")
}

pub(super) fn rotate_pivot_same(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let a = env.tcb_copy()?;
    let b = env.create(ObjectType::PageTable, 0)?;
    let empty = env.slot()?;
    expect_err(
        rotate(at(empty, 0), at(a, 0), at(a, 0)),
        Error::IllegalOperation,
        "Rotate with pivot == src",
    )?;
    expect_err(
        rotate(at(b, 0), at(b, 0), at(a, 0)),
        Error::IllegalOperation,
        "Rotate with pivot == dest",
    )?;
    expect_err(
        rotate(at(a, 0), at(a, 0), at(a, 0)),
        Error::IllegalOperation,
        "Rotate with all three equal",
    )?;
    expect_tags(
        &[(a, tag::THREAD), (b, tag::PAGE_TABLE), (empty, tag::NULL)],
        "after the failures",
    )
}

pub(super) fn rotate_occupied(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let src = env.tcb_copy()?;
    let pivot = env.create(ObjectType::PageTable, 0)?;
    let dest = env.tcb_copy()?;
    expect_err(
        rotate(at(dest, 0), at(pivot, 0), at(src, 0)),
        Error::DeleteFirst,
        "Rotate into an occupied dest",
    )?;
    expect_tags(
        &[
            (src, tag::THREAD),
            (pivot, tag::PAGE_TABLE),
            (dest, tag::THREAD),
        ],
        "after the failure",
    )
}

pub(super) fn rotate_empty(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let full = env.tcb_copy()?;
    let (e1, e2) = (env.slot()?, env.slot()?);
    // Empty src: source = 1.
    expect_err(
        rotate(at(e1, 0), at(full, 0), at(e2, 0)),
        missing(true, 64),
        "Rotate with an empty src",
    )?;
    // Empty pivot: reported with source = 0.
    expect_err(
        rotate(at(e1, 0), at(e2, 0), at(full, 0)),
        missing(false, 64),
        "Rotate with an empty pivot",
    )?;
    expect_tags(
        &[(full, tag::THREAD), (e1, tag::NULL), (e2, tag::NULL)],
        "after the failures",
    )
}

pub(super) fn rotate_endpoint(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let t = env.tcb_copy()?;
    let dest = env.slot()?;
    expect_err(
        rotate(at(dest, 0), at(t, 0), at(ep, 0)),
        Error::IllegalOperation,
        "Rotate with an endpoint as src",
    )?;
    expect_err(
        rotate(at(dest, 0), at(ep, 0), at(t, 0)),
        Error::IllegalOperation,
        "Rotate with an endpoint as pivot",
    )?;
    expect_tags(
        &[(ep, tag::ENDPOINT), (t, tag::THREAD), (dest, tag::NULL)],
        "after the failures",
    )
}
