//! Host tests of seL4's YieldTo link (`tcbYieldTo`/`scYieldFrom`, MCS
//! build): a `SchedContext_YieldTo` that lets the other thread run first
//! is answered with the context's consumed time when the caller next
//! runs, or when the context or its thread is deleted; suspending or
//! deleting the caller forgets it; a second YieldTo to the same context
//! answers the first caller.

use crate::arch::Kernel;
use crate::cap::Cap;
use crate::object::sched_context::{complete_yield_to, link_yield_to, yield_from, SchedContextRef};
use crate::object::tcb::{TcbRef, ThreadState};
use crate::sched::set_thread_state;
use crate::state::kernel;
use crate::testutil::{self, ok, Outcome, TestKernel};
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType as T;

type Api = crate::api::Api;

/// A thread at priority 50 (the root's too) bound to a configured
/// SchedContext of its own, in the ready queue: (its SchedContext's
/// slot, the context, the thread's slot, the thread).
fn target(k: &TestKernel) -> (u64, SchedContextRef, u64, TcbRef) {
    let t = k.make(T::Tcb, 0, 1)[0];
    let Cap::Thread { tcb } = k.cap(t) else {
        panic!()
    };
    let tr = TcbRef::new(tcb);
    let sc = k.give_sched_context(tr);
    let Cap::SchedContext { ptr, size_bits } = k.cap(sc) else {
        panic!()
    };
    tr.get().set_priority(50);
    set_thread_state(tr, ThreadState::Running);
    crate::sched::enqueue(tr);
    k.tcb.get().set_priority(50);
    (sc, SchedContextRef::new(ptr, size_bits), t, tr)
}

fn yield_to(k: &TestKernel, sc: u64) -> Outcome {
    k.call(sc, l::SCHED_CONTEXT_YIELD_TO, &[], &[])
}

/// The one-word reply the root thread holds: the consumed µs.
fn consumed_reply(us: u64) -> Outcome {
    Outcome::Reply {
        label: 0,
        mrs: vec![us],
    }
}

#[test]
fn the_caller_is_answered_when_it_next_runs() {
    let k = testutil::boot();
    let (sc, scr, _, t) = target(&k);
    assert_eq!(yield_to(&k, sc), ok(), "nothing yet");
    assert_eq!(k.tcb.get().yield_to(), Some(scr.paddr()));
    assert_eq!(yield_from(scr.paddr()), Some(k.tcb));
    // The other thread runs first and uses 1.2345 ms (10 ticks a µs).
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(t));
    scr.set_consumed(12_345);
    assert_eq!(k.tcb.get().yield_to(), Some(scr.paddr()), "still waiting");
    // It stops: the caller runs again, and is told.
    set_thread_state(t, ThreadState::Inactive);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(k.tcb));
    assert_eq!(k.reply(), consumed_reply(1_234));
    assert_eq!(scr.consumed(), 0, "taken (the rest of a µs dropped)");
    assert_eq!(
        (k.tcb.get().yield_to(), yield_from(scr.paddr())),
        (None, None)
    );
    // It may yield again.
    set_thread_state(t, ThreadState::Running);
    crate::sched::enqueue(t);
    assert_eq!(yield_to(&k, sc), ok());
    assert_eq!(yield_from(scr.paddr()), Some(k.tcb));
}

#[test]
fn deleting_the_context_or_its_thread_answers_the_caller() {
    for delete_thread in [false, true] {
        let k = testutil::boot();
        let (sc, scr, t_slot, _) = target(&k);
        assert_eq!(yield_to(&k, sc), ok());
        scr.set_consumed(500);
        let victim = if delete_thread { t_slot } else { sc };
        assert_eq!(crate::cap::delete::cte_delete(k.slot(victim)), Ok(()));
        assert_eq!(k.reply(), consumed_reply(50), "thread {delete_thread}");
        assert_eq!(k.tcb.get().yield_to(), None);
        assert_eq!(yield_from(scr.paddr()), None);
    }
}

#[test]
fn suspending_or_deleting_the_caller_forgets_it() {
    let k = testutil::boot();
    let (_, scr, _, _) = target(&k);
    // Another thread has yielded to the context (linked as YieldTo does).
    let [y_slot, z_slot] = k.make(T::Tcb, 0, 2)[..] else {
        panic!()
    };
    let tcb = |s| match k.cap(s) {
        Cap::Thread { tcb } => TcbRef::new(tcb),
        _ => panic!(),
    };
    let (y, z) = (tcb(y_slot), tcb(z_slot));
    link_yield_to(y, scr.paddr());
    assert_eq!(k.call(y_slot, l::TCB_SUSPEND, &[], &[]), ok());
    assert_eq!((y.get().yield_to(), yield_from(scr.paddr())), (None, None));
    link_yield_to(z, scr.paddr());
    assert_eq!(crate::cap::delete::cte_delete(k.slot(z_slot)), Ok(()));
    assert_eq!(yield_from(scr.paddr()), None);
    // Without a link nothing is written.
    k.tcb.get().set_reg(crate::arch::MSG_INFO_REGISTER, 0x77);
    complete_yield_to(k.tcb);
    assert_eq!(k.tcb.get().reg(crate::arch::MSG_INFO_REGISTER), 0x77);
}

#[test]
fn a_second_yield_to_the_context_answers_the_first_caller() {
    let k = testutil::boot();
    let (sc, scr, _, _) = target(&k);
    let y = k.threads(10, 1)[0];
    link_yield_to(y, scr.paddr());
    scr.set_consumed(2_000);
    assert_eq!(yield_to(&k, sc), ok());
    let mr0 = y.get().reg(crate::arch::MSG_REGISTERS[0]);
    assert_eq!(mr0, 200, "the first caller's answer");
    assert_eq!(y.get().yield_to(), None);
    assert_eq!(yield_from(scr.paddr()), Some(k.tcb), "the new link");
    // A caller already linked is refused (it cannot be running; seL4
    // checks it all the same).
    let illegal = testutil::err(cairn_abi::error::Error::IllegalOperation as u64, &[]);
    assert_eq!(yield_to(&k, sc), illegal);
}
