//! Each guard of the fastpath (`api::fastpath`): with one condition
//! broken, the fastpath declines and changes nothing (the general path
//! then runs); with none broken, it takes the call. `props` checks that
//! what it does when it takes one is what the general path does.

use super::harness::{self, fastpath_alone};
use super::props::snapshot;
use super::*;
use crate::cap::cte::insert_original;
use crate::object::tcb::{ThreadState, TCB_CALLER, TCB_VTABLE};
use crate::testutil::boot;
use crate::types::{Fault, PAddr};
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;

/// A server waiting on an endpoint, a client about to call it, and a
/// third thread; all at priority 10.
struct Scene {
    k: TestKernel,
    ep: u64,
    ep_pa: PAddr,
    c: TcbRef,
    srv: TcbRef,
    other: TcbRef,
}

impl Scene {
    fn new() -> Scene {
        let k = boot();
        let (ep, ep_pa) = harness::endpoint(&k);
        let [c, srv, other] = k.threads(10, 3)[..] else {
            panic!("threads")
        };
        stop_root(&k);
        syscall(srv, SYS_RECV, ep, 0, &[], &[]);
        Scene {
            k,
            ep,
            ep_pa,
            c,
            srv,
            other,
        }
    }

    fn snapshot(&self) -> Vec<u64> {
        snapshot(&[self.c, self.srv, self.other], &[self.ep_pa])
    }

    /// The client's Call of `cptr` with `mrs` on the fastpath alone;
    /// whether it was taken. A declined call must have changed nothing.
    fn call(&self, cptr: u64, mrs: &[u64], extra: &[u64]) -> bool {
        load(self.c, cptr, 7, mrs, extra);
        self.fastpath(SYS_CALL)
    }

    /// The client's Call taken (through the general path if need be),
    /// then the server's ReplyRecv of `cptr` on the fastpath alone.
    fn reply_recv(&self, cptr: u64, mrs: &[u64]) -> bool {
        syscall(self.c, SYS_CALL, self.ep, 7, &[1], &[]);
        crate::sched::schedule();
        assert!(kernel().is_current(self.srv), "the server runs");
        load(self.srv, cptr, 8, mrs, &[]);
        self.fastpath(SYS_REPLY_RECV)
    }

    fn fastpath(&self, no: SyscallNo) -> bool {
        fastpath_alone(no, || self.snapshot())
    }
}

fn each_declines(attempt: fn(&Scene) -> bool, cases: &[harness::Case<Scene>]) {
    harness::each_declines(Scene::new, attempt, cases)
}

/// Deletes the root task's ASID pool: every thread's VTable cap still
/// names its root and ASID, but the ASID maps no root any more, and the
/// active address space is the kernel's (`reload_vspace`).
fn delete_init_asid_pool(s: &Scene) {
    let pool = s.k.slot(cairn_abi::cap::init::ASID_POOL);
    assert_eq!(crate::cap::delete::cte_delete(pool), Ok(()));
    assert_eq!(kernel().active_vspace().1, 0, "the kernel's table");
}

#[test]
fn each_call_guard_sends_the_call_to_the_general_path() {
    let call = |s: &Scene| s.call(s.ep, &[1, 2], &[]);
    each_declines(
        call,
        &[
            ("the caller has a fault", |s| {
                s.c.get()
                    .set_fault(Some(Fault::UnknownSyscall { number: 9 }))
            }),
            ("the receiver's caller slot is full", |s| {
                let slot = Tcb::slot(s.srv, TCB_CALLER);
                insert_original(slot, Cap::Domain);
            }),
            ("the receiver is of lower priority, another higher", |s| {
                s.srv.get().set_priority(5);
                s.other.get().set_priority(8);
                crate::sched::enqueue(s.other);
            }),
            ("the receiver has no VSpace", |s| {
                let _ = crate::cap::delete::cte_delete(Tcb::slot(s.srv, TCB_VTABLE));
            }),
            ("the receiver's VSpace has no ASID pool any more", |s| {
                delete_init_asid_pool(s)
            }),
            ("no receiver waits", |s| {
                crate::ipc::suspend(s.srv);
            }),
        ],
    );
    // Conditions that are the arguments themselves.
    let s = Scene::new();
    assert!(!s.call(s.ep, &[1, 2, 3, 4, 5], &[]), "five MRs");
    assert!(!s.call(s.ep, &[1], &[s.ep]), "an extra cap");
    assert!(
        !s.call(s.ep | 1 << 20, &[1], &[]),
        "a cptr that fails lookup"
    );
    assert!(!s.call(cairn_abi::cap::init::TCB, &[1], &[]), "a TCB cap");
    let ntfn = object(&s.k, T::Notification);
    assert!(!s.call(ntfn, &[1], &[]), "a notification cap");
    for (rights, what) in [(0xE, "no Write"), (0x3, "neither Grant nor GrantReply")] {
        let m = mint(&s.k, s.ep, rights, 0);
        assert!(!s.call(m, &[1], &[]), "{what}");
    }
    let m = mint(&s.k, s.ep, 0x9, 0);
    assert!(s.call(m, &[1], &[]), "Write and GrantReply suffice");
    // A sender queued (the server busy elsewhere): the endpoint is in
    // the Send state.
    let s = Scene::new();
    crate::ipc::suspend(s.srv);
    syscall(s.other, SYS_SEND, s.ep, 1, &[], &[]);
    assert!(!s.call(s.ep, &[1], &[]), "a sender queued");
}

