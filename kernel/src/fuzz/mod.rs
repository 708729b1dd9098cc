//! Coverage-guided fuzzing of the whole system-call surface on the host
//! build (docs/fuzzing.md). [`run`] boots a simulated machine with objects
//! of every type and threads at three priorities, then reads the fuzz
//! input as a program of kernel entries, each checked by
//! [`invariants::check`] afterwards:
//!
//! * a system call by whichever thread is current: every number (the
//!   classic ones, the debug ones but Halt, unknown ones), the capability
//!   register, the message info (any label, length and extra-cap count,
//!   sometimes a raw word), message registers and extra-cap words drawn
//!   from small numbers, boundary values, capability addresses and raw
//!   words; an interrupt may become pending at any of the kernel's
//!   preemption points, and a preempted call is repeated, as the thread
//!   would, the next time that thread runs;
//! * a timer tick, an external interrupt on an unmasked line, a user
//!   exception (VM fault, illegal instruction ...);
//! * a write to a user register or an IPC-buffer word of the current
//!   thread (as its own code could do);
//! * a Suspend and Resume of a thread that a capability still names (as
//!   another thread holding that capability could do), so that a run in
//!   which every thread blocked can go on.
//!
//! Finally any preempted call is run once more without interrupts: it
//! must complete (a preemptible operation that never ends is a hang).
//!
//! A panic anywhere (the kernel's own, the simulated machine's on a
//! dangling address, or a failed invariant) is a finding. The libFuzzer
//! binary is in `fuzz/`; `cargo xtask fuzz` builds and runs it. Every
//! finding becomes a test in [`tests`].
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "fuzzing code, never in the kernel binary: a panic is how a \
              finding is reported to libFuzzer"
)]

pub mod input;
pub mod invariants;
#[cfg(feature = "mcs")]
pub(crate) mod invariants_mcs;
// The findings' inputs and the corruption tests are written in the
// classic system calls and labels; the MCS build has its own.
#[cfg(test)]
#[cfg(not(feature = "mcs"))]
mod tests;
#[cfg(test)]
#[cfg(not(feature = "mcs"))]
mod tests_corrupt;
#[cfg(test)]
mod tests_driver;
#[cfg(test)]
#[cfg(feature = "mcs")]
mod tests_mcs;

use crate::api::Api;
use crate::arch::host::SimMachine;
use crate::arch::{Kernel, CAP_REGISTER, MSG_INFO_REGISTER};
use crate::cap::derive::cap_region;
use crate::cap::tree_check::{tcb_slots, BootMemory};
use crate::cap::{Cap, SlotRef};
use crate::ipc::message::MessageRegs;
use crate::ipc::transfer::CAPS_OR_BADGES_WORD;
use crate::object::access::write_word;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::state::{self, kernel, KernelState, MAX_IRQ};
use crate::testutil::{boot_with_ram, TestKernel, RAM};
use crate::types::Region;
use cairn_abi::message::MessageInfo;
use cairn_abi::syscall::*;
use input::Input;
use invariants::{BootFacts, Checker};
use std::cell::RefCell;
use std::collections::HashMap;

/// Simulated RAM of a fuzz run: the least the test machine boots with,
/// so that a fresh machine per run is cheap.
const RAM_SIZE: u64 = 8 << 20;

/// The root CNode slots the checks walk from at every step: the boot
/// capabilities, the objects made at setup and room for the program's
/// own (the driver's capability addresses are below it, and most words it
/// draws are). Walking all 4096 would cost ten times as much per step; a
/// capability beyond the window is still checked when a derivation link
/// leads to it.
const WINDOW: u64 = 256;

/// Steps of one run at most (libFuzzer's `-max_len` bounds the input too).
pub const MAX_STEPS: usize = 512;

