//! Scheduling (ch. 6 Threads and Execution, *Scheduling*; classic
//! configuration): which thread runs, exactly as seL4 chooses it.
//!
//! * The running thread is not in a ready queue. A thread that becomes
//!   runnable is either queued or named as the scheduler's *candidate*
//!   ([`possible_switch_to`]); the decision is taken once, at kernel exit,
//!   by [`schedule`].
//! * Queues are FIFOs per (domain, priority). A preempted or displaced
//!   running thread goes back to the **head** of its queue (it continues
//!   first among its equals); a thread whose timeslice ran out, or that
//!   yields, goes to the **tail** (round robin).
//! * The kernel never changes a priority by itself; only the TCB
//!   invocations do ([`set_priority`]).
//! * Domains: only threads of the current domain run; the domain schedule
//!   (`domain`) switches domains when the current one's time is used up.
//!
//! Everything here runs inside one kernel entry; the scheduler action is
//! kernel state, so that several events in one entry combine as in seL4.

pub mod domain;
// MCS (issue 12, docs/mcs.md): the sporadic-server refill queue and MCS
// time. Only the MCS kernel uses them; their host tests run in every
// configuration.
// MCS: charging, the release queue and the one-shot timer.
#[cfg(feature = "mcs")]
pub mod mcs;
#[cfg(any(feature = "mcs", test))]
pub mod refill;
#[cfg(any(feature = "mcs", test))]
pub mod ticks;

pub use crate::state::Action;

use crate::object::tcb::{TcbRef, ThreadState};
use crate::state::kernel;

/// The pending scheduler action.
#[inline]
pub fn action() -> Action {
    kernel().action()
}

/// The domain whose queues are used (seL4 uses queue 0 with one domain).
fn queue_domain() -> usize {
    if crate::config::NUM_DOMAINS > 1 {
        kernel().cur_domain() as usize
    } else {
        0
    }
}

/// Whether `t` may join a ready queue: always in the classic kernel;
/// under MCS only if schedulable (`mcs::admit`, which sends a thread on
/// an exhausted context to the release queue).
#[inline(always)]
fn admit(_t: TcbRef) -> bool {
    #[cfg(feature = "mcs")]
    return mcs::admit(_t);
    #[cfg(not(feature = "mcs"))]
    true
}

/// Puts `t` at the head of its ready queue (seL4's `SCHED_ENQUEUE`).
#[inline(always)]
pub fn enqueue(t: TcbRef) {
    if admit(t) {
        kernel().ready().enqueue(t);
    }
}

/// Puts `t` at the tail of its ready queue (seL4's `SCHED_APPEND`).
pub fn append(t: TcbRef) {
    if admit(t) {
        kernel().ready().append(t);
    }
}

/// Takes `t` off its ready queue (MCS: or the release queue).
// Inline: the scheduler's switch to its candidate takes it (out of line,
// the call and the registers saved around it cost a switch 17
// instructions); the rare callers have `rare::dequeue`.
#[inline(always)]
pub fn dequeue(t: TcbRef) {
    kernel().ready().dequeue(t);
    #[cfg(feature = "mcs")]
    mcs::release_remove(t);
}

/// seL4's `setThreadState`: sets the state and, if the running thread
/// stops being runnable, makes the scheduler choose another.
pub fn set_thread_state(t: TcbRef, s: ThreadState) {
    t.get().set_state(s);
    if kernel().is_current(t) && action() == Action::ResumeCurrent && !s.is_runnable() {
        kernel().set_action(Action::ChooseNew);
    }
}

/// seL4's `isSchedulable`: runnable and, under MCS, with a SchedContext
/// (a passive thread runs only on one lent to it: docs/mcs.md). The
/// classic kernel's is `is_runnable`, unchanged.
#[inline(always)]
pub fn is_schedulable(t: TcbRef) -> bool {
    let tcb = t.get();
    #[cfg(feature = "mcs")]
    if tcb.sched_context().is_none() {
        return false;
    }
    tcb.state().is_runnable()
}

