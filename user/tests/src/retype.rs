//! `seL4_Untyped_Retype`: every classic object type, destination windows,
//! the untyped watermark, reset after revoke, and every error with its data
//! (ch. 2 Objects, *Untyped Memory* and *Reusing Memory*; ch. 10 API
//! *Untyped Retype*; ABI ref §5, §7.2, §8).
//!
//! The kernel's check order (ABI ref §7.2): label, length and extra cap;
//! type; size; CapTable/Untyped minimum size; destination lookup; offset;
//! number of objects; window; empty slots; free memory; device memory.

use crate::fixture::{
    device_untyped, expect_err, expect_ok, expect_tag, failed_lookup, failure, id, missing, range,
    raw, retype, revoke, Env, FULL, ROOT,
};
use crate::framework::{Ctx, Test, TestResult};
use sel4::abi::invocation::label;
use sel4::{tag, CNode, CapRights, Error, LookupFailure, ObjectType, Untyped, Word};

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "retype_untyped",
        run: |c| {
            one_type(c, ObjectType::Untyped, 4, tag::UNTYPED)?;
            one_type(c, ObjectType::Untyped, 12, tag::UNTYPED)
        },
    },
    Test {
        name: "retype_tcb",
        run: |c| one_type(c, ObjectType::Tcb, 0, tag::THREAD),
    },
    Test {
        name: "retype_endpoint",
        run: |c| one_type(c, ObjectType::Endpoint, 0, tag::ENDPOINT),
    },
    Test {
        name: "retype_notification",
        run: |c| one_type(c, ObjectType::Notification, 0, tag::NOTIFICATION),
    },
    Test {
        name: "retype_cnode_radix_1",
        run: |c| one_type(c, ObjectType::CapTable, 1, tag::CNODE),
    },
    Test {
        name: "retype_cnode_radix_10",
        run: |c| one_type(c, ObjectType::CapTable, 10, tag::CNODE),
    },
    Test {
        name: "retype_small_page",
        run: |c| one_type(c, ObjectType::SmallPage, 0, tag::FRAME),
    },
    Test {
        name: "retype_mega_page",
        run: |c| one_type(c, ObjectType::MegaPage, 0, tag::FRAME),
    },
    Test {
        name: "retype_page_table",
        run: |c| one_type(c, ObjectType::PageTable, 0, tag::PAGE_TABLE),
    },
    Test {
        name: "retype_giga_page_from_device_untyped",
        run: giga_page,
    },
    Test {
        name: "retype_fixed_size_type_ignores_size_bits",
        run: |c| one_type(c, ObjectType::Endpoint, 63, tag::ENDPOINT),
    },
    Test {
        name: "retype_several_objects_fill_consecutive_slots",
        run: several_objects,
    },
    Test {
        name: "retype_into_nested_cnode",
        run: nested_cnode,
    },
    Test {
        name: "retype_depth_zero_uses_root_excap",
        run: depth_zero,
    },
    Test {
        name: "retype_new_cnode_is_empty",
        run: new_cnode_empty,
    },
    Test {
        name: "retype_bad_type_invalid_argument_0",
        run: bad_type,
    },
    Test {
        name: "retype_size_too_large_range_error",
        run: size_too_large,
    },
    Test {
        name: "retype_max_size_passes_size_check",
        run: max_size_accepted,
    },
    Test {
        name: "retype_cnode_radix_0_invalid_argument_1",
        run: cnode_radix_zero,
    },
    Test {
        name: "retype_untyped_below_min_invalid_argument_1",
        run: untyped_too_small,
    },
    Test {
        name: "retype_offset_beyond_radix_range_error",
        run: offset_beyond_radix,
    },
    Test {
        name: "retype_num_objects_range_error",
        run: num_objects_range,
    },
    Test {
        name: "retype_window_overrun_range_error",
        run: window_overrun,
    },
    Test {
        name: "retype_occupied_destination_delete_first",
        run: occupied_destination,
    },
    Test {
        name: "retype_not_enough_memory_reports_free_bytes",
        run: not_enough_memory,
    },
    Test {
        name: "retype_4k_untyped_holds_256_endpoints",
        run: exhaust_256_endpoints,
    },
    Test {
        name: "retype_objects_aligned_to_their_size",
        run: aligned_placement,
    },
    Test {
        name: "retype_device_untyped_refuses_kernel_objects",
        run: device_kernel_objects,
    },
    Test {
        name: "retype_device_untyped_makes_frames_and_untypeds",
        run: device_frames,
    },
    Test {
        name: "retype_destination_not_cnode_failed_lookup",
        run: dest_not_cnode,
    },
    Test {
        name: "retype_destination_depth_range_error",
        run: dest_depth_range,
    },
    Test {
        name: "retype_destination_depth_guard_mismatch",
        run: dest_depth_guard_mismatch,
    },
    Test {
        name: "retype_truncated_message",
        run: truncated,
    },
    Test {
        name: "retype_bad_label_illegal_operation",
        run: bad_label,
    },
    Test {
        name: "retype_checks_type_then_size_then_destination",
        run: check_order,
    },
    Test {
        name: "retype_copy_untyped_with_children_revoke_first",
        run: copy_with_children,
    },
    Test {
        name: "retype_revoke_deletes_children_and_resets",
        run: revoke_resets,
    },
    Test {
        name: "retype_delete_last_child_resets",
        run: delete_last_child_resets,
    },
    Test {
        name: "retype_from_child_untyped",
        run: child_untyped,
    },
];

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

