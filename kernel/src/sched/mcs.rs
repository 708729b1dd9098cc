//! MCS scheduling (issue 12, docs/mcs.md, "The scheduler"): time is
//! charged to scheduling contexts, and a thread runs only on a released,
//! sufficient head refill of its own SchedContext.
//!
//! * **Time.** Every kernel entry reads the clock ([`entry`], seL4's
//!   `updateTimestamp`): the time since the last entry is what the
//!   running SchedContext has used, kept uncharged until the context is
//!   switched away from ([`commit_time`]) or runs out ([`check_budget`]).
//! * **Budget.** At each entry the running context must still hold the
//!   minimum budget after what it has used (seL4's `checkBudget`);
//!   otherwise its usage is charged to its refills ([`charge_budget`]),
//!   and it either goes to the end of its ready queue (its head refill is
//!   still usable: round robin) or to the release queue until its head is
//!   released (sporadic). A system call made on an exhausted budget is not
//!   performed: the thread restarts it when it next runs. So a thread
//!   whose budget is used up cannot run, whatever it does.
//! * **Release queue.** Threads that are runnable but whose head refill
//!   is not yet released (or too small) wait there, sorted by release
//!   time; [`awaken`] moves those released to the ready queues at each
//!   scheduling decision.
//! * **Timer.** One-shot, programmed at kernel exit when something
//!   changed ([`set_next_interrupt`]): the earlier of the running
//!   context's budget end and the release queue's first release; no
//!   periodic tick.
//!
//! Schedulable (seL4's `isSchedulable`): runnable, with a configured
//! SchedContext whose head refill is released and holds the minimum
//! budget. The ready-queue functions of `sched` admit only such threads
//! ([`admit`]); a runnable thread on a configured but exhausted context
//! goes to the release queue instead, and one without a configured
//! context (a passive server) goes nowhere.

use crate::object::sched_context::{self, SchedContextRef};
use crate::object::tcb::{tcb_at, TcbRef};
use crate::sched::refill::Ticks;
use crate::sched::ticks::Clock;
use crate::state::kernel;
use crate::types::PAddr;

/// The timer's rate.
fn clock() -> Clock {
    Clock::new(crate::arch::timebase_hz())
}

/// The kernel's minimum budget in ticks, recorded at boot ([`set_time_at_boot`]:
/// the timer's rate is the device tree's, behind a once-cell that costs a
/// fence at every use).
#[inline(always)]
fn min_budget() -> Ticks {
    kernel().mcs().min_budget()
}

/// The time of the current kernel entry (seL4's `ksCurTime`): the clock
/// is read once, when the kernel is entered ([`entry`]: seL4's
/// `updateTimestamp`), and every decision of that entry (charging, the
/// refill checks, the release times it sets and compares) is taken at
/// that time, however long the entry runs. Boot sets it before the root
/// thread's SchedContext is configured.
#[inline(always)]
pub fn cur_time() -> Ticks {
    kernel().mcs().cur_time()
}

/// The SchedContext bound to `t`, if any.
pub fn sc_of(t: TcbRef) -> Option<SchedContextRef> {
    t.get().sched_context().map(SchedContextRef::at)
}

/// Whether `sc`'s head refill is released at `now` and holds at least
/// the minimum budget beyond `usage` (seL4's `refill_ready` and
/// `refill_sufficient`). False for an unconfigured context.
fn head_usable(sc: SchedContextRef, usage: Ticks, now: Ticks) -> bool {
    sc.head_refill()
        .is_some_and(|h| refill_usable(h, usage, now))
}

/// Whether head refill `h` is released at `now` and sufficient beyond
/// `usage` ([`head_usable`]).
#[inline]
fn refill_usable(h: crate::sched::refill::Refill, usage: Ticks, now: Ticks) -> bool {
    h.time <= now && sufficient(h.amount, usage)
}

