//! Deleting the last cap to a CNode: its slots are emptied first, and the
//! cases where that could recurse without end (a CNode holding its own only
//! cap, CNodes holding each other's only caps, nested CNodes) terminate and
//! leave memory that revoking the covering untyped reclaims (ch. 3
//! Capability Spaces, *Deletion and Revocation*, with its footnote on
//! unreachable CNodes; the kernel's side is `kernel/src/cap/delete.rs`).
//!
//! Such a CNode, once no cap in the root CNode names it, cannot be looked
//! at any more; what the tests check instead is that its memory and its
//! contents are gone:
//!
//! - **memory**: the untyped the CNodes came from (`home`) can again be
//!   retyped as a whole, which the kernel allows only once no object made
//!   from it is left (ABI ref §6.6: an untyped with no children is reset
//!   to offset 0 by its next Retype);
//! - **contents**: the endpoints put in the CNodes come from a second
//!   untyped (`stuff`) and live only in those CNodes, so `stuff` can be
//!   copied (Copy of an untyped with children is RevokeFirst) exactly when
//!   they were deleted with the CNodes.
//!
//! Slots of a CNode that still has a root cap are addressed as `(index,
//! depth)` from that cap: a radix-4 CNode of guard 0 resolves 4 bits a
//! level, so `(i << 4) | j` at depth 8 is slot `j` of the CNode in its slot
//! `i`.

use crate::fixture::{
    copy, delete, expect_err, expect_nested_tag, expect_ok, expect_tag, expect_tags, failure,
    retype, retype_into, Env, FULL, ROOT,
};
use crate::framework::{Ctx, Failure, TestResult};
use sel4::abi::object::SLOT_BITS;
use sel4::{tag, CNode, CapRights, Error, ObjectType, Untyped, Word};

/// Radix of the CNodes the tests build.
const RADIX: u8 = 4;
/// Slots per CNode.
const SLOTS: Word = 1 << RADIX;
/// Bytes of one such CNode (2^radix slots of 2^`SLOT_BITS` bytes, ABI ref §5).
const CNODE_BYTES: Word = SLOTS << SLOT_BITS;
/// log2 of the size of `home` and `stuff`.
const UT_BITS: u32 = 12;

/// Whether `ut` has children: a Copy of it succeeds (the copy is deleted
/// again) or is refused with RevokeFirst.
fn has_children(env: &Env<'_>, ut: Untyped) -> Result<bool, Failure> {
    let s = env.slot()?;
    match copy(s, ut.bits(), CapRights::ALL) {
        Ok(()) => {
            expect_ok(delete(s), "Delete of the untyped's copy")?;
            Ok(false)
        }
        Err(Error::RevokeFirst) => Ok(true),
        Err(e) => Err(failure!(
            "Copy of the untyped in slot {:#x}: {e}, expected success or RevokeFirst",
            ut.bits()
        )),
    }
}

/// Fails unless `ut` has (`want`) or has no children.
fn expect_children(env: &Env<'_>, ut: Untyped, want: bool, what: &str) -> TestResult {
    let got = has_children(env, ut)?;
    crate::check!(
        got == want,
        "{what}: the untyped {} children, expected it {}",
        if got { "has" } else { "has no" },
        if want { "to have some" } else { "to have none" }
    );
    Ok(())
}

/// Fails unless all 2^`bits` bytes of `ut` can be retyped as one untyped,
/// i.e. nothing made from `ut` is left.
fn expect_whole(env: &Env<'_>, ut: Untyped, bits: u32, what: &str) -> TestResult {
    let s = env.slot()?;
    expect_ok(
        retype(ut, ObjectType::Untyped, Word::from(bits), s, 1),
        what,
    )?;
    expect_tag(s, tag::UNTYPED, what)
}

/// Fails unless retyping all of `ut` (2^`bits` bytes) fails because
/// `used` bytes are still taken.
fn expect_taken(env: &Env<'_>, ut: Untyped, bits: u32, used: Word, what: &str) -> TestResult {
    let s = env.slot()?;
    expect_err(
        retype(ut, ObjectType::Untyped, Word::from(bits), s, 1),
        Error::NotEnoughMemory {
            available: (1 << bits) - used,
        },
        what,
    )
}

/// `home` and `stuff` (see the module doc) and `n` radix-4 CNodes made
/// from `home` into root slots `cnodes..cnodes + n`.
struct Setup {
    home: Untyped,
    stuff: Untyped,
    cnodes: Word,
}

fn setup(env: &Env<'_>, n: Word) -> Result<Setup, Failure> {
    let home = env.untyped(UT_BITS)?;
    let stuff = env.untyped(UT_BITS)?;
    let cnodes = env.slots(n)?;
    expect_ok(
        retype(home, ObjectType::CapTable, Word::from(RADIX), cnodes, n),
        "Retype of the radix-4 CNodes",
    )?;
    Ok(Setup {
        home,
        stuff,
        cnodes,
    })
}