/// Retype into `cnode` (a root slot holding a CNode cap) at `offset`.
fn retype_into(
    ut: Untyped,
    t: ObjectType,
    cnode: Word,
    offset: Word,
    n: Word,
) -> Result<(), Error> {
    ut.retype(t, 0, ROOT, cnode, Word::from(FULL), offset, n)
}

/// Moves slot `index` of the guard-0 CNode at root slot `cnode` (radix
/// `radix`) out to a fresh root slot, whose cap type it returns (0 if the
/// move failed, e.g. because the slot was empty).
fn peek(
    env: &Env<'_>,
    cnode: Word,
    radix: u8,
    index: Word,
) -> Result<Word, crate::framework::Failure> {
    let out = env.slot()?;
    Ok(
        match ROOT.move_(out, FULL, CNode::from_bits(cnode), index, radix) {
            Ok(()) => id(out),
            Err(_) => tag::NULL,
        },
    )
}

fn one_type(ctx: &Ctx<'_>, t: ObjectType, size_bits: Word, want: Word) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    expect_ok(retype(env.pool(), t, size_bits, slot, 1), "Retype")?;
    expect_tag(slot, want, "the new cap")
}

fn giga_page(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    // Device memory is not zeroed, so a device untyped makes a 1 GiB frame
    // cheaply. Without one there is nothing to check.
    let Some(dev) = device_untyped(ctx, 30) else {
        return Ok(());
    };
    let slot = env.slot()?;
    let r = retype(dev.cap, ObjectType::GigaPage, 0, slot, 1);
    let tag_now = id(slot);
    let _ = revoke(dev.cap.bits());
    expect_ok(r, "Retype of a 1 GiB frame")?;
    crate::check_eq!(tag_now, tag::FRAME, "the new cap's type");
    Ok(())
}

fn several_objects(ctx: &Ctx<'_>) -> TestResult {
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

fn nested_cnode(ctx: &Ctx<'_>) -> TestResult {
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
        let got = peek(&env, cn, 2, i as Word)?;
        crate::check!(
            got == want,
            "nested slot {i}: cap type {got}, expected {want}"
        );
    }
    Ok(())
}

fn depth_zero(ctx: &Ctx<'_>) -> TestResult {
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
    let got = peek(&env, cn, 2, 3)?;
    crate::check_eq!(got, tag::NOTIFICATION, "nested slot 3");
    Ok(())
}

