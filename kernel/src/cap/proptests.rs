//! Property test of the CSpace operations (issue 4; ch. 3 Capability
//! Spaces, ch. 2 *Kernel Memory Allocation*): long random sequences of
//! Copy, Mint, Move, Mutate, Rotate, Delete, Revoke, CancelBadgedSends,
//! SaveCaller and Untyped_Retype, made as real system calls by the root
//! thread of a simulated kernel (`testutil`), so that decoding, performing
//! and every error path run. Operations aim at a window of 32 root-CNode
//! slots, at CNodes retyped into it and at boot capabilities (pools of
//! untyped memory, boot objects as copy sources), with slot indices,
//! depths, rights, badges, guards, object types and sizes drawn at random,
//! invalid ones included; a Fill step copies one capability into a whole
//! CNode, so that revokes and deletes get long. Some steps run with an
//! interrupt pending: the preempted Delete, Revoke or reset is then
//! restarted until done, or left half done for the next steps to meet (as
//! another thread would).
//!
//! After every step, and after every preempted attempt, it checks:
//! * the reply is success or a seL4 error (label 1..=10, message laid out
//!   as ABI ref §8 says) and the thread runs on; `Preempted` comes only
//!   with an interrupt pending; a failed call changed no slot;
//! * the derivation tree (`tree_check`): well linked, every capability in
//!   exactly one list, reachable through CNodes, TCBs, zombies or links
//!   from the root CSpace, descending from a boot capability; subtrees
//!   nest, rights shrink downwards, untyped children lie in their parent;
//! * memory: no capability names memory boot did not hand out, objects do
//!   not overlap, an object overlapping an untyped descends from it and
//!   lies below its watermark, every non-boot object has an untyped
//!   ancestor containing it;
//! * a model of the operation that succeeded: Copy/Mint place a child with
//!   no more rights (and Mint's badge) right after the source; Move,
//!   Mutate and Rotate move exactly the expected capabilities; Delete
//!   empties the slot; Revoke leaves no descendant and empties the former
//!   ones' slots (see `model` for seL4's two exceptions); Retype creates
//!   `count` children of the untyped, of the asked type, inside it;
//!   CancelBadgedSends and SaveCaller (nothing to save) change nothing.
//!
//! Boot capabilities are never moved, deleted or revoked (except the
//! pools, which are revoked): the root thread must keep its CSpace, and
//! "every list starts at a boot capability" needs them.
//!
//! This file holds the operations and their strategies; `world` the
//! simulated system, where locations are resolved and invariants checked;
//! `model` what each call must do. A failure prints the shrunk sequence of
//! operations (locations are resolved at run time, so a shrunk sequence
//! stays meaningful, if not always minimal).

// The refinement test runs in both configurations (the specification's
// `mcs` feature follows the kernel's; docs/spec.md).
mod abstraction;
mod model;
mod refine;
mod world;

use proptest::prelude::*;
use world::World;

/// Root-CNode slots the operations aim at, from the first empty one.
const WIN: u64 = 32;
/// Steps per sequence (on average) and sequences per run; the
/// `PROPTEST_CASES` and `CAIRN_PROPTEST_STEPS` environment variables
/// override them for longer hunts.
const STEPS: usize = 200;
const CASES: u32 = 64;

