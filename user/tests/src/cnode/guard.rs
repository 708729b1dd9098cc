//! Guards: a CNode cap's guard set by Mint, Mutate or Rotate, resolved
//! through two levels, and the lookup failures (with their data) that a
//! wrong guard or a depth ending mid-level gives (ch. 3 Capability Spaces,
//! *CSpace Addressing*; ABI ref §4 CNode cap data, §8).

use super::moves::{at, rotate};
use crate::fixture::{
    copy, expect_err, expect_ok, expect_tag, expect_tags, failed_lookup, mint, missing, mutate,
    Env, FULL, ROOT,
};
use crate::framework::{Ctx, Failure, TestResult};
use sel4::abi::cap::cnode_cap_data;
use sel4::{init, tag, CNode, CapRights, Error, LookupFailure, Word};

/// A two-level CSpace reachable through a guarded root-slot cap.
struct TwoLevel {
    /// Root slot of the L1 cap minted with guard `G1` (28 bits).
    l1g: Word,
    /// Root slot of the original (guard 0) L1 cap.
    l1: Word,
    /// Root slot of the original (guard 0) L2 cap.
    l2: Word,
    /// The endpoint copied into L2 slot 7.
    ep: Word,
}

/// L1 and L2 are radix-4 CNodes. L1 slot 5 holds L2 with guard `G2`
/// (28 bits); L2 slot 7 an endpoint copy; L1 slot 9 another endpoint copy.
/// The 64-bit path `PATH` through `l1g` reaches L2 slot 7:
/// `G1 (28) | 5 (4) | G2 (28) | 7 (4)`.
const G1: Word = 0xA5C_3E1;

const G2: Word = 0x123_4567;

const PATH: Word = (G1 << 36) | (5 << 32) | (G2 << 4) | 7;

fn two_level(env: &Env<'_>) -> Result<TwoLevel, Failure> {
    let l1 = env.cnode(4)?;
    let l2 = env.cnode(4)?;
    let ep = env.endpoint()?;
    let l1g = env.slot()?;
    expect_ok(
        mint(l1g, l1, CapRights::ALL, cnode_cap_data(G1, 28)),
        "Mint of L1 with a 28-bit guard",
    )?;
    expect_tag(l1g, tag::CNODE, "guarded L1")?;
    expect_ok(
        CNode::from_bits(l1).mint(5, 4, ROOT, l2, FULL, CapRights::ALL, cnode_cap_data(G2, 28)),
        "Mint of L2 into L1 slot 5",
    )?;
    expect_ok(
        CNode::from_bits(l2).copy(7, 4, ROOT, ep, FULL, CapRights::ALL),
        "Copy of the endpoint into L2 slot 7",
    )?;
    expect_ok(
        CNode::from_bits(l1).copy(9, 4, ROOT, ep, FULL, CapRights::ALL),
        "Copy of the endpoint into L1 slot 9",
    )?;
    Ok(TwoLevel { l1g, l1, l2, ep })
}

pub(super) fn two_level_mint(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = two_level(&env)?;
    let d = env.slots(3)?;
    let l1g = CNode::from_bits(t.l1g);
    expect_ok(
        ROOT.copy(d, FULL, l1g, PATH, FULL, CapRights::ALL),
        "Copy from L2 slot 7 through both guards",
    )?;
    expect_tag(d, tag::ENDPOINT, "the endpoint found through both levels")?;
    expect_ok(
        ROOT.copy(d + 1, FULL, l1g, PATH >> 32, 32, CapRights::ALL),
        "Copy from L1 slot 5 at depth 32",
    )?;
    expect_tag(d + 1, tag::CNODE, "L2 found at depth 32")?;
    // The guarded L1 also works as the invoked CNode: delete L2 slot 7.
    expect_ok(l1g.delete(PATH, FULL), "Delete through the guarded L1")?;
    expect_err(
        ROOT.copy(d + 2, FULL, l1g, PATH, FULL, CapRights::ALL),
        missing(true, 64),
        "Copy from the emptied L2 slot 7",
    )?;
    let _ = (t.l1, t.l2, t.ep);
    Ok(())
}

pub(super) fn two_level_guard_mismatch(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = two_level(&env)?;
    let d = env.slot()?;
    let l1g = CNode::from_bits(t.l1g);
    let g = |bits_left, guard_found| {
        failed_lookup(
            true,
            LookupFailure::GuardMismatch {
                bits_left,
                guard_found,
                bits_found: 28,
            },
        )
    };
    expect_err(
        ROOT.copy(d, FULL, l1g, PATH ^ (1 << 40), FULL, CapRights::ALL),
        g(64, G1),
        "Copy with a wrong first guard",
    )?;
    expect_err(
        ROOT.copy(d, FULL, l1g, PATH ^ (1 << 10), FULL, CapRights::ALL),
        g(32, G2),
        "Copy with a wrong second guard",
    )?;
    // Depth 36: L1 takes 32 bits, L2's 28-bit guard does not fit in 4.
    expect_err(
        ROOT.copy(d, FULL, l1g, PATH >> 28, 36, CapRights::ALL),
        g(4, G2),
        "Copy at depth 36",
    )?;
    // Depth 20: L1's own guard does not fit.
    expect_err(
        ROOT.copy(d, FULL, l1g, PATH >> 44, 20, CapRights::ALL),
        g(20, G1),
        "Copy at depth 20",
    )?;
    expect_tag(d, tag::NULL, "destination")
}

