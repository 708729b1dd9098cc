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

use super::*;
use crate::arch::{NB_SEND_RECV_DEST, REPLY_REGISTER};
use crate::fuzz::invariants_mcs::{check_objects, check_order};
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::queue::TcbQueue;
use crate::object::tcb::ThreadState;
use crate::testutil::boot;
use crate::types::PAddr;
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;
use proptest::prelude::*;
use std::collections::HashMap;

const THREADS: usize = 5;

#[derive(Clone, Copy, Debug)]
enum Op {
    /// Thread `t` makes syscall `no` on object `obj` (0, 1: endpoints; 2:
    /// the notification; 3: a badged endpoint cap without Grant); the
    /// send phase of NBSendRecv and NBSendWait goes to object `dest`.
    Sys {
        t: usize,
        no: SyscallNo,
        obj: usize,
        dest: usize,
    },
    /// Thread `t` answers the Call its reply object holds (Send on it).
    Reply(usize),
    /// Thread `t` gets priority `p` (it moves in the queue it waits in).
    Priority(usize, u64),
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
        Just(SYS_REPLY_RECV),
        Just(SYS_WAIT),
        Just(SYS_NB_WAIT),
        Just(SYS_NB_SEND_RECV),
        Just(SYS_NB_SEND_WAIT),
    ];
    prop_oneof![
        8 => (0..THREADS, sys, 0..4usize, 0..4usize)
            .prop_map(|(t, no, obj, dest)| Op::Sys { t, no, obj, dest }),
        2 => (0..THREADS).prop_map(Op::Reply),
        2 => (0..THREADS, 8..13u64).prop_map(|(t, p)| Op::Priority(t, p)),
        1 => (0..THREADS).prop_map(Op::Suspend),
        1 => (0..THREADS).prop_map(Op::Resume),
    ]
}

/// The system: two endpoints, a notification, a badged endpoint cap
/// without Grant (`objs`, root slots), and the threads (the last one a
/// passive server, waiting on endpoint 0 at the start), their reply
/// objects and SchedContexts.
struct World {
    objs: [u64; 4],
    eps: [PAddr; 2],
    ntfn: PAddr,
    threads: Vec<TcbRef>,
    replies: Vec<u64>,
    scs: Vec<u64>,
}

impl World {
    fn new() -> World {
        let k = boot();
        let e0 = object(&k, T::Endpoint);
        let e1 = object(&k, T::Endpoint);
        let nt = object(&k, T::Notification);
        let plain = mint(&k, e0, 0x3, 7);
        let ptr = |s| match k.cap(s) {
            Cap::Endpoint { ptr, .. } | Cap::Notification { ptr, .. } => ptr,
            c => panic!("{c:?}"),
        };
        let threads = k.threads(10, THREADS as u64);
        for (i, &t) in threads.iter().enumerate() {
            crate::sched::set_priority(t, 9 + (i as u64 % 3));
            own_buffer(&k, t);
        }
        let scs = threads
            .iter()
            .filter_map(|t| t.get().sched_context())
            .map(|p| p.0)
            .collect();
        // The passive server waits on endpoint 0, then loses its own
        // SchedContext: from now on it runs only on a lent one.
        let server = threads[THREADS - 1];
        syscall(server, SYS_RECV, e0, 0, &[], &[]);
        k.without_sched_context(server);
        let replies = threads
            .iter()
            .map(|&t| super::mcs::reply_of(t).paddr().0)
            .collect();
        World {
            objs: [e0, e1, nt, plain],
            eps: [ptr(e0), ptr(e1)],
            ntfn: ptr(nt),
            threads,
            replies,
            scs,
        }
    }

    /// Carries out `op` (a system call only if the thread could run:
    /// runnable, with a SchedContext), then the kernel exit's decision.
    fn apply(&self, op: Op) {
        match op {
            Op::Sys { t, no, obj, dest } => {
                let th = self.threads[t];
                if crate::sched::is_schedulable(th) {
                    let tcb = th.get();
                    let reply = tcb.reg(REPLY_REGISTER);
                    tcb.set_reg(NB_SEND_RECV_DEST, self.objs[dest]);
                    if no == SYS_NB_SEND_WAIT {
                        tcb.set_reg(REPLY_REGISTER, self.objs[dest]);
                    }
                    syscall(th, no, self.objs[obj], 1, &[t as u64], &[]);
                    tcb.set_reg(REPLY_REGISTER, reply);
                }
            }
            Op::Reply(t) => {
                let th = self.threads[t];
                if crate::sched::is_schedulable(th) {
                    reply(th, 2, &[t as u64]);
                }
            }
            Op::Priority(t, p) => crate::sched::set_priority(self.threads[t], p),
            Op::Suspend(t) => crate::ipc::suspend(self.threads[t]),
            Op::Resume(t) => crate::ipc::restart(self.threads[t]),
        }
        crate::sched::schedule();
    }

