//! Host tests of the MCS scheduler on simulated time: threads with
//! budgets and periods driven by the kernel's own entry points (the timer
//! interrupt and system calls, as the machine layer calls them), the clock
//! advanced to the deadline the kernel programmed.

use super::mcs::{release_queue, sc_of};
use super::*;
use crate::arch::host::SimMachine;
use crate::arch::{Kernel, CAP_REGISTER};
use crate::object::sched_context::{Configure, SchedContextRef};
use crate::object::tcb::{TcbRef, ThreadState};
use crate::testutil::{boot, TestKernel};
use cairn_abi::syscall::{SYS_DEBUG_CAP_IDENTIFY, SYS_YIELD};

/// The simulated timebase: 10 ticks a µs.
pub(crate) const US: u64 = 10;
pub(crate) const MS: u64 = 1000 * US;

type Api = crate::api::Api;

/// The timer interrupt as the machine layer delivers it, then the exit.
pub(crate) fn timer_irq() {
    Api::handle_timer_tick(0);
    Api::current_context();
}

/// A system call of the current thread as the machine layer makes it
/// (fastpath, general path), then the exit.
pub(crate) fn syscall(no: i64) {
    crate::api::handle_syscall(no);
    Api::current_context();
}

/// The root thread stops (the tests' threads have the processor alone).
pub(crate) fn stop_root(k: &TestKernel) {
    set_thread_state(k.tcb, ThreadState::Inactive);
    Api::current_context();
}

/// A new thread at `prio` whose SchedContext gets `budget`/`period`
/// (ticks) and two refills through `SchedControl_ConfigureFlags`'s
/// perform step.
pub(crate) fn thread(
    k: &TestKernel,
    prio: u64,
    budget: u64,
    period: u64,
    sporadic: bool,
) -> TcbRef {
    thread_with_refills(k, prio, (budget, period), 2, sporadic)
}

/// [`thread`] with room for `max_refills` refills.
pub(crate) fn thread_with_refills(
    k: &TestKernel,
    prio: u64,
    (budget, period): (u64, u64),
    max_refills: u64,
    sporadic: bool,
) -> TcbRef {
    let t = k.threads(prio, 1)[0];
    let sc = sc_of(t).expect("a SchedContext");
    crate::object::sched_control::perform(
        sc,
        &Configure {
            budget,
            period,
            max_refills,
            badge: 0,
            sporadic,
        },
    );
    t
}

/// Runs the machine to `end`: each stretch until the programmed deadline
/// (or `end`) is run by the current thread, then the timer fires. Returns
/// the stretches (thread or idle, start, end).
pub(crate) fn run_until(end: u64) -> Vec<(Option<TcbRef>, u64, u64)> {
    let mut ran = vec![];
    loop {
        let now = crate::arch::now();
        if now >= end {
            return ran;
        }
        let deadline = SimMachine::deadline().expect("the timer is programmed");
        assert!(
            deadline > now,
            "a deadline in the past: {deadline} at {now}"
        );
        let next = deadline.min(end);
        ran.push((kernel().current_tcb(), now, next));
        crate::testutil::set_time(next);
        if next == deadline {
            timer_irq();
        }
    }
}

