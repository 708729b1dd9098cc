//! The checks after every step catch every kind of corruption the full
//! check catches, at the step it happens, although most checks walk no
//! slot ([`Checker`]): each test corrupts the state one way right after a
//! step that changed no slot (so that, uncorrupted, the check after it
//! takes the quick path, which the test first shows), and the check
//! after that step must fail with that corruption's message.

use super::input::Input;
use super::invariants::Checker;
use super::{from_start, World};
use crate::cap::cte::{cnode_slot, insert_child, insert_original};
use crate::cap::{Cap, SlotRef};
use crate::object::access::write_word;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::queue::TcbQueue;
use crate::object::tcb::ThreadState;
use crate::types::PAddr;
use cairn_abi::cap::CapRights;

/// A Yield by the root thread, then register writes (kind 13: register
/// 1 + 4, a small word): steps that change no slot.
const PROGRAM: [u8; 18] = [
    0, 10, 0, 0, 0, 0xFF, // Yield (SYSCALLS[10]), no interrupt
    13, 4, 0, 7, // x5 = 7
    13, 5, 0, 9, // x6 = 9
    13, 6, 0, 11, // x7 = 11
];

/// The step after which the state is corrupted.
const AT: usize = 2;

/// Runs [`PROGRAM`] with a check after every step, calling `corrupt` on
/// the world right after step [`AT`] (before its check); returns whether
/// that check found the slots unchanged (the quick path).
fn run_corrupted(corrupt: impl FnOnce(&World)) -> bool {
    from_start(|w| {
        let mut input = Input::new(&PROGRAM);
        for _ in 0..AT {
            w.step(&mut input);
            w.check();
        }
        w.step(&mut input);
        corrupt(w);
        let quick = w.checker.quick;
        w.check();
        w.checker.quick > quick
    })
}

/// Shows that the check after step [`AT`] is quick on the state as it is,
/// then corrupts the state with `corrupt` and runs the check (which must
/// panic).
fn caught(corrupt: impl FnOnce(&World)) {
    assert!(
        run_corrupted(|_| ()),
        "uncorrupted, the check after step {AT} walks the slots"
    );
    run_corrupted(corrupt);
}

/// The slot of the root CNode at `i`.
fn slot(w: &World, i: u64) -> SlotRef {
    cnode_slot(w.facts.window.0, i)
}

/// The first capability setup made that `pick` accepts, and its slot.
fn setup_cap<T>(w: &World, pick: impl Fn(Cap) -> Option<T>) -> (SlotRef, T) {
    w.cptrs
        .iter()
        .find_map(|&i| pick(slot(w, i).get().cap()).map(|t| (slot(w, i), t)))
        .expect("setup made one")
}

fn endpoint(w: &World) -> (SlotRef, PAddr) {
    setup_cap(w, |c| match c {
        Cap::Endpoint { ptr, .. } => Some(ptr),
        _ => None,
    })
}

fn notification(w: &World) -> PAddr {
    setup_cap(w, |c| match c {
        Cap::Notification { ptr, .. } => Some(ptr),
        _ => None,
    })
    .1
}

/// An empty slot of the root CNode (setup left eight in `cptrs`).
fn empty(w: &World) -> SlotRef {
    slot(w, *w.cptrs.last().expect("an empty slot"))
}

/// A capability slot at the end of its derivation list, and another
/// capability's slot that does not follow it.
fn tail_and_other(w: &World) -> (SlotRef, SlotRef) {
    let live: Vec<SlotRef> = w
        .cptrs
        .iter()
        .map(|&i| slot(w, i))
        .filter(|s| !s.get().cap().is_null())
        .collect();
    let t = *live
        .iter()
        .find(|s| s.get().next().is_none() && s.get().prev().is_some())
        .expect("a list's tail");
    let other = *live
        .iter()
        .find(|s| **s != t && s.get().prev() != Some(t))
        .expect("another capability");
    (t, other)
}

const MDB_PREV_WORD: u64 = 16;
const MDB_NEXT_WORD: u64 = 24;

#[test]
fn a_corruption_is_caught_only_if_made() {
    // The harness itself: nothing corrupted, nothing found; and the
    // checks walked the slots at boot only.
    assert!(run_corrupted(|_| ()));
    from_start(|w| {
        let c: &Checker = &w.checker;
        assert_eq!((c.full, c.quick), (1, 0));
    });
}

#[test]
#[should_panic(expected = "in no live object's queue")]
fn a_blocked_thread_outside_every_queue() {
    caught(|w| w.threads[1].get().set_state(ThreadState::BlockedOnSend));
}