fn new_cnode_empty(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let cn = env.cnode(3)?;
    let out = env.slot()?;
    for i in 0..8 {
        expect_err(
            ROOT.move_(out, FULL, CNode::from_bits(cn), i, 3),
            missing(true, 3),
            "Move from a slot of a new CNode",
        )?;
    }
    Ok(())
}

fn bad_type(ctx: &Ctx<'_>) -> TestResult {
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

fn size_too_large(ctx: &Ctx<'_>) -> TestResult {
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

fn max_size_accepted(ctx: &Ctx<'_>) -> TestResult {
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

fn cnode_radix_zero(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    expect_err(
        retype(env.pool(), ObjectType::CapTable, 0, slot, 1),
        Error::InvalidArgument { index: 1 },
        "Retype of a radix-0 CNode",
    )?;
    expect_tag(slot, tag::NULL, "destination")
}

fn untyped_too_small(ctx: &Ctx<'_>) -> TestResult {
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

fn offset_beyond_radix(ctx: &Ctx<'_>) -> TestResult {
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

fn num_objects_range(ctx: &Ctx<'_>) -> TestResult {
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

fn window_overrun(ctx: &Ctx<'_>) -> TestResult {
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

fn occupied_destination(ctx: &Ctx<'_>) -> TestResult {
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

fn not_enough_memory(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = env.slots(2)?;
    let ut = env.untyped(12)?;
    expect_ok(
        retype(ut, ObjectType::SmallPage, 0, s, 1),
        "Retype of a frame",
    )?;
    expect_err(
        retype(ut, ObjectType::Endpoint, 0, s + 1, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype from a full 4 KiB untyped",
    )?;
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

fn exhaust_256_endpoints(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let cn = env.cnode(8)?;
    expect_ok(
        retype_into(ut, ObjectType::Endpoint, cn, 0, 256),
        "Retype of 256 endpoints from 4 KiB",
    )?;
    let s = env.slot()?;
    expect_err(
        retype(ut, ObjectType::Endpoint, 0, s, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype of a 257th endpoint",
    )?;
    crate::check_eq!(peek(&env, cn, 8, 255)?, tag::ENDPOINT, "nested slot 255");
    Ok(())
}

fn aligned_placement(ctx: &Ctx<'_>) -> TestResult {
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
    expect_err(
        retype(ut, ObjectType::Endpoint, 0, s + 2, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype after an aligned TCB",
    )?;
    // Endpoint at 0, notification at 32: 4032 bytes = 252 endpoints left.
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
        retype_into(ut, ObjectType::Endpoint, cn, 0, 253),
        Error::NotEnoughMemory { available: 4032 },
        "Retype of 253 endpoints into 4032 bytes",
    )?;
    expect_ok(
        retype_into(ut, ObjectType::Endpoint, cn, 0, 252),
        "Retype of 252 endpoints into 4032 bytes",
    )?;
    expect_err(
        retype_into(ut, ObjectType::Endpoint, cn, 252, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype from the full untyped",
    )
}

fn device_kernel_objects(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let Some(dev) = device_untyped(ctx, 14) else {
        return Err(failure!("no device untyped of 16 KiB or more"));
    };
    let slot = env.slot()?;
    let cases = [
        (ObjectType::Tcb, 0),
        (ObjectType::Endpoint, 0),
        (ObjectType::Notification, 0),
        (ObjectType::CapTable, 1),
        (ObjectType::PageTable, 0),
    ];
    let mut result = Ok(());
    for (t, bits) in cases {
        let r = retype(dev.cap, t, bits, slot, 1);
        if r != Err(Error::InvalidArgument { index: 1 }) {
            result = Err(failure!(
                "{t:?} from a device untyped: {r:?}, expected InvalidArgument(1)"
            ));
            break;
        }
    }
    let _ = revoke(dev.cap.bits());
    result?;
    expect_tag(slot, tag::NULL, "destination")
}

fn device_frames(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let Some(dev) = device_untyped(ctx, 14) else {
        return Err(failure!("no device untyped of 16 KiB or more"));
    };
    let s = env.slots(2)?;
    let frame = retype(dev.cap, ObjectType::SmallPage, 0, s, 1);
    let untyped = retype(dev.cap, ObjectType::Untyped, 12, s + 1, 1);
    let tags = (id(s), id(s + 1));
    let _ = revoke(dev.cap.bits());
    expect_ok(frame, "Retype of a frame from a device untyped")?;
    expect_ok(untyped, "Retype of an untyped from a device untyped")?;
    crate::check_eq!(tags, (tag::FRAME, tag::UNTYPED), "the new caps' types");
    Ok(())
}

fn dest_not_cnode(ctx: &Ctx<'_>) -> TestResult {
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

fn dest_depth_range(ctx: &Ctx<'_>) -> TestResult {
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

fn dest_depth_guard_mismatch(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let cn = env.cnode(2)?;
    expect_err(
        env.pool()
            .retype(ObjectType::Endpoint, 0, ROOT, cn, 13, 0, 1),
        failed_lookup(false, env.short_depth_failure(13)),
        "Retype with node_depth 13",
    )
}

fn truncated(ctx: &Ctx<'_>) -> TestResult {
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

fn bad_label(ctx: &Ctx<'_>) -> TestResult {
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

fn check_order(ctx: &Ctx<'_>) -> TestResult {
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

fn copy_with_children(ctx: &Ctx<'_>) -> TestResult {
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

fn revoke_resets(ctx: &Ctx<'_>) -> TestResult {
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
    expect_err(
        retype(ut, ObjectType::Endpoint, 0, s + 1, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype from the full untyped",
    )?;
    expect_ok(revoke(ut.bits()), "Revoke of the untyped")?;
    expect_tag(s, tag::NULL, "a child after Revoke")?;
    crate::check_eq!(
        peek(&env, cn, 8, 0)?,
        tag::NULL,
        "nested child 0 after Revoke"
    );
    expect_tag(ut.bits(), tag::UNTYPED, "the untyped after Revoke")?;
    expect_ok(
        retype_into(ut, ObjectType::Endpoint, cn, 0, 256),
        "Retype of 256 endpoints after Revoke",
    )
}

fn delete_last_child_resets(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ut = env.untyped(12)?;
    let s = env.slots(2)?;
    expect_ok(
        retype(ut, ObjectType::SmallPage, 0, s, 1),
        "Retype of a frame",
    )?;
    expect_err(
        retype(ut, ObjectType::Endpoint, 0, s + 1, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype from the full untyped",
    )?;
    expect_ok(crate::fixture::delete(s), "Delete of the only child")?;
    expect_ok(
        retype(ut, ObjectType::SmallPage, 0, s + 1, 1),
        "Retype of a frame once the untyped has no children",
    )
}

fn child_untyped(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let parent = env.untyped(13)?;
    let kids = env.slots(2)?;
    expect_ok(
        retype(parent, ObjectType::Untyped, 12, kids, 2),
        "Retype of two 4 KiB untypeds",
    )?;
    let s = env.slots(3)?;
    expect_err(
        retype(parent, ObjectType::Endpoint, 0, s, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype from the split parent",
    )?;
    let kid = Untyped::from_bits(kids + 1);
    expect_ok(
        retype(kid, ObjectType::Tcb, 0, s, 2),
        "Retype of two TCBs from a child",
    )?;
    expect_tag(s, tag::THREAD, "first TCB")?;
    expect_tag(s + 1, tag::THREAD, "second TCB")?;
    expect_err(
        retype(kid, ObjectType::Endpoint, 0, s + 2, 1),
        Error::NotEnoughMemory { available: 0 },
        "Retype from the full child",
    )
}
