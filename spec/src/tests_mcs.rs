//! The MCS configuration (`--features mcs`): Retype of scheduling
//! contexts and reply objects, SchedControl_ConfigureFlags and the
//! SchedContext methods with their errors in seL4's order, and what
//! deletion does to bindings.

use crate::cap::Cap;
use crate::error::SyscallError;
use crate::sched_context::*;
use crate::state::{Object, SlotId, State};
use crate::tests_world::{boot, call, root, ROOT, TCB};
use crate::untyped::RETYPE;

/// The shared world (`tests_world::boot`: the thread, its CNode, the
/// untyped in slot 1, its IPC buffer in TCB slot 2, the MCS layout) and a
/// SchedControl cap in root slot 15.
pub(crate) fn world() -> State {
    let mut s = boot();
    s.insert_original(root(15), Cap::SchedControl);
    s
}

/// Retypes `count` objects of MCS type `ty` (size `size`) into root
/// slots from `at`.
pub(crate) fn retype(
    s: &mut State,
    ty: u64,
    size: u64,
    at: u64,
    count: u64,
) -> Result<(), SyscallError> {
    call(s, 1, RETYPE, &[ty, size, 0, 0, at, count], &[0])
}

pub(crate) const SC_TYPE: u64 = 5;
const REPLY_TYPE: u64 = 6;

pub(crate) fn sc_at(s: &State, slot: u64) -> u64 {
    match s.cap(root(slot)) {
        Some(Cap::SchedContext { obj, .. }) => obj,
        c => panic!("no SchedContext in slot {slot}: {c:?}"),
    }
}

#[test]
fn retype_makes_sched_contexts_and_reply_objects_by_their_mcs_numbers() {
    let mut s = world();
    let small = retype(&mut s, SC_TYPE, 6, 2, 1);
    assert_eq!(small, Err(SyscallError::InvalidArgument { index: 1 }));
    assert_eq!(retype(&mut s, SC_TYPE, 8, 2, 1), Ok(()));
    assert_eq!(retype(&mut s, REPLY_TYPE, 0, 3, 1), Ok(()));
    let sc = sc_at(&s, 2);
    assert_eq!(s.sc(sc), Some(&SchedContext::new(8)));
    let Some(Cap::ReplyObject { obj, grant: true }) = s.cap(root(3)) else {
        panic!("a reply cap")
    };
    assert_eq!(
        s.objects.get(&obj),
        Some(&Object::Reply {
            caller: None,
            prev: None
        })
    );
    // Type 7 is a 1 GiB frame under MCS (5 in classic): too big here.
    let e = retype(&mut s, 7, 0, 4, 1);
    assert!(matches!(e, Err(SyscallError::NotEnoughMemory { .. })));
}