/// The system calls a step makes, Call and the other invocations the most
/// often (a table: one entry per chance).
#[cfg(not(feature = "mcs"))]
const SYSCALLS: [i64; 16] = [
    SYS_CALL,
    SYS_CALL,
    SYS_CALL,
    SYS_CALL,
    SYS_SEND,
    SYS_NB_SEND,
    SYS_REPLY_RECV,
    SYS_RECV,
    SYS_NB_RECV,
    SYS_REPLY,
    SYS_YIELD,
    SYS_DEBUG_PUT_CHAR,
    SYS_DEBUG_CAP_IDENTIFY,
    SYS_DEBUG_NAME_THREAD,
    SYS_DEBUG_DUMP_SCHEDULER,
    SYS_DEBUG_SNAPSHOT,
];

/// MCS: the same chances over the MCS system calls (no seL4_Reply; the
/// combined send-and-receive calls and Wait).
#[cfg(feature = "mcs")]
const SYSCALLS: [i64; 16] = [
    SYS_CALL,
    SYS_CALL,
    SYS_CALL,
    SYS_SEND,
    SYS_NB_SEND,
    SYS_REPLY_RECV,
    SYS_RECV,
    SYS_NB_RECV,
    SYS_WAIT,
    SYS_NB_WAIT,
    SYS_NB_SEND_RECV,
    SYS_NB_SEND_WAIT,
    SYS_YIELD,
    SYS_DEBUG_PUT_CHAR,
    SYS_DEBUG_CAP_IDENTIFY,
    SYS_DEBUG_NAME_THREAD,
];

/// A booted machine and what the driver knows about it.
pub struct World {
    facts: BootFacts,
    /// The capability addresses worth aiming at: every non-empty slot of
    /// the root CNode after setup, eight empty ones and 0.
    cptrs: Vec<u64>,
    /// The threads made at setup (the root thread first).
    threads: Vec<TcbRef>,
    /// Threads whose system call was preempted: the call they repeat.
    pending: HashMap<u64, i64>,
    /// The invariant checks, with what the last one found.
    checker: Checker,
}

/// The machine booted once per thread and saved, and the driver's view of
/// it: every run starts from it again.
struct Booted {
    world: World,
    state: Box<KernelState>,
    /// The checker as the check of the machine as booted left it (what
    /// it read is what the rollback puts back).
    checker: Checker,
}

thread_local! {
    static BOOTED: RefCell<Option<Booted>> = const { RefCell::new(None) };
}

/// Runs the fuzz input `data` (see the module doc); panics on a finding.
///
/// Every run starts from the same machine: the first run of a thread
/// boots it ([`World::new`]) and saves it (the simulated machine's RAM
/// and registers, [`SimMachine::save`], and the kernel state); every
/// later run puts it back ([`SimMachine::rollback`] copies back only the
/// pages the previous run touched, a few dozen of 2 048) instead of
/// booting again, which was most of a run's time.
pub fn run(data: &[u8]) {
    from_start(|w| run_on(w, data));
}

/// Calls `f` on the machine as booted: boots and saves it the first time
/// on this thread (or if a test installed another machine since), else
/// rolls it back.
fn from_start<R>(f: impl FnOnce(&mut World) -> R) -> R {
    BOOTED.with(|b| {
        let mut b = b.borrow_mut();
        let fresh = b.as_ref().is_none_or(|_| SimMachine::rollback().is_none());
        let booted = match b.take() {
            Some(mut booted) if !fresh => {
                state::restore(&booted.state);
                booted.world.pending.clear();
                booted.world.checker.clone_from(&booted.checker);
                booted
            }
            _ => {
                let world = World::new();
                SimMachine::save();
                Booted {
                    state: state::snapshot(),
                    checker: world.checker.clone(),
                    world,
                }
            }
        };
        f(&mut b.insert(booted).world)
    })
}

/// Steps between two checks of the invariants by default (see
/// [`check_every`]): every step.
pub const CHECK_EVERY: usize = 1;

/// How many steps a run takes between two checks: [`CHECK_EVERY`], or
/// `CAIRN_FUZZ_CHECK_EVERY` from the environment (e.g. 8 for more
/// executions a second at the price of states that break an invariant
/// and mend it in between going unseen).
///
/// A check after every step is affordable because it walks the slots
/// only when one of those the last check reached has changed
/// ([`Checker`]); a full walk of about 300 slots cost 96 % of an
/// execution when it ran after every step. The steps checked are fixed by
/// the input, so a finding replays exactly.
pub fn check_every() -> usize {
    thread_local! {
        static EVERY: usize = std::env::var("CAIRN_FUZZ_CHECK_EVERY")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(CHECK_EVERY);
    }
    EVERY.with(|e| *e)
}

