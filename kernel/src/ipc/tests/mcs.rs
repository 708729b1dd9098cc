//! MCS IPC (ABI ref §13): the MCS syscalls with reply objects, the
//! reply-cap lookup and its faults, the first-phase rule, SchedContext
//! donation along call chains and back, notifications lending their
//! SchedContext, and deleting or cancelling anything in the middle of a
//! chain. After each step [`check_links`] checks that every link between
//! threads, reply objects and SchedContexts is mirrored (nothing
//! dangles).

use super::*;
use crate::cap::lookup::LookupFault;
use crate::ipc::fault::handle_fault;
use crate::object::reply::{Next, ReplyRef};
use crate::object::sched_context::{self as sc_obj};
use crate::object::tcb::{tcb_at, ThreadState};
use crate::sched::{action, Action};
use crate::testutil::{boot, ok};
use crate::types::{Fault, PAddr};
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;

/// The reply object named by `t`'s reply register.
pub fn reply_of(t: TcbRef) -> ReplyRef {
    let slot = t.get().reg(crate::arch::REPLY_REGISTER);
    let root = Tcb::slot(t, crate::object::tcb::TCB_CTABLE).get().words();
    match crate::cap::lookup::lookup_cap(root, slot) {
        Ok((_, Cap::ReplyObject { ptr, .. })) => ReplyRef::new(ptr),
        other => panic!("no reply cap at {slot}: {other:?}"),
    }
}

/// `t`'s SchedContext (it must have one).
fn sc_of(t: TcbRef) -> PAddr {
    t.get().sched_context().expect("a SchedContext")
}

/// Every link among `threads`, `replies` and `scs` is mirrored: a reply's
/// thread names it back and waits in Recv or for a reply; a thread
/// blocked with a reply is named by it; a call stack's `prev`/`next` and
/// the SchedContext's head agree; a SchedContext and its thread name each
/// other.
fn check_links(threads: &[TcbRef], replies: &[ReplyRef], scs: &[PAddr]) {
    for &r in replies {
        if let Some(t) = tcb_at(r.tcb()) {
            assert_eq!(t.get().reply_object(), Some(r), "reply's thread names it");
            assert!(matches!(
                t.get().state(),
                ThreadState::BlockedOnReceive | ThreadState::BlockedOnReply
            ));
        }
        match r.next() {
            Next::Head(sc) => assert_eq!(sc_obj::reply(sc), Some(r), "head"),
            Next::Reply(above) => assert_eq!(above.prev(), Some(r), "above"),
            Next::None => {}
        }
        if let Some(below) = r.prev() {
            assert_eq!(below.next(), Next::Reply(r), "below");
        }
    }
    for &t in threads {
        let st = t.get().state();
        if matches!(
            st,
            ThreadState::BlockedOnReceive | ThreadState::BlockedOnReply
        ) {
            if let Some(r) = t.get().reply_object() {
                assert_eq!(r.tcb(), t.paddr().0, "thread's reply names it");
            }
        }
        if st == ThreadState::BlockedOnReply {
            assert!(t.get().reply_object().is_some(), "waits on a reply");
        }
        if let Some(sc) = t.get().sched_context() {
            assert_eq!(sc_obj::tcb_of(sc), Some(t), "SchedContext names it");
        }
    }
    for &sc in scs {
        if let Some(t) = sc_obj::tcb_of(sc) {
            assert_eq!(t.get().sched_context(), Some(sc), "thread names it");
        }
        if let Some(r) = sc_obj::reply(sc) {
            assert_eq!(r.next(), Next::Head(sc), "stack head");
        }
    }
}

/// An endpoint's address.
fn ep_at(k: &crate::testutil::TestKernel, slot: u64) -> PAddr {
    match k.cap(slot) {
        Cap::Endpoint { ptr, .. } | Cap::Notification { ptr, .. } => ptr,
        c => panic!("{c:?}"),
    }
}

/// A thread of `k` with a fault handler: returns the handler, waiting on
/// its endpoint, which gets `t`'s faults.
fn with_handler(k: &crate::testutil::TestKernel, t: TcbRef) -> TcbRef {
    let ep = object(k, T::Endpoint);
    let [h] = k.threads(10, 1)[..] else { panic!() };
    own_buffer(k, h);
    set_fault_handler(k, t, ep);
    syscall(h, SYS_RECV, ep, 0, &[], &[]);
    h
}

