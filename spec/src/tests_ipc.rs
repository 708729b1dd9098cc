//! The specification's IPC rules on small hand-built states: three
//! threads sharing one CSpace (`tests::boot`'s), an endpoint, a badged
//! copy of it, a notification.

use crate::cap::{Cap, EpRights};
use crate::invoke::{Invocation, Syscall};
use crate::state::{Entry, Object, SlotId, State};
use crate::tests::{boot, call, entry, BUFFER, ROOT, TCB, UT};
use crate::thread::{Thread, ThreadState};
use std::collections::BTreeMap;

pub(crate) const T2: u64 = 0x4000;
pub(crate) const T3: u64 = 0x4800;
pub(crate) const EP: u64 = UT; // retyped first: root slot 2; a copy badged 7 in slot 3
const NTFN: u64 = UT + 0x20; // root slot 4

/// `boot()` with threads T2 and T3 (running, the same CSpace, each an IPC
/// buffer: the root thread's frame, at 0x400 and 0x800), an endpoint in root slot 2, a copy badged 7 in slot 3 and a
/// notification in slot 4.
pub(crate) fn world() -> State {
    let mut s = boot();
    for (t, ipc_buffer) in [(T2, 0x400), (T3, 0x800)] {
        let mut slots = BTreeMap::new();
        slots.insert(0, entry(crate::tests::root_cap()));
        let frame = s.cap(SlotId { obj: TCB, index: 4 }).expect("a buffer");
        slots.insert(4, entry(frame));
        let thread = Thread {
            state: ThreadState::Running,
            ipc_buffer,
            ..Default::default()
        };
        s.objects.insert(
            t,
            Object::Tcb {
                slots,
                thread: Box::new(thread),
            },
        );
    }
    assert_eq!(call(&mut s, 1, 1, &[2, 0, 0, 0, 2, 1], &[0]), Ok(()));
    assert_eq!(call(&mut s, 0, 21, &[3, 64, 2, 64, 0xF, 7], &[0]), Ok(()));
    assert_eq!(call(&mut s, 1, 1, &[3, 0, 0, 0, 4, 1], &[0]), Ok(()));
    assert!(s.objects.contains_key(&BUFFER));
    s
}

pub(crate) fn sys(s: &mut State, t: u64, sys: Syscall, cptr: u64, label: u64, words: &[u64]) {
    let inv = Invocation {
        cptr,
        label,
        words: words.to_vec(),
        extra: vec![],
    };
    s.syscall(t, sys, &inv, None).expect("specified");
}

fn queue(s: &State, obj: u64) -> Vec<u64> {
    match s.objects.get(&obj) {
        Some(Object::Endpoint { queue }) => queue.clone(),
        Some(Object::Notification { waiting, .. }) => waiting.clone(),
        _ => panic!("no queue"),
    }
}

pub(crate) fn thread(s: &State, t: u64) -> &Thread {
    s.thread(t).expect("a thread")
}

#[test]
fn a_send_waits_for_a_receiver_who_gets_words_label_and_badge() {
    let mut s = world();
    sys(&mut s, T2, Syscall::Send, 3, 5, &[1, 2]);
    let rights = EpRights::from_word(0xF);
    let blocked = ThreadState::BlockedOnSend {
        ep: EP,
        badge: 7,
        grant: rights.grant,
        grant_reply: rights.grant_reply,
        call: false,
    };
    assert_eq!(thread(&s, T2).state, blocked);
    assert_eq!(queue(&s, EP), vec![T2]);
    sys(&mut s, TCB, Syscall::Recv, 2, 0, &[]);
    let r = thread(&s, TCB);
    assert_eq!((r.badge, r.info.label, r.info.length), (7, 5, 2));
    assert_eq!(r.mrs[..2], [1, 2]);
    assert_eq!(thread(&s, T2).state, ThreadState::Running);
    assert!(queue(&s, EP).is_empty());
}

