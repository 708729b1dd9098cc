//! The kernel invariants the fuzzer checks after every step. Each check
//! panics with a description when it fails (libFuzzer records a panic as
//! a crash, with the input that caused it).
//!
//! * The derivation tree (`cap::tree_check`): every slot reachable from
//!   the root CNode's first slots (the window) and the root thread's TCB
//!   (through CNode, TCB and
//!   zombie capabilities and derivation links) is well linked, every link
//!   lands in a live object's slot (no dangling reference), subtrees nest,
//!   rights only shrink downwards.
//! * Memory: no capability names memory boot did not hand out, no two
//!   objects overlap, every object that lies in an untyped is its
//!   descendant and below that untyped's watermark. (Not that every
//!   object has an untyped ancestor: seL4 lets an untyped capability with
//!   children be deleted, and its objects live on.)
//! * Roots: every derivation list starts at a capability boot made (its
//!   object is a boot object or a boot untyped's region, or it is one of
//!   the object-less boot capabilities, or a thread's master reply
//!   capability, which the kernel makes), or at an object left inside a
//!   boot untyped after every untyped capability over it was deleted:
//!   no capability appears from nothing. Boot capabilities may have
//!   moved, so this compares what the head names, not where it is.
//! * Queues: every endpoint's and notification's queue is a well-linked
//!   list of threads in the matching blocked state whose blocking object
//!   is that object; every thread blocked on an object is in its queue
//!   (so the object is live); a thread in a ready queue is runnable.
//! * CancelBadgedSends: a preempted walk's cursor and the mark on its
//!   thread name each other, and the marked thread waits to send.
//! * Threads: (classic) every thread that is not Inactive has its own
//!   master reply capability in its reply slot (the fastpath relies on
//!   it).
//! * MCS (`invariants_mcs`): every endpoint and notification queue is in
//!   priority order; every link between threads, reply objects (call
//!   stacks), SchedContexts and notifications is mirrored.
//!   (A queued thread that no reachable capability names is not an
//!   error: seL4 lets a CNode hold the only capability to itself, and
//!   what such an island holds is out of reach but alive.)

use crate::arch::host::SimMachine;
use crate::cap::derive::cap_region;
use crate::cap::tree_check::{self as tc, BootMemory, Cdt};
use crate::cap::tree_check::{FastMap, FastSet};
use crate::cap::{Cap, SlotRef};
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::queue::TcbQueue;
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::TCB_REPLY;
use crate::object::tcb::{TcbRef, ThreadState};
use crate::types::{PAddr, Region};

/// What boot made, against which the checks compare.
pub struct BootFacts {
    /// Slots every walk starts from: the root thread's TCB slots.
    pub roots: Vec<SlotRef>,
    /// The root CNode and how many of its first slots are walked from
    /// too (all of its slots are reachable through links).
    pub window: (PAddr, u64),
    pub memory: BootMemory,
    pub ram: Region,
}

/// Every slot reachable from the roots and the window (the first part of
/// [`check`]; panics on a dangling link).
pub fn reachable(boot: &BootFacts) -> Vec<SlotRef> {
    let (cnode, n) = boot.window;
    let roots: Vec<SlotRef> = boot
        .roots
        .iter()
        .copied()
        .chain((0..n).map(|i| crate::cap::cte::cnode_slot(cnode, i)))
        .collect();
    tc::gather_slots(&roots, &[boot.window], boot.ram)
}

/// Runs every check; returns the slots found and the tree.
pub fn check(boot: &BootFacts) -> (Vec<SlotRef>, Cdt) {
    check_no_deferred();
    let slots = reachable(boot);
    let cdt = check_slots(&slots, boot);
    check_queues(&Named::of(&slots));
    (slots, cdt)
}

/// MCS: a deferred ready-queue entry lives only within a kernel entry
/// (`state::ready_queues`): the scheduler's choice at exit ends it.
fn check_no_deferred() {
    #[cfg(feature = "mcs")]
    assert!(
        !crate::state::kernel().ready().has_deferred(),
        "a thread left deferred after the kernel exit"
    );
}

/// The checks that read nothing but the slots (and what boot made): the
/// derivation tree, memory and the heads of the derivation lists.
fn check_slots(slots: &[SlotRef], boot: &BootFacts) -> Cdt {
    let cdt = tc::check_tree(slots, true);
    tc::check_memory(&cdt, &boot.memory);
    check_heads(&cdt, &boot.memory);
    cdt
}

