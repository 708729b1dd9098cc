//! MCS queue order (seL4's MCS `tcbAppend`, `reorderEP`, `reorderNTFN`):
//! endpoint senders, endpoint receivers and notification waiters queue by
//! priority, FIFO among equals, and a blocked thread whose priority
//! changes (TCB_SetPriority) moves to where it would queue now. A random
//! test holds the queue against a model list after every step.

use super::*;
use crate::object::endpoint::EndpointRef;
use crate::object::notification::NotificationRef;
use crate::object::queue::TcbQueue;
use crate::object::tcb::ThreadState;
use crate::testutil::{boot, ok};
use crate::types::PAddr;
use cairn_abi::cap::init;
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;
use proptest::prelude::*;

/// `n` threads at the priorities `prios`, with their TCB caps' slots.
fn threads_at(k: &TestKernel, prios: &[u64]) -> Vec<(TcbRef, u64)> {
    let slots = k.make(T::Tcb, 0, prios.len() as u64);
    slots
        .into_iter()
        .zip(prios)
        .map(|(s, &p)| (k.thread_in(s, p), s))
        .collect()
}

/// The object in root slot `s`'s queue.
fn tcbs(k: &TestKernel, s: u64) -> TcbQueue {
    match k.cap(s) {
        Cap::Endpoint { ptr, .. } => EndpointRef::new(ptr).get().queue.tcbs(),
        Cap::Notification { ptr, .. } => NotificationRef::new(ptr).get().queue.tcbs(),
        c => panic!("{c:?}"),
    }
}

/// The queued threads first to last, checking every back link and the
/// tail.
fn order(q: TcbQueue) -> Vec<u64> {
    let (mut seen, mut prev, mut cur) = (Vec::new(), 0, q.head);
    while cur != 0 {
        let t = TcbRef::new(PAddr(cur)).get();
        assert_eq!(t.ep_prev(), prev, "back link of {cur:#x}");
        assert!(seen.len() < 1000, "queue loops");
        seen.push(cur);
        (prev, cur) = (cur, t.ep_next());
    }
    assert_eq!(q.tail, prev, "tail");
    seen
}

fn pa(t: TcbRef) -> u64 {
    t.paddr().0
}

/// TCB_SetPriority of the thread in slot `tcb` to `prio`, the root's TCB
/// the authority.
fn set_priority(k: &TestKernel, tcb: u64, prio: u64) {
    assert_eq!(
        k.call(tcb, l::TCB_SET_PRIORITY, &[prio], &[init::TCB]),
        ok()
    );
}

#[test]
fn senders_queue_by_priority_fifo_among_equals_and_are_received_so() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let prios = [10, 30, 20, 30, 10, 40, 5];
    let ts = threads_at(&k, &prios);
    for (i, &(t, _)) in ts.iter().enumerate() {
        syscall(t, SYS_SEND, ep, 0, &[i as u64], &[]);
        assert_eq!(t.get().state(), ThreadState::BlockedOnSend);
    }
    // 40, then the two 30s in the order they came, 20, the 10s, 5.
    let want = [5, 1, 3, 2, 0, 4, 6];
    let want_pa: Vec<u64> = want.iter().map(|&i| pa(ts[i].0)).collect();
    assert_eq!(order(tcbs(&k, ep)), want_pa);
    let [r] = k.threads(100, 1)[..] else { panic!() };
    for &i in &want {
        syscall(r, SYS_RECV, ep, 0, &[], &[]);
        assert_eq!(received(r, 1).2, [i as u64], "sender {i} next");
        assert_eq!(ts[i].0.get().state(), ThreadState::Running);
    }
    assert!(tcbs(&k, ep).is_empty());
}

