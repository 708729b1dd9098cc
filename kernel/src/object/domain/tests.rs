//! Host tests of the domain-cap invocations (ABI ref §7.6): each method,
//! each error with its exact data, in seL4 16's order. They follow the
//! configuration (`NUM_DOMAINS`, `NUM_DOMAIN_SCHEDULES`), so that they hold
//! in a multi-domain build too.

use super::{ENTRIES, NUM_DOMAINS};
use crate::cap::Cap;
use crate::object::tcb::TcbRef;
use crate::sched::domain::MAX_DURATION;
use crate::sched::{action, Action};
use crate::state::kernel;
use crate::testutil::{boot, err, ok, Outcome, TestKernel};
use cairn_abi::cap::init;
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType;

const INVALID_ARGUMENT: u64 = 1;
const ILLEGAL: u64 = 3;
const RANGE: u64 = 4;
const TRUNCATED: u64 = 7;

fn dom(k: &TestKernel, label: u64, mrs: &[u64], caps: &[u64]) -> Outcome {
    k.call(init::DOMAIN, label, mrs, caps)
}

#[test]
fn set_moves_a_thread_to_a_domain() {
    let k = boot();
    let slot = k.make(ObjectType::Tcb, 0, 1)[0];
    let Cap::Thread { tcb } = k.cap(slot) else {
        panic!()
    };
    let t = TcbRef::new(tcb);
    let last = NUM_DOMAINS - 1;
    assert_eq!(dom(&k, l::DOMAIN_SET_SET, &[last], &[slot]), ok());
    assert_eq!(t.get().domain(), last);
    // The caller's own domain: the scheduler must look again.
    assert_eq!(dom(&k, l::DOMAIN_SET_SET, &[0], &[init::TCB]), ok());
    assert_eq!(k.tcb.get().domain(), 0);
    assert_eq!(action(), Action::ChooseNew);
}

#[test]
fn set_errors() {
    let k = boot();
    let set = |mrs: &[u64], caps: &[u64]| dom(&k, l::DOMAIN_SET_SET, mrs, caps);
    assert_eq!(set(&[], &[init::TCB]), err(TRUNCATED, &[]));
    // The domain is checked before the cap, and as a whole word.
    assert_eq!(set(&[NUM_DOMAINS], &[]), err(INVALID_ARGUMENT, &[0]));
    assert_eq!(set(&[1 << 8], &[init::TCB]), err(INVALID_ARGUMENT, &[0]));
    assert_eq!(set(&[0], &[]), err(TRUNCATED, &[]));
    assert_eq!(set(&[0], &[init::CNODE]), err(INVALID_ARGUMENT, &[1]));
}

#[test]
fn schedule_configure_writes_an_entry() {
    let k = boot();
    let last = NUM_DOMAINS - 1;
    assert_eq!(
        dom(&k, l::DOMAIN_SCHEDULE_CONFIGURE, &[0, last, 7], &[]),
        ok()
    );
    assert!(!kernel().domains().is_end_marker(0));
    assert_eq!(
        dom(&k, l::DOMAIN_SCHEDULE_CONFIGURE, &[0, 0, MAX_DURATION], &[]),
        ok()
    );
    if ENTRIES > 2 {
        // An end marker away from the start.
        let r = dom(&k, l::DOMAIN_SCHEDULE_CONFIGURE, &[1, 0, 0], &[]);
        assert_eq!(r, ok());
        assert!(kernel().domains().is_end_marker(1));
    }
}

#[test]
fn schedule_configure_errors_in_order() {
    let k = boot();
    let conf = |mrs: &[u64]| dom(&k, l::DOMAIN_SCHEDULE_CONFIGURE, mrs, &[]);
    assert_eq!(conf(&[0, 0]), err(TRUNCATED, &[]));
    // The last entry stays an end marker.
    let r = conf(&[ENTRIES - 1, NUM_DOMAINS, MAX_DURATION + 1]);
    assert_eq!(r, err(RANGE, &[0, ENTRIES - 2]), "index first");
    let r = conf(&[0, NUM_DOMAINS, MAX_DURATION + 1]);
    assert_eq!(r, err(RANGE, &[0, NUM_DOMAINS - 1]), "then the domain");
    let r = conf(&[0, 0, MAX_DURATION + 1]);
    assert_eq!(r, err(INVALID_ARGUMENT, &[2]), "duration beyond 56 bits");
    assert_eq!(kernel().domains().start(), 0);
    let r = conf(&[0, 0, 0]);
    assert_eq!(
        r,
        err(INVALID_ARGUMENT, &[2]),
        "the start entry as an end marker"
    );
    if NUM_DOMAINS > 1 {
        let r = conf(&[1, 1, 0]);
        assert_eq!(r, err(INVALID_ARGUMENT, &[1]), "end marker with a domain");
    }
    assert!(!kernel().domains().is_end_marker(0), "nothing changed");
}

#[test]
fn schedule_set_start() {
    let k = boot();
    let set_start = |mrs: &[u64]| dom(&k, l::DOMAIN_SCHEDULE_SET_START, mrs, &[]);
    assert_eq!(set_start(&[]), err(TRUNCATED, &[]));
    assert_eq!(set_start(&[ENTRIES]), err(RANGE, &[0, ENTRIES - 1]));
    assert_eq!(set_start(&[u64::MAX]), err(RANGE, &[0, ENTRIES - 1]));
    assert_eq!(
        set_start(&[ENTRIES - 1]),
        err(INVALID_ARGUMENT, &[0]),
        "an end marker"
    );
    assert_eq!(set_start(&[0]), ok());
    assert_eq!(kernel().domains().start(), 0);
    // The current domain's time ends: the scheduler chooses afresh.
    assert_eq!(action(), Action::ChooseNew);
    assert_eq!(crate::sched::schedule(), Some(k.tcb));
    assert!(!kernel().domains().time_used_up(), "entry 0 started again");
}

#[test]
fn other_labels_are_illegal() {
    let k = boot();
    for label in [0, l::TCB_SUSPEND, l::DOMAIN_SCHEDULE_SET_START + 1] {
        assert_eq!(
            dom(&k, label, &[0, 0, 0], &[]),
            err(ILLEGAL, &[]),
            "label {label}"
        );
    }
}
