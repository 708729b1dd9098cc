//! IPC between threads (ch. 4 Message Passing, ch. 5 Notifications, ch. 6
//! *Faults*): the root thread and worker threads of its own address space
//! (`worker`) send, call, reply, signal and fault, and check what arrives;
//! `cross_as` does the same with workers in a second address space.
//!
//! Workers run at the root thread's priority (255) unless a test says
//! otherwise, so the order of events is decided by blocking and by
//! `seL4_Yield`: a worker started or woken by the root thread runs once the
//! root thread blocks or yields.

mod cross_as;
mod endpoint;
mod fault;
mod notification;
pub(crate) mod worker;

use crate::framework::Test;

pub const TESTS: &[Test] = &[
    Test {
        name: "ipc_send_blocks_until_recv_with_badge_and_mrs",
        run: endpoint::send_then_recv,
    },
    Test {
        name: "ipc_recv_blocks_until_send",
        run: endpoint::recv_then_send,
    },
    Test {
        name: "ipc_call_and_reply_recv_server",
        run: endpoint::call_reply_recv,
    },
    Test {
        name: "ipc_call_without_grant_leaves_no_reply_cap",
        run: endpoint::call_without_grant,
    },
    // Classic: SaveCaller keeps a reply cap that later Recvs leave alone;
    // MCS: the reply object does the same without it.
    #[cfg(not(sel4_mcs))]
    Test {
        name: "ipc_save_caller_then_reply_through_the_saved_cap",
        run: endpoint::save_caller_reply,
    },
    #[cfg(sel4_mcs)]
    Test {
        name: "ipc_reply_object_answers_after_another_recv",
        run: endpoint::reply_object_outlives_recv,
    },
    Test {
        name: "ipc_cap_transfer_with_and_without_grant",
        run: endpoint::cap_transfer,
    },
    Test {
        name: "ipc_cap_to_the_same_endpoint_unwrapped_to_badge",
        run: endpoint::cap_unwrap,
    },
    Test {
        name: "ipc_nb_send_and_nb_recv_do_not_block",
        run: endpoint::non_blocking,
    },
    Test {
        name: "ipc_full_length_message_through_ipc_buffers",
        run: endpoint::long_message,
    },
    Test {
        name: "ipc_ping_pong_across_address_spaces",
        run: cross_as::ping_pong,
    },
    Test {
        name: "ipc_cap_transfer_across_address_spaces",
        run: cross_as::cap_transfer,
    },
    Test {
        name: "ipc_second_address_space_cannot_see_root_only_page",
        run: cross_as::root_page_invisible,
    },
    Test {
        name: "ipc_second_address_space_text_is_read_only",
        run: cross_as::text_read_only,
    },
    Test {
        name: "ipc_second_address_space_revoke_keeps_root_mappings",
        run: cross_as::teardown_keeps_root_mappings,
    },
    Test {
        name: "ipc_second_address_space_remap_is_seen_across_switches",
        run: cross_as::remap_is_seen_across_switches,
    },
    Test {
        name: "ntfn_signal_wakes_a_waiting_thread",
        run: notification::signal_wakes,
    },
    Test {
        name: "ntfn_badges_or_until_waited",
        run: notification::badges_or,
    },
    Test {
        name: "ntfn_bound_thread_recv_gets_the_signal",
        run: notification::bound_recv,
    },
    Test {
        name: "fault_unknown_syscall_delivered_and_skipped_by_reply",
        run: fault::unknown_syscall,
    },
    Test {
        name: "fault_breakpoint_is_a_user_exception",
        run: fault::breakpoint,
    },
    Test {
        name: "fault_illegal_instruction_reply_label_stops_thread",
        run: fault::illegal_instruction,
    },
    Test {
        name: "fault_vm_fault_load_store_fetch",
        run: fault::vm_faults,
    },
    Test {
        name: "fault_cap_fault_in_receive_phase",
        run: fault::cap_fault_recv,
    },
    Test {
        name: "fault_without_handler_suspends_only_that_thread",
        run: fault::no_handler,
    },
];
