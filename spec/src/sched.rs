//! The scheduler (manual §6.1 *Scheduling*, §6.3 *Scheduling Domains*;
//! classic configuration): which runnable thread runs.
//!
//! The manual's model: a thread of each priority is scheduled round
//! robin among its equals, the highest priority that has a runnable
//! thread runs, and only the threads of the current domain run. What the
//! manual leaves open, which thread of a priority runs next, is seL4's
//! observable behaviour, specified here as seL4 16.0.0's (`thread.c`,
//! `endpoint.c`, `notification.c`, `tcb.c`, `syscall.c`):
//!
//! * The ready queues are lists of thread ids per (domain, priority),
//!   first first. The running thread is in none. A thread goes to the
//!   **head** of its queue (seL4's `tcbSchedEnqueue`) when the running
//!   thread is displaced or the scheduler chooses afresh
//!   ([`State::schedule`]), when Resume restarts it, when a deleted
//!   endpoint or notification or CancelBadgedSends restarts its waiters,
//!   when its domain changes; to the **tail** (`tcbSchedAppend`) when it
//!   yields, or when a thread woken at its running equal's priority is
//!   the scheduler's candidate. Putting a queued thread into a queue
//!   again changes nothing.
//! * A woken thread (a message, a reply, a signal, Resume, a new
//!   priority) is not queued at once: it is the scheduler's *candidate*
//!   ([`Action::SwitchTo`], seL4's `possibleSwitchTo`) if nothing else
//!   is pending, and the decision is taken once, at the end of the
//!   kernel entry. A second one, or a wake-up while the scheduler must
//!   choose afresh, queues the candidate and chooses afresh
//!   (`rescheduleRequired`).
//! * A thread leaves its queue when it stops (Suspend, deletion) or its
//!   priority or domain changes. A running thread that blocks or stops
//!   makes the scheduler choose afresh (`scheduleTCB`).
//! * The choice (`chooseThread`): the head of the highest non-empty
//!   queue of the current domain, or the idle thread (`None`).
//!
//! * A timer tick (`timerTick`) counts down the running thread's time
//!   slice; at its end the slice is full again and the thread goes to
//!   its queue's tail (round robin among equals).
//!
//! Not specified: the domain schedule's progress by time (which entry
//! runs and its time left; the refinement test's configuration has one
//! domain, and a tick counts no domain time then); ScheduleSetStart's
//! switch to the start entry is. MCS: the scheduler is not specified yet (every function here
//! does nothing, and the state keeps its default: docs/spec.md).

use crate::cap::ObjId;
use crate::state::State;
use std::collections::BTreeMap;

/// What the scheduler does at the end of the kernel entry (seL4's
/// `ksSchedulerAction`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Action {
    /// The current thread runs on.
    #[default]
    ResumeCurrent,
    /// This thread, just woken, runs if it is the best choice.
    SwitchTo(ObjId),
    /// Choose afresh from the queues.
    ChooseNew,
}

/// The scheduler's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scheduler {
    /// The ready queues by (domain, priority), first first; an empty
    /// queue is absent.
    pub queues: BTreeMap<(u64, u64), Vec<ObjId>>,
    /// The running thread (`None`: the idle thread).
    pub current: Option<ObjId>,
    /// The pending action: always `ResumeCurrent` between kernel entries.
    pub action: Action,
    /// The domain whose threads run (§6.3).
    pub cur_domain: u64,
    /// The current domain's time is up (ScheduleSetStart ends it): the
    /// next choice afresh moves to the schedule's start entry. Always
    /// false between kernel entries (the same entry chooses afresh).
    pub domain_time_up: bool,
}

impl State {
    /// The queue `t` belongs in: its domain's and priority's.
    fn queue_key(&self, t: ObjId) -> Option<(u64, u64)> {
        self.thread(t).map(|x| (x.domain, x.priority))
    }

    /// Whether `t` is in a ready queue.
    pub fn queued(&self, t: ObjId) -> bool {
        self.sched.queues.values().any(|q| q.contains(&t))
    }

    /// seL4's `tcbSchedEnqueue`: `t` at the head of its queue, if in none.
    pub(crate) fn sched_enqueue(&mut self, t: ObjId) {
        self.sched_put(t, true)
    }

    /// seL4's `tcbSchedAppend`: `t` at the tail of its queue, if in none.
    pub(crate) fn sched_append(&mut self, t: ObjId) {
        self.sched_put(t, false)
    }

    fn sched_put(&mut self, t: ObjId, head: bool) {
        if crate::MCS || self.queued(t) {
            return;
        }
        let Some(key) = self.queue_key(t) else {
            return;
        };
        let q = self.sched.queues.entry(key).or_default();
        match head {
            true => q.insert(0, t),
            false => q.push(t),
        }
    }

