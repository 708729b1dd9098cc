//! MCS (`--features mcs`): the TCB methods in MCS numbering, Configure
//! and SetSpace in their MCS forms (no fault cptr; SetSpace's fault
//! handler a cap, checked after the roots, installed in the TCB's slot),
//! and the VSpace and IRQ labels that MCS moves. On `tests_mcs::world()`
//! with a second thread T2 (root slot 5), a copy of the buffer frame
//! (slot 6), a mapped page table (slot 7) and an endpoint (slot 8).

use crate::cap::{Cap, EpRights, VmRights};
use crate::error::SyscallError;
use crate::state::{Object, SlotId, State, TCB_BUFFER, TCB_CTABLE, TCB_FAULT_HANDLER};
use crate::tcb::{BIND_NOTIFICATION, CONFIGURE, RESUME, SET_IPC_BUFFER, SET_SPACE, SUSPEND};
use crate::tcb_control::TCB_VTABLE;
use crate::tests_mcs::{retype, world};
use crate::tests_world::{call, root, root_cap, BUFFER, TCB};
use crate::thread::ThreadState;

const PT: u64 = 0x60_0000;

fn pt() -> Cap {
    Cap::PageTable {
        obj: PT,
        mapped: Some((1, 0)),
    }
}

/// T2: its TCB object.
fn with_t2() -> (State, u64) {
    let mut s = world();
    retype(&mut s, 1, 0, 5, 1).expect("a TCB");
    retype(&mut s, 2, 0, 8, 1).expect("an endpoint");
    let frame = Cap::Frame {
        obj: BUFFER,
        size_bits: 12,
        rights: VmRights::ReadWrite,
        device: false,
        mapped: Some((1, 0x1000)),
    };
    s.insert_original(root(6), frame);
    s.objects
        .insert(PT, Object::new(crate::cap::Kind::PageTable));
    s.insert_original(root(7), pt());
    let Some(Cap::Thread { obj }) = s.cap(root(5)) else {
        panic!("a TCB")
    };
    (s, obj)
}

fn slot(t: u64, index: u64) -> SlotId {
    SlotId { obj: t, index }
}

#[test]
fn the_labels_after_set_sched_params_are_one_further_on() {
    assert_eq!(
        (
            SET_IPC_BUFFER,
            SET_SPACE,
            SUSPEND,
            RESUME,
            BIND_NOTIFICATION
        ),
        (10, 11, 12, 13, 14)
    );
    assert_eq!(crate::tcb::SET_FLAGS, 17);
    assert_eq!(crate::vspace::PAGE_TABLE_MAP, 39);
    assert_eq!(crate::vspace::ASID_POOL_ASSIGN, 45);
    assert_eq!(crate::irq::ISSUE_IRQ_HANDLER_TRIGGER, 46);
    let (mut s, t2) = with_t2();
    // Resume (13) and Suspend (12) by their MCS labels.
    assert_eq!(call(&mut s, 5, RESUME, &[], &[]), Ok(()));
    assert_eq!(s.state_of(t2), ThreadState::Restart);
    assert_eq!(call(&mut s, 5, SUSPEND, &[], &[]), Ok(()));
    assert_eq!(s.state_of(t2), ThreadState::Inactive);
    // A page table's label 33 is ConfigureFlags' under MCS: not a method
    // of it; its Map is 39 (here without words: TruncatedMessage).
    let pt_call = |s: &mut State, label| call(s, 7, label, &[], &[]);
    assert_eq!(pt_call(&mut s, 33), Err(SyscallError::IllegalOperation));
    assert_eq!(pt_call(&mut s, 39), Err(SyscallError::TruncatedMessage));
}