/// How long `t` ran in total, and the most it ran in any window of
/// `period` (windows starting where a stretch of it starts: the maximum
/// of a sliding window is at one of them).
fn usage(ran: &[(Option<TcbRef>, u64, u64)], t: TcbRef, period: u64) -> (u64, u64) {
    let mine: Vec<(u64, u64)> = ran
        .iter()
        .filter(|(r, _, _)| *r == Some(t))
        .map(|&(_, s, e)| (s, e))
        .collect();
    let total = mine.iter().map(|(s, e)| e - s).sum();
    let worst = mine
        .iter()
        .map(|&(w, _)| {
            mine.iter()
                .map(|&(s, e)| e.min(w + period).saturating_sub(s.max(w)))
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0);
    (total, worst)
}

#[test]
fn a_high_priority_spinner_is_held_to_its_budget() {
    let k = boot();
    stop_root(&k);
    // A hog at a high priority, 2 ms every 10 ms; a low thread in round
    // robin (5 ms timeslices). Both spin: only the timer stops them.
    let hog = thread(&k, 200, 2 * MS, 10 * MS, true);
    let low = thread(&k, 100, 5 * MS, 5 * MS, false);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(hog));
    assert_eq!(SimMachine::deadline(), Some(2 * MS), "the hog's budget end");
    let ran = run_until(100 * MS);
    let (hog_total, hog_worst) = usage(&ran, hog, 10 * MS);
    let (low_total, _) = usage(&ran, low, 5 * MS);
    assert!(hog_worst <= 2 * MS, "hog ran {hog_worst} in one period");
    assert_eq!(hog_total, 20 * MS, "and got all of its share");
    assert_eq!(low_total, 80 * MS, "the low thread got the rest");
    assert!(ran.iter().all(|(r, _, _)| r.is_some()), "never idle");
    // Consumed reports the time used (charged at each switch).
    let sc = sc_of(hog).unwrap();
    assert_eq!(sc.consumed(), 20 * MS);
}

#[test]
fn two_sporadic_threads_each_keep_to_their_share() {
    let k = boot();
    stop_root(&k);
    let a = thread(&k, 150, 3 * MS, 5 * MS, true);
    let b = thread(&k, 150, MS, 7 * MS, true);
    Api::current_context();
    let ran = run_until(70 * MS);
    let (a_total, a_worst) = usage(&ran, a, 5 * MS);
    let (b_total, b_worst) = usage(&ran, b, 7 * MS);
    // Usage is charged from the head's release (seL4's rule), and equal
    // priorities do not preempt each other: a thread delayed after its
    // release by the other may run its budget on each side of its next
    // release, never more.
    assert!(
        a_worst <= 6 * MS && b_worst <= 2 * MS,
        "{a_worst} {b_worst}"
    );
    // Each gets its budget at least once per period stretched by the
    // other's budget, and at most once per period.
    assert!((33 * MS..=42 * MS).contains(&a_total), "a ran {a_total}");
    assert!((7 * MS..=10 * MS).contains(&b_total), "b ran {b_total}");
    // Idle when both wait for their releases, with the timer set for the
    // next release.
    let idle = ran.iter().filter(|(r, _, _)| r.is_none()).count();
    assert!(idle > 0);
}

#[test]
fn an_exhausted_thread_cannot_run_whatever_it_does() {
    let k = boot();
    let ntfn = k.make(cairn_abi::object::ObjectType::Notification, 0, 1)[0];
    stop_root(&k);
    let hog = thread(&k, 200, 2 * MS, 10 * MS, true);
    let low = thread(&k, 100, 5 * MS, 5 * MS, false);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(hog));
    // The timer is late: the hog has run 3 ms when it signals.
    crate::testutil::set_time(3 * MS);
    let h = hog.get();
    // seL4_DebugCapIdentify answers in the cap register: observable.
    h.set_reg(CAP_REGISTER, ntfn);
    h.set_fault_ip(0x1000);
    h.set_next_ip(0x1004);
    syscall(SYS_DEBUG_CAP_IDENTIFY);
    assert_eq!(h.reg(CAP_REGISTER), ntfn, "the call was not performed");
    assert_eq!(kernel().current_tcb(), Some(low));
    assert!(h.in_release_queue() && h.state() == ThreadState::Restart);
    assert_eq!(release_queue().collect::<Vec<_>>(), vec![hog]);
    // Its overrun is charged as seL4's handle_overrun does: the whole
    // budget back a period after its release (10 ms), and the 1 ms more
    // out of that release, which then starts at 11 ms with the 1 ms left;
    // the timer is set for the low thread's timeslice.
    let head = sc_of(hog).unwrap().head_refill().unwrap();
    assert_eq!((head.time, head.amount), (11 * MS, MS));
    assert_eq!(SimMachine::deadline(), Some(8 * MS));
    // Yielding, faulting or calling again changes nothing: it is not
    // running. At its release it runs again and makes the call again.
    let ran = run_until(11 * MS + 1);
    assert!(ran
        .iter()
        .all(|&(r, s, _)| r == Some(if s < 11 * MS { low } else { hog })));
    assert_eq!(kernel().current_tcb(), Some(hog));
    assert_eq!(h.next_ip(), 0x1000, "the system call is made again");
    syscall(SYS_DEBUG_CAP_IDENTIFY);
    assert_eq!(h.reg(CAP_REGISTER), k.cap(ntfn).tag(), "now it is");
}

