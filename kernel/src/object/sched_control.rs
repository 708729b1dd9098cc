//! MCS scheduling-context invocations, the parts that need no object yet
//! (issue 12, docs/mcs.md): `SchedControl_ConfigureFlags` decoded with
//! seL4's checks, in seL4's order, and the accounting of
//! `SchedContext_Consumed`. Pure functions: the caller (the invocation
//! layer, once SchedContext capabilities exist) looks the target up and
//! performs the result on the object's [`Refills`](crate::sched::refill).

use crate::object::sched_context::{refill_capacity, Configure};
use crate::sched::refill::MIN_REFILLS;
use crate::sched::ticks::{Clock, MIN_BUDGET_US};
use crate::types::SyscallError;

/// What the extra capability of `SchedControl_ConfigureFlags` turned out
/// to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// No extra capability was sent.
    Missing,
    /// A capability to something other than a SchedContext.
    Other,
    /// A SchedContext capability of an object of `size_bits`.
    SchedContext { size_bits: u32 },
}

/// Decodes `SchedControl_ConfigureFlags` (MR0 budget µs, MR1 period µs,
/// MR2 extra refills, MR3 badge, MR4 flags; extra cap 0 the SchedContext;
/// ABI ref §7.7), with seL4's errors in seL4's order: a missing cap or
/// short message, then budget and period each within [`MIN_BUDGET_US`,
/// max period] and budget ≤ period (`RangeError`), then the target
/// (`InvalidCapability(1)`), then the extra refills against the object's
/// room (`RangeError(0, room)`).
pub fn decode_configure_flags(
    length: u64,
    args: [u64; 5],
    target: Target,
    clock: Clock,
) -> Result<Configure, SyscallError> {
    if target == Target::Missing || length < 5 {
        return Err(SyscallError::TruncatedMessage);
    }
    let [budget_us, period_us, extra_refills, badge, flags] = args;
    let max_us = clock.max_period_us();
    let range = SyscallError::RangeError {
        min: MIN_BUDGET_US,
        max: max_us,
    };
    // Bounded by max_us, both convert without overflow (Clock's contract).
    if budget_us > max_us || period_us > max_us {
        return Err(range);
    }
    let budget = clock.us_to_ticks(budget_us).ok_or(range)?;
    let period = clock.us_to_ticks(period_us).ok_or(range)?;
    if budget < clock.min_budget() || period < clock.min_budget() {
        return Err(range);
    }
    if budget > period {
        return Err(SyscallError::RangeError {
            min: MIN_BUDGET_US,
            max: period_us,
        });
    }
    let Target::SchedContext { size_bits } = target else {
        return Err(SyscallError::InvalidCapability { index: 1 });
    };
    let room = refill_capacity(size_bits).saturating_sub(MIN_REFILLS);
    if extra_refills > room {
        return Err(SyscallError::RangeError { min: 0, max: room });
    }
    Ok(Configure {
        budget,
        period,
        max_refills: extra_refills + MIN_REFILLS,
        badge,
        sporadic: flags & cairn_abi_flags::SPORADIC != 0,
    })
}

/// `seL4_SchedContext_Sporadic`, from the ABI in the MCS build (the host
/// tests of the classic build have no MCS ABI).
mod cairn_abi_flags {
    #[cfg(feature = "mcs")]
    pub const SPORADIC: u64 = cairn_abi::invocation::SCHED_CONTEXT_SPORADIC;
    #[cfg(not(feature = "mcs"))]
    pub const SPORADIC: u64 = 1;
}

/// MCS: decodes an invocation of a SchedControl capability (seL4's
/// `decodeSchedControlInvocation`): ConfigureFlags, every other label
/// IllegalOperation.
#[cfg(feature = "mcs")]
pub fn decode(
    inv: &crate::object::invocation::Invocation,
) -> Result<(crate::object::sched_context::SchedContextRef, Configure), SyscallError> {
    use crate::cap::Cap;
    use crate::object::sched_context::SchedContextRef;
    if inv.label != cairn_abi::invocation::label::SCHED_CONTROL_CONFIGURE_FLAGS {
        return Err(SyscallError::IllegalOperation);
    }
    let (target, sc) = match inv.extra_cap(0) {
        None => (Target::Missing, None),
        Some((_, Cap::SchedContext { ptr, size_bits })) => (
            Target::SchedContext {
                size_bits: size_bits as u32,
            },
            Some(SchedContextRef::new(ptr, size_bits)),
        ),
        Some(_) => (Target::Other, None),
    };
    let args = core::array::from_fn(|i| if i < inv.length { inv.arg(i) } else { 0 });
    let clock = Clock::new(crate::arch::timebase_hz());
    let c = decode_configure_flags(inv.length as u64, args, target, clock)?;
    sc.map(|sc| (sc, c))
        .ok_or(SyscallError::InvalidCapability { index: 1 })
}

/// MCS: performs `SchedControl_ConfigureFlags` on `sc` as seL4's
/// `invokeSchedControl_ConfigureFlags`: the bound thread leaves the
/// scheduler's queues while its parameters change, the refills are
/// started afresh (or updated, keeping the head's remaining budget, when
/// the context is in use by a runnable thread), and the thread, if
/// runnable, is offered to the scheduler again (the running thread makes
/// it choose afresh). A context with a thread that is the running one
/// is first charged what it has used so far (seL4's `commitTime`), so
/// that the old parameters pay for it and the new ones start unspent.
#[cfg(feature = "mcs")]
pub fn perform(sc: crate::object::sched_context::SchedContextRef, c: &Configure) {
    use crate::sched;
    let clock = Clock::new(crate::arch::timebase_hz());
    let thread = sc.tcb().and_then(|t| crate::object::tcb::tcb_at(t.0));
    if let Some(t) = thread {
        sched::dequeue(t);
        // The entry checked the budget (a call is not performed on an
        // exhausted one), so the head holds the usage: seL4 asserts it.
        if crate::state::kernel().mcs().cur_sc() == sc.paddr().0 {
            sched::mcs::commit_time();
        }
    }
    let runnable = thread.is_some_and(|t| t.get().state().is_runnable());
    sc.set_parameters(c, runnable, sched::mcs::cur_time(), clock.min_budget());
    if let Some(t) = thread {
        let current = crate::state::kernel().is_current(t);
        if runnable && !current {
            // seL4's `possibleSwitchTo`, no unblock check: the refills
            // were just started or updated at the call's time.
            sched::possible_switch_to_no_unblock(t);
        }
        if current {
            sched::reschedule_required();
        }
    }
}

#[cfg(test)]
mod tests;
