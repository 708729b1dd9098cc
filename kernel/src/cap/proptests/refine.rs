//! Refinement test (issue 13): random sequences of CNode and Retype calls
//! (`proptests`' generator: deep and guarded CSpaces, big derivation trees
//! from Fill steps, retypes into full and partial untypeds, invalid
//! arguments) run on the kernel and on the executable specification
//! (`cairn-spec`). After every step the two replies (error code and error
//! data) must be equal, and the abstraction of the kernel's state
//! (`abstraction`) must equal the specification's state. A preemptible
//! call (Delete, Revoke, a Retype that resets) is interrupted at random
//! points and restarted until done; the specification does it at once.
//! The property test's invariant checks (`World::check`) run after every
//! step too. Failures shrink to a short sequence (proptest).
//!
//! `CAIRN_SPEC_STEPS` (default [`STEPS`]) sets the number of steps,
//! `CAIRN_SPEC_SEED` a fixed seed; `cargo xtask spec --steps N --seed S`
//! sets both and runs this test alone. docs/spec.md.

use super::abstraction::{abstract_state, diff, observably_equal, without_watermark};
use super::model::cnode_call;
use super::world::World;
use super::{env_or, step, Loc, Op, Step};
use crate::arch::host::SimMachine;
use crate::testutil::Outcome;
use cairn_abi::cap::init;
use cairn_abi::invocation::label as l;
use cairn_spec::{Invocation, LookupFault, State, SyscallError};
use proptest::test_runner::{Config, RngSeed, TestRunner};

/// Steps per run of `cargo xtask test` (see docs/spec.md for the budget).
const STEPS: u64 = 1_000_000;
/// The suite's seed (its chunks: `SEED..SEED + CHUNKS`).
const SEED: u64 = 13;
/// Runs in parallel, each on its own thread and simulated machine (a
/// fixed number, so that a seed reproduces on any machine).
const CHUNKS: u64 = 2;
/// Steps per sequence, on average (a sequence starts from a fresh boot).
const SEQUENCE: usize = 200;

/// seL4's reply to an error: the label and the message words (ABI ref §8).
fn encode(r: &Result<(), SyscallError>) -> Outcome {
    use SyscallError as E;
    let (label, mrs) = match *r {
        Ok(()) => (0, vec![]),
        Err(E::InvalidArgument { index }) => (1, vec![index]),
        Err(E::InvalidCapability { index }) => (2, vec![index]),
        Err(E::IllegalOperation) => (3, vec![]),
        Err(E::RangeError { min, max }) => (4, vec![min, max]),
        Err(E::AlignmentError) => (5, vec![]),
        Err(E::FailedLookup { source, fault }) => {
            let mut v = vec![source as u64];
            v.extend(match fault {
                LookupFault::InvalidRoot => vec![1],
                LookupFault::MissingCapability { bits_left } => vec![2, bits_left as u64],
                LookupFault::DepthMismatch {
                    bits_left,
                    bits_found,
                } => vec![3, bits_left as u64, bits_found as u64],
                LookupFault::GuardMismatch {
                    bits_left,
                    guard_found,
                    bits_found,
                } => vec![4, bits_left as u64, guard_found, bits_found as u64],
            });
            (6, v)
        }
        Err(E::TruncatedMessage) => (7, vec![]),
        Err(E::DeleteFirst) => (8, vec![]),
        Err(E::RevokeFirst) => (9, vec![]),
        Err(E::NotEnoughMemory { available }) => (10, vec![available]),
    };
    Outcome::Reply { label, mrs }
}

/// What the run did, for its summary: calls compared (by reply label:
/// 0 success, else the error code), steps skipped (outside the spec or
/// touching boot caps), restarts after preemption.
#[derive(Default)]
struct Tally {
    replies: [u64; 11],
    skipped: u64,
    preempted: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.replies
            .iter_mut()
            .zip(o.replies)
            .for_each(|(a, b)| *a += b);
        self.skipped += o.skipped;
        self.preempted += o.preempted;
    }
}

thread_local! {
    static TALLY: core::cell::RefCell<Tally> = core::cell::RefCell::new(Tally::default());
}

/// The kernel and the specification side by side.
struct Pair {
    w: World,
    spec: State,
    root_tcb: u64,
}