/// Runs `data` on `w`, checking the invariants every [`check_every`]
/// steps and, from scratch, at the end.
fn run_on(w: &mut World, data: &[u8]) {
    let every = check_every();
    let mut input = Input::new(data);
    let mut steps = 0;
    while !input.is_empty() && steps < MAX_STEPS {
        w.step(&mut input);
        steps += 1;
        if steps % every == 0 {
            w.check();
        }
    }
    w.finish();
    w.checker.check_full(&w.facts);
}

impl World {
    /// Boots and makes objects of every type and two more threads (at
    /// priorities 100 and 200, below the root thread's 255, queued).
    pub fn new() -> World {
        let k = boot_with_ram(RAM_SIZE);
        let boot_slots: Vec<SlotRef> = (0..k.first_empty)
            .map(|i| k.slot(i))
            .filter(|s| !s.get().cap().is_null())
            .collect();
        let regions = |untyped: bool| {
            boot_slots
                .iter()
                .copied()
                .chain(
                    if untyped {
                        None
                    } else {
                        Some(tcb_slots(k.tcb))
                    }
                    .into_iter()
                    .flatten(),
                )
                .map(|s| s.get().cap())
                .filter(|c| matches!(c, Cap::Untyped { .. }) == untyped)
                .filter_map(|c| cap_region(&c))
                .collect::<Vec<_>>()
        };
        let memory = BootMemory {
            untyped: regions(true),
            objects: regions(false),
        };
        let mut free = k.first_empty;
        let threads = setup_objects(&k, &mut free);
        let mut cptrs: Vec<u64> = (0..free).filter(|&i| !k.cap(i).is_null()).collect();
        cptrs.extend(free..free + 8);
        let roots = tcb_slots(k.tcb).collect();
        let facts = BootFacts {
            roots,
            window: (k.cnode, WINDOW),
            memory,
            ram: Region::new(RAM, RAM + RAM_SIZE),
        };
        let mut w = World {
            facts,
            cptrs,
            threads,
            pending: HashMap::new(),
            checker: Checker::default(),
        };
        w.checker.check_full(&w.facts);
        w
    }

    /// Checks every invariant (walking the slots again only if one the
    /// last check reached has changed, see [`Checker`]).
    pub fn check(&mut self) {
        self.checker.check(&self.facts);
    }

    /// One kernel entry, decided by the input, then the scheduler's
    /// choice of the thread to resume (as at every kernel exit).
    pub fn step(&mut self, input: &mut Input) {
        let kind = input.byte() % 16;
        let cur = kernel().current_tcb();
        // A thread with a preempted call repeats it before anything else
        // it does (timer, interrupts and other threads' actions come first).
        let repeats = cur.is_some_and(|t| self.pending.contains_key(&t.paddr().0));
        let kind = if repeats && matches!(kind, 11..=13) {
            0
        } else {
            kind
        };
        match kind {
            0..=8 => self.syscall(input),
            9 => {
                #[cfg(feature = "mcs")]
                advance_time(input);
                Api::handle_timer_tick(0)
            }
            10 => {
                let irq = 1 + input.below(MAX_IRQ as usize - 1) as u16;
                // Only an unmasked line reaches the kernel (the PLIC).
                if SimMachine::irq_unmasked(irq) {
                    Api::handle_external_irq(irq as u32);
                }
            }
            11 => {
                // Every synchronous exception but ecall (8), which is a
                // system call.
                const CAUSES: [u64; 11] = [0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 15];
                let cause = CAUSES.get(input.below(CAUSES.len())).copied().unwrap_or(0);
                let stval = input.word(&self.cptrs);
                if kernel().current_tcb().is_some() {
                    Api::handle_exception(cause, stval);
                }
            }
            12 => {
                let i = input.le(2) as usize % 512;
                let v = input.word(&self.cptrs);
                if let Some(t) = kernel().current_tcb() {
                    if let Some(at) = MessageRegs::of(t, true).buffer_word(i) {
                        write_word(at, v);
                    }
                }
            }
            13 => {
                let r = 1 + input.below(31);
                let v = input.word(&self.cptrs);
                if let Some(t) = kernel().current_tcb() {
                    t.get().set_reg(r, v);
                }
            }
            _ => self.suspend_resume(input),
        }
        Api::current_context();
    }

