//! Faults: delivery to the fault handler as a Call, the message of each
//! fault type, the handler's reply restarting (or stopping) the thread,
//! and a thread without a valid handler stopping.

use super::*;
use crate::ipc::fault::handle_fault;
use crate::object::tcb::ThreadState;
use crate::testutil::boot;
use crate::types::Fault;
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::*;

/// A faulting thread `t` with a fault endpoint (badge 0x55) and a handler
/// thread waiting on it.
fn setup(k: &TestKernel) -> (TcbRef, TcbRef) {
    let (t, h, _) = setup_with_ep(k);
    (t, h)
}

/// [`setup`], and the root slot of the endpoint the handler waits on.
fn setup_with_ep(k: &TestKernel) -> (TcbRef, TcbRef, u64) {
    let ep = object(k, T::Endpoint);
    let fep = mint(k, ep, 0xF, 0x55);
    let [t, h] = k.threads(10, 2)[..] else {
        panic!()
    };
    own_buffer(k, h);
    set_fault_handler(k, t, fep);
    syscall(h, SYS_RECV, ep, 0, &[], &[]);
    (t, h, ep)
}

#[test]
fn unknown_syscall_is_delivered_and_a_reply_skips_it() {
    let k = boot();
    let (t, h) = setup(&k);
    let tcb = t.get();
    tcb.set_pc(0x1_0000);
    // seL4_UserContext words: ra 1, sp 2, a0..a6 16..23.
    for i in 0..7 {
        tcb.set_user_register(16 + i, 100 + i as u64);
    }
    tcb.set_user_register(2, 0x8000);
    tcb.set_user_register(1, 0x1234);
    kernel().set_current(Some(t));
    handle_fault(t, Fault::UnknownSyscall { number: 5 });
    assert_eq!(tcb.state(), ThreadState::BlockedOnReply);
    let (badge, info, mrs) = received(h, 11);
    assert_eq!((badge, info.label(), info.length()), (0x55, 2, 11));
    assert_eq!(
        mrs,
        vec![0x1_0000, 0x8000, 0x1234, 100, 101, 102, 103, 104, 105, 106, 5]
    );
    // Reply with label 0 and the pc moved past the ecall.
    let mut answer = mrs.clone();
    answer[0] += 4;
    answer[3] = 0xAA;
    reply(h, 0, &answer[..10]);
    assert_eq!(tcb.state(), ThreadState::Restart);
    assert_eq!((tcb.fault_ip(), tcb.user_register(16)), (0x1_0004, 0xAA));
    assert!(t.get().fault().is_none(), "fault cleared");
}

#[test]
fn a_reply_with_a_non_zero_label_stops_the_thread() {
    let k = boot();
    let (t, h) = setup(&k);
    handle_fault(t, Fault::UserException { number: 2, code: 0 });
    let (_, info, mrs) = received(h, 4);
    assert_eq!((info.label(), info.length()), (3, 4));
    assert_eq!(&mrs[2..], &[2, 0]);
    reply(h, 1, &[]);
    assert_eq!(t.get().state(), ThreadState::Inactive);
}

#[test]
fn vm_and_cap_faults_restart_whatever_the_reply() {
    let k = boot();
    let (t, h, ep) = setup_with_ep(&k);
    t.get().set_pc(0x4000);
    handle_fault(
        t,
        Fault::VmFault {
            addr: 0x4000,
            fsr: 1,
            instruction: true,
        },
    );
    let (_, info, mrs) = received(h, 4);
    assert_eq!(
        (info.label(), mrs),
        (cairn_abi::fault::VM_FAULT, vec![0x4000, 0x4000, 1, 1])
    );
    reply(h, 9, &[]);
    assert_eq!(t.get().state(), ThreadState::Restart);
    // A cap fault carries the lookup failure.
    syscall(h, SYS_RECV, ep, 0, &[], &[]);
    let lookup = crate::cap::LookupFault::GuardMismatch {
        bits_left: 64,
        guard_found: 0,
        bits_found: 52,
    };
    handle_fault(
        t,
        Fault::Cap {
            addr: 1 << 40,
            in_recv_phase: true,
            lookup,
        },
    );
    let (_, info, mrs) = received(h, 7);
    assert_eq!(info.label(), 1);
    assert_eq!(mrs, vec![0x4000, 1 << 40, 1, 4, 64, 0, 52]);
}

#[test]
fn no_valid_handler_stops_the_thread() {
    let k = boot();
    let ep = object(&k, T::Endpoint);
    let no_grant = mint(&k, ep, 0x3, 0);
    let [t] = k.threads(10, 1)[..] else { panic!() };
    for handler in [0, k.first_empty, no_grant, 1 << 50] {
        t.get().set_state(ThreadState::Running);
        t.get().set_fault_handler(handler);
        handle_fault(t, Fault::UnknownSyscall { number: 9 });
        assert_eq!(
            t.get().state(),
            ThreadState::Inactive,
            "handler {handler:#x}"
        );
    }
}

#[test]
fn an_unknown_syscall_number_faults_the_caller() {
    let k = boot();
    let (t, h) = setup(&k);
    syscall(t, 77, 0, 0, &[], &[]);
    assert_eq!(t.get().state(), ThreadState::BlockedOnReply);
    assert_eq!(received(h, 11).2[10], 77);
}