impl Pair {
    fn new() -> Pair {
        let mut w = World::new();
        w.snapshots = false;
        let spec = abstract_state(&w);
        let root_tcb = w.k.tcb.paddr().0;
        Pair { w, spec, root_tcb }
    }

    /// Makes one call on both (if the specification covers it), the
    /// kernel's preempted after `irq` checks and restarted until done.
    fn call(
        &mut self,
        call: &super::world::Call,
        irq: Option<u8>,
        what: &dyn core::fmt::Debug,
    ) -> Option<Outcome> {
        let inv = Invocation {
            cptr: call.cptr,
            label: call.label,
            words: call.mrs.clone(),
            extra: call.extra.clone(),
        };
        // Only a call that may be preempted needs the state before it.
        let before = irq.map(|_| self.spec.clone());
        let Some(want) = self.spec.invoke(self.root_tcb, &inv) else {
            TALLY.with(|t| t.borrow_mut().skipped += 1);
            return None;
        };
        let irq = match before.is_some_and(|b| self.still_addressable(&b, &inv)) {
            true => irq,
            false => None,
        };
        let mut tries = 0;
        let out = loop {
            SimMachine::set_interrupt_pending_after(irq.map(u64::from));
            let out = self.w.call(call);
            if out != Outcome::Preempted {
                break out;
            }
            tries += 1;
            TALLY.with(|t| t.borrow_mut().preempted += 1);
            assert!(
                tries < 100_000,
                "{what:?}: a restarted call makes no progress"
            );
        };
        SimMachine::set_interrupt_pending_after(None);
        if std::env::var_os("CAIRN_SPEC_TRACE").is_some() {
            eprintln!("{what:?}: {out:?} (spec {want:?})");
        }
        assert_eq!(out, encode(&want), "{what:?}: kernel's reply, spec's");
        if let Outcome::Reply { label, .. } = out {
            TALLY.with(|t| t.borrow_mut().replies[label.min(10) as usize] += 1);
        }
        Some(out)
    }

    /// Whether a restart of `inv` after a preemption would find what the
    /// first attempt found: the invoked cap and the CNode method's
    /// destination slot. A Delete or Revoke that destroys the CNode cap it
    /// was invoked through (or the CNode holding its slot), if preempted,
    /// fails on restart with InvalidCapability or FailedLookup and stays
    /// half done, in Cairn as in seL4 (a restarted system call looks its
    /// caps up again). The atomic specification does not model that
    /// outcome, so such calls run unpreempted.
    fn still_addressable(&self, before: &State, inv: &Invocation) -> bool {
        let cspace = |s: &State| {
            s.cap(cairn_spec::SlotId {
                obj: self.root_tcb,
                index: 0,
            })
        };
        let lookup = |s: &State| {
            let (_, cap) = s.lookup_cap(&cspace(s)?, inv.cptr).ok()?;
            // Retype moves the watermark; the cap is the same.
            let cap = without_watermark(cap?);
            let dest = match (inv.words.first(), inv.words.get(1), cap) {
                (Some(&i), Some(&d), cairn_spec::Cap::CNode { .. }) => {
                    s.lookup_slot_for_cnode_op(false, &cap, i, d).ok()
                }
                _ => None,
            };
            Some((cap, dest))
        };
        lookup(before) == lookup(&self.spec)
    }

    /// Checks the kernel's invariants and that it refines the spec.
    fn compare(&mut self, what: &dyn core::fmt::Debug) {
        self.w.check();
        let k = abstract_state(&self.w);
        if !observably_equal(&k, &self.spec) {
            panic!(
                "{what:?}: the kernel's state differs from the spec's:\n{}",
                diff(&k.observable(), &self.spec.observable())
            );
        }
    }

    fn step(&mut self, st: &Step) {
        if let Op::Fill { src, w } = st.op {
            return self.fill(src, w);
        }
        let Some((mut call, _)) = self.w.plan(&st.op) else {
            TALLY.with(|t| t.borrow_mut().skipped += 1);
            return;
        };
        if self.w.invokes_ipc_object(&call) {
            TALLY.with(|t| t.borrow_mut().skipped += 1);
            return;
        }
        if let Some(n) = st.cut {
            call.mrs.truncate(n as usize);
            if n < 3 {
                call.extra.clear();
            }
        }
        self.call(&call, st.irq, st);
        self.compare(st);
    }