/// seL4's `rescheduleRequired`: forget any candidate (queueing it) and
/// choose afresh at kernel exit.
#[inline(always)]
pub fn reschedule_required() {
    match action() {
        // A candidate that stopped in the meantime (a kernel entry that
        // woke a thread and then deleted it) is dropped, not queued.
        Action::SwitchTo(c) if is_schedulable(c) => enqueue(c),
        Action::SwitchTo(_) | Action::ResumeCurrent | Action::ChooseNew => {}
    }
    kernel().set_action(Action::ChooseNew);
}

/// [`enqueue`], [`dequeue`] and [`reschedule_required`] out of line, one
/// copy each, for the rare operations (the TCB, domain, SchedContext and
/// SchedControl invocations, CancelBadgedSends, Suspend): inlined, each
/// caller had its own. The hot paths (schedule, yield, IPC wake-ups, the
/// timer) call the inlined ones (docs/benchmarks.md, "Code size").
pub mod rare {
    use crate::object::tcb::TcbRef;

    /// [`super::enqueue`], out of line.
    #[inline(never)]
    pub fn enqueue(t: TcbRef) {
        super::enqueue(t)
    }

    /// [`super::dequeue`], out of line.
    #[inline(never)]
    pub fn dequeue(t: TcbRef) {
        super::dequeue(t)
    }

    /// [`super::reschedule_required`], out of line.
    #[inline(never)]
    pub fn reschedule_required() {
        super::reschedule_required()
    }
}

/// A wake-up (IPC, a reply, a signal's lent context, Resume): seL4's
/// call sites' sporadic unblock check (`refill_unblock_check`, MCS:
/// `mcs::admit_woken`), then `possibleSwitchTo`: `t` has become runnable
/// and may run at kernel exit if it is the best choice; otherwise it
/// waits in its queue. A thread made runnable otherwise (released from
/// the release queue, new parameters) takes
/// [`possible_switch_to_no_unblock`].
pub fn possible_switch_to(t: TcbRef) {
    // MCS: a thread lent the running context is admitted on the entry's
    // check, and the rest is a leaf (no register saved: the donating Call
    // and the reply that gives the context back); any other takes the
    // full admission out of line, a tail call.
    #[cfg(feature = "mcs")]
    match mcs::admit_lent(t) {
        Some(true) => {}
        Some(false) => return,
        None => return possible_switch_to_checked(t),
    }
    // Admitted (MCS: just now, above; nothing below changes its
    // SchedContext or the release queue), so queued without asking again.
    switch_to_or_enqueue(t);
}

/// seL4's `possibleSwitchTo` itself, where seL4 makes no sporadic unblock
/// check first (docs/mcs.md, "The scheduler"): `awaken` releasing `t`
/// from the release queue and `SchedControl_ConfigureFlags` (which
/// starts or updates the refills itself); the classic `setPriority`.
/// (MCS [`set_priority`] wakes nobody: it re-queues, without the check.)
/// MCS: `t` is admitted on its head refill as it is
/// (`mcs::admit`), so a sporadic thread released late keeps its release
/// time and its period does not drift (Cairn moved that head to the
/// release's entry time until 2026-12-07). Classic: [`possible_switch_to`].
pub fn possible_switch_to_no_unblock(t: TcbRef) {
    #[cfg(feature = "mcs")]
    if !mcs::admit(t) {
        return;
    }
    switch_to_or_enqueue(t);
}

/// [`possible_switch_to`] of a thread not lent the running context: the
/// sporadic unblock check and the full admission (`mcs::admit_woken`).
#[cfg(feature = "mcs")]
#[inline(never)]
fn possible_switch_to_checked(t: TcbRef) {
    if mcs::admit_woken(t) {
        switch_to_or_enqueue(t);
    }
}

