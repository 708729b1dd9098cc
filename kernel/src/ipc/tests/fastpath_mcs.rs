//! Each guard of the MCS fastpath (`api::fastpath`, `fastpath_mcs.rs`):
//! with one condition broken it declines and changes nothing (the
//! general path then runs); with none broken it takes the call.
//! `props_mcs` checks that what it does when it takes one is what the
//! general path does.

use super::harness::{self, fastpath_alone, second_space, with_fastpath};
use super::mcs::reply_of;
use super::props_mcs::snapshot;
use super::*;
use crate::object::reply::ReplyRef;
use crate::object::tcb::ThreadState;
use crate::testutil::boot;
use crate::types::{Fault, PAddr};
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;

/// A passive server waiting on an endpoint with its reply object, a
/// client on its SchedContext about to call it, a third thread with a
/// SchedContext; all at priority 10.
struct Scene {
    k: TestKernel,
    ep: u64,
    ep_pa: PAddr,
    c: TcbRef,
    srv: TcbRef,
    other: TcbRef,
    /// Their reply objects (the reply register may change).
    replies: [ReplyRef; 3],
}

impl Scene {
    fn new() -> Scene {
        let k = boot();
        let (ep, ep_pa) = harness::endpoint(&k);
        let [c, other] = k.threads(10, 2)[..] else {
            panic!("threads")
        };
        let [srv] = k.passive_threads(10, 1)[..] else {
            panic!("threads")
        };
        stop_root(&k);
        syscall(srv, SYS_RECV, ep, 0, &[], &[]);
        let replies = [c, srv, other].map(reply_of);
        Scene {
            replies,
            k,
            ep,
            ep_pa,
            c,
            srv,
            other,
        }
    }

    fn snapshot(&self) -> Vec<u64> {
        let ts = [self.c, self.srv, self.other];
        let scs: Vec<PAddr> = [self.c, self.other]
            .iter()
            .filter_map(|t| t.get().sched_context())
            .collect();
        snapshot(&ts, &self.replies, &scs, &[self.ep_pa])
    }

    /// The client's Call of `cptr` with `mrs` on the fastpath alone.
    fn call(&self, cptr: u64, mrs: &[u64], extra: &[u64]) -> bool {
        load(self.c, cptr, 7, mrs, extra);
        self.fastpath(SYS_CALL)
    }

    fn fastpath(&self, no: SyscallNo) -> bool {
        fastpath_alone(no, || self.snapshot())
    }
}

type Case = harness::Case<Scene>;

fn each_declines(attempt: fn(&Scene) -> bool, cases: &[Case]) {
    harness::each_declines(Scene::new, attempt, cases)
}

#[test]
fn each_mcs_call_guard_sends_the_call_to_the_general_path() {
    let call = |s: &Scene| s.call(s.ep, &[1, 2], &[]);
    each_declines(
        call,
        &[
            ("the server has a SchedContext of its own", |s| {
                s.k.give_sched_context(s.srv);
            }),
            ("the server waits without a reply object (Wait)", |s| {
                crate::ipc::suspend(s.srv);
                s.srv.get().set_state(ThreadState::Running);
                s.k.give_sched_context(s.srv);
                syscall(s.srv, SYS_WAIT, s.ep, 0, &[], &[]);
                s.k.without_sched_context(s.srv);
            }),
            ("the caller has a fault stored", |s| {
                s.c.get()
                    .set_fault(Some(Fault::UnknownSyscall { number: 9 }));
            }),
            ("the server is of lower priority and not the highest", |s| {
                s.srv.get().set_priority(5);
                crate::sched::enqueue(s.other);
            }),
            ("no receiver waits", |s| crate::ipc::suspend(s.srv)),
        ],
    );
    let s = Scene::new();
    assert!(!s.call(s.ep, &[1, 2, 3, 4, 5], &[]), "five MRs");
    let s = Scene::new();
    assert!(!s.call(s.ep, &[1], &[s.ep]), "an extra cap");
    let s = Scene::new();
    let no_grant = mint(&s.k, s.ep, 0x1 | 0x2, 3);
    assert!(!s.call(no_grant, &[1], &[]), "no Grant nor GrantReply");
    let s = Scene::new();
    let ntfn = object(&s.k, T::Notification);
    assert!(!s.call(ntfn, &[1], &[]), "not an endpoint");
}

/// The client's Call received by the passive server through the general
/// path, the server running on the client's SchedContext.
fn called(s: &Scene) {
    with_fastpath(false, || syscall(s.c, SYS_CALL, s.ep, 7, &[1], &[]));
    crate::sched::schedule();
    assert!(kernel().is_current(s.srv), "the server runs");
}

/// The server's ReplyRecv on `cptr` with its reply register `a6`, on the
/// fastpath alone.
fn reply_recv(s: &Scene, cptr: u64, a6: u64) -> bool {
    load(s.srv, cptr, 8, &[2], &[]);
    s.srv.get().set_reg(crate::arch::REPLY_REGISTER, a6);
    s.fastpath(SYS_REPLY_RECV)
}

