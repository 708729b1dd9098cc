//! The tests, each a function returning `Err(why)` on failure. They run in
//! order on one root task: later tests use the thread and objects of
//! earlier ones only where they say so.

use crate::ctx::{expect, prepare_thread, Ctx, Outcome, ROOT_PRIO, THREAD_PRIO};
use cairn_rt::alloc::{SlotAllocator, UntypedAllocator};
use cairn_rt::println;
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::cap::init_caps;
use sel4::{BootInfo, CPtr, CapRights, Error, Notification, ObjectType};
use sel4::{SchedContext, Tcb, Word};

/// What the thread has done: 1 started, 2 signalled.
static PROGRESS: AtomicU64 = AtomicU64::new(0);

/// Runs every test and prints the closing line.
pub fn run(bi: &BootInfo) {
    let mut ctx = Ctx {
        bi,
        untypeds: UntypedAllocator::new(bi.untypeds()),
        slots: SlotAllocator::new(bi.empty()),
    };
    let tests: [(&str, fn(&mut Ctx) -> Outcome); 11] = [
        ("bootinfo_names_one_sched_control", bootinfo_names_one_sched_control),
        ("configure_flags_checks_and_configures", configure_flags_checks_and_configures),
        ("set_sched_params_refuses_bad_caps", set_sched_params_refuses_bad_caps),
        ("a_thread_on_its_sched_context_runs_and_signals", a_thread_runs_and_signals),
        ("handler_caps_of_set_space_and_timeout_endpoint", handler_caps),
        ("a_notification_binds_to_a_sched_context", notification_binding),
        ("a_timeout_fault_reaches_the_timeout_handler", crate::timeout::timeout_fault),
        ("configure_flags_errors_in_sel4s_order", crate::errors::configure_flags_errors_in_sel4s_order),
        ("bind_and_unbind_errors_and_state", crate::errors::bind_and_unbind_errors_and_state),
        ("yield_to_errors", crate::errors::yield_to_errors),
        ("recv_and_reply_through_the_library", crate::library::recv_and_reply_through_the_library),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        match test(&mut ctx) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(why) => {
                failed += 1;
                println!("test {name} ... FAILED: {why}");
            }
        }
    }
    println!("conformance: {passed} passed, {failed} failed");
}

fn bootinfo_names_one_sched_control(ctx: &mut Ctx) -> Outcome {
    let r = ctx.bi.sched_control();
    if r.end != r.start + 1 {
        return Err("not one SchedControl cap (one core)");
    }
    let tag = sel4::debug::cap_identify(CPtr(r.start));
    match tag == sel4::tag::SCHED_CONTROL {
        true => Ok(()),
        false => Err("the slot holds no SchedControl cap"),
    }
}

/// `SchedControl_ConfigureFlags`: a budget above the period and a period
/// below the minimum are RangeErrors; a good one configures.
fn configure_flags_checks_and_configures(ctx: &mut Ctx) -> Outcome {
    let sc = SchedContext::from(ctx.make(ObjectType::SchedContext, 8)?);
    let ctl = ctx.sched_control();
    let r = ctl.configure_flags(sc, 2_000, 1_000, 0, 0, 0);
    if !matches!(r, Err(Error::RangeError { max: 1_000, .. })) {
        println!("  budget > period: {r:?}");
        return Err("budget above the period accepted");
    }
    if !matches!(ctl.configure_flags(sc, 1, 1, 0, 0, 0), Err(Error::RangeError { .. })) {
        return Err("a 1 µs period accepted");
    }
    expect(ctl.configure_flags(sc, 1_000, 10_000, 0, 0x42, 0), Ok(()), "configure")?;
    // Nothing is charged to an unbound context.
    match sc.consumed() {
        Ok(0) => Ok(()),
        _ => Err("an unbound context consumed time"),
    }
}

/// The MCS SetSchedParams: another object than a SchedContext is
/// InvalidCapability(2), a bad fault handler InvalidCapability(3), a
/// context bound elsewhere IllegalOperation, and a null cap for the
/// running thread IllegalOperation.
fn set_sched_params_refuses_bad_caps(ctx: &mut Ctx) -> Outcome {
    let tcb = Tcb::from(ctx.make(ObjectType::Tcb, 0)?);
    let sc = ctx.make(ObjectType::SchedContext, 8)?;
    let ep = ctx.make(ObjectType::Endpoint, 0)?;
    let send_only = ctx.mint(ep, CapRights::CAN_WRITE, 1)?;
    let auth = init_caps::TCB;
    let (cnode, null) = (init_caps::CNODE.cptr(), CPtr::NULL);
    let invalid = |index| Err(Error::InvalidCapability { index });
    expect(tcb.set_sched_params(auth, 1, 1, cnode, null), invalid(2), "not an SC")?;
    expect(tcb.set_sched_params(auth, 1, 1, sc, send_only), invalid(3), "Send only")?;
    let root_sc = init_caps::SC.cptr();
    let illegal = Err(Error::IllegalOperation);
    expect(tcb.set_sched_params(auth, 1, 1, root_sc, null), illegal, "bound SC")?;
    let own = auth.set_sched_params(auth, 255, 255, null, null);
    expect(own, illegal, "the running thread's SC")?;
    expect(tcb.set_sched_params(auth, 1, 1, sc, null), Ok(()), "binds")
}

