//! A property test over random IPC: threads send, call, receive, reply,
//! signal and wait on two endpoints and a notification, are suspended and
//! resumed, and after every step the queues and thread states must agree
//! (ch. 4, ch. 5): an endpoint's state matches its queue; every queued
//! thread is blocked on that object in the matching state and appears
//! once; a blocked thread is in the queue of its object; a thread waiting
//! for a reply has at most one reply cap naming it, any other none; the ready queues hold
//! only runnable threads.

use super::*;
use crate::cap::Cap;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::tcb::{ThreadState, TCB_CALLER};
use crate::testutil::boot;
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;
use proptest::prelude::*;
use std::collections::HashMap;

const THREADS: usize = 5;

#[derive(Clone, Copy, Debug)]
enum Op {
    /// Thread `t` makes syscall `no` on object `obj` (0, 1: endpoints; 2:
    /// the notification; 3: a badged endpoint cap without Grant).
    Sys {
        t: usize,
        no: SyscallNo,
        obj: usize,
    },
    Suspend(usize),
    Resume(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let sys = prop_oneof![
        Just(SYS_SEND),
        Just(SYS_NB_SEND),
        Just(SYS_CALL),
        Just(SYS_RECV),
        Just(SYS_NB_RECV),
        Just(SYS_REPLY),
        Just(SYS_REPLY_RECV),
    ];
    prop_oneof![
        6 => (0..THREADS, sys, 0..4usize).prop_map(|(t, no, obj)| Op::Sys { t, no, obj }),
        1 => (0..THREADS).prop_map(Op::Suspend),
        1 => (0..THREADS).prop_map(Op::Resume),
    ]
}

/// The queue of an object, first to last, checking its links.
fn queue_of(q: crate::object::queue::TcbQueue) -> Vec<u64> {
    let (head, tail) = (q.head, q.tail);
    let mut v = Vec::new();
    let mut prev = 0;
    let mut cur = head;
    while cur != 0 {
        let t = TcbRef::new(crate::types::PAddr(cur)).get();
        assert_eq!(t.ep_prev(), prev, "back link of {cur:#x}");
        v.push(cur);
        assert!(v.len() <= THREADS + 1, "cycle in a queue");
        prev = cur;
        cur = t.ep_next();
    }
    assert_eq!(prev, tail, "tail");
    v
}

fn check(
    k: &TestKernel,
    threads: &[TcbRef],
    eps: &[crate::types::PAddr; 2],
    n: crate::types::PAddr,
) {
    let mut queued: HashMap<u64, (u64, ThreadState)> = HashMap::new();
    for ep in eps {
        let e = EndpointRef::new(*ep).get();
        let q = queue_of(e.queue.tcbs());
        let want = match e.queue.state() {
            EndpointState::Idle => {
                assert!(q.is_empty(), "idle endpoint with a queue");
                continue;
            }
            EndpointState::Send => ThreadState::BlockedOnSend,
            EndpointState::Recv => ThreadState::BlockedOnReceive,
        };
        assert!(!q.is_empty(), "non-idle endpoint without a queue");
        for t in q {
            assert!(
                queued.insert(t, (ep.0, want)).is_none(),
                "thread in two queues"
            );
        }
    }
    let o = NotificationRef::new(n).get();
    let q = queue_of(o.queue.tcbs());
    assert_eq!(o.queue.state() == NotificationState::Waiting, !q.is_empty());
    for t in q {
        let v = (n.0, ThreadState::BlockedOnNotification);
        assert!(queued.insert(t, v).is_none(), "thread in two queues");
    }
    for &t in threads {
        let tcb = t.get();
        let s = tcb.state();
        match queued.get(&t.paddr().0) {
            Some(&(obj, want)) => {
                assert_eq!(s, want, "queued thread's state");
                assert_eq!(tcb.blocking_object(), obj, "queued on its blocking object");
            }
            None => assert!(
                !matches!(
                    s,
                    ThreadState::BlockedOnSend
                        | ThreadState::BlockedOnReceive
                        | ThreadState::BlockedOnNotification
                ),
                "blocked thread in no queue: {s:?}"
            ),
        }
        if tcb.in_ready_queue() {
            assert!(s.is_runnable(), "ready queue holds a {s:?} thread");
        }
        let replies = threads
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
    let _ = k;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn queues_and_states_agree_after_every_step(ops in proptest::collection::vec(op(), 1..120)) {
        let w = World::new(true);
        for op in ops {
            w.apply(op);
            for &t in &w.threads {
                // Restart is what activation turns into Running.
                if t.get().state() == ThreadState::Restart {
                    t.get().set_state(ThreadState::Running);
                }
            }
            check(&w.k, &w.threads, &w.eps, w.ntfn);
        }
    }
}

/// The system the random IPC runs on: two endpoints, a notification and
/// a badged endpoint cap without Grant (`objs`, as root slots), and
/// [`THREADS`] threads.
struct World {
    k: TestKernel,
    objs: [u64; 4],
    eps: [crate::types::PAddr; 2],
    ntfn: crate::types::PAddr,
    threads: Vec<TcbRef>,
}

impl World {
    /// Boots it; `own_buffers` gives every thread an IPC buffer of its
    /// own (else they share the root thread's).
    fn new(own_buffers: bool) -> World {
        let k = boot();
        let e0 = object(&k, T::Endpoint);
        let e1 = object(&k, T::Endpoint);
        let nt = object(&k, T::Notification);
        let plain = mint(&k, e0, 0x3, 7);
        let ptr = |s| match k.cap(s) {
            Cap::Endpoint { ptr, .. } | Cap::Notification { ptr, .. } => ptr,
            c => panic!("{c:?}"),
        };
        let (eps, ntfn) = ([ptr(e0), ptr(e1)], ptr(nt));
        let threads = k.threads(10, THREADS as u64);
        second_vspace(&k, &threads[3..]);
        if own_buffers {
            for &t in &threads {
                own_buffer(&k, t);
            }
        }
        World {
            objs: [e0, e1, nt, plain],
            eps,
            ntfn,
            threads,
            k,
        }
    }

    /// Carries out `op` (a system call only if the thread could be
    /// running), then the kernel exit's scheduling decision.
    fn apply(&self, op: Op) {
        match op {
            Op::Sys { t, no, obj } => {
                let th = self.threads[t];
                if th.get().state().is_runnable() {
                    syscall(th, no, self.objs[obj], 1, &[t as u64], &[]);
                }
            }
            Op::Suspend(t) => crate::ipc::suspend(self.threads[t]),
            Op::Resume(t) => crate::ipc::restart(self.threads[t]),
        }
        crate::sched::schedule();
    }
}

/// Gives `threads` an address space of their own (a fresh VSpace root
/// assigned an ASID), so that switches between address spaces are
/// compared too. Their code and IPC buffer are never touched through it.
fn second_vspace(k: &TestKernel, threads: &[TcbRef]) {
    use crate::cap::derive::cte_insert;
    use crate::object::tcb::TCB_VTABLE;
    let root = k.make(T::PageTable, 0, 1)[0];
    let assign = cairn_abi::invocation::label::RISCV_ASID_POOL_ASSIGN;
    let pool = cairn_abi::cap::init::ASID_POOL;
    assert_eq!(k.call(pool, assign, &[], &[root]), crate::testutil::ok());
    for &t in threads {
        let slot = Tcb::slot(t, TCB_VTABLE);
        assert_eq!(crate::cap::delete::cte_delete(slot), Ok(()));
        cte_insert(k.cap(root), k.slot(root), slot);
    }
}

/// Everything IPC can change, as words: each thread's state, registers,
/// restart points, blocking fields, queue links and reply/caller slots
/// (capability and tree links); each endpoint's and the notification's
/// queue and state; the running thread, the pending scheduler action and
/// the active address space.
pub(super) fn snapshot(threads: &[TcbRef], objs: &[crate::types::PAddr]) -> Vec<u64> {
    use crate::object::tcb::TCB_REPLY;
    let mut v = Vec::new();
    let pa = |s: Option<crate::cap::SlotRef>| s.map_or(0, |s| s.paddr().0);
    for &t in threads {
        let tcb = t.get();
        v.push(tcb.state() as u64);
        v.extend(crate::object::tcb::registers::GP.map(|i| tcb.user_register(i)));
        v.extend([tcb.fault_ip(), tcb.next_ip()]);
        v.extend([
            tcb.blocking_object(),
            tcb.blocking_badge(),
            tcb.ep_next(),
            tcb.ep_prev(),
        ]);
        v.push(tcb.in_ready_queue() as u64);
        for i in [TCB_REPLY, TCB_CALLER] {
            let s = Tcb::slot(t, i).get();
            v.extend(s.cap().encode());
            v.extend([pa(s.prev()), pa(s.next())]);
        }
    }
    for &o in objs {
        let e = EndpointRef::new(o).get();
        let q = e.queue.tcbs();
        v.extend([q.head, q.tail, e.queue.state() as u64]);
    }
    v.push(kernel().current_tcb().map_or(0, |t| t.paddr().0));
    v.push(match crate::sched::action() {
        crate::sched::Action::ResumeCurrent => 0,
        crate::sched::Action::ChooseNew => 1,
        crate::sched::Action::SwitchTo(t) => t.paddr().0,
    });
    let (root, asid) = kernel().active_vspace();
    v.extend([root.0, asid as u64]);
    v
}

/// Runs `ops` on a fresh kernel with the fastpath on or off; the snapshot
/// after every step.
fn run_all(ops: &[Op], fastpath: bool) -> Vec<Vec<u64>> {
    crate::api::fastpath::ENABLED.with(|e| e.set(fastpath));
    let w = World::new(false);
    // Mixed priorities: the fastpath must decline where the scheduler
    // would not switch straight to the woken thread.
    for (i, &t) in w.threads.iter().enumerate() {
        t.get().set_priority(9 + (i as u64 % 3));
    }
    let out = ops
        .iter()
        .map(|&op| {
            w.apply(op);
            snapshot(&w.threads, &w.eps)
        })
        .collect();
    crate::api::fastpath::ENABLED.with(|e| e.set(true));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The fastpath is an optimisation no user can observe: random IPC
    /// with and without it leaves every thread, queue and slot the same
    /// after every step.
    #[test]
    fn the_fastpath_changes_nothing_observable(ops in proptest::collection::vec(op(), 1..100)) {
        let fast = run_all(&ops, true);
        let slow = run_all(&ops, false);
        for (i, (f, s)) in fast.iter().zip(&slow).enumerate() {
            prop_assert_eq!(f, s, "after step {} ({:?})", i, ops[i]);
        }
    }
}

#[test]
fn the_fastpath_takes_a_short_call_and_its_reply_recv() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
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
    let ep = object(&k, T::Endpoint);
    let [c, srv] = k.threads(10, 2)[..] else {
        panic!()
    };
    second_vspace(&k, &[srv]);
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