pub(super) fn two_level_depth_mismatch(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = two_level(&env)?;
    let d = env.slot()?;
    let l1g = CNode::from_bits(t.l1g);
    let dm = |bits_left, bits_found| {
        failed_lookup(
            true,
            LookupFailure::DepthMismatch {
                bits_left,
                bits_found,
            },
        )
    };
    // Depth 30: L1's guard fits, its radix does not.
    expect_err(
        ROOT.copy(d, FULL, l1g, G1 << 2, 30, CapRights::ALL),
        dm(30, 32),
        "Copy at depth 30",
    )?;
    // Depth 40 ending at L1 slot 9, which holds an endpoint, with 8 bits
    // left: the lookup stops early.
    expect_err(
        ROOT.copy(
            d,
            FULL,
            l1g,
            (((G1 << 4) | 9) << 8) | 0x3c,
            40,
            CapRights::ALL,
        ),
        dm(8, 0),
        "Copy at depth 40 through an endpoint",
    )?;
    // The same through the original L1 (guard 0) as the destination.
    expect_err(
        CNode::from_bits(t.l1).delete(9 << 4, 8),
        failed_lookup(
            false,
            LookupFailure::DepthMismatch {
                bits_left: 4,
                bits_found: 0,
            },
        ),
        "Delete at depth 8 through an endpoint",
    )?;
    expect_tag(d, tag::NULL, "destination")
}

pub(super) fn guard_via_mutate(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = two_level(&env)?;
    let (c, g) = (env.slot()?, env.slot()?);
    expect_ok(copy(c, t.l1, CapRights::ALL), "Copy of L1")?;
    expect_ok(
        mutate(g, c, cnode_cap_data(G1, 28)),
        "Mutate of L1 with a guard",
    )?;
    expect_tag(c, tag::NULL, "Mutate source")?;
    let d = env.slot()?;
    expect_ok(
        ROOT.copy(d, FULL, CNode::from_bits(g), PATH, FULL, CapRights::ALL),
        "Copy through the mutated L1",
    )?;
    expect_tag(d, tag::ENDPOINT, "the endpoint found through both levels")
}

pub(super) fn guard_masked(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = two_level(&env)?;
    let g = env.slot()?;
    // Bits of the guard above the guard size are dropped.
    expect_ok(
        mint(
            g,
            t.l1,
            CapRights::ALL,
            cnode_cap_data(G1 | (0x15 << 28), 28),
        ),
        "Mint of L1 with an oversized guard value",
    )?;
    let d = env.slot()?;
    expect_ok(
        ROOT.copy(d, FULL, CNode::from_bits(g), PATH, FULL, CapRights::ALL),
        "Copy through the masked guard",
    )?;
    expect_tag(d, tag::ENDPOINT, "the endpoint")
}

pub(super) fn guard_too_large(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let cn = env.cnode(4)?;
    let d = env.slots(2)?;
    for size in [61, 63] {
        expect_err(
            mint(d, cn, CapRights::ALL, cnode_cap_data(0, size)),
            Error::IllegalOperation,
            "Mint of a radix-4 CNode with guard size > 60",
        )?;
        expect_err(
            mutate(d, cn, cnode_cap_data(0, size)),
            Error::IllegalOperation,
            "Mutate of a radix-4 CNode with guard size > 60",
        )?;
    }
    let over = 65 - Word::from(env.radix);
    expect_err(
        mint(d, init::CNODE, CapRights::ALL, cnode_cap_data(0, over)),
        Error::IllegalOperation,
        "Mint of the root CNode with guard size 65 - R",
    )?;
    expect_tags(&[(d, tag::NULL), (cn, tag::CNODE)], "after the failures")?;
    expect_ok(
        mint(d, cn, CapRights::ALL, cnode_cap_data(0, 60)),
        "Mint of a radix-4 CNode with guard size 60",
    )?;
    expect_ok(
        mint(
            d + 1,
            init::CNODE,
            CapRights::ALL,
            cnode_cap_data(0, over - 1),
        ),
        "Mint of the root CNode with guard size 64 - R",
    )?;
    expect_tags(
        &[(d, tag::CNODE), (d + 1, tag::CNODE)],
        "the new CNode caps",
    )
}

pub(super) fn rotate_guard(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = two_level(&env)?;
    let pivot = env.slot()?;
    expect_ok(copy(pivot, t.l1, CapRights::ALL), "Copy of L1")?;
    let src = env.tcb_copy()?;
    let dest = env.slot()?;
    // A guard too large for the pivot's radix: IllegalOperation.
    expect_err(
        rotate(at(dest, cnode_cap_data(0, 61)), at(pivot, 0), at(src, 0)),
        Error::IllegalOperation,
        "Rotate giving the pivot CNode a 61-bit guard",
    )?;
    // dest_badge is the cap data of the pivot's cap as it lands in dest.
    expect_ok(
        rotate(at(dest, cnode_cap_data(G1, 28)), at(pivot, 0), at(src, 0)),
        "Rotate giving the pivot CNode a guard",
    )?;
    expect_tags(
        &[(dest, tag::CNODE), (pivot, tag::THREAD), (src, tag::NULL)],
        "after Rotate",
    )?;
    let d = env.slot()?;
    expect_ok(
        ROOT.copy(d, FULL, CNode::from_bits(dest), PATH, FULL, CapRights::ALL),
        "Copy through the rotated L1",
    )?;
    expect_tag(d, tag::ENDPOINT, "the endpoint")
}