/// MCS: seL4's `sendSignal` waking a waiter `t` on its own SchedContext
/// (`ntfn_sc` is the notification's, which a passive waiter may just
/// have been lent): `possibleSwitchTo` as seL4 makes it there, which
/// asks only that the thread has a configured context and is not on the
/// release queue, then the sporadic unblock check; the head refill is not
/// read. A thread that blocked on its own context left it usable (the
/// entry that blocked it checked its budget, and the charge at the switch
/// keeps the head released and sufficient), and nothing consumes a
/// waiter's own context; docs/mcs.md, "What the scheduler checks", has
/// the argument and the one case where this differs (a used context
/// bound to a thread while it waits, which seL4 does not check either).
/// A context lent by the notification (seL4's `maybeDonateSchedContext`
/// then `schedContext_resume`) takes the checked [`possible_switch_to`].
// Inline: its one caller (`ipc::notification`'s wake-up) was a leaf with
// it, and is kept out of line there.
#[cfg(feature = "mcs")]
#[inline(always)]
pub fn signal_switch_to(t: TcbRef, ntfn_sc: Option<crate::types::PAddr>) {
    let tcb = t.get();
    let Some(sc) = tcb.sched_context() else {
        return;
    };
    // The rare cases out of line, and every call a tail call: the common
    // wake-up saves no registers (docs/benchmarks.md, "IRQ to its handler").
    let lent = Some(sc) == ntfn_sc;
    if lent || mcs::needs_unblock_check(t, sc) {
        return signal_switch_to_slow(t, lent);
    }
    if tcb.in_release_queue() || !crate::object::sched_context::is_configured_at(sc) {
        return;
    }
    switch_to_or_enqueue(t);
}

/// [`signal_switch_to`] of a thread lent the notification's context
/// (checked: [`possible_switch_to`]) or on a sporadic one.
#[cfg(feature = "mcs")]
#[cold]
#[inline(never)]
fn signal_switch_to_slow(t: TcbRef, lent: bool) {
    if lent {
        return possible_switch_to(t);
    }
    mcs::unblock_check(t);
    let tcb = t.get();
    let configured = tcb
        .sched_context()
        .is_some_and(crate::object::sched_context::is_configured_at);
    if !tcb.in_release_queue() && configured {
        switch_to_or_enqueue(t);
    }
}

/// [`switch_to_or_enqueue`] of a thread that is not to be the candidate.
#[cfg(feature = "mcs")]
#[inline(never)]
fn enqueue_woken(t: TcbRef) {
    if kernel().cur_domain() == t.get().domain() {
        reschedule_required();
    }
    kernel().ready().enqueue(t);
}

/// The rest of seL4's `possibleSwitchTo`, once `t` may be queued: the
/// scheduler's candidate if it may run at once, else its ready queue.
#[cfg(not(feature = "mcs"))]
#[inline(always)]
fn switch_to_or_enqueue(t: TcbRef) {
    if kernel().cur_domain() != t.get().domain() {
        kernel().ready().enqueue(t);
    } else if action() != Action::ResumeCurrent {
        reschedule_required();
        kernel().ready().enqueue(t);
    } else {
        kernel().set_action(Action::SwitchTo(t));
    }
}

/// MCS: the rest of seL4's `possibleSwitchTo`, as the classic one, but a
/// thread queued while the scheduler already chooses afresh (the donating
/// Call's server, the caller a reply gives the context back to: both
/// leave the running thread without one) is deferred
/// (`ReadyQueues::enqueue_deferred`): the choice at exit takes it without
/// linking it if it is the best, as it nearly always is. The rare cases
/// are tail calls, so the usual one saves no register.
#[cfg(feature = "mcs")]
#[inline(always)]
fn switch_to_or_enqueue(t: TcbRef) {
    let k = kernel();
    if k.cur_domain() != t.get().domain() {
        return rare::enqueue(t);
    }
    match action() {
        Action::ResumeCurrent => k.set_action(Action::SwitchTo(t)),
        // `reschedule_required` would change nothing.
        Action::ChooseNew => k.ready().enqueue_deferred(t),
        Action::SwitchTo(_) => enqueue_woken(t),
    }
}

/// seL4's `isHighestPrio`: no queued thread of `domain` has a higher
/// priority than `prio`.
#[inline]
fn is_highest_prio(domain: usize, prio: u64) -> bool {
    !kernel()
        .ready()
        .any_above(domain, usize::try_from(prio).unwrap_or(usize::MAX))
}

