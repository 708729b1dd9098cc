//! The debug and scheduling system calls the kernel provides from the first
//! issue on (ABI ref §1, §14). `seL4_DebugPutChar` is tested implicitly by
//! every line of output.

use crate::check_eq;
use crate::framework::{Ctx, Test, TestResult};
use sel4::cap::init_caps;
use sel4::{tag, CPtr};

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "debug_cap_identify_null_slot",
        run: cap_identify_null,
    },
    Test {
        name: "debug_cap_identify_own_tcb",
        run: cap_identify_tcb,
    },
    Test {
        name: "debug_name_thread_returns",
        run: name_thread,
    },
    Test {
        name: "sched_yield_returns",
        run: yield_returns,
    },
];

fn cap_identify_null(_: &Ctx<'_>) -> TestResult {
    check_eq!(
        sel4::debug::cap_identify(CPtr::NULL),
        tag::NULL,
        "DebugCapIdentify(0)"
    );
    Ok(())
}

fn cap_identify_tcb(_: &Ctx<'_>) -> TestResult {
    check_eq!(
        sel4::debug::cap_identify(init_caps::TCB.cptr()),
        tag::THREAD,
        "DebugCapIdentify(1)"
    );
    Ok(())
}

fn name_thread(_: &Ctx<'_>) -> TestResult {
    // The kernel halts on a bad name; getting back here is the test.
    sel4::debug::name_thread(init_caps::TCB, "cairn-tests");
    check_eq!(
        sel4::debug::cap_identify(init_caps::TCB.cptr()),
        tag::THREAD,
        "TCB after naming"
    );
    Ok(())
}

fn yield_returns(_: &Ctx<'_>) -> TestResult {
    for _ in 0..3 {
        sel4::syscall::yield_now();
    }
    Ok(())
}
