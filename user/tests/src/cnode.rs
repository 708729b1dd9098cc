//! CNode invocations: Copy, Mint, Move, Mutate, Rotate, Delete, Revoke,
//! CancelBadgedSends and SaveCaller, their lookups (guards, depths) and
//! every error with its data (ch. 3 Capability Spaces, *CNode Methods*,
//! *Capability Derivation Tree*; ch. 10 API *CNode*; ABI ref §4, §7.4, §8).
//!
//! Decode order (ABI ref §7.4): label; length ≥ 2; destination lookup;
//! for Copy/Mint/Move/Mutate length ≥ 4 and excap 0, empty destination,
//! source lookup, non-empty source, the method's own length, then the new
//! cap (derivation, cap data) must not be null.

use crate::fixture::{
    copy, delete, expect_err, expect_ok, expect_tag, failed_lookup, failure, id, mint, missing,
    move_, mutate, range, raw, revoke, Env, FULL, ROOT,
};
use crate::framework::{Ctx, Failure, Test, TestResult};
use sel4::abi::cap::cnode_cap_data;
use sel4::abi::invocation::label;
use sel4::object::cnode::RotateSlot;
use sel4::{init, tag, CNode, CapRights, Error, LookupFailure, ObjectType, Word};

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "cnode_copy_makes_same_cap",
        run: copy_same_cap,
    },
    Test {
        name: "cnode_copy_occupied_dest_delete_first",
        run: copy_occupied,
    },
    Test {
        name: "cnode_copy_empty_source_failed_lookup",
        run: copy_empty_source,
    },
    Test {
        name: "cnode_checks_dest_before_source",
        run: dest_before_source,
    },
    Test {
        name: "cnode_dest_short_depth_guard_mismatch",
        run: dest_short_depth,
    },
    Test {
        name: "cnode_source_short_depth_guard_mismatch",
        run: source_short_depth,
    },
    Test {
        name: "cnode_depth_between_guard_and_radix_depth_mismatch",
        run: depth_mismatch_root,
    },
    Test {
        name: "cnode_index_beyond_radix_guard_mismatch",
        run: index_beyond_radix,
    },
    Test {
        name: "cnode_depth_out_of_range",
        run: depth_out_of_range,
    },
    Test {
        name: "cnode_source_root_not_cnode_invalid_root",
        run: source_root_invalid,
    },
    Test {
        name: "invoking_an_empty_slot_invalid_capability",
        run: invoke_empty_slot,
    },
    Test {
        name: "cnode_bad_label_illegal_operation",
        run: bad_label,
    },
    Test {
        name: "cnode_short_message_truncated",
        run: short_message,
    },
    Test {
        name: "cnode_mint_badges_endpoint_once",
        run: mint_badge_endpoint,
    },
    Test {
        name: "cnode_mint_badges_notification_once",
        run: mint_badge_notification,
    },
    Test {
        name: "cnode_mint_badge_zero_leaves_unbadged",
        run: mint_badge_zero,
    },
    Test {
        name: "cnode_copy_keeps_badge",
        run: copy_keeps_badge,
    },
    Test {
        name: "cnode_rights_only_shrink",
        run: rights_only_shrink,
    },
    Test {
        name: "cnode_cancel_badged_sends",
        run: cancel_badged_sends,
    },
    Test {
        name: "cnode_cancel_badged_sends_needs_endpoint",
        run: cancel_badged_sends_non_endpoint,
    },
    Test {
        name: "cnode_move_moves",
        run: move_moves,
    },
    Test {
        name: "cnode_move_errors",
        run: move_errors,
    },
    Test {
        name: "cnode_mutate_moves_and_ignores_data",
        run: mutate_moves,
    },
    Test {
        name: "cnode_mutate_endpoint_notification_illegal",
        run: mutate_ep_illegal,
    },
    Test {
        name: "cnode_guard_via_mint_resolves_two_levels",
        run: two_level_mint,
    },
    Test {
        name: "cnode_guard_mismatch_data_two_levels",
        run: two_level_guard_mismatch,
    },
    Test {
        name: "cnode_depth_mismatch_data_two_levels",
        run: two_level_depth_mismatch,
    },
    Test {
        name: "cnode_guard_via_mutate",
        run: guard_via_mutate,
    },
    Test {
        name: "cnode_guard_masked_to_guard_size",
        run: guard_masked,
    },
    Test {
        name: "cnode_guard_too_large_illegal",
        run: guard_too_large,
    },
    Test {
        name: "cnode_rotate_three_slots",
        run: rotate_three,
    },
    Test {
        name: "cnode_rotate_swap",
        run: rotate_swap,
    },
    Test {
        name: "cnode_rotate_pivot_same_as_src_or_dest_illegal",
        run: rotate_pivot_same,
    },
    Test {
        name: "cnode_rotate_occupied_dest_delete_first",
        run: rotate_occupied,
    },
    Test {
        name: "cnode_rotate_empty_src_or_pivot_failed_lookup",
        run: rotate_empty,
    },
    Test {
        name: "cnode_rotate_endpoint_illegal",
        run: rotate_endpoint,
    },
    Test {
        name: "cnode_rotate_sets_cnode_guard",
        run: rotate_guard,
    },
    Test {
        name: "cnode_delete_empties_slot",
        run: delete_empties,
    },
    Test {
        name: "cnode_delete_empty_slot_ok",
        run: delete_empty,
    },
    Test {
        name: "cnode_delete_original_keeps_copy",
        run: delete_original_keeps_copy,
    },
    Test {
        name: "cnode_revoke_deletes_all_derived",
        run: revoke_derived,
    },
    Test {
        name: "cnode_revoke_leaf_keeps_parent",
        run: revoke_leaf,
    },
    Test {
        name: "cnode_revoke_empty_slot_ok",
        run: revoke_empty,
    },
    Test {
        name: "cnode_move_keeps_derivation",
        run: move_keeps_derivation,
    },
    Test {
        name: "cnode_save_caller_nothing_to_save",
        run: save_caller_nothing,
    },
    Test {
        name: "cnode_save_caller_occupied_delete_first",
        run: save_caller_occupied,
    },
    Test {
        name: "cnode_copy_irq_control_illegal",
        run: copy_irq_control,
    },
    Test {
        name: "cnode_copy_unmapped_page_table_illegal",
        run: copy_unmapped_pt,
    },
    Test {
        name: "cnode_copy_mapped_page_table_and_frames",
        run: copy_arch_caps,
    },
    Test {
        name: "cnode_copy_root_cnode_usable_as_root",
        run: copy_root_cnode,
    },
];