/// Whether [`schedule`], with candidate `to` (priority `to_prio`, of the
/// current domain) and a current thread of priority `cur_prio` that has
/// just blocked, would switch straight to it: the fastpath's condition.
#[inline]
pub fn switches_straight_to(cur_prio: u64, to_prio: u64) -> bool {
    to_prio >= cur_prio || is_highest_prio(queue_domain(), to_prio)
}

fn switch_to(t: TcbRef) {
    dequeue(t);
    kernel().set_current(Some(t));
    crate::object::vspace::activate_thread_vspace(t);
}

/// seL4's `chooseThread`: the best queued thread of the current domain,
/// or idle. It is taken off its queue's head there (`take_best`), as
/// `switch_to`'s dequeue would (a queued thread is on no release queue).
fn choose_thread() {
    let k = kernel();
    match k.ready().take_best(queue_domain()) {
        Some(t) => {
            #[cfg(feature = "mcs")]
            debug_assert!(!t.get().in_release_queue());
            k.set_current(Some(t));
            crate::object::vspace::activate_thread_vspace(t);
        }
        None => k.set_current(None),
    }
}

fn choose_new_thread() {
    if kernel().domains().time_used_up() {
        kernel().next_domain();
    }
    choose_thread();
}

/// seL4's `schedule`: carries out the pending action and returns the
/// thread to run (`None`: idle). Called at every kernel exit.
// Out of line: inlined into the exit path (as LTO would), it costs a null
// syscall 20 more instructions in register saves (docs/benchmarks.md,
// "Code size"). MCS: the call is `schedule_mcs`'s.
#[cfg_attr(feature = "mcs", inline(always))]
#[cfg_attr(not(feature = "mcs"), inline(never))]
pub fn schedule() -> Option<TcbRef> {
    #[cfg(feature = "mcs")]
    return crate::object::tcb::tcb_at(schedule_mcs());
    #[cfg(not(feature = "mcs"))]
    {
        let action = action();
        if action != Action::ResumeCurrent {
            carry_out(action);
        }
        crate::object::tcb::tcb_at(finish())
    }
}

/// MCS: [`schedule`], as the physical address of the thread to run (0:
/// idle; one register, so that every other case is a tail call). Its
/// usual cases are leaves that save no register (docs/benchmarks.md,
/// "The MCS scheduler's leaves"): no thread to release, and either
/// nothing to choose or the thread this entry's wake-up deferred to take
/// ([`switch_to_deferred_alone`]), with no change of SchedContext or
/// timer then ([`exit_time`]). Any other case is a tail call to the
/// action's own end, each step done once, as [`schedule`] always did:
/// `awaken`, the action, `switch_sched_context`, `set_next_interrupt`.
#[cfg(feature = "mcs")]
#[inline(never)]
fn schedule_mcs() -> u64 {
    // `awaken` first: a thread it releases may become the candidate.
    if kernel().mcs().release_head() != 0 {
        return awaken_then_schedule();
    }
    match action() {
        Action::ResumeCurrent => exit_time(),
        Action::ChooseNew => match switch_to_deferred_alone() {
            // Its address space installed here if it is one of the two
            // last installed (a client and its server), else out of line.
            Some(t) if crate::object::vspace::activate_recent_vspace(t) => exit_time_of(t),
            Some(t) => activated(t),
            None => choose_new_exit(),
        },
        Action::SwitchTo(c) => switch_to_exit(c),
    }
}

/// MCS: [`schedule_mcs`] with threads on the release queue: `awaken`,
/// then the action as it then is.
#[cfg(feature = "mcs")]
#[inline(never)]
fn awaken_then_schedule() -> u64 {
    mcs::awaken();
    match action() {
        Action::ResumeCurrent => resume_exit(),
        Action::ChooseNew => choose_new_exit(),
        Action::SwitchTo(c) => switch_to_exit(c),
    }
}