/// Whether a head refill of `amount` holds at least the minimum budget
/// beyond `usage` (seL4's `refill_sufficient`).
#[inline(always)]
fn sufficient(amount: Ticks, usage: Ticks) -> bool {
    amount
        .checked_sub(usage)
        .is_some_and(|left| left >= min_budget())
}

/// The head refill of `t`'s SchedContext, if it has a configured one
/// (`object::sched_context::head_refill_at`: the words it needs only).
#[inline]
fn head_of(t: TcbRef) -> Option<crate::sched::refill::Refill> {
    t.get()
        .sched_context()
        .and_then(sched_context::head_refill_at)
}

/// Whether `t` may run now: runnable, with a configured context whose
/// head refill is released and sufficient (seL4's `isSchedulable` and
/// the refill checks its callers make: `refill_ready`,
/// `refill_sufficient`).
pub fn is_schedulable(t: TcbRef) -> bool {
    t.get().state().is_runnable() && head_of(t).is_some_and(|h| refill_usable(h, 0, cur_time()))
}

/// seL4's `isSchedulable` itself: runnable, with a configured context,
/// and not on the release queue; the head refill is not read. The
/// scheduler asks it of the threads it already holds within one kernel
/// entry: the running thread, whose budget the entry checked (host builds
/// check that claim: [`debug_check_usable`]), and the candidate, named
/// when it was woken (after the refill check of `possible_switch_to`, or,
/// for a signal's waiter on its own context, without one, as seL4:
/// `sched::signal_switch_to`). See docs/mcs.md, "What the scheduler
/// checks".
#[inline(always)]
pub fn is_schedulable_by_state(t: TcbRef) -> bool {
    let tcb = t.get();
    tcb.state().is_runnable()
        && !tcb.in_release_queue()
        && tcb
            .sched_context()
            .is_some_and(sched_context::is_configured_at)
}

/// Debug builds (the host tests, the fuzzer): the running thread, which
/// [`is_schedulable_by_state`] `accepted` back into its ready queue, has
/// a usable head refill, as [`is_schedulable`] would have checked. Every
/// change to a context's refills within an entry leaves the head usable
/// or sends the thread to the release queue.
#[inline(always)]
pub fn debug_check_usable(t: TcbRef, accepted: bool) {
    debug_assert!(
        !accepted || is_schedulable(t),
        "the running thread has an unusable head refill"
    );
}

/// Whether `t` may go into a ready queue now. A runnable thread whose
/// configured context is not usable yet goes to the release queue
/// instead (seL4's `postpone`); one without a configured context is left
/// out of both queues. A thread already on the release queue stays there.
pub fn admit(t: TcbRef) -> bool {
    let tcb = t.get();
    if tcb.in_release_queue() {
        return false;
    }
    // Configured (a head refill) and usable, or configured and not.
    match head_of(t) {
        None => return false,
        Some(h) if refill_usable(h, 0, cur_time()) => return true,
        Some(_) => {}
    }
    if tcb.state().is_runnable() {
        release_enqueue(t);
    }
    false
}

/// `sched::possible_switch_to`'s admission of a woken thread `t` lent the
/// *running* context by this kernel entry (the passive server a Call
/// woke, the caller a reply gave its context back to): `Some`, whether
/// it is admitted, on the entry's budget check, without reading the head
/// refill again: the entry found that head released and holding its
/// usage plus the minimum budget (a system call is not performed
/// otherwise), and what charges a context within an entry (an exhausted
/// budget, Yield, ConfigureFlags) charges the running thread's, after
/// which it is not lent on. The running thread itself (charged at this
/// entry, then released by `awaken`) is excluded. seL4's `sendIPC`
/// asserts the same of a thread it wakes, and its `doReplyTransfer` reads
/// `refill_ready` and `refill_sufficient(sc, 0)`, which the entry's
/// `checkBudget` implies. Host builds check the claim. `Some(false)`
/// without a context; `None` for any other thread, which takes
/// [`admit_woken`].
#[inline(always)]
pub fn admit_lent(t: TcbRef) -> Option<bool> {
    let tcb = t.get();
    let Some(sc) = tcb.sched_context() else {
        return Some(false);
    };
    let k = kernel();
    if k.mcs().cur_sc() != sc.0 || k.is_current(t) {
        return None;
    }
    let ok = !tcb.in_release_queue() && sched_context::is_configured_at(sc);
    debug_assert!(
        !ok || head_of(t).is_some_and(|h| refill_usable(h, 0, cur_time())),
        "a thread on the running context with an unusable head refill"
    );
    Some(ok)
}

