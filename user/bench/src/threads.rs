//! The IPC benchmarks that need a second thread: Call + ReplyRecv round
//! trips (0, 4 and 10 message words) with the partner in the root task's
//! address space (`cairn_rt::thread`) and in a second one mapping the
//! image (`cairn_rt::space`: the same code, stack and IPC page, through
//! the shared image frames), and a signal to a waiting higher-priority
//! thread.
//!
//! The round trips go either through the register-only calls
//! (`call_regs`/`reply_recv_regs`: the kernel's cost) or, as `lib-*`,
//! through the library's ordinary `sel4::syscall::call`/`reply_recv` with
//! a [`Message`] built for each call: the difference is what the library
//! costs a program written against it.

use crate::ipc::{report, wanted, ITERATIONS};
use crate::server;
use cairn_rt::space::{ImageSpace, ROOT_SLOTS};
use cairn_rt::thread::{IpcPage, Stack, ThreadSpec};
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::cap::init_caps;
use sel4::syscall::{call, call_regs, recv, reply_recv, RegMessage};
use sel4::{
    benchmark, BootInfo, CPtr, Message, MessageInfo, Notification, ObjectType, Tcb, Untyped, Word,
};

static STACK: Stack<16384> = Stack::new();
static PAGE: IpcPage = IpcPage::new();
/// The endpoint or notification the partner uses.
static OBJECT: AtomicU64 = AtomicU64::new(0);
/// The partner's `rdcycle` when its Wait returned (the IRQ handler's
/// too: `irq`).
pub static WOKEN_AT: AtomicU64 = AtomicU64::new(0);

/// Why a benchmark could not run.
pub struct Failed(pub &'static str, pub sel4::Error);

/// Slots and memory for the partner: (untyped, first free slot).
pub struct Room {
    pub untyped: Untyped,
    pub next_slot: Word,
}

impl Room {
    pub fn create(&mut self, t: ObjectType) -> Result<Word, Failed> {
        self.create_sized(t, 0)
    }

    /// An object of `size_bits` (SchedContexts, untypeds).
    pub fn create_sized(&mut self, t: ObjectType, size_bits: Word) -> Result<Word, Failed> {
        let s = self.next_slot;
        self.untyped
            .retype(t, size_bits, init_caps::CNODE, 0, 0, s, 1)
            .map_err(|e| Failed("retype", e))?;
        self.next_slot += 1;
        Ok(s)
    }
}

pub fn start(
    bi: &BootInfo,
    room: &mut Room,
    space: Option<&ImageSpace>,
    entry: fn(usize),
    priority: Word,
) -> Result<Tcb, Failed> {
    let tcb = Tcb::from_bits(room.create(ObjectType::Tcb)?);
    // MCS: a reply object and a SchedContext of its own.
    #[cfg(sel4_mcs)]
    server::equip(bi, tcb, |t, bits| room.create_sized(t, bits))?;
    let spec = ThreadSpec {
        tcb,
        entry,
        arg: 0,
        stack_top: STACK.top(),
        priority,
        fault_ep: CPtr::NULL,
    };
    // SAFETY: one partner thread at a time uses STACK and PAGE; the
    // previous one is suspended before the next starts. A space maps the
    // image (and so both) at their own addresses.
    let started = unsafe {
        match space {
            Some(space) => space.spawn(bi, &spec, &PAGE),
            None => cairn_rt::thread::spawn(bi, &spec, &PAGE),
        }
    };
    started.map_err(|_| Failed("starting the partner", sel4::Error::IllegalOperation))?;
    Ok(tcb)
}

/// Partner: a server that replies at once with the message it got
/// (register-only messages, as seL4's IPC benchmarks use).
fn echo_server(_: usize) {
    let ep = CPtr(OBJECT.load(Ordering::SeqCst));
    let (_, mut m) = server::recv(ep);
    loop {
        let (_, next) = server::reply_recv(ep, m);
        m = next;
    }
}

/// Partner: the same through the library's ordinary calls; the reply is
/// the received [`Message`] itself (MR4.. are still in this thread's IPC
/// buffer, where the kernel put them).
fn lib_echo_server(_: usize) {
    let ep = CPtr(OBJECT.load(Ordering::SeqCst));
    #[cfg(not(sel4_mcs))]
    let (_, mut m) = recv(ep);
    #[cfg(sel4_mcs)]
    let (_, mut m) = recv(ep, server::reply_object());
    loop {
        #[cfg(not(sel4_mcs))]
        let (_, next) = reply_recv(ep, &m);
        #[cfg(sel4_mcs)]
        let (_, next) = reply_recv(ep, &m, server::reply_object());
        m = next;
    }
}

/// How a round trip's messages travel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// `call_regs`/`reply_recv_regs`, the MessageInfo's length saying how
    /// many words the kernel copies (MR4.. from the IPC buffer as is).
    Regs,
    /// `sel4::syscall::call`/`reply_recv` with a `Message::new` per call.
    Library,
}

