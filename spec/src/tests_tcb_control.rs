//! Configure, SetSpace and SetIPCBuffer on `tests_ipc::world()`, with T2's
//! cap in root slot 5, a copy of the buffer frame in slot 6, a mapped
//! page table in slot 7.

use crate::cap::{Cap, VmRights};
use crate::error::SyscallError;
use crate::state::{Object, SlotId, State, TCB_BUFFER, TCB_CTABLE};
use crate::tcb::{CONFIGURE, SET_IPC_BUFFER, SET_SPACE};
use crate::tcb_control::TCB_VTABLE;
use crate::tests::{call, root, root_cap, BUFFER};
use crate::tests_ipc::{thread, world, T2};

const PT: u64 = 0x60_0000;

fn frame() -> Cap {
    Cap::Frame {
        obj: BUFFER,
        size_bits: 12,
        rights: VmRights::ReadWrite,
        device: false,
        mapped: Some((1, 0x1000)),
    }
}

fn pt(mapped: Option<(u64, u64)>) -> Cap {
    Cap::PageTable { obj: PT, mapped }
}

fn with_caps() -> State {
    let mut s = world();
    s.insert_original(root(5), Cap::Thread { obj: T2 });
    s.insert_original(root(6), frame());
    s.objects
        .insert(PT, Object::new(crate::cap::Kind::PageTable));
    s.insert_original(root(7), pt(Some((1, 0))));
    s
}

fn t2(index: u64) -> SlotId {
    SlotId { obj: T2, index }
}

