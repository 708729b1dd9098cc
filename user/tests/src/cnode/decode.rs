//! CNode invocations refused before any lookup of their arguments: an empty
//! invoked slot, a label that is not a CNode method, and a message too short
//! for its method (ABI ref §7.4 decode order, §8).

use crate::fixture::{expect_err, expect_tag, expect_tags, raw, Env, ROOT};
use crate::framework::{Ctx, TestResult};
use sel4::abi::invocation::label;
use sel4::{init, tag, Error};

/// An empty slot is found by the lookup (no cap fault) and holds the null
/// capability, whose invocation is InvalidCapability(0) whatever the label.
pub(super) fn invoke_empty_slot(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let empty = env.slot()?;
    for l in [label::CNODE_COPY, label::UNTYPED_RETYPE, 0x7777] {
        expect_err(
            raw(empty, l, &[0, 64, 0, 64, 0xF, 0], &[ROOT.bits()]),
            Error::InvalidCapability { index: 0 },
            "invoking an empty slot",
        )?;
    }
    expect_tag(empty, tag::NULL, "the empty slot")
}

pub(super) fn bad_label(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let d = env.slot()?;
    for l in [
        label::INVALID_INVOCATION,
        label::UNTYPED_RETYPE,
        label::TCB_SET_FLAGS,
        label::IRQ_ISSUE_IRQ_HANDLER,
        label::RISCV_PAGE_MAP,
        0x7777,
    ] {
        expect_err(
            raw(
                ROOT.bits(),
                l,
                &[d, 64, init::TCB, 64, 0xF, 0],
                &[ROOT.bits()],
            ),
            Error::IllegalOperation,
            "a CNode invoked with a non-CNode label",
        )?;
    }
    expect_tag(d, tag::NULL, "destination")
}

pub(super) fn short_message(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let d = env.slot()?;
    let src = env.tcb_copy()?;
    let r = ROOT.bits();
    let t = Error::TruncatedMessage;
    for (l, mrs, caps, what) in [
        (
            label::CNODE_DELETE,
            &[][..],
            &[][..],
            "Delete with no words",
        ),
        (label::CNODE_DELETE, &[d][..], &[][..], "Delete with 1 word"),
        (label::CNODE_REVOKE, &[d][..], &[][..], "Revoke with 1 word"),
        (
            label::CNODE_COPY,
            &[d, 64, src][..],
            &[r][..],
            "Copy with 3 words",
        ),
        (
            label::CNODE_COPY,
            &[d, 64, src, 64][..],
            &[r][..],
            "Copy with 4 words",
        ),
        (
            label::CNODE_COPY,
            &[d, 64, src, 64, 0xF][..],
            &[][..],
            "Copy without excap",
        ),
        (
            label::CNODE_MINT,
            &[d, 64, src, 64, 0xF][..],
            &[r][..],
            "Mint with 5 words",
        ),
        (
            label::CNODE_MOVE,
            &[d, 64, src][..],
            &[r][..],
            "Move with 3 words",
        ),
        (
            label::CNODE_MOVE,
            &[d, 64, src, 64][..],
            &[][..],
            "Move without excap",
        ),
        (
            label::CNODE_MUTATE,
            &[d, 64, src, 64][..],
            &[r][..],
            "Mutate with 4 words",
        ),
        (
            label::CNODE_ROTATE,
            &[d, 64, 0, src, 64, 0, d][..],
            &[r, r][..],
            "Rotate with 7 words",
        ),
        (
            label::CNODE_ROTATE,
            &[d, 64, 0, src, 64, 0, d, 64][..],
            &[r][..],
            "Rotate with 1 excap",
        ),
    ] {
        expect_err(raw(r, l, mrs, caps), t, what)?;
    }
    expect_tags(&[(d, tag::NULL), (src, tag::THREAD)], "after the failures")
}
