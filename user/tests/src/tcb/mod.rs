//! TCB and domain-cap invocations (ch. 6 Threads and Execution; ABI ref
//! §7.3, §7.6, §9, §10): every method and its errors, and threads that
//! really run in the root task's address space (`cairn_rt::thread`).
//!
//! | file | what |
//! |---|---|
//! | `threads` | static stacks and IPC pages, starting threads, the cleanup guard |
//! | `registers` | Read/Write/CopyRegisters on threads that never ran |
//! | `control` | Configure, SetSpace, SetIPCBuffer, priorities (ThreadControl) |
//! | `running` | Resume, Suspend, preemption, round robin, TLS, own IPC buffer, fpuDisabled, notification binding |
//! | `domain` | DomainSet_Set, ScheduleConfigure, ScheduleSetStart |
//!
//! Every thread a test starts is suspended when the test ends (the guard in
//! `threads`), and the fixture's revoke before the next test deletes it.
//! The fpuDisabled test assumes a kernel built with the FPU (both
//! conformance images are).

mod control;
mod domain;
mod fpu;
mod registers;
mod running;

use crate::framework::Test;

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "tcb_write_then_read_registers_round_trips",
        run: registers::write_read_round_trip,
    },
    Test {
        name: "tcb_read_registers_count_and_range_error",
        run: registers::read_count,
    },
    Test {
        name: "tcb_read_write_own_registers_illegal",
        run: registers::own_registers_illegal,
    },
    Test {
        name: "tcb_write_registers_truncated_and_clamped",
        run: registers::write_truncated,
    },
    Test {
        name: "tcb_copy_registers_frame_integer_flags",
        run: registers::copy_by_flags,
    },
    Test {
        name: "tcb_unknown_label_illegal",
        run: registers::unknown_label,
    },
    Test {
        name: "tcb_configure_accepts_roots_and_buffer",
        run: control::configure_ok,
    },
    Test {
        name: "tcb_configure_errors_in_order",
        run: control::configure_errors,
    },
    Test {
        name: "tcb_device_frame_ipc_buffer_illegal",
        run: control::device_frame_buffer_illegal,
    },
    Test {
        name: "tcb_set_space_and_errors",
        run: control::set_space,
    },
    Test {
        name: "tcb_set_space_last_cnode_cap_illegal",
        run: control::set_space_long_running_delete,
    },
    Test {
        name: "tcb_set_ipc_buffer_and_errors",
        run: control::set_ipc_buffer,
    },
    Test {
        name: "tcb_priority_above_authority_mcp_range_error",
        run: control::priorities_bounded_by_mcp,
    },
    Test {
        name: "tcb_set_sched_params_checks_both",
        run: control::sched_params,
    },
    Test {
        name: "tcb_resumed_thread_runs",
        run: running::resumed_thread_runs,
    },
    Test {
        name: "tcb_higher_priority_thread_preempts",
        run: running::higher_priority_preempts,
    },
    Test {
        name: "tcb_equal_priority_round_robin",
        run: running::round_robin,
    },
    Test {
        name: "tcb_suspend_stops_running_thread",
        run: running::suspend_stops_a_running_thread,
    },
    Test {
        name: "tcb_read_registers_of_suspended_thread",
        run: running::read_registers_of_stopped_thread,
    },
    Test {
        name: "tcb_set_tls_base_is_tp",
        run: running::set_tls_base_is_tp,
    },
    Test {
        name: "tcb_spawned_thread_has_own_ipc_buffer",
        run: running::thread_has_own_ipc_buffer,
    },
    Test {
        name: "tcb_set_flags_fpu_disabled_faults",
        run: running::set_flags_fpu_disabled_faults,
    },
    Test {
        name: "tcb_fpu_state_is_per_thread",
        run: fpu::fpu_state_is_per_thread,
    },
    Test {
        name: "tcb_fpu_state_survives_suspend",
        run: fpu::fpu_state_survives_suspend,
    },
    Test {
        name: "tcb_bind_unbind_notification_errors",
        run: running::bind_notification,
    },
    Test {
        name: "tcb_bind_notification_with_waiters_illegal",
        run: running::bind_notification_with_waiters,
    },
    Test {
        name: "domain_set_and_errors",
        run: domain::set_domain,
    },
    Test {
        name: "domain_schedule_configure_errors_in_order",
        run: domain::schedule_configure,
    },
    Test {
        name: "domain_schedule_set_start_and_errors",
        run: domain::schedule_set_start,
    },
    Test {
        name: "domain_schedule_switches_domains",
        run: domain::schedule_switches_domains,
    },
    Test {
        name: "domain_unknown_label_illegal",
        run: domain::other_labels_illegal,
    },
];
