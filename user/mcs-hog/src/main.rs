//! `cairn-mcs-hog`: temporal isolation on the MCS kernel (issue 12,
//! docs/mcs.md). The root thread starts a *hog*: a thread that spins
//! forever at priority 200 on a SchedContext of 1 ms every 10 ms (10 %,
//! sporadic). The root thread then lowers itself to priority 100 and
//! spins too, for 300 ms of the time counter. On a classic kernel the hog
//! would never let it run again; on the MCS kernel the hog is stopped
//! when its budget is used and the root runs the rest of each period.
//!
//! Both threads watch the time counter (`rdtime`): a jump of more than
//! `GAP` between two of their own readings is time another thread ran.
//! The hog adds up how long it ran; the root its longest wait. The root
//! prints the hog's share and passes if it is at most 10.5 % (10 % and
//! the timer interrupt's latency) and at least 8 % (the hog did get its
//! budget), and if the root never waited more than 1.2 budgets. The
//! image runs under `-icount` (`xtask/src/images.rs`), where the time
//! counter follows instructions: the figures are the same on every run.
#![no_std]
#![no_main]

use cairn_rt::alloc::{create_object, SlotAllocator, UntypedAllocator};
use cairn_rt::thread::{prepare, IpcPage, Stack, ThreadSpec};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use sel4::abi::invocation::label;
use sel4::object::invoke;
use sel4::{init, CPtr, Message, ObjectType, Tcb, Word};

/// The hog's budget and period (µs): 10 %.
const BUDGET_US: Word = 1_000;
const PERIOD_US: Word = 10_000;
/// How long the root watches (µs).
const WATCH_US: u64 = 300_000;
/// Two readings of the time counter further apart than this (µs) mean
/// the reader was not running in between.
const GAP_US: u64 = 50;

static HOG_STACK: Stack<8192> = Stack::new();
static HOG_PAGE: IpcPage = IpcPage::new();
/// Time counter units the hog ran, over its finished runs.
static HOG_TIME: AtomicU64 = AtomicU64::new(0);
/// The hog's runs so far.
static HOG_RUNS: AtomicU64 = AtomicU64::new(0);
/// Time counter units per µs: QEMU virt's 10 MHz timebase (ABI ref §12).
static TICKS_PER_US: AtomicU64 = AtomicU64::new(10);

/// The time counter (`scounteren` lets user space read it).
fn rdtime() -> u64 {
    let t: u64;
    // SAFETY: reads the time CSR into a register; no memory access.
    unsafe { core::arch::asm!("rdtime {}", out(reg) t, options(nomem, nostack)) };
    t
}

/// The hog: spins forever, adding up its runs.
fn hog(_: usize) {
    let gap = GAP_US * TICKS_PER_US.load(Relaxed);
    let mut start = rdtime();
    let mut last = start;
    loop {
        let t = rdtime();
        if t - last > gap {
            HOG_TIME.fetch_add(last - start, Relaxed);
            HOG_RUNS.fetch_add(1, Relaxed);
            start = t;
        }
        last = t;
    }
}

fn main(bi: &sel4::BootInfo) {
    match run(bi) {
        Ok(()) => cairn_rt::println!("mcs-hog: the hog was held to its budget"),
        Err(e) => cairn_rt::println!("mcs-hog: FAILED: {}", e),
    }
    sel4::debug::halt();
}

fn run(bi: &sel4::BootInfo) -> Result<(), &'static str> {
    let timebase = TICKS_PER_US.load(Relaxed);
    let mut untypeds = UntypedAllocator::new(bi.untypeds());
    let mut slots = SlotAllocator::new(bi.empty());
    let tcb =
        create_object(&mut untypeds, &mut slots, ObjectType::Tcb, 0).map_err(|_| "retype TCB")?;
    let sc = create_object(&mut untypeds, &mut slots, ObjectType::SchedContext, 8)
        .map_err(|_| "retype SchedContext")?;
    let tcb = Tcb::from_bits(tcb.0);
    let spec = ThreadSpec {
        tcb,
        entry: hog,
        arg: 0,
        stack_top: HOG_STACK.top(),
        priority: 200,
        fault_ep: CPtr::NULL,
    };
    // SAFETY: the stack and the page are the hog's alone, for ever (it
    // is never stopped: the root task halts the machine).
    unsafe { prepare(bi, &spec, &HOG_PAGE) }.map_err(|_| "prepare the hog")?;
    let control = CPtr(bi.raw().schedcontrol.start);
    let configure = Message::new(
        label::SCHED_CONTROL_CONFIGURE_FLAGS,
        &[
            BUDGET_US,
            PERIOD_US,
            0,
            0,
            sel4::abi::invocation::SCHED_CONTEXT_SPORADIC,
        ],
        &[sc],
    );
    invoke(control, &configure).map_err(|_| "SchedControl_ConfigureFlags")?;
    let bind = Message::new(label::SCHED_CONTEXT_BIND, &[], &[CPtr(tcb.bits())]);
    invoke(sc, &bind).map_err(|_| "SchedContext_Bind")?;
    let root = Tcb::from_bits(init::TCB);
    root.set_priority(root, 100)
        .map_err(|_| "lowering the root's priority")?;
    // From here the hog preempts the root whenever it has budget.
    let gap = GAP_US * timebase;
    let begin = rdtime();
    tcb.resume().map_err(|_| "resuming the hog")?;
    let mut last = rdtime();
    let mut longest_wait = 0;
    let mut waits = 0;
    while last - begin < WATCH_US * timebase {
        let t = rdtime();
        if t - last > gap {
            longest_wait = longest_wait.max(t - last);
            waits += 1;
        }
        last = t;
    }
    let elapsed = last - begin;
    let hog_time = HOG_TIME.load(Relaxed);
    let runs = HOG_RUNS.load(Relaxed);
    // Per mille of the watch.
    let share = hog_time * 1000 / elapsed;
    cairn_rt::println!(
        "mcs-hog: hog (priority 200, {} us every {} us) ran {}.{}% of {} ms in {} runs; \
         the root (priority 100) waited {} times, at most {} us",
        BUDGET_US,
        PERIOD_US,
        share / 10,
        share % 10,
        elapsed / timebase / 1000,
        runs,
        waits,
        longest_wait / timebase
    );
    // Under icount the figures are exact: 29 finished runs of 1 ms in
    // 300 ms (the 30th is still going). The hog's own count misses the
    // kernel's entries and exits around each run, hence the lower bound.
    if runs < 25 || share < 80 {
        return Err("the hog hardly ran");
    }
    // 10 %, and a little for the timer interrupt's latency (an overrun is
    // charged: its next budget comes that much later).
    if share > 105 {
        return Err("the hog ran more than its share");
    }
    if longest_wait * 10 > 12 * BUDGET_US * timebase {
        return Err("the root waited longer than the hog's budget");
    }
    Ok(())
}

cairn_rt::entry!(main);