fn env_or<T: std::str::FromStr>(var: &str, default: T) -> T {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where an operation names a slot; resolved against the state when the
/// step runs, so that shrinking keeps sequences meaningful.
#[derive(Clone, Copy, Debug)]
enum Loc {
    /// Window slot `i % WIN` (depth 64 from the root CNode).
    Win(u8),
    /// The `i`-th (modulo their number) slot holding a capability, of the
    /// window and the CNodes in it; `Win(i)` if there is none.
    Live(u8),
    /// The `i`-th empty slot of the window and the CNodes in it.
    Free(u8),
    /// One of the three live slots with the most work behind them
    /// (descendants, CNode slots): targets for preempted Delete/Revoke.
    Big(u8),
    /// The `i`-th untyped of the pools and the window (invocable only).
    Ut(u8),
    /// Slot `i` (modulo its size) of the `w`-th CNode in the window,
    /// through its guard at its full depth; window slot `w` if none.
    Sub(u8, u8),
    /// A boot capability (`World::boot_srcs`, pools first).
    Boot(u8),
    /// `(index, depth)` from the root CNode as drawn (mostly failing).
    Raw(u64, u8),
    /// A slot reached from the `w`-th CNode in the window through up to
    /// 64 bits of guards and indices, following the CNode caps in its
    /// slots (deep CSpaces); `pick` chooses the path and the last index.
    Deep(u8, u16),
}

/// Where Retype puts its objects.
#[derive(Clone, Copy, Debug)]
enum Dest {
    /// The root CNode itself (depth 0), from the `i`-th empty window slot,
    /// `count` limited to the empty slots that follow.
    Root(u8),
    /// From slot `off` of the `w`-th CNode in the window (depth 64).
    Sub(u8, u8),
    /// `(node index, depth)` as drawn, offset 0.
    Raw(u64, u8),
}

/// One operation, as drawn.
#[derive(Clone, Debug)]
enum Op {
    Copy {
        dest: Loc,
        src: Loc,
        rights: u64,
    },
    Mint {
        dest: Loc,
        src: Loc,
        rights: u64,
        badge: u64,
    },
    Move {
        dest: Loc,
        src: Loc,
    },
    Mutate {
        dest: Loc,
        src: Loc,
        data: u64,
    },
    Rotate {
        dest: Loc,
        pivot: Loc,
        src: Loc,
        dest_data: u64,
        pivot_data: u64,
    },
    Delete(Loc),
    Revoke(Loc),
    CancelBadgedSends(Loc),
    SaveCaller(Loc),
    Retype {
        ut: Loc,
        ty: u64,
        size: u64,
        dest: Dest,
        count: u64,
    },
    /// Copy `src` into every empty slot of the `w`-th window CNode (or of
    /// the window if it holds no CNode; many
    /// Copy calls, checked once at the end): big subtrees for Revoke and
    /// big CNodes for Delete to be preempted in.
    Fill {
        src: Loc,
        w: u8,
    },
}

/// One step: an operation and how it is run.
#[derive(Clone)]
struct Step {
    op: Op,
    /// An interrupt is pending from this preemption check on.
    irq: Option<u8>,
    /// After a preemption, restart until done (else move on).
    restart: bool,
    /// Send only this many message registers.
    cut: Option<u8>,
}

impl core::fmt::Debug for Step {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.op)?;
        if let Some(n) = self.irq {
            let then = if self.restart { "restart" } else { "abandon" };
            write!(f, " [irq after {n} checks, {then}]")?;
        }
        if let Some(n) = self.cut {
            write!(f, " [{n} MRs]")?;
        }
        Ok(())
    }
}

fn loc_weighted(live: u32, free: u32, boot: u32) -> BoxedStrategy<Loc> {
    prop_oneof![
        6 => (0..WIN as u8).prop_map(Loc::Win),
        live => any::<u8>().prop_map(Loc::Live),
        free => any::<u8>().prop_map(Loc::Free),
        4 => (0u8..8, 0u8..16).prop_map(|(w, i)| Loc::Sub(w, i)),
        3 => (0u8..8, any::<u16>()).prop_map(|(w, p)| Loc::Deep(w, p)),
        boot => (0u8..16).prop_map(Loc::Boot),
        1 => (any::<u64>(), 0u8..=70).prop_map(|(i, d)| Loc::Raw(i, d)),
        1 => (0u64..128, 60u8..=66).prop_map(|(i, d)| Loc::Raw(i, d)),
    ]
    .boxed()
}

/// A slot to fill.
fn dest() -> BoxedStrategy<Loc> {
    loc_weighted(2, 20, 1)
}

/// A slot holding something, preferably.
fn loc() -> BoxedStrategy<Loc> {
    loc_weighted(20, 2, 1)
}

/// A source to copy from: boot capabilities too.
fn src() -> BoxedStrategy<Loc> {
    loc_weighted(20, 2, 8)
}

fn word(small: std::ops::Range<u64>) -> BoxedStrategy<u64> {
    prop_oneof![3 => Just(0u64), 6 => small, 1 => any::<u64>()].boxed()
}

