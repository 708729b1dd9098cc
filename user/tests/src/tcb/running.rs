//! Threads that really run (ch. 6 Threads and Execution, *Scheduling*,
//! *Thread Control Blocks*): started with `cairn_rt::thread`, observed by
//! the root thread through statics. Resume, Suspend, priority preemption,
//! round robin, ReadRegisters of a stopped thread, SetTLSBase, the spawned
//! thread's own IPC buffer, SetFlags(fpuDisabled) and notification binding.

use crate::fixture::{expect_err, expect_ok, Env, ROOT};
use crate::framework::{Ctx, TestResult};
use crate::threads::{read_gp, read_tp, yield_n, Threads, ROOT_PRIO};
use crate::{check, check_eq};
use core::sync::atomic::{AtomicU64, Ordering::SeqCst};
use sel4::abi::invocation::TCB_FLAG_FPU_DISABLED;
use sel4::cap::init_caps;
use sel4::{CPtr, CapRights, Error, Message, Notification, ObjectType, Word};

static FLAG: AtomicU64 = AtomicU64::new(0);
static COUNT: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];
static SEEN: AtomicU64 = AtomicU64::new(0);

/// Sets FLAG to `arg`, then returns (the trampoline suspends the thread).
fn set_flag(arg: usize) {
    FLAG.store(arg as u64, SeqCst);
}

/// Counts in COUNT[`arg`] forever.
fn spin(arg: usize) {
    let Some(c) = COUNT.get(arg) else { return };
    loop {
        c.fetch_add(1, SeqCst);
    }
}

/// Records its `tp` in SEEN, then spins without touching the library (its
/// `tp` no longer names its thread slot).
fn record_tp(_: usize) {
    SEEN.store(read_tp(), SeqCst);
    loop {
        core::hint::spin_loop();
    }
}

pub fn resumed_thread_runs(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    FLAG.store(0, SeqCst);
    threads.start(set_flag, 0x5a, ROOT_PRIO, CPtr::NULL, false)?;
    yield_n(3);
    check_eq!(
        FLAG.load(SeqCst),
        0,
        "a configured thread that was not resumed ran"
    );
    threads.start(set_flag, 0xa5, ROOT_PRIO, CPtr::NULL, true)?;
    // Whether it has run already is not checked: a timer tick ending the
    // root thread's timeslice may fall between Resume and here (QEMU's
    // clock is the host's), and then the equal-priority thread runs.
    yield_n(1);
    check_eq!(
        FLAG.load(SeqCst),
        0xa5,
        "the resumed thread's flag after one yield"
    );
    Ok(())
}

pub fn higher_priority_preempts(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    FLAG.store(0, SeqCst);
    threads.lower_root(200)?;
    let t = threads.start(set_flag, 1, 250, CPtr::NULL, false)?;
    check_eq!(FLAG.load(SeqCst), 0, "ran before Resume");
    expect_ok(t.tcb.resume(), "Resume")?;
    // No yield: the higher-priority thread ran before Resume returned.
    check_eq!(FLAG.load(SeqCst), 1, "flag right after Resume");
    // A lower one does not run while the root thread is runnable.
    FLAG.store(0, SeqCst);
    threads.start(set_flag, 2, 100, CPtr::NULL, true)?;
    yield_n(3);
    check_eq!(FLAG.load(SeqCst), 0, "a lower-priority thread ran");
    // Raising it above the root thread makes it run at once.
    let low = threads.start(set_flag, 3, 100, CPtr::NULL, true)?;
    expect_ok(low.tcb.set_priority(init_caps::TCB, 210), "SetPriority 210")?;
    check_eq!(
        FLAG.load(SeqCst),
        3,
        "flag right after raising a thread above the root"
    );
    Ok(())
}

pub fn round_robin(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    for c in &COUNT {
        c.store(0, SeqCst);
    }
    threads.start(spin, 0, ROOT_PRIO, CPtr::NULL, true)?;
    threads.start(spin, 1, ROOT_PRIO, CPtr::NULL, true)?;
    // Each yield lets both spinners run a timeslice each (neither yields:
    // only the timer tick moves on from the first to the second).
    let mut last = [0, 0];
    for round in 0..3 {
        yield_n(1);
        let now = [COUNT[0].load(SeqCst), COUNT[1].load(SeqCst)];
        check!(
            now[0] > last[0] && now[1] > last[1],
            "round {round}: counts {now:?} after {last:?}: both must progress"
        );
        last = now;
    }
    Ok(())
}

