//! Host tests of the MCS invocations through real system calls (decode
//! and perform, the MCS kernel build only): `SchedControl_ConfigureFlags`
//! with every error seL4 returns and the refills it leaves, and the
//! SchedContext invocations that bind and unbind threads and
//! notifications. The MCS TCB forms are in `object::tcb::tests_mcs`.

use crate::cap::Cap;
use crate::object::sched_context::SchedContextRef;
use crate::sched::refill::Refill;
use crate::sched::ticks::{Clock, MIN_BUDGET_US};
use crate::sched::{action, Action};
use crate::testutil::{self, err, ok, TestKernel};
use cairn_abi::cap::init;
use cairn_abi::error::Error;
use cairn_abi::invocation::label as l;
use cairn_abi::invocation::SCHED_CONTEXT_SPORADIC;
use cairn_abi::object::ObjectType as T;

/// 10 MHz, the simulated timebase: 10 ticks a µs.
const TICKS_PER_US: u64 = 10;

/// The SchedControl cap's slot (bootinfo.schedcontrol's first).
fn sched_control(k: &TestKernel) -> u64 {
    (0..1 << k.radix)
        .find(|&i| matches!(k.cap(i), Cap::SchedControl { .. }))
        .expect("a SchedControl cap")
}

fn sc_at(k: &TestKernel, slot: u64) -> SchedContextRef {
    let Cap::SchedContext { ptr, size_bits } = k.cap(slot) else {
        panic!("no SchedContext in {slot}")
    };
    SchedContextRef::new(ptr, size_bits)
}

/// `seL4_SchedControl_ConfigureFlags(ctl, sc, budget, period, extra,
/// badge, flags)`.
fn configure(k: &TestKernel, sc: u64, args: [u64; 5]) -> testutil::Outcome {
    k.call(
        sched_control(k),
        l::SCHED_CONTROL_CONFIGURE_FLAGS,
        &args,
        &[sc],
    )
}

fn range(min: u64, max: u64) -> testutil::Outcome {
    err(Error::RangeError as u64, &[min, max])
}

#[test]
fn configure_flags_refuses_bad_arguments_with_sel4s_errors() {
    let k = testutil::boot();
    let sc = k.make(T::SchedContext, 8, 1)[0];
    let max_us = Clock::new(crate::arch::timebase_hz()).max_period_us();
    // Budget above the period: RangeError up to the period.
    assert_eq!(
        configure(&k, sc, [2_000, 1_000, 0, 0, 0]),
        range(MIN_BUDGET_US, 1_000)
    );
    // Period (and budget) below the kernel's minimum.
    assert_eq!(
        configure(&k, sc, [10, 10, 0, 0, 0]),
        range(MIN_BUDGET_US, max_us)
    );
    assert_eq!(
        configure(&k, sc, [10, 1_000, 0, 0, 0]),
        range(MIN_BUDGET_US, max_us)
    );
    // Above the largest period.
    assert_eq!(
        configure(&k, sc, [100, max_us + 1, 0, 0, 0]),
        range(MIN_BUDGET_US, max_us)
    );
    // Too many refills for a 256-byte object: room for (256-96)/16 - 2.
    assert_eq!(configure(&k, sc, [100, 1_000, 9, 0, 0]), range(0, 8));
    // No SchedContext: missing (TruncatedMessage) or another cap.
    assert_eq!(
        k.call(
            sched_control(&k),
            l::SCHED_CONTROL_CONFIGURE_FLAGS,
            &[100, 1_000, 0, 0, 0],
            &[]
        ),
        err(Error::TruncatedMessage as u64, &[])
    );
    assert_eq!(
        configure(&k, init::TCB, [100, 1_000, 0, 0, 0]),
        err(Error::InvalidCapability as u64, &[1])
    );
    // A short message.
    assert_eq!(
        k.call(
            sched_control(&k),
            l::SCHED_CONTROL_CONFIGURE_FLAGS,
            &[100, 1_000, 0, 0],
            &[sc]
        ),
        err(Error::TruncatedMessage as u64, &[])
    );
    // Any other label.
    assert_eq!(
        k.call(sched_control(&k), l::SCHED_CONTEXT_CONSUMED, &[], &[sc]),
        err(Error::IllegalOperation as u64, &[])
    );
    // Nothing was configured by the refusals.
    assert!(!sc_at(&k, sc).is_configured());
}

