//! Host tests of the TCB invocations (ABI ref §7.3, §8, §10): registers,
//! Suspend/Resume, notification binding, SetTLSBase, SetFlags and the
//! label check, each with its errors' exact data. Configure, SetSpace,
//! SetIPCBuffer and the priority methods are in `tests_control.rs`.

use super::perform::TCB_FLAG_MASK;
use super::{TcbRef, ThreadState};
use crate::arch::{
    fpu_enabled, CAP_REGISTER, MSG_INFO_REGISTER, MSG_REGISTERS, STATUS_REGISTER, TLS_BASE_REGISTER,
};
use crate::cap::cte::insert_original;
use crate::cap::Cap;
use crate::ipc::endpoint::receive_ipc;
use crate::ipc::notification::receive_signal;
use crate::object::endpoint::EndpointRef;
use crate::object::notification::NotificationRef;
use crate::sched::{action, Action};
use crate::state::kernel;
use crate::testutil::{boot, err, ok, Outcome, TestKernel};
use crate::types::PAddr;
use cairn_abi::cap::{init, CapRights};
use cairn_abi::invocation::{label as l, TCB_FLAG_FPU_DISABLED};
use cairn_abi::object::ObjectType;

/// Error codes (ABI ref §8).
pub const INVALID_CAP: u64 = 2;
pub const ILLEGAL: u64 = 3;
pub const RANGE: u64 = 4;
pub const ALIGNMENT: u64 = 5;
pub const TRUNCATED: u64 = 7;
pub const REVOKE_FIRST: u64 = 9;

/// A fresh TCB: its root slot and the object.
pub fn new_tcb(k: &TestKernel) -> (u64, TcbRef) {
    let slot = k.make(ObjectType::Tcb, 0, 1)[0];
    let Cap::Thread { tcb } = k.cap(slot) else {
        panic!("no TCB in slot {slot}")
    };
    (slot, TcbRef::new(tcb))
}

/// Puts `cap` into the first empty root slot from `first_empty` on, as an
/// original cap (for caps no invocation makes, e.g. a second cap to a
/// thread made by `k.threads`); returns the slot.
pub fn put(k: &TestKernel, cap: Cap) -> u64 {
    let slot = free(k);
    insert_original(k.slot(slot), cap);
    slot
}

/// The first empty root slot from `first_empty` on.
pub fn free(k: &TestKernel) -> u64 {
    (k.first_empty..1 << k.radix)
        .find(|&i| k.cap(i).is_null())
        .expect("an empty slot")
}

/// A thread made by `k.threads` (Running, in no queue) and a root slot
/// holding a cap to it.
pub fn thread_with_cap(k: &TestKernel, prio: u64) -> (u64, TcbRef) {
    let t = k.threads(prio, 1)[0];
    (put(k, Cap::Thread { tcb: t.paddr() }), t)
}

/// A fresh object of `ty` and its physical address.
pub fn object(k: &TestKernel, ty: ObjectType) -> (u64, PAddr) {
    let slot = k.make(ty, 0, 1)[0];
    let pa = match k.cap(slot) {
        Cap::Endpoint { ptr, .. } | Cap::Notification { ptr, .. } => ptr,
        c => panic!("unexpected {c:?}"),
    };
    (slot, pa)
}

fn regs_words(t: TcbRef) -> Vec<u64> {
    (0..32).map(|i| t.get().user_register(i)).collect()
}

fn reply(mrs: Vec<u64>) -> Outcome {
    Outcome::Reply { label: 0, mrs }
}

/// Gives every register of `t` a distinct value: x`i` = 0x100 + i, FaultIP
/// 0x5000, NextIP 0x5004.
fn fill(t: TcbRef) {
    for x in 1..32 {
        t.get().set_reg(x, 0x100 + x as u64);
    }
    t.get().set_fault_ip(0x5000);
    t.get().set_next_ip(0x5004);
}

#[test]
fn read_registers_in_user_context_order() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    fill(t);
    let r = k.call(slot, l::TCB_READ_REGISTERS, &[0, 32], &[]);
    // pc (FaultIP), ra, sp, gp, s0, s1, s2..s11, a0..a7, t0..t2, t3..t6, tp.
    let mut want = vec![0x5000, 0x101, 0x102, 0x103, 0x108, 0x109];
    want.extend((18..28).map(|x| 0x100 + x));
    want.extend((10..18).map(|x| 0x100 + x));
    want.extend((5..8).map(|x| 0x100 + x));
    want.extend((28..32).map(|x| 0x100 + x));
    want.push(0x104);
    assert_eq!(r, reply(want.clone()));
    let r = k.call(slot, l::TCB_READ_REGISTERS, &[0, 5], &[]);
    assert_eq!(r, reply(want[..5].to_vec()), "the first five");
    assert_eq!(
        t.get().state(),
        ThreadState::Inactive,
        "not suspended: it was"
    );
}