fn rights() -> BoxedStrategy<u64> {
    prop_oneof![3 => Just(0xFu64), 3 => 0u64..16, 1 => any::<u64>()].boxed()
}

/// CNode guard data: `guard << 6 | guard_size`.
fn guard() -> BoxedStrategy<u64> {
    prop_oneof![4 => (0u64..4, 0u64..4).prop_map(|(g, s)| g << 6 | s), 1 => word(0..64)].boxed()
}

fn retype() -> impl Strategy<Value = Op> {
    let ut = prop_oneof![
        8 => any::<u8>().prop_map(Loc::Ut),
        1 => (0..WIN as u8).prop_map(Loc::Win),
        1 => (0u8..16).prop_map(Loc::Boot)
    ];
    // Mostly sizes that fit the type; any type and size sometimes.
    let ty_size = prop_oneof![
        3 => (Just(0u64), 4u64..=12),
        2 => (prop_oneof![Just(1u64), Just(2), Just(3), Just(6), Just(8)], Just(0u64)),
        4 => (Just(4u64), prop_oneof![1 => 1u64..=4, 1 => Just(8)]),
        1 => (prop_oneof![Just(5u64), Just(7)], Just(0u64)),
        2 => (prop_oneof![6 => 0u64..9, 1 => 9u64..12, 1 => any::<u64>()],
              prop_oneof![3 => 0u64..13, 1 => 60u64..70, 1 => any::<u64>()]),
    ];
    let count = prop_oneof![
        12 => 1u64..=4,
        1 => Just(0u64),
        2 => 5u64..40,
        2 => 100u64..=256,
        1 => Just(300u64)
    ];
    let dest = prop_oneof![
        6 => (0..WIN as u8).prop_map(Dest::Root),
        4 => (0u8..8, 0u8..20).prop_map(|(w, o)| Dest::Sub(w, o)),
        1 => (any::<u64>(), 0u8..=70).prop_map(|(i, d)| Dest::Raw(i, d))
    ];
    (ut, ty_size, dest, count).prop_map(|(ut, (ty, size), dest, count)| Op::Retype {
        ut,
        ty,
        size,
        dest,
        count,
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (dest(), src(), rights()).prop_map(|(dest, src, rights)| Op::Copy { dest, src, rights }),
        3 => (dest(), src(), rights(), word(1..4))
            .prop_map(|(dest, src, rights, badge)| Op::Mint { dest, src, rights, badge }),
        2 => (dest(), loc()).prop_map(|(dest, src)| Op::Move { dest, src }),
        2 => (dest(), loc(), guard()).prop_map(|(dest, src, data)| Op::Mutate { dest, src, data }),
        2 => (prop_oneof![3 => dest(), 1 => loc()], loc(), loc(), guard(), guard()).prop_map(
            |(dest, pivot, src, dest_data, pivot_data)| Op::Rotate {
                dest, pivot, src, dest_data, pivot_data
            }
        ),
        3 => prop_oneof![3 => loc(), 1 => any::<u8>().prop_map(Loc::Big)].prop_map(Op::Delete),
        2 => prop_oneof![
            3 => loc(),
            1 => any::<u8>().prop_map(Loc::Big),
            1 => (0u8..5).prop_map(Loc::Boot)
        ]
        .prop_map(Op::Revoke),
        1 => loc().prop_map(Op::CancelBadgedSends),
        1 => dest().prop_map(Op::SaveCaller),
        6 => retype(),
        1 => (src(), 0u8..8).prop_map(|(src, w)| Op::Fill { src, w }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let irq = prop_oneof![3 => Just(None), 2 => Just(Some(1)), 1 => Just(Some(2))];
    let cut = prop_oneof![15 => Just(None), 1 => (0u8..8).prop_map(Some)];
    (op(), irq, any::<bool>(), cut).prop_map(|(op, irq, restart, cut)| Step {
        op,
        irq,
        restart,
        cut,
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: env_or("PROPTEST_CASES", CASES),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn cspace_operations_keep_the_invariants(steps in proptest::collection::vec(step(), 1..=2 * env_or("CAIRN_PROPTEST_STEPS", STEPS))) {
        let mut w = World::new();
        for st in &steps {
            w.step(st);
        }
    }
}
