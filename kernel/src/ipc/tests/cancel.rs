//! Preempted cancellation (issue 12 item 7): deleting the last capability
//! to an endpoint or a notification, and CNode_CancelBadgedSends, are
//! interrupted at every possible work unit (and at random ones, again and
//! again, in the property tests). At every preemption the queue must be a
//! well-linked list of threads blocked on the object, every other thread
//! restarted and ready, and the capability still in place; once the
//! restarted call completes, the state must equal that of the run nobody
//! interrupted.

use super::*;
use crate::arch::host::SimMachine;
use crate::object::endpoint::EndpointRef;
use crate::object::notification::NotificationRef;
use crate::object::queue::TcbQueue;
use crate::object::tcb::ThreadState;
use crate::preempt::WORK_UNITS_PER_PREEMPTION;
use crate::testutil::{boot, ok, Outcome};
use cairn_abi::cap::init::CNODE;
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;
use proptest::prelude::*;

// MCS: the same cancellations on priority-ordered queues, with reorders.
#[cfg(feature = "mcs")]
mod mcs;

/// What is being cancelled.
#[derive(Clone, Copy, Debug)]
enum Case {
    /// Deleting the last endpoint cap, the threads queued to send.
    DeleteEpSenders,
    /// Deleting the last endpoint cap, the threads queued to receive.
    DeleteEpReceivers,
    /// Deleting the last notification cap, the threads waiting.
    DeleteNtfn,
    /// CancelBadgedSends of badge 1, the senders' badges 1, 2, 3 in turn.
    Badged,
}

/// A kernel with `n` threads queued on one object, and how to invoke the
/// cancellation.
struct Setup {
    k: crate::testutil::TestKernel,
    threads: Vec<TcbRef>,
    /// The object's slot (for the badged case, the badge-1 cap's).
    slot: u64,
    /// The object's address.
    ptr: crate::types::PAddr,
    /// The caps of badges 1, 2, 3 (badged case).
    badged: Vec<u64>,
    label: u64,
}

fn setup(case: Case, n: u64) -> Setup {
    let k = boot();
    let ty = match case {
        Case::DeleteNtfn => T::Notification,
        _ => T::Endpoint,
    };
    let obj = object(&k, ty);
    let ptr = match k.cap(obj) {
        crate::cap::Cap::Endpoint { ptr, .. } | crate::cap::Cap::Notification { ptr, .. } => ptr,
        c => panic!("{c:?}"),
    };
    let badged: Vec<u64> = match case {
        Case::Badged => (1..=3).map(|b| mint(&k, obj, 0xF, b)).collect(),
        _ => vec![],
    };
    let threads = k.threads(10, n);
    for (i, &t) in threads.iter().enumerate() {
        let (no, cptr) = match case {
            Case::DeleteEpSenders => (SYS_SEND, obj),
            Case::DeleteEpReceivers => (SYS_RECV, obj),
            Case::DeleteNtfn => (SYS_RECV, obj),
            Case::Badged => (SYS_SEND, badged[i % 3]),
        };
        syscall(t, no, cptr, 0, &[], &[]);
        assert_ne!(t.get().state(), ThreadState::Running, "thread {i} blocks");
    }
    let (slot, label) = match case {
        Case::Badged => (badged[0], l::CNODE_CANCEL_BADGED_SENDS),
        _ => (obj, l::CNODE_DELETE),
    };
    Setup {
        k,
        threads,
        slot,
        ptr,
        badged,
        label,
    }
}

/// Invokes the cancellation as the root thread, preempted at work unit
/// `at` (1..=100: the next preemption check is placed there and finds an
/// interrupt pending) or never.
fn invoke(s: &Setup, at: Option<u64>) -> Outcome {
    s.k.load(CNODE, s.label, &[s.slot, 64], &[]);
    match at {
        Some(at) => {
            crate::preempt::set_first_check_after(Some(at));
            SimMachine::set_interrupt_pending_after(Some(1));
        }
        None => SimMachine::set_interrupt_pending_after(None),
    }
    crate::api::invoke::handle_invocation(s.k.tcb, true, true);
    crate::preempt::set_first_check_after(None);
    SimMachine::set_interrupt_pending_after(None);
    if s.k.tcb.get().state() == ThreadState::Restart {
        return Outcome::Preempted;
    }
    s.k.reply()
}

/// The object's queue and state bits.
fn queue(s: &Setup) -> (TcbQueue, u64) {
    match s.label {
        l::CNODE_DELETE if matches!(s.k.cap(s.slot), crate::cap::Cap::Notification { .. }) => {
            let q = &NotificationRef::new(s.ptr).get().queue;
            (q.tcbs(), q.state() as u64)
        }
        _ => {
            let q = &EndpointRef::new(s.ptr).get().queue;
            (q.tcbs(), q.state() as u64)
        }
    }
}

