//! CNode invocations: Copy, Mint, Move, Mutate, Rotate, Delete, Revoke,
//! CancelBadgedSends and SaveCaller, their lookups (guards, depths) and
//! every error with its data (ch. 3 Capability Spaces, *CNode Methods*,
//! *Capability Derivation Tree*; ch. 10 API *CNode*; ABI ref §4, §7.4, §8).
//!
//! Decode order (ABI ref §7.4): label; length ≥ 2; destination lookup;
//! for Copy/Mint/Move/Mutate length ≥ 4 and excap 0, empty destination,
//! source lookup, non-empty source, the method's own length, then the new
//! cap (derivation, cap data) must not be null.
//!
//! One file per topic; [`TESTS`] is the one list, in running order:
//!
//! | file | what |
//! |---|---|
//! | `copy_mint` | Copy and Mint, badges, rights, CancelBadgedSends |
//! | `lookup` | slot lookup: depths, guards, index range, source root |
//! | `decode` | empty invoked slot, bad label, truncated message |
//! | `moves` | Move, Mutate, Rotate |
//! | `guard` | CNode guards set by Mint, Mutate, Rotate; two-level lookups |
//! | `delete` | Delete, Revoke, SaveCaller where the objects survive |
//! | `zombie` | deleting the last cap to a CNode: nesting, self-reference, cycles |
//! | `derive` | which caps Copy and Mint may derive |

mod copy_mint;
mod decode;
mod delete;
mod derive;
mod guard;
mod lookup;
mod moves;
mod zombie;