/// MCS: [`schedule`]'s choice afresh when the running thread blocked or
/// lost its context (a donating Call, a reply that gave the context
/// back) and the thread that wake-up deferred is the best: it is taken
/// and runs ([`switch_to_deferred`]'s case, without its fallback), the
/// action becomes ResumeCurrent; the caller activates its address space
/// and ends with [`exit_time_of`] (or [`activated`]). `None`, having changed nothing, in any
/// other case.
#[cfg(feature = "mcs")]
#[inline(always)]
fn switch_to_deferred_alone() -> Option<TcbRef> {
    if !deferred_may_be_chosen() {
        return None;
    }
    let k = kernel();
    let t = k.ready().deferred_best(queue_domain())?;
    k.ready().take_deferred_best(t);
    k.set_current(Some(t));
    k.set_action(Action::ResumeCurrent);
    Some(t)
}

/// MCS: whether the choice afresh may be the thread a wake-up deferred
/// (the condition [`switch_to_deferred_alone`] and [`switch_to_deferred`]
/// share): one is deferred, the running thread is not queued first (it
/// blocked or lost its context), and the domain's time is not up.
#[cfg(feature = "mcs")]
#[inline(always)]
fn deferred_may_be_chosen() -> bool {
    let k = kernel();
    k.ready().has_deferred()
        && !k.current_tcb().is_some_and(current_schedulable)
        && !k.domains().time_used_up()
}

/// MCS: [`schedule_mcs`]'s switch to `t` in an address space other than
/// the two last installed (its ASID looked up), out of line (the leaf
/// saves no register for it), then [`exit_time`].
#[cfg(feature = "mcs")]
#[inline(never)]
fn activated(t: TcbRef) -> u64 {
    crate::object::vspace::activate_thread_vspace(t);
    exit_time()
}

/// MCS: the end of [`schedule_mcs`] once the action is ResumeCurrent
/// (chosen, or nothing to choose): `switch_sched_context` and
/// `set_next_interrupt` have nothing to do if the thread to run is on the
/// context whose time was running and nothing asked for the timer, and
/// the leaf returns; otherwise [`resume_exit`] does them.
#[cfg(feature = "mcs")]
#[inline(always)]
fn exit_time() -> u64 {
    let k = kernel();
    debug_assert!(!k.ready().has_deferred(), "a deferred thread at exit");
    let cur = k.current_tcb();
    let sc = cur.and_then(|t| t.get().sched_context()).map_or(0, |p| p.0);
    if sc == k.mcs().cur_sc() && !k.mcs().reprogram() {
        return cur.map_or(0, |t| t.paddr().0);
    }
    resume_exit()
}

/// MCS: [`exit_time`] when the thread to run is `t`, just chosen (not
/// idle): the leaf's switch to the deferred thread, which passes it on
/// rather than reading the running thread again after the write of
/// `satp` (3 instructions a switch).
#[cfg(feature = "mcs")]
#[inline(always)]
fn exit_time_of(t: TcbRef) -> u64 {
    let k = kernel();
    debug_assert!(k.is_current(t) && !k.ready().has_deferred());
    let sc = t.get().sched_context().map_or(0, |p| p.0);
    if sc == k.mcs().cur_sc() && !k.mcs().reprogram() {
        return t.paddr().0;
    }
    resume_exit()
}

/// MCS: [`schedule_mcs`]'s end for ResumeCurrent (out of line).
#[cfg(feature = "mcs")]
#[inline(never)]
fn resume_exit() -> u64 {
    finish()
}

/// MCS: [`schedule_mcs`]'s end for ChooseNew (out of line): the deferred
/// thread if it is the best, else the choice afresh, also out of line.
#[cfg(feature = "mcs")]
#[inline(never)]
fn choose_new_exit() -> u64 {
    if !switch_to_deferred() {
        choose_afresh();
    }
    finish()
}

/// MCS: [`schedule_mcs`]'s end for a candidate `c` (out of line).
#[cfg(feature = "mcs")]
#[inline(never)]
fn switch_to_exit(c: TcbRef) -> u64 {
    carry_out(Action::SwitchTo(c));
    finish()
}