/// Puts an endpoint made from `stuff` in each slot of `slots` of the CNode
/// at root slot `cnode`.
fn fill(stuff: Untyped, cnode: Word, slots: impl Iterator<Item = Word>) -> TestResult {
    for i in slots {
        expect_ok(
            retype_into(stuff, ObjectType::Endpoint, cnode, i, 1),
            "Retype of an endpoint into a CNode slot",
        )?;
    }
    Ok(())
}

/// Revokes `home` and checks that everything the test built is gone:
/// `stuff` has no children and `home` is whole again; then revokes the
/// pool and checks that it is whole too.
fn expect_all_reclaimed(env: &Env<'_>, s: &Setup) -> TestResult {
    expect_ok(ROOT.revoke(s.home.bits(), FULL), "Revoke of home")?;
    expect_children(env, s.stuff, false, "stuff after Revoke of home")?;
    expect_whole(env, s.home, UT_BITS, "Retype of all of home after Revoke")?;
    expect_ok(ROOT.revoke(env.pool().bits(), FULL), "Revoke of the pool")?;
    expect_whole(
        env,
        env.pool(),
        env.pool_bits(),
        "Retype of all of the pool after Revoke",
    )
}

pub(super) fn self_held_slot_0(ctx: &Ctx<'_>) -> TestResult {
    self_held(ctx, 0)
}

pub(super) fn self_held_middle_slot(ctx: &Ctx<'_>) -> TestResult {
    self_held(ctx, 7)
}

/// A CNode whose only cap is in its own slot `k`, the other 15 slots
/// holding endpoints.
fn self_held(ctx: &Ctx<'_>, k: Word) -> TestResult {
    let env = Env::new(ctx)?;
    let s = setup(&env, 1)?;
    let c = s.cnodes;
    fill(s.stuff, c, (0..SLOTS).filter(|&i| i != k))?;
    for i in 0..SLOTS {
        let want = if i == k { tag::NULL } else { tag::ENDPOINT };
        expect_nested_tag(&env, c, i, RADIX, want, "the CNode before the Move")?;
    }
    expect_ok(
        CNode::from_bits(c).move_(k, RADIX, ROOT, c, FULL),
        "Move of the CNode's cap into its own slot",
    )?;
    expect_tag(c, tag::NULL, "the CNode's root slot after the Move")?;
    // Moving deleted nothing: the CNode and its endpoints are still there.
    expect_children(&env, s.stuff, true, "stuff after the Move")?;
    expect_taken(
        &env,
        s.home,
        UT_BITS,
        CNODE_BYTES,
        "Retype of all of home while the CNode lives",
    )?;
    expect_all_reclaimed(&env, &s)
}

/// CNodes A, B, C: C holds the only cap to A, B to C, A to B.
pub(super) fn cycle_of_three(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = setup(&env, 3)?;
    let (a, b, c) = (s.cnodes, s.cnodes + 1, s.cnodes + 2);
    for x in [a, b, c] {
        fill(s.stuff, x, 0..4)?;
    }
    expect_ok(
        CNode::from_bits(c).move_(13, RADIX, ROOT, a, FULL),
        "Move of A's cap into C slot 13",
    )?;
    expect_ok(
        CNode::from_bits(b).move_(14, RADIX, ROOT, c, FULL),
        "Move of C's cap into B slot 14",
    )?;
    // A is now reachable only as B slot 14 (C), slot 13 (A).
    expect_nested_tag(&env, b, (14 << 4) | 13, 8, tag::CNODE, "A through B and C")?;
    expect_nested_tag(
        &env,
        b,
        (14 << 8) | (13 << 4) | 3,
        12,
        tag::ENDPOINT,
        "A slot 3",
    )?;
    expect_ok(
        CNode::from_bits(b).move_((14 << 8) | (13 << 4) | 15, 12, ROOT, b, FULL),
        "Move of B's cap into A slot 15, addressed through B, C and A",
    )?;
    expect_tags(
        &[(a, tag::NULL), (b, tag::NULL), (c, tag::NULL)],
        "the CNodes' root slots after closing the cycle",
    )?;
    expect_children(&env, s.stuff, true, "stuff with the cycle closed")?;
    expect_taken(
        &env,
        s.home,
        UT_BITS,
        3 * CNODE_BYTES,
        "Retype of all of home while the cycle lives",
    )?;
    expect_all_reclaimed(&env, &s)
}