/// `sched::possible_switch_to`'s admission of any other woken thread `t`
/// (IPC, reply, Resume: seL4's call sites that check first): the sporadic
/// unblock check ([`unblock_check`]), then [`admit`]. A release from the
/// release queue and new parameters are admitted by [`admit`] alone
/// (`sched::possible_switch_to_no_unblock`), as seL4's `awaken` and
/// `invokeSchedControl_ConfigureFlags` make no unblock check (nor does
/// its MCS `setPriority`, which re-queues: `sched::set_priority`).
#[inline(always)]
pub fn admit_woken(t: TcbRef) -> bool {
    unblock_check(t);
    admit(t)
}

/// Whether [`unblock_check`] has anything to do for `t` on the context
/// at `sc`: a sporadic one that is not the running context.
#[inline(always)]
pub fn needs_unblock_check(t: TcbRef, sc: PAddr) -> bool {
    !kernel().is_current(t) && kernel().mcs().cur_sc() != sc.0 && sched_context::is_sporadic_at(sc)
}

/// A thread becomes runnable (woken, resumed, bound): a sporadic context
/// whose head was released while it did not run starts that refill now
/// (seL4's `refill_unblock_check`).
pub fn unblock_check(t: TcbRef) {
    let Some(sc) = t.get().sched_context() else {
        return;
    };
    // Not the running context (the running thread's, or one lent on by
    // it): its refills are being used, not waited for. The object's size
    // word (`SchedContextRef::at`) is read only for a sporadic one.
    if kernel().is_current(t) || kernel().mcs().cur_sc() == sc.0 {
        return;
    }
    if sched_context::is_sporadic_at(sc) {
        SchedContextRef::at(sc).unblock_check(cur_time());
    }
}

// ---- Binding and lending ------------------------------------------------
//
// Here rather than in `object::sched_context` (which keeps the object's
// words): unbinding and lending change the queues and the scheduler's
// decision, and the object file importing the scheduler made a cycle
// (docs/architecture.md, "The cycles").

/// seL4's `schedContext_unbindTCB`: the SchedContext at `sc` and the
/// thread bound to it, if any, let go of each other; the thread leaves
/// its queue, and if it is the running one the scheduler chooses afresh.
pub fn unbind_tcb(sc: PAddr) {
    if let Some(t) = sched_context::tcb_of(sc) {
        if kernel().is_current(t) {
            crate::sched::reschedule_required();
        }
        crate::sched::dequeue(t);
        t.get().set_sched_context(None);
    }
    sched_context::set_tcb_of(sc, None);
}

/// seL4's `schedContext_donate`: lends the SchedContext at `sc` to `to`,
/// which has none; the thread that had it leaves its queue (if it runs or
/// is the scheduler's candidate, the scheduler chooses afresh) and is left
/// without one.
///
/// Every Call to a passive server and every reply that gives the context
/// back donates, almost always from the running thread, which is in no
/// queue, while no candidate is named: that case is a leaf (the link
/// words and the scheduler's action), and the others take
/// [`donate_queued`] (docs/benchmarks.md, "The MCS entry").
pub fn donate(sc: PAddr, to: TcbRef) {
    if let Some(from) = sched_context::tcb_of(sc) {
        let k = kernel();
        let tcb = from.get();
        if tcb.in_sched_queue() || matches!(k.action(), crate::state::Action::SwitchTo(_)) {
            return donate_queued(sc, to, from);
        }
        tcb.set_sched_context(None);
        // seL4's `rescheduleRequired` with no candidate to queue.
        if k.is_current(from) {
            k.set_action(crate::state::Action::ChooseNew);
        }
    }
    link_donated(sc, to);
}