/// The round trips: op, message words, partner in a second address space,
/// path.
const ROUND_TRIPS: [(&str, usize, bool, Path); 8] = [
    ("call-reply-recv-0-same-as", 0, false, Path::Regs),
    ("call-reply-recv-4-same-as", 4, false, Path::Regs),
    ("call-reply-recv-10-same-as", 10, false, Path::Regs),
    ("lib-call-reply-recv-0-same-as", 0, false, Path::Library),
    ("lib-call-reply-recv-4-same-as", 4, false, Path::Library),
    ("lib-call-reply-recv-10-same-as", 10, false, Path::Library),
    ("call-reply-recv-0-cross-as", 0, true, Path::Regs),
    ("call-reply-recv-4-cross-as", 4, true, Path::Regs),
];

/// Call + ReplyRecv round trips `op` with `words` message words over
/// `path`, the partner in `space` (`None`: this address space). Under MCS
/// the server is passive (it runs on the client's SchedContext) unless
/// `active`; the `lib-*` cases are classic only (the library's `Message`
/// receive has no reply object).
fn round_trips(
    bi: &BootInfo,
    room: &mut Room,
    space: Option<&ImageSpace>,
    (op, words, path): (&str, usize, Path),
    active: bool,
) -> Result<(), Failed> {
    if !wanted(op) || (cfg!(sel4_mcs) && path == Path::Library) {
        return Ok(());
    }
    let ep = room.create(ObjectType::Endpoint)?;
    OBJECT.store(ep, Ordering::SeqCst);
    let server = match path {
        Path::Regs => echo_server,
        Path::Library => lib_echo_server,
    };
    let partner = start(bi, room, space, server, 255)?;
    if !active {
        server::make_passive()?;
    }
    let ep = CPtr(ep);
    let mut samples = [0u64; ITERATIONS];
    match path {
        Path::Regs => {
            let msg = RegMessage {
                info: MessageInfo::new(0, 0, 0, words as Word),
                mrs: [7; 4],
            };
            call_regs(ep, msg); // warm up: the partner is now waiting in ReplyRecv
            benchmark::reset_log();
            for s in samples.iter_mut() {
                let start = benchmark::cycles();
                call_regs(ep, msg);
                *s = benchmark::cycles().wrapping_sub(start);
            }
        }
        Path::Library => {
            let mrs = [7; 10];
            let mrs = mrs.get(..words).unwrap_or(&[]);
            call(ep, &Message::new(0, mrs, &[])); // warm up
            benchmark::reset_log();
            for s in samples.iter_mut() {
                let start = benchmark::cycles();
                call(ep, &Message::new(0, mrs, &[]));
                *s = benchmark::cycles().wrapping_sub(start);
            }
        }
    }
    report(op, &mut samples);
    partner
        .suspend()
        .map_err(|e| Failed("suspending the partner", e))
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
    if !wanted("signal-higher-prio") {
        return Ok(());
    }
    let n = room.create(ObjectType::Notification)?;
    OBJECT.store(n, Ordering::SeqCst);
    // The root thread drops below the partner, which then runs at once
    // and waits.
    init_caps::TCB
        .set_priority(init_caps::TCB, 254)
        .map_err(|e| Failed("lowering the root thread", e))?;
    let partner = start(bi, room, None, waiter, 255)?;
    let n = Notification::from_bits(n);
    time_wake_ups("signal-higher-prio", partner, || n.signal())
}