#[test]
fn recv_on_an_endpoint_needs_a_reply_cap_in_the_reply_register() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [t] = k.threads(10, 1)[..] else { panic!() };
    let h = with_handler(&k, t);
    // A cap that is not a reply cap: MissingCapability(0) on a6.
    t.get().set_reg(crate::arch::REPLY_REGISTER, ep);
    syscall(t, SYS_RECV, ep, 0, &[], &[]);
    assert_eq!(t.get().state(), ThreadState::BlockedOnReply, "faulted");
    let (_, info, mrs) = received(h, 5);
    assert_eq!(info.label(), cairn_abi::fault::CAP_FAULT);
    assert_eq!(
        &mrs[1..5],
        &[ep, 1, 2, 0],
        "addr a6, recv phase, missing(0)"
    );
    assert_eq!(
        t.get().fault(),
        Some(Fault::Cap {
            addr: ep,
            in_recv_phase: true,
            lookup: LookupFault::MissingCapability { bits_left: 0 }
        })
    );
    // An empty slot: the lookup's own failure, on a6, in the receive phase.
    let [u] = k.threads(10, 1)[..] else { panic!() };
    let empty = k.first_empty;
    u.get().set_reg(crate::arch::REPLY_REGISTER, empty);
    syscall(u, SYS_NB_RECV, ep, 0, &[], &[]);
    assert_eq!(
        u.get().state(),
        ThreadState::Inactive,
        "no handler: stopped"
    );
    // Wait needs none, and a notification needs none either.
    let [w] = k.threads(10, 1)[..] else { panic!() };
    w.get().set_reg(crate::arch::REPLY_REGISTER, empty);
    syscall(w, SYS_WAIT, ep, 0, &[], &[]);
    assert_eq!(w.get().state(), ThreadState::BlockedOnReceive);
    assert_eq!(w.get().reply_object(), None);
    let n = object(&k, T::Notification);
    let [v] = k.threads(10, 1)[..] else { panic!() };
    v.get().set_reg(crate::arch::REPLY_REGISTER, ep);
    syscall(v, SYS_RECV, n, 0, &[], &[]);
    assert_eq!(v.get().state(), ThreadState::BlockedOnNotification);
    check_links(&[t, u, w, v], &[], &[]);
}

#[test]
fn a_call_received_by_wait_stops_the_caller_and_nb_wait_polls() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [c, srv] = k.threads(10, 2)[..] else {
        panic!()
    };
    syscall(srv, SYS_NB_WAIT, ep, 0, &[], &[]);
    assert_eq!(srv.get().state(), ThreadState::Running, "nothing there");
    syscall(srv, SYS_WAIT, ep, 0, &[], &[]);
    syscall(c, SYS_CALL, ep, 4, &[9], &[]);
    assert_eq!(received(srv, 1).2, vec![9]);
    assert_eq!(srv.get().state(), ThreadState::Running);
    assert_eq!(c.get().state(), ThreadState::Inactive, "no reply object");
    // A send waiting is received by NBWait.
    let [s] = k.threads(10, 1)[..] else { panic!() };
    syscall(s, SYS_SEND, ep, 3, &[7], &[]);
    syscall(srv, SYS_NB_WAIT, ep, 0, &[], &[]);
    assert_eq!(
        (received(srv, 1).1.label(), received(srv, 1).2),
        (3, vec![7])
    );
    assert_eq!(s.get().state(), ThreadState::Running);
}