    /// seL4's `tcbSchedDequeue`: `t` leaves its queue.
    pub(crate) fn sched_dequeue(&mut self, t: ObjId) {
        for q in self.sched.queues.values_mut() {
            q.retain(|&x| x != t);
        }
        self.sched.queues.retain(|_, q| !q.is_empty());
    }

    /// seL4's `rescheduleRequired`: a candidate is queued (unless it
    /// stopped since it was woken in this kernel entry: it is dropped, as
    /// Cairn does; seL4 never stops a candidate in the entry that woke
    /// it), and the scheduler chooses afresh.
    pub(crate) fn reschedule_required(&mut self) {
        if crate::MCS {
            return;
        }
        if let Action::SwitchTo(c) = self.sched.action {
            if self.state_of(c).runnable() {
                self.sched_enqueue(c);
            }
        }
        self.sched.action = Action::ChooseNew;
    }

    /// seL4's `possibleSwitchTo`: `t`, just made runnable, is the
    /// candidate if nothing else is pending; otherwise it is queued (and
    /// the scheduler chooses afresh if its domain runs).
    pub(crate) fn possible_switch_to(&mut self, t: ObjId) {
        if crate::MCS {
            return;
        }
        let domain = self.thread(t).map_or(0, |x| x.domain);
        if domain != self.sched.cur_domain {
            self.sched_enqueue(t);
        } else if self.sched.action != Action::ResumeCurrent {
            self.reschedule_required();
            self.sched_enqueue(t);
        } else {
            self.sched.action = Action::SwitchTo(t);
        }
    }

    /// seL4's `scheduleTCB` (every `setThreadState`): the running thread
    /// that stops being runnable makes the scheduler choose afresh.
    pub(crate) fn schedule_tcb(&mut self, t: ObjId) {
        if self.sched.current == Some(t)
            && self.sched.action == Action::ResumeCurrent
            && !self.state_of(t).runnable()
        {
            self.sched.action = Action::ChooseNew;
        }
    }

    /// seL4's classic `rescheduleRequired` where an operation changed the
    /// running thread itself (its registers, TLS base, IPC buffer: seL4
    /// reloads them only at a switch).
    pub(crate) fn reschedule_if_current(&mut self, t: ObjId) {
        if self.sched.current == Some(t) {
            self.reschedule_required();
        }
    }

    /// seL4's classic `setPriority`: `t` leaves its queue, takes `prio`,
    /// and, if runnable, is woken (the running thread: the scheduler
    /// chooses afresh).
    pub(crate) fn sched_set_priority(&mut self, t: ObjId, prio: u64) {
        self.sched_dequeue(t);
        if let Some(x) = self.thread_mut(t) {
            x.priority = prio;
        }
        if self.state_of(t).runnable() {
            match self.sched.current == Some(t) {
                true => self.reschedule_required(),
                false => self.possible_switch_to(t),
            }
        }
    }

    /// seL4's `setDomain` (DomainSet_Set): `t` leaves its queue, takes
    /// `domain`, and joins its new queue's head if runnable; the running
    /// thread makes the scheduler choose afresh.
    pub(crate) fn set_domain(&mut self, t: ObjId, domain: u64) {
        self.sched_dequeue(t);
        if let Some(x) = self.thread_mut(t) {
            x.domain = domain;
        }
        if self.state_of(t).runnable() {
            self.sched_enqueue(t);
        }
        self.reschedule_if_current(t);
    }

    /// seL4's classic `handleYield` (§6.1, `seL4_Yield`): the running
    /// thread goes to the tail of its queue and the scheduler chooses
    /// afresh (it runs on if no equal is queued).
    pub(crate) fn yield_current(&mut self) {
        if crate::MCS {
            return;
        }
        if let Some(c) = self.sched.current {
            self.sched_dequeue(c);
            self.sched_append(c);
        }
        self.reschedule_required();
    }

    /// seL4's classic `timerTick`: the running thread (if running, not
    /// in Restart or idle) uses a tick of its time slice; at the end of
    /// it the slice is full again, the thread goes to its queue's tail
    /// and the scheduler chooses afresh. (With one domain, no domain
    /// time is counted.)
    pub fn timer_tick(&mut self) {
        if crate::MCS {
            return;
        }
        let Some(c) = self.sched.current else {
            return;
        };
        if self.state_of(c) != crate::thread::ThreadState::Running {
            return;
        }
        let Some(x) = self.thread_mut(c) else {
            return;
        };
        if x.time_slice > 1 {
            x.time_slice -= 1;
            return;
        }
        x.time_slice = crate::thread::TIME_SLICE;
        self.sched_append(c);
        self.reschedule_required();
    }

