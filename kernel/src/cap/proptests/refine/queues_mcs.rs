//! MCS: the kernel's ready queues and release queue checked against the
//! spec's threads after every step (docs/spec.md, "The MCS
//! configuration"). The spec does not keep the MCS queues yet (their
//! order is seL4's rules plus time: not specified), but which queue a
//! thread is in follows from state the spec does keep, as seL4's
//! invariants say (`isSchedulable`, the release queue's order):
//!
//! * a thread is *schedulable* if it is runnable (Running, Restart) and
//!   runs on a configured SchedContext (its own, or one lent to it):
//!   the spec's thread state and the context's binding and refill count;
//! * the running thread is schedulable and in no queue;
//! * every other schedulable thread is in exactly one queue: the ready
//!   queue of its domain and priority (the spec's), or the release queue
//!   (its head refill not released yet: time, the kernel's to say);
//! * a thread that is not schedulable is in neither queue (a blocked,
//!   stopped or passive thread is never found by the scheduler);
//! * the release queue is in release-time order, and holds no thread
//!   whose head refill is released at the kernel's time (the scheduler's
//!   `awaken` ran at the end of the step).
//!
//! A thread lost from every queue (never to run again) or left in one
//! while blocked, queued at a priority it no longer has, or released
//! late, fails the step.

use super::Pair;
use crate::config::{NUM_DOMAINS, NUM_PRIORITIES};
use crate::object::tcb::TcbRef;
use crate::sched::mcs;
use std::collections::{BTreeMap, BTreeSet};

impl Pair {
    /// Checks the kernel's queues against the spec's threads (module doc).
    pub(super) fn check_mcs_queues(&self, what: &dyn core::fmt::Debug) {
        let k = crate::state::kernel();
        // Where the kernel has each thread: ready queue keys, release.
        let mut ready: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
        for d in 0..NUM_DOMAINS {
            for p in 0..NUM_PRIORITIES {
                for t in k.ready().queue(d, p) {
                    ready
                        .entry(t.paddr().0)
                        .or_default()
                        .push((d as u64, p as u64));
                }
            }
        }
        let release: Vec<TcbRef> = mcs::release_queue().collect();
        let released: BTreeSet<u64> = release.iter().map(|t| t.paddr().0).collect();
        let current = k.current_tcb().map(|t| t.paddr().0);
        // The spec's schedulable threads: runnable, on a configured context.
        let on_configured: BTreeSet<u64> = self
            .spec
            .objects
            .values()
            .filter_map(|o| match o {
                cairn_spec::Object::SchedContext(s) if s.configured() => s.tcb,
                _ => None,
            })
            .collect();
        let fail =
            |why: String| -> ! { panic!("{what:?}: MCS queues against the spec's threads: {why}") };
        for (&o, ob) in &self.spec.objects {
            let cairn_spec::Object::Tcb { thread, .. } = ob else {
                continue;
            };
            let schedulable = thread.state.runnable() && on_configured.contains(&o);
            let queues = ready.remove(&o).unwrap_or_default();
            let in_release = released.contains(&o);
            let state = thread.state;
            if current == Some(o) {
                if !schedulable || !queues.is_empty() || in_release {
                    fail(format!(
                        "the running thread {o:#x} ({state:?}, schedulable {schedulable}) in ready queues {queues:?}, release queue {in_release}"
                    ));
                }
                continue;
            }
            let want = (thread.domain, thread.priority);
            let placed = match (schedulable, queues.as_slice(), in_release) {
                (true, [key], false) => *key == want,
                (true, [], true) | (false, [], false) => true,
                _ => false,
            };
            let seen = match (schedulable, in_release) {
                (false, _) => 2,
                (true, false) => 0,
                (true, true) => 1,
            };
            super::tally(|x| x.queues[seen] += 1);
            if !placed {
                fail(format!(
                    "thread {o:#x} ({state:?}, schedulable {schedulable}, domain and priority {want:?}) in ready queues {queues:?}, release queue {in_release}"
                ));
            }
        }
        if let Some((t, keys)) = ready.into_iter().next() {
            fail(format!(
                "{t:#x}, in ready queues {keys:?}, is no thread of the spec"
            ));
        }
        if let Some(t) = released.iter().find(|&&t| self.spec.thread(t).is_none()) {
            fail(format!(
                "{t:#x}, in the release queue, is no thread of the spec"
            ));
        }
        let times: Vec<u64> = release
            .iter()
            .map(|&t| {
                mcs::sc_of(t)
                    .and_then(|sc| sc.head_refill())
                    .map_or(u64::MAX, |h| h.time)
            })
            .collect();
        let now = mcs::cur_time();
        if times.windows(2).any(|w| w[0] > w[1]) || times.first().is_some_and(|&t| t <= now) {
            fail(format!(
                "the release queue's head refills at {times:?}, now {now}: out of order or released"
            ));
        }
    }
}