#[test]
fn call_to_a_passive_server_lends_the_sched_context_and_reply_recv_returns_it() {
    // The general path's steps (the fastpath's own: `fastpath_mcs`).
    crate::api::fastpath::ENABLED.with(|e| e.set(false));
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [c] = k.threads(10, 1)[..] else { panic!() };
    let [srv] = k.passive_threads(20, 1)[..] else {
        panic!()
    };
    let sc = sc_of(c);
    let r = reply_of(srv);
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    assert_eq!(
        (r.tcb(), srv.get().reply_object()),
        (srv.paddr().0, Some(r))
    );
    check_links(&[c, srv], &[r], &[sc]);
    // What the lending changes nothing of (no time passes: no charge).
    let scr = crate::object::sched_context::SchedContextRef::at(sc);
    let refills = || (scr.refill_state(), scr.head_refill(), scr.consumed());
    let before = refills();
    syscall(c, SYS_CALL, ep, 5, &[1, 2], &[]);
    assert_eq!(refills(), before);
    // The server runs on the client's SchedContext; the client waits on
    // the server's reply object, which heads the SchedContext's stack.
    assert_eq!(srv.get().sched_context(), Some(sc));
    assert_eq!(c.get().sched_context(), None);
    assert_eq!(c.get().state(), ThreadState::BlockedOnReply);
    assert_eq!(
        (r.tcb(), r.next(), r.prev()),
        (c.paddr().0, Next::Head(sc), None)
    );
    assert_eq!(sc_obj::reply(sc), Some(r));
    assert_eq!(received(srv, 2).2, vec![1, 2]);
    assert!(matches!(action(), Action::ChooseNew | Action::SwitchTo(_)));
    assert!(srv.get().in_ready_queue() || action() == Action::SwitchTo(srv));
    check_links(&[c, srv], &[r], &[sc]);
    // ReplyRecv: the reply returns the SchedContext, then the server
    // waits again, passive, with the same reply object.
    syscall(srv, SYS_REPLY_RECV, ep, 6, &[3], &[]);
    assert_eq!(c.get().state(), ThreadState::Running);
    assert_eq!((received(c, 1).1.label(), received(c, 1).2), (6, vec![3]));
    assert_eq!(c.get().sched_context(), Some(sc));
    assert_eq!(srv.get().sched_context(), None);
    assert_eq!(refills(), before, "back and forth: the refills as before");
    assert_eq!(srv.get().state(), ThreadState::BlockedOnReceive);
    assert_eq!(
        (r.tcb(), r.next(), sc_obj::reply(sc)),
        (srv.paddr().0, Next::None, None)
    );
    check_links(&[c, srv], &[r], &[sc]);
    crate::api::fastpath::ENABLED.with(|e| e.set(true));
}

/// ReplyRecv through a reply object whose message names extra caps goes
/// the general way (`api::recv::handle_reply_recv`): an extra cap that
/// fails to look up drops the send phase (seL4's `handleInvocation`
/// returns before performing it), and the receive still happens, taking
/// the reply object from the caller that still waits on it.
#[test]
fn reply_recv_whose_extra_cap_fails_to_look_up_sends_no_reply() {
    crate::api::fastpath::ENABLED.with(|e| e.set(false));
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [c] = k.threads(10, 1)[..] else { panic!() };
    let [srv] = k.passive_threads(20, 1)[..] else {
        panic!()
    };
    own_buffer(&k, srv);
    let sc = sc_of(c);
    let r = reply_of(srv);
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    syscall(c, SYS_CALL, ep, 5, &[1, 2], &[]);
    assert_eq!(c.get().state(), ThreadState::BlockedOnReply);
    let info_before = c.get().reg(crate::arch::MSG_INFO_REGISTER);
    // The guard of the root CNode does not match an all-ones cptr.
    syscall(srv, SYS_REPLY_RECV, ep, 6, &[3], &[u64::MAX]);
    assert_eq!(c.get().state(), ThreadState::Inactive, "never answered");
    assert_eq!(c.get().reg(crate::arch::MSG_INFO_REGISTER), info_before);
    assert_eq!(srv.get().state(), ThreadState::BlockedOnReceive);
    assert_eq!(
        (r.tcb(), srv.get().reply_object()),
        (srv.paddr().0, Some(r))
    );
    // The stack was broken, not popped: the lent SchedContext stays.
    assert_eq!(srv.get().sched_context(), Some(sc));
    assert_eq!(c.get().sched_context(), None);
    check_links(&[c, srv], &[r], &[sc]);
    // Without extra caps the same ReplyRecv answers (the shortcut).
    let [c2] = k.threads(10, 1)[..] else { panic!() };
    let sc2 = sc_of(c2);
    syscall(c2, SYS_CALL, ep, 5, &[4], &[]);
    syscall(srv, SYS_REPLY_RECV, ep, 7, &[8, 9], &[]);
    assert_eq!(c2.get().state(), ThreadState::Running);
    assert_eq!(
        (received(c2, 2).1.label(), received(c2, 2).2),
        (7, vec![8, 9])
    );
    assert_eq!(c2.get().sched_context(), Some(sc2));
    assert_eq!(srv.get().state(), ThreadState::BlockedOnReceive);
    assert_eq!(
        (r.tcb(), srv.get().reply_object()),
        (srv.paddr().0, Some(r))
    );
    crate::api::fastpath::ENABLED.with(|e| e.set(true));
}