    fn check(&self) {
        let mut queued: HashMap<u64, (u64, ThreadState)> = HashMap::new();
        let mut enter = |obj: PAddr, q: TcbQueue, want: ThreadState| {
            let q = queue_of(q);
            check_order(obj.0, &q);
            for t in q {
                let v = (obj.0, want);
                assert!(queued.insert(t, v).is_none(), "thread in two queues");
            }
        };
        for &ep in &self.eps {
            let e = &EndpointRef::new(ep).get().queue;
            let want = match e.state() {
                EndpointState::Idle => {
                    assert!(e.tcbs().is_empty(), "idle endpoint with a queue");
                    continue;
                }
                EndpointState::Send => ThreadState::BlockedOnSend,
                EndpointState::Recv => ThreadState::BlockedOnReceive,
            };
            assert!(!e.tcbs().is_empty(), "non-idle endpoint without a queue");
            enter(ep, e.tcbs(), want);
        }
        let n = &NotificationRef::new(self.ntfn).get().queue;
        assert_eq!(
            n.state() == NotificationState::Waiting,
            !n.tcbs().is_empty()
        );
        enter(self.ntfn, n.tcbs(), ThreadState::BlockedOnNotification);
        for &t in &self.threads {
            let tcb = t.get();
            let s = tcb.state();
            match queued.get(&t.paddr().0) {
                Some(&(obj, want)) => {
                    assert_eq!(s, want, "queued thread's state");
                    assert_eq!(tcb.blocking_object(), obj, "queued on its object");
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
        }
        let tcbs: Vec<u64> = self.threads.iter().map(|t| t.paddr().0).collect();
        check_objects(&self.replies, &tcbs, &self.scs, &[self.ntfn.0]);
    }
}

/// The queue first to last, checking its links.
fn queue_of(q: TcbQueue) -> Vec<u64> {
    let (mut v, mut prev, mut cur) = (Vec::new(), 0, q.head);
    while cur != 0 {
        let t = TcbRef::new(PAddr(cur)).get();
        assert_eq!(t.ep_prev(), prev, "back link of {cur:#x}");
        v.push(cur);
        assert!(v.len() <= THREADS + 1, "cycle in a queue");
        (prev, cur) = (cur, t.ep_next());
    }
    assert_eq!(prev, q.tail, "tail");
    v
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
            for &t in &w.threads {
                // Restart is what activation turns into Running.
                if t.get().state() == ThreadState::Restart {
                    t.get().set_state(ThreadState::Running);
                }
            }
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
    let ops = [
        // The passive server waits (set-up); thread 0 calls it (lending
        // its SchedContext), the server answers with ReplyRecv.
        Op::Sys {
            t: 0,
            no: SYS_CALL,
            obj: 0,
            dest: 0,
        },
        Op::Sys {
            t: passive,
            no: SYS_REPLY_RECV,
            obj: 0,
            dest: 0,
        },
        // Threads 1 (priority 10) and 2 (11) wait to send on endpoint 1,
        // 2 first; then 1 outranks it and moves to the head.
        Op::Sys {
            t: 1,
            no: SYS_SEND,
            obj: 1,
            dest: 0,
        },
        Op::Sys {
            t: 2,
            no: SYS_SEND,
            obj: 1,
            dest: 0,
        },
        Op::Priority(1, 12),
    ];
    let served = w.threads[passive];
    for (i, op) in ops.into_iter().enumerate() {
        w.apply(op);
        w.check();
        if i == 0 {
            assert!(served.get().sched_context().is_some(), "lent");
        }
    }
    assert_eq!(served.get().sched_context(), None, "given back");
    assert_eq!(served.get().state(), ThreadState::BlockedOnReceive);
    assert_eq!(w.threads[0].get().state(), ThreadState::Running);
    let q = queue_of(EndpointRef::new(w.eps[1]).get().queue.tcbs());
    assert_eq!(q, [w.threads[1].paddr().0, w.threads[2].paddr().0]);
}
