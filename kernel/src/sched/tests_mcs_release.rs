//! Host tests of the MCS release queue and timer (docs/isolation.md,
//! "Late releases"; docs/mcs.md, "The scheduler"): a thread released
//! from the release queue runs at its release, whatever else waits
//! there, and the timer is always programmed for the earliest event.

use super::mcs::{release_queue, sc_of};
use super::tests_mcs::{stop_root, syscall, thread_with_refills as thread, timer_irq, MS, US};
use super::*;
use crate::arch::host::SimMachine;
use crate::arch::Kernel;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::testutil::boot;
use cairn_abi::syscall::SYS_YIELD;

type Api = crate::api::Api;

/// The release times of the threads on the release queue, first first,
/// read from their head refills now.
fn release_times() -> Vec<u64> {
    release_queue()
        .map(|t| {
            sc_of(t)
                .and_then(|sc| sc.head_refill())
                .map_or(u64::MAX, |h| h.time)
        })
        .collect()
}

/// After a kernel exit: the release queue is in release-time order, none
/// of it is released, and the timer is set no later than its first
/// release.
fn check_release_queue() {
    let times = release_times();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "release queue out of order: {times:?}"
    );
    let now = super::mcs::cur_time();
    if let Some(&first) = times.first() {
        assert!(first > now, "released at {first} but waiting at {now}");
        let deadline = SimMachine::deadline().expect("programmed");
        assert!(
            deadline <= first,
            "the timer at {deadline}, the first release at {first}"
        );
    }
}

/// Threads that work `work` ticks at each release, then Yield (the
/// tutorial's periodic idiom); every other thread spins. Runs the
/// machine to `end`: the current thread runs until its work is done (a
/// Yield) or the programmed deadline (the timer), each kernel exit
/// checked ([`check_release_queue`]). Returns each yielder's release
/// times (when it started a round of work) and the most threads seen
/// waiting on the release queue at once. The timer's interrupt is taken
/// `late` ticks after each deadline (the machine idles or the thread
/// runs on meanwhile).
fn simulate(yielders: &[(TcbRef, u64)], end: u64, late: u64) -> (Vec<Vec<u64>>, usize) {
    let mut left: Vec<u64> = yielders.iter().map(|&(_, w)| w).collect();
    let mut starts: Vec<Vec<u64>> = vec![vec![]; yielders.len()];
    let mut most = 0;
    loop {
        check_release_queue();
        most = most.max(release_queue().count());
        let now = crate::arch::now();
        if now >= end {
            return (starts, most);
        }
        let deadline = SimMachine::deadline().expect("the timer is programmed");
        assert!(
            deadline > now,
            "a deadline in the past: {deadline} at {now}"
        );
        let cur = kernel().current_tcb();
        let me = yielders.iter().position(|&(t, _)| Some(t) == cur);
        if let Some(i) = me {
            if left[i] == yielders[i].1 {
                starts[i].push(now);
            }
            let done = now + left[i];
            if done < deadline {
                SimMachine::set_time(done);
                left[i] = yielders[i].1;
                syscall(SYS_YIELD);
                continue;
            }
            left[i] = done - deadline;
        }
        let fires = deadline.saturating_add(late);
        SimMachine::set_time(fires.min(end));
        if fires <= end {
            timer_irq();
        }
    }
}

#[test]
fn a_release_is_not_held_back_by_a_later_one() {
    // The isolation suite's shape (docs/isolation.md): a periodic thread
    // of the highest priority (100 µs every 500 µs, 10 µs of work, then
    // Yield), a monitor below it on 9 ms every 10 ms that spins through
    // its budget (its setup) and then waits on the release queue, and a
    // sporadic spinner below both. Every release of the periodic thread
    // comes on time, whoever else waits for a release.
    let k = boot();
    stop_root(&k);
    let pulse = thread(&k, 254, (100 * US, 500 * US), 6, false);
    let monitor = thread(&k, 250, (9 * MS, 10 * MS), 2, false);
    let _hostile = thread(&k, 100, (500 * US, 2 * MS), 6, true);
    Api::current_context();
    let (starts, most) = simulate(&[(pulse, 10 * US)], 50 * MS, 0);
    assert!(most >= 2, "the monitor and the periodic thread both waited");
    let late: Vec<(usize, u64)> = (0..)
        .zip(&starts[0])
        .map(|(n, &s)| (n, s - n as u64 * 500 * US))
        .filter(|&(_, l)| l > 0)
        .collect();
    assert_eq!(starts[0].len(), 100, "late: {late:?}");
    assert!(late.is_empty(), "late: {late:?}");
    // The monitor ran (nearly) its 9 ms in each of its five periods but
    // the first: reconfigured while runnable, its head kept the 5 ms of
    // its round-robin timeslice and the other 4 ms came one new period
    // later (seL4's `refill_update`; 44 to 45 ms with Cairn's earlier
    // rule, which had them back within the first period). The last
    // stretch is charged when it is next switched from.
    let used = sc_of(monitor).unwrap().consumed();
    assert!(
        (40 * MS..=41 * MS).contains(&used),
        "the monitor's share: {used}"
    );
}