/// With one domain (the default) every thread is in it and the fastpath
/// does not look; with more, a thread in another domain declines both.
#[test]
fn a_thread_of_another_domain_declines_with_several_domains() {
    if crate::config::NUM_DOMAINS == 1 {
        return;
    }
    let s = Scene::new();
    s.srv.get().set_domain(1);
    assert!(!s.call(s.ep, &[1], &[]), "Call to another domain");
    let s = Scene::new();
    syscall(s.c, SYS_CALL, s.ep, 7, &[1], &[]);
    crate::sched::schedule();
    s.c.get().set_domain(1);
    load(s.srv, s.ep, 8, &[1], &[]);
    assert!(!s.fastpath(SYS_REPLY_RECV), "ReplyRecv to another domain");
}

#[test]
fn a_lower_priority_receiver_that_is_the_highest_ready_is_switched_to() {
    // The scheduler would switch straight to it: so does the fastpath.
    let s = Scene::new();
    s.srv.get().set_priority(5);
    assert!(s.call(s.ep, &[1], &[]));
    assert!(kernel().is_current(s.srv));
}

#[test]
fn each_reply_recv_guard_sends_the_call_to_the_general_path() {
    let reply_recv = |s: &Scene| s.reply_recv(s.ep, &[3]);
    each_declines(
        reply_recv,
        &[
            ("the caller is of lower priority, another higher", |s| {
                s.c.get().set_priority(5);
                s.other.get().set_priority(8);
                crate::sched::enqueue(s.other);
            }),
            ("the caller has no VSpace", |s| {
                let _ = crate::cap::delete::cte_delete(Tcb::slot(s.c, TCB_VTABLE));
            }),
            ("the caller's VSpace has no ASID pool any more", |s| {
                delete_init_asid_pool(s)
            }),
        ],
    );
    let s = Scene::new();
    assert!(!s.reply_recv(s.ep, &[1, 2, 3, 4, 5]), "five MRs");
    let s = Scene::new();
    let m = mint(&s.k, s.ep, 0xD, 0);
    assert!(!s.reply_recv(m, &[1]), "no Read");
    let s = Scene::new();
    let ntfn = object(&s.k, T::Notification);
    assert!(!s.reply_recv(ntfn, &[1]), "a notification cap");
    let s = Scene::new();
    assert!(
        !s.reply_recv(s.ep | 1 << 20, &[1]),
        "a cptr that fails lookup"
    );
    // The caller stopped waiting for the reply, or faulted meanwhile.
    for change in [
        |c: TcbRef| c.get().set_state(ThreadState::Restart),
        |c: TcbRef| c.get().set_fault(Some(Fault::UnknownSyscall { number: 9 })),
    ] {
        let s = Scene::new();
        syscall(s.c, SYS_CALL, s.ep, 7, &[1], &[]);
        change(s.c);
        load(s.srv, s.ep, 8, &[1], &[]);
        assert!(!s.fastpath(SYS_REPLY_RECV));
    }
    // No reply cap: the server received with a Recv and no caller.
    let s = Scene::new();
    syscall(s.other, SYS_SEND, s.ep, 1, &[], &[]);
    load(s.srv, s.ep, 8, &[1], &[]);
    assert!(!s.fastpath(SYS_REPLY_RECV), "no reply cap");
    // A sender waits on the endpoint.
    let s = Scene::new();
    syscall(s.c, SYS_CALL, s.ep, 7, &[1], &[]);
    syscall(s.other, SYS_SEND, s.ep, 1, &[], &[]);
    load(s.srv, s.ep, 8, &[1], &[]);
    assert!(!s.fastpath(SYS_REPLY_RECV), "a sender waits");
    // A signal pending on the server's bound notification.
    let s = Scene::new();
    let ntfn = object(&s.k, T::Notification);
    let Cap::Notification { ptr, .. } = s.k.cap(ntfn) else {
        panic!()
    };
    syscall(s.c, SYS_CALL, s.ep, 7, &[1], &[]);
    s.srv.get().set_bound_notification(ptr.0);
    syscall(s.other, SYS_SEND, ntfn, 0, &[], &[]);
    load(s.srv, s.ep, 8, &[1], &[]);
    assert!(!s.fastpath(SYS_REPLY_RECV), "a signal pending");
}

/// In a CSpace of two levels the fastpath's walking copy (`ipc_walking`)
/// takes the Call and the ReplyRecv, and leaves the state the general
/// path leaves; a cptr that fails at either level declines.
#[test]
fn a_cspace_of_two_levels_is_walked_to_the_general_paths_outcome() {
    let run = |fast: bool| {
        let s = Scene::new();
        harness::two_level_cspace(&s.k, &[s.c, s.srv]);
        for (t, no, label, mrs) in [
            (s.c, SYS_CALL, 7, &[1, 2][..]),
            (s.srv, SYS_REPLY_RECV, 8, &[3]),
        ] {
            load(t, s.ep, label, mrs, &[]);
            if fast {
                assert!(s.fastpath(no), "taken: {no}");
            } else {
                harness::with_fastpath(false, || crate::api::handle_syscall(no));
            }
            crate::sched::schedule();
        }
        assert!(kernel().is_current(s.c), "the client runs again");
        s.snapshot()
    };
    assert_eq!(run(true), run(false));
    for cptr in [1 << 40, 1 << 62] {
        let s = Scene::new();
        harness::two_level_cspace(&s.k, &[s.c, s.srv]);
        assert!(!s.call(s.ep | cptr, &[1], &[]), "cptr {cptr:#x}");
    }
}