#[test]
fn an_exception_on_an_exhausted_budget_is_not_handled() {
    let k = boot();
    stop_root(&k);
    let hog = thread(&k, 200, 2 * MS, 10 * MS, true);
    let _low = thread(&k, 100, 5 * MS, 5 * MS, false);
    Api::current_context();
    crate::testutil::set_time(2 * MS + 5 * US);
    // An illegal instruction: no fault is delivered, the thread waits.
    Api::handle_exception(2, 0);
    Api::current_context();
    assert_eq!(hog.get().state(), ThreadState::Restart);
    assert!(hog.get().in_release_queue());
}

#[test]
fn exhausted_thread_without_timeout_handler_is_postponed() {
    // Without a timeout handler the thread waits for its release (with
    // one it takes a timeout fault: `ipc::tests::mcs_time`).
    let k = boot();
    stop_root(&k);
    let t = thread(&k, 200, 2 * MS, 10 * MS, true);
    Api::current_context();
    run_until(2 * MS + 1);
    assert!(t.get().in_release_queue());
    assert_eq!(t.get().state(), ThreadState::Running);
    assert_eq!(kernel().current_tcb(), None, "idle: nothing else to run");
    assert_eq!(
        SimMachine::deadline(),
        Some(7 * MS),
        "one idle timeslice (5 ms), before its release"
    );
    run_until(7 * MS);
    assert_eq!(SimMachine::deadline(), Some(10 * MS), "its release");
    run_until(10 * MS + 1);
    assert_eq!(kernel().current_tcb(), Some(t));
    assert_eq!(SimMachine::deadline(), Some(12 * MS));
}

#[test]
fn yield_gives_up_the_head_refill() {
    let k = boot();
    stop_root(&k);
    let a = thread(&k, 200, 2 * MS, 10 * MS, true);
    let rr = thread(&k, 100, 5 * MS, 5 * MS, false);
    Api::current_context();
    // After 500 µs the sporadic thread yields: its remaining 1.5 ms are
    // given up, back one period later, as is what it used.
    crate::testutil::set_time(500 * US);
    syscall(SYS_YIELD);
    assert_eq!(kernel().current_tcb(), Some(rr));
    assert!(a.get().in_release_queue());
    let sc = sc_of(a).unwrap();
    assert_eq!(sc.consumed(), 500 * US, "only the time actually used");
    let refills: Vec<_> = sc
        .with_refills(0, |q| q.iter().map(|r| (r.time, r.amount)).collect())
        .unwrap();
    assert_eq!(refills, vec![(10 * MS, 500 * US), (10_500 * US, 1500 * US)]);
    assert_eq!(SimMachine::deadline(), Some(5_500 * US), "rr's timeslice");
    // A round-robin thread that yields goes to the end of its priority
    // with a fresh timeslice.
    let rr2 = thread(&k, 100, 5 * MS, 5 * MS, false);
    crate::testutil::set_time(MS);
    syscall(SYS_YIELD);
    assert_eq!(kernel().current_tcb(), Some(rr2));
    assert_eq!(kernel().ready().queue(0, 100).collect::<Vec<_>>(), vec![rr]);
    let head = sc_of(rr).unwrap().head_refill().unwrap();
    assert_eq!((head.time, head.amount), (MS, 5 * MS));
}