use crate::framework::Test;

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "cnode_copy_makes_same_cap",
        run: copy_mint::copy_same_cap,
    },
    Test {
        name: "cnode_copy_occupied_dest_delete_first",
        run: copy_mint::copy_occupied,
    },
    Test {
        name: "cnode_copy_empty_source_failed_lookup",
        run: copy_mint::copy_empty_source,
    },
    Test {
        name: "cnode_checks_dest_before_source",
        run: lookup::dest_before_source,
    },
    Test {
        name: "cnode_dest_short_depth_guard_mismatch",
        run: lookup::dest_short_depth,
    },
    Test {
        name: "cnode_source_short_depth_guard_mismatch",
        run: lookup::source_short_depth,
    },
    Test {
        name: "cnode_depth_between_guard_and_radix_depth_mismatch",
        run: lookup::depth_mismatch_root,
    },
    Test {
        name: "cnode_index_beyond_radix_guard_mismatch",
        run: lookup::index_beyond_radix,
    },
    Test {
        name: "cnode_depth_out_of_range",
        run: lookup::depth_out_of_range,
    },
    Test {
        name: "cnode_source_root_not_cnode_invalid_root",
        run: lookup::source_root_invalid,
    },
    Test {
        name: "invoking_an_empty_slot_invalid_capability",
        run: decode::invoke_empty_slot,
    },
    Test {
        name: "cnode_bad_label_illegal_operation",
        run: decode::bad_label,
    },
    Test {
        name: "cnode_short_message_truncated",
        run: decode::short_message,
    },
    Test {
        name: "cnode_mint_badges_endpoint_once",
        run: copy_mint::mint_badge_endpoint,
    },
    Test {
        name: "cnode_mint_badges_notification_once",
        run: copy_mint::mint_badge_notification,
    },
    Test {
        name: "cnode_mint_badge_zero_leaves_unbadged",
        run: copy_mint::mint_badge_zero,
    },
    Test {
        name: "cnode_copy_keeps_badge",
        run: copy_mint::copy_keeps_badge,
    },
    Test {
        name: "cnode_rights_only_shrink",
        run: copy_mint::rights_only_shrink,
    },
    Test {
        name: "cnode_cancel_badged_sends",
        run: copy_mint::cancel_badged_sends,
    },
    Test {
        name: "cnode_cancel_badged_sends_needs_endpoint",
        run: copy_mint::cancel_badged_sends_non_endpoint,
    },
    Test {
        name: "cnode_move_moves",
        run: moves::move_moves,
    },
    Test {
        name: "cnode_move_errors",
        run: moves::move_errors,
    },
    Test {
        name: "cnode_mutate_moves_and_ignores_data",
        run: moves::mutate_moves,
    },
    Test {
        name: "cnode_mutate_endpoint_notification_illegal",
        run: moves::mutate_ep_illegal,
    },
    Test {
        name: "cnode_guard_via_mint_resolves_two_levels",
        run: guard::two_level_mint,
    },
    Test {
        name: "cnode_guard_mismatch_data_two_levels",
        run: guard::two_level_guard_mismatch,
    },
    Test {
        name: "cnode_depth_mismatch_data_two_levels",
        run: guard::two_level_depth_mismatch,
    },
    Test {
        name: "cnode_guard_via_mutate",
        run: guard::guard_via_mutate,
    },
    Test {
        name: "cnode_guard_masked_to_guard_size",
        run: guard::guard_masked,
    },
    Test {
        name: "cnode_guard_too_large_illegal",
        run: guard::guard_too_large,
    },
    Test {
        name: "cnode_rotate_three_slots",
        run: moves::rotate_three,
    },
    Test {
        name: "cnode_rotate_swap",
        run: moves::rotate_swap,
    },
    Test {
        name: "cnode_rotate_pivot_same_as_src_or_dest_illegal",
        run: moves::rotate_pivot_same,
    },
    Test {
        name: "cnode_rotate_occupied_dest_delete_first",
        run: moves::rotate_occupied,
    },
    Test {
        name: "cnode_rotate_empty_src_or_pivot_failed_lookup",
        run: moves::rotate_empty,
    },
    Test {
        name: "cnode_rotate_endpoint_illegal",
        run: moves::rotate_endpoint,
    },
    Test {
        name: "cnode_rotate_sets_cnode_guard",
        run: guard::rotate_guard,
    },
    Test {
        name: "cnode_delete_empties_slot",
        run: delete::delete_empties,
    },
    Test {
        name: "cnode_delete_empty_slot_ok",
        run: delete::delete_empty,
    },
    Test {
        name: "cnode_delete_original_keeps_copy",
        run: delete::delete_original_keeps_copy,
    },
    Test {
        name: "cnode_revoke_deletes_all_derived",
        run: delete::revoke_derived,
    },
    Test {
        name: "cnode_revoke_leaf_keeps_parent",
        run: delete::revoke_leaf,
    },
    Test {
        name: "cnode_revoke_empty_slot_ok",
        run: delete::revoke_empty,
    },
    Test {
        name: "cnode_move_keeps_derivation",
        run: delete::move_keeps_derivation,
    },
    // SaveCaller exists only in the classic configuration (MCS keeps
    // replies in reply objects: `ipc_reply_object_*`).
    #[cfg(not(sel4_mcs))]
    Test {
        name: "cnode_save_caller_nothing_to_save",
        run: delete::save_caller_nothing,
    },
    #[cfg(not(sel4_mcs))]
    Test {
        name: "cnode_save_caller_occupied_delete_first",
        run: delete::save_caller_occupied,
    },
    Test {
        name: "cnode_copy_irq_control_illegal",
        run: derive::copy_irq_control,
    },
    Test {
        name: "cnode_copy_unmapped_page_table_illegal",
        run: derive::copy_unmapped_pt,
    },
    Test {
        name: "cnode_copy_mapped_page_table_and_frames",
        run: derive::copy_arch_caps,
    },
    Test {
        name: "cnode_copy_root_cnode_usable_as_root",
        run: derive::copy_root_cnode,
    },
    Test {
        name: "cnode_self_held_cap_in_slot_0_reclaimed_by_revoke",
        run: zombie::self_held_slot_0,
    },
    Test {
        name: "cnode_self_held_cap_in_middle_slot_reclaimed_by_revoke",
        run: zombie::self_held_middle_slot,
    },
    Test {
        name: "cnode_cycle_of_three_reclaimed_by_revoke",
        run: zombie::cycle_of_three,
    },
    Test {
        name: "cnode_delete_last_cap_nested_cnodes",
        run: zombie::delete_last_cap_nested,
    },
    Test {
        name: "cnode_delete_not_last_cap_keeps_cnode",
        run: zombie::delete_not_last_cap,
    },
];
