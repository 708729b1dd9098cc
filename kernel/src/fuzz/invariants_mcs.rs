//! The MCS kernel's invariants, checked after every fuzz step with the
//! others (`invariants::check_queues` calls them on the objects the
//! reachable capabilities name; this file imports nothing of it):
//!
//! * Queue order: every endpoint and notification queue is sorted by
//!   priority, highest first (seL4's MCS `tcbAppend`, kept by the
//!   reorders when a queued thread's priority changes).
//! * Reply objects: a reply that names a thread is named back by it, and
//!   that thread waits in Recv (with it) or for its reply; a thread
//!   waiting for a reply has a reply object; call stacks are doubly
//!   linked (`replyPrev`/`replyNext`), and a stack's head reply and its
//!   SchedContext name each other.
//! * SchedContexts: a SchedContext and its thread name each other; so do
//!   a SchedContext and its notification.
//! * Scheduling: a thread in a ready queue or the release queue is
//!   runnable and has a SchedContext (a passive thread is never queued).
//! * The release queue is sorted by each thread's head refill's release
//!   time *as it is now* (a refill changed while its thread waited there
//!   left it out of order, and held back the threads behind it: docs/
//!   isolation.md, "Late releases").

use crate::object::notification::NotificationRef;
use crate::object::reply::{Next, ReplyRef};
use crate::object::sched_context as sc_obj;
use crate::object::tcb::{tcb_at, TcbRef, ThreadState};
use crate::types::PAddr;

/// The queue `q` of the object at `obj` (thread addresses, first to
/// last) is in priority order.
pub(crate) fn check_order(obj: u64, q: &[u64]) {
    let prio = |t: u64| TcbRef::new(PAddr(t)).get().priority();
    for w in q.windows(2) {
        if let [a, b] = *w {
            assert!(
                prio(a) >= prio(b),
                "queue of {obj:#x}: {a:#x} (priority {}) before {b:#x} (priority {})",
                prio(a),
                prio(b)
            );
        }
    }
}

/// The release queue is in release-time order, each thread's head
/// refill read now (seL4's `tcbReleaseEnqueue` order, which `awaken` and
/// the timer rely on: they look at the first thread only).
pub(crate) fn check_release_queue() {
    let time = |t: TcbRef| {
        t.get()
            .sched_context()
            .and_then(sc_obj::head_refill_at)
            .map_or(u64::MAX, |h| h.time)
    };
    let mut last = 0;
    for t in crate::sched::mcs::release_queue() {
        let at = time(t);
        assert!(
            at >= last,
            "release queue out of order: {:?} released at {at} after one at {last}",
            t.paddr()
        );
        last = at;
    }
}

/// Every MCS link of these reply objects, threads, SchedContexts and
/// notifications (addresses) is mirrored (also for the random IPC
/// sequences of `ipc::tests`).
pub(crate) fn check_objects(replies: &[u64], tcbs: &[u64], scs: &[u64], ntfns: &[u64]) {
    for &r in replies {
        check_reply(ReplyRef::new(PAddr(r)));
    }
    for &t in tcbs {
        check_thread(TcbRef::new(PAddr(t)));
    }
    for &sc in scs {
        check_sched_context(PAddr(sc));
    }
    for &n in ntfns {
        if let Some(sc) = NotificationRef::new(PAddr(n)).get().sched_context() {
            assert_eq!(
                sc_obj::notification_at(sc),
                Some(PAddr(n)),
                "notification {n:#x}'s SchedContext {sc:?} does not name it"
            );
        }
    }
}

fn check_reply(r: ReplyRef) {
    let pa = r.paddr();
    if let Some(t) = tcb_at(r.tcb()) {
        assert_eq!(
            t.get().reply_object(),
            Some(r),
            "reply {pa:?}'s thread {:?} does not name it",
            t.paddr()
        );
        let s = t.get().state();
        assert!(
            matches!(
                s,
                ThreadState::BlockedOnReceive | ThreadState::BlockedOnReply
            ),
            "reply {pa:?} links thread {:?}, which is {s:?}",
            t.paddr()
        );
    }
    match r.next() {
        Next::Head(sc) => assert_eq!(
            sc_obj::reply(sc),
            Some(r),
            "reply {pa:?} heads {sc:?}'s call stack, which does not name it"
        ),
        Next::Reply(above) => assert_eq!(
            above.prev(),
            Some(r),
            "reply {pa:?}: the reply above it does not name it"
        ),
        Next::None => {}
    }
    if let Some(below) = r.prev() {
        assert_eq!(
            below.next(),
            Next::Reply(r),
            "reply {pa:?}: the reply below it does not name it"
        );
    }
}

fn check_thread(t: TcbRef) {
    let tcb = t.get();
    let s = tcb.state();
    let pa = t.paddr();
    if matches!(
        s,
        ThreadState::BlockedOnReceive | ThreadState::BlockedOnReply
    ) {
        if let Some(r) = tcb.reply_object() {
            assert_eq!(r.tcb(), pa.0, "thread {pa:?}'s reply does not name it");
        }
    }
    if s == ThreadState::BlockedOnReply {
        assert!(
            tcb.reply_object().is_some(),
            "thread {pa:?} waits for a reply without a reply object"
        );
    }
    if let Some(sc) = tcb.sched_context() {
        assert_eq!(
            sc_obj::tcb_of(sc),
            Some(t),
            "thread {pa:?}'s SchedContext {sc:?} does not name it"
        );
    }
    if tcb.in_ready_queue() || tcb.in_release_queue() {
        assert!(
            s.is_runnable() && tcb.sched_context().is_some(),
            "thread {pa:?} queued to run: {s:?}, SchedContext {:?}",
            tcb.sched_context()
        );
    }
}

fn check_sched_context(sc: PAddr) {
    if let Some(t) = sc_obj::tcb_of(sc) {
        assert_eq!(
            t.get().sched_context(),
            Some(sc),
            "SchedContext {sc:?}'s thread {:?} does not name it",
            t.paddr()
        );
    }
    if let Some(r) = sc_obj::reply(sc) {
        assert_eq!(
            r.next(),
            Next::Head(sc),
            "SchedContext {sc:?}'s call stack head does not name it"
        );
    }
    if let Some(n) = sc_obj::notification_at(sc) {
        assert_eq!(
            NotificationRef::new(n).get().sched_context(),
            Some(sc),
            "SchedContext {sc:?}'s notification {n:?} does not name it"
        );
    }
}
