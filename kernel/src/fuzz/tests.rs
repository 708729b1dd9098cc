//! The fuzzer's findings, each kept as a test, and a smoke run of the
//! driver on fixed inputs.

use super::run;

/// A pseudo-random program of `len` bytes (xorshift from `seed`).
fn program(seed: u64, len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ seed.wrapping_mul(0xA24B_AED4_963E_E407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Every run starts from the same machine: after runs of pseudo-random
/// programs, the rollback (which copies back only the pages the kernel
/// touched) leaves every byte of RAM, the rest of the simulated machine
/// and the kernel state as they were after boot, so that a finding
/// replays alone as it happened after a thousand other inputs.
#[test]
fn every_run_starts_from_the_machine_as_booted() {
    use crate::arch::host::SimMachine;
    use crate::state::kernel;
    super::from_start(|_| ());
    let machine = SimMachine::snapshot();
    let state = format!("{:?}", kernel());
    let mut changed = 0;
    for seed in 0..24 {
        run(&program(seed, 2048));
        changed += usize::from(machine.difference().is_some());
        super::from_start(|_| ());
        assert_eq!(machine.difference(), None, "after program {seed}");
        assert_eq!(format!("{:?}", kernel()), state, "after program {seed}");
    }
    // The comparison can fail: the programs did change the machine.
    assert!(changed > 20, "only {changed} programs changed the machine");
}

/// Inputs of every kind of step run without a finding: the empty input
/// (setup and the checks alone), each step kind on its own, and a
/// pseudo-random input long enough to reach every kind many times.
#[test]
fn the_driver_runs_every_step_kind() {
    run(&[]);
    for kind in 0..16u8 {
        run(&[kind, 0x10, 0x05, 0x01, 0x0A, 0xFF, 0x00, 0x33]);
    }
    run(&program(0, 4096));
}

/// The checks catch what they are for: a thread blocked on an endpoint
/// but in no queue.
#[test]
#[should_panic(expected = "in no live object's queue")]
fn a_blocked_thread_outside_every_queue_is_a_finding() {
    use crate::object::tcb::ThreadState;
    let mut w = super::World::new();
    let t = w.threads[1].get();
    t.set_state(ThreadState::BlockedOnSend);
    w.check();
}

/// The checks catch a capability that appears from nothing: a copy of
/// an endpoint capability written into an empty slot without a
/// derivation link, inside an untyped it does not descend from.
#[test]
#[should_panic(expected = "but is not its descendant")]
fn a_forged_capability_is_a_finding() {
    use crate::cap::cte::cnode_slot;
    use crate::cap::Cap;
    let mut w = super::World::new();
    let cnode = w.facts.window.0;
    let ep = w
        .cptrs
        .iter()
        .map(|&i| cnode_slot(cnode, i).get().cap())
        .find(|c| matches!(c, Cap::Endpoint { .. }))
        .expect("an endpoint from setup");
    let empty = *w.cptrs.last().expect("an empty slot");
    cnode_slot(cnode, empty).get().set_cap(ep);
    w.check();
}

/// The driver's preemption: a Retype that first clears a boot untyped
/// (a preemptible reset) with an interrupt at the first preemption
/// point is preempted, repeated after a timer tick, and completed, and
/// the endpoint it makes is there at the end.
#[test]
fn a_preempted_call_is_repeated_until_it_completes() {
    use crate::cap::cte::cnode_slot;
    use crate::cap::Cap;
    let w = super::World::new();
    let cnode = w.facts.window.0;
    let cap = |i: u64| cnode_slot(cnode, i).get().cap();
    let at = |slot: u64| w.cptrs.iter().position(|&c| c == slot).unwrap() as u8;
    // The largest RAM untyped (a boot one, still holding its boot
    // watermark, so that a Retype resets it first).
    let (_, ut) = w
        .cptrs
        .iter()
        .filter_map(|&i| match cap(i) {
            Cap::Untyped {
                size_bits,
                is_device: false,
                ..
            } => Some((size_bits, i)),
            _ => None,
        })
        .max()
        .unwrap();
    let dest = *w.cptrs.last().unwrap();
    assert!(cap(dest).is_null());
    let program = [
        0,          // a system call
        16,         // Call
        at(ut),     // on the untyped
        1,          // Untyped_Retype
        6 | 1 << 3, // 6 words, 1 extra cap
        0,
        2, // an endpoint
        0,
        0, // size 0
        0,
        0, // node index 0
        0,
        0, // node depth 0: the root CNode itself
        0,
        dest as u8, // node offset: an empty slot
        0,
        1,     // one object
        at(2), // extra cap: the root CNode (slot 2)
        0,     // an interrupt at the first preemption point
    ];
    let before = crate::state::kernel().preemptions();
    super::run(&program);
    assert!(
        crate::state::kernel().preemptions() > before,
        "not preempted"
    );
    assert!(matches!(cap(dest), Cap::Endpoint { .. }), "{:?}", cap(dest));
}