/// ReplyRecv whose reply register names an empty slot: the send phase
/// finds nothing to invoke (no fault: it does not block), and the
/// receive phase faults on that cptr, as it would with Recv.
#[test]
fn reply_recv_with_an_empty_reply_register_faults_in_the_receive_phase() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [t] = k.threads(10, 1)[..] else { panic!() };
    let h = with_handler(&k, t);
    let empty = k.first_empty;
    t.get().set_reg(crate::arch::REPLY_REGISTER, empty);
    syscall(t, SYS_REPLY_RECV, ep, 0, &[], &[]);
    assert_eq!(t.get().state(), ThreadState::BlockedOnReply, "faulted");
    let (_, info, mrs) = received(h, 3);
    assert_eq!(info.label(), cairn_abi::fault::CAP_FAULT);
    assert_eq!(&mrs[1..3], &[empty, 1], "addr a6, in the receive phase");
    assert!(matches!(
        t.get().fault(),
        Some(Fault::Cap { addr, in_recv_phase: true, .. }) if addr == empty
    ));
}

#[test]
fn a_server_with_its_own_sched_context_borrows_nothing() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [c, srv] = k.threads(10, 2)[..] else {
        panic!()
    };
    let (csc, ssc, r) = (sc_of(c), sc_of(srv), reply_of(srv));
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    syscall(c, SYS_CALL, ep, 0, &[], &[]);
    assert_eq!(
        (c.get().sched_context(), srv.get().sched_context()),
        (Some(csc), Some(ssc))
    );
    assert_eq!(
        (r.tcb(), r.next(), sc_obj::reply(csc)),
        (c.paddr().0, Next::None, None)
    );
    reply(srv, 1, &[]);
    assert_eq!(c.get().state(), ThreadState::Running);
    assert_eq!(r.tcb(), 0);
    check_links(&[c, srv], &[r], &[csc, ssc]);
}

/// A client `a` and two passive servers: `a` Calls `s1` on `ep1`, which
/// Calls `s2` on `ep2`. Returns the threads, replies (of s1, s2) and the
/// SchedContext.
fn chain(k: &crate::testutil::TestKernel) -> ([TcbRef; 3], [ReplyRef; 2], PAddr) {
    let (ep1, ep2) = (object(k, T::Endpoint), object(k, T::Endpoint));
    let [a] = k.threads(10, 1)[..] else { panic!() };
    let [s1, s2] = k.passive_threads(20, 2)[..] else {
        panic!()
    };
    let (sc, r1, r2) = (sc_of(a), reply_of(s1), reply_of(s2));
    syscall(s1, SYS_RECV, ep1, 0, &[], &[]);
    syscall(s2, SYS_RECV, ep2, 0, &[], &[]);
    syscall(a, SYS_CALL, ep1, 1, &[], &[]);
    assert_eq!(s1.get().sched_context(), Some(sc));
    syscall(s1, SYS_CALL, ep2, 2, &[], &[]);
    assert_eq!(s2.get().sched_context(), Some(sc));
    assert_eq!(
        (a.get().sched_context(), s1.get().sched_context()),
        (None, None)
    );
    // The stack: sc -> r2 (s1 waits on it) -> r1 (a waits on it).
    assert_eq!(sc_obj::reply(sc), Some(r2));
    assert_eq!((r2.next(), r2.prev()), (Next::Head(sc), Some(r1)));
    assert_eq!((r1.next(), r1.prev()), (Next::Reply(r2), None));
    assert_eq!((r1.tcb(), r2.tcb()), (a.paddr().0, s1.paddr().0));
    check_links(&[a, s1, s2], &[r1, r2], &[sc]);
    let _ = (ep_at(k, ep1), ep_at(k, ep2));
    ([a, s1, s2], [r1, r2], sc)
}

#[test]
fn a_chain_of_calls_stacks_the_sched_context_and_unwinds_it() {
    let k = boot();
    let ([a, s1, s2], [r1, r2], sc) = chain(&k);
    reply(s2, 7, &[]);
    assert_eq!(s1.get().sched_context(), Some(sc), "back one level");
    assert_eq!(s1.get().state(), ThreadState::Running);
    assert_eq!((sc_obj::reply(sc), r1.next()), (Some(r1), Next::Head(sc)));
    assert_eq!((r2.tcb(), r2.next(), r2.prev()), (0, Next::None, None));
    check_links(&[a, s1, s2], &[r1, r2], &[sc]);
    reply(s1, 8, &[]);
    assert_eq!(a.get().sched_context(), Some(sc), "home");
    assert_eq!(a.get().state(), ThreadState::Running);
    assert_eq!(received(a, 0).1.label(), 8);
    assert_eq!(
        (sc_obj::reply(sc), r1.tcb(), r1.next()),
        (None, 0, Next::None)
    );
    check_links(&[a, s1, s2], &[r1, r2], &[sc]);
}