#[test]
fn read_registers_errors() {
    let k = boot();
    let (slot, _) = new_tcb(&k);
    for n in [0, 33, u64::MAX] {
        let r = k.call(slot, l::TCB_READ_REGISTERS, &[0, n], &[]);
        assert_eq!(r, err(RANGE, &[1, 32]), "count {n}");
    }
    let r = k.call(slot, l::TCB_READ_REGISTERS, &[0], &[]);
    assert_eq!(r, err(TRUNCATED, &[]));
    let r = k.call(init::TCB, l::TCB_READ_REGISTERS, &[0, 32], &[]);
    assert_eq!(r, err(ILLEGAL, &[]), "own registers");
    // The range is checked before the target.
    let r = k.call(init::TCB, l::TCB_READ_REGISTERS, &[0, 0], &[]);
    assert_eq!(r, err(RANGE, &[1, 32]));
}

#[test]
fn read_registers_can_suspend_the_source() {
    let k = boot();
    let (slot, t) = thread_with_cap(&k, 10);
    fill(t);
    crate::sched::enqueue(t);
    let r = k.call(slot, l::TCB_READ_REGISTERS, &[1 | 0xff00, 1], &[]);
    // A Running thread's restart point moves to NextIP before it stops.
    assert_eq!(r, reply(vec![0x5004]));
    assert_eq!(t.get().state(), ThreadState::Inactive);
    assert!(!t.get().in_ready_queue(), "dequeued");
}

#[test]
fn read_registers_by_send_writes_no_reply() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    fill(t);
    let c = k.tcb.get();
    c.set_reg(CAP_REGISTER, slot);
    c.set_reg(
        MSG_INFO_REGISTER,
        cairn_abi::message::MessageInfo::new(l::TCB_READ_REGISTERS, 0, 0, 2).0,
    );
    c.set_reg(MSG_REGISTERS[0], 0);
    c.set_reg(MSG_REGISTERS[1], 32);
    crate::api::invoke::handle_invocation(k.tcb, false, true);
    assert_eq!(
        (c.reg(MSG_REGISTERS[0]), c.reg(MSG_REGISTERS[1])),
        (0, 32),
        "registers untouched"
    );
    assert_eq!(c.state(), ThreadState::Running);
}

#[test]
fn write_then_read_registers_round_trips() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let values: Vec<u64> = (0..32).map(|i| 0x7000 + i).collect();
    let mut mrs = vec![0, 32];
    mrs.extend(&values);
    assert_eq!(k.call(slot, l::TCB_WRITE_REGISTERS, &mrs, &[]), ok());
    assert_eq!(
        k.call(slot, l::TCB_READ_REGISTERS, &[0, 32], &[]),
        reply(values)
    );
    let tcb = t.get();
    assert_eq!(
        (tcb.fault_ip(), tcb.next_ip()),
        (0x7000, 0x7000),
        "pc = FaultIP = NextIP"
    );
    assert_eq!(tcb.reg(TLS_BASE_REGISTER), 0x7000 + 31);
    assert_eq!(tcb.state(), ThreadState::Inactive, "not resumed");
}

#[test]
fn write_registers_counts() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    fill(t);
    // Only `count` registers are written; NextIP follows FaultIP even for 0.
    let r = k.call(slot, l::TCB_WRITE_REGISTERS, &[0, 0, 1, 2, 3], &[]);
    assert_eq!(r, ok());
    assert_eq!((t.get().fault_ip(), t.get().next_ip()), (0x5000, 0x5000));
    let r = k.call(slot, l::TCB_WRITE_REGISTERS, &[0, 2, 0x10, 0x20, 0x30], &[]);
    assert_eq!(r, ok());
    assert_eq!(regs_words(t)[..3], [0x10, 0x20, 0x102], "pc and ra only");
    // A count above 32 that the message covers is clamped to 32.
    let mut mrs = vec![0, 40];
    mrs.extend((0..40).map(|i| 0x900 + i));
    assert_eq!(k.call(slot, l::TCB_WRITE_REGISTERS, &mrs, &[]), ok());
    assert_eq!(
        regs_words(t),
        (0..32).map(|i| 0x900 + i).collect::<Vec<_>>()
    );
}