/// What the checks read of one slot: its capability's words and its
/// derivation links and flags (everything [`check_slots`] and
/// [`reachable`] read of it, nothing else).
#[derive(Clone, Copy, PartialEq, Eq)]
struct SlotImage {
    words: [u64; 2],
    prev: Option<SlotRef>,
    next: Option<SlotRef>,
    revocable: bool,
    first_badged: bool,
}

impl SlotImage {
    fn of(s: SlotRef) -> SlotImage {
        let c = s.get();
        SlotImage {
            words: c.words().0,
            prev: c.prev(),
            next: c.next(),
            revocable: c.revocable(),
            first_badged: c.first_badged(),
        }
    }
}

/// The checks after every step, made cheap by checking only what can
/// have changed since the last check that passed.
///
/// [`reachable`] and [`check_slots`] are functions of the bytes of the
/// slots they reach (the roots are fixed; every other slot is reached
/// through one of them; nothing else is read): if every slot the last
/// passing check reached reads as it did then ([`SlotImage`]), the walk
/// reaches the same slots and the slot checks give the same result, so
/// they are not run again. Only the slots in pages the kernel translated
/// an address in since that check are compared
/// ([`SimMachine::recent_pages`]: every access to simulated RAM goes
/// through a translation, and a rollback marks the pages it copies
/// back); the others cannot have changed. The comparison costs a few
/// microseconds; the walk and the slot checks of about 300 slots cost a
/// hundred. The queue checks read thread and endpoint fields that change
/// with nearly every step (states, queue links) and are cheap: they run
/// every time, on the objects the slots name (cached with the slots).
#[derive(Default, Clone)]
pub struct Checker {
    /// The slots the last passing check reached, and what it read of each.
    slots: Vec<SlotRef>,
    image: Vec<SlotImage>,
    /// The objects their capabilities name (for the queue checks).
    named: Named,
    /// Checks that walked the slots, and checks that found them unchanged.
    pub full: u64,
    pub quick: u64,
    /// The pages translated since the last check (a buffer).
    recent: Vec<u64>,
}

/// Bytes per page of [`SimMachine::recent_pages`].
const PAGE: u64 = 4096;

impl Checker {
    /// Checks every invariant: the slot checks only if a slot the last
    /// check reached has changed since (or there was none).
    pub fn check(&mut self, boot: &BootFacts) {
        check_no_deferred();
        if self.unchanged(boot.ram) {
            self.quick += 1;
            check_queues(&self.named);
            SimMachine::clear_recent();
        } else {
            self.check_full(boot);
        }
    }

    /// Checks every invariant from scratch (walks every reachable slot).
    pub fn check_full(&mut self, boot: &BootFacts) {
        self.slots.clear();
        self.image.clear();
        let slots = reachable(boot);
        check_slots(&slots, boot);
        self.named = Named::of(&slots);
        check_queues(&self.named);
        self.full += 1;
        self.image = slots.iter().map(|&s| SlotImage::of(s)).collect();
        self.slots = slots;
        SimMachine::clear_recent();
    }

    /// Every slot reachable now (see [`reachable`]): the last check's, if
    /// none of them changed since.
    pub fn reachable(&mut self, boot: &BootFacts) -> Vec<SlotRef> {
        if self.unchanged(boot.ram) {
            self.slots.clone()
        } else {
            reachable(boot)
        }
    }

    /// Whether some slot the last check reached reads otherwise now (all
    /// compared, whatever page they are in: for tests).
    #[cfg(test)]
    pub fn stale(&self) -> bool {
        self.slots
            .iter()
            .zip(&self.image)
            .any(|(&s, i)| SlotImage::of(s) != *i)
    }

    /// Whether a check passed and every slot it reached reads as it did
    /// (those in pages translated since: the others have not changed).
    fn unchanged(&mut self, ram: Region) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        SimMachine::recent_pages(&mut self.recent);
        let recent = &self.recent;
        let maybe_written = |s: SlotRef| {
            let Some(page) = s.paddr().0.checked_sub(ram.start).map(|o| o / PAGE) else {
                return true;
            };
            recent
                .get((page / 64) as usize)
                .is_none_or(|w| w >> (page % 64) & 1 != 0)
        };
        self.slots
            .iter()
            .zip(&self.image)
            .all(|(&s, i)| !maybe_written(s) || SlotImage::of(s) == *i)
    }
}