/// CNode A holds the only cap to CNode B and a copy of the cap to CNode
/// D. Deleting the last cap to A deletes A's own caps; B, whose last cap
/// is found inside A, is made unreachable, not destroyed: the manual
/// (*Deletion and Revocation*, footnote) has B's cap swapped with B's
/// first cap, which is deleted instead, and revoking a covering untyped
/// cleans B up. A and B come from `home`; the endpoints in A's slots and in
/// B slot 0 from `stuff`, those in B's other slots from `deep`; D and its
/// endpoint from the pool and `d_ut`.
pub(super) fn delete_last_cap_nested(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = setup(&env, 2)?;
    let (a, b) = (s.cnodes, s.cnodes + 1);
    let deep = env.untyped(UT_BITS)?;
    let d = env.cnode(u32::from(RADIX))?;
    let d_ut = env.untyped(UT_BITS)?;
    fill(s.stuff, a, [0, 1, 15].into_iter())?;
    fill(s.stuff, b, 0..1)?;
    fill(deep, b, [1, 2, 15].into_iter())?;
    fill(d_ut, d, 2..3)?;
    expect_ok(
        CNode::from_bits(a).move_(5, RADIX, ROOT, b, FULL),
        "Move of B's cap into A slot 5",
    )?;
    expect_ok(
        CNode::from_bits(a).copy(6, RADIX, ROOT, d, FULL, CapRights::ALL),
        "Copy of D's cap into A slot 6",
    )?;
    expect_tag(b, tag::NULL, "B's root slot after the Move")?;
    expect_nested_tag(&env, a, (5 << 4) | 15, 8, tag::ENDPOINT, "B slot 15 via A")?;
    expect_nested_tag(&env, a, (6 << 4) | 2, 8, tag::ENDPOINT, "D slot 2 via A")?;

    expect_ok(delete(a), "Delete of the last cap to A")?;
    expect_tag(a, tag::NULL, "A's root slot after Delete")?;
    // A's own slots, and B slot 0 swapped out to make room for B's cap,
    // were deleted: stuff has no children left.
    expect_children(&env, s.stuff, false, "stuff after Delete of A")?;
    // B was not destroyed: its other endpoints remain, unreachable, and
    // home still has a child.
    expect_children(&env, deep, true, "deep after Delete of A")?;
    expect_taken(
        &env,
        s.home,
        UT_BITS,
        2 * CNODE_BYTES,
        "Retype of all of home while B remains",
    )?;
    // D had another cap: it and its contents are intact.
    expect_tag(d, tag::CNODE, "D's root cap after Delete of A")?;
    expect_nested_tag(&env, d, 2, RADIX, tag::ENDPOINT, "D slot 2")?;
    expect_children(&env, d_ut, true, "D's untyped after Delete of A")?;
    // Revoking the untypeds that cover B cleans it up.
    expect_ok(ROOT.revoke(deep.bits(), FULL), "Revoke of deep")?;
    expect_children(&env, deep, false, "deep after its Revoke")?;
    expect_all_reclaimed(&env, &s)
}

/// Deleting one of two caps to a CNode leaves the CNode and its contents;
/// deleting the other then deletes the contents.
pub(super) fn delete_not_last_cap(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = setup(&env, 1)?;
    let c = s.cnodes;
    fill(s.stuff, c, [3, 9].into_iter())?;
    let c2 = env.slot()?;
    expect_ok(copy(c2, c, CapRights::ALL), "Copy of the CNode's cap")?;
    expect_ok(delete(c), "Delete of the original CNode cap")?;
    expect_tags(&[(c, tag::NULL), (c2, tag::CNODE)], "after Delete")?;
    expect_nested_tag(&env, c2, 3, RADIX, tag::ENDPOINT, "slot 3 via the copy")?;
    expect_nested_tag(&env, c2, 9, RADIX, tag::ENDPOINT, "slot 9 via the copy")?;
    expect_nested_tag(&env, c2, 0, RADIX, tag::NULL, "slot 0 via the copy")?;
    expect_children(&env, s.stuff, true, "stuff after Delete of one cap")?;
    // The copy is a working CNode cap: a retype into it lands.
    expect_ok(
        retype_into(s.stuff, ObjectType::Endpoint, c2, 4, 1),
        "Retype into the CNode via the copy",
    )?;
    expect_nested_tag(&env, c2, 4, RADIX, tag::ENDPOINT, "slot 4 via the copy")?;
    expect_taken(
        &env,
        s.home,
        UT_BITS,
        CNODE_BYTES,
        "Retype of all of home while the copy lives",
    )?;
    expect_ok(delete(c2), "Delete of the last CNode cap")?;
    expect_tag(c2, tag::NULL, "the copy's slot after Delete")?;
    expect_children(&env, s.stuff, false, "stuff after Delete of the last cap")?;
    Ok(())
}