/// The end of [`schedule`] once the action is carried out: the action
/// becomes ResumeCurrent, and (MCS) the SchedContext is switched and the
/// timer programmed. The thread to run's physical address (0: idle).
#[inline(always)]
fn finish() -> u64 {
    let k = kernel();
    k.set_action(Action::ResumeCurrent);
    #[cfg(feature = "mcs")]
    {
        // Every branch above chose: a deferred thread was taken or linked.
        debug_assert!(!k.ready().has_deferred(), "a deferred thread at exit");
        mcs::switch_sched_context();
        mcs::set_next_interrupt();
    }
    k.current_tcb().map_or(0, |t| t.paddr().0)
}

/// MCS: [`schedule`]'s choice afresh when the running thread is not to be
/// queued (it blocked or lost its context: a donating Call, a reply that
/// gave the context back) and the deferred thread is the best
/// (`ReadyQueues::take_deferred`): it runs, and the choice is over. False,
/// having changed nothing but linking the deferred thread, if
/// [`carry_out`] must choose: none is deferred, the running thread is
/// queued first, the domain's time is up, or a thread of a higher
/// priority is queued.
#[cfg(feature = "mcs")]
#[inline(always)]
fn switch_to_deferred() -> bool {
    if !deferred_may_be_chosen() {
        return false;
    }
    let k = kernel();
    match k.ready().take_deferred(queue_domain()) {
        Some(t) => {
            k.set_current(Some(t));
            crate::object::vspace::activate_thread_vspace(t);
            true
        }
        None => false,
    }
}

/// MCS: [`carry_out`] of ChooseNew, out of line (the usual case is
/// [`switch_to_deferred`]).
#[cfg(feature = "mcs")]
#[inline(never)]
fn choose_afresh() {
    carry_out(Action::ChooseNew);
}

/// [`schedule`]'s choice for an `action` other than ResumeCurrent.
#[inline(always)]
fn carry_out(action: Action) {
    let k = kernel();
    let cur = k.current_tcb();
    let was_runnable = cur.filter(|&c| current_schedulable(c));
    if let Some(c) = was_runnable {
        // Schedulable: queued without asking again (MCS: the entry
        // checked its budget; `mcs::is_schedulable_by_state`).
        k.ready().enqueue(c);
    }
    match action {
        Action::ResumeCurrent | Action::ChooseNew => choose_new_thread(),
        Action::SwitchTo(cand) if !can_switch_to(cand) => choose_new_thread(),
        Action::SwitchTo(cand) => {
            let prio = cand.get().priority();
            let fastfail = cur.is_none_or(|c| prio < c.get().priority());
            if fastfail && !is_highest_prio(queue_domain(), prio) {
                enqueue(cand);
                choose_new_thread();
            } else if was_runnable.is_some_and(|c| c.get().priority() == prio) {
                // The current thread, just put at the head, goes first.
                append(cand);
                choose_new_thread();
            } else {
                switch_to(cand);
            }
        }
    }
}

/// Whether the candidate may still be switched to: runnable (MCS:
/// seL4's `isSchedulable`; its context may have been unbound, deleted or
/// postponed since it was named in this kernel entry. Its refills are
/// not read again: `mcs::is_schedulable_by_state`).
#[inline(always)]
fn can_switch_to(cand: TcbRef) -> bool {
    #[cfg(feature = "mcs")]
    return mcs::is_schedulable_by_state(cand);
    #[cfg(not(feature = "mcs"))]
    cand.get().state().is_runnable()
}

/// Whether the thread that ran goes back to its ready queue when the
/// scheduler chooses: runnable (MCS: seL4's `isSchedulable`, which does
/// not read the refills either; the entry checked its budget:
/// `mcs::is_schedulable_by_state`).
#[inline(always)]
fn current_schedulable(c: TcbRef) -> bool {
    #[cfg(feature = "mcs")]
    {
        let ok = mcs::is_schedulable_by_state(c);
        mcs::debug_check_usable(c, ok);
        ok
    }
    #[cfg(not(feature = "mcs"))]
    is_schedulable(c)
}

/// seL4's `activateThread`: a thread in Restart runs its system call (or
/// faulting instruction) again from FaultIP. Called at kernel exit on the
/// thread [`schedule`] chose.
#[inline]
pub fn activate_thread(tcb: TcbRef) {
    let t = tcb.get();
    if t.state() == ThreadState::Restart {
        t.set_next_ip(t.fault_ip());
        t.set_state(ThreadState::Running);
    }
}