/// The invariants at a preemption point: the capability is still there;
/// the queue is a well-linked list of threads blocked on the object, in
/// the state its threads wait in (Idle iff empty); every thread not in it
/// has restarted and is ready. Returns the queued threads, first to last.
fn check_preempted(s: &Setup) -> Vec<u64> {
    check_preempted_but(s, &[])
}

/// [`check_preempted`], not checking the state of the threads `touched`
/// by the test itself.
fn check_preempted_but(s: &Setup, touched: &[TcbRef]) -> Vec<u64> {
    assert!(!s.k.cap(s.slot).is_null(), "the cap stays until the end");
    let (q, state) = queue(s);
    let mut seen = Vec::new();
    let (mut prev, mut cur) = (0, q.head);
    while cur != 0 {
        let t = TcbRef::new(crate::types::PAddr(cur)).get();
        assert_eq!(t.ep_prev(), prev, "back link of {cur:#x}");
        assert_eq!(t.blocking_object(), s.ptr.0);
        assert!(seen.len() <= s.threads.len(), "queue loops");
        seen.push(cur);
        (prev, cur) = (cur, t.ep_next());
    }
    assert_eq!(q.tail, prev, "tail");
    assert_eq!(state == 0, seen.is_empty(), "Idle iff empty");
    for &t in &s.threads {
        let tcb = t.get();
        if seen.contains(&t.paddr().0) {
            let want = match (s.label, state) {
                (_, _) if matches!(s.k.cap(s.slot), crate::cap::Cap::Notification { .. }) => {
                    ThreadState::BlockedOnNotification
                }
                (_, 2) => ThreadState::BlockedOnReceive,
                _ => ThreadState::BlockedOnSend,
            };
            assert_eq!(tcb.state(), want);
            assert!(!tcb.in_ready_queue());
        } else if !touched.contains(&t) {
            assert_eq!(tcb.state(), ThreadState::Restart);
            assert!(tcb.in_ready_queue(), "restarted threads are ready");
            assert_eq!((tcb.ep_prev(), tcb.ep_next()), (0, 0));
        }
    }
    seen
}

type Snapshot = (Vec<(ThreadState, bool, [u64; 4])>, TcbQueue, u64);

/// Everything the cancellation may change: each thread's state, queue and
/// ready-queue links, and the object's queue.
fn snapshot(s: &Setup) -> Snapshot {
    let threads = s
        .threads
        .iter()
        .map(|t| {
            let t = t.get();
            let links = [t.ep_prev(), t.ep_next(), t.sched_prev(), t.sched_next()];
            (t.state(), t.in_ready_queue(), links)
        })
        .collect();
    let (q, state) = queue(s);
    (threads, q, state)
}

/// The final state of the uninterrupted run.
fn reference(case: Case, n: u64) -> (Outcome, Snapshot, bool) {
    let s = setup(case, n);
    let out = invoke(&s, None);
    let null = s.k.cap(s.slot).is_null();
    (out, snapshot(&s), null)
}

/// Runs the cancellation preempted at the units `points` in turn (then
/// uninterrupted), checking the invariants at each preemption, and
/// compares the end with the uninterrupted run. Returns the number of
/// preemptions.
fn run_preempted(case: Case, n: u64, points: &[u64]) -> usize {
    let (want_out, want, want_null) = reference(case, n);
    let s = setup(case, n);
    let mut left = s.threads.len() + 1;
    let mut points = points.iter().copied();
    let mut preemptions = 0;
    loop {
        match invoke(&s, points.next()) {
            Outcome::Preempted => {
                preemptions += 1;
                let queued = check_preempted(&s).len();
                if !matches!(case, Case::Badged) {
                    assert!(queued < left, "progress at every preemption");
                }
                left = queued;
            }
            out => {
                assert_eq!(out, want_out);
                break;
            }
        }
    }
    assert_eq!(snapshot(&s), want);
    assert_eq!(s.k.cap(s.slot).is_null(), want_null);
    preemptions
}

const CASES: [Case; 4] = [
    Case::DeleteEpSenders,
    Case::DeleteEpReceivers,
    Case::DeleteNtfn,
    Case::Badged,
];