/// A Rotate end at full depth in the root.
const fn at(index: Word, badge: Word) -> RotateSlot {
    RotateSlot {
        index,
        depth: FULL,
        badge,
    }
}

/// Root Rotate: pivot → dest, src → pivot.
fn rotate(dest: RotateSlot, pivot: RotateSlot, src: RotateSlot) -> Result<(), Error> {
    ROOT.rotate(dest, ROOT, pivot, ROOT, src)
}

/// Fails unless the slots hold caps of the given types.
fn expect_tags(pairs: &[(Word, Word)], what: &str) -> TestResult {
    for &(slot, want) in pairs {
        expect_tag(slot, want, what)?;
    }
    Ok(())
}

fn copy_same_cap(ctx: &Ctx<'_>) -> TestResult {
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

fn copy_occupied(ctx: &Ctx<'_>) -> TestResult {
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

fn copy_empty_source(ctx: &Ctx<'_>) -> TestResult {
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

fn dest_before_source(ctx: &Ctx<'_>) -> TestResult {
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

fn dest_short_depth(ctx: &Ctx<'_>) -> TestResult {
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

fn source_short_depth(ctx: &Ctx<'_>) -> TestResult {
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

fn depth_mismatch_root(ctx: &Ctx<'_>) -> TestResult {
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

fn index_beyond_radix(ctx: &Ctx<'_>) -> TestResult {
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

fn depth_out_of_range(ctx: &Ctx<'_>) -> TestResult {
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

fn source_root_invalid(ctx: &Ctx<'_>) -> TestResult {
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

/// An empty slot is found by the lookup (no cap fault) and holds the null
/// capability, whose invocation is InvalidCapability(0) whatever the label.
fn invoke_empty_slot(ctx: &Ctx<'_>) -> TestResult {
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

fn bad_label(ctx: &Ctx<'_>) -> TestResult {
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

fn short_message(ctx: &Ctx<'_>) -> TestResult {
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

fn mint_badge_endpoint(ctx: &Ctx<'_>) -> TestResult {
    mint_badge_once(ctx, ObjectType::Endpoint, tag::ENDPOINT)
}

fn mint_badge_notification(ctx: &Ctx<'_>) -> TestResult {
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

fn mint_badge_zero(ctx: &Ctx<'_>) -> TestResult {
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

fn copy_keeps_badge(ctx: &Ctx<'_>) -> TestResult {
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

fn rights_only_shrink(ctx: &Ctx<'_>) -> TestResult {
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

fn cancel_badged_sends(ctx: &Ctx<'_>) -> TestResult {
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

fn cancel_badged_sends_non_endpoint(ctx: &Ctx<'_>) -> TestResult {
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

fn move_moves(ctx: &Ctx<'_>) -> TestResult {
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

fn move_errors(ctx: &Ctx<'_>) -> TestResult {
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

fn mutate_moves(ctx: &Ctx<'_>) -> TestResult {
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

fn mutate_ep_illegal(ctx: &Ctx<'_>) -> TestResult {
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

fn two_level_mint(ctx: &Ctx<'_>) -> TestResult {
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

fn two_level_guard_mismatch(ctx: &Ctx<'_>) -> TestResult {
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

fn two_level_depth_mismatch(ctx: &Ctx<'_>) -> TestResult {
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

fn guard_via_mutate(ctx: &Ctx<'_>) -> TestResult {
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

fn guard_masked(ctx: &Ctx<'_>) -> TestResult {
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

fn guard_too_large(ctx: &Ctx<'_>) -> TestResult {
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

fn rotate_three(ctx: &Ctx<'_>) -> TestResult {
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

fn rotate_swap(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let a = env.tcb_copy()?;
    let b = env.create(ObjectType::PageTable, 0)?;
    expect_ok(
        rotate(at(a, 0), at(b, 0), at(a, 0)),
        "Rotate with dest == src",
    )?;
    expect_tags(&[(a, tag::PAGE_TABLE), (b, tag::THREAD)], "after the swap")
}

fn rotate_pivot_same(ctx: &Ctx<'_>) -> TestResult {
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

fn rotate_occupied(ctx: &Ctx<'_>) -> TestResult {
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

fn rotate_empty(ctx: &Ctx<'_>) -> TestResult {
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

fn rotate_endpoint(ctx: &Ctx<'_>) -> TestResult {
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

fn rotate_guard(ctx: &Ctx<'_>) -> TestResult {
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

fn delete_empties(ctx: &Ctx<'_>) -> TestResult {
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

fn delete_empty(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = env.slot()?;
    expect_ok(delete(s), "Delete of an empty slot")?;
    expect_ok(delete(s), "Delete of it again")?;
    expect_tag(s, tag::NULL, "the slot")
}

fn delete_original_keeps_copy(ctx: &Ctx<'_>) -> TestResult {
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

fn revoke_derived(ctx: &Ctx<'_>) -> TestResult {
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

fn revoke_leaf(ctx: &Ctx<'_>) -> TestResult {
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

fn revoke_empty(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = env.slot()?;
    expect_ok(revoke(s), "Revoke of an empty slot")?;
    expect_tag(s, tag::NULL, "the slot")
}

fn move_keeps_derivation(ctx: &Ctx<'_>) -> TestResult {
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

fn save_caller_nothing(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let s = env.slot()?;
    // The root task was never called, so it has no reply cap to save.
    expect_ok(ROOT.save_caller(s, FULL), "SaveCaller with no caller")?;
    expect_tag(s, tag::NULL, "the slot")
}

fn save_caller_occupied(ctx: &Ctx<'_>) -> TestResult {
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

fn copy_irq_control(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let d = env.slot()?;
    expect_err(
        copy(d, init::IRQ_CONTROL, CapRights::ALL),
        Error::IllegalOperation,
        "Copy of IRQControl",
    )?;
    expect_err(
        mint(d, init::IRQ_CONTROL, CapRights::ALL, 0),
        Error::IllegalOperation,
        "Mint of IRQControl",
    )?;
    expect_tags(
        &[(d, tag::NULL), (init::IRQ_CONTROL, tag::IRQ_CONTROL)],
        "after the failures",
    )
}

fn copy_unmapped_pt(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let pt = env.create(ObjectType::PageTable, 0)?;
    let d = env.slot()?;
    expect_err(
        copy(d, pt, CapRights::ALL),
        Error::IllegalOperation,
        "Copy of an unmapped page table",
    )?;
    expect_err(
        mint(d, pt, CapRights::ALL, 0),
        Error::IllegalOperation,
        "Mint of an unmapped page table",
    )?;
    expect_tag(d, tag::NULL, "destination")?;
    // Move needs no derivation.
    expect_ok(move_(d, pt), "Move of an unmapped page table")?;
    expect_tag(d, tag::PAGE_TABLE, "moved page table")
}

fn copy_arch_caps(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let frame = env.create(ObjectType::SmallPage, 0)?;
    let d = env.slots(6)?;
    let copies = [
        (
            init::VSPACE,
            tag::PAGE_TABLE,
            "the root VSpace (a mapped page table)",
        ),
        (init::IPC_BUFFER, tag::FRAME, "the mapped IPC buffer frame"),
        (frame, tag::FRAME, "an unmapped frame"),
        (init::ASID_CONTROL, tag::ASID_CONTROL, "ASIDControl"),
        (init::ASID_POOL, tag::ASID_POOL, "the root ASID pool"),
        (init::DOMAIN, tag::DOMAIN, "the DomainSet cap"),
    ];
    for (i, (src, want, what)) in copies.into_iter().enumerate() {
        let dest = d + i as Word;
        if let Err(e) = copy(dest, src, CapRights::ALL) {
            return Err(failure!("Copy of {what}: {e}, expected success"));
        }
        let got = id(dest);
        crate::check!(
            got == want,
            "copy of {what}: cap type {got}, expected {want}"
        );
    }
    // The copies stay: deleting them would only add a risk (finalising a
    // boot-time object by mistake) for no check.
    Ok(())
}

fn copy_root_cnode(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let c = env.slot()?;
    expect_ok(
        copy(c, init::CNODE, CapRights::NONE),
        "Copy of the root CNode",
    )?;
    expect_tag(c, tag::CNODE, "the copy")?;
    let croot = CNode::from_bits(c);
    let (a, b) = (env.slot()?, env.slot()?);
    expect_ok(
        croot.copy(a, FULL, croot, init::TCB, FULL, CapRights::ALL),
        "Copy invoked on the copy (rights do not apply to CNodes)",
    )?;
    expect_ok(move_(b, a), "Move")?;
    expect_tags(&[(a, tag::NULL), (b, tag::THREAD)], "after Copy and Move")
}