#[test]
fn a_call_leaves_a_reply_cap_that_the_reply_uses_up() {
    let mut s = world();
    sys(&mut s, TCB, Syscall::Recv, 2, 0, &[]);
    assert!(matches!(
        thread(&s, TCB).state,
        ThreadState::BlockedOnReceive {
            ep: EP,
            grant: true
        }
    ));
    sys(&mut s, T2, Syscall::Call, 3, 1, &[9]);
    assert_eq!(thread(&s, T2).state, ThreadState::BlockedOnReply);
    assert_eq!(thread(&s, TCB).state, ThreadState::Running);
    let caller = SlotId { obj: TCB, index: 3 };
    let master = SlotId { obj: T2, index: 2 };
    let reply = Cap::Reply {
        tcb: T2,
        master: false,
        grant: true,
    };
    let e: &Entry = s.entry(caller).expect("a reply cap");
    assert_eq!((e.cap, e.parent, e.original), (reply, Some(master), false));
    sys(&mut s, TCB, Syscall::Reply, 0, 3, &[4]);
    let t2 = thread(&s, T2);
    assert_eq!(
        (t2.state, t2.badge, t2.mrs[0], t2.info.label),
        (ThreadState::Running, 0, 4, 3)
    );
    assert_eq!(s.cap(caller), None);
    assert!(s.entry(master).expect("the master").children.is_empty());
}

#[test]
fn cancel_badged_sends_restarts_only_the_senders_with_that_badge() {
    let mut s = world();
    sys(&mut s, T2, Syscall::Send, 3, 0, &[]);
    sys(&mut s, T3, Syscall::Send, 2, 0, &[]);
    assert_eq!(queue(&s, EP), vec![T2, T3]);
    assert_eq!(call(&mut s, 0, 19, &[3, 64], &[]), Ok(()));
    assert_eq!(thread(&s, T2).state, ThreadState::Restart);
    assert_eq!(queue(&s, EP), vec![T3]);
    // Through the unbadged cap: nothing is cancelled.
    assert_eq!(call(&mut s, 0, 19, &[2, 64], &[]), Ok(()));
    assert_eq!(queue(&s, EP), vec![T3]);
}

#[test]
fn deleting_the_last_endpoint_cap_restarts_its_waiters() {
    let mut s = world();
    sys(&mut s, T3, Syscall::Recv, 3, 0, &[]);
    assert_eq!(call(&mut s, 0, 18, &[3, 64], &[]), Ok(()));
    assert_eq!(queue(&s, EP), vec![T3], "not the last cap");
    assert_eq!(call(&mut s, 0, 18, &[2, 64], &[]), Ok(()));
    assert_eq!(thread(&s, T3).state, ThreadState::Restart);
    assert!(!s.objects.contains_key(&EP));
}

#[test]
fn signals_accumulate_and_reach_a_bound_thread_in_recv() {
    let mut s = world();
    assert_eq!(
        call(&mut s, 0, 21, &[5, 64, 4, 64, 0xF, 0b10], &[0]),
        Ok(())
    );
    sys(&mut s, T2, Syscall::Send, 4, 0, &[]);
    sys(&mut s, T2, Syscall::Send, 5, 0, &[]);
    sys(&mut s, TCB, Syscall::Recv, 4, 0, &[]);
    assert_eq!(thread(&s, TCB).badge, 0b10, "0 | 0b10");
    // Bound to T3, which waits on the endpoint: the signal takes it out.
    s.bind(T3, NTFN);
    sys(&mut s, T3, Syscall::Recv, 2, 0, &[]);
    assert_eq!(queue(&s, EP), vec![T3]);
    sys(&mut s, T2, Syscall::NBSend, 5, 0, &[]);
    assert_eq!(thread(&s, T3).state, ThreadState::Running);
    assert_eq!(thread(&s, T3).badge, 0b10);
    assert!(queue(&s, EP).is_empty());
    // A thread bound elsewhere cannot wait on it: a fault stops T2.
    sys(&mut s, T2, Syscall::Recv, 4, 0, &[]);
    assert_eq!(thread(&s, T2).state, ThreadState::Inactive);
    assert!(s.objects.contains_key(&ROOT));
}

#[test]
fn a_message_into_a_shared_buffer_is_seen_by_every_thread_there() {
    use crate::invoke::Syscall;
    let mut s = world();
    // T3's buffer moved onto T2's (the same frame and offset).
    if let Some(t) = s.thread_mut(T3) {
        t.ipc_buffer = 0x400;
    }
    s.load_buffer(T3);
    sys(&mut s, T2, Syscall::Recv, 2, 0, &[]);
    sys(&mut s, TCB, Syscall::Send, 2, 5, &[1, 2, 3, 4, 55, 66]);
    assert_eq!((thread(&s, T2).mr(4), thread(&s, T2).mr(5)), (55, 66));
    assert_eq!((thread(&s, T3).mr(4), thread(&s, T3).mr(5)), (55, 66));
    let at = s.buffer_at(T3).expect("a buffer");
    assert_eq!(Some(at), s.buffer_at(T2));
    assert_eq!(s.memory.block(at)[5..7], [55, 66]);
}
