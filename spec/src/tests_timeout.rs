//! MCS timeout faults (`timeout.rs`): a budget that ran out is charged
//! and, on a context that is not round robin, sends a timeout fault to
//! the thread's timeout handler; otherwise the thread waits, or, at its
//! own system call, makes it again.

use crate::cap::Cap;
use crate::fault::Fault;
use crate::sched_context::CONFIGURE_FLAGS;
use crate::state::{SlotId, State, TCB_TIMEOUT_HANDLER};
use crate::tests_mcs::{retype, sc_at, world, SC_TYPE};
use crate::tests_world::{call, root, TCB};
use crate::thread::ThreadState;

/// The world with a SchedContext in root slot 2 (badge 7, `budget_us`
/// every 5 ms) bound to the thread, an endpoint in root slot 3 and,
/// with `handler`, that endpoint's cap as the thread's timeout handler.
fn timed(budget_us: u64, handler: bool) -> (State, u64, u64) {
    let mut s = world();
    assert_eq!(retype(&mut s, SC_TYPE, 8, 2, 1), Ok(()));
    assert_eq!(retype(&mut s, 2, 0, 3, 1), Ok(()));
    let words = [budget_us, 5_000, 0, 7, 0];
    assert_eq!(call(&mut s, 15, CONFIGURE_FLAGS, &words, &[2]), Ok(()));
    let sc = sc_at(&s, 2);
    s.bind_sc(sc, TCB);
    let Some(ep @ Cap::Endpoint { obj, .. }) = s.cap(root(3)) else {
        panic!("an endpoint")
    };
    if handler {
        let slot = SlotId {
            obj: TCB,
            index: TCB_TIMEOUT_HANDLER,
        };
        s.insert_original(slot, ep);
    }
    (s, sc, obj)
}

#[test]
fn a_budget_run_out_sends_a_timeout_fault_to_the_handler() {
    let (mut s, sc, ep) = timed(1_000, true);
    assert_eq!(s.budget_expired(TCB, 12_345, true), Ok(()));
    let t = s.thread(TCB).expect("the thread");
    assert_eq!(t.fault, Some(Fault::Timeout { badge: 7 }));
    assert!(matches!(
        t.state,
        ThreadState::BlockedOnSend { call: false, .. }
    ));
    let queue = match s.objects.get(&ep) {
        Some(crate::state::Object::Endpoint { queue }) => queue.clone(),
        o => panic!("{o:?}"),
    };
    assert_eq!(queue, [TCB]);
    assert_eq!(s.sc(sc).map(|x| x.consumed), Some(12_345));
    // The message takes the consumed time out: 1 234 µs, the rest of a
    // µs dropped.
    assert_eq!(
        s.fault_message(TCB, Fault::Timeout { badge: 7 }),
        [7, 1_234]
    );
    assert_eq!(s.sc(sc).map(|x| x.consumed), Some(0));
}

#[test]
fn round_robin_or_no_handler_waits_and_a_syscall_restarts() {
    // Round robin (budget = period): never a timeout fault.
    let (mut s, sc, _) = timed(5_000, true);
    assert_eq!(s.sc(sc).map(|x| x.round_robin), Some(true));
    assert_eq!(s.budget_expired(TCB, 50, false), Ok(()));
    let t = s.thread(TCB).expect("the thread");
    assert_eq!((t.state, t.fault), (ThreadState::Running, None));
    assert_eq!(s.sc(sc).map(|x| x.consumed), Some(50));
    // No handler: at its own system call, it makes it again.
    let (mut s, _, _) = timed(1_000, false);
    assert_eq!(s.budget_expired(TCB, 50, true), Ok(()));
    let t = s.thread(TCB).expect("the thread");
    assert_eq!((t.state, t.fault), (ThreadState::Restart, None));
}