#[test]
fn set_ipc_buffer_checks_frame_and_alignment_then_moves_the_buffer() {
    let mut s = with_caps();
    thread_words(&mut s, 42);
    let before = s.clone();
    let e = |s: &mut State, words: &[u64], extra: &[u64]| call(s, 5, SET_IPC_BUFFER, words, extra);
    assert_eq!(
        e(&mut s, &[0x1400], &[]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(e(&mut s, &[], &[6]), Err(SyscallError::TruncatedMessage));
    // Not a frame (an endpoint), misaligned, an untyped with children.
    assert_eq!(
        e(&mut s, &[0x1400], &[2]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        e(&mut s, &[0x1408], &[6]),
        Err(SyscallError::AlignmentError)
    );
    assert_eq!(e(&mut s, &[0x1400], &[1]), Err(SyscallError::RevokeFirst));
    let t = |s: &State| (s.cap(t2(TCB_BUFFER)), thread(s, T2).ipc_buffer);
    assert_eq!(t(&s), t(&before), "nothing changed");
    // Address 0: no buffer, whatever the cap.
    assert_eq!(e(&mut s, &[0], &[2]), Ok(()));
    assert_eq!(t(&s), (None, 0));
    assert!(!s.has_buffer(T2, false));
    // The frame: an unmapped copy, a child of slot 6; the words are
    // those of the memory there (T2's own, at the same offset).
    assert_eq!(e(&mut s, &[0x7000_1400], &[6]), Ok(()));
    let copy = Cap::Frame {
        obj: BUFFER,
        size_bits: 12,
        rights: VmRights::ReadWrite,
        device: false,
        mapped: None,
    };
    assert_eq!(t(&s), (Some(copy), 0x7000_1400));
    assert_eq!(
        s.entry(t2(TCB_BUFFER)).and_then(|e| e.parent),
        Some(root(6))
    );
    assert_eq!(thread(&s, T2).mr(4), 42);
    // Moved onto the root thread's buffer (offset 0), T2 sees its words;
    // what it writes there the root thread sees; moved back, T2 finds
    // its old words.
    assert_eq!(e(&mut s, &[0x7000_0000], &[6]), Ok(()));
    let root_words = thread(&s, crate::tests::TCB).buffer.clone();
    assert_eq!(thread(&s, T2).buffer, root_words);
    assert_ne!(thread(&s, T2).mr(4), 42);
    thread_words(&mut s, 43);
    assert_eq!(thread(&s, crate::tests::TCB).mr(4), 43);
    assert_eq!(e(&mut s, &[0x1400], &[6]), Ok(()));
    assert_eq!(thread(&s, T2).mr(4), 42);
    assert_eq!(thread(&s, crate::tests::TCB).mr(4), 43);
}

fn thread_words(s: &mut State, w: u64) {
    if let Some(t) = s.thread_mut(T2) {
        t.set_mr(4, w);
    }
    s.store_buffer(T2);
}

#[test]
fn set_space_sets_the_fault_handler_and_both_roots() {
    let mut s = with_caps();
    let e = |s: &mut State, words: &[u64], extra: &[u64]| call(s, 5, SET_SPACE, words, extra);
    assert_eq!(
        e(&mut s, &[3, 0, 0], &[0]),
        Err(SyscallError::TruncatedMessage)
    );
    // Roots of the wrong kind; a guard that does not fit (radix 4 + 61).
    assert_eq!(
        e(&mut s, &[3, 0, 0], &[2, 7]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        e(&mut s, &[3, 61, 0], &[0, 7]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        e(&mut s, &[3, 0, 0], &[0, 6]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(thread(&s, T2).fault_handler, 0);
    // Guard 0 of 60 bits, as the root cap has: data 60 (size in bits 5..0).
    assert_eq!(e(&mut s, &[3, 60, 9], &[0, 7]), Ok(()));
    assert_eq!(thread(&s, T2).fault_handler, 3);
    assert_eq!(s.cap(t2(TCB_CTABLE)), Some(root_cap()));
    assert_eq!(s.cap(t2(TCB_VTABLE)), Some(pt(Some((1, 0)))));
    assert_eq!(
        s.entry(t2(TCB_VTABLE)).and_then(|e| e.parent),
        Some(root(7))
    );
    // An unmapped page table cannot be derived.
    s.set_cap(root(7), pt(None));
    assert_eq!(
        e(&mut s, &[3, 0, 0], &[0, 7]),
        Err(SyscallError::IllegalOperation)
    );
}

#[test]
fn a_root_whose_deletion_takes_long_is_refused() {
    let mut s = with_caps();
    // T2's CSpace root the last cap to a new CNode.
    assert_eq!(call(&mut s, 1, 1, &[4, 2, 0, 0, 8, 1], &[0]), Ok(()));
    let cn = s.cap(root(8)).expect("a CNode");
    if let Some(Object::Tcb { slots, .. }) = s.objects.get_mut(&T2) {
        slots.remove(&TCB_CTABLE);
    }
    s.move_cap(root(8), t2(TCB_CTABLE), cn);
    let e = call(&mut s, 5, SET_SPACE, &[0, 0, 0], &[0, 7]);
    assert_eq!(e, Err(SyscallError::IllegalOperation));
    assert_eq!(s.cap(t2(TCB_CTABLE)), Some(cn));
}

#[test]
fn configure_checks_the_buffer_before_the_roots() {
    let mut s = with_caps();
    let e = |s: &mut State, words: &[u64], extra: &[u64]| call(s, 5, CONFIGURE, words, extra);
    assert_eq!(
        e(&mut s, &[0, 0, 0, 0x1400], &[0, 7]),
        Err(SyscallError::TruncatedMessage)
    );
    // Bad roots and a misaligned buffer: the buffer's error.
    let r = e(&mut s, &[0, 0, 0, 0x1001], &[2, 2, 6]);
    assert_eq!(r, Err(SyscallError::AlignmentError));
    assert_eq!(e(&mut s, &[5, 0, 0, 0x1400], &[0, 7, 6]), Ok(()));
    let t = thread(&s, T2);
    assert_eq!((t.fault_handler, t.ipc_buffer), (5, 0x1400));
    assert!(s.has_buffer(T2, true));
    assert_eq!(
        s.entry(t2(TCB_BUFFER)).and_then(|e| e.parent),
        Some(root(6))
    );
    assert_eq!(s.cap(t2(TCB_CTABLE)), Some(root_cap()));
    assert_eq!(
        s.entry(t2(TCB_CTABLE)).and_then(|e| e.parent),
        Some(root(0))
    );
}
