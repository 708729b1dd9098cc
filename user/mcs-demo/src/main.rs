//! `cairn-mcs-demo`: the seed's mixed-criticality scenario on the MCS
//! kernel (issue 12 item 6, docs/mcs.md "The demo"). One processor runs
//!
//! * a **control loop** (priority 200) on a sporadic SchedContext of
//!   3 ms every 5 ms (60 %), released each 5 ms by a timer interrupt, with
//!   about 2 ms of work per period and its deadline at the next release;
//! * a **driver** (priority 150) on 1.5 ms every 5 ms (30 %), polling;
//! * a **hog** (priority 250, *above* the control loop) on 0.49 ms every
//!   4.9 ms (10 %), spinning: best effort, misbehaving;
//! * the root thread (priority 1, its boot SchedContext, round robin),
//!   spinning in the background until the control loop is done.
//!
//! Each SchedContext is retyped, configured through BootInfo's
//! SchedControl cap (`SchedControl_ConfigureFlags`, sporadic) and bound
//! to its thread (`SchedContext_Bind`). On a classic kernel the hog would
//! take the processor for ever; here the kernel stops it when its budget
//! is used, and the control loop, delayed by at most that budget, meets
//! every deadline.
//!
//! The root then prints the periods, deadline misses, the release jitter
//! (from the alarm's time to the loop running, in ns of the RTC, which
//! under `-icount shift=0` are instructions), the worst response time,
//! and each thread's share: the kernel's (`SchedContext_Consumed`) and,
//! for the hog, its own count. It passes if no deadline was missed and
//! the hog stayed within its 10 % (and a little for the timer
//! interrupt's latency).
#![no_std]
#![no_main]

mod rtc;
mod threads;

use cairn_rt::alloc::{create_object, SlotAllocator, UntypedAllocator};
use cairn_rt::println;
use cairn_rt::thread::{prepare, IpcPage, Stack, ThreadSpec};
use core::sync::atomic::Ordering::Relaxed;
use sel4::abi::invocation::SCHED_CONTEXT_SPORADIC;
use sel4::cap::init_caps;
use sel4::{CPtr, ObjectType, SchedContext, SchedControl, Tcb, Word};
use threads::{PERIODS, PERIOD_NS, RECORD};

/// One thread of the scenario.
struct Thread {
    name: &'static str,
    entry: fn(usize),
    priority: Word,
    budget_us: Word,
    period_us: Word,
    extra_refills: Word,
    stack_top: fn() -> usize,
    page: &'static IpcPage,
}

static CONTROL_STACK: Stack<16384> = Stack::new();
static DRIVER_STACK: Stack<8192> = Stack::new();
static HOG_STACK: Stack<8192> = Stack::new();
static CONTROL_PAGE: IpcPage = IpcPage::new();
static DRIVER_PAGE: IpcPage = IpcPage::new();
static HOG_PAGE: IpcPage = IpcPage::new();

const CONTROL: usize = 0;
const DRIVER: usize = 1;
const HOG: usize = 2;

/// The scenario, in the order [`CONTROL`], [`DRIVER`], [`HOG`].
const THREADS: [Thread; 3] = [
    Thread {
        name: "control loop",
        entry: threads::control,
        priority: 200,
        budget_us: 3_000,
        period_us: 5_000,
        // Its usage comes back in pieces when the hog preempts it.
        extra_refills: 4,
        stack_top: || CONTROL_STACK.top(),
        page: &CONTROL_PAGE,
    },
    Thread {
        name: "driver",
        entry: threads::driver,
        priority: 150,
        budget_us: 1_500,
        period_us: 5_000,
        extra_refills: 4,
        stack_top: || DRIVER_STACK.top(),
        page: &DRIVER_PAGE,
    },
    Thread {
        name: "hog",
        entry: threads::hog,
        priority: 250,
        // Its period is not the loop's, so that over the periods its runs
        // fall at every point of the loop's (0.1 ms later each period):
        // at a release, during the work, twice in one period.
        budget_us: 490,
        period_us: 4_900,
        extra_refills: 0,
        stack_top: || HOG_STACK.top(),
        page: &HOG_PAGE,
    },
];

