//! Retype's argument errors and the order in which they are checked: type,
//! size, the CapTable and Untyped minimum sizes, message length and extra
//! cap, label (ABI ref §7.2, §8).

use crate::fixture::{expect_err, expect_tag, failure, range, raw, retype, Env, ROOT};
use crate::framework::{Ctx, TestResult};
use sel4::abi::invocation::label;
use sel4::{tag, Error, ObjectType, Untyped, Word};

/// Raw Retype: MR0..5 = type, size_bits, node_index, node_depth,
/// node_offset, num_objects; excap 0 = `root`.
#[allow(clippy::too_many_arguments)] // Mirrors seL4_Untyped_Retype.
fn raw_retype(
    ut: Untyped,
    t: Word,
    size_bits: Word,
    root: Word,
    index: Word,
    depth: Word,
    offset: Word,
    n: Word,
) -> Result<(), Error> {
    raw(
        ut.bits(),
        label::UNTYPED_RETYPE,
        &[t, size_bits, index, depth, offset, n],
        &[root],
    )
}

pub(super) fn bad_type(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    for t in [ObjectType::COUNT, 99, Word::MAX] {
        expect_err(
            raw_retype(env.pool(), t, 0, ROOT.bits(), 0, 0, slot, 1),
            Error::InvalidArgument { index: 0 },
            "Retype with a bad type",
        )?;
    }
    expect_tag(slot, tag::NULL, "destination")
}

pub(super) fn size_too_large(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    let cases = [
        (ObjectType::Untyped, 39),
        (ObjectType::Untyped, 64),
        (ObjectType::Untyped, Word::MAX),
        (ObjectType::CapTable, 34),
        (ObjectType::CapTable, 63),
        (ObjectType::Endpoint, 64),
        (ObjectType::SmallPage, 200),
    ];
    for (t, bits) in cases {
        let r = raw_retype(env.pool(), t as Word, bits, ROOT.bits(), 0, 0, slot, 1);
        if r != Err(range(0, 38)) {
            return Err(failure!(
                "{t:?} size_bits {bits}: {r:?}, expected RangeError(0, 38)"
            ));
        }
    }
    expect_tag(slot, tag::NULL, "destination")
}

pub(super) fn max_size_accepted(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    // 2^38 passes the size check and fails only for lack of memory: the
    // pool, revoked and unused, reports all its bytes free.
    let free = 1 << env.pool_bits();
    for (t, bits) in [(ObjectType::Untyped, 38), (ObjectType::CapTable, 33)] {
        expect_err(
            retype(env.pool(), t, bits, slot, 1),
            Error::NotEnoughMemory { available: free },
            "Retype of a 2^38-byte object",
        )?;
    }
    Ok(())
}

pub(super) fn cnode_radix_zero(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    expect_err(
        retype(env.pool(), ObjectType::CapTable, 0, slot, 1),
        Error::InvalidArgument { index: 1 },
        "Retype of a radix-0 CNode",
    )?;
    expect_tag(slot, tag::NULL, "destination")
}

pub(super) fn untyped_too_small(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    for bits in [0, 3] {
        expect_err(
            retype(env.pool(), ObjectType::Untyped, bits, slot, 1),
            Error::InvalidArgument { index: 1 },
            "Retype of an untyped below 2^4",
        )?;
    }
    expect_tag(slot, tag::NULL, "destination")
}

pub(super) fn truncated(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    let pool = env.pool().bits();
    let args = [ObjectType::Endpoint as Word, 0, 0, 0, slot, 1];
    for n in 0..6 {
        expect_err(
            raw(
                pool,
                label::UNTYPED_RETYPE,
                args.get(..n).unwrap_or(&[]),
                &[ROOT.bits()],
            ),
            Error::TruncatedMessage,
            "Retype with fewer than 6 words",
        )?;
    }
    expect_err(
        raw(pool, label::UNTYPED_RETYPE, &args, &[]),
        Error::TruncatedMessage,
        "Retype without a root extra cap",
    )?;
    expect_tag(slot, tag::NULL, "destination")
}

pub(super) fn bad_label(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    let args = [ObjectType::Endpoint as Word, 0, 0, 0, slot, 1];
    for l in [
        label::INVALID_INVOCATION,
        label::TCB_READ_REGISTERS,
        label::CNODE_COPY,
        0x1234,
    ] {
        expect_err(
            raw(env.pool().bits(), l, &args, &[ROOT.bits()]),
            Error::IllegalOperation,
            "an untyped invoked with a non-Retype label",
        )?;
    }
    expect_tag(slot, tag::NULL, "destination")
}

pub(super) fn check_order(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let pool = env.pool();
    let root = ROOT.bits();
    // Everything wrong: the type is reported.
    expect_err(
        raw_retype(pool, 99, 200, root, 0, 65, Word::MAX, 0),
        Error::InvalidArgument { index: 0 },
        "bad type, size, depth, offset and count",
    )?;
    // Good type: the size is reported.
    expect_err(
        raw_retype(
            pool,
            ObjectType::Untyped as Word,
            39,
            root,
            0,
            65,
            Word::MAX,
            0,
        ),
        range(0, 38),
        "bad size, depth, offset and count",
    )?;
    // Good size: the destination is reported.
    expect_err(
        raw_retype(
            pool,
            ObjectType::Endpoint as Word,
            0,
            root,
            0,
            65,
            Word::MAX,
            0,
        ),
        range(1, 64),
        "bad depth, offset and count",
    )?;
    // Good destination (the root): the offset, then the count.
    let slots = 1u64 << env.radix;
    expect_err(
        raw_retype(pool, ObjectType::Endpoint as Word, 0, root, 0, 0, slots, 0),
        range(0, slots - 1),
        "bad offset and count",
    )?;
    expect_err(
        raw_retype(
            pool,
            ObjectType::Endpoint as Word,
            0,
            root,
            0,
            0,
            slots - 1,
            0,
        ),
        range(1, 256),
        "bad count",
    )
}
