//! Endpoint IPC: rendezvous in both orders, Call and Reply, non-blocking
//! variants, message truncation, capability transfer and unwrapping,
//! cancellation.

use super::*;
use crate::cap::Cap;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::tcb::ThreadState;
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::TCB_CALLER;
use crate::sched::{action, Action};
use crate::testutil::boot;
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;

fn ep_state(k: &TestKernel, s: u64) -> EndpointState {
    let Cap::Endpoint { ptr, .. } = k.cap(s) else {
        panic!("not an endpoint")
    };
    EndpointRef::new(ptr).get().queue.state()
}

#[test]
fn send_blocks_until_a_receiver_comes() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let b = mint(&k, ep, 0xF, 0x77);
    let [s, r] = k.threads(10, 2)[..] else {
        panic!()
    };
    own_buffer(&k, s);
    own_buffer(&k, r);
    let mrs: Vec<u64> = (1..=6).collect();
    syscall(s, SYS_SEND, b, 9, &mrs, &[]);
    assert_eq!(s.get().state(), ThreadState::BlockedOnSend);
    assert_eq!(ep_state(&k, ep), EndpointState::Send);
    syscall(r, SYS_RECV, ep, 0, &[], &[]);
    let (badge, info, got) = received(r, 6);
    assert_eq!(badge, 0x77);
    assert_eq!((info.label(), info.length()), (9, 6));
    assert_eq!(got, mrs);
    assert_eq!(s.get().state(), ThreadState::Running, "the sender goes on");
    assert_eq!(r.get().state(), ThreadState::Running);
    assert_eq!(ep_state(&k, ep), EndpointState::Idle);
}

#[test]
fn a_waiting_receiver_gets_the_message_at_once_and_may_preempt() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [r] = k.threads(255, 1)[..] else { panic!() };
    let [s] = k.threads(1, 1)[..] else { panic!() };
    syscall(r, SYS_RECV, ep, 0, &[], &[]);
    assert_eq!(r.get().state(), ThreadState::BlockedOnReceive);
    assert_eq!(ep_state(&k, ep), EndpointState::Recv);
    syscall(s, SYS_SEND, ep, 3, &[42], &[]);
    assert_eq!(r.get().state(), ThreadState::Running);
    assert_eq!(received(r, 1).2, vec![42]);
    assert_eq!(
        action(),
        Action::SwitchTo(r),
        "the receiver is the candidate"
    );
    assert_eq!(
        crate::sched::schedule(),
        Some(r),
        "and it preempts the sender"
    );
}

#[test]
fn call_and_reply_through_the_reply_cap() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [c, srv] = k.threads(10, 2)[..] else {
        panic!()
    };
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    syscall(c, SYS_CALL, ep, 5, &[1, 2], &[]);
    assert_eq!(c.get().state(), ThreadState::BlockedOnReply);
    #[cfg(not(feature = "mcs"))]
    {
        let caller = Tcb::slot(srv, TCB_CALLER).get().cap();
        assert!(matches!(caller, Cap::Reply { tcb, master: false, .. } if tcb == c.paddr()));
    }
    // MCS: the caller and the server's reply object are linked.
    #[cfg(feature = "mcs")]
    let r = super::mcs::reply_of(srv);
    #[cfg(feature = "mcs")]
    assert_eq!((r.tcb(), c.get().reply_object()), (c.paddr().0, Some(r)));
    reply(srv, 6, &[3]);
    assert_eq!(c.get().state(), ThreadState::Running);
    let (badge, info, got) = received(c, 1);
    assert_eq!((badge, info.label(), got), (0, 6, vec![3]));
    #[cfg(not(feature = "mcs"))]
    assert!(Tcb::slot(srv, TCB_CALLER).get().cap().is_null(), "one-shot");
    #[cfg(feature = "mcs")]
    assert_eq!((r.tcb(), c.get().reply_object()), (0, None), "one-shot");
    // A second Reply has nothing to reply to.
    reply(srv, 7, &[]);
    assert_eq!(received(c, 1).1.label(), 6);
}

