//! The classic scheduler (`sched.rs`) on threads of its own: who runs
//! after a wake-up, Yield, the end of a time slice, Resume, SetPriority;
//! the ready queues left behind. (The refinement test compares all of
//! it with the kernel after every step; these check the rules one by
//! one.)

use crate::cap::{Kind, ObjId};
use crate::sched::Action;
use crate::state::{Object, State};
use crate::thread::{ThreadState, TIME_SLICE};

const A: ObjId = 0x10_000;
const B: ObjId = 0x11_000;
const C: ObjId = 0x12_000;

/// Threads `A`, `B`, `C` of priorities `prios`, `A` running, the others
/// runnable and queued (`B` ahead of `C` at an equal priority).
fn world(prios: [u64; 3]) -> State {
    let mut s = crate::tests_world::empty();
    for (t, p) in [A, B, C].into_iter().zip(prios) {
        s.objects.insert(t, Object::new(Kind::Tcb));
        let x = s.thread_mut(t).expect("a thread");
        x.priority = p;
        x.state = ThreadState::Running;
    }
    for t in [C, B] {
        s.sched_enqueue(t);
    }
    s.sched.current = Some(A);
    s
}

fn queue(s: &State, prio: u64) -> Vec<ObjId> {
    s.sched.queues.get(&(0, prio)).cloned().unwrap_or_default()
}

/// `t` blocks waiting for a reply (`setThreadState`).
fn block(s: &mut State, t: ObjId) {
    s.set_state(t, ThreadState::BlockedOnReply);
}

/// `t` is woken (`setThreadState` Running, then `possibleSwitchTo`).
fn wake(s: &mut State, t: ObjId) {
    s.sched_dequeue(t);
    s.set_state(t, ThreadState::Running);
    s.possible_switch_to(t);
}

#[test]
fn a_woken_thread_of_the_running_ones_priority_runs_after_it() {
    let mut s = world([10, 10, 10]);
    s.sched_dequeue(B);
    wake(&mut s, B);
    assert_eq!(s.sched.action, Action::SwitchTo(B));
    s.schedule();
    assert_eq!(s.sched.current, Some(A));
    assert_eq!(queue(&s, 10), [C, B]);
    assert_eq!(s.sched.action, Action::ResumeCurrent);
}

#[test]
fn a_woken_thread_of_a_higher_priority_runs_at_once() {
    let mut s = world([10, 20, 10]);
    wake(&mut s, B);
    s.schedule();
    assert_eq!(s.sched.current, Some(B));
    // The displaced thread goes to the head of its queue.
    assert_eq!(queue(&s, 10), [A, C]);
    assert!(!s.queued(B));
}

#[test]
fn a_woken_lower_thread_runs_only_if_no_higher_one_is_queued() {
    // A blocks and wakes B (5) while C (8) is queued: C runs, B queued.
    let mut s = world([10, 5, 8]);
    block(&mut s, A);
    wake(&mut s, B);
    s.schedule();
    assert_eq!(s.sched.current, Some(C));
    assert_eq!(queue(&s, 5), [B]);
    assert!(!s.queued(A));
    // With nothing higher queued, the lower candidate runs.
    let mut s = world([10, 5, 2]);
    block(&mut s, A);
    wake(&mut s, B);
    s.schedule();
    assert_eq!(s.sched.current, Some(B));
    assert_eq!(queue(&s, 2), [C]);
}

#[test]
fn a_second_wake_up_queues_both_and_chooses_afresh() {
    let mut s = world([10, 20, 30]);
    s.sched_dequeue(B);
    s.sched_dequeue(C);
    wake(&mut s, B);
    wake(&mut s, C);
    assert_eq!(s.sched.action, Action::ChooseNew);
    s.schedule();
    assert_eq!(s.sched.current, Some(C));
    assert_eq!((queue(&s, 20), queue(&s, 10)), (vec![B], vec![A]));
}

#[test]
fn yield_moves_the_caller_behind_its_equals() {
    let mut s = world([10, 10, 10]);
    s.yield_current();
    s.schedule();
    assert_eq!(s.sched.current, Some(B));
    assert_eq!(queue(&s, 10), [C, A]);
    // Alone at its priority, the caller runs on.
    let mut s = world([10, 5, 5]);
    s.yield_current();
    s.schedule();
    assert_eq!(s.sched.current, Some(A));
    assert_eq!(queue(&s, 5), [B, C]);
}

#[test]
fn a_time_slice_ends_at_its_last_tick_and_the_thread_goes_to_the_tail() {
    let mut s = world([10, 10, 10]);
    for left in (1..TIME_SLICE).rev() {
        s.timer_tick();
        s.schedule();
        assert_eq!(s.sched.current, Some(A));
        assert_eq!(s.thread(A).map(|x| x.time_slice), Some(left));
    }
    s.timer_tick();
    s.schedule();
    assert_eq!(s.sched.current, Some(B));
    assert_eq!(queue(&s, 10), [C, A]);
    assert_eq!(s.thread(A).map(|x| x.time_slice), Some(TIME_SLICE));
    // A thread in Restart (or idle) uses no time.
    s.set_state(B, ThreadState::Restart);
    s.timer_tick();
    assert_eq!(s.thread(B).map(|x| x.time_slice), Some(TIME_SLICE));
    s.sched.current = None;
    s.timer_tick();
    s.schedule();
    assert_eq!(s.sched.current, None);
}

#[test]
fn resume_queues_at_the_head_and_suspend_takes_out() {
    let mut s = world([30, 10, 10]);
    s.suspend(B);
    assert_eq!(queue(&s, 10), [C]);
    s.restart(B);
    s.schedule();
    // A, higher, runs on; B is at the head, ahead of C (seL4 queues it
    // before it is the candidate).
    assert_eq!(s.sched.current, Some(A));
    assert_eq!(queue(&s, 10), [B, C]);
}

#[test]
fn set_priority_requeues_and_of_the_running_thread_chooses_afresh() {
    let mut s = world([10, 10, 10]);
    s.set_priority(C, 20);
    s.schedule();
    assert_eq!(s.sched.current, Some(C));
    assert_eq!(queue(&s, 10), [A, B]);
    // The running thread lowered below a queued one gives way.
    s.set_priority(C, 5);
    s.schedule();
    assert_eq!(s.sched.current, Some(A));
    assert_eq!((queue(&s, 10), queue(&s, 5)), (vec![B], vec![C]));
}

#[test]
fn a_running_thread_that_blocks_leaves_for_the_best_or_idle() {
    let mut s = world([10, 10, 20]);
    block(&mut s, A);
    assert_eq!(s.sched.action, Action::ChooseNew);
    s.schedule();
    assert_eq!(s.sched.current, Some(C));
    for t in [C, B] {
        block(&mut s, t);
        s.sched_dequeue(t);
        s.sched.current = Some(t);
        s.sched.action = Action::ChooseNew;
        s.schedule();
    }
    assert_eq!(s.sched.current, None);
    assert!(s.sched.queues.is_empty());
}
