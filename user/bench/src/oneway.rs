//! IPC measured one way, as seL4's sel4bench measures it, so that Cairn's
//! figures stand beside seL4 16.0.0's (docs/benchmarks.md).
//!
//! A Call is timed from just before the client's `seL4_Call` to just after
//! the server's `seL4_Recv` (or `ReplyRecv`) returns; a ReplyRecv from just
//! before the server's `seL4_ReplyRecv` to just after the client's Call
//! returns. One loop measures both: the server notes the cycle counter in
//! shared statics ([`SERVER_IN`], [`SERVER_OUT`]), the client reads them
//! after each round trip. The cost of reading the counter (the minimum of
//! back-to-back reads, sel4bench's "overhead") is subtracted. Messages are
//! register-only calls whose MessageInfo says 0, 4 or 10 words: the words
//! past MR3 are copied by the kernel from the sender's IPC buffer, as for
//! libsel4's `seL4_Call`.
//!
//! Output: `bench sel4bench op=<case> iterations=N median=M min=m
//! overhead=o`, then the kernel's `cairn: bench:` line.

use crate::ipc::{report_sel4bench, wanted, ITERATIONS};
use crate::name::Name;
use crate::server as srv;
use crate::threads::{start, Failed, Room};
use cairn_rt::space::ImageSpace;
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::cap::init_caps;
use sel4::syscall::{call_regs, send_regs, RegMessage};
use sel4::{benchmark, BootInfo, CPtr, MessageInfo, ObjectType, Word};

/// The server's endpoint (a slot of the root CNode).
static ENDPOINT: AtomicU64 = AtomicU64::new(0);
/// The server's counter when its receive returned.
static SERVER_IN: AtomicU64 = AtomicU64::new(0);
/// The server's counter just before its ReplyRecv.
static SERVER_OUT: AtomicU64 = AtomicU64::new(0);
/// Whether the server dirties its FPU registers before each ReplyRecv.
static SERVER_FPU: AtomicU64 = AtomicU64::new(0);

/// The cost of reading the cycle counter, as sel4bench subtracts it: the
/// least of many back-to-back reads.
pub fn overhead() -> u64 {
    (0..64)
        .map(|_| {
            let a = benchmark::cycles();
            let b = benchmark::cycles();
            b.wrapping_sub(a)
        })
        .min()
        .unwrap_or(0)
}

/// Uses the FPU so that its registers belong to this thread and are dirty
/// (sel4bench's "with FPU" cases).
fn touch_fpu() {
    let x = core::hint::black_box(1.5f64);
    core::hint::black_box(x * x + x);
}

/// The server: receives, notes the time, replies with the same message.
fn server(_: usize) {
    let ep = CPtr(ENDPOINT.load(Ordering::SeqCst));
    let (_, mut m) = srv::recv(ep);
    loop {
        SERVER_IN.store(benchmark::cycles(), Ordering::SeqCst);
        if SERVER_FPU.load(Ordering::Relaxed) != 0 {
            touch_fpu();
        }
        SERVER_OUT.store(benchmark::cycles(), Ordering::SeqCst);
        let (_, next) = srv::reply_recv(ep, m);
        m = next;
    }
}

/// A server for `seL4_Send`: receives, notes the time, receives again.
fn receiver(_: usize) {
    let ep = CPtr(ENDPOINT.load(Ordering::SeqCst));
    loop {
        srv::recv(ep);
        SERVER_IN.store(benchmark::cycles(), Ordering::SeqCst);
    }
}

/// One case: Call and ReplyRecv one way with `words` message words, the
/// server in `space` (`None`: this address space), `fpu`: both threads
/// use the FPU between round trips.
fn call_reply_recv(
    bi: &BootInfo,
    room: &mut Room,
    space: Option<(&ImageSpace, &str)>,
    words: usize,
    fpu: bool,
) -> Result<(), Failed> {
    let suffix = match (space, fpu) {
        (Some((_, s)), _) => s,
        (None, true) => "same-as-fpu",
        (None, false) => "same-as",
    };
    let op_call = Name::new().str("call-").num(words).str("-").str(suffix);
    let op_reply = Name::new()
        .str("replyrecv-")
        .num(words)
        .str("-")
        .str(suffix);
    if !wanted(&op_call) && !wanted(&op_reply) {
        return Ok(());
    }
    let ep = room.create(ObjectType::Endpoint)?;
    ENDPOINT.store(ep, Ordering::SeqCst);
    SERVER_FPU.store(fpu as u64, Ordering::SeqCst);
    let partner = start(bi, room, space.map(|s| s.0), server, 255)?;
    // MCS: a passive server, as the round trips'.
    srv::make_passive()?;
    let msg = RegMessage {
        info: MessageInfo::new(0, 0, 0, words as Word),
        mrs: [7; 4],
    };
    let ep = CPtr(ep);
    call_regs(ep, msg); // the server now waits in ReplyRecv
    let overhead = overhead();
    let mut calls = [0u64; ITERATIONS];
    let mut replies = [0u64; ITERATIONS];
    benchmark::reset_log();
    for (c, r) in calls.iter_mut().zip(replies.iter_mut()) {
        if fpu {
            touch_fpu();
        }
        let start = benchmark::cycles();
        call_regs(ep, msg);
        let end = benchmark::cycles();
        *c = SERVER_IN.load(Ordering::SeqCst).wrapping_sub(start);
        *r = end.wrapping_sub(SERVER_OUT.load(Ordering::SeqCst));
    }
    report_sel4bench(&op_call, &mut calls, overhead);
    benchmark::reset_log();
    report_sel4bench(&op_reply, &mut replies, overhead);
    partner
        .suspend()
        .map_err(|e| Failed("suspending the server", e))
}

/// `seL4_Send` to a waiting server of higher priority (client 253,
/// server 254, as sel4bench): from before the Send to the server's Recv
/// returning.
fn send_higher(bi: &BootInfo, room: &mut Room) -> Result<(), Failed> {
    const OP: &str = "send-0-higher-prio";
    if !wanted(OP) {
        return Ok(());
    }
    let ep = room.create(ObjectType::Endpoint)?;
    ENDPOINT.store(ep, Ordering::SeqCst);
    init_caps::TCB
        .set_priority(init_caps::TCB, 253)
        .map_err(|e| Failed("lowering the root thread", e))?;
    let partner = start(bi, room, None, receiver, 254)?;
    let ep = CPtr(ep);
    let msg = RegMessage::default();
    let overhead = overhead();
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        let start = benchmark::cycles();
        send_regs(ep, msg);
        *s = SERVER_IN.load(Ordering::SeqCst).wrapping_sub(start);
    }
    report_sel4bench(OP, &mut samples, overhead);
    partner
        .suspend()
        .map_err(|e| Failed("suspending the server", e))?;
    init_caps::TCB
        .set_priority(init_caps::TCB, 255)
        .map_err(|e| Failed("restoring the root thread", e))
}

/// Runs the one-way IPC cases: 0, 4 and 10 words in one and across two
/// address spaces, 0 words with the FPU in use, and Send to a
/// higher-priority server.
pub fn run(bi: &BootInfo, room: &mut Room, space: &ImageSpace) -> Result<(), Failed> {
    for words in [0, 4, 10] {
        call_reply_recv(bi, room, None, words, false)?;
    }
    for words in [0, 4, 10] {
        call_reply_recv(bi, room, Some((space, "cross-as")), words, false)?;
    }
    call_reply_recv(bi, room, None, 0, true)?;
    send_higher(bi, room)
}