/// A kernel timer tick (seL4's `timerTick`): charge the running thread's
/// timeslice and round robin at equal priority when it runs out; count
/// down the domain's time.
pub fn timer_tick() {
    let k = kernel();
    k.count_tick();
    if let Some(c) = k.current_tcb() {
        let t = c.get();
        if t.state() == ThreadState::Running {
            if t.time_slice() > 1 {
                t.set_time_slice(t.time_slice() - 1);
            } else {
                t.set_time_slice(crate::config::TIME_SLICE);
                append(c);
                reschedule_required();
            }
        }
    }
    if domain::tick() {
        reschedule_required();
    }
}

/// `seL4_Yield`: the running thread goes to the tail of its priority
/// (MCS: it gives up its head refill, `mcs::yield_current`).
pub fn yield_current() {
    #[cfg(feature = "mcs")]
    return mcs::yield_current();
    #[cfg(not(feature = "mcs"))]
    classic_yield();
}

#[cfg(not(feature = "mcs"))]
fn classic_yield() {
    if let Some(c) = kernel().current_tcb() {
        dequeue(c);
        append(c);
    }
    reschedule_required();
}

/// seL4's `setPriority`: requeue `t` at priority `prio`. Its two forms
/// differ in where a ready thread goes: the classic kernel treats it as
/// woken (`possibleSwitchTo`: the scheduler's candidate, or the tail of
/// an equal priority's queue behind the running thread), the MCS kernel
/// puts a queued or running thread at the head of its new queue and
/// always chooses afresh (the MCS form below).
#[cfg(not(feature = "mcs"))]
pub fn set_priority(t: TcbRef, prio: u64) {
    rare::dequeue(t);
    t.get().set_priority(prio);
    if t.get().state().is_runnable() {
        if kernel().is_current(t) {
            rare::reschedule_required();
        } else {
            possible_switch_to_no_unblock(t);
        }
    }
}

/// seL4 16.0.0's MCS `setPriority`. A thread blocked on an endpoint or a
/// notification moves in its priority-ordered wait queue (`reorderEP`,
/// `reorderNTFN`). A runnable thread that is queued or running leaves its
/// ready queue, takes the head of its new one and the scheduler chooses
/// afresh (the running thread, re-queued at its head then, goes first
/// among its equals, the moved thread next); any other (on the release
/// queue, passive, or stopped) only takes the priority: no unblock check
/// and no wake-up, as there is none in seL4's.
#[cfg(feature = "mcs")]
pub fn set_priority(t: TcbRef, prio: u64) {
    if reorder_blocked(t, prio) {
        return;
    }
    let tcb = t.get();
    if tcb.state().is_runnable() && (tcb.in_ready_queue() || kernel().is_current(t)) {
        kernel().ready().dequeue(t);
        tcb.set_priority(prio);
        rare::enqueue(t);
        rare::reschedule_required();
    } else {
        tcb.set_priority(prio);
    }
}

/// MCS: if `t` waits in an endpoint's or a notification's queue, gives
/// it priority `prio` and moves it to its new place there (it is in no
/// ready queue); false, changing nothing, for any other state.
#[cfg(feature = "mcs")]
fn reorder_blocked(t: TcbRef, prio: u64) -> bool {
    use crate::object::{endpoint::EndpointRef, notification::NotificationRef};
    use crate::types::PAddr;
    let tcb = t.get();
    let object = PAddr(tcb.blocking_object());
    match tcb.state() {
        ThreadState::BlockedOnSend | ThreadState::BlockedOnReceive => {
            tcb.set_priority(prio);
            EndpointRef::new(object).get().queue.reorder(t);
        }
        ThreadState::BlockedOnNotification => {
            tcb.set_priority(prio);
            NotificationRef::new(object).get().queue.reorder(t);
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests;
#[cfg(test)]
#[cfg(feature = "mcs")]
pub(crate) mod tests_mcs;
#[cfg(test)]
#[cfg(feature = "mcs")]
mod tests_mcs_release;
