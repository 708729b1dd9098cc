//! The MCS fastpath (`api::fastpath`'s `fastpath_mcs.rs`) is an
//! optimisation no user can observe: random MCS IPC — Calls to passive
//! and active servers, ReplyRecv, Recv, Wait, Send and NBSend on two
//! endpoints, a badged endpoint cap without Grant and a notification,
//! Suspend and Resume — between two threads with SchedContexts and three
//! passive ones, at mixed priorities and across two address spaces, run
//! with the fastpath on and off, leaves every thread, reply object,
//! SchedContext, queue, the scheduler's choice and the running
//! SchedContext the same after every step.

use super::harness::{self, on_thread, second_space, Op, THREADS};
use super::mcs::reply_of;
use super::*;
use crate::object::reply::{Next, ReplyRef};
use crate::object::sched_context as sc_obj;
use crate::testutil::boot;
use crate::types::PAddr;
use cairn_abi::syscall::*;
use proptest::prelude::*;
/// Threads `0..ACTIVE` have a SchedContext of their own; the rest are
/// passive servers.
const ACTIVE: usize = 2;

fn op() -> impl Strategy<Value = Op> {
    let sys = prop_oneof![
        1 => Just(SYS_SEND),
        1 => Just(SYS_NB_SEND),
        3 => Just(SYS_CALL),
        2 => Just(SYS_RECV),
        1 => Just(SYS_WAIT),
        3 => Just(SYS_REPLY_RECV),
    ];
    prop_oneof![
        8 => harness::sys_op(sys, prop_oneof![3 => 0..2usize, 1 => 2..4usize]),
        1 => on_thread(Op::Suspend),
        1 => on_thread(Op::Resume),
    ]
}

/// [`harness::World`] with its threads' reply objects and SchedContexts.
struct World {
    w: harness::World,
    replies: Vec<ReplyRef>,
    scs: Vec<PAddr>,
}

impl World {
    /// [`ACTIVE`] threads with SchedContexts and passive ones at mixed
    /// priorities, the last two in an address space of their own; the
    /// passive servers wait on the endpoints to begin with (they could
    /// not run to get there: a test's set-up).
    fn new() -> World {
        let w = harness::World::new(|k| {
            let mut threads = k.threads(10, ACTIVE as u64);
            threads.extend(k.passive_threads(10, (THREADS - ACTIVE) as u64));
            second_space(k, &threads[3..]);
            harness::mixed_priorities(&threads);
            threads
        });
        let replies = w.threads.iter().map(|&t| reply_of(t)).collect();
        let scs = w
            .threads
            .iter()
            .filter_map(|t| t.get().sched_context())
            .collect();
        for (i, &t) in w.threads.iter().enumerate().skip(ACTIVE) {
            syscall(t, SYS_RECV, w.objs.slots[i % 2], 0, &[], &[]);
        }
        crate::sched::schedule();
        World { w, replies, scs }
    }

    fn snapshot(&self) -> Vec<u64> {
        snapshot(&self.w.threads, &self.replies, &self.scs, &self.w.objs.eps)
    }
}

/// Everything MCS IPC can change, as words: each thread's state,
/// registers, restart points, blocking fields, queue links, reply object
/// and SchedContext; each reply object's links; each SchedContext's
/// thread and call-stack head; the endpoints' queues; the running thread,
/// the scheduler's pending action, the active address space and the
/// running SchedContext.
pub(super) fn snapshot(
    threads: &[TcbRef],
    replies: &[ReplyRef],
    scs: &[PAddr],
    eps: &[PAddr],
) -> Vec<u64> {
    let mut v = Vec::new();
    for &t in threads {
        harness::thread_words(t, &mut v);
        let tcb = t.get();
        v.push(tcb.in_release_queue() as u64);
        v.push(tcb.reply_object().map_or(0, |r| r.paddr().0));
        v.push(tcb.sched_context().map_or(0, |p| p.0));
    }
    for &r in replies {
        v.extend([r.tcb(), r.prev().map_or(0, |p| p.paddr().0)]);
        v.push(match r.next() {
            Next::None => 0,
            Next::Reply(n) => n.paddr().0,
            Next::Head(sc) => sc.0 | 1,
        });
    }
    for &sc in scs {
        v.push(sc_obj::tcb_of(sc).map_or(0, |t| t.paddr().0));
        v.push(sc_obj::reply(sc).map_or(0, |r| r.paddr().0));
    }
    harness::endpoint_and_scheduler_words(eps, &mut v);
    v.push(kernel().mcs().cur_sc());
    v
}