#[test]
fn timer_is_programmed_for_the_earliest_event() {
    let k = boot();
    stop_root(&k);
    // Idle with nothing waiting: one idle timeslice on (seL4's idle
    // SchedContext, 5 ms), never "never" (`idle_timer_*` below).
    timer_irq();
    assert_eq!(SimMachine::deadline(), Some(5 * MS));
    // A thread whose budget is released later waits for it, and the
    // timer is set for its release.
    let t = thread(&k, 100, MS, 4 * MS, true);
    let sc = sc_of(t).unwrap();
    sc.with_refills(0, |q| q.yield_head(0)).unwrap();
    assert_eq!(sc.head_refill().unwrap().time, 4 * MS);
    set_thread_state(t, ThreadState::Inactive);
    dequeue(t);
    set_thread_state(t, ThreadState::Running);
    possible_switch_to(t);
    assert!(t.get().in_release_queue());
    Api::current_context();
    assert_eq!(SimMachine::deadline(), Some(4 * MS));
    // At its release it runs, until its budget ends.
    crate::testutil::set_time(4 * MS);
    timer_irq();
    assert_eq!(kernel().current_tcb(), Some(t));
    assert_eq!(SimMachine::deadline(), Some(5 * MS));
    // Another thread in the release queue with an earlier release than
    // the budget end sets the timer.
    let u = thread(&k, 50, MS, 4 * MS, true);
    let usc = sc_of(u).unwrap();
    dequeue(u);
    // It used 600 µs of its head (released at 4 ms): the rest is
    // released 600 µs later.
    usc.with_refills(0, |q| q.budget_check(600 * US, 4 * MS))
        .unwrap();
    possible_switch_to(u);
    assert!(u.get().in_release_queue());
    crate::testutil::set_time(4_200 * US);
    timer_irq();
    assert_eq!(SimMachine::deadline(), Some(4_600 * US));
}

#[test]
fn deleting_a_waiting_thread_takes_it_off_the_release_queue() {
    let k = boot();
    stop_root(&k);
    let a = thread(&k, 200, 2 * MS, 10 * MS, true);
    let b = thread(&k, 200, 2 * MS, 20 * MS, true);
    Api::current_context();
    run_until(4 * MS + 1);
    assert_eq!(release_queue().collect::<Vec<_>>(), vec![a, b]);
    // Suspend (as TCB_Suspend and deletion do) dequeues it.
    set_thread_state(a, ThreadState::Inactive);
    dequeue(a);
    assert_eq!(release_queue().collect::<Vec<_>>(), vec![b]);
    assert!(!a.get().in_release_queue());
    let sc = SchedContextRef::at(a.get().sched_context().unwrap());
    assert!(sc.is_configured());
}

#[test]
fn a_signal_wakes_a_waiter_on_its_own_context_without_reading_its_refills() {
    // seL4's sendSignal: the waiter is offered to the scheduler if its
    // context is configured and it is off the release queue; the head
    // refill is not read (docs/mcs.md, "What the scheduler checks"). The
    // one case where a refill check would differ: a context used up by
    // another thread, bound to the waiter while it waits.
    let k = boot();
    let ntfn = k.make(cairn_abi::object::ObjectType::Notification, 0, 1)[0];
    let crate::cap::Cap::Notification { ptr, .. } = k.cap(ntfn) else {
        panic!("no notification")
    };
    stop_root(&k);
    let hog = thread(&k, 150, 2 * MS, 10 * MS, true);
    Api::current_context();
    let _ = run_until(3 * MS);
    let sc = sc_of(hog).unwrap();
    assert!(hog.get().in_release_queue(), "used up until 10 ms");
    crate::sched::mcs::unbind_tcb(sc.paddr());
    let w = k.threads(200, 1)[0];
    k.without_sched_context(w);
    crate::ipc::notification::receive_signal(w, ptr, true);
    assert_eq!(w.get().state(), ThreadState::BlockedOnNotification);
    crate::object::sched_context::bind(sc, w);
    assert_eq!(sc.head_refill().map(|h| h.time), Some(10 * MS));
    crate::ipc::notification::send_signal(ptr, 1);
    Api::current_context();
    // Not postponed at the signal: it runs, as on seL4 ...
    assert_eq!(kernel().current_tcb(), Some(w));
    assert!(!w.get().in_release_queue());
    // ... until the next kernel entry, whose budget check finds the head
    // not released: charged, and postponed.
    crate::testutil::set_time(3 * MS + 10);
    timer_irq();
    assert!(w.get().in_release_queue());
    assert_eq!(kernel().current_tcb(), None);
}

