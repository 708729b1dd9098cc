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

// MCS: the classic steps the MCS generator does not make yet (IPC,
// exceptions, the setup threads) stay compiled, unused.
#![cfg_attr(feature = "mcs", allow(dead_code))]

use super::abstraction::{abstract_state, observably_equal};
use super::model::cnode_call;
use super::world::Addr;
#[cfg(feature = "mcs")]
use super::world::World;
use super::{env_or, Loc, Op, Step, WIN};
#[cfg(feature = "mcs")]
use crate::arch::host::SimMachine;
use crate::testutil::Outcome;
use cairn_abi::cap::init;
use cairn_abi::invocation::label as l;
#[cfg(not(feature = "mcs"))]
use cairn_spec::Syscall;

mod act;
mod control;
mod gen;
#[cfg(feature = "mcs")]
mod ipc_mcs;
mod pair;
#[cfg(feature = "mcs")]
mod queues_mcs;
mod run;
#[cfg(feature = "mcs")]
mod sched;
mod syscall;
mod tally;
#[cfg(feature = "mcs")]
mod time;
mod vm;

#[cfg(feature = "mcs")]
use gen::ipc;
use gen::{act, irq, Act, Ipc, Target};
use pair::Pair;
use run::run_chunks;
use tally::{encode, index, number, tally, Tally, TALLY};

/// Steps per run of `cargo xtask test` (see docs/spec.md for the budget;
/// MCS: its host tests run the whole kernel suite again, and an MCS step
/// costs about three times a classic one (the TCB, VSpace, IRQ steps,
/// spawned threads, and four threads with the MCS IPC), so fewer: about
/// 40 s of CPU, docs/spec.md "Throughput").
#[cfg(not(feature = "mcs"))]
const STEPS: u64 = 1_000_000;
#[cfg(feature = "mcs")]
const STEPS: u64 = 250_000;
/// The suite's seed (its chunks: `SEED..SEED + CHUNKS`).
const SEED: u64 = 13;
/// Runs in parallel, each on its own thread and simulated machine (a
/// fixed number, so that a seed reproduces on any machine).
const CHUNKS: u64 = 2;
/// Steps per sequence, on average (a sequence starts from a fresh boot).
const SEQUENCE: usize = 200;

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

/// A divergence in the spec as first written (found at 20 000 steps,
/// shrunk by proptest): a thread whose fault IPC was cancelled by a
/// Resume while it waited to send keeps its fault (seL4's classic
/// `cancelIPC` clears it only for a thread waiting for the reply); its
/// next Send then carries the fault message, and, not being a Call, lets
/// the sender run on with the fault still set. The spec had made it a
/// Call; the kernel was right (seL4's classic `sendIPC`/`receiveIPC`
/// test `do_call` alone).
#[cfg(not(feature = "mcs"))]
#[test]
fn a_send_after_a_cancelled_fault_ipc_carries_the_fault() {
    use Syscall::*;
    let ipc = |sys, cap| Ipc {
        sys,
        cap,
        label: 0,
        words: vec![],
        extra: vec![],
        receive: Some(Loc::Free(0)),
    };
    let step = |op| Step {
        op,
        irq: None,
        restart: true,
        cut: None,
    };
    let acts = [
        // Thread 0 (priority 100) takes an exception, thread 1 (200) a
        // cap fault in Recv: both wait to send their faults.
        Act::Exception(8, 0, 0),
        Act::Ipc(87, ipc(ReplyRecv, Target::Tcb(0))),
        // The root thread and thread 2 block in Calls; with no thread
        // runnable, thread 1 is resumed (its fault stays) and sends.
        Act::Ipc(55, ipc(Call, Target::Ep(0))),
        Act::Ipc(0, ipc(Call, Target::Ep(6))),
        Act::Ipc(217, ipc(Call, Target::Ep(0))),
        Act::Ipc(0, ipc(Send, Target::Ep(109))),
        Act::Cspace(
            54,
            step(Op::Copy {
                dest: Loc::Win(0),
                src: Loc::Win(0),
                rights: 15,
            }),
        ),
        // Deleting the first endpoint restarts thread 0, which receives
        // thread 1's send.
        Act::Cspace(0, step(Op::Delete(Loc::Big(9)))),
        Act::Ipc(0, ipc(ReplyRecv, Target::Ep(0))),
    ];
    let mut p = Pair::with_threads();
    for a in &acts {
        p.act(a);
    }
    let thread = |i: usize| {
        let t = p.w.k.cap(p.thread_caps[i]);
        let crate::cap::Cap::Thread { tcb } = t else {
            panic!("thread {i}'s cap")
        };
        p.spec.thread(tcb.0).cloned().expect("a thread")
    };
    let (receiver, sender) = (thread(0), thread(1));
    assert_eq!(receiver.info.label, 1, "a cap fault's message");
    assert_eq!(sender.state, cairn_spec::ThreadState::Running);
    assert!(matches!(
        sender.fault,
        Some(cairn_spec::Fault::Cap {
            in_recv_phase: true,
            ..
        })
    ));
}

