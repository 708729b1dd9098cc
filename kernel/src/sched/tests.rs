//! Host tests of the scheduler: seL4's choice of the next thread (head vs
//! tail requeueing, the candidate of `possible_switch_to`), round robin by
//! timeslice, yield, priorities and domains.

use super::*;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::testutil::{boot, TestKernel};

fn threads(k: &TestKernel, prio: u64, n: u64) -> Vec<TcbRef> {
    k.threads(prio, n)
}

fn current() -> Option<TcbRef> {
    kernel().current_tcb()
}

#[test]
fn candidate_runs_only_if_nothing_better_is_queued() {
    let k = boot();
    k.tcb.get().set_priority(100);
    let [low, high] = threads(&k, 0, 2)[..] else {
        panic!()
    };
    high.get().set_priority(200);
    // A lower-priority candidate does not displace the current thread.
    possible_switch_to(low);
    assert_eq!(schedule(), Some(k.tcb));
    assert!(low.get().in_ready_queue(), "queued instead");
    // A higher one does, and the current thread goes to the head of its
    // queue.
    possible_switch_to(high);
    assert_eq!(schedule(), Some(high));
    assert_eq!(kernel().ready().queue(0, 100).next(), Some(k.tcb));
    assert!(
        !high.get().in_ready_queue(),
        "the running thread is not queued"
    );
}

#[test]
fn equal_priority_candidate_waits_behind_the_current_thread() {
    let k = boot();
    let prio = k.tcb.get().priority();
    let [a] = threads(&k, prio, 1)[..] else {
        panic!()
    };
    possible_switch_to(a);
    assert_eq!(schedule(), Some(k.tcb), "the current thread goes first");
    let q: Vec<_> = kernel().ready().queue(0, prio as usize).collect();
    assert_eq!(q, vec![a]);
}

// Classic: the tick (MCS has none; `sched::tests_mcs` covers its budgets).
#[cfg(not(feature = "mcs"))]
#[test]
fn timeslice_expiry_round_robins_at_equal_priority() {
    let k = boot();
    let prio = k.tcb.get().priority();
    let [a] = threads(&k, prio, 1)[..] else {
        panic!()
    };
    append(a);
    for _ in 1..crate::config::TIME_SLICE {
        timer_tick();
        assert_eq!(schedule(), Some(k.tcb), "timeslice not used up");
    }
    timer_tick();
    assert_eq!(schedule(), Some(a), "round robin");
    assert_eq!(
        k.tcb.get().time_slice(),
        crate::config::TIME_SLICE,
        "refilled"
    );
    assert_eq!(
        kernel().ready().queue(0, prio as usize).last(),
        Some(k.tcb),
        "at the tail"
    );
}

#[test]
fn yield_goes_to_the_tail() {
    let k = boot();
    let prio = k.tcb.get().priority();
    let [a, b] = threads(&k, prio, 2)[..] else {
        panic!()
    };
    append(a);
    append(b);
    yield_current();
    assert_eq!(schedule(), Some(a));
    let q: Vec<_> = kernel().ready().queue(0, prio as usize).collect();
    assert_eq!(q, vec![b, k.tcb]);
    // Alone at its priority, a yielding thread runs on.
    let k = boot();
    yield_current();
    assert_eq!(schedule(), Some(k.tcb));
}

#[test]
fn blocking_the_current_thread_chooses_another_or_idles() {
    let k = boot();
    set_thread_state(k.tcb, ThreadState::BlockedOnReceive);
    assert_eq!(action(), Action::ChooseNew);
    assert_eq!(schedule(), None, "idle");
    assert_eq!(current(), None);
}

#[test]
fn set_priority_requeues_and_may_preempt() {
    let k = boot();
    k.tcb.get().set_priority(50);
    let [a] = threads(&k, 10, 1)[..] else {
        panic!()
    };
    enqueue(a);
    set_priority(a, 60);
    assert_eq!(schedule(), Some(a), "raised above the current thread");
    set_priority(a, 10);
    assert_eq!(schedule(), Some(k.tcb), "lowered below it again");
    assert_eq!(kernel().ready().queue(0, 10).next(), Some(a));
}

/// A queued thread raised to the running thread's priority: the classic
/// kernel wakes it as a candidate, which waits at the tail behind its
/// equals; seL4's MCS `setPriority` puts it at the head of its new queue,
/// just behind the running thread (re-queued at the head when the
/// scheduler chooses afresh).
#[test]
fn set_priority_to_the_running_threads_places_it_as_sel4_does() {
    let k = boot();
    k.tcb.get().set_priority(50);
    let [a, c] = threads(&k, 40, 2)[..] else {
        panic!()
    };
    c.get().set_priority(50);
    enqueue(a);
    enqueue(c);
    set_priority(a, 50);
    assert_eq!(a.get().priority(), 50);
    assert_eq!(schedule(), Some(k.tcb), "the running thread goes on");
    let q: Vec<_> = kernel().ready().queue(0, 50).collect();
    #[cfg(not(feature = "mcs"))]
    assert_eq!(q, vec![c, a], "classic: a candidate, then the tail");
    #[cfg(feature = "mcs")]
    assert_eq!(q, vec![a, c], "MCS: the head of its new queue");
    assert!(kernel().ready().queue(0, 40).next().is_none());
}

/// A thread that is not runnable only takes the priority: it joins no
/// ready queue and the current thread's choice is kept (both kernels).
#[test]
fn set_priority_of_a_stopped_thread_queues_nothing() {
    let k = boot();
    k.tcb.get().set_priority(50);
    let [a] = threads(&k, 40, 1)[..] else {
        panic!()
    };
    a.get().set_state(ThreadState::Inactive);
    set_priority(a, 60);
    assert_eq!(a.get().priority(), 60);
    assert!(!a.get().in_ready_queue());
    assert_eq!(schedule(), Some(k.tcb));
}
