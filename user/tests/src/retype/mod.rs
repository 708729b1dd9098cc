//! `seL4_Untyped_Retype`: every classic object type, destination windows,
//! the untyped watermark, reset after revoke, and every error with its data
//! (ch. 2 Objects, *Untyped Memory* and *Reusing Memory*; ch. 10 API
//! *Untyped Retype*; ABI ref §5, §7.2, §8).
//!
//! The kernel's check order (ABI ref §7.2): label, length and extra cap;
//! type; size; CapTable/Untyped minimum size; destination lookup; offset;
//! number of objects; window; empty slots; free memory; device memory.
//!
//! One file per topic; [`TESTS`] is the one list, in running order:
//!
//! | file | what |
//! |---|---|
//! | `objects` | each object type, device untypeds, a new CNode is empty |
//! | `dest` | destination window, nested CNodes, destination errors |
//! | `args` | type, size, length, label errors and their order |
//! | `memory` | watermark, alignment, children, reset |

mod args;
mod dest;
mod memory;
mod objects;

use crate::framework::Test;
use sel4::{tag, ObjectType};

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "retype_untyped",
        run: |c| {
            objects::one_type(c, ObjectType::Untyped, 4, tag::UNTYPED)?;
            objects::one_type(c, ObjectType::Untyped, 12, tag::UNTYPED)
        },
    },
    Test {
        name: "retype_tcb",
        run: |c| objects::one_type(c, ObjectType::Tcb, 0, tag::THREAD),
    },
    Test {
        name: "retype_endpoint",
        run: |c| objects::one_type(c, ObjectType::Endpoint, 0, tag::ENDPOINT),
    },
    Test {
        name: "retype_notification",
        run: |c| objects::one_type(c, ObjectType::Notification, 0, tag::NOTIFICATION),
    },
    Test {
        name: "retype_cnode_radix_1",
        run: |c| objects::one_type(c, ObjectType::CapTable, 1, tag::CNODE),
    },
    Test {
        name: "retype_cnode_radix_10",
        run: |c| objects::one_type(c, ObjectType::CapTable, 10, tag::CNODE),
    },
    Test {
        name: "retype_small_page",
        run: |c| objects::one_type(c, ObjectType::SmallPage, 0, tag::FRAME),
    },
    Test {
        name: "retype_mega_page",
        run: |c| objects::one_type(c, ObjectType::MegaPage, 0, tag::FRAME),
    },
    Test {
        name: "retype_page_table",
        run: |c| objects::one_type(c, ObjectType::PageTable, 0, tag::PAGE_TABLE),
    },
    Test {
        name: "retype_giga_page_from_device_untyped",
        run: objects::giga_page,
    },
    Test {
        name: "retype_fixed_size_type_ignores_size_bits",
        run: |c| objects::one_type(c, ObjectType::Endpoint, 63, tag::ENDPOINT),
    },
    Test {
        name: "retype_several_objects_fill_consecutive_slots",
        run: dest::several_objects,
    },
    Test {
        name: "retype_into_nested_cnode",
        run: dest::nested_cnode,
    },
    Test {
        name: "retype_depth_zero_uses_root_excap",
        run: dest::depth_zero,
    },
    Test {
        name: "retype_new_cnode_is_empty",
        run: objects::new_cnode_empty,
    },
    Test {
        name: "retype_bad_type_invalid_argument_0",
        run: args::bad_type,
    },
    Test {
        name: "retype_size_too_large_range_error",
        run: args::size_too_large,
    },
    Test {
        name: "retype_max_size_passes_size_check",
        run: args::max_size_accepted,
    },
    Test {
        name: "retype_cnode_radix_0_invalid_argument_1",
        run: args::cnode_radix_zero,
    },
    Test {
        name: "retype_untyped_below_min_invalid_argument_1",
        run: args::untyped_too_small,
    },
    Test {
        name: "retype_offset_beyond_radix_range_error",
        run: dest::offset_beyond_radix,
    },
    Test {
        name: "retype_num_objects_range_error",
        run: dest::num_objects_range,
    },
    Test {
        name: "retype_window_overrun_range_error",
        run: dest::window_overrun,
    },
    Test {
        name: "retype_occupied_destination_delete_first",
        run: dest::occupied_destination,
    },
    Test {
        name: "retype_not_enough_memory_reports_free_bytes",
        run: memory::not_enough_memory,
    },
    Test {
        name: "retype_4k_untyped_holds_256_endpoints",
        run: memory::exhaust_256_endpoints,
    },
    Test {
        name: "retype_objects_aligned_to_their_size",
        run: memory::aligned_placement,
    },
    Test {
        name: "retype_device_untyped_refuses_kernel_objects",
        run: objects::device_kernel_objects,
    },
    Test {
        name: "retype_device_untyped_makes_frames_and_untypeds",
        run: objects::device_frames,
    },
    Test {
        name: "retype_destination_not_cnode_failed_lookup",
        run: dest::dest_not_cnode,
    },
    Test {
        name: "retype_destination_depth_range_error",
        run: dest::dest_depth_range,
    },
    Test {
        name: "retype_destination_depth_guard_mismatch",
        run: dest::dest_depth_guard_mismatch,
    },
    Test {
        name: "retype_truncated_message",
        run: args::truncated,
    },
    Test {
        name: "retype_bad_label_illegal_operation",
        run: args::bad_label,
    },
    Test {
        name: "retype_checks_type_then_size_then_destination",
        run: args::check_order,
    },
    Test {
        name: "retype_copy_untyped_with_children_revoke_first",
        run: memory::copy_with_children,
    },
    Test {
        name: "retype_revoke_deletes_children_and_resets",
        run: memory::revoke_resets,
    },
    Test {
        name: "retype_delete_last_child_resets",
        run: memory::delete_last_child_resets,
    },
    Test {
        name: "retype_from_child_untyped",
        run: memory::child_untyped,
    },
];
