//! Faults on `tests_ipc::world()`: T2's fault handler is the endpoint
//! copy badged 7 (root slot 3); the root thread handles its faults.

use crate::error::LookupFault;
use crate::fault::Fault;
use crate::invoke::Syscall;
use crate::state::{SlotId, State, TCB_CALLER};
use crate::tests::TCB;
use crate::tests_ipc::{sys, thread, world, EP, T2};
use crate::thread::{ThreadState, PC, RA, SP};

/// `world()` with T2's fault handler set to root slot 3 (badge 7).
fn handled() -> State {
    let mut s = world();
    s.thread_mut(T2).expect("T2").fault_handler = 3;
    s
}

#[test]
fn a_cap_fault_reaches_the_handler_whose_reply_restarts_the_thread() {
    let mut s = handled();
    s.thread_mut(T2).expect("T2").context[PC] = 0x1234;
    // Recv on the empty slot 12: a cap fault in the receive phase.
    sys(&mut s, T2, Syscall::Recv, 12, 0, &[]);
    let fault = Fault::Cap {
        addr: 12,
        in_recv_phase: true,
        lookup: LookupFault::MissingCapability { bits_left: 0 },
    };
    let t2 = thread(&s, T2);
    assert_eq!(t2.fault, Some(fault));
    assert!(matches!(
        t2.state,
        ThreadState::BlockedOnSend {
            ep: EP,
            badge: 7,
            call: true,
            ..
        }
    ));
    sys(&mut s, TCB, Syscall::Recv, 2, 0, &[]);
    let h = thread(&s, TCB);
    assert_eq!((h.badge, h.info.label, h.info.length), (7, 1, 5));
    assert_eq!((h.mrs, h.mr(4)), ([0x1234, 12, 1, 2], 0));
    assert_eq!(thread(&s, T2).state, ThreadState::BlockedOnReply);
    let caller = SlotId {
        obj: TCB,
        index: TCB_CALLER,
    };
    assert!(s.cap(caller).is_some(), "the handler holds a reply cap");
    // Any label restarts a thread after a cap fault; the words are ignored.
    sys(&mut s, TCB, Syscall::Reply, 0, 9, &[1, 2]);
    let t2 = thread(&s, T2);
    assert_eq!((t2.state, t2.fault), (ThreadState::Restart, None));
    assert_eq!(t2.reg(PC), 0x1234);
    assert_eq!(s.cap(caller), None, "the reply cap is used up");
}

#[test]
fn an_unknown_syscall_reply_writes_registers_back_or_stops_the_thread() {
    let mut s = handled();
    s.thread_mut(T2).expect("T2").context[SP] = 0x8000;
    sys(&mut s, T2, Syscall::Unknown(77), 5, 0, &[10, 11]);
    sys(&mut s, TCB, Syscall::Recv, 2, 0, &[]);
    let h = thread(&s, TCB);
    assert_eq!((h.info.label, h.info.length), (2, 11));
    // pc, sp, ra, a0 (the cap register), a1 (the tag), a2.. (MR0..).
    assert_eq!(
        (h.mrs[1], h.mr(3), h.mr(5), h.mr(6), h.mr(10)),
        (0x8000, 5, 10, 11, 77)
    );
    // Label 0: pc, sp, ra and a0 written back; the thread restarts.
    sys(&mut s, TCB, Syscall::Reply, 0, 0, &[0x104, 0x9000, 0x42, 3]);
    let t2 = thread(&s, T2);
    assert_eq!(t2.state, ThreadState::Restart);
    assert_eq!(
        (t2.reg(PC), t2.reg(SP), t2.reg(RA), t2.badge),
        (0x104, 0x9000, 0x42, 3)
    );
    // Again, answered with label 1: the thread stops.
    sys(&mut s, T2, Syscall::Unknown(-100), 5, 0, &[]);
    sys(&mut s, TCB, Syscall::Recv, 2, 0, &[]);
    sys(&mut s, TCB, Syscall::Reply, 0, 1, &[]);
    let t2 = thread(&s, T2);
    assert_eq!((t2.state, t2.fault), (ThreadState::Inactive, None));
}

#[test]
fn without_a_valid_handler_the_thread_stops() {
    // The handler cptr names an empty slot, then a notification.
    for handler in [12, 4] {
        let mut s = world();
        s.thread_mut(T2).expect("T2").fault_handler = handler;
        s.exception(T2, 3, 0).expect("specified");
        let t2 = thread(&s, T2);
        assert_eq!((t2.state, t2.fault), (ThreadState::Inactive, None));
    }
    // A VM fault to a valid handler carries the address and the cause.
    let mut s = handled();
    s.exception(T2, 13, 0xdead).expect("specified");
    sys(&mut s, TCB, Syscall::Recv, 2, 0, &[]);
    let h = thread(&s, TCB);
    assert_eq!(
        (h.info.label, h.info.length, h.mrs),
        (5, 4, [0, 0xdead, 0, 5])
    );
}