/// A context with no runnable thread gets fresh refills (seL4's
/// refill_new): the whole budget released now, the requested capacity,
/// the flag and the badge.
#[test]
fn configure_flags_sets_fresh_refills_badge_and_flag() {
    let k = testutil::boot();
    let sc = k.make(T::SchedContext, 8, 1)[0];
    crate::testutil::set_time(12_345);
    assert_eq!(
        configure(&k, sc, [1_000, 4_000, 8, 77, SCHED_CONTEXT_SPORADIC]),
        ok()
    );
    let r = sc_at(&k, sc);
    let st = r.refill_state();
    assert!(r.is_configured() && st.sporadic);
    assert_eq!(
        (st.budget, st.period, st.max, st.head, st.tail),
        (1_000 * TICKS_PER_US, 4_000 * TICKS_PER_US, 10, 0, 0)
    );
    assert_eq!(
        r.refill(0),
        Some(Refill {
            time: 12_345,
            amount: 10_000
        })
    );
    assert_eq!(r.badge(), 77);
    // Reconfigured without the flag and as round robin (budget = period):
    // two refills, whatever was asked, the flag cleared.
    crate::testutil::set_time(20_000);
    assert_eq!(configure(&k, sc, [500, 500, 8, 5, 0]), ok());
    let st = r.refill_state();
    assert!(!st.sporadic);
    assert_eq!(
        (st.budget, st.period, st.max, st.head, st.tail),
        (5_000, 5_000, 2, 0, 1)
    );
    assert_eq!(
        r.refill(0),
        Some(Refill {
            time: 20_000,
            amount: 5_000
        })
    );
    assert_eq!(
        r.refill(1),
        Some(Refill {
            time: 20_000,
            amount: 0
        })
    );
    assert_eq!(r.badge(), 5);
}

/// Reconfiguring the running thread's own context keeps the bandwidth
/// (seL4's refill_update: the head keeps what it has left, up to the new
/// budget, released now) and makes the scheduler choose afresh.
#[test]
fn configure_flags_updates_the_running_threads_context_and_reschedules() {
    let k = testutil::boot();
    let r = sc_at(&k, init::SC);
    assert_eq!(r.tcb(), Some(k.tcb.paddr()));
    crate::state::kernel().set_action(Action::ResumeCurrent);
    crate::testutil::set_time(1_000);
    // 5 ms left in the head; new budget 2 ms per 10 ms.
    assert_eq!(configure(&k, init::SC, [2_000, 10_000, 0, 0, 0]), ok());
    assert_eq!(action(), Action::ChooseNew);
    let st = r.refill_state();
    assert_eq!((st.budget, st.period, st.max), (20_000, 100_000, 2));
    assert_eq!(
        r.refill(st.head),
        Some(Refill {
            time: 1_000,
            amount: 20_000
        })
    );
    assert_eq!(r.tcb(), Some(k.tcb.paddr()), "still bound");
    // A larger budget, 0.1 ms later: the head is charged the 0.1 ms the
    // thread ran (seL4's commitTime) and keeps the 1.9 ms left, the other
    // 1.1 ms comes back one new period after the head (seL4's
    // `refill_update`; until 2026-12-07 Cairn had it back 1.1 ms
    // earlier, so that both fit in one new period from now).
    crate::testutil::set_time(2_000);
    assert_eq!(configure(&k, init::SC, [3_000, 10_000, 0, 0, 0]), ok());
    let st = r.refill_state();
    assert_eq!((st.head, st.tail), (0, 1));
    assert_eq!(
        r.refill(0),
        Some(Refill {
            time: 2_000,
            amount: 19_000
        })
    );
    assert_eq!(
        r.refill(1),
        Some(Refill {
            time: 2_000 + 100_000,
            amount: 11_000
        })
    );
}