#[test]
fn configure_flags_checks_in_sel4s_order() {
    let mut s = world();
    retype(&mut s, SC_TYPE, 8, 2, 1).expect("a SchedContext");
    let sc = sc_at(&s, 2);
    let cfg =
        |s: &mut State, words: &[u64], extra: &[u64]| call(s, 15, CONFIGURE_FLAGS, words, extra);
    let max = max_period_us();
    let range = SyscallError::RangeError {
        min: MIN_BUDGET_US,
        max,
    };
    assert_eq!(
        cfg(&mut s, &[1000, 1000, 0, 0, 0], &[]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        cfg(&mut s, &[1000, 1000, 0, 0], &[2]),
        Err(SyscallError::TruncatedMessage)
    );
    // The times before the target (seL4 16.0.0's order).
    assert_eq!(cfg(&mut s, &[0, 0, 0, 0, 0], &[1]), Err(range));
    assert_eq!(
        cfg(&mut s, &[1000, 1000, 0, 0, 0], &[1]),
        Err(SyscallError::InvalidCapability { index: 1 })
    );
    assert_eq!(cfg(&mut s, &[10, 1000, 0, 0, 0], &[2]), Err(range));
    assert_eq!(cfg(&mut s, &[1000, max + 1, 0, 0, 0], &[2]), Err(range));
    assert_eq!(
        cfg(&mut s, &[2000, 1000, 0, 0, 0], &[2]),
        Err(SyscallError::RangeError {
            min: MIN_BUDGET_US,
            max: 1000
        })
    );
    // 256 bytes: (256 - 96) / 16 = 10 refills, 8 extra at most.
    assert_eq!(
        cfg(&mut s, &[1000, 2000, 9, 0, 0], &[2]),
        Err(SyscallError::RangeError { min: 0, max: 8 })
    );
    assert!(!s.sc(sc).expect("sc").configured(), "nothing changed");
    assert_eq!(cfg(&mut s, &[1000, 2000, 8, 7, 1], &[2]), Ok(()));
    let want = SchedContext {
        size_bits: 8,
        tcb: None,
        ntfn: None,
        badge: 7,
        sporadic: true,
        refill_max: 10,
        reply: None,
        round_robin: false,
        consumed: 0,
    };
    assert_eq!(s.sc(sc), Some(&want));
    // Round robin: two refills whatever was asked.
    assert_eq!(cfg(&mut s, &[1000, 1000, 8, 0, 0], &[2]), Ok(()));
    assert_eq!(
        s.sc(sc).map(|x| (x.refill_max, x.sporadic)),
        Some((2, false))
    );
}

#[test]
fn bind_unbind_and_deletion_keep_one_binding_each_way() {
    let mut s = world();
    retype(&mut s, SC_TYPE, 8, 2, 2).expect("two SchedContexts");
    retype(&mut s, 1, 0, 4, 1).expect("a TCB");
    retype(&mut s, 3, 0, 5, 1).expect("a notification");
    let (a, b) = (sc_at(&s, 2), sc_at(&s, 3));
    let Some(Cap::Thread { obj: t }) = s.cap(root(4)) else {
        panic!("a TCB")
    };
    let sc_call = |s: &mut State, slot, label, extra: &[u64]| call(s, slot, label, &[], extra);
    assert_eq!(
        sc_call(&mut s, 2, BIND, &[]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        sc_call(&mut s, 2, BIND, &[1]),
        Err(SyscallError::InvalidCapability { index: 1 })
    );
    assert_eq!(sc_call(&mut s, 2, BIND, &[4]), Ok(()));
    assert_eq!(sc_call(&mut s, 2, BIND, &[5]), Ok(()));
    // Each side has at most one.
    assert_eq!(
        sc_call(&mut s, 3, BIND, &[4]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        sc_call(&mut s, 3, BIND, &[5]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        (s.sc_of_tcb(t), s.sc(a).and_then(|x| x.ntfn)),
        (Some(a), s.sc(a).and_then(|x| x.ntfn))
    );
    // UnbindObject of what is not bound to it; YieldTo a thread.
    assert_eq!(
        sc_call(&mut s, 3, UNBIND_OBJECT, &[4]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        sc_call(&mut s, 3, YIELD_TO, &[]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(sc_call(&mut s, 2, UNBIND_OBJECT, &[4]), Ok(()));
    assert_eq!(s.sc_of_tcb(t), None);
    assert!(s.sc(a).is_some_and(|x| x.ntfn.is_some()));
    // The caller's own cannot be unbound, nor the caller unbound from it.
    assert_eq!(
        sc_call(&mut s, 3, BIND, &[0]),
        Err(SyscallError::InvalidCapability { index: 1 })
    );
    s.insert_original(root(6), Cap::Thread { obj: TCB });
    assert_eq!(sc_call(&mut s, 3, BIND, &[6]), Ok(()));
    assert_eq!(
        sc_call(&mut s, 3, UNBIND, &[]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        sc_call(&mut s, 3, UNBIND_OBJECT, &[6]),
        Err(SyscallError::IllegalOperation)
    );
    assert_eq!(
        sc_call(&mut s, 3, YIELD_TO, &[]),
        Err(SyscallError::IllegalOperation)
    );
    // Deleting the notification's last cap unbinds it; so does Unbind.
    s.delete(root(5), true);
    assert_eq!(s.sc(a).map(|x| (x.tcb, x.ntfn)), Some((None, None)));
    // Deleting a SchedContext's last cap: its thread has none.
    s.delete(root(3), true);
    assert_eq!((s.sc(b), s.sc_of_tcb(TCB)), (None, None));
    let _ = ROOT;
}

#[test]
fn set_sched_params_checks_in_sel4s_order_and_binds_or_unbinds() {
    use crate::state::{TCB_FAULT_HANDLER, TCB_TIMEOUT_HANDLER};
    use crate::tcb_mcs::{SET_SCHED_PARAMS, SET_TIMEOUT_ENDPOINT};
    let mut s = world();
    if let Some(t) = s.thread_mut(TCB) {
        (t.mcp, t.priority) = (100, 100);
    }
    retype(&mut s, SC_TYPE, 8, 2, 1).expect("a SchedContext");
    retype(&mut s, 1, 0, 3, 1).expect("a TCB");
    retype(&mut s, 2, 0, 4, 1).expect("an endpoint");
    s.insert_original(root(6), Cap::Thread { obj: TCB });
    let sc = sc_at(&s, 2);
    let Some(Cap::Thread { obj: t }) = s.cap(root(3)) else {
        panic!("a TCB")
    };
    let ssp =
        |s: &mut State, words: &[u64], extra: &[u64]| call(s, 3, SET_SCHED_PARAMS, words, extra);
    // Three extra caps (an empty slot counts), two words.
    assert_eq!(
        ssp(&mut s, &[1, 1], &[6, 2]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        ssp(&mut s, &[1], &[6, 2, 7]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        ssp(&mut s, &[1, 1], &[2, 2, 7]),
        Err(SyscallError::InvalidCapability { index: 1 })
    );
    // MCP, then priority, against the authority's MCP.
    let range = Err(SyscallError::RangeError { min: 0, max: 100 });
    assert_eq!(ssp(&mut s, &[101, 1], &[6, 2, 7]), range);
    assert_eq!(ssp(&mut s, &[1, 101], &[6, 2, 7]), range);
    assert_eq!(
        ssp(&mut s, &[1, 1], &[6, 4, 7]),
        Err(SyscallError::InvalidCapability { index: 2 })
    );
    assert_eq!(
        ssp(&mut s, &[1, 1], &[6, 2, 3]),
        Err(SyscallError::InvalidCapability { index: 3 })
    );
    // Bound, with the endpoint as its fault handler, its source's child.
    assert_eq!(ssp(&mut s, &[50, 60], &[6, 2, 4]), Ok(()));
    assert_eq!(s.sc_of_tcb(t), Some(sc));
    assert_eq!(s.thread(t).map(|x| (x.mcp, x.priority)), Some((50, 60)));
    let fh = SlotId {
        obj: t,
        index: TCB_FAULT_HANDLER,
    };
    assert_eq!(s.entry(fh).and_then(|e| e.parent), Some(root(4)));
    // Another thread cannot have it; the caller cannot lose its own.
    let e = call(&mut s, 6, SET_SCHED_PARAMS, &[1, 1], &[6, 2, 7]);
    assert_eq!(e, Err(SyscallError::IllegalOperation));
    let e = call(&mut s, 6, SET_SCHED_PARAMS, &[1, 1], &[6, 7, 7]);
    assert_eq!(e, Err(SyscallError::IllegalOperation));
    // No SchedContext: unbound; the handler slot emptied.
    assert_eq!(ssp(&mut s, &[1, 1], &[6, 7, 7]), Ok(()));
    assert_eq!((s.sc_of_tcb(t), s.cap(fh)), (None, None));
    // SetTimeoutEndpoint: one cap, a valid handler.
    let ste = |s: &mut State, extra: &[u64]| call(s, 3, SET_TIMEOUT_ENDPOINT, &[], extra);
    assert_eq!(ste(&mut s, &[]), Err(SyscallError::TruncatedMessage));
    assert_eq!(
        ste(&mut s, &[2]),
        Err(SyscallError::InvalidCapability { index: 1 })
    );
    assert_eq!(ste(&mut s, &[4]), Ok(()));
    let th = SlotId {
        obj: t,
        index: TCB_TIMEOUT_HANDLER,
    };
    assert!(matches!(s.cap(th), Some(Cap::Endpoint { .. })));
}

/// YieldTo on the context of a runnable thread: answered at once (the
/// µs consumed) if the thread cannot run (its head refill not ready) or
/// runs below the caller; the scheduler's (not specified) if it would run
/// first; its checks first (a priority above the caller's MCP).
#[test]
fn yield_to_a_runnable_thread_is_answered_unless_it_would_run_first() {
    let mut s = world();
    assert_eq!(retype(&mut s, SC_TYPE, 8, 2, 1), Ok(()));
    assert_eq!(retype(&mut s, 1, 0, 3, 1), Ok(()));
    let words = [1_000, 5_000, 0, 0, 0];
    assert_eq!(call(&mut s, 15, CONFIGURE_FLAGS, &words, &[2]), Ok(()));
    let sc = sc_at(&s, 2);
    let Some(Cap::Thread { obj: other }) = s.cap(root(3)) else {
        panic!("a thread")
    };
    s.bind_sc(sc, other);
    let set = |s: &mut State, t: u64, prio: u64, mcp: u64| {
        let x = s.thread_mut(t).expect("a thread");
        (x.priority, x.mcp) = (prio, mcp);
    };
    set(&mut s, TCB, 100, 150);
    // Not runnable: answered.
    assert!(!s.yield_to_schedules(sc, TCB));
    s.set_state(other, crate::thread::ThreadState::Running);
    set(&mut s, other, 99, 0);
    s.charge(sc, 20_000);
    assert!(!s.yield_to_schedules(sc, TCB));
    // The answer is the µs consumed, in the registers (no error code).
    let inv = crate::invoke::Invocation {
        cptr: 2,
        label: YIELD_TO,
        words: vec![],
        extra: vec![],
    };
    assert_eq!(s.invoke(TCB, &inv), Some(None));
    let answer = s
        .thread(TCB)
        .map(|x| (x.info.label, x.info.length, x.mr(0)));
    assert_eq!(answer, Some((0, 1, 2_000)));
    assert_eq!(s.sc(sc).map(|x| x.consumed), Some(0));
    // At the caller's priority or above: the scheduler's.
    for prio in [100, 150] {
        set(&mut s, other, prio, 0);
        assert!(s.yield_to_schedules(sc, TCB));
    }
    // Unless its head refill is not ready (postponed: answered).
    s.not_ready.insert(sc);
    assert!(!s.yield_to_schedules(sc, TCB));
    s.not_ready.clear();
    // Above the caller's MCP: refused first.
    set(&mut s, other, 151, 0);
    assert!(!s.yield_to_schedules(sc, TCB));
    assert_eq!(
        call(&mut s, 2, YIELD_TO, &[], &[]),
        Err(SyscallError::IllegalOperation)
    );
}