    /// seL4's `invokeDomainScheduleSetStart`: the current domain's time
    /// ends, and the scheduler chooses afresh (from the start entry's
    /// domain: [`Self::schedule`]).
    pub(crate) fn end_domain_time(&mut self) {
        if crate::MCS {
            return;
        }
        self.sched.domain_time_up = true;
        self.reschedule_required();
    }

    /// seL4's `scheduleChooseNewThread`: the next domain if the current
    /// one's time is up (`nextDomain`: after ScheduleSetStart, the start
    /// entry's), then the choice.
    fn choose_new_thread(&mut self) {
        if std::mem::take(&mut self.sched.domain_time_up) {
            let start = self.domain_schedule.start as usize;
            let domain = self.domain_schedule.entries.get(start).map_or(0, |e| e.0);
            self.sched.cur_domain = domain;
        }
        self.choose_thread();
    }

    /// seL4's `isHighestPrio`: no queued thread of `domain` has a
    /// priority above `prio`.
    fn is_highest_prio(&self, domain: u64, prio: u64) -> bool {
        !self
            .sched
            .queues
            .keys()
            .any(|&(d, p)| d == domain && p > prio)
    }

    /// The domain whose queues the choice reads (seL4 reads domain 0's
    /// when there is one domain).
    fn choice_domain(&self) -> u64 {
        match self.num_domains > 1 {
            true => self.sched.cur_domain,
            false => 0,
        }
    }

    /// seL4's `chooseThread`: the head of the highest non-empty queue of
    /// the current domain runs, taken off its queue; none: idle.
    pub fn choose_thread(&mut self) {
        let domain = self.choice_domain();
        let best = self
            .sched
            .queues
            .iter()
            .rev()
            .find(|(&(d, _), _)| d == domain)
            .and_then(|(_, q)| q.first().copied());
        match best {
            Some(t) => self.switch_to_thread(t),
            None => self.sched.current = None,
        }
    }

    /// seL4's `switchToThread`: `t` runs, out of its queue.
    fn switch_to_thread(&mut self, t: ObjId) {
        self.sched_dequeue(t);
        self.sched.current = Some(t);
    }

    /// seL4's `schedule`, at the end of every kernel entry: carries out
    /// the pending action. Choosing afresh puts a running thread that can
    /// still run at the head of its queue first (it runs on unless a
    /// higher priority is queued); a candidate runs if its priority is at
    /// least the running thread's or no queued thread's is higher (else
    /// it is queued and the choice is the queues'); a candidate of the
    /// running thread's priority goes to the tail, behind it.
    pub fn schedule(&mut self) {
        if crate::MCS {
            return;
        }
        let action = self.sched.action;
        self.sched.action = Action::ResumeCurrent;
        if action == Action::ResumeCurrent {
            return;
        }
        let cur = self.sched.current;
        let was_runnable = cur.filter(|&c| self.state_of(c).runnable());
        if let Some(c) = was_runnable {
            self.sched_enqueue(c);
        }
        let cand = match action {
            Action::SwitchTo(c) if self.state_of(c).runnable() => c,
            _ => return self.choose_new_thread(),
        };
        let prio = |s: &State, t: ObjId| s.thread(t).map_or(0, |x| x.priority);
        let cand_prio = prio(self, cand);
        let fastfail = cur.is_none_or(|c| cand_prio < prio(self, c));
        if fastfail && !self.is_highest_prio(self.choice_domain(), cand_prio) {
            self.sched_enqueue(cand);
            self.choose_new_thread();
        } else if was_runnable.is_some_and(|c| prio(self, c) == cand_prio) {
            self.sched_append(cand);
            self.choose_new_thread();
        } else {
            self.switch_to_thread(cand);
        }
    }

    /// Not seL4: whoever drives the spec (the refinement test) makes `t`
    /// the running thread between kernel entries, as a scheduler of its
    /// own would: `t` leaves its queue, and the thread running before, if
    /// runnable, goes back to its queue's head (as seL4's scheduler puts
    /// a displaced thread). The kernel's scheduler would have chosen by
    /// the queues; the test chooses so that every thread acts, and does
    /// the same to the kernel.
    pub fn run_as(&mut self, t: ObjId) {
        if crate::MCS {
            return;
        }
        self.sched_dequeue(t);
        if let Some(c) = self.sched.current.filter(|&c| c != t) {
            if self.state_of(c).runnable() {
                self.sched_enqueue(c);
            }
        }
        self.sched.current = Some(t);
    }
}
