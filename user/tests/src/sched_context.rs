//! MCS only: the SchedControl and SchedContext invocations' errors that
//! issue 12 names, each with seL4's error code and data (ch. 6, *Scheduling
//! Contexts*; seL4's `decodeSchedControl_ConfigureFlags` and
//! `decodeSchedContext_*`), and the state after: a refused invocation
//! leaves the context unconfigured, bound as it was, and the caller
//! running. The image `mcs` (user/mcs-tests) checks the same errors in
//! other combinations; these use the suite's threads (a caller below the
//! target's priority for YieldTo's MCP check).

use crate::check_eq;
use crate::fixture::{expect_err, expect_ok, range, Env};
use crate::forms::BUDGET_US;
use crate::framework::{Ctx, Test, TestResult};
use crate::threads::{yield_n, Threads, ROOT_PRIO};
use core::sync::atomic::{AtomicU64, Ordering::SeqCst};
use sel4::abi::object::MIN_SCHED_CONTEXT_BITS;
use sel4::cap::init_caps;
use sel4::{CPtr, Error, ObjectType, SchedContext, SchedControl, Word};

pub const TESTS: &[Test] = &[
    Test {
        name: "sc_configure_flags_errors_leave_the_context_unconfigured",
        run: configure_flags_errors,
    },
    Test {
        name: "sc_bind_a_bound_context_is_illegal",
        run: bind_bound,
    },
    Test {
        name: "sc_unbind_the_running_threads_context_is_illegal",
        run: unbind_running,
    },
    Test {
        name: "sc_yield_to_a_thread_above_the_callers_mcp_is_illegal",
        run: yield_to_above_mcp,
    },
];

/// seL4's `MIN_BUDGET_US` (2 × `KERNEL_WCET_US`): the `min` of every
/// budget or period RangeError.
const MIN_BUDGET_US: Word = 20;

/// Set by [`mark`].
static RAN: AtomicU64 = AtomicU64::new(0);

fn mark(arg: usize) {
    RAN.store(arg as Word, SeqCst);
}

fn control(ctx: &Ctx<'_>) -> SchedControl {
    SchedControl::from_bits(ctx.bi.sched_control().start)
}

/// Budget above the period, a period below the kernel's minimum, and one
/// extra refill in the smallest context (128 bytes: room for seL4's two
/// refills only) are RangeErrors with seL4's bounds; after them the
/// context is still unconfigured: bound to a resumed thread, it does not
/// run it, until a valid ConfigureFlags does.
fn configure_flags_errors(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    RAN.store(0, SeqCst);
    let t = threads.start(mark, 1, ROOT_PRIO, CPtr::NULL, false)?;
    expect_ok(
        SchedContext::from_bits(t.sc).unbind(),
        "Unbind of the thread's own context",
    )?;
    let sc = SchedContext::from_bits(env.create(ObjectType::SchedContext, MIN_SCHED_CONTEXT_BITS)?);
    let ctl = control(ctx);
    // The largest period: the bound of a budget below the minimum.
    let max = match ctl.configure_flags(sc, 1, 10_000, 0, 0, 0) {
        Err(Error::RangeError {
            min: MIN_BUDGET_US,
            max,
        }) if max >= 10_000 => max,
        r => crate::fail!("a 1 µs budget: {r:?}, expected RangeError({MIN_BUDGET_US}, max)"),
    };
    expect_err(
        ctl.configure_flags(sc, 2_000, 1_000, 0, 0, 0),
        range(MIN_BUDGET_US, 1_000),
        "budget above the period",
    )?;
    expect_err(
        ctl.configure_flags(sc, MIN_BUDGET_US, MIN_BUDGET_US - 1, 0, 0, 0),
        range(MIN_BUDGET_US, max),
        "period below the kernel's minimum",
    )?;
    expect_err(
        ctl.configure_flags(sc, 1_000, 10_000, 1, 0, 0),
        range(0, 0),
        "an extra refill in a 128-byte context",
    )?;
    expect_ok(sc.bind(t.tcb.cptr()), "Bind of the unconfigured context")?;
    expect_ok(t.tcb.resume(), "Resume")?;
    yield_n(3);
    check_eq!(
        RAN.load(SeqCst),
        0,
        "a thread on the refused (unconfigured) context ran"
    );
    expect_ok(
        ctl.configure_flags(sc, BUDGET_US, BUDGET_US, 0, 0, 0),
        "ConfigureFlags round robin",
    )?;
    yield_n(1);
    check_eq!(
        RAN.load(SeqCst),
        1,
        "the thread once its context is configured"
    );
    Ok(())
}