#[test]
fn preempted_at_every_unit_the_end_is_the_uninterrupted_one() {
    for case in CASES {
        let n = 12;
        for at in 1..=n + 1 {
            // A check at unit `at` of `n` finds the interrupt.
            let once = run_preempted(case, n, &[at]);
            assert_eq!(once, usize::from(at <= n), "{case:?} at {at}");
            // And again at every later unit: one thread per restart.
            let ones = [at, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
            let again = run_preempted(case, n, &ones);
            assert!(again as u64 >= n + 1 - at, "{case:?} at {at}: {again}");
        }
    }
}

#[test]
fn uninterrupted_cancellation_restarts_the_right_threads() {
    for case in CASES {
        let s = setup(case, 9);
        assert_eq!(invoke(&s, None), ok());
        for (i, t) in s.threads.iter().enumerate() {
            let cancelled = !matches!(case, Case::Badged) || i % 3 == 0;
            let want = match cancelled {
                true => ThreadState::Restart,
                false => ThreadState::BlockedOnSend,
            };
            assert_eq!(t.get().state(), want, "{case:?} thread {i}");
        }
        let (q, _) = queue(&s);
        assert_eq!(q.is_empty(), !matches!(case, Case::Badged));
    }
}

/// A long queue with an interrupt pending at every check: each restart
/// does exactly one preemption interval of work.
#[test]
fn two_hundred_fifty_waiters_take_two_bounded_restarts() {
    let s = setup(Case::DeleteEpSenders, 250);
    let mut calls = 0;
    while invoke(&s, Some(WORK_UNITS_PER_PREEMPTION)) == Outcome::Preempted {
        calls += 1;
        let left = check_preempted(&s).len() as u64;
        assert_eq!(left, 250 - calls * WORK_UNITS_PER_PREEMPTION);
    }
    assert_eq!(calls, 2, "the third call restarts the last 50");
    assert!(s.k.cap(s.slot).is_null());
}

/// A CancelBadgedSends preempted after its cursor, whose cursor thread then
/// leaves the queue and queues again (at the end, behind threads never
/// examined): the restarted walk must not trust the cursor, and every
/// badge-1 sender is restarted in the end.
#[test]
fn badged_cursor_thread_that_queues_again_is_not_followed() {
    let s = setup(Case::Badged, 30);
    assert_eq!(invoke(&s, Some(5)), Outcome::Preempted);
    check_preempted(&s);
    // Thread 4 (badge 2) was examined last: the cursor.
    let cursor = s.threads[4];
    assert_eq!(s.k.tcb.get().badged_cancel_cursor().0, cursor.paddr().0);
    crate::ipc::cancel::suspend(cursor);
    // It sends again through the badge-2 cap (slot of the second mint).
    let (q, _) = queue(&s);
    assert_ne!(q.tail, cursor.paddr().0);
    syscall(cursor, SYS_SEND, s.badged[1], 0, &[], &[]);
    assert_eq!(queue(&s).0.tail, cursor.paddr().0);
    while invoke(&s, Some(3)) == Outcome::Preempted {
        check_preempted(&s);
    }
    for (i, t) in s.threads.iter().enumerate() {
        let badge1 = i % 3 == 0;
        assert_eq!(
            t.get().state() == ThreadState::Restart,
            badge1,
            "thread {i}"
        );
    }
    assert_eq!(s.k.tcb.get().badged_cancel_cursor(), (0, 0), "cleared");
}

/// The root slot holding a capability to the thread `t`.
fn tcb_slot(s: &Setup, t: TcbRef) -> u64 {
    (0..1u64 << 12)
        .find(|&i| s.k.cap(i) == crate::cap::Cap::Thread { tcb: t.paddr() })
        .expect("a cap to the thread")
}

/// The cursor link is never stale: deleting the cursor thread while the
/// call is preempted clears the invoker's cursor (its memory may be
/// retyped and written by user space, so the restarted call must not
/// read it), and the restarted call walks from the head to the right end;
/// deleting an invoker clears its cursor thread's mark.
#[test]
fn deleting_the_cursor_thread_or_the_invoker_ends_the_link() {
    let s = setup(Case::Badged, 12);
    assert_eq!(invoke(&s, Some(5)), Outcome::Preempted);
    let cursor = s.threads[4];
    assert_eq!(s.k.tcb.get().badged_cancel_cursor().0, cursor.paddr().0);
    assert_eq!(cursor.get().badged_cancel_mark(), s.k.tcb.paddr().0);
    // Only the cursor carries the mark.
    assert_eq!(s.threads[2].get().badged_cancel_mark(), 0);
    let slot = tcb_slot(&s, cursor);
    assert_eq!(crate::cap::delete::cte_delete(s.k.slot(slot)), Ok(()));
    assert_eq!(s.k.tcb.get().badged_cancel_cursor(), (0, 0), "cursor gone");
    assert_eq!(invoke(&s, None), ok());
    for (i, t) in s.threads.iter().enumerate().filter(|&(i, _)| i != 4) {
        let cancelled = i % 3 == 0;
        assert_eq!(t.get().state() == ThreadState::Restart, cancelled, "{i}");
    }
    // Another thread of the root's CSpace, preempted in its own walk, is
    // deleted: its cursor thread keeps no mark naming it.
    let s = setup(Case::Badged, 12);
    let [walker] = s.k.threads(10, 1)[..] else {
        panic!()
    };
    load(walker, CNODE, s.label, &[s.slot, 64], &[]);
    crate::state::kernel().reset_work_units();
    crate::preempt::set_first_check_after(Some(5));
    SimMachine::set_interrupt_pending_after(Some(1));
    crate::api::invoke::handle_invocation(walker, true, true);
    crate::preempt::set_first_check_after(None);
    SimMachine::set_interrupt_pending_after(None);
    assert_eq!(walker.get().state(), ThreadState::Restart, "preempted");
    let cursor = s.threads[4];
    assert_eq!(cursor.get().badged_cancel_mark(), walker.paddr().0);
    let slot = tcb_slot(&s, walker);
    assert_eq!(crate::cap::delete::cte_delete(s.k.slot(slot)), Ok(()));
    assert_eq!(cursor.get().badged_cancel_mark(), 0, "no mark outlives it");
}

/// A second walk that restarts the first walk's cursor thread ends the
/// first walk's cursor, which then starts from the head.
#[test]
fn a_second_walk_passing_the_cursor_takes_it_over() {
    let s = setup(Case::Badged, 12);
    assert_eq!(invoke(&s, Some(5)), Outcome::Preempted);
    let [walker] = s.k.threads(10, 1)[..] else {
        panic!()
    };
    // The second walk, of badge 2, restarts the first walk's cursor
    // thread 4 (badge 2): the first walk's cursor goes with it.
    load(walker, CNODE, s.label, &[s.badged[1], 64], &[]);
    crate::state::kernel().reset_work_units();
    crate::api::invoke::handle_invocation(walker, true, true);
    assert_eq!(walker.get().badged_cancel_cursor(), (0, 0), "it completed");
    let (c, _) = s.k.tcb.get().badged_cancel_cursor();
    assert_eq!(c, 0, "its cursor thread left (badge 2)");
    assert_eq!(invoke(&s, None), ok());
    for (i, t) in s.threads.iter().enumerate() {
        let cancelled = i % 3 != 2;
        assert_eq!(t.get().state() == ThreadState::Restart, cancelled, "{i}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random queue lengths, preempted at random units again and again:
    /// the invariants hold at every preemption and the end is the
    /// uninterrupted run's.
    #[test]
    fn preempted_at_random_units(
        case in 0..4usize,
        n in 1..40u64,
        points in proptest::collection::vec(1..=12u64, 0..40),
    ) {
        let _ = run_preempted(CASES[case], n, &points);
    }

    /// CancelBadgedSends preempted at random units while, between the
    /// restarts, random queued threads leave and send again: at the end no
    /// badge-1 sender is queued and the queue is well formed.
    #[test]
    fn badged_sends_with_threads_leaving_and_queueing_again(
        n in 3..30u64,
        steps in proptest::collection::vec((1..=8u64, 0..30usize, any::<bool>()), 1..30),
    ) {
        let s = setup(Case::Badged, n);
        let mut touched = Vec::new();
        let mut steps = steps.into_iter();
        loop {
            let step = steps.next();
            if invoke(&s, step.map(|(at, _, _)| at)) != Outcome::Preempted {
                break;
            }
            check_preempted_but(&s, &touched);
            let Some((_, i, again)) = step else { continue };
            let t = s.threads[i % s.threads.len()];
            if t.get().state() == ThreadState::BlockedOnSend {
                touched.push(t);
                crate::ipc::cancel::suspend(t);
                if again {
                    syscall(t, SYS_SEND, s.badged[i % 3], 0, &[], &[]);
                }
            }
        }
        check_preempted_end(&s);
    }
}

/// After a completed CancelBadgedSends: no badge-1 sender left queued.
fn check_preempted_end(s: &Setup) {
    let (q, _) = queue(s);
    let mut cur = q.head;
    while cur != 0 {
        let t = TcbRef::new(crate::types::PAddr(cur)).get();
        assert_ne!(t.blocking_badge(), 1, "a badge-1 sender is left");
        cur = t.ep_next();
    }
}
