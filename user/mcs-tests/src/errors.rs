//! The errors of the SchedControl and SchedContext invocations through the
//! real ABI, each in seL4's order (its `decodeSchedControl_ConfigureFlags`
//! and `decodeSchedContext_*`, the manual's MCS chapter), and the state
//! after: a refused invocation changes nothing, so the call that follows
//! it still succeeds or fails as if it had not been made. The host tests
//! (`object::mcs_invocation_tests`) check the same decoders directly;
//! these check what a root task sees (error codes and their data in the
//! message registers).

use crate::ctx::{expect, Ctx, Outcome};
use sel4::cap::init_caps;
use sel4::{CPtr, Error, ObjectType, SchedContext, Tcb};

/// seL4's `MIN_BUDGET_US` (2 × `KERNEL_WCET_US`, ABI ref §7.7): the `min`
/// of every budget or period RangeError.
const MIN_BUDGET_US: u64 = 20;

/// `SchedControl_ConfigureFlags`: the times are checked before the
/// target's type, the target before the refills; a null or non-SchedContext
/// target is InvalidCapability(1); a budget or period out of range names
/// `[MIN_BUDGET_US, MAX_PERIOD_US]`, a budget above the period names the
/// period; extra refills beyond the object's room name that room (8 for a
/// 256-byte SchedContext: (256 − 128) / 16 in seL4's layout).
pub fn configure_flags_errors_in_sel4s_order(ctx: &mut Ctx) -> Outcome {
    let sc = SchedContext::from(ctx.make(ObjectType::SchedContext, 8)?);
    let ep = SchedContext::from(ctx.make(ObjectType::Endpoint, 0)?);
    let ctl = ctx.sched_control();
    let invalid = Err(Error::InvalidCapability { index: 1 });

    expect(ctl.configure_flags(ep, 1_000, 10_000, 0, 0, 0), invalid, "an endpoint target")?;
    let null = SchedContext::from(CPtr::NULL);
    expect(ctl.configure_flags(null, 1_000, 10_000, 0, 0, 0), invalid, "a null target")?;
    // A bad budget is reported before the bad target.
    let over = ctl.configure_flags(ep, 2_000, 1_000, 0, 0, 0);
    let want = Err(Error::RangeError { min: MIN_BUDGET_US, max: 1_000 });
    expect(over, want, "budget > period, endpoint target")?;

    // Below the minimum and beyond the maximum: [MIN_BUDGET_US, MAX_PERIOD_US].
    let max_period = match ctl.configure_flags(sc, 1, 10_000, 0, 0, 0) {
        Err(Error::RangeError { min: MIN_BUDGET_US, max }) if max >= 10_000 => max,
        r => {
            cairn_rt::println!("  budget 1 µs: {r:?}");
            return Err("a budget below the minimum");
        }
    };
    let range = Err(Error::RangeError { min: MIN_BUDGET_US, max: max_period });
    expect(ctl.configure_flags(sc, 1_000, max_period + 1, 0, 0, 0), range, "period > max")?;
    expect(ctl.configure_flags(sc, u64::MAX, u64::MAX, 0, 0, 0), range, "budget > max")?;
    expect(ctl.configure_flags(sc, 1_000, MIN_BUDGET_US - 1, 0, 0, 0), range, "short period")?;

    // Refills: the room of a 256-byte object, then one more.
    let room = Err(Error::RangeError { min: 0, max: 8 });
    expect(ctl.configure_flags(sc, 1_000, 10_000, 9, 0, 0), room, "9 extra refills")?;
    expect(ctl.configure_flags(sc, 1_000, 10_000, u64::MAX, 0, 0), room, "huge refills")?;
    // Nothing was configured by the refused calls: an unbound, unconfigured
    // context reports no time, and the room itself is accepted.
    expect(sc.consumed().map(|_| ()), Ok(()), "Consumed")?;
    expect(ctl.configure_flags(sc, 1_000, 10_000, 8, 0, 0), Ok(()), "8 extra refills")?;
    // Reconfiguring a configured context is allowed.
    expect(ctl.configure_flags(sc, MIN_BUDGET_US, MIN_BUDGET_US, 0, 0, 0), Ok(()), "again")
}