/// The root's priority while the scenario runs: below everyone.
const BACKGROUND: Word = 1;

fn main(bi: &sel4::BootInfo) {
    match run(bi) {
        Ok(()) => {
            println!(
                "mcs-demo: the control loop met every deadline and the hog was held to its budget"
            )
        }
        Err(e) => println!("mcs-demo: FAILED: {}", e),
    }
    sel4::debug::halt();
}

fn run(bi: &sel4::BootInfo) -> Result<(), &'static str> {
    let mut ram = UntypedAllocator::new(bi.untypeds());
    let mut slots = SlotAllocator::new(bi.empty());
    let timer = rtc::Timer::new(bi, &mut ram, &mut slots).map_err(|(what, e)| {
        println!("mcs-demo: {what}: {e:?}");
        "setting up the timer"
    })?;
    threads::TIMER_IRQ.store(timer.irq.bits(), Relaxed);
    threads::TIMER_NTFN.store(timer.ntfn.bits(), Relaxed);

    let control = SchedControl::from_bits(bi.sched_control().start);
    let mut tcbs = [Tcb::from_bits(0); 3];
    let mut scs = [SchedContext::from_bits(0); 3];
    for (i, t) in THREADS.iter().enumerate() {
        let tcb =
            create_object(&mut ram, &mut slots, ObjectType::Tcb, 0).map_err(|_| "retype TCB")?;
        let sc = create_object(&mut ram, &mut slots, ObjectType::SchedContext, 8)
            .map_err(|_| "retype SchedContext")?;
        let (tcb, sc) = (Tcb::from_bits(tcb.0), SchedContext::from_bits(sc.0));
        let spec = ThreadSpec {
            tcb,
            entry: t.entry,
            arg: 0,
            stack_top: (t.stack_top)(),
            priority: t.priority,
            fault_ep: CPtr::NULL,
        };
        // SAFETY: each thread has a stack and a page of its own, used by
        // nothing else for the root task's whole life (the threads are
        // never stopped: the root task halts the machine).
        unsafe { prepare(bi, &spec, t.page) }.map_err(|_| "preparing a thread")?;
        control
            .configure_flags(
                sc,
                t.budget_us,
                t.period_us,
                t.extra_refills,
                0,
                SCHED_CONTEXT_SPORADIC,
            )
            .map_err(|_| "SchedControl_ConfigureFlags")?;
        sc.bind(tcb.cptr()).map_err(|_| "SchedContext_Bind")?;
        sel4::debug::name_thread(tcb, t.name);
        tcbs[i] = tcb;
        scs[i] = sc;
    }

    // The first release one period from now; the threads wait for the
    // root (priority 255) to step down.
    let first = timer.rtc.now() + PERIOD_NS;
    println!(
        "mcs-demo: {} periods of {} us; the RTC reads {} ns",
        PERIODS,
        PERIOD_NS / 1000,
        first - PERIOD_NS
    );
    threads::FIRST_RELEASE.store(first, Relaxed);
    timer.rtc.set_alarm(first);
    for tcb in tcbs {
        tcb.resume().map_err(|_| "TCB_Resume")?;
    }
    // Zero every context's count of consumed time.
    for sc in scs.iter().chain([&init_caps::SC]) {
        sc.consumed().map_err(|_| "SchedContext_Consumed")?;
    }
    let start = timer.rtc.now();
    let root = init_caps::TCB;
    root.set_priority(root, BACKGROUND)
        .map_err(|_| "lowering the root's priority")?;
    // The root runs whenever the others wait: it sees the end, or that
    // the loop stopped being released (twice its time: an overloaded loop
    // takes longer, and is reported as missing its deadlines).
    let limit = (2 * PERIODS + 10) * PERIOD_NS;
    while !RECORD.done.load(Relaxed) {
        // The clock only now and then: a device read is slow in QEMU.
        for _ in 0..10_000 {
            if RECORD.done.load(Relaxed) {
                break;
            }
            core::hint::spin_loop();
        }
        if timer.rtc.now() - start > limit {
            println!(
                "mcs-demo: after {} ms the control loop has run {} of {} periods",
                (timer.rtc.now() - start) / 1_000_000,
                RECORD.periods.load(Relaxed),
                PERIODS
            );
            return Err("the control loop stopped");
        }
    }
    let elapsed = timer.rtc.now() - start;
    let mut consumed_us = [0; 4];
    for (c, sc) in consumed_us
        .iter_mut()
        .zip(scs.iter().chain([&init_caps::SC]))
    {
        *c = sc.consumed().map_err(|_| "SchedContext_Consumed")?;
    }
    report(elapsed, &consumed_us)
}

