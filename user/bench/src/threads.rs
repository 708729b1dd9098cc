//! The IPC benchmarks that need a second thread: Call + ReplyRecv round
//! trips within the root task's address space (0 and 4 message words),
//! and a signal to a waiting higher-priority thread. The partner thread
//! runs in this address space (`cairn_rt::thread`); the cross-address-space
//! variants need a second VSpace and come with the VSpace invocations.

use crate::ipc::{report, ITERATIONS};
use cairn_rt::thread::{IpcPage, Stack, ThreadSpec};
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::cap::init_caps;
use sel4::syscall::{call_regs, recv_regs, reply_recv_regs, RegMessage};
use sel4::{benchmark, BootInfo, CPtr, MessageInfo, Notification, ObjectType, Tcb, Untyped, Word};

static STACK: Stack<16384> = Stack::new();
static PAGE: IpcPage = IpcPage::new();
/// The endpoint or notification the partner uses.
static OBJECT: AtomicU64 = AtomicU64::new(0);
/// The partner's `rdcycle` when its Wait returned.
static WOKEN_AT: AtomicU64 = AtomicU64::new(0);

/// Why a benchmark could not run.
pub struct Failed(pub &'static str, pub sel4::Error);

/// Slots and memory for the partner: (untyped, first free slot).
pub struct Room {
    pub untyped: Untyped,
    pub next_slot: Word,
}

impl Room {
    fn create(&mut self, t: ObjectType) -> Result<Word, Failed> {
        let s = self.next_slot;
        self.untyped
            .retype(t, 0, init_caps::CNODE, 0, 0, s, 1)
            .map_err(|e| Failed("retype", e))?;
        self.next_slot += 1;
        Ok(s)
    }
}

fn start(bi: &BootInfo, room: &mut Room, entry: fn(usize), priority: Word) -> Result<Tcb, Failed> {
    let tcb = Tcb::from_bits(room.create(ObjectType::Tcb)?);
    let spec = ThreadSpec {
        tcb,
        entry,
        arg: 0,
        stack_top: STACK.top(),
        priority,
        fault_ep: CPtr::NULL,
    };
    // SAFETY: one partner thread at a time uses STACK and PAGE; the
    // previous one is suspended before the next starts.
    unsafe { cairn_rt::thread::spawn(bi, &spec, &PAGE) }
        .map_err(|_| Failed("starting the partner", sel4::Error::IllegalOperation))?;
    Ok(tcb)
}

/// Partner: a server that replies at once with the message it got
/// (register-only messages, as seL4's IPC benchmarks use).
fn echo_server(_: usize) {
    let ep = CPtr(OBJECT.load(Ordering::SeqCst));
    let (_, mut m) = recv_regs(ep);
    loop {
        let (_, next) = reply_recv_regs(ep, m);
        m = next;
    }
}

/// Call + ReplyRecv round trips with `words` message words.
fn round_trips(bi: &BootInfo, room: &mut Room, words: usize) -> Result<(), Failed> {
    let ep = room.create(ObjectType::Endpoint)?;
    OBJECT.store(ep, Ordering::SeqCst);
    let partner = start(bi, room, echo_server, 255)?;
    let msg = RegMessage {
        info: MessageInfo::new(0, 0, 0, words as Word),
        mrs: [7; 4],
    };
    let ep = CPtr(ep);
    call_regs(ep, msg); // warm up: the partner is now waiting in ReplyRecv
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        let start = benchmark::cycles();
        call_regs(ep, msg);
        *s = benchmark::cycles().wrapping_sub(start);
    }
    let op = if words == 0 { "call-reply-recv-0-same-as" } else { "call-reply-recv-4-same-as" };
    report(op, &mut samples);
    partner.suspend().map_err(|e| Failed("suspending the partner", e))
}

/// Partner: waits, noting when each Wait returns.
fn waiter(_: usize) {
    let n = Notification::from_bits(OBJECT.load(Ordering::SeqCst));
    loop {
        n.wait();
        WOKEN_AT.store(benchmark::cycles(), Ordering::SeqCst);
    }
}

/// A signal to a waiting thread of higher priority: from before the
/// Signal to the woken thread running.
fn signal_higher(bi: &BootInfo, room: &mut Room) -> Result<(), Failed> {
    let n = room.create(ObjectType::Notification)?;
    OBJECT.store(n, Ordering::SeqCst);
    // The root thread drops below the partner, which then runs at once
    // and waits.
    init_caps::TCB
        .set_priority(init_caps::TCB, 254)
        .map_err(|e| Failed("lowering the root thread", e))?;
    let partner = start(bi, room, waiter, 255)?;
    let n = Notification::from_bits(n);
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        let start = benchmark::cycles();
        n.signal();
        *s = WOKEN_AT.load(Ordering::SeqCst).wrapping_sub(start);
    }
    report("signal-higher-prio", &mut samples);
    partner.suspend().map_err(|e| Failed("suspending the partner", e))?;
    init_caps::TCB
        .set_priority(init_caps::TCB, 255)
        .map_err(|e| Failed("restoring the root thread", e))
}

/// Runs the two-thread benchmarks with objects from `room`.
pub fn run(bi: &BootInfo, room: &mut Room) -> Result<(), Failed> {
    round_trips(bi, room, 0)?;
    round_trips(bi, room, 4)?;
    signal_higher(bi, room)
}
