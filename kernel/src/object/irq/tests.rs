//! IRQ control and handler invocations and interrupt delivery, through
//! the root task's caps on a simulated machine.

use super::*;
use crate::arch::host::SimMachine;
use crate::object::notification::{NotificationRef, NotificationState};
use crate::state::kernel;
use crate::testutil::{boot, err, ok, TestKernel};
use cairn_abi::cap::init;
use cairn_abi::object::ObjectType as T;

const RANGE: u64 = 4;
const REVOKE_FIRST: u64 = 9;
const DELETE_FIRST: u64 = 8;
const TRUNCATED: u64 = 7;
const INVALID_CAP: u64 = 2;

fn get(k: &TestKernel, irq: u64, slot: u64) -> crate::testutil::Outcome {
    k.call(
        init::IRQ_CONTROL,
        label::IRQ_ISSUE_IRQ_HANDLER,
        &[irq, slot, 64],
        &[init::CNODE],
    )
}

fn ntfn_state(k: &TestKernel, s: u64) -> (NotificationState, u64) {
    let Cap::Notification { ptr, .. } = k.cap(s) else {
        panic!("not a notification")
    };
    let n = NotificationRef::new(ptr).get();
    (n.queue.state(), n.msg_identifier())
}

#[test]
fn irq_control_get_checks_in_sel4s_order() {
    let k = boot();
    let s = k.make(T::Endpoint, 0, 1)[0];
    for bad in [0, 97, u64::MAX] {
        assert_eq!(get(&k, bad, k.first_empty), err(RANGE, &[1, 96]));
    }
    assert_eq!(get(&k, 96, k.first_empty), err(REVOKE_FIRST, &[]), "timer");
    assert_eq!(get(&k, 10, s), err(DELETE_FIRST, &[]), "occupied slot");
    let short = k.call(
        init::IRQ_CONTROL,
        label::IRQ_ISSUE_IRQ_HANDLER,
        &[10, 5],
        &[init::CNODE],
    );
    assert_eq!(short, err(TRUNCATED, &[]));
    assert!(!SimMachine::irq_unmasked(10));
    assert_eq!(get(&k, 10, k.first_empty), ok());
    assert_eq!(k.cap(k.first_empty), Cap::IrqHandler { irq: 10 });
    assert!(SimMachine::irq_unmasked(10), "issuing unmasks the line");
    assert_eq!(
        get(&k, 10, k.first_empty + 1),
        err(REVOKE_FIRST, &[]),
        "issued"
    );
    let trig = k.call(
        init::IRQ_CONTROL,
        label::RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER,
        &[11, 1, k.first_empty + 1, 64],
        &[init::CNODE],
    );
    assert_eq!(trig, ok());
    assert_eq!(k.cap(k.first_empty + 1), Cap::IrqHandler { irq: 11 });
}

#[test]
fn an_interrupt_signals_and_stays_masked_until_ack() {
    let k = boot();
    let h = k.first_empty;
    assert_eq!(get(&k, 10, h), ok());
    let n = k.make(T::Notification, 0, 1)[0];
    let set = |cap: u64| k.call(h, label::IRQ_SET_IRQ_HANDLER, &[], &[cap]);
    assert_eq!(set(init::TCB), err(INVALID_CAP, &[0]));
    assert_eq!(
        k.call(h, label::IRQ_SET_IRQ_HANDLER, &[], &[]),
        err(TRUNCATED, &[])
    );
    // A badged copy: the interrupt signals with its badge.
    let b = h + 1;
    let mint = k.call(
        init::CNODE,
        cairn_abi::invocation::label::CNODE_MINT,
        &[b, 64, n, 64, 0xF, 0x20],
        &[init::CNODE],
    );
    assert_eq!(mint, ok());
    assert_eq!(set(b), ok());
    handle_interrupt(10);
    assert_eq!(ntfn_state(&k, n), (NotificationState::Active, 0x20));
    assert!(!SimMachine::irq_unmasked(10), "masked until acknowledged");
    assert_eq!(k.call(h, label::IRQ_ACK_IRQ, &[], &[]), ok());
    assert!(SimMachine::irq_unmasked(10));
    // Clear: the next interrupt signals nothing.
    assert_eq!(k.call(h, label::IRQ_CLEAR_IRQ_HANDLER, &[], &[]), ok());
    let before = ntfn_state(&k, n);
    handle_interrupt(10);
    assert_eq!(ntfn_state(&k, n), before);
    assert_eq!(k.call(h, 0x7777, &[], &[]), err(3, &[]), "bad label");
}

#[test]
fn deleting_the_handler_masks_and_frees_the_line_and_revoking_the_notification_unbinds() {
    let k = boot();
    let h = k.first_empty;
    assert_eq!(get(&k, 12, h), ok());
    let n = k.make(T::Notification, 0, 1)[0];
    assert_eq!(k.call(h, label::IRQ_SET_IRQ_HANDLER, &[], &[n]), ok());
    let slot = irq_slot(12).expect("IRQ node");
    assert!(matches!(slot.get().cap(), Cap::Notification { .. }));
    // Revoking the user's notification cap removes the IRQ's copy.
    let r = k.call(
        init::CNODE,
        cairn_abi::invocation::label::CNODE_REVOKE,
        &[n, 64],
        &[],
    );
    assert_eq!(r, ok());
    assert!(slot.get().cap().is_null());
    let d = k.call(
        init::CNODE,
        cairn_abi::invocation::label::CNODE_DELETE,
        &[h, 64],
        &[],
    );
    assert_eq!(d, ok());
    assert!(!SimMachine::irq_unmasked(12));
    assert_eq!(state(12), IrqState::Inactive);
    assert_eq!(get(&k, 12, h), ok(), "issued again");
}

#[test]
fn spurious_and_out_of_range_interrupts_are_masked_reported_and_signal_nothing() {
    let k = boot();
    let h = k.first_empty;
    assert_eq!(get(&k, 10, h), ok());
    let n = k.make(T::Notification, 0, 1)[0];
    assert_eq!(k.call(h, label::IRQ_SET_IRQ_HANDLER, &[], &[n]), ok());
    let before = ntfn_state(&k, n);
    SimMachine::take_console();
    // A line nobody claimed, unmasked (as if left so by the firmware).
    crate::arch::irq_set_masked(5, false);
    handle_interrupt(5);
    assert!(!SimMachine::irq_unmasked(5), "a spurious line is masked");
    assert_eq!(state(5), IrqState::Inactive);
    // The timer's line (the machine layer handles it), a number past
    // the last line, one past any IRQ state, one past u16.
    handle_interrupt(96);
    handle_interrupt(97);
    handle_interrupt(1000);
    handle_interrupt(u32::MAX);
    let want = if crate::config::DEBUG_BUILD {
        "cairn: spurious interrupt 5\r\ncairn: spurious interrupt 97\r\ncairn: spurious interrupt 1000\r\n"
    } else {
        ""
    };
    assert_eq!(SimMachine::take_console(), want);
    assert_eq!(ntfn_state(&k, n), before, "no signal");
    assert!(SimMachine::irq_unmasked(10), "the claimed line untouched");
    assert_eq!(state(10), IrqState::Signal);
    assert_eq!(state(96), IrqState::Timer);
    assert_eq!(kernel().current_tcb(), Some(k.tcb));
    assert_eq!(
        k.tcb.get().state(),
        crate::object::tcb::ThreadState::Running
    );
}
