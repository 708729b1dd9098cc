//! A preempted CancelBadgedSends on a priority-ordered MCS queue: a new
//! sender of higher priority arrives before the cursor, and queued
//! senders change priority (and so move) between the restarts. Every
//! sender that stayed queued with the badge from the first call to the
//! end must be gone at the end; the queue stays well linked and sorted.

use super::*;
use crate::object::queue::TcbQueue;

/// The endpoint's queue, first to last, checked to be well linked and
/// sorted by priority (highest first).
fn sorted_queue(s: &Setup) -> Vec<TcbRef> {
    let (q, _): (TcbQueue, u64) = queue(s);
    let (mut seen, mut prev, mut cur) = (Vec::<TcbRef>::new(), 0, q.head);
    while cur != 0 {
        let t = TcbRef::new(crate::types::PAddr(cur));
        assert_eq!(t.get().ep_prev(), prev, "back link");
        assert_eq!(t.get().state(), ThreadState::BlockedOnSend);
        if let Some(last) = seen.last() {
            assert!(last.get().priority() >= t.get().priority(), "sorted");
        }
        assert!(seen.len() < 1000, "queue loops");
        seen.push(t);
        (prev, cur) = (cur, t.get().ep_next());
    }
    assert_eq!(q.tail, prev, "tail");
    seen
}

/// The badged setup (senders of badges 1, 2, 3 in turn) with the senders'
/// priorities set to `prios` (cycled) after they queued: the queue is
/// reordered into priority order.
fn setup_at(n: u64, prios: &[u64]) -> Setup {
    let s = setup(Case::Badged, n);
    for (i, &t) in s.threads.iter().enumerate() {
        crate::sched::set_priority(t, prios[i % prios.len()]);
    }
    sorted_queue(&s);
    s
}

/// Restarts the preempted call until it completes, preempting every
/// `every` units.
fn finish(s: &Setup, every: u64) {
    while invoke(s, Some(every)) == Outcome::Preempted {
        sorted_queue(s);
    }
}

#[test]
fn a_higher_priority_sender_arriving_during_a_preempted_cancel() {
    let s = setup(Case::Badged, 12);
    assert_eq!(invoke(&s, Some(5)), Outcome::Preempted);
    let cursor = s.threads[4];
    assert_eq!(s.k.tcb.get().badged_cancel_cursor().0, cursor.paddr().0);
    // Two new badge-1 senders: one outranks every queued thread (it goes
    // to the head, before the cursor), one does not (it goes to the tail).
    let [high, low] = s.k.threads(10, 2)[..] else {
        panic!()
    };
    high.get().set_priority(50);
    syscall(high, SYS_SEND, s.badged[0], 0, &[], &[]);
    syscall(low, SYS_SEND, s.badged[0], 0, &[], &[]);
    let q = sorted_queue(&s);
    assert_eq!((q[0], q[q.len() - 1]), (high, low));
    finish(&s, 3);
    for (i, t) in s.threads.iter().enumerate() {
        let want = match i % 3 == 0 {
            true => ThreadState::Restart,
            false => ThreadState::BlockedOnSend,
        };
        assert_eq!(t.get().state(), want, "thread {i}");
    }
    // The one before the cursor sent after the call began and is not
    // examined (as if it had sent after the call); the one after it is.
    assert_eq!(high.get().state(), ThreadState::BlockedOnSend);
    assert_eq!(low.get().state(), ThreadState::Restart);
    assert_eq!(sorted_queue(&s)[0], high);
    assert_eq!(s.k.tcb.get().badged_cancel_cursor(), (0, 0));
}