#[test]
fn a_signal_wakes_a_waiter_on_its_own_usable_context_at_once() {
    // The usual case: the handler of an interrupt, or any waiter that
    // blocked on its own context, is switched to at the signal.
    let k = boot();
    let ntfn = k.make(cairn_abi::object::ObjectType::Notification, 0, 1)[0];
    let crate::cap::Cap::Notification { ptr, .. } = k.cap(ntfn) else {
        panic!("no notification")
    };
    stop_root(&k);
    let low = thread(&k, 100, 5 * MS, 5 * MS, false);
    let w = thread(&k, 200, 2 * MS, 10 * MS, true);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(w));
    crate::testutil::set_time(MS);
    crate::ipc::notification::receive_signal(w, ptr, true);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(low));
    crate::testutil::set_time(2 * MS);
    crate::ipc::notification::send_signal(ptr, 5);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(w), "the waiter preempts");
    assert_eq!(w.get().reg(crate::arch::BADGE_REGISTER), 5);
    assert!(!w.get().in_release_queue() && !low.get().in_release_queue());
}

#[test]
fn one_kernel_entry_takes_the_time_once() {
    // seL4's `ksCurTime`: the clock is read when the kernel is entered,
    // and every decision of that entry is taken at that time, however
    // long the kernel runs: refills configured then are released then, a
    // release that falls while the kernel runs waits for the timer, and
    // the running context is charged up to the entry.
    let k = boot();
    stop_root(&k);
    let a = thread(&k, 100, 5 * MS, 20 * MS, true);
    let w = thread(&k, 200, MS, 3 * MS, true);
    // `w` waits for its release at 3 ms.
    let wsc = sc_of(w).unwrap();
    wsc.with_refills(0, |q| q.yield_head(0)).unwrap();
    set_thread_state(w, ThreadState::Inactive);
    dequeue(w);
    set_thread_state(w, ThreadState::Running);
    possible_switch_to(w);
    assert!(w.get().in_release_queue());
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(a));
    assert_eq!(SimMachine::deadline(), Some(3 * MS), "w's release");
    // An interrupt at 2 ms; the clock moves past w's release while the
    // kernel runs.
    SimMachine::set_time(2 * MS);
    Api::handle_timer_tick(0);
    SimMachine::set_time(3 * MS + 7);
    assert_eq!(super::mcs::cur_time(), 2 * MS);
    let x = thread(&k, 50, MS, 10 * MS, true);
    let head = sc_of(x).unwrap().head_refill().unwrap();
    assert_eq!(head.time, 2 * MS, "released at the entry's time");
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(a), "w is not released yet");
    assert!(w.get().in_release_queue());
    assert_eq!(SimMachine::deadline(), Some(3 * MS));
    let asc = sc_of(a).unwrap();
    assert_eq!(asc.consumed(), 0, "nothing charged while a runs on");
    // The timer's entry at 3 ms + 7 releases w, and a is charged what it
    // used up to this entry: from 0, when it was chosen.
    Api::handle_timer_tick(0);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(w));
    assert_eq!(asc.consumed(), 3 * MS + 7);
    assert_eq!(super::mcs::cur_time(), 3 * MS + 7);
}