#[test]
fn deleting_a_reply_object_in_the_middle_breaks_the_chain_there() {
    let k = boot();
    let ([a, s1, s2], [r1, r2], sc) = chain(&k);
    // r1 (a waits on it) is below the head: deleting it breaks the stack
    // and stops a; the SchedContext stays with s2.
    let r1_slot = s1.get().reg(crate::arch::REPLY_REGISTER);
    assert_eq!(crate::cap::delete::cte_delete(k.slot(r1_slot)), Ok(()));
    assert_eq!(a.get().state(), ThreadState::Inactive);
    assert_eq!((a.get().reply_object(), r1.tcb()), (None, 0));
    assert_eq!(r2.prev(), None, "broken below the head");
    assert_eq!(s2.get().sched_context(), Some(sc));
    check_links(&[a, s1, s2], &[r1, r2], &[sc]);
    // The rest unwinds as far as it can: s1 gets it back, a never does.
    reply(s2, 0, &[]);
    assert_eq!(s1.get().sched_context(), Some(sc));
    assert_eq!(sc_obj::reply(sc), None);
    check_links(&[a, s1, s2], &[r1, r2], &[sc]);
}

#[test]
fn deleting_the_head_reply_object_pops_it_and_returns_the_sched_context() {
    let k = boot();
    let ([a, s1, s2], [r1, r2], sc) = chain(&k);
    let r2_slot = s2.get().reg(crate::arch::REPLY_REGISTER);
    assert_eq!(crate::cap::delete::cte_delete(k.slot(r2_slot)), Ok(()));
    // seL4's reply_remove of the head: popped, the SchedContext back to
    // s1, which is left Inactive (its Call can never be answered).
    assert_eq!(s1.get().sched_context(), Some(sc));
    assert_eq!(s1.get().state(), ThreadState::Inactive);
    assert_eq!(s2.get().sched_context(), None);
    assert_eq!((sc_obj::reply(sc), r1.next()), (Some(r1), Next::Head(sc)));
    check_links(&[a, s1, s2], &[r1, r2], &[sc]);
}

#[test]
fn deleting_the_sched_context_mid_chain_leaves_no_dangling_links() {
    let k = boot();
    let ([a, s1, s2], [r1, r2], sc) = chain(&k);
    // The SchedContext's only cap is the one `threads` made for a.
    let slot = (0..1 << k.radix)
        .find(|&i| matches!(k.cap(i), Cap::SchedContext { ptr, .. } if ptr == sc))
        .expect("its cap");
    assert_eq!(crate::cap::delete::cte_delete(k.slot(slot)), Ok(()));
    assert_eq!(s2.get().sched_context(), None);
    assert_eq!((sc_obj::tcb_of(sc), sc_obj::reply(sc)), (None, None));
    assert_eq!(r2.next(), Next::None);
    check_links(&[a, s1, s2], &[r1, r2], &[]);
    // Replies still go through; nobody has a SchedContext to run on.
    reply(s2, 0, &[]);
    assert_eq!(s1.get().state(), ThreadState::Running);
    assert_eq!(s1.get().sched_context(), None);
    assert!(!s1.get().in_ready_queue(), "passive: not queued");
    check_links(&[a, s1, s2], &[r1, r2], &[]);
}