/// `SchedContext_Bind` and `UnbindObject`: another object than a thread or
/// a notification is InvalidCapability(1); a bound context, a thread that
/// has one, a notification that has one, and unbinding an object the
/// context is not bound to are IllegalOperation; `Unbind` of the running
/// thread's context is IllegalOperation, of an unbound one a no-op. Each
/// refusal leaves the bindings as they were (the next Bind or Unbind shows
/// it).
pub fn bind_and_unbind_errors_and_state(ctx: &mut Ctx) -> Outcome {
    let sc1 = SchedContext::from(ctx.make(ObjectType::SchedContext, 8)?);
    let sc2 = SchedContext::from(ctx.make(ObjectType::SchedContext, 8)?);
    let a = Tcb::from(ctx.make(ObjectType::Tcb, 0)?);
    let b = Tcb::from(ctx.make(ObjectType::Tcb, 0)?);
    let ep = ctx.make(ObjectType::Endpoint, 0)?;
    let n1 = ctx.make(ObjectType::Notification, 0)?;
    let n2 = ctx.make(ObjectType::Notification, 0)?;
    let illegal = Err(Error::IllegalOperation);

    expect(sc1.bind(ep), Err(Error::InvalidCapability { index: 1 }), "Bind an endpoint")?;
    expect(sc1.bind(CPtr::NULL), Err(Error::InvalidCapability { index: 1 }), "Bind null")?;
    expect(sc1.unbind_object(ep), Err(Error::InvalidCapability { index: 1 }), "UnbindObject ep")?;

    // Threads: one context each, one thread each.
    expect(sc1.bind(a.cptr()), Ok(()), "Bind a")?;
    expect(sc1.bind(b.cptr()), illegal, "Bind a bound context")?;
    expect(sc2.bind(a.cptr()), illegal, "Bind a thread that has one")?;
    expect(sc2.unbind_object(a.cptr()), illegal, "UnbindObject another's thread")?;
    expect(sc2.bind(b.cptr()), Ok(()), "Bind b")?;

    // Notifications: likewise, beside the thread.
    expect(sc1.bind(n1), Ok(()), "Bind n1 beside a")?;
    expect(sc1.bind(n2), illegal, "Bind a second notification")?;
    expect(sc2.bind(n1), illegal, "Bind a bound notification")?;
    expect(sc2.unbind_object(n1), illegal, "UnbindObject another's notification")?;

    // The running thread's context cannot be taken from it.
    let root_sc = init_caps::SC;
    expect(root_sc.unbind(), illegal, "Unbind the running thread's")?;
    expect(root_sc.unbind_object(init_caps::TCB.cptr()), illegal, "UnbindObject the running")?;

    // Unbind drops both objects; a second Unbind has nothing to do.
    expect(sc1.unbind(), Ok(()), "Unbind sc1")?;
    expect(sc1.unbind(), Ok(()), "Unbind sc1 again")?;
    expect(sc1.unbind_object(a.cptr()), illegal, "UnbindObject after Unbind")?;
    expect(sc1.unbind_object(n1), illegal, "UnbindObject ntfn after Unbind")?;
    // Both are free again: the other context takes the notification, and
    // the thread takes a context again.
    expect(sc2.bind(n1), Ok(()), "Bind n1 to sc2")?;
    expect(sc1.bind(a.cptr()), Ok(()), "Bind a again")?;
    expect(sc2.unbind_object(b.cptr()), Ok(()), "UnbindObject b")?;
    expect(sc2.unbind_object(n1), Ok(()), "UnbindObject n1")?;
    expect(sc1.unbind_object(a.cptr()), Ok(()), "UnbindObject a")
}

/// `SchedContext_YieldTo` of a context with no thread, and of the caller's
/// own, are IllegalOperation (seL4's first two checks; the MCP check
/// needs a caller below the root's MCP: a host test, and the conformance
/// suite's `sc_yield_to_a_thread_above_the_callers_mcp_is_illegal` on the
/// MCS kernel), and leave the
/// caller running with its context bound.
pub fn yield_to_errors(ctx: &mut Ctx) -> Outcome {
    let sc = SchedContext::from(ctx.make(ObjectType::SchedContext, 8)?);
    let illegal = Err(Error::IllegalOperation);
    expect(sc.yield_to().map(|_| ()), illegal, "YieldTo an unbound context")?;
    let root_sc = init_caps::SC;
    expect(root_sc.yield_to().map(|_| ()), illegal, "YieldTo the caller's own")?;
    // Still the root's: it cannot be unbound from the running thread, and
    // a Bind of another thread to it is refused.
    expect(root_sc.unbind(), illegal, "the root's context after YieldTo")?;
    let t = Tcb::from(ctx.make(ObjectType::Tcb, 0)?);
    expect(root_sc.bind(t.cptr()), illegal, "Bind to the root's context")
}