/// The endpoints, notifications and threads that capabilities name.
/// (The IPC tests' random sequences name theirs: `ipc::tests::harness`.)
#[derive(Default, Clone)]
pub(crate) struct Named {
    pub(crate) eps: Vec<u64>,
    pub(crate) ntfns: Vec<u64>,
    pub(crate) tcbs: Vec<u64>,
    /// MCS: reply objects and SchedContexts.
    #[cfg(feature = "mcs")]
    pub(crate) replies: Vec<u64>,
    #[cfg(feature = "mcs")]
    pub(crate) scs: Vec<u64>,
}

impl Named {
    fn of(slots: &[SlotRef]) -> Named {
        let (mut eps, mut ntfns, mut tcbs) =
            (FastSet::default(), FastSet::default(), FastSet::default());
        #[cfg(feature = "mcs")]
        let (mut replies, mut scs) = (FastSet::default(), FastSet::default());
        for s in slots {
            match s.get().cap() {
                Cap::Endpoint { ptr, .. } => eps.insert(ptr.0),
                Cap::Notification { ptr, .. } => ntfns.insert(ptr.0),
                Cap::Thread { tcb } => tcbs.insert(tcb.0),
                #[cfg(feature = "mcs")]
                Cap::ReplyObject { ptr, .. } => replies.insert(ptr.0),
                #[cfg(feature = "mcs")]
                Cap::SchedContext { ptr, .. } => scs.insert(ptr.0),
                _ => false,
            };
        }
        let sorted = |set: FastSet<u64>| {
            let mut v: Vec<u64> = set.into_iter().collect();
            v.sort_unstable();
            v
        };
        Named {
            eps: sorted(eps),
            ntfns: sorted(ntfns),
            tcbs: sorted(tcbs),
            #[cfg(feature = "mcs")]
            replies: sorted(replies),
            #[cfg(feature = "mcs")]
            scs: sorted(scs),
        }
    }
}

/// Every derivation list starts at a capability boot made, or at an
/// object inside a boot untyped whose untyped capabilities are all
/// deleted (seL4 lets an untyped capability with children be deleted;
/// its objects live on, each at the head of its list). That no untyped
/// capability left covers such an object is [`tc::check_memory`]'s (any
/// untyped overlapping it must be its ancestor, and a head has none).
fn check_heads(cdt: &Cdt, boot: &BootMemory) {
    let orphan = |r: (u64, u32)| {
        boot.untyped.iter().any(|&(s, bits)| {
            s <= r.0 && r.0 as u128 + (1u128 << r.1) <= s as u128 + (1u128 << bits)
        })
    };
    for list in &cdt.lists {
        let Some(head) = list.first() else { continue };
        let cap = head.get().cap();
        let ok = match cap {
            Cap::IrqControl | Cap::AsidControl | Cap::Domain => true,
            #[cfg(feature = "mcs")]
            Cap::SchedControl { .. } => true,
            // Each thread's master reply cap, made by the kernel.
            Cap::Reply { master: true, .. } => true,
            _ => cap_region(&cap).is_some_and(|r| boot.objects.contains(&r) || orphan(r)),
        };
        assert!(
            ok,
            "{cap:?} in {head:?} heads a derivation list but boot made no such capability"
        );
    }
}

/// The threads of a queue, checking its links (`limit` bounds its length:
/// more means a cycle).
fn queue_of(q: TcbQueue, limit: usize) -> Vec<u64> {
    let mut v = Vec::new();
    let (mut prev, mut cur) = (0, q.head);
    while cur != 0 {
        let t = TcbRef::new(PAddr(cur)).get();
        assert_eq!(t.ep_prev(), prev, "back link of {cur:#x} in a queue");
        v.push(cur);
        assert!(v.len() <= limit, "cycle in a queue");
        prev = cur;
        cur = t.ep_next();
    }
    assert_eq!(prev, q.tail, "queue's tail");
    v
}