    /// A system call by the current thread: the preempted one again if it
    /// has one, else one decoded from the input.
    fn syscall(&mut self, input: &mut Input) {
        let Some(cur) = kernel().current_tcb() else {
            return;
        };
        let no = match self.pending.remove(&cur.paddr().0) {
            Some(no) => no,
            None => self.load(cur, input),
        };
        // An interrupt pending from the n-th preemption check on.
        let p = input.byte();
        SimMachine::set_interrupt_pending_after((p < 96).then_some(p as u64 / 2 + 1));
        Api::handle_syscall(no);
        SimMachine::set_interrupt_pending_after(None);
        if cur.get().state() == ThreadState::Restart && kernel().current_tcb() == Some(cur) {
            // Preempted: the interrupt is taken (a timer tick), and the
            // thread repeats the call when it next runs.
            self.pending.insert(cur.paddr().0, no);
            Api::handle_timer_tick(0);
        }
    }

    /// Decodes a system call into `t`'s registers and IPC buffer; returns
    /// its number.
    fn load(&self, t: TcbRef, input: &mut Input) -> i64 {
        let sel = input.byte();
        let no = match sel {
            // An unknown or benchmark number now and then.
            0..=7 => -(input.below(40) as i64) + 4,
            _ => SYSCALLS
                .get(sel as usize % SYSCALLS.len())
                .copied()
                .unwrap_or(SYS_CALL),
        };
        let no = if no == SYS_DEBUG_HALT { SYS_YIELD } else { no };
        let c = input.byte();
        let cptr = match self.cptrs.get(c as usize) {
            Some(&p) if c < 240 => p,
            _ => input.word(&self.cptrs),
        };
        let label = match input.byte() {
            b @ 0..=239 => (b % 48) as u64,
            _ => input.word(&[]),
        };
        let shape = input.byte();
        let len = (shape % 8) as usize;
        let extra = ((shape >> 3) % 4) as usize;
        let regs = MessageRegs::of(t, true);
        for i in 0..len {
            regs.set(i, input.word(&self.cptrs));
        }
        for i in 0..extra {
            let c = self
                .cptrs
                .get(input.below(self.cptrs.len()))
                .copied()
                .unwrap_or(0);
            if let Some(at) = regs.buffer_word(CAPS_OR_BADGES_WORD + i) {
                write_word(at, c);
            }
        }
        let info = if shape >= 0xF0 {
            input.word(&[])
        } else {
            MessageInfo::new(label, 0, extra as u64, len as u64).0
        };
        let tcb = t.get();
        tcb.set_reg(CAP_REGISTER, cptr);
        tcb.set_reg(MSG_INFO_REGISTER, info);
        #[cfg(feature = "mcs")]
        self.load_mcs(t, input);
        no
    }

    /// MCS: the reply register (a6: Recv, ReplyRecv, NBSendRecv; the
    /// destination of NBSendWait) and NBSendRecv's destination (t0):
    /// each keeps what it holds (the thread's reply object, from setup)
    /// half of the time, else becomes a capability address or a word.
    #[cfg(feature = "mcs")]
    fn load_mcs(&self, t: TcbRef, input: &mut Input) {
        use crate::arch::{NB_SEND_RECV_DEST, REPLY_REGISTER};
        for r in [REPLY_REGISTER, NB_SEND_RECV_DEST] {
            let b = input.byte();
            if b >= 128 {
                let v = match self.cptrs.get(b as usize - 128) {
                    Some(&p) if b < 240 => p,
                    _ => input.word(&self.cptrs),
                };
                t.get().set_reg(r, v);
            }
        }
    }

