//! Floating-point state is per thread (issue: "Floating-point state (F/D)
//! is saved and restored per thread"): two threads of equal priority put
//! different values in the same FP registers and in `fcsr`, yield to each
//! other many times, and each must find its own values every time.
//!
//! The values go in and come out within one `asm!` block around the
//! `seL4_Yield` system call, so no compiled code touches the FP registers
//! in between: anything different is the kernel's doing.
//!
//! The kernel switches the FPU lazily (`kernel/src/fpu.rs`): the
//! registers move only when another thread's FP instruction traps. The
//! second test suspends a thread while its values are in the FPU, uses
//! the FPU in the root thread meanwhile, and resumes it: its values must
//! have been kept in its TCB.

use crate::fixture::{expect_ok, Env};
use crate::framework::{Ctx, TestResult};
use crate::threads::{Threads, ROOT_PRIO};
use crate::{check, check_eq};
use core::sync::atomic::{AtomicU64, Ordering::SeqCst};
use sel4::{CPtr, Word};

/// Round trips through the other thread.
const ROUNDS: u64 = 200;
/// Rounds in which a worker found other values than it put in.
static WORKER_BAD: AtomicU64 = AtomicU64::new(0);
static WORKER_ROUNDS: AtomicU64 = AtomicU64::new(0);

/// Puts `a` in ft0, `b` in fs11 and rounding mode `rm` in fcsr, yields,
/// and returns what ft0, fs11 and fcsr's rounding mode hold afterwards.
fn yield_with_fp(a: Word, b: Word, rm: Word) -> (Word, Word, Word) {
    let (x, y, z): (Word, Word, Word);
    // SAFETY: sets and reads FP registers declared clobbered, and makes the
    // seL4_Yield system call (a7 = -7; MCS: -11), which returns with every register
    // but a0..a5 as it was (declared clobbered); no memory is touched.
    unsafe {
        core::arch::asm!(
            "fmv.d.x ft0, {a}",
            "fmv.d.x fs11, {b}",
            "fsrm {rm}",
            "ecall",
            "fmv.x.d {x}, ft0",
            "fmv.x.d {y}, fs11",
            "frrm {z}",
            a = in(reg) a,
            b = in(reg) b,
            rm = in(reg) rm,
            x = lateout(reg) x,
            y = lateout(reg) y,
            z = lateout(reg) z,
            out("ft0") _,
            out("fs11") _,
            inout("a7") sel4::abi::syscall::SYS_YIELD => _,
            out("a0") _, out("a1") _, out("a2") _, out("a3") _, out("a4") _, out("a5") _,
            options(nostack),
        );
    }
    (x, y, z)
}

fn worker(_: usize) {
    for i in 0..ROUNDS {
        let (a, b) = (0x1111_0000 + i, 0x2222_0000 + i);
        if yield_with_fp(a, b, 2) != (a, b, 2) {
            WORKER_BAD.fetch_add(1, SeqCst);
        }
        WORKER_ROUNDS.fetch_add(1, SeqCst);
    }
}

pub fn fpu_state_is_per_thread(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    WORKER_BAD.store(0, SeqCst);
    WORKER_ROUNDS.store(0, SeqCst);
    threads.start(worker, 0, ROOT_PRIO, CPtr::NULL, true)?;
    let mut bad = 0;
    for i in 0..ROUNDS {
        let (a, b) = (0x7777_0000 + i, 0x8888_0000 + i);
        if yield_with_fp(a, b, 1) != (a, b, 1) {
            bad += 1;
        }
    }
    // Let the worker finish its last rounds.
    for _ in 0..4 {
        sel4::syscall::yield_now();
    }
    check_eq!(WORKER_ROUNDS.load(SeqCst), ROUNDS, "the worker's rounds");
    check_eq!(
        (bad, WORKER_BAD.load(SeqCst)),
        (0, 0),
        "rounds with foreign FP state (root, worker)"
    );
    Ok(())
}

/// Rounds of the suspended worker.
static PAUSED_ROUNDS: AtomicU64 = AtomicU64::new(0);
static PAUSED_BAD: AtomicU64 = AtomicU64::new(0);

fn paused_worker(_: usize) {
    for i in 0.. {
        let (a, b) = (0x3333_0000 + i, 0x4444_0000 + i);
        if yield_with_fp(a, b, 3) != (a, b, 3) {
            PAUSED_BAD.fetch_add(1, SeqCst);
        }
        PAUSED_ROUNDS.fetch_add(1, SeqCst);
    }
}

pub fn fpu_state_survives_suspend(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    PAUSED_BAD.store(0, SeqCst);
    PAUSED_ROUNDS.store(0, SeqCst);
    let t = threads.start(paused_worker, 0, ROOT_PRIO, CPtr::NULL, true)?;
    let mut bad = 0;
    for round in 0..20 {
        // The worker runs once: its values are in the FPU, it is in the
        // middle of its asm block (just after its seL4_Yield).
        sel4::syscall::yield_now();
        expect_ok(t.tcb.suspend(), "Suspend")?;
        // The root thread's FP values take the FPU, several times.
        for i in 0..3 {
            let (a, b) = (0x9999_0000 + round * 8 + i, 0xAAAA_0000 + i);
            if yield_with_fp(a, b, 4) != (a, b, 4) {
                bad += 1;
            }
        }
        expect_ok(t.tcb.resume(), "Resume")?;
    }
    // Each Yield above normally lets the worker finish one round. A
    // timer or domain preemption that lands between the worker's Yield
    // returning and its next one costs a round (the root's next Yield
    // only takes the worker back into its Yield), so the count may lag:
    // give it a bounded number of further Yields (a CI run on a loaded
    // host saw 19 after one).
    let mut extra = 0;
    while PAUSED_ROUNDS.load(SeqCst) < 20 && extra < 20 {
        sel4::syscall::yield_now();
        extra += 1;
    }
    let rounds = PAUSED_ROUNDS.load(SeqCst);
    check!(
        rounds >= 20,
        "the worker's rounds: {rounds} after {extra} extra Yields"
    );
    check_eq!(
        (bad, PAUSED_BAD.load(SeqCst)),
        (0, 0),
        "rounds with foreign FP state (root, suspended worker)"
    );
    Ok(())
}