#[test]
fn reply_recv_replies_then_waits() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [c1, c2, srv] = k.threads(10, 3)[..] else {
        panic!()
    };
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    syscall(c1, SYS_CALL, ep, 1, &[], &[]);
    syscall(c2, SYS_CALL, ep, 2, &[], &[]);
    assert_eq!(c2.get().state(), ThreadState::BlockedOnSend);
    syscall(srv, SYS_REPLY_RECV, ep, 0, &[11], &[]);
    assert_eq!(c1.get().state(), ThreadState::Running);
    assert_eq!(received(c1, 1).2, vec![11]);
    assert_eq!(received(srv, 0).1.label(), 2, "then c2's call arrives");
    assert_eq!(c2.get().state(), ThreadState::BlockedOnReply);
}

#[test]
fn call_without_grant_rights_leaves_the_caller_stopped() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let plain = mint(&k, ep, 0x3, 0); // Read + Write only
    let [c, srv] = k.threads(10, 2)[..] else {
        panic!()
    };
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    syscall(c, SYS_CALL, plain, 0, &[], &[]);
    assert_eq!(c.get().state(), ThreadState::Inactive);
    #[cfg(not(feature = "mcs"))]
    assert!(Tcb::slot(srv, TCB_CALLER).get().cap().is_null());
    #[cfg(feature = "mcs")]
    assert_eq!(super::mcs::reply_of(srv).tcb(), 0, "nothing linked");
}

#[test]
fn non_blocking_calls_do_not_wait() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [t] = k.threads(10, 1)[..] else { panic!() };
    syscall(t, SYS_NB_SEND, ep, 0, &[1], &[]);
    assert_eq!(t.get().state(), ThreadState::Running);
    assert_eq!(
        ep_state(&k, ep),
        EndpointState::Idle,
        "the message is dropped"
    );
    syscall(t, SYS_NB_RECV, ep, 0, &[], &[]);
    assert_eq!(t.get().state(), ThreadState::Running);
    assert_eq!(t.get().reg(BADGE_REGISTER), 0, "badge 0: nothing received");
}

#[test]
fn without_ipc_buffers_only_four_mrs_arrive() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [s, r] = k.threads(10, 2)[..] else {
        panic!()
    };
    own_buffer(&k, s);
    no_buffer(r);
    syscall(r, SYS_RECV, ep, 0, &[], &[]);
    syscall(s, SYS_SEND, ep, 0, &[1, 2, 3, 4, 5, 6], &[]);
    let (_, info, got) = received(r, 4);
    assert_eq!(info.length(), 4);
    assert_eq!(got, vec![1, 2, 3, 4]);
}

#[test]
fn a_granted_cap_lands_in_the_receive_slot() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let gift = object(&k, T::Notification);
    let [s, r] = k.threads(10, 2)[..] else {
        panic!()
    };
    own_buffer(&k, s);
    own_buffer(&k, r);
    let dest = k.first_empty;
    receive_into(r, dest);
    syscall(r, SYS_RECV, ep, 0, &[], &[]);
    syscall(s, SYS_SEND, ep, 0, &[], &[gift]);
    let (_, info, _) = received(r, 0);
    assert_eq!((info.extra_caps(), info.caps_unwrapped()), (1, 0));
    assert_eq!(k.cap(dest), k.cap(gift), "a copy of the cap");
    // Derived from the sender's cap: right after it in the derivation list.
    assert_eq!(k.slot(gift).get().next(), Some(k.slot(dest)));
}

#[test]
fn no_grant_no_cap_and_an_occupied_receive_slot_takes_none() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let no_grant = mint(&k, ep, 0x3, 0);
    let gift = object(&k, T::Notification);
    let [s, r] = k.threads(10, 2)[..] else {
        panic!()
    };
    own_buffer(&k, s);
    own_buffer(&k, r);
    let dest = k.first_empty;
    receive_into(r, dest);
    syscall(r, SYS_RECV, ep, 0, &[], &[]);
    syscall(s, SYS_SEND, no_grant, 0, &[], &[gift]);
    assert_eq!(received(r, 0).1.extra_caps(), 0);
    assert!(is_null(&k, dest));
    // With Grant but the receive slot full: the cap stays behind.
    receive_into(r, gift);
    syscall(r, SYS_RECV, ep, 0, &[], &[]);
    syscall(s, SYS_SEND, ep, 0, &[], &[gift]);
    assert_eq!(received(r, 0).1.extra_caps(), 0);
}