#[test]
fn a_sender_never_examined_raised_past_the_cursor_is_still_cancelled() {
    let s = setup(Case::Badged, 12);
    assert_eq!(invoke(&s, Some(5)), Outcome::Preempted);
    let cursor = s.threads[4];
    assert_eq!(cursor.get().badged_cancel_mark(), s.k.tcb.paddr().0);
    // Thread 9 (badge 1, after the cursor) moves to the head; thread 1
    // (badge 2, examined) moves to the tail.
    crate::sched::set_priority(s.threads[9], 50);
    crate::sched::set_priority(s.threads[1], 5);
    let q = sorted_queue(&s);
    assert_eq!((q[0], q[q.len() - 1]), (s.threads[9], s.threads[1]));
    assert_eq!(cursor.get().badged_cancel_mark(), 0, "passed: no cursor");
    finish(&s, 3);
    for (i, t) in s.threads.iter().enumerate() {
        let cancelled = i % 3 == 0;
        assert_eq!(t.get().state() == ThreadState::Restart, cancelled, "{i}");
    }
}

#[test]
fn the_cursor_thread_itself_moving_restarts_the_walk() {
    let s = setup(Case::Badged, 12);
    assert_eq!(invoke(&s, Some(5)), Outcome::Preempted);
    let cursor = s.threads[4];
    // The cursor goes to the tail: following it would skip threads 5..11.
    crate::sched::set_priority(cursor, 5);
    assert_eq!(cursor.get().badged_cancel_mark(), 0);
    assert_eq!(invoke(&s, None), ok());
    for (i, t) in s.threads.iter().enumerate() {
        let cancelled = i % 3 == 0;
        assert_eq!(t.get().state() == ThreadState::Restart, cancelled, "{i}");
    }
}

#[test]
fn preempted_at_every_unit_on_a_sorted_queue_ends_as_uninterrupted() {
    let prios = [10, 40, 20, 40, 30];
    let want = {
        let s = setup_at(15, &prios);
        assert_eq!(invoke(&s, None), ok());
        snapshot(&s)
    };
    for at in 1..=16 {
        let s = setup_at(15, &prios);
        let mut points = [at, 1, 2, 1, 3].into_iter();
        while invoke(&s, points.next()) == Outcome::Preempted {
            sorted_queue(&s);
        }
        assert_eq!(snapshot(&s), want, "preempted at {at}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random priorities, preempted at random units; between the restarts
    /// queued senders change priority, new senders of any priority and
    /// badge arrive, and queued senders leave (and may send again). At the
    /// end no sender that stayed queued with badge 1 throughout is left.
    #[test]
    fn badged_sends_with_reorders_and_arrivals(
        n in 3..24u64,
        prios in proptest::collection::vec(1..6u64, 1..6),
        steps in proptest::collection::vec((1..=6u64, 0..4u8, 0..24usize, 1..6u64), 1..30),
    ) {
        let s = setup_at(n, &prios);
        let newcomers = s.k.threads(1, 8);
        let mut fresh = newcomers.iter().copied();
        // Threads that left the queue at some point: they need not be
        // cancelled (they sent again after the call began).
        let mut left: Vec<TcbRef> = Vec::new();
        let mut steps = steps.into_iter();
        loop {
            let step = steps.next();
            if invoke(&s, step.map(|(at, ..)| at)) != Outcome::Preempted {
                break;
            }
            sorted_queue(&s);
            let Some((_, op, i, p)) = step else { continue };
            let t = s.threads[i % s.threads.len()];
            let queued = t.get().state() == ThreadState::BlockedOnSend;
            match op {
                0 if queued => crate::sched::set_priority(t, p),
                1 => {
                    if let Some(c) = fresh.next() {
                        c.get().set_priority(p);
                        syscall(c, SYS_SEND, s.badged[i % 3], 0, &[], &[]);
                    }
                }
                2 if queued => {
                    left.push(t);
                    crate::ipc::cancel::suspend(t);
                    syscall(t, SYS_SEND, s.badged[i % 3], 0, &[], &[]);
                }
                _ => {}
            }
            sorted_queue(&s);
        }
        let q = sorted_queue(&s);
        for (i, t) in s.threads.iter().enumerate() {
            if i % 3 == 0 && !left.contains(t) {
                prop_assert!(!q.contains(t), "badge-1 sender {} left queued", i);
                prop_assert_eq!(t.get().state(), ThreadState::Restart);
            }
        }
        prop_assert_eq!(s.k.tcb.get().badged_cancel_cursor(), (0, 0));
    }
}