#[test]
fn receivers_and_notification_waiters_queue_by_priority() {
    let k = boot();
    for ty in [T::Endpoint, T::Notification] {
        let obj = object(&k, ty);
        let ts = threads_at(&k, &[7, 9, 8, 9]);
        for &(t, _) in &ts {
            syscall(t, SYS_RECV, obj, 0, &[], &[]);
        }
        let want = [1, 3, 2, 0];
        let want_pa: Vec<u64> = want.iter().map(|&i| pa(ts[i].0)).collect();
        assert_eq!(order(tcbs(&k, obj)), want_pa, "{ty:?}");
        // A send or a signal wakes the first: the highest, earliest.
        let [s] = k.threads(1, 1)[..] else { panic!() };
        for &i in &want {
            syscall(s, SYS_NB_SEND, obj, 0, &[], &[]);
            assert_eq!(ts[i].0.get().state(), ThreadState::Running, "{ty:?} {i}");
        }
    }
}

#[test]
fn set_priority_moves_a_blocked_thread_as_sel4_reorders() {
    let k = boot();
    for (ty, no, state) in [
        (T::Endpoint, SYS_SEND, ThreadState::BlockedOnSend),
        (T::Endpoint, SYS_RECV, ThreadState::BlockedOnReceive),
        (
            T::Notification,
            SYS_RECV,
            ThreadState::BlockedOnNotification,
        ),
    ] {
        let obj = object(&k, ty);
        let ts = threads_at(&k, &[30, 20, 20, 10]);
        for &(t, _) in &ts {
            syscall(t, no, obj, 0, &[], &[]);
        }
        let [a, b, c, d] = [0, 1, 2, 3].map(|i| pa(ts[i].0));
        let x = ts[3].1;
        let steps = [
            // Up to an equal priority: after the threads already there.
            (x, 20, [a, b, c, d]),
            // Between two priorities; to the head; down past equals.
            (x, 25, [a, d, b, c]),
            (x, 50, [d, a, b, c]),
            (x, 20, [a, b, c, d]),
            // Set again to its own priority: to the end of its equals.
            (ts[1].1, 20, [a, c, d, b]),
            (x, 1, [a, c, b, d]),
        ];
        for (slot, prio, want) in steps {
            set_priority(&k, slot, prio);
            assert_eq!(order(tcbs(&k, obj)), want, "{ty:?} {no} to {prio}");
            for &(t, _) in &ts {
                assert_eq!(t.get().state(), state, "still blocked");
                assert!(!t.get().in_ready_queue(), "and in no ready queue");
            }
        }
        assert_eq!(ts[3].0.get().priority(), 1);
    }
}

/// A model of seL4's MCS queue: (thread index, priority) first to last.
fn model_append(m: &mut Vec<(usize, u64)>, i: usize, p: u64) {
    let at = m.iter().rposition(|&(_, q)| q >= p).map_or(0, |j| j + 1);
    m.insert(at, (i, p));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random senders at random priorities, random priority changes of
    /// queued and unqueued threads, and receives: after every step the
    /// queue is the model's (seL4's append after the last of equal or
    /// higher priority; a reorder is a remove and an append).
    #[test]
    fn the_queue_is_always_sel4s_order(
        prios in proptest::collection::vec(0..8u64, 2..12),
        steps in proptest::collection::vec((0..3u8, 0..12usize, 0..8u64), 1..60),
    ) {
        let k = boot();
        let ep = object(&k, T::Endpoint);
        let ts = threads_at(&k, &prios);
        let [r] = k.threads(200, 1)[..] else { panic!() };
        let mut m: Vec<(usize, u64)> = Vec::new();
        for (op, i, p) in steps {
            let i = i % ts.len();
            let (t, slot) = ts[i];
            match op {
                0 if t.get().state() == ThreadState::Running => {
                    syscall(t, SYS_SEND, ep, 0, &[i as u64], &[]);
                    model_append(&mut m, i, t.get().priority());
                }
                1 => {
                    set_priority(&k, slot, p);
                    if let Some(j) = m.iter().position(|&(x, _)| x == i) {
                        m.remove(j);
                        model_append(&mut m, i, p);
                    }
                }
                2 if !m.is_empty() => {
                    syscall(r, SYS_RECV, ep, 0, &[], &[]);
                    let (first, _) = m.remove(0);
                    prop_assert_eq!(received(r, 1).2, vec![first as u64]);
                }
                _ => {}
            }
            let want: Vec<u64> = m.iter().map(|&(i, _)| pa(ts[i].0)).collect();
            prop_assert_eq!(order(tcbs(&k, ep)), want);
        }
    }
}
