//! How CNode invocations find their slots: the destination is looked up
//! before the source, a depth shorter than the root's guard is a guard
//! mismatch, a depth that cuts the radix a depth mismatch, an index past the
//! radix a guard mismatch, a depth outside 1..=64 a range error and a
//! non-CNode source root an invalid root (ch. 3 Capability Spaces, *CSpace
//! Addressing*; ABI ref §6.5, §7.4, §8).

use crate::fixture::{
    copy, expect_err, expect_tag, expect_tags, failed_lookup, range, raw, Env, FULL, ROOT,
};
use crate::framework::{Ctx, TestResult};
use sel4::abi::invocation::label;
use sel4::{init, tag, CNode, CapRights, Error, LookupFailure, Word};

pub(super) fn dest_before_source(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let d = env.tcb_copy()?;
    let empty = env.slot()?;
    // Occupied destination and empty source: DeleteFirst wins.
    expect_err(copy(d, empty, CapRights::ALL), Error::DeleteFirst, "Copy")?;
    // Bad destination depth and bad source depth: the destination is reported.
    expect_err(
        ROOT.copy(empty, 13, ROOT, empty, 14, CapRights::ALL),
        failed_lookup(false, env.short_depth_failure(13)),
        "Copy with bad depths on both sides",
    )
}

pub(super) fn dest_short_depth(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slot()?;
    for depth in [1, 13, (63 - env.radix) as u8] {
        expect_err(
            ROOT.copy(d, depth, ROOT, ep, FULL, CapRights::ALL),
            failed_lookup(false, env.short_depth_failure(depth)),
            "Copy to a destination depth shorter than the root's guard",
        )?;
        expect_err(
            ROOT.delete(d, depth),
            failed_lookup(false, env.short_depth_failure(depth)),
            "Delete at a depth shorter than the root's guard",
        )?;
    }
    expect_tag(d, tag::NULL, "destination")
}

pub(super) fn source_short_depth(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slot()?;
    expect_err(
        ROOT.copy(d, FULL, ROOT, ep, 13, CapRights::ALL),
        failed_lookup(true, env.short_depth_failure(13)),
        "Copy from a source depth of 13",
    )?;
    expect_err(
        ROOT.move_(d, FULL, ROOT, ep, 13),
        failed_lookup(true, env.short_depth_failure(13)),
        "Move from a source depth of 13",
    )?;
    expect_tags(&[(d, tag::NULL), (ep, tag::ENDPOINT)], "after the failures")
}

pub(super) fn depth_mismatch_root(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    // Depth d with 64 − R ≤ d < 64: the guard (of zeros) fits, the radix does
    // not: DepthMismatch(bitsLeft d, bitsFound 64). Index 0 keeps the guard
    // bits zero (and names the null slot, should the lookup wrongly succeed).
    let guard = 64 - env.radix as u8;
    for depth in [guard, 60.max(guard), 63] {
        expect_err(
            ROOT.delete(0, depth),
            failed_lookup(
                false,
                LookupFailure::DepthMismatch {
                    bits_left: Word::from(depth),
                    bits_found: 64,
                },
            ),
            "Delete at a depth between the guard and guard + radix",
        )?;
    }
    expect_tag(init::TCB, tag::THREAD, "the root TCB cap")
}

pub(super) fn index_beyond_radix(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let beyond = 1u64 << env.radix;
    let mismatch = LookupFailure::GuardMismatch {
        bits_left: 64,
        guard_found: 0,
        bits_found: 64 - Word::from(env.radix),
    };
    expect_err(
        copy(beyond + ep, ep, CapRights::ALL),
        failed_lookup(false, mismatch),
        "Copy to index 2^R + slot",
    )?;
    let d = env.slot()?;
    expect_err(
        copy(d, beyond | ep, CapRights::ALL),
        failed_lookup(true, mismatch),
        "Copy from index 2^R + slot",
    )?;
    expect_tag(d, tag::NULL, "destination")
}

pub(super) fn depth_out_of_range(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slot()?;
    let want = range(1, 64);
    expect_err(ROOT.delete(d, 0), want, "Delete at depth 0")?;
    expect_err(ROOT.revoke(d, 0), want, "Revoke at depth 0")?;
    expect_err(
        ROOT.copy(d, 0, ROOT, ep, FULL, CapRights::ALL),
        want,
        "Copy to depth 0",
    )?;
    expect_err(
        ROOT.copy(d, FULL, ROOT, ep, 0, CapRights::ALL),
        want,
        "Copy from depth 0",
    )?;
    expect_err(ROOT.delete(d, 65), want, "Delete at depth 65")?;
    // The kernel reads the whole word: 0x140 is not 64.
    for depth in [0x140, Word::MAX] {
        expect_err(
            raw(ROOT.bits(), label::CNODE_DELETE, &[d, depth], &[]),
            want,
            "Delete at a depth word > 64",
        )?;
        expect_err(
            raw(
                ROOT.bits(),
                label::CNODE_COPY,
                &[d, 64, ep, depth, CapRights::ALL.0],
                &[ROOT.bits()],
            ),
            want,
            "Copy from a depth word > 64",
        )?;
    }
    expect_tag(d, tag::NULL, "destination")
}

pub(super) fn source_root_invalid(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let d = env.slot()?;
    let empty = env.slot()?;
    for root in [ep, empty] {
        expect_err(
            ROOT.copy(d, FULL, CNode::from_bits(root), ep, FULL, CapRights::ALL),
            failed_lookup(true, LookupFailure::InvalidRoot),
            "Copy with a non-CNode source root",
        )?;
    }
    expect_tag(d, tag::NULL, "destination")
}
