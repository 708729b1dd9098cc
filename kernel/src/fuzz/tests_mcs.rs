//! The fuzz driver on the MCS kernel (its runs and rollback are
//! `tests_driver`'s, both builds): the MCS checks catch the corruptions
//! they are for (each made on a state where the links are in use, and
//! the same check passing before it).

use super::World;
use crate::cap::cte::cnode_slot;
use crate::cap::Cap;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::reply::ReplyRef;
use crate::object::tcb::{Tcb, TcbRef, ThreadState, TCB_CTABLE};
use crate::types::PAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What the full check on the machine as booted says after `corrupt`:
/// its panic message, or `None` if it passes.
fn caught_after(corrupt: impl FnOnce(&World)) -> Option<String> {
    super::from_start(|w| {
        w.check();
        corrupt(w);
        let r = catch_unwind(AssertUnwindSafe(|| w.checker.check_full(&w.facts)));
        r.err().map(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
    })
}

/// `corrupt` is caught, with a message containing `what`.
fn caught(what: &str, corrupt: impl FnOnce(&World)) {
    let msg = caught_after(corrupt).expect("not caught");
    assert!(msg.contains(what), "caught for another reason: {msg}");
}

/// The setup threads (root, then priorities 100 and 200).
fn threads(w: &World) -> [TcbRef; 3] {
    [w.threads[0], w.threads[1], w.threads[2]]
}

#[test]
fn a_broken_sched_context_link_is_caught() {
    assert_eq!(caught_after(|_| ()), None, "the checks pass as booted");
    caught("does not name it", |w| {
        let [_, a, _] = threads(w);
        let sc = a.get().sched_context().expect("a SchedContext");
        crate::object::sched_context::set_tcb_of(sc, None);
    });
}

#[test]
fn a_broken_reply_link_is_caught() {
    caught("'s reply does not name it", |w| {
        let [_, a, _] = threads(w);
        // `a` waits for a reply with its reply object, but the object
        // does not name it.
        let r = reply_of(a);
        crate::sched::dequeue(a);
        a.get().set_reply_object(Some(r));
        a.get().set_state(ThreadState::BlockedOnReply);
        r.set_tcb(0);
    });
}

#[test]
fn a_queue_out_of_priority_order_is_caught() {
    caught("(priority 1) before", |w| {
        let [_, a, b] = threads(w);
        // Both wait to send on one endpoint, the higher first; then the
        // first's priority drops without a reorder.
        let ep = &EndpointRef::new(endpoint(w)).get().queue;
        let mut q = ep.tcbs();
        for t in [b, a] {
            crate::sched::dequeue(t);
            t.get().set_blocking(endpoint(w).0, 0, Default::default());
            t.get().set_state(ThreadState::BlockedOnSend);
            q.append(t);
        }
        ep.store(q, EndpointState::Send);
        b.get().set_priority(1);
    });
}

/// The first endpoint of the setup.
fn endpoint(w: &World) -> PAddr {
    w.cptrs
        .iter()
        .find_map(|&i| match cnode_slot(w.facts.window.0, i).get().cap() {
            Cap::Endpoint { ptr, .. } => Some(ptr),
            _ => None,
        })
        .expect("an endpoint from setup")
}

/// The reply object `t`'s reply register names (setup gives each thread
/// one).
fn reply_of(t: TcbRef) -> ReplyRef {
    let slot = t.get().reg(crate::arch::REPLY_REGISTER);
    let root = Tcb::slot(t, TCB_CTABLE).get().words();
    match crate::cap::lookup::lookup_cap(root, slot) {
        Ok((_, Cap::ReplyObject { ptr, .. })) => ReplyRef::new(ptr),
        other => panic!("no reply cap at {slot}: {other:?}"),
    }
}