pub fn suspend_stops_a_running_thread(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    COUNT[0].store(0, SeqCst);
    let t = threads.start(spin, 0, ROOT_PRIO, CPtr::NULL, true)?;
    yield_n(1);
    let running = COUNT[0].load(SeqCst);
    check!(running > 0, "the spinner never ran");
    expect_ok(t.tcb.suspend(), "Suspend")?;
    let stopped = COUNT[0].load(SeqCst);
    yield_n(3);
    check_eq!(
        COUNT[0].load(SeqCst),
        stopped,
        "count after Suspend and 3 yields"
    );
    // Resume continues it where it stopped.
    expect_ok(t.tcb.resume(), "Resume")?;
    yield_n(1);
    check!(
        COUNT[0].load(SeqCst) > stopped,
        "resumed spinner did not run"
    );
    Ok(())
}

pub fn read_registers_of_stopped_thread(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    let t = threads.start(spin, 0, ROOT_PRIO, CPtr::NULL, true)?;
    yield_n(1);
    // suspend_source: ReadRegisters stops it first.
    let r = expect_ok(t.tcb.read_registers(true, 0, 32), "ReadRegisters(suspend)")?;
    let before = COUNT[0].load(SeqCst);
    yield_n(2);
    check_eq!(
        COUNT[0].load(SeqCst),
        before,
        "count after ReadRegisters(suspend)"
    );
    let (lo, hi) = t.stack;
    check!(
        r.sp >= lo && r.sp < hi,
        "sp {:#x} outside its stack [{lo:#x}, {hi:#x})",
        r.sp
    );
    check_eq!(r.tp, t.tp, "tp (its thread slot)");
    check_eq!(r.gp, read_gp(), "gp (the root's)");
    let (start, end) = (ctx.image_start, ctx.image_end);
    check!(
        r.pc >= start && r.pc < end,
        "pc {:#x} outside the image",
        r.pc
    );
    let again = expect_ok(t.tcb.read_registers(false, 0, 32), "ReadRegisters")?;
    check_eq!(again, r, "a stopped thread's registers stay put");
    Ok(())
}

pub fn set_tls_base_is_tp(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    SEEN.store(0, SeqCst);
    let t = threads.start(record_tp, 0, ROOT_PRIO, CPtr::NULL, false)?;
    expect_ok(t.tcb.set_tls_base(0x7e57_0000), "SetTLSBase")?;
    let r = expect_ok(t.tcb.read_registers(false, 0, 32), "ReadRegisters")?;
    check_eq!(r.tp, 0x7e57_0000, "tp read back");
    expect_ok(t.tcb.resume(), "Resume")?;
    yield_n(1);
    check_eq!(SEEN.load(SeqCst), 0x7e57_0000, "tp seen by the thread");
    expect_err(
        crate::fixture::raw(
            t.tcb.bits(),
            sel4::abi::invocation::label::TCB_SET_TLS_BASE,
            &[],
            &[],
        ),
        Error::TruncatedMessage,
        "SetTLSBase without a word",
    )
}

/// Copies the root TCB cap to slot `arg` with its own IPC buffer (an extra
/// cap travels in `caps_or_badges`), records the buffer it used in SEEN.
fn copy_with_own_buffer(arg: usize) {
    SEEN.store(sel4::ipc_buffer::ipc_buffer_ptr() as u64, SeqCst);
    let r = ROOT.copy(
        arg as Word,
        64,
        ROOT,
        init_caps::TCB.bits(),
        64,
        CapRights::ALL,
    );
    FLAG.store(if r.is_ok() { 1 } else { 2 }, SeqCst);
}

pub fn thread_has_own_ipc_buffer(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    let dest = env.slot()?;
    FLAG.store(0, SeqCst);
    let root_buffer = sel4::ipc_buffer::ipc_buffer_ptr() as u64;
    let t = threads.start(
        copy_with_own_buffer,
        dest as usize,
        ROOT_PRIO,
        CPtr::NULL,
        true,
    )?;
    yield_n(1);
    check_eq!(
        SEEN.load(SeqCst),
        t.buffer,
        "the thread's registered buffer"
    );
    check!(
        t.buffer != root_buffer,
        "the thread shares the root's buffer"
    );
    check_eq!(FLAG.load(SeqCst), 1, "the thread's CNode Copy (1 = ok)");
    crate::fixture::expect_tag(dest, sel4::tag::THREAD, "the thread's copy")?;
    check_eq!(
        sel4::ipc_buffer::ipc_buffer_ptr() as u64,
        root_buffer,
        "root's buffer"
    );
    Ok(())
}