#[test]
fn a_sporadic_thread_released_late_keeps_its_release_times() {
    // seL4's `awaken` makes no sporadic unblock check (only the IPC,
    // notification, Resume and Bind call sites do): a sporadic thread
    // taken off the release queue after its release (here the timer's
    // interrupt comes 7 µs late every time) keeps its head refill's
    // release time, and what it uses is charged from there, so its
    // releases stay on its period. Cairn moved the head to the late
    // entry's time, and each release came 7 µs later than the one before.
    let k = boot();
    stop_root(&k);
    let t = thread(&k, 200, (100 * US, 500 * US), 6, true);
    Api::current_context();
    let (starts, _) = simulate(&[(t, 10 * US)], 20 * MS, 7 * US);
    let want: Vec<u64> = (0..40)
        .map(|n| if n == 0 { 0 } else { n * 500 * US + 7 * US })
        .collect();
    assert_eq!(starts[0], want);
    // Its head refill: released at its period, the whole budget.
    let head = sc_of(t).unwrap().head_refill().unwrap();
    assert_eq!((head.time, head.amount), (20 * MS, 100 * US));
}

#[test]
fn a_priority_change_does_not_move_a_sporadic_head_refill() {
    // seL4's MCS `setPriority` re-queues a runnable thread without the
    // unblock check: a sporadic thread whose head was released earlier
    // keeps that release time when its priority changes.
    let k = boot();
    stop_root(&k);
    let low = thread(&k, 100, (5 * MS, 5 * MS), 2, false);
    let t = thread(&k, 50, (MS, 10 * MS), 6, true);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(low));
    crate::testutil::set_time(2 * MS);
    set_priority(t, 150);
    let head = sc_of(t).unwrap().head_refill().unwrap();
    assert_eq!(
        (head.time, head.amount),
        (0, MS),
        "released at 0, as configured"
    );
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(t));
}

#[test]
fn a_constant_bandwidth_thread_released_late_counts_from_when_it_runs() {
    // seL4's `switchSchedContext` runs the unblock check on a context that
    // is not sporadic when it becomes the running one: the head refill,
    // released at its period but run 7 µs late (the timer's interrupt
    // comes late every time), starts when it runs, and the Yield's charge
    // of the whole head releases the next one a period after that. So each
    // release comes 7 µs after the one before plus a period, where a
    // sporadic thread keeps its period (the test above).
    let k = boot();
    stop_root(&k);
    let t = thread(&k, 200, (100 * US, 500 * US), 6, false);
    Api::current_context();
    let (starts, _) = simulate(&[(t, 10 * US)], 20 * MS, 7 * US);
    let want: Vec<u64> = (0..)
        .map(|n| n * 507 * US)
        .take_while(|&s| s < 20 * MS)
        .collect();
    assert_eq!(starts[0], want);
    let head = sc_of(t).unwrap().head_refill().unwrap();
    // The next release: a period after the last start.
    assert_eq!((head.time, head.amount), ((39 * 507 + 500) * US, 100 * US));
}

#[test]
fn only_a_constant_bandwidth_context_starts_its_head_when_switched_to() {
    // Three threads above a round-robin spinner, each on a context whose
    // head was released at 0, woken at 2 ms without an unblock check (as
    // a release from the release queue is) and run one after the other:
    // only the constant-bandwidth one's head starts when it runs; the
    // sporadic one's and the round-robin one's keep their release.
    let k = boot();
    stop_root(&k);
    let low = thread(&k, 10, (5 * MS, 5 * MS), 2, false);
    let cb = thread(&k, 200, (MS, 10 * MS), 6, false);
    let sp = thread(&k, 180, (MS, 10 * MS), 6, true);
    let rr = thread(&k, 150, (MS, MS), 2, false);
    let all = [cb, sp, rr];
    Api::current_context();
    for t in all {
        set_thread_state(t, ThreadState::Inactive);
        dequeue(t);
    }
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(low));
    crate::testutil::set_time(2 * MS);
    for t in all {
        set_thread_state(t, ThreadState::Running);
        possible_switch_to_no_unblock(t);
    }
    let head = |t: TcbRef| sc_of(t).unwrap().head_refill().unwrap().time;
    assert_eq!(all.map(head), [0, 0, 0], "not yet switched to");
    for (t, want) in [(cb, 2 * MS), (sp, 0), (rr, 0)] {
        Api::current_context();
        assert_eq!(kernel().current_tcb(), Some(t));
        assert_eq!(head(t), want);
        set_thread_state(t, ThreadState::Inactive);
    }
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(low));
}
