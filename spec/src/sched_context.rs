//! MCS: scheduling contexts and reply objects (manual §6.1.2 *Scheduling
//! contexts*, §6.1.3 *Scheduling context donation*, §4.2.4 on reply
//! objects; ch. 10 *SchedContext* and *SchedControl*), as far as they are
//! state and not time.
//!
//! A scheduling context is the right to run: a budget every period,
//! handed out by `SchedControl_ConfigureFlags`, with a badge, a sporadic
//! flag and room for `refill_max` refills (0: never configured). It is
//! bound to at most one thread and one notification (a passive thread
//! woken by the notification runs on it). What it says about *time* (the
//! refills' contents, how much was consumed, who runs when) is not
//! specified, as the scheduler is not for the classic configuration
//! (docs/spec.md). What is specified of time: whether a context is round
//! robin (budget = period: it never takes a timeout fault), and the time
//! it has consumed, in timer ticks, which only whoever drives the spec
//! adds to ([`State::charge`], when it says a thread ran: `timeout.rs`)
//! and `Consumed`, YieldTo and a timeout fault's message take out, in µs
//! (seL4's `schedContext_updateConsumed`).
//!
//! The binding is kept on the scheduling context's side only (its `tcb`
//! and `ntfn`): a thread's or a notification's context is the one that
//! names it ([`State::sc_of_tcb`], [`State::sc_of_ntfn`]), so the two
//! sides cannot disagree.
//!
//! Labels (MCS numbering, ABI ref §13): ConfigureFlags 33, Bind 34,
//! Unbind 35, UnbindObject 36, Consumed 37, YieldTo 38.

use crate::cap::{Cap, ObjId};
use crate::error::SyscallError;
use crate::state::{Object, State};
use crate::thread::ThreadState;

pub const CONFIGURE_FLAGS: u64 = 33;
pub const BIND: u64 = 34;
pub const UNBIND: u64 = 35;
pub const UNBIND_OBJECT: u64 = 36;
pub const CONSUMED: u64 = 37;
pub const YIELD_TO: u64 = 38;

/// `seL4_MinSchedContextBits`, `seL4_ReplyBits` (RISC-V 64).
pub const MIN_SCHED_CONTEXT_BITS: u32 = 7;
pub const REPLY_BITS: u32 = 5;
/// A scheduling context's header and each refill (seL4's
/// `sched_context_t` and `refill_t`): an object of `2^b` bytes holds
/// `(2^b - 96) / 16` refills.
pub const HEADER_BYTES: u64 = 96;
pub const REFILL_BYTES: u64 = 16;
/// `MIN_REFILLS`: every configured context has room for two.
pub const MIN_REFILLS: u64 = 2;
/// The timer's rate (QEMU `virt`, and the test's simulated machine) and
/// the kernel's worst-case execution time estimate: the smallest budget
/// is twice that (seL4's `MIN_BUDGET_US`).
pub const TIMER_HZ: u64 = 10_000_000;
pub const MIN_BUDGET_US: u64 = 2 * 10;
/// `seL4_SchedContext_Sporadic`.
pub const SPORADIC: u64 = 1;

/// µs in timer ticks, rounded down (seL4's `usToTicks`).
pub fn us_to_ticks(us: u64) -> u128 {
    u128::from(us) * u128::from(TIMER_HZ) / 1_000_000
}

/// The longest period and budget (seL4's `MAX_PERIOD_US`: an eighth of
/// what the tick counter holds, in µs).
pub fn max_period_us() -> u64 {
    let us = u128::from(u64::MAX) * 1_000_000 / u128::from(TIMER_HZ);
    u64::try_from(us).unwrap_or(u64::MAX) / 8
}

/// The refills an object of `2^size_bits` bytes has room for (seL4's
/// `refill_absolute_max`).
pub fn refill_capacity(size_bits: u32) -> u64 {
    1u64.checked_shl(size_bits)
        .and_then(|b| b.checked_sub(HEADER_BYTES))
        .map_or(0, |r| r / REFILL_BYTES)
}

