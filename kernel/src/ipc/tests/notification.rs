//! Notifications: Signal, Wait and Poll in both orders, badge OR-ing,
//! binding to a TCB (an endpoint Recv also takes signals), and
//! cancellation.

use super::*;
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::tcb::ThreadState;
use crate::testutil::boot;
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;

fn ntfn(k: &TestKernel, s: u64) -> &'static crate::object::notification::Notification {
    let Cap::Notification { ptr, .. } = k.cap(s) else {
        panic!("not a notification")
    };
    NotificationRef::new(ptr).get()
}

#[test]
fn signals_accumulate_until_a_wait() {
    let k = boot();
    let n = object(&k, T::Notification);
    let b1 = mint(&k, n, 0xF, 0b001);
    let b2 = mint(&k, n, 0xF, 0b100);
    let [t] = k.threads(10, 1)[..] else { panic!() };
    syscall(t, SYS_SEND, b1, 0, &[], &[]);
    syscall(t, SYS_NB_SEND, b2, 0, &[], &[]);
    assert_eq!(ntfn(&k, n).queue.state(), NotificationState::Active);
    syscall(t, SYS_RECV, n, 0, &[], &[]);
    assert_eq!(t.get().state(), ThreadState::Running, "no wait");
    assert_eq!(t.get().reg(BADGE_REGISTER), 0b101);
    assert_eq!(ntfn(&k, n).queue.state(), NotificationState::Idle);
    // Poll with nothing pending: badge 0, no wait.
    syscall(t, SYS_NB_RECV, n, 0, &[], &[]);
    assert_eq!(
        (t.get().state(), t.get().reg(BADGE_REGISTER)),
        (ThreadState::Running, 0)
    );
}

#[test]
fn a_signal_wakes_the_first_waiter() {
    let k = boot();
    let n = object(&k, T::Notification);
    let b = mint(&k, n, 0xF, 9);
    let [w1, w2, s] = k.threads(10, 3)[..] else {
        panic!()
    };
    syscall(w1, SYS_RECV, n, 0, &[], &[]);
    syscall(w2, SYS_RECV, n, 0, &[], &[]);
    assert_eq!(ntfn(&k, n).queue.state(), NotificationState::Waiting);
    syscall(s, SYS_SEND, b, 0, &[], &[]);
    assert_eq!(
        (w1.get().state(), w1.get().reg(BADGE_REGISTER)),
        (ThreadState::Running, 9)
    );
    assert_eq!(w2.get().state(), ThreadState::BlockedOnNotification);
    // Deleting the notification restarts the other waiter.
    assert_eq!(crate::cap::delete::cte_delete(k.slot(b)), Ok(()));
    assert_eq!(crate::cap::delete::cte_delete(k.slot(n)), Ok(()));
    assert_eq!(w2.get().state(), ThreadState::Restart);
}

#[test]
fn a_bound_thread_in_an_endpoint_recv_takes_the_signal() {
    let k = boot();
    let n = object(&k, T::Notification);
    let ep = object(&k, T::Endpoint);
    let b = mint(&k, n, 0xF, 0x40);
    let [t, s] = k.threads(10, 2)[..] else {
        panic!()
    };
    let Cap::Notification { ptr, .. } = k.cap(n) else {
        panic!()
    };
    crate::ipc::notification::bind_notification(t, ptr);
    // Pending before the Recv: the Recv returns at once.
    syscall(s, SYS_SEND, b, 0, &[], &[]);
    syscall(t, SYS_RECV, ep, 0, &[], &[]);
    assert_eq!(
        (t.get().state(), t.get().reg(BADGE_REGISTER)),
        (ThreadState::Running, 0x40)
    );
    // Arriving during the Recv: the thread leaves the endpoint queue.
    syscall(t, SYS_RECV, ep, 0, &[], &[]);
    assert_eq!(t.get().state(), ThreadState::BlockedOnReceive);
    syscall(s, SYS_SEND, b, 0, &[], &[]);
    assert_eq!(
        (t.get().state(), t.get().reg(BADGE_REGISTER)),
        (ThreadState::Running, 0x40)
    );
    let Cap::Endpoint { ptr: e, .. } = k.cap(ep) else {
        panic!()
    };
    assert_eq!(
        crate::object::endpoint::EndpointRef::new(e)
            .get()
            .queue
            .tcbs()
            .head,
        0
    );
    // Another thread may not wait on the bound notification.
    syscall(s, SYS_RECV, n, 0, &[], &[]);
    assert_eq!(
        s.get().state(),
        ThreadState::Inactive,
        "cap fault, no handler"
    );
    // Deleting the notification unbinds it.
    assert_eq!(crate::cap::delete::cte_delete(k.slot(b)), Ok(()));
    assert_eq!(crate::cap::delete::cte_delete(k.slot(n)), Ok(()));
    assert_eq!(t.get().bound_notification(), 0);
}

#[test]
fn a_bound_thread_waiting_for_a_reply_is_not_woken() {
    let k = boot();
    let n = object(&k, T::Notification);
    let ep = object(&k, T::Endpoint);
    let [t, srv, s] = k.threads(10, 3)[..] else {
        panic!()
    };
    let Cap::Notification { ptr, .. } = k.cap(n) else {
        panic!()
    };
    crate::ipc::notification::bind_notification(t, ptr);
    syscall(srv, SYS_RECV, ep, 0, &[], &[]);
    syscall(t, SYS_CALL, ep, 0, &[], &[]);
    assert_eq!(t.get().state(), ThreadState::BlockedOnReply);
    syscall(s, SYS_SEND, n, 0, &[], &[]);
    assert_eq!(t.get().state(), ThreadState::BlockedOnReply);
    assert_eq!(
        ntfn(&k, n).queue.state(),
        NotificationState::Active,
        "kept pending"
    );
}

#[test]
fn signalling_needs_write_and_a_call_gets_an_empty_reply() {
    let k = boot();
    let n = object(&k, T::Notification);
    let ro = mint(&k, n, 0x2, 0);
    let [t] = k.threads(10, 1)[..] else { panic!() };
    own_buffer(&k, t);
    syscall(t, SYS_CALL, ro, 0, &[], &[]);
    assert_eq!(received(t, 1).1.label(), 2, "InvalidCapability");
    syscall(t, SYS_CALL, n, 0, &[], &[]);
    let (_, info, _) = received(t, 0);
    assert_eq!((info.label(), info.length()), (0, 0));
    assert_eq!(ntfn(&k, n).queue.state(), NotificationState::Active);
}