/// The running context is charged what it has used before it takes new
/// parameters (seL4's `commitTime` in `invokeSchedControl_ConfigureFlags`):
/// the usage counts in `Consumed` and against the old refills, and the
/// new budget starts whole. Cairn charged it later, to the new refills.
#[test]
fn configure_flags_charges_the_running_context_first() {
    use crate::arch::{host::SimMachine, Kernel};
    let k = testutil::boot();
    let r = sc_at(&k, init::SC);
    let mcs = crate::state::kernel().mcs();
    assert_eq!(mcs.cur_sc(), r.paddr().0, "the root runs on its context");
    let (t0, before) = (crate::sched::mcs::cur_time(), r.consumed());
    // 3 ms of its 5 ms round-robin head used when it makes the call.
    let t = t0 + 3_000 * TICKS_PER_US;
    SimMachine::set_time(t);
    k.load(
        sched_control(&k),
        l::SCHED_CONTROL_CONFIGURE_FLAGS,
        &[2_000, 10_000, 0, 0, 0],
        &[init::SC],
    );
    crate::api::handle_syscall(cairn_abi::syscall::SYS_CALL);
    crate::api::Api::current_context();
    assert_eq!(k.reply(), ok());
    assert_eq!(r.consumed(), before + 30_000, "charged to the context");
    assert_eq!(mcs.consumed(), 0, "nothing left to charge");
    // The new 2 ms budget, released now, is whole: the timer is set for
    // its end (it was set for now: the 3 ms charged to the new 2 ms).
    let st = r.refill_state();
    assert_eq!((st.budget, st.period), (20_000, 100_000));
    assert_eq!(
        r.refill(st.head),
        Some(Refill {
            time: t,
            amount: 20_000
        })
    );
    assert_eq!(SimMachine::deadline(), Some(t + 20_000));
}

fn ok_word(w: u64) -> testutil::Outcome {
    testutil::Outcome::Reply {
        label: 0,
        mrs: vec![w],
    }
}

fn tcb_at(k: &TestKernel, slot: u64) -> crate::object::tcb::TcbRef {
    let Cap::Thread { tcb } = k.cap(slot) else {
        panic!("no TCB in {slot}")
    };
    crate::object::tcb::TcbRef::new(tcb)
}

