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

use super::harness::{self, on_thread, Objects, THREADS};
use super::*;
use crate::arch::{NB_SEND_RECV_DEST, REPLY_REGISTER};
use crate::object::endpoint::EndpointRef;
use crate::object::tcb::ThreadState;
use crate::testutil::boot;
use cairn_abi::syscall::*;
use proptest::prelude::*;

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
        1 => on_thread(Op::Suspend),
        1 => on_thread(Op::Resume),
    ]
}

/// The system: [`Objects`], and the threads (the last one a passive
/// server, waiting on endpoint 0 at the start), their reply objects and
/// SchedContexts.
struct World {
    objs: Objects,
    threads: Vec<TcbRef>,
    replies: Vec<u64>,
    scs: Vec<u64>,
}

impl World {
    fn new() -> World {
        let k = boot();
        let objs = Objects::new(&k);
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
        stop_root(&k);
        syscall(server, SYS_RECV, objs.slots[0], 0, &[], &[]);
        k.without_sched_context(server);
        let replies = threads
            .iter()
            .map(|&t| super::mcs::reply_of(t).paddr().0)
            .collect();
        World {
            objs,
            threads,
            replies,
            scs,
        }
    }

    /// Carries out `op` (a system call only if the thread could be
    /// running: `harness::could_run`), then the kernel exit's decision.
    fn apply(&self, op: Op) {
        match op {
            Op::Sys { t, no, obj, dest } => {
                let th = self.threads[t];
                if harness::could_run(th) {
                    let tcb = th.get();
                    let reply = tcb.reg(REPLY_REGISTER);
                    tcb.set_reg(NB_SEND_RECV_DEST, self.objs.slots[dest]);
                    if no == SYS_NB_SEND_WAIT {
                        tcb.set_reg(REPLY_REGISTER, self.objs.slots[dest]);
                    }
                    syscall(th, no, self.objs.slots[obj], 1, &[t as u64], &[]);
                    tcb.set_reg(REPLY_REGISTER, reply);
                }
            }
            Op::Reply(t) => {
                let th = self.threads[t];
                if harness::could_run(th) {
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
        self.objs
            .check_queues(&self.threads, &self.replies, &self.scs);
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
            harness::activate(&w.threads);
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
    crate::sched::set_priority(w.threads[0], 12);
    crate::sched::set_priority(w.threads[passive], 12);
    crate::sched::schedule();
    let send = |t, obj| Op::Sys {
        t,
        no: SYS_SEND,
        obj,
        dest: 0,
    };
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
        // Thread 0 stops; threads 2 (priority 11) and 1 (10) wait to send
        // on endpoint 1, 2 first; then 1 outranks it and moves to the
        // head.
        Op::Suspend(0),
        send(2, 1),
        send(1, 1),
        Op::Priority(1, 12),
    ];
    let served = w.threads[passive];
    for (i, op) in ops.into_iter().enumerate() {
        w.apply(op);
        w.check();
        if i == 0 {
            assert!(served.get().sched_context().is_some(), "lent");
        }
        if i == 1 {
            assert_eq!(w.threads[0].get().state(), ThreadState::Running);
        }
        if i == 4 {
            let q = EndpointRef::new(w.objs.eps[1]).get().queue.tcbs();
            assert_eq!(q.head, w.threads[2].paddr().0, "by priority");
        }
    }
    assert_eq!(served.get().sched_context(), None, "given back");
    assert_eq!(served.get().state(), ThreadState::BlockedOnReceive);
    let q = EndpointRef::new(w.objs.eps[1]).get().queue.tcbs();
    assert_eq!(
        (q.head, q.tail),
        (w.threads[1].paddr().0, w.threads[2].paddr().0)
    );
}