#[test]
fn caps_to_the_same_endpoint_are_unwrapped_to_badges() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let b1 = mint(&k, ep, 0xF, 0x11);
    let b2 = mint(&k, ep, 0xF, 0x22);
    let other = object(&k, T::Notification);
    let [s, r] = k.threads(10, 2)[..] else {
        panic!()
    };
    own_buffer(&k, s);
    own_buffer(&k, r);
    let dest = k.first_empty;
    receive_into(r, dest);
    syscall(r, SYS_RECV, ep, 0, &[], &[]);
    syscall(s, SYS_SEND, ep, 0, &[], &[b1, other, b2]);
    let (_, info, _) = received(r, 0);
    assert_eq!(info.extra_caps(), 3);
    assert_eq!(info.caps_unwrapped(), 0b101);
    assert_eq!((caps_or_badges(r, 0), caps_or_badges(r, 2)), (0x11, 0x22));
    assert_eq!(k.cap(dest), k.cap(other), "the other cap is transferred");
}

#[test]
fn deleting_the_endpoint_restarts_its_queue_and_suspend_leaves_it() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let [a, b, c] = k.threads(10, 3)[..] else {
        panic!()
    };
    for t in [a, b, c] {
        syscall(t, SYS_SEND, ep, 0, &[], &[]);
        assert_eq!(t.get().state(), ThreadState::BlockedOnSend);
    }
    crate::ipc::suspend(b);
    assert_eq!(b.get().state(), ThreadState::Inactive);
    let Cap::Endpoint { ptr, .. } = k.cap(ep) else {
        panic!()
    };
    let q = EndpointRef::new(ptr).get();
    assert_eq!(
        (q.queue.tcbs().head, q.queue.tcbs().tail),
        (a.paddr().0, c.paddr().0)
    );
    assert_eq!(a.get().ep_next(), c.paddr().0, "b is unlinked");
    assert_eq!(crate::cap::delete::cte_delete(k.slot(ep)), Ok(()));
    for t in [a, c] {
        assert_eq!(t.get().state(), ThreadState::Restart);
        assert!(t.get().in_ready_queue());
    }
    assert_eq!(b.get().state(), ThreadState::Inactive);
}

#[test]
fn cancel_badged_sends_restarts_only_that_badge() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let b1 = mint(&k, ep, 0xF, 1);
    let b2 = mint(&k, ep, 0xF, 2);
    let [x, y, z] = k.threads(10, 3)[..] else {
        panic!()
    };
    syscall(x, SYS_SEND, b1, 0, &[], &[]);
    syscall(y, SYS_SEND, b2, 0, &[], &[]);
    syscall(z, SYS_SEND, b1, 0, &[], &[]);
    let r = k.call(
        cairn_abi::cap::init::CNODE,
        cairn_abi::invocation::label::CNODE_CANCEL_BADGED_SENDS,
        &[b1, 64],
        &[],
    );
    assert_eq!(r, crate::testutil::ok());
    assert_eq!(x.get().state(), ThreadState::Restart);
    assert_eq!(z.get().state(), ThreadState::Restart);
    assert_eq!(y.get().state(), ThreadState::BlockedOnSend);
    assert_eq!(ep_state(&k, ep), EndpointState::Send);
}

#[test]
fn recv_needs_a_readable_endpoint_or_it_faults() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let write_only = mint(&k, ep, 0x1, 0);
    let [t] = k.threads(10, 1)[..] else { panic!() };
    syscall(t, SYS_RECV, write_only, 0, &[], &[]);
    // No fault handler: the thread stops.
    assert_eq!(t.get().state(), ThreadState::Inactive);
    // Sending needs Write: InvalidCapability(0) to a Call.
    let read_only = mint(&k, ep, 0x2, 0);
    let [u] = k.threads(10, 1)[..] else { panic!() };
    own_buffer(&k, u);
    syscall(u, SYS_CALL, read_only, 0, &[], &[]);
    let (_, info, mrs) = received(u, 1);
    assert_eq!((info.label(), mrs), (2, vec![0]));
}