#[test]
fn deleting_a_thread_mid_chain_breaks_the_chain() {
    let k = boot();
    let ([a, s1, s2], [r1, r2], sc) = chain(&k);
    // s1 waits on the head reply r2 and holds r1 for a: deleting its TCB
    // cancels its Call (the stack loses its head) and leaves r1 to a.
    let slot = (0..1 << k.radix)
        .find(|&i| matches!(k.cap(i), Cap::Thread { tcb } if tcb == s1.paddr()))
        .expect("its cap");
    assert_eq!(crate::cap::delete::cte_delete(k.slot(slot)), Ok(()));
    assert_eq!(
        (r2.tcb(), sc_obj::reply(sc), r1.next()),
        (0, None, Next::None)
    );
    assert_eq!(s2.get().sched_context(), Some(sc), "stays with s2");
    assert_eq!(a.get().state(), ThreadState::BlockedOnReply);
    check_links(&[a, s2], &[r1, r2], &[sc]);
    // s2's reply now has nobody to go to.
    reply(s2, 0, &[]);
    assert_eq!(s2.get().sched_context(), Some(sc));
    // Deleting the server holding the SchedContext leaves it unbound.
    let slot = (0..1 << k.radix)
        .find(|&i| matches!(k.cap(i), Cap::Thread { tcb } if tcb == s2.paddr()))
        .expect("its cap");
    assert_eq!(crate::cap::delete::cte_delete(k.slot(slot)), Ok(()));
    assert_eq!(sc_obj::tcb_of(sc), None);
    check_links(&[a], &[r1, r2], &[sc]);
}

#[test]
fn suspending_a_caller_waiting_for_its_reply_takes_it_off_the_stack() {
    let k = boot();
    let ([a, s1, s2], [r1, r2], sc) = chain(&k);
    crate::ipc::suspend(s1);
    assert_eq!(s1.get().state(), ThreadState::Inactive);
    assert_eq!((r2.tcb(), sc_obj::reply(sc)), (0, None));
    assert_eq!(r1.next(), Next::None);
    check_links(&[a, s1, s2], &[r1, r2], &[sc]);
    // Resuming a passive thread does not queue it.
    crate::ipc::restart(s1);
    assert_eq!(s1.get().state(), ThreadState::Restart);
    assert!(!s1.get().in_ready_queue());
}

#[test]
fn a_reply_object_linked_to_another_receiver_is_taken_from_it() {
    let k = boot();
    let (ep1, ep2) = (object(&k, T::Endpoint), object(&k, T::Endpoint));
    let [x, y] = k.threads(10, 2)[..] else {
        panic!()
    };
    let r = reply_of(x);
    y.get().set_reg(
        crate::arch::REPLY_REGISTER,
        x.get().reg(crate::arch::REPLY_REGISTER),
    );
    syscall(x, SYS_RECV, ep1, 0, &[], &[]);
    syscall(y, SYS_RECV, ep2, 0, &[], &[]);
    assert_eq!(
        x.get().state(),
        ThreadState::Inactive,
        "x's receive cancelled"
    );
    assert_eq!(EndpointRef(ep_at(&k, ep1)).head(), 0);
    assert_eq!((r.tcb(), y.get().reply_object()), (y.paddr().0, Some(r)));
    check_links(&[x, y], &[r], &[]);
    // Deleting the reply object cancels the receive it is linked to.
    let slot = x.get().reg(crate::arch::REPLY_REGISTER);
    assert_eq!(crate::cap::delete::cte_delete(k.slot(slot)), Ok(()));
    assert_eq!(y.get().state(), ThreadState::Inactive);
    assert_eq!(EndpointRef(ep_at(&k, ep2)).head(), 0);
    assert_eq!(y.get().reply_object(), None);
}

/// The head of an endpoint's queue.
struct EndpointRef(PAddr);
impl EndpointRef {
    fn head(&self) -> u64 {
        crate::object::endpoint::EndpointRef::new(self.0)
            .get()
            .queue
            .tcbs()
            .head
    }
}

#[test]
fn deleting_an_endpoint_unlinks_its_receivers_reply_objects() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [x, y] = k.threads(10, 2)[..] else {
        panic!()
    };
    let (rx, ry) = (reply_of(x), reply_of(y));
    syscall(x, SYS_RECV, ep, 0, &[], &[]);
    syscall(y, SYS_RECV, ep, 0, &[], &[]);
    assert_eq!(crate::cap::delete::cte_delete(k.slot(ep)), Ok(()));
    for (t, r) in [(x, rx), (y, ry)] {
        assert_eq!(t.get().state(), ThreadState::Restart);
        assert!(t.get().in_ready_queue());
        assert_eq!((r.tcb(), t.get().reply_object()), (0, None));
    }
}

#[test]
fn invoking_a_reply_object_with_no_caller_does_nothing() {
    let k = boot();
    let r = k.make(T::Reply, 0, 1)[0];
    assert_eq!(k.call(r, 3, &[1], &[]), ok(), "an empty reply to a Call");
    let [t] = k.threads(10, 1)[..] else { panic!() };
    syscall(t, SYS_SEND, r, 3, &[1], &[]);
    assert_eq!(t.get().state(), ThreadState::Running);
}