/// [`donate`] from a thread on a queue, or while the scheduler has a
/// candidate (which `reschedule_required` queues).
#[cold]
#[inline(never)]
fn donate_queued(sc: PAddr, to: TcbRef, from: TcbRef) {
    crate::sched::dequeue(from);
    from.get().set_sched_context(None);
    let k = kernel();
    let candidate = matches!(k.action(), crate::state::Action::SwitchTo(c) if c == from);
    if k.is_current(from) || candidate {
        crate::sched::reschedule_required();
    }
    link_donated(sc, to);
}

/// The SchedContext at `sc` and `to` name each other.
#[inline(always)]
fn link_donated(sc: PAddr, to: TcbRef) {
    sched_context::set_tcb_of(sc, Some(to));
    to.get().set_sched_context(Some(sc));
}

// ---- Kernel entry -------------------------------------------------------

/// What a kernel entry found of the running context's budget.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Enough is left: the entry's event is handled.
    Left,
    /// It ran out and was charged; the thread waits in a queue. A system
    /// call or exception of the thread is not handled.
    Exhausted,
    /// It ran out and was charged, and the thread has a timeout handler:
    /// the syscall layer must send it a timeout fault
    /// (`ipc::fault::send_timeout_fault`, seL4's `handleTimeout`) before
    /// anything else. The scheduler cannot: it sits below IPC
    /// (docs/architecture.md, "Layers"). Until then the thread is in no
    /// queue; if no fault can be sent, [`end_timeslice`] queues it.
    TimeoutFault(TcbRef),
}

/// Every kernel entry, before its event is handled (seL4's
/// `updateTimestamp` then `checkBudget`): reads the clock, the one read of
/// the entry ([`cur_time`]), and charges the running context if it has
/// run out.
#[inline]
pub fn entry() -> Budget {
    let used = kernel().mcs().update_time(crate::arch::now());
    check_budget(used)
}

/// A system call's or exception's thread was not served (seL4's
/// `checkBudgetRestart`): if still runnable it makes the call again when
/// it next runs.
pub fn restart_current() {
    if let Some(c) = kernel().current_tcb() {
        if c.get().state().is_runnable() {
            crate::sched::set_thread_state(c, crate::object::tcb::ThreadState::Restart);
        }
    }
}

/// The timer interrupt: the entry has charged what ran out; the next
/// deadline is programmed at exit (seL4's `ackDeadlineIRQ` and
/// `ksReprogram`).
pub fn timer_interrupt() {
    kernel().mcs().set_reprogram(true);
}

/// seL4's `checkBudget`: [`Budget::Left`] if the running context still
/// holds the minimum budget after `used`, what it has used uncharged;
/// otherwise its usage is charged and it stops ([`charge_budget`]).
/// Inline, with the charge out of line: every kernel entry but the
/// fastpath's runs the check, and almost none runs out (docs/
/// benchmarks.md, MCS). The head's release time is checked too (seL4
/// asserts it): a thread woken on a context whose head is not released
/// (a signal's waiter: docs/mcs.md, "What the scheduler checks") stops
/// at its next kernel entry.
#[inline]
fn check_budget(used: Ticks) -> Budget {
    let ms = kernel().mcs();
    let head = match ms.cur_sc() {
        // Idle.
        0 => return Budget::Left,
        sc => sched_context::head_refill_at(PAddr(sc)),
    };
    match head {
        // A context unconfigured meanwhile.
        None => Budget::Left,
        Some(h) if refill_usable(h, used, ms.cur_time()) => Budget::Left,
        Some(_) => budget_ran_out(),
    }
}

