//! The random IPC sequences of `props` on the MCS kernel, checked for
//! priority order and links (`props_mcs` compares the fastpath instead): five threads
//! (one passive: it runs only on a SchedContext lent to it) at mixed
//! priorities make the MCS system calls on two endpoints, a badged
//! endpoint cap and a notification, reply through their reply objects,
//! change priority while blocked, are suspended and resumed; after every
//! step the queues and states agree (as in `props`), every queue is in
//! priority order, and every link between threads, reply objects,
//! SchedContexts and the notification is mirrored (the fuzzer's MCS
//! checks, `fuzz::invariants_mcs`).

use super::harness::{self, on_thread, Op, THREADS};
use super::*;
use crate::object::endpoint::EndpointRef;
use crate::object::tcb::ThreadState;
use cairn_abi::syscall::*;
use proptest::prelude::*;

fn op() -> impl Strategy<Value = Op> {
    let more = [SYS_WAIT, SYS_NB_WAIT, SYS_NB_SEND_RECV, SYS_NB_SEND_WAIT];
    let sys = harness::syscalls(&more);
    prop_oneof![
        8 => (0..THREADS, sys, 0..4usize, 0..4usize)
            .prop_map(|(t, no, obj, dest)| Op::Sys { t, no, obj, dest: Some(dest) }),
        2 => (0..THREADS).prop_map(Op::Reply),
        2 => (0..THREADS, 8..13u64).prop_map(|(t, p)| Op::Priority(t, p)),
        1 => on_thread(Op::Suspend),
        1 => on_thread(Op::Resume),
    ]
}

/// The system: [`harness::World`] (the last thread a passive server,
/// waiting on endpoint 0 at the start), the threads' reply objects and
/// SchedContexts.
struct World {
    w: harness::World,
    replies: Vec<u64>,
    scs: Vec<u64>,
}

impl World {
    fn new() -> World {
        let w = harness::World::new(|k| {
            let threads = k.threads(10, THREADS as u64);
            for (i, &t) in threads.iter().enumerate() {
                crate::sched::set_priority(t, harness::mixed_priority(i));
                own_buffer(k, t);
            }
            threads
        });
        let scs = w
            .threads
            .iter()
            .filter_map(|t| t.get().sched_context())
            .map(|p| p.0)
            .collect();
        // The passive server waits on endpoint 0, then loses its own
        // SchedContext: from now on it runs only on a lent one.
        let server = w.threads[THREADS - 1];
        syscall(server, SYS_RECV, w.objs.slots[0], 0, &[], &[]);
        w.k.without_sched_context(server);
        let replies = w
            .threads
            .iter()
            .map(|&t| super::mcs::reply_of(t).paddr().0)
            .collect();
        World { w, replies, scs }
    }

    fn apply(&self, op: Op) {
        self.w.apply(op);
    }

    fn check(&self) {
        (self.w.objs).check_queues(&self.w.threads, &self.replies, &self.scs);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn queues_states_and_links_agree_after_every_step(
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let w = World::new();
        w.check();
        for op in ops {
            w.apply(op);
            harness::activate(&w.w.threads);
            w.check();
        }
    }
}

/// The sequences reach what they are for: a passive thread served a
/// Call on a lent SchedContext, and a reorder moved a blocked thread.
#[test]
fn a_fixed_sequence_lends_and_reorders() {
    let w = World::new();
    let passive = THREADS - 1;
    // Thread 0 and the server above the rest, so that each op's thread
    // could be the running one (`harness::could_run`).
    crate::sched::set_priority(w.w.threads[0], 12);
    crate::sched::set_priority(w.w.threads[passive], 12);
    crate::sched::schedule();
    let sys = |t, no, obj| Op::Sys {
        t,
        no,
        obj,
        dest: Some(0),
    };
    let ops = [
        // The passive server waits (set-up); thread 0 calls it (lending
        // its SchedContext), the server answers with ReplyRecv.
        sys(0, SYS_CALL, 0),
        sys(passive, SYS_REPLY_RECV, 0),
        // Thread 0 stops; threads 2 (priority 11) and 1 (10) wait to send
        // on endpoint 1, 2 first; then 1 outranks it and moves to the
        // head.
        Op::Suspend(0),
        sys(2, SYS_SEND, 1),
        sys(1, SYS_SEND, 1),
        Op::Priority(1, 12),
    ];
    let served = w.w.threads[passive];
    for (i, op) in ops.into_iter().enumerate() {
        w.apply(op);
        w.check();
        if i == 0 {
            assert!(served.get().sched_context().is_some(), "lent");
        }
        if i == 1 {
            assert_eq!(w.w.threads[0].get().state(), ThreadState::Running);
        }
        if i == 4 {
            let q = EndpointRef::new(w.w.objs.eps[1]).get().queue.tcbs();
            assert_eq!(q.head, w.w.threads[2].paddr().0, "by priority");
        }
    }
    assert_eq!(served.get().sched_context(), None, "given back");
    assert_eq!(served.get().state(), ThreadState::BlockedOnReceive);
    let q = EndpointRef::new(w.w.objs.eps[1]).get().queue.tcbs();
    assert_eq!(
        (q.head, q.tail),
        (w.w.threads[1].paddr().0, w.w.threads[2].paddr().0)
    );
}