/// `SchedContext_Bind` and `UnbindObject` with a thread: every refusal
/// seL4 makes (missing or wrong cap, a bound context, a bound thread, a
/// blocked thread and a context whose budget is not released, an
/// unbound object, the running thread's), then the link both ways.
#[test]
fn bind_and_unbind_object_with_sel4s_checks() {
    let k = testutil::boot();
    let [sc, sc2] = k.make(T::SchedContext, 8, 2)[..] else {
        panic!()
    };
    let [t, t2] = k.make(T::Tcb, 0, 2)[..] else {
        panic!()
    };
    let (r, tr, tr2) = (sc_at(&k, sc), tcb_at(&k, t), tcb_at(&k, t2));
    let bind = |sc, extra: &[u64]| k.call(sc, l::SCHED_CONTEXT_BIND, &[], extra);
    let unbind = |sc, extra: &[u64]| k.call(sc, l::SCHED_CONTEXT_UNBIND_OBJECT, &[], extra);
    let illegal = err(Error::IllegalOperation as u64, &[]);
    assert_eq!(bind(sc, &[]), err(Error::TruncatedMessage as u64, &[]));
    assert_eq!(
        bind(sc, &[init::CNODE]),
        err(Error::InvalidCapability as u64, &[1])
    );
    // The root thread already has one.
    assert_eq!(bind(sc, &[init::TCB]), illegal);
    // A blocked thread needs a released budget: unconfigured, then
    // configured with its head released in the future, refused.
    tr.get()
        .set_state(crate::object::tcb::ThreadState::BlockedOnReceive);
    assert_eq!(bind(sc, &[t]), illegal);
    crate::testutil::set_time(1_000);
    assert_eq!(configure(&k, sc, [1_000, 4_000, 0, 0, 0]), ok());
    crate::testutil::set_time(999);
    assert_eq!(bind(sc, &[t]), illegal);
    assert_eq!(r.tcb(), None);
    crate::testutil::set_time(1_000);
    assert_eq!(bind(sc, &[t]), ok());
    assert_eq!(r.tcb(), Some(tr.paddr()));
    assert_eq!(tr.get().sched_context(), Some(r.paddr()));
    assert!(!tr.get().in_ready_queue(), "blocked: not queued");
    // Binding a bound context, or a bound thread.
    assert_eq!(bind(sc, &[t2]), illegal);
    assert_eq!(bind(sc2, &[t]), illegal);
    // UnbindObject: wrong cap, not the bound thread, the running thread's.
    assert_eq!(unbind(sc, &[]), err(Error::TruncatedMessage as u64, &[]));
    assert_eq!(
        unbind(sc, &[init::CNODE]),
        err(Error::InvalidCapability as u64, &[1])
    );
    assert_eq!(unbind(sc, &[t2]), illegal);
    assert_eq!(unbind(init::SC, &[init::TCB]), illegal);
    assert_eq!(
        k.tcb.get().sched_context(),
        Some(sc_at(&k, init::SC).paddr())
    );
    assert_eq!(unbind(sc, &[t]), ok());
    assert_eq!((r.tcb(), tr.get().sched_context()), (None, None));
    // A runnable thread bound to a configured context joins the ready
    // queue and the scheduler chooses afresh.
    tr2.get()
        .set_state(crate::object::tcb::ThreadState::Running);
    crate::state::kernel().set_action(Action::ResumeCurrent);
    assert_eq!(bind(sc, &[t2]), ok());
    assert!(tr2.get().in_ready_queue());
    assert_eq!(action(), Action::ChooseNew);
    // Unbinding takes it off the queue.
    assert_eq!(unbind(sc, &[t2]), ok());
    assert!(!tr2.get().in_ready_queue());
}

/// `SchedContext_YieldTo`: refused for an unbound context, the caller's
/// own, and a thread of higher priority than the caller's MCP; a lower
/// thread goes to the head of its queue and the caller goes on; an equal
/// or higher one runs first (the caller is queued, the scheduler chooses
/// afresh). The caller gets the consumed time at once only in the first
/// case.
#[test]
fn yield_to_with_sel4s_checks_and_queue_moves() {
    let k = testutil::boot();
    let sc = k.make(T::SchedContext, 8, 1)[0];
    let t = k.make(T::Tcb, 0, 1)[0];
    let tr = tcb_at(&k, t);
    let yield_to = |sc| k.call(sc, l::SCHED_CONTEXT_YIELD_TO, &[], &[]);
    let illegal = err(Error::IllegalOperation as u64, &[]);
    assert_eq!(yield_to(sc), illegal, "no thread bound");
    assert_eq!(yield_to(init::SC), illegal, "the caller's own");
    assert_eq!(configure(&k, sc, [1_000, 4_000, 0, 0, 0]), ok());
    tr.get().set_priority(50);
    tr.get().set_state(crate::object::tcb::ThreadState::Running);
    assert_eq!(k.call(sc, l::SCHED_CONTEXT_BIND, &[], &[t]), ok());
    crate::sched::dequeue(tr);
    k.tcb.get().set_mcp(49);
    assert_eq!(yield_to(sc), illegal, "priority above the caller's MCP");
    assert!(!tr.get().in_ready_queue());
    k.tcb.get().set_mcp(50);
    crate::state::kernel().set_action(Action::ResumeCurrent);
    assert_eq!(yield_to(sc), ok_word(0));
    assert!(tr.get().in_ready_queue());
    assert_eq!(action(), Action::ResumeCurrent, "a lower thread waits");
    // Equal priority: it runs before the caller, which is answered when
    // it next runs (the YieldTo link: `object::mcs_yield_tests`).
    k.tcb.get().set_priority(50);
    assert_eq!(yield_to(sc), ok());
    assert!(tr.get().in_ready_queue() && k.tcb.get().in_ready_queue());
    assert_eq!(action(), Action::ChooseNew);
}