/// Queues and thread states agree: every queue's links hold, each queued
/// thread blocks on that object in the matching state and appears once,
/// a blocked thread is in its object's queue, the ready queues hold only
/// runnable threads (MCS: queues in priority order, every link mirrored).
pub(crate) fn check_queues(named: &Named) {
    let (eps, ntfns, tcbs) = (&named.eps, &named.ntfns, &named.tcbs);
    // Thread -> (object, state) for every queued thread.
    let mut queued: FastMap<u64, (u64, ThreadState)> = FastMap::default();
    let mut enter = |obj: u64, q: Vec<u64>, want: ThreadState| {
        #[cfg(feature = "mcs")]
        super::invariants_mcs::check_order(obj, &q);
        for t in q {
            assert!(
                queued.insert(t, (obj, want)).is_none(),
                "thread {t:#x} in two queues"
            );
        }
    };
    let limit = tcbs.len() + 1;
    for &ep in eps {
        let e = &EndpointRef::new(PAddr(ep)).get().queue;
        let q = queue_of(e.tcbs(), limit);
        let want = match e.state() {
            EndpointState::Idle => {
                assert!(q.is_empty(), "idle endpoint {ep:#x} with a queue");
                continue;
            }
            EndpointState::Send => ThreadState::BlockedOnSend,
            EndpointState::Recv => ThreadState::BlockedOnReceive,
        };
        assert!(
            !q.is_empty(),
            "endpoint {ep:#x} waiting with an empty queue"
        );
        enter(ep, q, want);
    }
    for &n in ntfns {
        let o = &NotificationRef::new(PAddr(n)).get().queue;
        let q = queue_of(o.tcbs(), limit);
        assert_eq!(
            o.state() == NotificationState::Waiting,
            !q.is_empty(),
            "notification {n:#x}: state and queue disagree"
        );
        enter(n, q, ThreadState::BlockedOnNotification);
    }
    for &t in tcbs {
        let tcb = TcbRef::new(PAddr(t)).get();
        let s = tcb.state();
        match queued.get(&t) {
            Some(&(obj, want)) => {
                assert_eq!(s, want, "queued thread {t:#x}'s state");
                assert_eq!(
                    tcb.blocking_object(),
                    obj,
                    "thread {t:#x} queued elsewhere than it blocks"
                );
            }
            None => assert!(
                !matches!(
                    s,
                    ThreadState::BlockedOnSend
                        | ThreadState::BlockedOnReceive
                        | ThreadState::BlockedOnNotification
                ),
                "thread {t:#x} is {s:?} but in no live object's queue"
            ),
        }
        if tcb.in_ready_queue() {
            assert!(s.is_runnable(), "ready queue holds {t:#x}, which is {s:?}");
        }
        check_badged_cancel_link(TcbRef::new(PAddr(t)));
        // The fastpath links reply caps under it without looking.
        #[cfg(not(feature = "mcs"))]
        if s != ThreadState::Inactive {
            let master = crate::object::tcb::Tcb::slot(TcbRef::new(PAddr(t)), TCB_REPLY);
            assert!(
                matches!(master.get().words().reply(), Some((o, true, _)) if o.0 == t),
                "thread {t:#x} is {s:?} without its master reply cap"
            );
        }
    }
    #[cfg(feature = "mcs")]
    super::invariants_mcs::check_objects(&named.replies, tcbs, &named.scs, ntfns);
    #[cfg(feature = "mcs")]
    super::invariants_mcs::check_release_queue();
}

/// A preempted CancelBadgedSends' cursor and the mark on its thread name
/// each other, and the marked thread waits to send (the link is never
/// stale: `ipc::cancel::cancel_badged_sends`).
fn check_badged_cancel_link(t: TcbRef) {
    let tcb = t.get();
    let pa = t.paddr().0;
    if let Some(walker) = crate::object::tcb::tcb_at(tcb.badged_cancel_mark()) {
        assert_eq!(
            walker.get().badged_cancel_cursor().0,
            pa,
            "thread {pa:#x} is marked by a walk whose cursor is elsewhere"
        );
        assert_eq!(
            tcb.state(),
            ThreadState::BlockedOnSend,
            "thread {pa:#x} is a cursor but does not wait to send"
        );
    }
    if let Some(cursor) = crate::object::tcb::tcb_at(tcb.badged_cancel_cursor().0) {
        assert_eq!(
            cursor.get().badged_cancel_mark(),
            pa,
            "thread {pa:#x}'s CancelBadgedSends cursor does not carry its mark"
        );
    }
}