#[test]
fn each_mcs_reply_recv_guard_sends_the_call_to_the_general_path() {
    let own = |s: &Scene| s.srv.get().reg(crate::arch::REPLY_REGISTER);
    let s = Scene::new();
    called(&s);
    assert!(
        reply_recv(&s, s.ep, own(&s)),
        "taken with every condition met"
    );
    let cases: [Case; 6] = [
        ("the caller has a fault stored", |s| {
            s.c.get()
                .set_fault(Some(Fault::UnknownSyscall { number: 9 }));
        }),
        ("the caller stopped waiting for the reply", |s| {
            s.c.get().set_state(ThreadState::Restart);
        }),
        ("the caller got a SchedContext of its own meanwhile", |s| {
            s.k.give_sched_context(s.c);
        }),
        ("the caller is of lower priority and not the highest", |s| {
            s.c.get().set_priority(5);
            crate::sched::enqueue(s.other);
        }),
        ("a sender waits on the endpoint", |s| {
            syscall(s.other, SYS_SEND, s.ep, 1, &[], &[]);
        }),
        ("a signal is pending on the bound notification", |s| {
            let ntfn = object(&s.k, T::Notification);
            let Cap::Notification { ptr, .. } = s.k.cap(ntfn) else {
                panic!()
            };
            s.srv.get().set_bound_notification(ptr.0);
            syscall(s.other, SYS_SEND, ntfn, 0, &[], &[]);
        }),
    ];
    for (what, break_it) in cases {
        let s = Scene::new();
        called(&s);
        break_it(&s);
        assert!(!reply_recv(&s, s.ep, own(&s)), "taken although {what}");
    }
    // The reply register names no reply object, or one on no stack; the
    // endpoint cap lacks Read, or is a notification.
    let s = Scene::new();
    called(&s);
    assert!(!reply_recv(&s, s.ep, s.ep), "a6 names an endpoint");
    let spare = s.k.make(T::Reply, 0, 1)[0];
    assert!(!reply_recv(&s, s.ep, spare), "a6 names a reply on no stack");
    let no_read = mint(&s.k, s.ep, 0xD, 0);
    assert!(!reply_recv(&s, no_read, own(&s)), "no Read");
    let ntfn = object(&s.k, T::Notification);
    assert!(!reply_recv(&s, ntfn, own(&s)), "a notification cap");
    assert!(!reply_recv(&s, s.ep | 1 << 20, own(&s)), "a failed lookup");
    // A server on its own SchedContext: the reply heads no stack.
    let s = Scene::new();
    s.k.give_sched_context(s.srv);
    with_fastpath(false, || syscall(s.c, SYS_CALL, s.ep, 7, &[1], &[]));
    assert!(!reply_recv(&s, s.ep, own(&s)), "nothing was lent");
}

/// Across address spaces the first switch to the server's goes through
/// the general path (which records the space); from then on both ways
/// are taken (`props_mcs` has the round trip).
#[test]
fn a_call_to_a_server_in_a_space_never_installed_declines() {
    let s = Scene::new();
    second_space(&s.k, &[s.srv]);
    assert!(
        !s.call(s.ep, &[1], &[]),
        "the server's space never installed"
    );
}

/// In a CSpace of two levels the fastpath's walking copy (`ipc_walking`)
/// takes the donating Call and the ReplyRecv that gives the SchedContext
/// back (both lookups walked), leaving the state the general path
/// leaves; a reply cptr that fails at the second level declines.
#[test]
fn a_cspace_of_two_levels_is_walked_to_the_general_paths_outcome() {
    let run = |fast: bool| {
        let s = Scene::new();
        harness::two_level_cspace(&s.k, &[s.c, s.srv]);
        let a6 = s.srv.get().reg(crate::arch::REPLY_REGISTER);
        for (t, no, label, mrs) in [
            (s.c, SYS_CALL, 7, &[1, 2][..]),
            (s.srv, SYS_REPLY_RECV, 8, &[3]),
        ] {
            load(t, s.ep, label, mrs, &[]);
            t.get().set_reg(crate::arch::REPLY_REGISTER, a6);
            if fast {
                assert!(s.fastpath(no), "taken: {no}");
            } else {
                with_fastpath(false, || crate::api::handle_syscall(no));
            }
            crate::sched::schedule();
        }
        assert!(kernel().is_current(s.c), "the client runs again");
        s.snapshot()
    };
    assert_eq!(run(true), run(false));
    let s = Scene::new();
    harness::two_level_cspace(&s.k, &[s.c, s.srv]);
    called(&s);
    let a6 = s.srv.get().reg(crate::arch::REPLY_REGISTER);
    assert!(
        !reply_recv(&s, s.ep, a6 | 1 << 40),
        "a reply cptr failing its guard"
    );
    assert!(reply_recv(&s, s.ep, a6), "taken");
}