#[test]
fn write_registers_errors() {
    let k = boot();
    let (slot, _) = new_tcb(&k);
    let r = k.call(slot, l::TCB_WRITE_REGISTERS, &[0], &[]);
    assert_eq!(r, err(TRUNCATED, &[]));
    let r = k.call(slot, l::TCB_WRITE_REGISTERS, &[0, 3, 1, 2], &[]);
    assert_eq!(r, err(TRUNCATED, &[]), "3 registers announced, 2 sent");
    let r = k.call(slot, l::TCB_WRITE_REGISTERS, &[0, u64::MAX, 1], &[]);
    assert_eq!(r, err(TRUNCATED, &[]));
    let r = k.call(init::TCB, l::TCB_WRITE_REGISTERS, &[0, 1, 1], &[]);
    assert_eq!(r, err(ILLEGAL, &[]), "own registers");
}

#[test]
fn write_registers_can_resume_the_target() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    // MCS: a thread runs only with a scheduling context.
    #[cfg(feature = "mcs")]
    k.give_sched_context(t);
    let r = k.call(slot, l::TCB_WRITE_REGISTERS, &[1, 1, 0x4000], &[]);
    assert_eq!(r, ok());
    assert_eq!(t.get().state(), ThreadState::Restart);
    assert!(
        t.get().in_ready_queue(),
        "queued (lower priority than the caller)"
    );
    assert_eq!(crate::sched::schedule(), Some(k.tcb));
}

#[test]
fn copy_registers_by_flag() {
    let k = boot();
    let (src_slot, src) = thread_with_cap(&k, 10);
    fill(src);
    let (dest_slot, dest) = new_tcb(&k);
    // Frame registers only: pc, ra, sp, gp, s0..s11; NextIP = the new pc.
    let r = k.call(dest_slot, l::TCB_COPY_REGISTERS, &[0b0100], &[src_slot]);
    assert_eq!(r, ok());
    let (s, d) = (regs_words(src), regs_words(dest));
    assert_eq!(d[..16], s[..16]);
    assert_eq!(d[16..], [0; 16]);
    assert_eq!(dest.get().next_ip(), 0x5000);
    assert_eq!(
        src.get().state(),
        ThreadState::Running,
        "source not suspended"
    );
    // Integer registers only: a0..a7, t0..t6, tp.
    let (dest_slot, dest) = new_tcb(&k);
    let r = k.call(dest_slot, l::TCB_COPY_REGISTERS, &[0b1000], &[src_slot]);
    assert_eq!(r, ok());
    let d = regs_words(dest);
    assert_eq!(d[..16], [0; 16]);
    assert_eq!(d[16..], s[16..]);
    assert_eq!(dest.get().state(), ThreadState::Inactive, "not resumed");
    // Suspend the source, resume the target, copy nothing.
    let r = k.call(dest_slot, l::TCB_COPY_REGISTERS, &[0b0011], &[src_slot]);
    assert_eq!(r, ok());
    assert_eq!(src.get().state(), ThreadState::Inactive);
    assert_eq!(
        src.get().fault_ip(),
        0x5004,
        "restart point moved past its syscall"
    );
    assert_eq!(dest.get().state(), ThreadState::Restart);
    assert_eq!(regs_words(dest)[..16], [0; 16]);
}

#[test]
fn copy_registers_errors() {
    let k = boot();
    let (slot, _) = new_tcb(&k);
    assert_eq!(
        k.call(slot, l::TCB_COPY_REGISTERS, &[], &[init::TCB]),
        err(TRUNCATED, &[])
    );
    assert_eq!(
        k.call(slot, l::TCB_COPY_REGISTERS, &[4], &[]),
        err(TRUNCATED, &[])
    );
    let r = k.call(slot, l::TCB_COPY_REGISTERS, &[4], &[init::CNODE]);
    assert_eq!(r, err(INVALID_CAP, &[1]));
    // The caller may be the target (seL4 allows it).
    let r = k.call(init::TCB, l::TCB_COPY_REGISTERS, &[0], &[slot]);
    assert_eq!(r, ok());
}

#[test]
fn suspend_removes_a_blocked_thread_from_its_queue() {
    let k = boot();
    let (slot, t) = thread_with_cap(&k, 10);
    let (_, ep) = object(&k, ObjectType::Endpoint);
    receive_ipc(
        t,
        ep,
        true,
        true,
        #[cfg(feature = "mcs")]
        None,
    );
    assert_eq!(t.get().state(), ThreadState::BlockedOnReceive);
    assert_eq!(EndpointRef::new(ep).get().queue.tcbs().head, t.paddr().0);
    assert_eq!(k.call(slot, l::TCB_SUSPEND, &[], &[]), ok());
    assert_eq!(t.get().state(), ThreadState::Inactive);
    assert_eq!(
        EndpointRef::new(ep).get().queue.tcbs().head,
        0,
        "off the endpoint"
    );
    // A queued runnable thread leaves the ready queue.
    let (slot, t) = thread_with_cap(&k, 10);
    crate::sched::enqueue(t);
    assert_eq!(k.call(slot, l::TCB_SUSPEND, &[], &[]), ok());
    assert!(!t.get().in_ready_queue());
    assert_eq!(t.get().state(), ThreadState::Inactive);
}

