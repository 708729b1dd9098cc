//! The debug and scheduling system calls the kernel provides from the first
//! issue on (ABI ref §1, §14). `seL4_DebugPutChar` is tested implicitly by
//! every line of output.
//!
//! A thread's name shows where seL4 shows it: in the message a debug kernel
//! prints when a thread faults with no fault handler. The naming tests read
//! it back there through the harness ([`expect_console!`]). Bad arguments
//! to `seL4_DebugNameThread` halt seL4; Cairn reports and ignores them
//! (docs/abi.md), and the tests check exactly that.

use crate::fixture::{expect_ok, failure, Env, ROOT};
use crate::framework::{Ctx, Test, TestResult};
use crate::threads::{yield_n, Threads, ROOT_PRIO};
use crate::{check, check_eq, expect_console};
use core::sync::atomic::{AtomicU64, Ordering::SeqCst};
use sel4::cap::init_caps;
use sel4::ipc_buffer::with_ipc_buffer;
use sel4::{tag, CPtr, Frame, Tcb, Word};

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
        name: "debug_name_thread_names_the_thread",
        run: name_thread,
    },
    Test {
        name: "debug_name_thread_bad_arguments_ignored",
        run: name_thread_bad_arguments,
    },
    Test {
        name: "sched_yield_runs_equal_priority_not_lower",
        run: yield_runs_equal_priority,
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

/// Traps at once. Started with no fault handler, so the kernel prints the
/// thread's name and makes it Inactive.
fn fault_at_once(_: usize) {
    // SAFETY: `unimp` is an illegal instruction: it traps, and a thread
    // with no fault handler never continues after its fault.
    unsafe { core::arch::asm!("unimp") };
}

/// Runs the thread `t` made by `threads` (with [`fault_at_once`]), after
/// requiring the kernel's message naming it `name`.
fn fault_and_expect_name(t: Tcb, name: &str) -> TestResult {
    expect_console!("\"{name}\" faulted at pc");
    expect_ok(t.resume(), "Resume")?;
    // It is ahead of the root thread in the queue after one yield.
    yield_n(1);
    Ok(())
}

fn name_thread(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    let t = threads.start(fault_at_once, 0, ROOT_PRIO, CPtr::NULL, false)?;
    sel4::debug::name_thread(t.tcb, "cairn-named-thread");
    fault_and_expect_name(t.tcb, "cairn-named-thread")
}

/// Set by [`name_without_buffer`] once the kernel returned to it.
static RAN_ON: AtomicU64 = AtomicU64::new(0);

/// Names the TCB at cptr `target` from a thread whose TCB has no IPC
/// buffer (its user-level buffer page is still there), then records that
/// it kept running.
fn name_without_buffer(target: usize) {
    sel4::debug::name_thread(Tcb::from_bits(target as Word), "cairn-bad-name");
    RAN_ON.store(1, SeqCst);
}

fn name_thread_bad_arguments(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    let t = threads.start(fault_at_once, 0, ROOT_PRIO, CPtr::NULL, false)?;
    sel4::debug::name_thread(t.tcb, "cairn-kept-name");

    // Not a TCB: the root CNode, then an empty slot.
    expect_console!("cairn: DebugNameThread: cap is not a TCB; ignored");
    sel4::debug::name_thread(Tcb::from_bits(ROOT.bits()), "cairn-bad-name");
    let empty = env.slot()?;
    expect_console!("cairn: DebugNameThread: cap is not a TCB; ignored");
    sel4::debug::name_thread(Tcb::from_bits(empty), "cairn-bad-name");

    // No NUL in all of msg.
    let filled = with_ipc_buffer(|b| b.msg.fill(Word::from_le_bytes(*b"cairn-x-")));
    check!(filled.is_some(), "the root thread has no IPC buffer");
    expect_console!("cairn: DebugNameThread: name not NUL-terminated; ignored");
    sel4::debug::name_thread_from_buffer(t.tcb);

    // A caller whose TCB has no IPC buffer (address 0: the frame cap is
    // not looked at).
    RAN_ON.store(0, SeqCst);
    let u = threads.start(
        name_without_buffer,
        t.tcb.bits() as usize,
        ROOT_PRIO,
        CPtr::NULL,
        false,
    )?;
    expect_ok(
        u.tcb.set_ipc_buffer(0, Frame::from_bits(ROOT.bits())),
        "SetIPCBuffer(0)",
    )?;
    expect_console!("cairn: DebugNameThread: caller has no IPC buffer; ignored");
    expect_ok(u.tcb.resume(), "Resume")?;
    yield_n(1);
    check_eq!(
        RAN_ON.load(SeqCst),
        1,
        "the caller without an IPC buffer kept running"
    );

    // The root thread kept running too (it is here), and the name is the
    // one set before.
    check_eq!(
        sel4::debug::cap_identify(t.tcb.cptr()),
        tag::THREAD,
        "the named TCB's cap"
    );
    fault_and_expect_name(t.tcb, "cairn-kept-name")
}

/// Counts of [`count_and_yield`] and [`count`].
static EQUAL: AtomicU64 = AtomicU64::new(0);
static LOWER: AtomicU64 = AtomicU64::new(0);

fn count_and_yield(_: usize) {
    loop {
        EQUAL.fetch_add(1, SeqCst);
        sel4::syscall::yield_now();
    }
}

fn count(_: usize) {
    loop {
        LOWER.fetch_add(1, SeqCst);
    }
}

/// `seL4_Yield` puts the caller behind the threads of its own priority:
/// each yield lets the equal-priority thread run (at least once: a timer
/// tick may add more, or, ending its slice at its first instruction,
/// leave it one Yield behind), and never a lower-priority one.
fn yield_runs_equal_priority(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    EQUAL.store(0, SeqCst);
    LOWER.store(0, SeqCst);
    threads.start(count, 0, ROOT_PRIO - 1, CPtr::NULL, true)?;
    threads.start(count_and_yield, 0, ROOT_PRIO, CPtr::NULL, true)?;
    let mut last = EQUAL.load(SeqCst);
    for i in 0..3 {
        sel4::syscall::yield_now();
        let mut now = EQUAL.load(SeqCst);
        if now <= last {
            // A timer tick pending when the kernel returns to the worker
            // (a QEMU stall on a loaded host) may end its time slice
            // before its first instruction, so it is back behind the
            // root thread without having counted: the next Yield lets it
            // count (the last CI failure was this race in the FPU test).
            sel4::syscall::yield_now();
            now = EQUAL.load(SeqCst);
        }
        if now <= last {
            return Err(failure!(
                "yield {i}: the equal-priority thread did not run (count {now})"
            ));
        }
        last = now;
    }
    check_eq!(
        LOWER.load(SeqCst),
        0,
        "runs of a lower-priority thread while the root thread was runnable"
    );
    Ok(())
}