/// Per mille of `part` in `whole`.
fn per_mille(part: u64, whole: u64) -> u64 {
    part.saturating_mul(1000) / whole.max(1)
}

/// Prints the figures; fails on a missed deadline or a hog over budget.
fn report(elapsed_ns: u64, consumed_us: &[Word; 4]) -> Result<(), &'static str> {
    let r = &RECORD;
    let periods = r.periods.load(Relaxed);
    let misses = r.misses.load(Relaxed);
    let (jmin, jmax) = (r.jitter_min.load(Relaxed), r.jitter_max.load(Relaxed));
    let jmean = r.jitter_sum.load(Relaxed) / periods.max(1);
    println!(
        "mcs-demo: {} periods of {} us: {} deadline misses; release jitter min {} max {} mean {} \
         instructions; worst response {} us (deadline {} us)",
        periods,
        PERIOD_NS / 1000,
        misses,
        jmin,
        jmax,
        jmean,
        r.response_max.load(Relaxed) / 1000,
        PERIOD_NS / 1000,
    );
    let share = |us: Word| per_mille(us * 1000, elapsed_ns);
    let hog_own = per_mille(threads::HOG_TIME.load(Relaxed) * 100, elapsed_ns);
    println!(
        "mcs-demo: shares of {} ms (SchedContext_Consumed):",
        elapsed_ns / 1_000_000
    );
    for (t, us) in THREADS.iter().zip(consumed_us) {
        let s = share(*us);
        println!(
            "mcs-demo:   {:<12} priority {:>3}, {:>4} us every {} us: {:>2}.{}%",
            t.name,
            t.priority,
            t.budget_us,
            t.period_us,
            s / 10,
            s % 10
        );
    }
    let bg = share(consumed_us[3]);
    println!(
        "mcs-demo:   {:<12} priority {:>3}, round robin:            {:>2}.{}%",
        "root",
        BACKGROUND,
        bg / 10,
        bg % 10
    );
    println!(
        "mcs-demo: the hog's own count: {}.{}% in {} runs; the driver took {} samples",
        hog_own / 10,
        hog_own % 10,
        threads::HOG_RUNS.load(Relaxed),
        threads::SAMPLES.load(Relaxed)
    );
    if periods != PERIODS || r.early.load(Relaxed) != 0 {
        return Err("the control loop was not released once per alarm");
    }
    if misses != 0 {
        return Err("the control loop missed deadlines");
    }
    // 10 %, and a little for the timer interrupt's latency (an overrun is
    // charged: the next budget comes that much later).
    let hog = share(consumed_us[HOG]);
    if hog > 105 || hog_own > 105 {
        return Err("the hog ran more than its share");
    }
    if hog < 80 || hog_own < 80 {
        return Err("the hog hardly ran");
    }
    if share(consumed_us[DRIVER]) > 305 || share(consumed_us[CONTROL]) > 605 {
        return Err("a thread ran more than its budget");
    }
    Ok(())
}

cairn_rt::entry!(main);