#[test]
fn a_fault_handler_replies_through_its_reply_object() {
    let k = boot();
    let [t] = k.threads(10, 1)[..] else { panic!() };
    let h = with_handler(&k, t);
    let r = reply_of(h);
    t.get().set_pc(0x4000);
    handle_fault(
        t,
        Fault::VmFault {
            addr: 0x4000,
            fsr: 1,
            instruction: true,
        },
    );
    assert_eq!(
        (t.get().state(), r.tcb()),
        (ThreadState::BlockedOnReply, t.paddr().0)
    );
    reply(h, 0, &[]);
    assert_eq!(t.get().state(), ThreadState::Restart);
    assert_eq!((t.get().fault(), r.tcb()), (None, 0));
}

#[test]
fn the_first_phase_does_not_invoke_thread_cnode_or_sched_caps() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [srv, victim] = k.threads(10, 2)[..] else {
        panic!()
    };
    let victim_cap = (0..1 << k.radix)
        .find(|&i| matches!(k.cap(i), Cap::Thread { tcb } if tcb == victim.paddr()))
        .expect("its cap");
    // NBSendRecv to a TCB cap (TCB_Suspend): not performed, and the
    // receive phase happens.
    srv.get()
        .set_reg(crate::arch::NB_SEND_RECV_DEST, victim_cap);
    syscall(srv, SYS_NB_SEND_RECV, ep, l::TCB_SUSPEND, &[], &[]);
    assert_eq!(victim.get().state(), ThreadState::Running, "not suspended");
    assert_eq!(srv.get().state(), ThreadState::BlockedOnReceive);
    // The same cap invoked by Send is performed.
    let [t] = k.threads(10, 1)[..] else { panic!() };
    syscall(t, SYS_SEND, victim_cap, l::TCB_SUSPEND, &[], &[]);
    assert_eq!(victim.get().state(), ThreadState::Inactive);
    // A notification may be signalled in the first phase (NBSendWait:
    // the destination in a6, then a Wait without a reply object).
    let n = object(&k, T::Notification);
    let ep2 = object(&k, T::Endpoint);
    let [u] = k.threads(10, 1)[..] else { panic!() };
    u.get().set_reg(crate::arch::REPLY_REGISTER, n);
    syscall(u, SYS_NB_SEND_WAIT, ep2, 0, &[], &[]);
    let Cap::Notification { ptr, .. } = k.cap(n) else {
        panic!()
    };
    let nt = crate::object::notification::NotificationRef::new(ptr);
    assert_eq!(
        nt.get().queue.state(),
        crate::object::notification::NotificationState::Active
    );
    assert_eq!(u.get().state(), ThreadState::BlockedOnReceive);
    assert_eq!(u.get().reply_object(), None, "Wait: no reply object");
    // A CNode cap is not invoked either (a Revoke would be).
    let [w] = k.threads(10, 1)[..] else { panic!() };
    w.get()
        .set_reg(crate::arch::NB_SEND_RECV_DEST, cairn_abi::cap::init::CNODE);
    syscall(w, SYS_NB_SEND_RECV, ep2, l::CNODE_DELETE, &[n, 64], &[]);
    assert!(matches!(k.cap(n), Cap::Notification { .. }), "not deleted");
}

#[test]
fn nb_send_recv_to_a_passive_receiver_lends_without_a_reply() {
    let k = boot();
    let (ep, ep2) = (object(&k, T::Endpoint), object(&k, T::Endpoint));
    let [s] = k.threads(10, 1)[..] else { panic!() };
    let [p] = k.passive_threads(20, 1)[..] else {
        panic!()
    };
    let sc = sc_of(s);
    syscall(p, SYS_RECV, ep, 0, &[], &[]);
    s.get().set_reg(crate::arch::NB_SEND_RECV_DEST, ep);
    syscall(s, SYS_NB_SEND_RECV, ep2, 4, &[5], &[]);
    assert_eq!(p.get().sched_context(), Some(sc));
    assert_eq!(s.get().sched_context(), None);
    assert_eq!(received(p, 1).2, vec![5]);
    assert_eq!(s.get().state(), ThreadState::BlockedOnReceive);
    assert_eq!(sc_obj::reply(sc), None, "no call stack");
    // A plain Send does not lend.
    let [q] = k.passive_threads(20, 1)[..] else {
        panic!()
    };
    let [s2] = k.threads(10, 1)[..] else { panic!() };
    syscall(q, SYS_RECV, ep, 0, &[], &[]);
    syscall(s2, SYS_SEND, ep, 0, &[], &[]);
    assert_eq!(q.get().sched_context(), None);
    assert_eq!(q.get().state(), ThreadState::Running);
    assert!(
        !q.get().in_ready_queue(),
        "passive: waits for a SchedContext"
    );
}