#[test]
fn donating_from_a_queued_thread_or_the_candidate_reschedules() {
    // `mcs::donate`'s rare cases (the usual one, from the running thread,
    // is every Call to a passive server: `ipc::tests::mcs`): the lender
    // leaves its queue, and a lender named as the scheduler's candidate
    // is forgotten; the running thread lending makes it choose afresh.
    let k = boot();
    let a = thread(&k, 100, 5 * MS, 20 * MS, true);
    let to = k.passive_threads(100, 1)[0];
    let sc = sc_of(a).unwrap();
    // Queued (if it was named the candidate, as it outranks nobody).
    reschedule_required();
    assert!(a.get().in_ready_queue());
    let before = (sc.refill_state(), sc.consumed(), sc.head_refill());
    kernel().set_action(Action::ResumeCurrent);
    super::mcs::donate(sc.paddr(), to);
    assert!(!a.get().in_sched_queue(), "out of its queue");
    assert_eq!(a.get().sched_context(), None);
    assert_eq!(to.get().sched_context(), Some(sc.paddr()));
    assert_eq!(sched_context_tcb(sc), Some(to));
    assert_eq!(action(), Action::ResumeCurrent, "a was not running");
    assert_eq!((sc.refill_state(), sc.consumed(), sc.head_refill()), before);
    // Back, while `to` is the candidate: forgotten, not queued (it has no
    // context left).
    kernel().set_action(Action::SwitchTo(to));
    super::mcs::donate(sc.paddr(), a);
    assert_eq!(action(), Action::ChooseNew);
    assert!(!to.get().in_sched_queue());
    assert_eq!(a.get().sched_context(), Some(sc.paddr()));
    assert_eq!(sched_context_tcb(sc), Some(a));
    // From the running thread: the scheduler chooses afresh.
    let root_sc = sc_of(k.tcb).unwrap();
    kernel().set_action(Action::ResumeCurrent);
    super::mcs::donate(root_sc.paddr(), to);
    assert_eq!(action(), Action::ChooseNew);
    assert_eq!(k.tcb.get().sched_context(), None);
    assert_eq!(to.get().sched_context(), Some(root_sc.paddr()));
    assert_eq!((sc.refill_state(), sc.consumed(), sc.head_refill()), before);
}

/// The thread the SchedContext `sc` names as bound.
fn sched_context_tcb(sc: SchedContextRef) -> Option<TcbRef> {
    crate::object::sched_context::tcb_of(sc.paddr())
}

#[test]
fn a_passive_thread_lent_the_running_context_is_admitted_on_the_entrys_check() {
    // A Call lends the running context to a passive server:
    // `possible_switch_to` admits the server on the budget check the
    // kernel entry made of that context (host builds assert the head is
    // usable), and the scheduler switches to it on the same context.
    let k = boot();
    stop_root(&k);
    let c = thread(&k, 100, 2 * MS, 10 * MS, true);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(c));
    let sc = c.get().sched_context().unwrap();
    assert_eq!(kernel().mcs().cur_sc(), sc.0);
    let s = k.passive_threads(200, 1)[0];
    set_thread_state(s, ThreadState::BlockedOnReceive);
    SimMachine::set_time(MS);
    assert_eq!(crate::sched::mcs::entry(), crate::sched::mcs::Budget::Left);
    crate::sched::mcs::donate(sc, s);
    set_thread_state(c, ThreadState::BlockedOnReply);
    set_thread_state(s, ThreadState::Running);
    possible_switch_to(s);
    assert!(!s.get().in_release_queue());
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(s));
    assert_eq!(kernel().mcs().cur_sc(), sc.0, "the same context runs on");
}

#[test]
fn the_running_thread_woken_on_its_used_up_context_takes_the_full_check() {
    // The running thread's context, charged within the entry (here its
    // head given up), is not vouched for by the entry's check: a wake-up
    // of that thread (as `awaken` makes) reads the head and postpones it.
    let k = boot();
    stop_root(&k);
    let t = thread(&k, 100, MS, 4 * MS, true);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(t));
    let sc = sc_of(t).unwrap();
    assert_eq!(kernel().mcs().cur_sc(), sc.paddr().0);
    sc.with_refills(0, |q| q.yield_head(0)).unwrap();
    possible_switch_to(t);
    assert!(t.get().in_release_queue(), "postponed to its release");
    assert!(!t.get().in_ready_queue());
}