    /// Copies `src` into every empty slot of a window CNode.
    fn fill(&mut self, src: Loc, w: u8) {
        let s = self.w.addr(src);
        let cnode = match self.w.window_cnode(w) {
            Some((cptr, crate::cap::Cap::CNode { ptr, .. })) if ptr != self.w.k.cnode => cptr,
            _ => init::CNODE,
        };
        let targets: Vec<_> = self
            .w
            .all_slots()
            .into_iter()
            .filter(|a| a.0.cnode == cnode && !a.1)
            .collect();
        for (d, _) in targets {
            let call = cnode_call(l::CNODE_COPY, d, vec![s.index, s.depth, 0xF], &[s]);
            self.call(&call, None, &("Fill", src, w));
        }
        self.compare(&("Fill", src, w));
    }
}

/// Runs `steps` steps in sequences from fresh boots with `seed`: the
/// summary of what was compared, or the failure (proptest's shrunk
/// sequence).
fn run(steps: u64, seed: u64) -> Result<Tally, String> {
    let cases = steps.div_ceil(SEQUENCE as u64).max(1) as u32;
    let config = Config {
        cases,
        max_shrink_iters: 4096,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let seq = proptest::collection::vec(step(), 1..=2 * SEQUENCE);
    TALLY.with(|t| *t.borrow_mut() = Tally::default());
    let result = runner.run(&seq, |steps| {
        let mut p = Pair::new();
        for st in &steps {
            p.step(st);
        }
        Ok(())
    });
    result.map_err(|e| e.to_string())?;
    Ok(TALLY.with(|t| t.take()))
}

/// Runs `steps` steps as [`CHUNKS`] runs of equal size on as many
/// threads (each its own simulated machine), the `i`-th with seed
/// `seed + i`, and prints the summary; panics with every failure and the
/// command that reproduces it.
fn run_chunks(steps: u64, seed: u64) {
    let each = steps.div_ceil(CHUNKS);
    let start = std::time::Instant::now();
    let runs: Vec<_> = (0..CHUNKS)
        .map(|i| std::thread::spawn(move || run(each, seed + i)))
        .collect();
    let mut total = Tally::default();
    let mut failures = Vec::new();
    for (i, r) in runs.into_iter().enumerate() {
        match r.join() {
            Ok(Ok(t)) => total.add(&t),
            Ok(Err(e)) => failures.push(format!("seed {}: {e}", seed + i as u64)),
            Err(_) => failures.push(format!("seed {}: the run panicked", seed + i as u64)),
        }
    }
    if !failures.is_empty() {
        panic!(
            "the kernel does not refine the spec (reproduce with `cargo xtask spec --steps {steps} --seed {seed}`):\n{}",
            failures.join("\n")
        );
    }
    let calls: u64 = total.replies.iter().sum();
    eprintln!(
        "refinement: {steps} steps (seeds {seed}..{}) in {:.1} s, {calls} calls compared ({} succeeded, errors by code 1..=10: {:?}), {} restarts after preemption, {} steps skipped",
        seed + CHUNKS - 1,
        start.elapsed().as_secs_f64(),
        total.replies[0],
        &total.replies[1..],
        total.preempted,
        total.skipped
    );
}

/// The first divergence the test found (the spec was wrong): deleting the
/// last cap to a CNode whose slot holds the last cap to another CNode
/// leaves the inner one a zombie in its own first slot (seL4's
/// `reduceZombie`), still a child of its untyped, rather than destroying it.
#[test]
fn nested_cnode_delete_leaves_a_zombie() {
    use super::Dest;
    let mut p = Pair::new();
    for op in [
        // CNodes A (radix 4), B (radix 1, and a copy), C, D (radix 8).
        Op::Retype {
            ut: Loc::Ut(0),
            ty: 4,
            size: 4,
            dest: Dest::Root(0),
            count: 1,
        },
        Op::Retype {
            ut: Loc::Ut(81),
            ty: 4,
            size: 1,
            dest: Dest::Root(0),
            count: 1,
        },
        Op::Copy {
            dest: Loc::Win(14),
            src: Loc::Live(11),
            rights: 15,
        },
        Op::Retype {
            ut: Loc::Ut(5),
            ty: 4,
            size: 8,
            dest: Dest::Root(0),
            count: 2,
        },
        // Delete C; copy A into D's slot 0, delete A's root cap, then D.
        Op::Delete(Loc::Live(112)),
        Op::Mint {
            dest: Loc::Free(46),
            src: Loc::Live(44),
            rights: 15,
            badge: 0,
        },
        Op::Delete(Loc::Live(70)),
        Op::Delete(Loc::Live(189)),
    ] {
        p.step(&Step {
            op,
            irq: None,
            restart: true,
            cut: None,
        });
    }
    let zombies: Vec<_> = p
        .spec
        .entries()
        .filter(|(s, e)| matches!(e.cap, cairn_spec::Cap::Zombie { obj, .. } if obj == s.obj))
        .collect();
    assert_eq!(zombies.len(), 1, "A's zombie in its own slot 0");
}

/// The divergence `cargo xtask spec --steps 200000 --seed 11` met (the
/// spec was wrong; `cairn-spec`'s test of the same name explains it):
/// CNodes A and B each hold the last cap to the other, A's in B's slot 0;
/// revoking their untyped destroys B first and leaves A a zombie in its
/// own slot 0 on the way. Shrunk by hand from proptest's 24 steps.
#[test]
fn revoke_through_two_cnodes_holding_each_others_last_cap() {
    let mut p = Pair::new();
    let ut = p.w.cptr(Loc::Boot(0));
    let (b, a) = (p.w.win, p.w.win + 1);
    let root = |index| super::world::Addr {
        cnode: init::CNODE,
        index,
        depth: 64,
    };
    let at_a = |index, depth| super::world::Addr {
        cnode: a,
        index,
        depth,
    };
    let calls = [
        // B and A, radix 2, in window slots 0 and 1.
        super::world::Call {
            cptr: ut,
            label: l::UNTYPED_RETYPE,
            mrs: vec![4, 2, 0, 0, b, 2],
            extra: vec![init::CNODE],
        },
        // B's cap into A's slot 1, then A's into B's slot 0 through A.
        cnode_call(l::CNODE_MOVE, at_a(1, 2), vec![b, 64], &[root(b)]),
        cnode_call(l::CNODE_MOVE, at_a(0b0100, 4), vec![a, 64], &[root(a)]),
        cnode_call(l::CNODE_REVOKE, root(ut), vec![], &[]),
    ];
    for (i, call) in calls.iter().enumerate() {
        let ok = Outcome::Reply {
            label: 0,
            mrs: vec![],
        };
        assert_eq!(p.call(call, None, &i), Some(ok), "step {i}");
        p.compare(&i);
        if i == 0 {
            // A is the untyped's newest child: the revoke deletes it first.
            let slot = |index| cairn_spec::SlotId {
                obj: p.w.k.cnode.0,
                index,
            };
            let first = p.spec.entry(slot(ut)).map(|e| e.children[0]);
            assert_eq!(first, Some(slot(a)));
        }
    }
}

/// The in-place comparison sees a changed `original` flag but not the
/// watermark of a childless untyped (rule 3 of docs/spec.md).
#[test]
fn comparison_sees_what_is_observable() {
    let p = Pair::new();
    let k = abstract_state(&p.w);
    assert!(observably_equal(&k, &p.spec));
    let pool = p.w.cptr(Loc::Boot(0));
    let edit = |f: &dyn Fn(&mut cairn_spec::Entry)| {
        let mut s = p.spec.clone();
        if let Some(cairn_spec::Object::CNode { slots, .. }) = s.objects.get_mut(&p.w.k.cnode.0) {
            slots.get_mut(&pool).map(f).expect("the pool's entry");
        }
        s
    };
    let flipped = edit(&|e| e.original = !e.original);
    assert!(!observably_equal(&k, &flipped));
    let moved = edit(&|e| {
        if let cairn_spec::Cap::Untyped { watermark, .. } = &mut e.cap {
            *watermark = 4096;
        }
    });
    assert_ne!(moved, p.spec);
    assert!(
        observably_equal(&k, &moved),
        "a childless untyped's watermark"
    );
}

#[test]
fn kernel_refines_the_spec() {
    // The suite runs fixed seeds (reproducible); `cargo xtask spec`
    // without --seed passes a fresh one.
    let seed = std::env::var("CAIRN_SPEC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    run_chunks(env_or("CAIRN_SPEC_STEPS", STEPS), seed);
}
