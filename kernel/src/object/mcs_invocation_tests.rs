//! Host tests of the MCS invocations through real system calls (decode
//! and perform, the MCS kernel build only): `SchedControl_ConfigureFlags`
//! with every error seL4 returns and the refills it leaves, and the
//! SchedContext invocations that bind and unbind.

use crate::arch::host::SimMachine;
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
    SimMachine::set_time(12_345);
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
    SimMachine::set_time(20_000);
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
    SimMachine::set_time(1_000);
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
    // A larger budget: the head keeps its 2 ms, the other 1 ms comes
    // back so that both fit in one new period from now.
    SimMachine::set_time(2_000);
    assert_eq!(configure(&k, init::SC, [3_000, 10_000, 0, 0, 0]), ok());
    let st = r.refill_state();
    assert_eq!((st.head, st.tail), (0, 1));
    assert_eq!(
        r.refill(0),
        Some(Refill {
            time: 2_000,
            amount: 20_000
        })
    );
    assert_eq!(
        r.refill(1),
        Some(Refill {
            time: 2_000 + 90_000,
            amount: 10_000
        })
    );
}