#[test]
fn suspend_self_stops_the_caller_without_a_reply() {
    let k = boot();
    let r = k.call(init::TCB, l::TCB_SUSPEND, &[], &[]);
    assert_eq!(k.tcb.get().state(), ThreadState::Inactive);
    // No reply was written: a1 still holds the request's MessageInfo.
    let Outcome::Reply { label, .. } = r else {
        panic!()
    };
    assert_eq!(label, l::TCB_SUSPEND);
    assert_eq!(action(), Action::ChooseNew);
}

#[test]
fn resume_restarts_only_a_stopped_thread() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    // MCS: a thread runs only with a scheduling context.
    #[cfg(feature = "mcs")]
    k.give_sched_context(t);
    t.get().set_priority(10);
    assert_eq!(k.call(slot, l::TCB_RESUME, &[], &[]), ok());
    assert_eq!(
        t.get().state(),
        ThreadState::Restart,
        "runs again from FaultIP"
    );
    assert!(t.get().in_ready_queue());
    // Classic: and a master reply cap (MCS has no reply slots).
    #[cfg(not(feature = "mcs"))]
    assert!(
        matches!(
            super::Tcb::slot(t, super::TCB_REPLY).get().cap(),
            Cap::Reply { master: true, .. }
        ),
        "master reply cap"
    );
    #[cfg(feature = "mcs")]
    assert!((0..super::TCB_CNODE_ENTRIES)
        .all(|i| !matches!(super::Tcb::slot(t, i).get().cap(), Cap::Reply { .. })));
    // A thread blocked in IPC is stopped too: Resume cancels the IPC.
    let (slot, t) = thread_with_cap(&k, 10);
    let (_, ep) = object(&k, ObjectType::Endpoint);
    receive_ipc(
        t,
        ep,
        true,
        true,
        #[cfg(feature = "mcs")]
        None,
    );
    assert_eq!(k.call(slot, l::TCB_RESUME, &[], &[]), ok());
    assert_eq!(t.get().state(), ThreadState::Restart);
    assert_eq!(EndpointRef::new(ep).get().queue.tcbs().head, 0);
    // A running thread is left alone.
    let (slot, t) = thread_with_cap(&k, 10);
    assert_eq!(k.call(slot, l::TCB_RESUME, &[], &[]), ok());
    assert_eq!(t.get().state(), ThreadState::Running);
    assert!(!t.get().in_ready_queue());
}

#[test]
fn resume_of_a_higher_priority_thread_switches_to_it() {
    let k = boot();
    k.tcb.get().set_priority(100);
    let (slot, t) = new_tcb(&k);
    // MCS: a thread runs only with a scheduling context.
    #[cfg(feature = "mcs")]
    k.give_sched_context(t);
    t.get().set_priority(200);
    assert_eq!(k.call(slot, l::TCB_RESUME, &[], &[]), ok());
    assert_eq!(action(), Action::SwitchTo(t));
    assert_eq!(crate::sched::schedule(), Some(t));
}

#[test]
fn bind_and_unbind_notification() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let (n, ntfn) = object(&k, ObjectType::Notification);
    assert_eq!(k.call(slot, l::TCB_BIND_NOTIFICATION, &[], &[n]), ok());
    assert_eq!(t.get().bound_notification(), ntfn.0);
    assert_eq!(NotificationRef::new(ntfn).get().bound_tcb(), t.paddr().0);
    assert_eq!(k.call(slot, l::TCB_UNBIND_NOTIFICATION, &[], &[]), ok());
    assert_eq!(t.get().bound_notification(), 0);
    assert_eq!(NotificationRef::new(ntfn).get().bound_tcb(), 0);
    let r = k.call(slot, l::TCB_UNBIND_NOTIFICATION, &[], &[]);
    assert_eq!(r, err(ILLEGAL, &[]), "nothing bound");
}