fn thread_entry(ntfn: usize) {
    PROGRESS.store(1, Ordering::SeqCst);
    Notification::from_bits(ntfn as Word).signal();
    PROGRESS.store(2, Ordering::SeqCst);
}

/// A thread configured by the MCS Configure, bound to a configured
/// SchedContext by SetSchedParams and resumed runs at once (it has the
/// higher priority) and signals a notification; then it suspends itself.
fn a_thread_runs_and_signals(ctx: &mut Ctx) -> Outcome {
    let tcb = Tcb::from(ctx.make(ObjectType::Tcb, 0)?);
    let sc = SchedContext::from(ctx.make(ObjectType::SchedContext, 8)?);
    let ntfn = ctx.make(ObjectType::Notification, 0)?;
    let ctl = ctx.sched_control();
    // A budget well above what the thread needs: the image runs without
    // -icount, and a host stall before the thread's first instruction
    // must not use it all up.
    expect(ctl.configure_flags(sc, 20_000, 40_000, 0, 7, 0), Ok(()), "configure")?;
    let auth = init_caps::TCB;
    expect(auth.set_priority(auth, ROOT_PRIO), Ok(()), "root priority")?;
    prepare_thread(ctx, tcb, thread_entry, ntfn.0 as usize)?;
    let r = tcb.set_sched_params(auth, THREAD_PRIO, THREAD_PRIO, sc.cptr(), CPtr::NULL);
    expect(r, Ok(()), "SetSchedParams")?;
    if PROGRESS.load(Ordering::SeqCst) != 0 {
        return Err("ran before Resume");
    }
    expect(tcb.resume(), Ok(()), "Resume")?;
    match PROGRESS.load(Ordering::SeqCst) {
        2 => {}
        1 => return Err("the thread did not come back from Signal"),
        _ => return Err("the thread did not run"),
    }
    println!("  the thread's SchedContext reports {:?} µs consumed", sc.consumed());
    // It suspended itself: unbinding its context is allowed (it is not
    // running), and it stays suspended.
    expect(sc.unbind_object(tcb.cptr()), Ok(()), "UnbindObject")
}

/// SetSpace and SetTimeoutEndpoint take endpoint caps with Send and Grant
/// or GrantReply (or a null cap); another is InvalidCapability(1).
fn handler_caps(ctx: &mut Ctx) -> Outcome {
    let tcb = Tcb::from(ctx.make(ObjectType::Tcb, 0)?);
    let ep = ctx.make(ObjectType::Endpoint, 0)?;
    let send_grant = ctx.mint(ep, CapRights::new(false, true, false, true), 5)?;
    let send_only = ctx.mint(ep, CapRights::CAN_WRITE, 6)?;
    let (cn, vs) = (init_caps::CNODE, init_caps::VSPACE);
    let invalid = Err(Error::InvalidCapability { index: 1 });
    expect(tcb.set_timeout_endpoint(send_only), invalid, "timeout: Send only")?;
    expect(tcb.set_timeout_endpoint(send_grant), Ok(()), "timeout")?;
    expect(tcb.set_space(send_only, cn, 0, vs, 0), invalid, "fault: Send only")?;
    expect(tcb.set_space(send_grant, cn, 0, vs, 0), Ok(()), "fault")?;
    expect(tcb.set_space(CPtr::NULL, cn, 0, vs, 0), Ok(()), "no fault handler")
}

/// `SchedContext_Bind` with a notification, then UnbindObject; each
/// twice (the second time IllegalOperation).
fn notification_binding(ctx: &mut Ctx) -> Outcome {
    let sc = SchedContext::from(ctx.make(ObjectType::SchedContext, 8)?);
    let ntfn = ctx.make(ObjectType::Notification, 0)?;
    let illegal = Err(Error::IllegalOperation);
    expect(sc.bind(ntfn), Ok(()), "Bind")?;
    expect(sc.bind(ntfn), illegal, "Bind again")?;
    expect(sc.unbind_object(ntfn), Ok(()), "UnbindObject")?;
    expect(sc.unbind_object(ntfn), illegal, "UnbindObject again")
}