    /// Suspends and resumes one of the setup threads, if a capability
    /// still names it (as a thread holding that capability could).
    fn suspend_resume(&mut self, input: &mut Input) {
        let Some(&t) = self.threads.get(input.below(self.threads.len())) else {
            return;
        };
        // The slots as they are now (the last check may be steps old).
        let named = self
            .checker
            .reachable(&self.facts)
            .iter()
            .any(|s| s.get().cap() == Cap::Thread { tcb: t.paddr() });
        if named {
            // A preempted call stays pending: Resume restarts the thread
            // at its system call.
            crate::ipc::suspend(t);
            crate::ipc::restart(t);
        }
    }

    /// Runs the current thread's preempted call, if it has one, with no
    /// interrupt: it must complete.
    pub fn finish(&mut self) {
        let Some(cur) = kernel().current_tcb() else {
            return;
        };
        if let Some(no) = self.pending.remove(&cur.paddr().0) {
            Api::handle_syscall(no);
            assert!(
                cur.get().state() != ThreadState::Restart,
                "syscall {no} preempted without an interrupt"
            );
            Api::current_context();
        }
    }
}

/// The RAM (not device) untyped capabilities among `slots`, as `cap`
/// reads a slot: (size bits, slot).
fn ram_untypeds(
    slots: impl IntoIterator<Item = u64>,
    cap: impl Fn(u64) -> Cap,
) -> impl Iterator<Item = (u8, u64)> {
    slots.into_iter().filter_map(move |i| match cap(i) {
        Cap::Untyped {
            size_bits,
            is_device: false,
            ..
        } => Some((size_bits, i)),
        _ => None,
    })
}

/// Retypes two objects of every type (from the smallest RAM
/// untyped that holds them, so that setup does not clear a large one) into
/// the root CNode from slot `*free` on, and two more threads at
/// priorities 100 and 200 (below the root thread's 255) that share the
/// root thread's CSpace, VSpace and IPC buffer, queued to run (MCS: each
/// with a round-robin SchedContext and a reply object of its own, the
/// reply register naming it: `TestKernel::thread_in`). Returns the
/// threads, the root thread first; `*free` is left past the last slot used.
fn setup_objects(k: &TestKernel, free: &mut u64) -> Vec<TcbRef> {
    use cairn_abi::object::ObjectType as T;
    let source = ram_untypeds(k.untypeds.clone(), |i| k.cap(i))
        .filter(|&(size_bits, _)| size_bits >= 18)
        .min()
        .expect("a RAM untyped of 256 KiB")
        .1;
    for (ty, size) in [
        (T::Endpoint, 0),
        (T::Notification, 0),
        (T::Tcb, 0),
        (T::CapTable, 4),
        (T::SmallPage, 0),
        (T::PageTable, 0),
        (T::Untyped, 16),
        #[cfg(feature = "mcs")]
        (
            T::SchedContext,
            cairn_abi::object::MIN_SCHED_CONTEXT_BITS as u64,
        ),
        #[cfg(feature = "mcs")]
        (T::Reply, 0),
        (T::Tcb, 0),
    ] {
        let r = k.retype(source, ty as u64, size, *free, 2);
        assert_eq!(r, crate::testutil::ok(), "setup: retype {ty:?}");
        *free += 2;
    }
    let mut threads = vec![k.tcb];
    for (slot, prio) in [(*free - 2, 100), (*free - 1, 200)] {
        let t = k.thread_in(slot, prio);
        crate::sched::enqueue(t);
        threads.push(t);
    }
    threads
}

/// MCS: before a timer interrupt, the clock moves on (it never moves by
/// itself on the host): to the deadline the kernel programmed, half of
/// the time, else by up to 51 ms (the setup threads' timeslices are 5
/// ms), so that budgets run out, refills come back and the release queue
/// moves.
#[cfg(feature = "mcs")]
fn advance_time(input: &mut Input) {
    let b = input.byte();
    let now = crate::arch::now();
    let to = match SimMachine::deadline() {
        Some(d) if b < 128 && d != u64::MAX && d > now => d,
        _ => now.saturating_add(u64::from(b) * 2_000),
    };
    SimMachine::set_time(to);
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}