/// Runs `ops` on a fresh kernel with the fastpath on or off: the snapshot
/// after every step.
fn run_all(ops: &[Op], fastpath: bool) -> Vec<Vec<u64>> {
    let apply = |w: &World, op| w.w.apply(op);
    harness::run_all(ops, fastpath, World::new, apply, World::snapshot)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_mcs_fastpath_changes_nothing_observable(ops in proptest::collection::vec(op(), 1..100)) {
        harness::same_after_every_step(&ops, &run_all(&ops, true), &run_all(&ops, false))?;
    }
}

/// The random sequences above do reach the fastpath: over 64 of them
/// (fixed seed), it takes Calls and ReplyRecvs, not just declines.
#[test]
fn random_mcs_ipc_takes_the_fastpath() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let ops = proptest::collection::vec(op(), 100);
    let taken =
        |n: SyscallNo| crate::api::fastpath::TAKEN.with(|t| t.get()[(n == SYS_CALL) as usize]);
    let before = (taken(SYS_CALL), taken(SYS_REPLY_RECV));
    for _ in 0..64 {
        let seq = ops.new_tree(&mut runner).expect("ops").current();
        run_all(&seq, true);
    }
    let (calls, reply_recvs) = (taken(SYS_CALL) - before.0, taken(SYS_REPLY_RECV) - before.1);
    assert!(
        calls >= 5 && reply_recvs >= 5,
        "taken {calls} Calls, {reply_recvs} ReplyRecvs"
    );
}

/// A client on its SchedContext calls a passive server twice, and the
/// server answers with ReplyRecv: every one of these is taken by the
/// fastpath (the switch happens inside the syscall, no scheduler action),
/// in one address space and across two.
#[test]
fn the_mcs_fastpath_takes_a_donating_call_and_the_reply_recv_that_returns_it() {
    for cross in [false, true] {
        let k = boot();
        let (ep, _) = harness::endpoint(&k);
        let [c] = k.threads(10, 1)[..] else { panic!() };
        let [srv] = k.passive_threads(10, 1)[..] else {
            panic!()
        };
        if cross {
            second_space(&k, &[srv]);
        }
        let sc = c.get().sched_context().expect("a SchedContext");
        let r = reply_of(srv);
        stop_root(&k);
        syscall(srv, SYS_RECV, ep, 0, &[], &[]);
        for round in 0..2 {
            load(c, ep, 5, &[1, 2], &[]);
            let first_cross = cross && round == 0;
            // Across address spaces the first switch to the server's goes
            // through the general path, which records it.
            if first_cross {
                crate::api::handle_syscall(SYS_CALL);
                crate::sched::schedule();
            } else {
                assert!(
                    crate::api::fastpath::syscall(SYS_CALL).is_some(),
                    "Call taken"
                );
                assert_eq!(crate::sched::action(), crate::sched::Action::ResumeCurrent);
            }
            assert!(kernel().is_current(srv));
            assert_eq!(srv.get().sched_context(), Some(sc));
            assert_eq!(c.get().sched_context(), None);
            assert_eq!((r.tcb(), r.next()), (c.paddr().0, Next::Head(sc)));
            assert_eq!(sc_obj::reply(sc), Some(r));
            assert_eq!(received(srv, 2).2, vec![1, 2]);
            load(srv, ep, 6, &[3], &[]);
            assert!(
                crate::api::fastpath::syscall(SYS_REPLY_RECV).is_some(),
                "ReplyRecv taken"
            );
            assert!(kernel().is_current(c));
            assert_eq!(c.get().state(), crate::object::tcb::ThreadState::Running);
            assert_eq!((received(c, 1).1.label(), received(c, 1).2), (6, vec![3]));
            assert_eq!(
                (c.get().sched_context(), srv.get().sched_context()),
                (Some(sc), None)
            );
            assert_eq!(
                (r.tcb(), r.next(), r.prev(), sc_obj::reply(sc)),
                (srv.paddr().0, Next::None, None, None)
            );
            assert_eq!(
                srv.get().state(),
                crate::object::tcb::ThreadState::BlockedOnReceive
            );
            assert_eq!(srv.get().reply_object(), Some(r));
        }
    }
}