/// Binding a context bound to a thread to another thread is
/// IllegalOperation; it stays bound to the first (UnbindObject of the
/// other is refused, of the first succeeds) and the first still runs on
/// it.
fn bind_bound(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    RAN.store(0, SeqCst);
    let t = threads.start(mark, 2, ROOT_PRIO, CPtr::NULL, false)?;
    let other = threads.tcb()?;
    let sc = SchedContext::from_bits(t.sc);
    expect_err(
        sc.bind(other.cptr()),
        Error::IllegalOperation,
        "Bind of a bound context",
    )?;
    expect_err(
        sc.unbind_object(other.cptr()),
        Error::IllegalOperation,
        "UnbindObject of the thread it was refused",
    )?;
    expect_ok(t.tcb.resume(), "Resume")?;
    yield_n(1);
    check_eq!(RAN.load(SeqCst), 2, "the first thread runs on it");
    expect_ok(sc.unbind_object(t.tcb.cptr()), "UnbindObject of the first")
}

/// What a thread's own Unbind and UnbindObject returned (1
/// IllegalOperation, 2 success, 3 another error) and 1 once it went on.
static UNBIND: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

fn outcome<T>(r: Result<T, Error>) -> Word {
    match r {
        Err(Error::IllegalOperation) => 1,
        Ok(_) => 2,
        Err(_) => 3,
    }
}

/// The slots of the context and TCB of [`unbind_own`]'s thread.
static OWN: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// Unbinds its own (running) context.
fn unbind_own(_: usize) {
    let sc = SchedContext::from_bits(OWN[0].load(SeqCst));
    UNBIND[0].store(outcome(sc.unbind()), SeqCst);
    UNBIND[1].store(outcome(sc.unbind_object(CPtr(OWN[1].load(SeqCst)))), SeqCst);
    UNBIND[2].store(1, SeqCst);
}

/// Unbind and UnbindObject of the running thread's context are
/// IllegalOperation, for the root thread and for another running thread;
/// both keep running on it (the context still refuses another thread).
fn unbind_running(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    let illegal = Error::IllegalOperation;
    expect_err(init_caps::SC.unbind(), illegal, "the root thread's Unbind")?;
    expect_err(
        init_caps::SC.unbind_object(init_caps::TCB.cptr()),
        illegal,
        "the root thread's UnbindObject",
    )?;
    let other = threads.tcb()?;
    expect_err(
        init_caps::SC.bind(other.cptr()),
        illegal,
        "the root thread's context is still bound",
    )?;
    for w in UNBIND.iter() {
        w.store(0, SeqCst);
    }
    let t = threads.start(unbind_own, 0, ROOT_PRIO, CPtr::NULL, false)?;
    OWN[0].store(t.sc, SeqCst);
    OWN[1].store(t.tcb.bits(), SeqCst);
    expect_ok(t.tcb.resume(), "Resume")?;
    yield_n(1);
    let got: [Word; 3] = core::array::from_fn(|i| UNBIND[i].load(SeqCst));
    check_eq!(
        got,
        [1, 1, 1],
        "the thread's own Unbind, UnbindObject (IllegalOperation), then it went on"
    );
    expect_err(
        SchedContext::from_bits(t.sc).bind(other.cptr()),
        illegal,
        "its context is still bound",
    )
}

/// What the YieldTo caller got (as [`outcome`]) and 1 once it went on.
static YIELD: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// YieldTo of the context in slot `arg`.
fn yield_to(arg: usize) {
    let r = SchedContext::from_bits(arg as Word).yield_to();
    YIELD[0].store(outcome(r), SeqCst);
    YIELD[1].store(1, SeqCst);
}

/// YieldTo a context whose thread's priority (200) is above the caller's
/// MCP (100) is IllegalOperation: the caller goes on, the target has not
/// run. At an MCP equal to the priority it is allowed.
fn yield_to_above_mcp(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    RAN.store(0, SeqCst);
    // Below the root thread: it runs only when the root thread blocks.
    let target = threads.start(mark, 3, 200, CPtr::NULL, true)?;
    for (mcp, want) in [(100, 1), (200, 2)] {
        YIELD[0].store(0, SeqCst);
        YIELD[1].store(0, SeqCst);
        let caller = threads.start(yield_to, target.sc as usize, ROOT_PRIO, CPtr::NULL, false)?;
        expect_ok(
            caller.tcb.set_mc_priority(init_caps::TCB, mcp),
            "the caller's MCP",
        )?;
        expect_ok(caller.tcb.resume(), "Resume of the caller")?;
        yield_n(1);
        check_eq!(
            (YIELD[0].load(SeqCst), YIELD[1].load(SeqCst)),
            (want, 1),
            "YieldTo's outcome (1 IllegalOperation, 2 success) and the caller went on"
        );
        if mcp == 100 {
            check_eq!(
                RAN.load(SeqCst),
                0,
                "the target ran after a refused YieldTo"
            );
        }
    }
    Ok(())
}