#[test]
fn bind_notification_errors() {
    let k = boot();
    let (slot, _) = new_tcb(&k);
    let (n, ntfn) = object(&k, ObjectType::Notification);
    let bind = |tcb, cap| k.call(tcb, l::TCB_BIND_NOTIFICATION, &[], &[cap]);
    let r = k.call(slot, l::TCB_BIND_NOTIFICATION, &[], &[]);
    assert_eq!(r, err(TRUNCATED, &[]));
    assert_eq!(
        bind(slot, init::CNODE),
        err(ILLEGAL, &[]),
        "not a notification"
    );
    // Without the Read (receive) right.
    let weak = put(
        &k,
        Cap::Notification {
            ptr: ntfn,
            badge: 0,
            rights: CapRights::NO_READ,
        },
    );
    assert_eq!(bind(slot, weak), err(ILLEGAL, &[]), "no Read right");
    assert_eq!(bind(slot, n), ok());
    // Already bound: checked before the notification.
    assert_eq!(bind(slot, init::CNODE), err(ILLEGAL, &[]));
    let (n2, _) = object(&k, ObjectType::Notification);
    assert_eq!(bind(slot, n2), err(ILLEGAL, &[]), "TCB already bound");
    // The notification is bound to another thread.
    let (other, _) = new_tcb(&k);
    assert_eq!(
        bind(other, n),
        err(ILLEGAL, &[]),
        "notification bound elsewhere"
    );
    // The notification has waiters.
    let (n3, ntfn3) = object(&k, ObjectType::Notification);
    let waiter = k.threads(10, 1)[0];
    receive_signal(waiter, ntfn3, true);
    assert_eq!(
        bind(other, n3),
        err(ILLEGAL, &[]),
        "notification has waiters"
    );
}

#[test]
fn set_tls_base_writes_tp() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    assert_eq!(k.call(slot, l::TCB_SET_TLS_BASE, &[0xdead_b000], &[]), ok());
    assert_eq!(t.get().reg(TLS_BASE_REGISTER), 0xdead_b000);
    assert_eq!(
        t.get().user_register(31),
        0xdead_b000,
        "tp is UserContext word 31"
    );
    assert_eq!(
        k.call(slot, l::TCB_SET_TLS_BASE, &[], &[]),
        err(TRUNCATED, &[])
    );
    // The caller's own: takes effect, and the scheduler looks again.
    assert_eq!(k.call(init::TCB, l::TCB_SET_TLS_BASE, &[0x1234], &[]), ok());
    assert_eq!(k.tcb.get().reg(TLS_BASE_REGISTER), 0x1234);
    assert_eq!(action(), Action::ChooseNew);
}

#[test]
fn set_flags_clears_then_sets_within_the_mask() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let fs = |t: TcbRef| fpu_enabled(t.get().reg(STATUS_REGISTER));
    // The thread owns the FPU, as after its first FP instruction.
    crate::fpu::switch_owner(Some(t));
    assert_eq!(fs(t), crate::config::HAVE_FPU);
    let r = k.call(slot, l::TCB_SET_FLAGS, &[0, u64::MAX], &[]);
    assert_eq!(r, reply(vec![TCB_FLAG_MASK]), "only known flags are set");
    assert_eq!(t.get().flags(), TCB_FLAG_MASK);
    if crate::config::HAVE_FPU {
        assert_eq!(TCB_FLAG_MASK, TCB_FLAG_FPU_DISABLED);
        assert!(!fs(t), "FS Off: FP instructions trap");
        // Clear wins over nothing; set is applied after clear.
        let r = k.call(slot, l::TCB_SET_FLAGS, &[1, 1], &[]);
        assert_eq!(r, reply(vec![1]));
        let r = k.call(slot, l::TCB_SET_FLAGS, &[1, 0], &[]);
        assert_eq!(r, reply(vec![0]));
        assert!(fs(t), "FP usable again: it still owns the FPU");
        crate::fpu::switch_owner(None);
        assert!(!fs(t), "FS Off once it no longer owns the FPU");
    } else {
        assert_eq!(TCB_FLAG_MASK, 0);
        assert!(!fs(t));
    }
    let r = k.call(slot, l::TCB_SET_FLAGS, &[0], &[]);
    assert_eq!(r, err(TRUNCATED, &[]));
}

#[test]
fn unknown_labels_are_illegal() {
    let k = boot();
    let (slot, _) = new_tcb(&k);
    for label in [
        0,
        l::UNTYPED_RETYPE,
        l::TCB_SET_FLAGS + 1,
        l::CNODE_COPY,
        1000,
    ] {
        let r = k.call(slot, label, &[0; 6], &[]);
        assert_eq!(r, err(ILLEGAL, &[]), "label {label}");
    }
    assert_eq!(kernel().current_tcb(), Some(k.tcb));
}