/// Times [`ITERATIONS`] wake-ups of `partner`, a thread above the root
/// thread (at 254 meanwhile) that notes in [`WOKEN_AT`] when it runs:
/// from just before `wake` to then. Reports them as `op`, then suspends
/// the partner and gives the root thread 255 again.
pub fn time_wake_ups(op: &str, partner: Tcb, wake: impl Fn()) -> Result<(), Failed> {
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        let start = benchmark::cycles();
        wake();
        *s = WOKEN_AT.load(Ordering::SeqCst).wrapping_sub(start);
    }
    report(op, &mut samples);
    partner
        .suspend()
        .map_err(|e| Failed("suspending the partner", e))?;
    init_caps::TCB
        .set_priority(init_caps::TCB, 255)
        .map_err(|e| Failed("restoring the root thread", e))
}

/// Runs the two-thread benchmarks with objects from `room`; returns the
/// second address space for the next benchmarks to use.
pub fn run(bi: &BootInfo, room: &mut Room) -> Result<ImageSpace, Failed> {
    for &(op, words, _, path) in ROUND_TRIPS.iter().filter(|c| !c.2) {
        round_trips(bi, room, None, (op, words, path), false)?;
    }
    // MCS: the same with a server on a SchedContext of its own (nothing
    // lent: the general path, and a switch of SchedContext each way).
    if cfg!(sel4_mcs) {
        let op = ("call-reply-recv-0-same-as-active", 0, Path::Regs);
        round_trips(bi, room, None, op, true)?;
    }
    let space = ImageSpace::new(bi, room.untyped, room.next_slot).map_err(|e| {
        cairn_rt::println!("cairn-bench: second address space: {e}");
        Failed(
            "making the second address space",
            sel4::Error::IllegalOperation,
        )
    })?;
    room.next_slot += ROOT_SLOTS;
    for &(op, words, _, path) in ROUND_TRIPS.iter().filter(|c| c.2) {
        round_trips(bi, room, Some(&space), (op, words, path), false)?;
    }
    signal_higher(bi, room)?;
    #[cfg(sel4_mcs)]
    {
        signal_passive(bi, room)?;
        consumed();
        crate::timeout::run(bi, room)?;
    }
    Ok(space)
}

/// MCS: a signal to a passive thread of higher priority waiting on a
/// notification bound to a SchedContext: the notification lends it the
/// SchedContext, it runs at once (from before the Signal to the woken
/// thread running), and gives it back when it waits again.
#[cfg(sel4_mcs)]
fn signal_passive(bi: &BootInfo, room: &mut Room) -> Result<(), Failed> {
    if !wanted("signal-passive") {
        return Ok(());
    }
    let n = room.create(ObjectType::Notification)?;
    let sc = sel4::SchedContext::from_bits(room.create_sized(ObjectType::SchedContext, 8)?);
    server::sched_control(bi)
        .configure_flags(sc, 5_000, 5_000, 0, 0, 0)
        .map_err(|e| Failed("SchedControl_ConfigureFlags", e))?;
    sc.bind(CPtr(n))
        .map_err(|e| Failed("binding the notification", e))?;
    OBJECT.store(n, Ordering::SeqCst);
    // The waiter starts at the root's priority, runs into its Wait when
    // the root yields, and becomes passive; then it is raised above the
    // root, as in signal-higher-prio.
    let partner = start(bi, room, None, waiter, 255)?;
    server::make_passive()?;
    init_caps::TCB
        .set_priority(init_caps::TCB, 254)
        .map_err(|e| Failed("lowering the root thread", e))?;
    let n = Notification::from_bits(n);
    time_wake_ups("signal-passive", partner, || n.signal())
}

/// MCS: `seL4_SchedContext_Consumed` of the root thread's own
/// SchedContext (an invocation that reads and clears its consumed time).
#[cfg(sel4_mcs)]
fn consumed() {
    if !wanted("sched-context-consumed") {
        return;
    }
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        let start = benchmark::cycles();
        let _ = core::hint::black_box(init_caps::SC.consumed());
        *s = benchmark::cycles().wrapping_sub(start);
    }
    report("sched-context-consumed", &mut samples);
}