/// The `system-control-mcs` hang under QEMU `-icount sleep=off`
/// (docs/mcs.md, "The idle timer"): an idle kernel programmed `u64::MAX`,
/// which QEMU 7.2 turns into a timer at `INT64_MAX` ns that its idle warp
/// jumps to. As seL4's idle thread on its own 5 ms context, an idle
/// kernel's timer is one idle timeslice ahead, or the first release if
/// earlier, and is programmed again each time it fires.
#[test]
fn an_idle_kernel_is_woken_every_idle_timeslice_never_never() {
    let k = boot();
    stop_root(&k);
    assert_eq!(kernel().current_tcb(), None);
    let at = crate::sched::mcs::cur_time();
    assert_eq!(SimMachine::deadline(), Some(at + 5 * MS));
    // Each tick brings the next; nothing is charged, nothing runs.
    for n in 1..=3 {
        crate::testutil::set_time(at + n * 5 * MS);
        timer_irq();
        assert_eq!(kernel().current_tcb(), None);
        assert_eq!(SimMachine::deadline(), Some(at + (n + 1) * 5 * MS));
    }
    // A release 7 ms away: the tick first (5 ms), then the release.
    let now = crate::arch::now();
    let t = thread(&k, 100, MS, 10 * MS, true);
    let sc = sc_of(t).unwrap();
    sc.with_refills(0, |q| q.configure(MS, 10 * MS, 2, now + 7 * MS))
        .unwrap();
    dequeue(t);
    possible_switch_to(t);
    assert!(t.get().in_release_queue());
    Api::current_context();
    assert_eq!(SimMachine::deadline(), Some(now + 5 * MS));
    crate::testutil::set_time(now + 5 * MS);
    timer_irq();
    assert_eq!(SimMachine::deadline(), Some(now + 7 * MS), "its release");
    crate::testutil::set_time(now + 7 * MS);
    timer_irq();
    assert_eq!(kernel().current_tcb(), Some(t));
    assert_eq!(SimMachine::deadline(), Some(now + 8 * MS), "its budget");
}

#[test]
fn a_deferred_thread_on_its_own_context_is_switched_to_with_the_old_one_charged() {
    // The scheduler's leaf (`schedule_mcs`) takes the thread a wake-up
    // deferred, but a thread on another context than the running one
    // makes the exit charge the old context and program the timer for
    // the new one (`exit_time` falls back to `resume_exit`): as the
    // general path always did.
    let k = boot();
    stop_root(&k);
    let c = thread(&k, 100, 2 * MS, 10 * MS, true);
    let s = thread(&k, 200, 3 * MS, 10 * MS, false);
    // A server waiting for a call (configured, it was made ready).
    set_thread_state(s, ThreadState::BlockedOnReceive);
    dequeue(s);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(c));
    let (csc, ssc) = (sc_of(c).unwrap(), sc_of(s).unwrap());
    assert_eq!(kernel().mcs().cur_sc(), csc.paddr().0);
    let consumed = csc.consumed();
    SimMachine::set_time(MS);
    assert_eq!(crate::sched::mcs::entry(), crate::sched::mcs::Budget::Left);
    set_thread_state(c, ThreadState::BlockedOnReply);
    assert_eq!(action(), Action::ChooseNew);
    set_thread_state(s, ThreadState::Running);
    possible_switch_to(s);
    assert!(
        kernel().ready().has_deferred(),
        "deferred, as the Call's server"
    );
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(s));
    assert_eq!(action(), Action::ResumeCurrent);
    assert!(!kernel().ready().has_deferred());
    assert!(!s.get().in_ready_queue());
    assert_eq!(
        kernel().mcs().cur_sc(),
        ssc.paddr().0,
        "its own context runs"
    );
    assert_eq!(csc.consumed(), consumed + MS, "the old one charged");
    assert_eq!(
        SimMachine::deadline(),
        Some(MS + 3 * MS),
        "the timer at the end of the new one's budget"
    );
}