/// Found when Configure joined the generator (the test's encoding was
/// wrong, not the spec or the kernel): a thread whose IPC buffer was taken
/// away (Configure with address 0, here the root thread's) gets an error
/// reply of MR0..MR3 only (seL4's `setMR` drops the words that need a
/// buffer), a FailedLookup's fifth word too.
#[cfg(not(feature = "mcs"))]
#[test]
fn an_error_reply_without_an_ipc_buffer_has_four_words() {
    let roots = [
        Target::Raw(init::CNODE),
        Target::Raw(init::VSPACE),
        Target::Raw(init::IPC_BUFFER),
    ];
    let c = control::Control::without_buffer(Target::Tcb(0), roots);
    let mut p = Pair::with_threads();
    p.act(&Act::Control(0, c));
    let root = p.root_tcb;
    assert!(!p.spec.has_buffer(root, true));
    assert_eq!(p.spec.thread(root).map(|t| t.ipc_buffer), Some(0));
    let at = Addr {
        cnode: init::CNODE,
        index: 0,
        depth: 1,
    };
    let out = p.call(
        &cnode_call(l::CNODE_DELETE, at, vec![], &[]),
        None,
        &"delete",
    );
    let Some(Outcome::Reply { label: 6, mrs }) = out else {
        panic!("a FailedLookup: {out:?}")
    };
    assert_eq!(mrs.len(), 4, "a GuardMismatch's five words, cut to four");
}

/// Found when buffers moved onto any frame (the spec was wrong): a thread
/// whose buffer is an image frame it may only read (a copy of the frame
/// cap with Read alone) cannot write its message there, so the kernel
/// reads the frame's words (code: 0xAB bytes) as MR4 and as the extra
/// cap's cptr; the lookup of that cptr fails, a cap fault. The spec took
/// the words and cptrs from the test's intended message; it now reads
/// them from the thread's registers and buffer as seL4's
/// `handleInvocation` does (`State::as_read`), and, without a buffer,
/// cuts the message to its registers (the TruncatedMessage of a 5-word
/// TCB call, the other divergence of that run). Classic only: the MCS
/// refinement world has no thread-control steps yet (docs/spec.md, "The
/// MCS configuration").
#[cfg(not(feature = "mcs"))]
#[test]
fn a_message_is_read_from_the_buffer_the_thread_has() {
    let step = |op| Step {
        op,
        irq: None,
        restart: true,
        cut: None,
    };
    let image_frame = Loc::Boot(15);
    let acts = [
        Act::Cspace(
            0,
            step(Op::Copy {
                dest: Loc::Win(3),
                src: image_frame,
                rights: 10,
            }),
        ),
        Act::Control(
            0,
            control::Control::set_ipc_buffer(
                Target::Tcb(1),
                control::BufAddr::Home,
                Target::Frame(0),
            ),
        ),
    ];
    let mut p = Pair::with_threads();
    for a in &acts {
        p.act(a);
    }
    let crate::cap::Cap::Thread { tcb } = p.w.k.cap(p.thread_caps[0]) else {
        panic!("thread 0's cap")
    };
    let t = tcb.0;
    assert!(p.spec.has_buffer(t, false) && !p.spec.has_buffer(t, true));
    let copy = step(Op::Copy {
        dest: Loc::Win(0),
        src: Loc::Win(0),
        rights: 15,
    });
    p.step_by(t, &copy);
    let fault = p.spec.thread(t).and_then(|x| x.fault);
    assert!(
        matches!(
            fault,
            Some(cairn_spec::Fault::Cap {
                addr: 0xABAB_ABAB_ABAB_ABAB,
                ..
            })
        ),
        "{fault:?}"
    );
}

/// MCS: a fault sent to a handler that is not waiting leaves the thread
/// blocked on send as seL4 16.0.0's `sendFaultIPC` does, not as a Call
/// (`do_call` false; the stored fault makes the rendezvous link the
/// reply object). The kernel had sent it as a Call (docs/spec.md,
/// "Divergences found"; `cargo xtask spec --config mcs=on`, seed 7,
/// shrunk to this one step): the root thread's exception goes to its
/// handler, window slot 1's endpoint, where no one waits.
#[cfg(feature = "mcs")]
#[test]
fn a_fault_is_sent_as_a_send_not_a_call() {
    let mut p = Pair::with_threads();
    let root = p.root_tcb;
    let mut sel = p.spec.objects.iter().filter(|(&o, ob)| {
        matches!(ob, cairn_spec::Object::Tcb { thread, .. } if thread.state.runnable())
            && p.may_run(o, true)
    });
    let sel = sel
        .position(|(&o, _)| o == root)
        .expect("the root thread runs") as u8;
    p.act(&Act::Exception(sel, 0, 0));
    let s = p.spec.state_of(root);
    assert!(
        matches!(
            s,
            cairn_spec::ThreadState::BlockedOnSend { call: false, .. }
        ),
        "{s:?}"
    );
    let k = crate::object::tcb::TcbRef::new(crate::types::PAddr(root));
    assert!(!k.get().blocking_ipc().is_call);
    assert!(k.get().fault().is_some());
}