fn ntfn_at(k: &TestKernel, slot: u64) -> crate::types::PAddr {
    let Cap::Notification { ptr, .. } = k.cap(slot) else {
        panic!("no notification in {slot}")
    };
    ptr
}

/// `SchedContext_Bind` and `UnbindObject` with a notification (seL4's
/// `schedContext_bindNtfn`): a bound context or notification is
/// IllegalOperation, unbinding one not bound too; the link both ways,
/// cleared by UnbindObject, by Unbind, and by deleting either object's
/// last cap.
#[test]
fn bind_and_unbind_a_notification_with_sel4s_checks() {
    use crate::object::notification::NotificationRef;
    use crate::object::sched_context::notification_at;
    let k = testutil::boot();
    let [sc, sc2] = k.make(T::SchedContext, 8, 2)[..] else {
        panic!()
    };
    let [n, n2] = k.make(T::Notification, 0, 2)[..] else {
        panic!()
    };
    let (r, r2) = (sc_at(&k, sc), sc_at(&k, sc2));
    let ntfn = |slot| NotificationRef::new(ntfn_at(&k, slot));
    let bind = |sc, extra: &[u64]| k.call(sc, l::SCHED_CONTEXT_BIND, &[], extra);
    let unbind = |sc, extra: &[u64]| k.call(sc, l::SCHED_CONTEXT_UNBIND_OBJECT, &[], extra);
    let illegal = err(Error::IllegalOperation as u64, &[]);
    assert_eq!(unbind(sc, &[n]), illegal, "not bound");
    assert_eq!(bind(sc, &[n]), ok());
    assert_eq!(notification_at(r.paddr()), Some(ntfn_at(&k, n)));
    assert_eq!(ntfn(n).get().sched_context(), Some(r.paddr()));
    assert_eq!(bind(sc, &[n2]), illegal, "context bound");
    assert_eq!(bind(sc2, &[n]), illegal, "notification bound");
    assert_eq!(unbind(sc2, &[n]), illegal, "bound to another");
    assert_eq!(unbind(sc, &[n2]), illegal, "not this one");
    // A thread can still be bound to a context with a notification.
    let t = k.make(T::Tcb, 0, 1)[0];
    assert_eq!(bind(sc, &[t]), ok());
    assert_eq!(unbind(sc, &[n]), ok());
    assert_eq!(notification_at(r.paddr()), None);
    assert_eq!(ntfn(n).get().sched_context(), None);
    assert_eq!(r.tcb(), Some(tcb_at(&k, t).paddr()), "the thread stays");
    // Unbind lets go of the thread and the notification.
    assert_eq!(bind(sc, &[n]), ok());
    assert_eq!(k.call(sc, l::SCHED_CONTEXT_UNBIND, &[], &[]), ok());
    assert_eq!((r.tcb(), notification_at(r.paddr())), (None, None));
    assert_eq!(ntfn(n).get().sched_context(), None);
    // Deleting the notification's last cap unbinds it.
    assert_eq!(bind(sc2, &[n2]), ok());
    let n2_pa = ntfn_at(&k, n2);
    assert_eq!(k.call(init::CNODE, l::CNODE_DELETE, &[n2, 64], &[]), ok());
    assert_eq!(notification_at(r2.paddr()), None);
    // And the context's last cap.
    assert_eq!(bind(sc2, &[n]), ok());
    assert_eq!(k.call(init::CNODE, l::CNODE_DELETE, &[sc2, 64], &[]), ok());
    assert_eq!(ntfn(n).get().sched_context(), None);
    assert_eq!(NotificationRef::new(n2_pa).get().sched_context(), None);
}