/// A scheduling context's state (time left out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchedContext {
    pub size_bits: u32,
    /// The thread that runs on it (bound, or lent it along a Call).
    pub tcb: Option<ObjId>,
    /// The notification bound to it.
    pub ntfn: Option<ObjId>,
    pub badge: u64,
    pub sporadic: bool,
    /// The most refills it uses: 0 until configured, 2 for round robin
    /// (budget = period), else 2 + the extra refills asked for.
    pub refill_max: u64,
    /// The reply object of the newest Call it was lent along (the head
    /// of its call stack, seL4's `scReply`; `crate::ipc_mcs`).
    pub reply: Option<ObjId>,
    /// Configured with budget = period (seL4's `isRoundRobin`: its period
    /// 0): it never takes a timeout fault.
    pub round_robin: bool,
    /// Timer ticks consumed since last taken (seL4's `scConsumed`).
    pub consumed: u64,
}

impl SchedContext {
    pub fn new(size_bits: u32) -> SchedContext {
        SchedContext {
            size_bits,
            ..SchedContext::default()
        }
    }

    pub fn configured(&self) -> bool {
        self.refill_max > 0
    }
}

impl State {
    /// The scheduling context `sc`.
    pub fn sc(&self, sc: ObjId) -> Option<&SchedContext> {
        match self.objects.get(&sc) {
            Some(Object::SchedContext(s)) => Some(s),
            _ => None,
        }
    }

    fn sc_mut(&mut self, sc: ObjId) -> Option<&mut SchedContext> {
        match self.objects.get_mut(&sc) {
            Some(Object::SchedContext(s)) => Some(s),
            _ => None,
        }
    }

    /// The scheduling context thread `t` runs on.
    pub fn sc_of_tcb(&self, t: ObjId) -> Option<ObjId> {
        self.objects.iter().find_map(|(&o, ob)| match ob {
            Object::SchedContext(s) if s.tcb == Some(t) => Some(o),
            _ => None,
        })
    }

    /// The scheduling context bound to notification `n`.
    pub fn sc_of_ntfn(&self, n: ObjId) -> Option<ObjId> {
        self.objects.iter().find_map(|(&o, ob)| match ob {
            Object::SchedContext(s) if s.ntfn == Some(n) => Some(o),
            _ => None,
        })
    }

    /// `SchedControl_ConfigureFlags` (MR0 budget µs, MR1 period µs, MR2
    /// extra refills, MR3 badge, MR4 flags; extra cap 0 the context), its
    /// checks in seL4 16.0.0's order: a missing cap or a short message,
    /// budget then period outside [`MIN_BUDGET_US`, max period], budget
    /// above period, the target not a scheduling context (after the
    /// times: older seL4 checked it first), more extra refills than the
    /// object has room for.
    pub fn sched_control_invoke(
        &mut self,
        label: u64,
        words: &[u64],
        extra: &[Option<Cap>],
    ) -> Result<(), SyscallError> {
        if label != CONFIGURE_FLAGS {
            return Err(SyscallError::IllegalOperation);
        }
        let (Some(target), true) = (extra.first(), words.len() >= 5) else {
            return Err(SyscallError::TruncatedMessage);
        };
        let w = |i: usize| words.get(i).copied().unwrap_or(0);
        let (budget_us, period_us, extra_refills, badge, flags) = (w(0), w(1), w(2), w(3), w(4));
        let max = max_period_us();
        let range = SyscallError::RangeError {
            min: MIN_BUDGET_US,
            max,
        };
        let min_ticks = us_to_ticks(MIN_BUDGET_US);
        let (budget, period) = (us_to_ticks(budget_us), us_to_ticks(period_us));
        if budget_us > max || budget < min_ticks || period_us > max || period < min_ticks {
            return Err(range);
        }
        if budget > period {
            return Err(SyscallError::RangeError {
                min: MIN_BUDGET_US,
                max: period_us,
            });
        }
        let Some(Cap::SchedContext { obj, size_bits }) = *target else {
            return Err(SyscallError::InvalidCapability { index: 1 });
        };
        let room = refill_capacity(size_bits).saturating_sub(MIN_REFILLS);
        if extra_refills > room {
            return Err(SyscallError::RangeError { min: 0, max: room });
        }
        let sc = self.sc_mut(obj).ok_or(SyscallError::IllegalOperation)?;
        sc.badge = badge;
        sc.sporadic = flags & SPORADIC != 0;
        sc.round_robin = budget == period;
        // Round robin (budget = period) needs no more than two refills.
        sc.refill_max = match budget == period {
            true => MIN_REFILLS,
            false => MIN_REFILLS + extra_refills,
        };
        Ok(())
    }