#[test]
#[should_panic(expected = "ready queue holds")]
fn a_blocked_thread_in_a_ready_queue() {
    caught(|w| {
        let t = w.threads[1].get();
        assert!(t.in_ready_queue());
        t.set_state(ThreadState::BlockedOnReply);
    });
}

#[test]
#[should_panic(expected = "waiting with an empty queue")]
fn an_endpoint_waiting_with_no_thread() {
    caught(|w| {
        let (_, ep) = endpoint(w);
        EndpointRef::new(ep)
            .get()
            .queue
            .set(TcbQueue::default(), EndpointState::Send);
    });
}

#[test]
#[should_panic(expected = "back link of")]
fn a_queue_with_a_broken_back_link() {
    caught(|w| {
        let (_, ep) = endpoint(w);
        let (t1, t2) = (w.threads[1], w.threads[2]);
        let q = TcbQueue {
            head: t1.paddr().0,
            tail: t1.paddr().0,
        };
        EndpointRef::new(ep).get().queue.set(q, EndpointState::Send);
        t1.get().set_ep_links(t2.paddr().0, 0);
    });
}

#[test]
#[should_panic(expected = "state and queue disagree")]
fn a_notification_waiting_with_no_thread() {
    caught(|w| {
        NotificationRef::new(notification(w))
            .get()
            .queue
            .set(TcbQueue::default(), NotificationState::Waiting);
    });
}

#[test]
#[should_panic(expected = "but is not its descendant")]
fn a_capability_from_nothing() {
    caught(|w| {
        let (s, _) = endpoint(w);
        empty(w).get().set_cap(s.get().cap());
    });
}

#[test]
#[should_panic(expected = "keeps tree links")]
fn an_empty_slot_with_a_flag() {
    caught(|w| write_word(empty(w).paddr().add(MDB_PREV_WORD), 1));
}

#[test]
#[should_panic(expected = "next's prev of")]
fn a_link_not_linked_back() {
    caught(|w| {
        let (t, other) = tail_and_other(w);
        write_word(t.paddr().add(MDB_NEXT_WORD), other.paddr().0);
    });
}

#[test]
#[should_panic(expected = "which is no live object's slot")]
fn a_dangling_link() {
    caught(|w| {
        let (t, _) = tail_and_other(w);
        let (_, frame) = setup_cap(w, |c| match c {
            Cap::Frame { base, .. } => Some(base),
            _ => None,
        });
        write_word(t.paddr().add(MDB_NEXT_WORD), frame.0);
    });
}

#[test]
#[should_panic(expected = "outside memory")]
fn a_link_outside_memory() {
    caught(|w| {
        let (t, _) = tail_and_other(w);
        write_word(t.paddr().add(MDB_NEXT_WORD), w.facts.ram.end);
    });
}

#[test]
#[should_panic(expected = "more rights than ancestor")]
fn a_child_with_more_rights_than_its_parent() {
    caught(|w| {
        let (s, ep) = endpoint(w);
        let full = Cap::Endpoint {
            ptr: ep,
            badge: 0,
            rights: CapRights::ALL,
        };
        insert_child(s, empty(w), full, false);
        s.get().set_cap(Cap::Endpoint {
            ptr: ep,
            badge: 0,
            rights: CapRights::CAN_READ,
        });
    });
}

#[test]
#[should_panic(expected = "above the watermark")]
fn an_object_above_its_untypeds_watermark() {
    caught(|w| {
        // The untyped setup retyped from: the nearest one before its
        // endpoint that holds it (the untypeds setup made are nearer).
        let (s, ep) = endpoint(w);
        let mut up = s.get().prev().expect("retyped from an untyped");
        while !matches!(up.get().cap(), Cap::Untyped { ptr, size_bits, .. }
            if ptr.0 <= ep.0 && ep.0 < ptr.0 + (1 << size_bits))
        {
            up = up.get().prev().expect("an untyped ancestor");
        }
        let u = up.get();
        u.set_words(u.words().with_free_index(0));
    });
}

#[test]
#[should_panic(expected = "objects overlap")]
fn two_objects_in_one_place() {
    caught(|w| {
        let (s, _) = endpoint(w);
        s.get().set_cap(Cap::Endpoint {
            ptr: notification(w),
            badge: 0,
            rights: CapRights::ALL,
        });
    });
}

#[test]
#[should_panic(expected = "boot made no such capability")]
fn a_derivation_list_headed_by_a_capability_boot_never_made() {
    caught(|w| insert_original(empty(w), Cap::IrqHandler { irq: 3 }));
}