#[cold]
#[inline(never)]
fn budget_ran_out() -> Budget {
    charge_budget(true)
}

/// The running SchedContext, if configured.
fn running_sc() -> Option<SchedContextRef> {
    let sc = kernel().mcs().cur_sc();
    (sc != 0)
        .then(|| SchedContextRef::at(crate::types::PAddr(sc)))
        .filter(|sc| sc.is_configured())
}

/// Charges the uncharged usage to the running context's refills and its
/// `Consumed` count (seL4's `commitTime`). Usage while idle, or on a
/// context deleted meanwhile, is dropped.
pub fn commit_time() {
    let ms = kernel().mcs();
    let used = ms.take_consumed();
    let sc = ms.cur_sc();
    if used == 0 || sc == 0 {
        return;
    }
    // A round-robin context's usual charge: its two amounts, in place.
    if !sched_context::commit_round_robin_at(PAddr(sc), used, min_budget()) {
        commit_refills(used);
    }
}

/// [`commit_time`] through the refill queue (sporadic and constant
/// bandwidth contexts, a round-robin head run short).
#[inline(never)]
fn commit_refills(used: Ticks) {
    if let Some(sc) = running_sc() {
        let now = kernel().mcs().cur_time();
        let _ = sc.budget_check(used, now, min_budget());
        sc.set_consumed(sc.consumed().saturating_add(used));
    }
}

/// seL4's `chargeBudget`: charges the usage, and if the current thread
/// runs on this context it ends its timeslice ([`end_timeslice`]) and
/// the scheduler chooses afresh. Returns [`Budget::TimeoutFault`] if the
/// thread is to take a timeout fault (only if `can_timeout_fault`).
pub fn charge_budget(can_timeout_fault: bool) -> Budget {
    commit_time();
    let k = kernel();
    let mut out = Budget::Exhausted;
    if let Some(c) = k.current_tcb() {
        let on_it = sc_of(c).is_some_and(|sc| sc.paddr().0 == k.mcs().cur_sc());
        if on_it && c.get().state().is_runnable() {
            if can_timeout_fault && takes_timeout_fault(c) {
                out = Budget::TimeoutFault(c);
            } else {
                end_timeslice(c);
            }
            crate::sched::reschedule_required();
        }
    }
    k.mcs().set_reprogram(true);
    out
}

/// seL4's `endTimeslice` when no timeout fault is raised: a thread whose
/// head refill is still usable (round robin: a fresh timeslice) goes to
/// the end of its ready queue; otherwise it waits on the release queue.
pub fn end_timeslice(t: TcbRef) {
    let Some(sc) = sc_of(t) else {
        return;
    };
    if head_usable(sc, 0, kernel().mcs().cur_time()) {
        crate::sched::append(t);
    } else {
        release_enqueue(t);
    }
}

/// Whether a thread whose budget ran out takes a timeout fault instead
/// of waiting (seL4's `endTimeslice`): its context is not round robin
/// (budget < period) and it has a valid timeout handler
/// (`validTimeoutHandler`: an endpoint cap in its timeout-handler slot,
/// checked when installed).
fn takes_timeout_fault(t: TcbRef) -> bool {
    let round_robin = sc_of(t).is_some_and(|sc| {
        let st = sc.refill_state();
        st.budget == st.period
    });
    !round_robin && crate::object::tcb::Tcb::has_timeout_handler(t)
}

// ---- Yield ----------------------------------------------------------------

/// `seL4_Yield` under MCS: the caller gives up what is left of its head
/// refill (seL4's `handleYield` charges the whole head) and either goes
/// to the end of its queue (round robin) or waits for its next release.
/// Its `Consumed` count grows by the time it actually used only.
pub fn yield_current() {
    let k = kernel();
    let Some(c) = k.current_tcb() else {
        return;
    };
    commit_time();
    if let Some(sc) = sc_of(c).filter(|sc| sc.paddr().0 == k.mcs().cur_sc()) {
        let now = k.mcs().cur_time();
        let _ = sc.yield_head(now, min_budget());
        crate::sched::dequeue(c);
        end_timeslice(c);
    }
    crate::sched::reschedule_required();
    k.mcs().set_reprogram(true);
}