/// Runs one FP instruction, then sends label 0x77 on the endpoint `ep`
/// (reached only if the instruction did not fault).
fn use_fpu(ep: usize) {
    let x: u64 = 0x4000_0000_0000_0000;
    // SAFETY: moves a value into ft0, declared clobbered; no memory access.
    unsafe {
        core::arch::asm!("fmv.d.x ft0, {}", in(reg) x, out("ft0") _, options(nomem, nostack))
    };
    sel4::syscall::send(CPtr(ep as Word), &Message::empty(0x77));
}

/// seL4_Fault_UserException's label and the illegal-instruction cause
/// (ABI ref §9).
const USER_EXCEPTION: Word = 3;
const ILLEGAL_INSTRUCTION: Word = 2;

pub fn set_flags_fpu_disabled_faults(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    let ep = env.endpoint()?;
    // The threads (at 100) run as soon as they are resumed; the root thread
    // then polls, so that a missing message fails instead of hanging.
    threads.lower_root(50)?;
    // Control: the same thread without the flag runs its FP instruction.
    let t = threads.start(use_fpu, ep as usize, 100, CPtr(ep), true)?;
    let (_, msg) = crate::forms::nb_recv(sel4::Endpoint::from_bits(ep));
    check_eq!(
        msg.label(),
        0x77,
        "label of the message from the FP-using thread"
    );
    let _ = t.tcb.suspend();
    // With fpuDisabled the FP instruction faults: an illegal instruction.
    let t = threads.start(use_fpu, ep as usize, 100, CPtr(ep), false)?;
    let flags = expect_ok(t.tcb.set_flags(0, !0), "SetFlags(set all)")?;
    check_eq!(
        flags,
        TCB_FLAG_FPU_DISABLED,
        "flags (only fpuDisabled is known)"
    );
    expect_ok(t.tcb.resume(), "Resume")?;
    let (_, fault) = crate::forms::nb_recv(sel4::Endpoint::from_bits(ep));
    check_eq!(fault.label(), USER_EXCEPTION, "fault label");
    check_eq!(fault.len(), 4, "fault length");
    check_eq!(fault.mr(2), ILLEGAL_INSTRUCTION, "exception number");
    let (lo, hi) = t.stack;
    check!(
        fault.mr(1) > lo && fault.mr(1) <= hi,
        "fault SP {:#x}",
        fault.mr(1)
    );
    // Clearing the flag gives the value back.
    check_eq!(
        expect_ok(t.tcb.set_flags(!0, 0), "SetFlags(clear)")?,
        0,
        "flags"
    );
    Ok(())
}

pub fn bind_notification(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let threads = Threads::new(&env);
    let (t, u) = (threads.tcb()?, threads.tcb()?);
    let n = Notification::from_bits(env.create(ObjectType::Notification, 0)?);
    let ill = Error::IllegalOperation;
    expect_err(t.unbind_notification(), ill, "Unbind with nothing bound")?;
    // Without the Read (receive) right.
    let weak = env.slot()?;
    expect_ok(
        crate::fixture::mint(weak, n.bits(), CapRights::CAN_WRITE, 0),
        "mint",
    )?;
    expect_err(
        t.bind_notification(Notification::from_bits(weak)),
        ill,
        "no Read right",
    )?;
    expect_err(
        t.bind_notification(Notification::from_bits(ROOT.bits())),
        ill,
        "not a ntfn",
    )?;
    expect_ok(t.bind_notification(n), "BindNotification")?;
    expect_err(t.bind_notification(n), ill, "TCB already bound")?;
    expect_err(u.bind_notification(n), ill, "notification bound elsewhere")?;
    expect_ok(t.unbind_notification(), "UnbindNotification")?;
    expect_ok(u.bind_notification(n), "bind after unbind")?;
    expect_err(
        crate::fixture::raw(
            t.bits(),
            sel4::abi::invocation::label::TCB_BIND_NOTIFICATION,
            &[],
            &[],
        ),
        Error::TruncatedMessage,
        "no notification cap",
    )
}

/// Waits on the notification `arg` (and never gets a signal).
fn wait_on(arg: usize) {
    sel4::Notification::from_bits(arg as Word).wait();
}

pub fn bind_notification_with_waiters(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    let n = env.create(ObjectType::Notification, 0)?;
    threads.start(wait_on, n as usize, ROOT_PRIO, CPtr::NULL, true)?;
    yield_n(1); // it waits on the notification now
    let t = threads.tcb()?;
    expect_err(
        t.bind_notification(Notification::from_bits(n)),
        Error::IllegalOperation,
        "notification with a waiter",
    )
}