    /// Checks a SchedContext invocation by `caller` on `sc` (seL4's
    /// `decodeSchedContextInvocation`), changing nothing: Bind (a thread
    /// or a notification; both sides unbound; a blocked thread needs a
    /// configured context), UnbindObject (the object bound, not the
    /// caller), Unbind (not the caller's own), YieldTo (a bound thread,
    /// not the caller, of a priority within the caller's MCP), Consumed.
    pub fn sched_context_check(
        &self,
        caller: ObjId,
        sc: ObjId,
        label: u64,
        extra: &[Option<Cap>],
    ) -> Result<(), SyscallError> {
        let s = self.sc(sc).ok_or(SyscallError::IllegalOperation)?;
        let extra_cap = || extra.first().copied().ok_or(SyscallError::TruncatedMessage);
        match label {
            CONSUMED => Ok(()),
            UNBIND if s.tcb == Some(caller) => Err(SyscallError::IllegalOperation),
            UNBIND => Ok(()),
            BIND => match extra_cap()? {
                Some(Cap::Thread { obj }) => {
                    if s.tcb.is_some() || self.sc_of_tcb(obj).is_some() {
                        return Err(SyscallError::IllegalOperation);
                    }
                    if blocked(self.state_of(obj)) && !s.configured() {
                        return Err(SyscallError::IllegalOperation);
                    }
                    Ok(())
                }
                Some(Cap::Notification { obj, .. }) => {
                    if s.ntfn.is_some() || self.sc_of_ntfn(obj).is_some() {
                        return Err(SyscallError::IllegalOperation);
                    }
                    Ok(())
                }
                _ => Err(SyscallError::InvalidCapability { index: 1 }),
            },
            UNBIND_OBJECT => match extra_cap()? {
                Some(Cap::Thread { obj }) if s.tcb != Some(obj) || obj == caller => {
                    Err(SyscallError::IllegalOperation)
                }
                Some(Cap::Notification { obj, .. }) if s.ntfn != Some(obj) => {
                    Err(SyscallError::IllegalOperation)
                }
                Some(Cap::Thread { .. } | Cap::Notification { .. }) => Ok(()),
                _ => Err(SyscallError::InvalidCapability { index: 1 }),
            },
            YIELD_TO => {
                let t = s.tcb.ok_or(SyscallError::IllegalOperation)?;
                let mcp = self.thread(caller).map_or(0, |x| x.mcp);
                let prio = self.thread(t).map_or(0, |x| x.priority);
                if t == caller || prio > mcp {
                    return Err(SyscallError::IllegalOperation);
                }
                Ok(())
            }
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    /// Performs a SchedContext invocation [`State::sched_context_check`]
    /// passed; the words of its answer (Consumed and YieldTo answer the
    /// µs the context consumed, taken out of it). YieldTo to a thread
    /// that would run first is the scheduler's and not specified (the
    /// caller skips it first: [`State::yield_to_schedules`]).
    pub fn sched_context_perform(
        &mut self,
        sc: ObjId,
        label: u64,
        extra: &[Option<Cap>],
    ) -> Option<Vec<u64>> {
        match (label, extra.first().copied().flatten()) {
            (CONSUMED | YIELD_TO, _) => return Some(vec![self.take_consumed_us(sc)]),
            (UNBIND, _) => {
                if let Some(s) = self.sc_mut(sc) {
                    (s.tcb, s.ntfn) = (None, None);
                }
            }
            (BIND, Some(Cap::Thread { obj })) => {
                if let Some(s) = self.sc_mut(sc) {
                    s.tcb = Some(obj);
                }
            }
            (BIND, Some(Cap::Notification { obj, .. })) => {
                if let Some(s) = self.sc_mut(sc) {
                    s.ntfn = Some(obj);
                }
            }
            (UNBIND_OBJECT, Some(Cap::Thread { .. })) => {
                if let Some(s) = self.sc_mut(sc) {
                    s.tcb = None;
                }
            }
            (UNBIND_OBJECT, Some(Cap::Notification { .. })) => {
                if let Some(s) = self.sc_mut(sc) {
                    s.ntfn = None;
                }
            }
            _ => {}
        }
        None
    }

    /// `sc` consumed `ticks` more (seL4's `commitTime`: a thread ran on
    /// it; time is the caller's to say).
    pub fn charge(&mut self, sc: ObjId, ticks: u64) {
        if let Some(s) = self.sc_mut(sc) {
            s.consumed = s.consumed.saturating_add(ticks);
        }
    }

    /// The µs `sc` consumed, taken out of it, the rest of a µs dropped
    /// (seL4's `schedContext_updateConsumed` at a 10 MHz timer, where
    /// every count of ticks fits the answer in µs).
    pub(crate) fn take_consumed_us(&mut self, sc: ObjId) -> u64 {
        let Some(s) = self.sc_mut(sc) else {
            return 0;
        };
        let us = s.consumed / (TIMER_HZ / 1_000_000);
        s.consumed = 0;
        us
    }

    /// Thread `t` lets go of its scheduling context, if it has one.
    pub(crate) fn unbind_sc_of_tcb(&mut self, t: ObjId) {
        if let Some(sc) = self.sc_of_tcb(t).and_then(|sc| self.sc_mut(sc)) {
            sc.tcb = None;
        }
    }

    /// Binds the scheduling context `sc` to thread `t`.
    pub(crate) fn bind_sc(&mut self, sc: ObjId, t: ObjId) {
        if let Some(s) = self.sc_mut(sc) {
            s.tcb = Some(t);
        }
    }

    /// Whether `caller`'s YieldTo on `sc` would pass its checks and make
    /// the scheduler choose (not specified): seL4 16.0.0's
    /// `invokeSchedContext_YieldTo` first postpones a thread whose head
    /// refill is not ready (`schedContext_resume`; time: the spec is told
    /// which are not, [`State::not_ready`]) and answers at once if the
    /// thread then cannot run, or if it can and its priority is below
    /// the caller's (it goes to the head of its ready queue: the
    /// scheduler's, not compared); only a thread that can run at the
    /// caller's priority or above runs first, the caller's answer
    /// deferred until it runs again (the YieldTo link), which is this.
    pub fn yield_to_schedules(&self, sc: ObjId, caller: ObjId) -> bool {
        let Some(s) = self.sc(sc) else {
            return false;
        };
        let Some(t) = s.tcb else {
            return false;
        };
        let (Some(x), Some(c)) = (self.thread(t), self.thread(caller)) else {
            return false;
        };
        let passes = t != caller && x.priority <= c.mcp;
        let can_run = s.configured() && x.state.runnable() && !self.not_ready.contains(&sc);
        passes && can_run && x.priority >= c.priority
    }

    /// What deleting the last cap to the scheduling context `sc` does
    /// (seL4's `finaliseCap`): its thread and notification let go of it.
    pub fn finalise_sched_context(&mut self, sc: ObjId) {
        self.objects.remove(&sc);
    }

    /// What the deletion of a thread's or a notification's last cap does
    /// to the scheduling context bound to it: unbound (it keeps its
    /// configuration).
    pub fn unbind_sc_of(&mut self, obj: ObjId) {
        for o in self.objects.values_mut() {
            if let Object::SchedContext(s) = o {
                if s.tcb == Some(obj) {
                    s.tcb = None;
                }
                if s.ntfn == Some(obj) {
                    s.ntfn = None;
                }
            }
        }
    }
}

/// Blocked: waiting for a message, a reply or a signal (seL4's
/// `isBlocked`).
fn blocked(s: ThreadState) -> bool {
    !matches!(
        s,
        ThreadState::Inactive | ThreadState::Running | ThreadState::Restart
    )
}
