//! The fuzzer's findings, each kept as a test (the driver's own tests
//! are `tests_driver`'s).

use super::tests_driver::program;

/// A pseudo-random program of `steps` kernel entries that change slots
/// often (random bytes rarely do: they mostly name no capability and
/// fault the thread): Calls of CNode Revoke, Delete, Copy, Mint and Move
/// on the root CNode with capability addresses and full depths, Retypes
/// into capability addresses, invocations of any label on any capability
/// in play, and now and then a timer tick or a Suspend and Resume.
fn invocations(seed: u64, steps: usize) -> Vec<u8> {
    const ROOT_CNODE: u8 = 1; // in `World::cptrs`: slot 1 is the TCB
    const LABELS: [u8; 5] = [17, 18, 20, 21, 22];
    let noise = program(seed, steps * 32);
    let mut r = noise.iter().copied();
    let mut next = move || r.next().unwrap_or(0);
    let mut out = Vec::new();
    for _ in 0..steps {
        // A word: a capability address (tag 2), 64 (tag 3, a full
        // depth), or a small number (tag 0).
        let cptr = |b: u8| [2, b];
        let depth = [3, 4];
        let small = |b: u8| [0, b % 16];
        match next() % 8 {
            0 => out.push(9),
            1 => out.extend([15, next()]),
            2..=4 => {
                let label = LABELS[next() as usize % LABELS.len()];
                out.extend([0, 16, ROOT_CNODE, label, 6 | 1 << 3]);
                let (d, s, rights, badge) = (next(), next(), next(), next());
                for w in [cptr(d), depth, cptr(s), depth, small(rights), small(badge)] {
                    out.extend(w);
                }
                out.extend([ROOT_CNODE, 0xFF]);
            }
            5 => {
                out.extend([0, 16, next() % 32, 1, 6 | 1 << 3]);
                let (ty, at) = (next(), next());
                for w in [small(ty), small(0), small(0), small(0), cptr(at), small(1)] {
                    out.extend(w);
                }
                out.extend([ROOT_CNODE, 0xFF]);
            }
            _ => {
                let shape = next() % 32;
                out.extend([0, 8 + next() % 16, next() % 32, next() % 48, shape]);
                for _ in 0..shape % 8 {
                    out.extend(cptr(next()));
                }
                for _ in 0..(shape >> 3) % 4 {
                    out.push(next());
                }
                out.push(0xFF);
            }
        }
    }
    out
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
    let (_, ut) = super::ram_untypeds(w.cptrs.iter().copied(), cap)
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

/// The checks after every step skip the walk of the slots when none of
/// those the last walk reached has changed (`invariants::Checker`); on
/// pseudo-random programs, every time they do, every slot of the last
/// walk reads as it did (those in pages not translated since, which the
/// check does not compare, too), a fresh walk reaches the same slots in
/// the same order and the full check passes; and most checks do skip it
/// (the comparison can fail: many steps change slots).
#[test]
fn a_check_that_skips_the_walk_sees_what_the_walk_sees() {
    use super::input::Input;
    use super::invariants;
    let (mut quick, mut full) = (0, 0);
    for seed in 100..116 {
        super::from_start(|w| {
            let data = invocations(seed, 200);
            let mut input = Input::new(&data);
            for _ in 0..super::MAX_STEPS {
                if input.is_empty() {
                    break;
                }
                w.step(&mut input);
                let before = w.checker.quick;
                w.check();
                if w.checker.quick > before {
                    quick += 1;
                    assert!(!w.checker.stale(), "program {seed}: a slot changed");
                    let fresh = invariants::reachable(&w.facts);
                    assert_eq!(w.checker.reachable(&w.facts), fresh, "program {seed}");
                    invariants::check(&w.facts);
                } else {
                    full += 1;
                }
            }
        });
    }
    assert!(quick > 2 * full, "{quick} quick checks, {full} full");
    assert!(full > 16, "only {full} steps changed a slot");
}

/// Finding (of the test above, with its program 101): deleting an
/// untyped capability that has children is no error in seL4 (the
/// objects live on, and no Retype can reach their memory again), but the
/// checks took the children, left without an untyped ancestor and at the
/// head of their derivation lists, for capabilities from nothing. The
/// harness was wrong, not the kernel: the checks now allow such orphans
/// (`tree_check::check_ancestors` is left to the property tests, which
/// never delete a boot untyped), and still catch a capability forged
/// inside a live untyped (`a_forged_capability_is_a_finding`).
#[test]
fn deleting_an_untyped_with_children_leaves_them_alive() {
    use crate::cap::cte::cnode_slot;
    use crate::cap::Cap;
    let w = super::World::new();
    let cnode = w.facts.window.0;
    let cap = |i: u64| cnode_slot(cnode, i).get().cap();
    let at = |slot: u64| w.cptrs.iter().position(|&c| c == slot).unwrap() as u8;
    // The untyped setup retyped every object from (`setup_objects`).
    let (_, ut) = super::ram_untypeds(w.cptrs.iter().copied(), cap)
        .filter(|&(size_bits, _)| size_bits >= 18)
        .min()
        .unwrap();
    assert!(cnode_slot(cnode, ut).get().next().is_some(), "no children");
    let program = [
        0,      // a system call
        16,     // Call
        at(2),  // on the root CNode
        18,     // CNode_Delete
        2,      // 2 words
        2,      // a capability address:
        at(ut), // the untyped
        3,      // a boundary value:
        4,      // 64, the full depth
        0xFF,   // no interrupt
    ];
    super::run(&program);
    assert_eq!(cap(ut), Cap::Null, "not deleted");
    let endpoints = w
        .cptrs
        .iter()
        .filter(|&&i| matches!(cap(i), Cap::Endpoint { .. }))
        .count();
    assert_eq!(endpoints, 2, "the endpoints setup made are gone");
}