// ---- Scheduling decisions -------------------------------------------------

/// seL4's `switchSchedContext`, after the scheduler chose: if the thread
/// to run has another context than the one whose time was running, a
/// constant-bandwidth new one starts its released head now (seL4's
/// `refill_unblock_check`, which its `switchSchedContext` runs on a
/// context that is not sporadic: a periodic thread's next release then
/// counts from when it began to run, not from its release), the old one
/// is charged and the timer is reprogrammed for the new one.
pub fn switch_sched_context() {
    let k = kernel();
    let new = k
        .current_tcb()
        .and_then(|t| t.get().sched_context())
        .map_or(0, |p| p.0);
    if new != k.mcs().cur_sc() {
        // One word and one test for a sporadic or round-robin context.
        if new != 0 && sched_context::needs_switch_unblock_check_at(PAddr(new)) {
            switch_unblock_check(PAddr(new));
        }
        commit_time();
        k.mcs().set_cur_sc(new);
        k.mcs().set_reprogram(true);
    }
}

/// [`switch_sched_context`]'s unblock check of a constant-bandwidth
/// context (out of line: the switch of the others stays as it was).
#[cold]
#[inline(never)]
fn switch_unblock_check(sc: PAddr) {
    SchedContextRef::at(sc).switch_unblock_check(cur_time());
}

/// At kernel exit: programs the timer if something changed (seL4's
/// `setNextInterrupt`): the end of the running context's head refill (what
/// it has left after its uncharged usage), or the release queue's first
/// release if earlier.
///
/// Idle, the idle thread's timeslice stands for the head refill: seL4's
/// idle thread runs on its own round-robin context (`ksIdleSC`, budget
/// `CONFIG_BOOT_THREAD_TIME_SLICE`, never charged), so an idle seL4 is
/// woken by its timer at least that often, and never programs "never".
/// Cairn programmed `u64::MAX` there, and QEMU 7.2 arms its timer for
/// that `stimecmp` at `INT64_MAX` ns: under `-icount sleep=off` an idle
/// guest's clock jumps to that deadline, overflows, and QEMU spins with
/// its main loop locked out (the `system-control-mcs` hang: docs/mcs.md,
/// "The idle timer").
// Inline: `sched::finish` has three copies (one per action's end), and a
// call out of each cost a switch to a candidate 5 instructions.
#[inline(always)]
pub fn set_next_interrupt() {
    let ms = kernel().mcs();
    if !ms.reprogram() {
        return;
    }
    ms.set_reprogram(false);
    let now = ms.cur_time();
    let head = match ms.cur_sc() {
        0 => None,
        sc => sched_context::head_refill_at(PAddr(sc)),
    };
    let mut next = match head {
        Some(h) => now.saturating_add(h.amount.saturating_sub(ms.consumed())),
        None => idle_deadline(now),
    };
    if let Some(first) = tcb_at(ms.release_head()) {
        next = next.min(release_time(first));
    }
    crate::arch::set_deadline(next);
}

/// [`set_next_interrupt`] with no running context: one idle timeslice
/// from `now` (never before boot records it).
#[cold]
fn idle_deadline(now: Ticks) -> Ticks {
    match kernel().mcs().idle_budget() {
        0 => Ticks::MAX,
        slice => now.saturating_add(slice),
    }
}