#[test]
fn a_notification_lends_its_sched_context_to_a_passive_waiter() {
    let k = boot();
    let n = object(&k, T::Notification);
    let ntfn = ep_at(&k, n);
    // A SchedContext bound to the notification only.
    let [donor] = k.threads(10, 1)[..] else {
        panic!()
    };
    let sc = sc_of(donor);
    crate::sched::mcs::unbind_tcb(sc);
    sc_obj::bind_notification(sc, ntfn);
    let [w] = k.passive_threads(20, 1)[..] else {
        panic!()
    };
    syscall(w, SYS_WAIT, n, 0, &[], &[]);
    assert_eq!(w.get().state(), ThreadState::BlockedOnNotification);
    let [s] = k.threads(10, 1)[..] else { panic!() };
    syscall(s, SYS_SEND, n, 0, &[], &[]);
    assert_eq!(w.get().sched_context(), Some(sc), "lent on the signal");
    assert_eq!(w.get().state(), ThreadState::Running);
    assert!(w.get().in_ready_queue() || action() == Action::SwitchTo(w));
    // Waiting again gives it back.
    syscall(w, SYS_WAIT, n, 0, &[], &[]);
    assert_eq!((w.get().sched_context(), sc_obj::tcb_of(sc)), (None, None));
    // A signal already pending lends it at once (a Poll that finds it).
    syscall(s, SYS_SEND, n, 0, &[], &[]);
    assert_eq!(w.get().sched_context(), Some(sc), "w waited: lent again");
    syscall(w, SYS_NB_WAIT, n, 0, &[], &[]);
    assert_eq!(w.get().sched_context(), Some(sc), "a Poll keeps it");
    crate::ipc::suspend(w);
    crate::sched::mcs::unbind_tcb(sc);
    syscall(s, SYS_SEND, n, 0, &[], &[]);
    let [v, u] = k.passive_threads(20, 2)[..] else {
        panic!()
    };
    syscall(v, SYS_NB_WAIT, n, 0, &[], &[]);
    assert_eq!(v.get().sched_context(), Some(sc));
    // Not lent while another thread has it: a woken waiter stays passive.
    syscall(u, SYS_WAIT, n, 0, &[], &[]);
    syscall(s, SYS_SEND, n, 0, &[], &[]);
    assert_eq!(
        (u.get().state(), u.get().sched_context()),
        (ThreadState::Running, None)
    );
    assert!(!u.get().in_ready_queue());
    check_links(&[w, v, u, s], &[], &[sc]);
    // Deleting the notification's last cap unbinds the SchedContext.
    assert_eq!(crate::cap::delete::cte_delete(k.slot(n)), Ok(()));
    assert_eq!(sc_obj::notification_at(sc), None);
}

#[test]
fn a_bound_notification_wakes_a_passive_server_in_recv_on_its_sched_context() {
    let k = boot();
    let (ep, n) = (object(&k, T::Endpoint), object(&k, T::Notification));
    let ntfn = ep_at(&k, n);
    let [donor, s] = k.threads(10, 2)[..] else {
        panic!()
    };
    let sc = sc_of(donor);
    crate::sched::mcs::unbind_tcb(sc);
    sc_obj::bind_notification(sc, ntfn);
    let [srv] = k.passive_threads(20, 1)[..] else {
        panic!()
    };
    crate::ipc::notification::bind_notification(srv, ntfn);
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    let r = reply_of(srv);
    syscall(s, SYS_SEND, n, 0, &[], &[]);
    assert_eq!(srv.get().sched_context(), Some(sc));
    assert_eq!(srv.get().state(), ThreadState::Running);
    assert_eq!(
        (r.tcb(), srv.get().reply_object()),
        (0, None),
        "receive cancelled"
    );
    // Receiving again (nothing pending) returns it.
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    assert_eq!(srv.get().sched_context(), None);
    assert_eq!(srv.get().state(), ThreadState::BlockedOnReceive);
    check_links(&[srv, s], &[r], &[sc]);
}