#[test]
fn configure_has_no_fault_cptr_and_keeps_the_handler() {
    let (mut s, t2) = with_t2();
    let e = |s: &mut State, words: &[u64], extra: &[u64]| call(s, 5, CONFIGURE, words, extra);
    // Three words (CSpace data, VSpace data, buffer), three caps.
    assert_eq!(
        e(&mut s, &[0, 0], &[0, 7, 6]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        e(&mut s, &[0, 0, 0x1400], &[0, 7]),
        Err(SyscallError::TruncatedMessage)
    );
    // The buffer first: misaligned, whatever the roots.
    let r = e(&mut s, &[0, 0, 0x1001], &[8, 8, 6]);
    assert_eq!(r, Err(SyscallError::AlignmentError));
    // Word 0 is the CSpace root's data: a guard that does not fit.
    assert_eq!(
        e(&mut s, &[61, 0, 0x1400], &[0, 7, 6]),
        Err(SyscallError::IllegalOperation)
    );
    // A handler set before stays.
    let fh = Cap::Endpoint {
        obj: 0x10_0000,
        badge: 0,
        rights: EpRights::from_word(0xF),
    };
    s.insert_original(slot(t2, TCB_FAULT_HANDLER), fh);
    assert_eq!(e(&mut s, &[60, 0, 0x1400], &[0, 7, 6]), Ok(()));
    assert_eq!(s.thread(t2).map(|t| t.ipc_buffer), Some(0x1400));
    assert_eq!(s.cap(slot(t2, TCB_CTABLE)), Some(root_cap()));
    assert_eq!(s.cap(slot(t2, TCB_VTABLE)), Some(pt()));
    let frame = s.entry(slot(t2, TCB_BUFFER)).and_then(|e| e.parent);
    assert_eq!(frame, Some(root(6)));
    assert_eq!(s.cap(slot(t2, TCB_FAULT_HANDLER)), Some(fh));
    assert_eq!(s.thread(t2).map(|t| t.fault_handler), Some(0));
}

#[test]
fn set_space_checks_the_fault_handler_cap_after_the_roots() {
    let (mut s, t2) = with_t2();
    let e = |s: &mut State, words: &[u64], extra: &[u64]| call(s, 5, SET_SPACE, words, extra);
    // Two words, three caps: fault handler, CSpace root, VSpace root.
    assert_eq!(
        e(&mut s, &[0], &[8, 0, 7]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        e(&mut s, &[0, 0], &[8, 0]),
        Err(SyscallError::TruncatedMessage)
    );
    // Bad roots before a bad handler (a CNode cap).
    assert_eq!(
        e(&mut s, &[0, 0], &[0, 8, 7]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        e(&mut s, &[0, 0], &[0, 0, 7]),
        Err(SyscallError::InvalidCapability { index: 1 })
    );
    // An endpoint that cannot grant is no handler either.
    // (CNode Copy is 21 under MCS: read and write only into slot 9.)
    let copy = &[9, 64, 8, 64, 0b0011];
    assert_eq!(call(&mut s, 0, 21, copy, &[0]), Ok(()));
    assert_eq!(
        e(&mut s, &[0, 0], &[9, 0, 7]),
        Err(SyscallError::InvalidCapability { index: 1 })
    );
    assert_eq!(s.cap(slot(t2, TCB_CTABLE)), None, "nothing changed");
    // The endpoint with every right: installed as it is, its source's
    // child; the roots derived.
    assert_eq!(e(&mut s, &[0, 0], &[8, 0, 7]), Ok(()));
    let fh = slot(t2, TCB_FAULT_HANDLER);
    assert_eq!(s.cap(fh), s.cap(root(8)));
    assert_eq!(s.entry(fh).and_then(|e| e.parent), Some(root(8)));
    assert_eq!(s.cap(slot(t2, TCB_VTABLE)), Some(pt()));
    // No cap (slot 10 is empty): the handler slot emptied.
    assert_eq!(e(&mut s, &[0, 0], &[10, 0, 7]), Ok(()));
    assert_eq!(s.cap(fh), None);
    let _ = TCB;
}