/// Moves the threads whose head refill is released to the ready queues
/// (seL4's `awaken`); at each scheduling decision.
pub fn awaken() {
    // The entry's time, as every decision of this entry (seL4's
    // `ksCurTime`): a release that falls while the kernel runs is the
    // timer's next event (`set_next_interrupt`).
    if kernel().mcs().release_head() == 0 {
        return;
    }
    let now = cur_time();
    while let Some(t) = tcb_at(kernel().mcs().release_head()) {
        if release_time(t) > now {
            break;
        }
        release_remove(t);
        // No sporadic unblock check: seL4's `awaken` makes none, so the
        // head refill keeps its release time however late this entry.
        crate::sched::possible_switch_to_no_unblock(t);
    }
}

// ---- The release queue ----------------------------------------------------

/// When `t`'s head refill is released (never, without a configured one).
fn release_time(t: TcbRef) -> Ticks {
    head_of(t).map_or(Ticks::MAX, |h| h.time)
}

/// Puts `t` on the release queue in release-time order, after any thread
/// released at the same time (seL4's `tcbReleaseEnqueue`).
pub fn release_enqueue(t: TcbRef) {
    let tcb = t.get();
    if tcb.in_release_queue() {
        return;
    }
    kernel().ready().dequeue(t);
    let ms = kernel().mcs();
    let at = release_time(t);
    let mut prev = None;
    let mut next = tcb_at(ms.release_head());
    while let Some(n) = next {
        if release_time(n) > at {
            break;
        }
        prev = Some(n);
        next = tcb_at(n.get().sched_next());
    }
    let word = |x: Option<TcbRef>| x.map_or(0, |x| x.paddr().0);
    tcb.set_sched_links(word(prev), word(next));
    match prev {
        Some(p) => p.get().set_sched_links(p.get().sched_prev(), t.paddr().0),
        None => {
            ms.set_release_head(t.paddr().0);
            // A new first release: the timer may have to fire earlier.
            ms.set_reprogram(true);
        }
    }
    if let Some(n) = next {
        n.get().set_sched_links(t.paddr().0, n.get().sched_next());
    }
    tcb.set_in_release_queue(true);
}

/// Takes `t` off the release queue, if it is on it (seL4's
/// `tcbReleaseRemove`).
pub fn release_remove(t: TcbRef) {
    let tcb = t.get();
    if !tcb.in_release_queue() {
        return;
    }
    let ms = kernel().mcs();
    let (prev, next) = (tcb.sched_prev(), tcb.sched_next());
    match tcb_at(prev) {
        Some(p) => p.get().set_sched_links(p.get().sched_prev(), next),
        None => {
            ms.set_release_head(next);
            ms.set_reprogram(true);
        }
    }
    if let Some(n) = tcb_at(next) {
        n.get().set_sched_links(prev, n.get().sched_next());
    }
    tcb.set_sched_links(0, 0);
    tcb.set_in_release_queue(false);
}

/// The release queue, first release first (tests and invariant checks).
pub fn release_queue() -> impl Iterator<Item = TcbRef> {
    let mut next = kernel().mcs().release_head();
    core::iter::from_fn(move || {
        let t = tcb_at(next)?;
        next = t.get().sched_next();
        Some(t)
    })
}

/// Boot is over: the clock starts for the scheduler (seL4 sets
/// `ksCurTime` at boot), so that the time boot took is not charged to the
/// root thread.
pub fn start_clock() {
    let ms = kernel().mcs();
    ms.update_time(crate::arch::now());
    ms.take_consumed();
}

/// Boot, before the root thread's SchedContext is configured: the
/// kernel's time is the clock's from here (seL4 sets `ksCurTime` at boot),
/// and the minimum budget is recorded. Returns the time.
pub fn set_time_at_boot() -> Ticks {
    let ms = kernel().mcs();
    ms.set_min_budget(clock().min_budget());
    ms.set_idle_budget(
        clock()
            .us_to_ticks(crate::sched::ticks::BOOT_THREAD_TIME_SLICE_US)
            .unwrap_or(Ticks::MAX),
    );
    ms.update_time(crate::arch::now());
    ms.cur_time()
}
