//! A property test over random IPC: threads send, call, receive, reply,
//! signal and wait on two endpoints and a notification, are suspended and
//! resumed, and after every step the queues and thread states must agree
//! (ch. 4, ch. 5): an endpoint's state matches its queue; every queued
//! thread is blocked on that object in the matching state and appears
//! once; a blocked thread is in the queue of its object; a thread waiting
//! for a reply has at most one reply cap naming it, any other none; the ready queues hold
//! only runnable threads.

use super::harness::{self, on_thread, Op, World, THREADS};
use super::*;
use crate::cap::Cap;
use crate::object::tcb::{ThreadState, TCB_CALLER};
use crate::testutil::boot;
use crate::types::PAddr;
use cairn_abi::syscall::*;
use proptest::prelude::*;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => harness::sys_op(harness::syscalls(&[SYS_REPLY]), 0..4usize),
        1 => on_thread(Op::Suspend),
        1 => on_thread(Op::Resume),
    ]
}

/// Queues and states agree (`harness`), and a thread waiting for a reply
/// has at most one reply cap naming it, any other none.
fn check(w: &World) {
    w.objs.check_queues(&w.threads, &[], &[]);
    for &t in &w.threads {
        let s = t.get().state();
        let replies = w
            .threads
            .iter()
            .filter(|r| {
                matches!(Tcb::slot(**r, TCB_CALLER).get().cap(),
                    Cap::Reply { tcb: x, .. } if x == t.paddr())
            })
            .count();
        if s == ThreadState::BlockedOnReply {
            // None once the receiver received again without replying.
            assert!(replies <= 1, "{replies} reply caps to one caller");
        } else {
            assert_eq!(replies, 0, "reply cap to a thread not waiting");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn queues_and_states_agree_after_every_step(ops in proptest::collection::vec(op(), 1..120)) {
        let w = world(true);
        for op in ops {
            w.apply(op);
            harness::activate(&w.threads);
            check(&w);
        }
    }
}

/// The system the random IPC runs on: [`harness::Objects`] and
/// [`THREADS`] threads, the last two in an address space of their own;
/// `own_buffers` gives every thread an IPC buffer of its own (else they
/// share the root thread's).
fn world(own_buffers: bool) -> World {
    World::new(|k| {
        let threads = k.threads(10, THREADS as u64);
        harness::second_space(k, &threads[3..]);
        if own_buffers {
            for &t in &threads {
                own_buffer(k, t);
            }
        }
        threads
    })
}

/// Everything IPC can change, as words: each thread's state, registers,
/// restart points, blocking fields, queue links and reply/caller slots
/// (capability and tree links); each endpoint's and the notification's
/// queue and state; the running thread, the pending scheduler action and
/// the active address space.
pub(super) fn snapshot(threads: &[TcbRef], objs: &[PAddr]) -> Vec<u64> {
    use crate::object::tcb::TCB_REPLY;
    let mut v = Vec::new();
    let pa = |s: Option<crate::cap::SlotRef>| s.map_or(0, |s| s.paddr().0);
    for &t in threads {
        harness::thread_words(t, &mut v);
        for i in [TCB_REPLY, TCB_CALLER] {
            let s = Tcb::slot(t, i).get();
            v.extend(s.cap().encode());
            v.extend([pa(s.prev()), pa(s.next())]);
        }
    }
    harness::endpoint_and_scheduler_words(objs, &mut v);
    v
}

/// Runs `ops` on a fresh kernel (threads at mixed priorities) with the
/// fastpath on or off; the snapshot after every step.
fn run_all(ops: &[Op], fastpath: bool) -> Vec<Vec<u64>> {
    let new = || {
        let w = world(false);
        harness::mixed_priorities(&w.threads);
        w
    };
    let snap = |w: &World| snapshot(&w.threads, &w.objs.eps);
    harness::run_all(ops, fastpath, new, World::apply, snap)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The fastpath is an optimisation no user can observe: random IPC
    /// with and without it leaves every thread, queue and slot the same
    /// after every step.
    #[test]
    fn the_fastpath_changes_nothing_observable(ops in proptest::collection::vec(op(), 1..100)) {
        harness::same_after_every_step(&ops, &run_all(&ops, true), &run_all(&ops, false))?;
    }
}

#[test]
fn the_fastpath_takes_a_short_call_and_its_reply_recv() {
    let k = boot();
    let (ep, _) = harness::endpoint(&k);
    let [c, srv] = k.threads(10, 2)[..] else {
        panic!()
    };
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    // Taken: the switch happens inside the syscall, no scheduler action.
    syscall(c, SYS_CALL, ep, 5, &[1, 2], &[]);
    assert_eq!(
        kernel().current_tcb().map_or(0, |t| t.paddr().0),
        srv.paddr().0
    );
    assert_eq!(crate::sched::action(), crate::sched::Action::ResumeCurrent);
    assert_eq!(c.get().state(), ThreadState::BlockedOnReply);
    syscall(srv, SYS_REPLY_RECV, ep, 6, &[3], &[]);
    assert_eq!(
        kernel().current_tcb().map_or(0, |t| t.paddr().0),
        c.paddr().0
    );
    assert_eq!(crate::sched::action(), crate::sched::Action::ResumeCurrent);
    assert_eq!(
        (c.get().state(), srv.get().state()),
        (ThreadState::Running, ThreadState::BlockedOnReceive)
    );
    // Declined: five MRs need the general path (which leaves the switch to
    // the scheduler).
    syscall(c, SYS_CALL, ep, 5, &[1, 2, 3, 4, 5], &[]);
    assert_eq!(crate::sched::action(), crate::sched::Action::SwitchTo(srv));
}

/// Between two address spaces the fastpath switches only to the one
/// installed just before the active one (known to be registered, no
/// flush with tagged ASIDs): the first switch to another goes through the
/// general path, which looks its ASID up and records it, and from then on
/// a Call and its reply switch on the fastpath both ways.
#[test]
fn the_fastpath_switches_back_to_the_previous_address_space() {
    use crate::api::fastpath;
    use crate::object::tcb::TCB_VTABLE;
    let k = boot();
    let (ep, _) = harness::endpoint(&k);
    let [c, srv] = k.threads(10, 2)[..] else {
        panic!()
    };
    harness::second_space(&k, &[srv]);
    let space = |t: TcbRef| Tcb::slot(t, TCB_VTABLE).get().assigned_vspace();
    let (cs, ss) = (space(c), space(srv));
    assert!(cs.is_some() && ss.is_some() && cs != ss);
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    load(c, ep, 5, &[1], &[]);
    kernel().forget_active_vspace();
    crate::object::vspace::activate_thread_vspace(c);
    assert!(
        fastpath::syscall(SYS_CALL).is_none(),
        "the server's address space was never installed"
    );
    crate::api::syscall::handle_syscall(SYS_CALL);
    crate::sched::schedule();
    assert!(kernel().is_current(srv));
    assert_eq!(Some(kernel().active_vspace()), ss);
    load(srv, ep, 6, &[3], &[]);
    assert!(fastpath::syscall(SYS_REPLY_RECV).is_some(), "back: taken");
    assert!(kernel().is_current(c));
    assert_eq!(Some(kernel().active_vspace()), cs);
    load(c, ep, 5, &[1], &[]);
    assert!(fastpath::syscall(SYS_CALL).is_some(), "there again: taken");
    assert!(kernel().is_current(srv));
    assert_eq!(Some(kernel().active_vspace()), ss);
    assert_eq!(srv.get().reg(crate::arch::MSG_INFO_REGISTER), 5 << 12 | 1);
}
