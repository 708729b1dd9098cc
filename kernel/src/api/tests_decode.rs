//! Decoding changes nothing, and its error is the invocation's (DESIGN.md,
//! *Decode/perform*): the root thread of a simulated kernel makes random
//! invocations, valid and invalid, on capabilities of every type (boot
//! caps, objects of every type, a mapped frame, an assigned VSpace, an IRQ
//! handler, a reply cap, empty slots) as Call, Send or NBSend. Before each
//! one the whole kernel state is copied (the simulated machine: RAM, IRQ
//! masks, recorded flushes, console; and `KernelState`); the lookups and
//! `operation::decode` run alone and must leave it equal. Then the
//! invocation runs in full: a decode error must be exactly its error reply
//! (a Call) or change nothing at all (a Send); a decoded operation may not
//! fail with an error; a failed lookup is a cap fault, never a reply.

use super::invoke::{handle_invocation, with_invocation};
use super::operation::decode;
use crate::arch::host::{MachineSnapshot, SimMachine};
use crate::cap::Cap;
use crate::ipc::message::MessageRegs;
use crate::object::tcb::{Tcb, ThreadState, TCB_CTABLE};
use crate::state::kernel;
use crate::testutil::{boot_with_ram, ok, Outcome, TestKernel};
use cairn_abi::cap::init;
use cairn_abi::invocation::label;
use cairn_abi::object::ObjectType as T;
use proptest::prelude::*;

/// A message word: a raw value, the cptr of candidate `i` (so that slot
/// arguments often name something), or of one of the empty slots at
/// `first_empty` (where most new caps can go).
#[derive(Clone, Copy, Debug)]
enum Word {
    Raw(u64),
    Slot(usize),
    Empty(u64),
}

/// Where [`candidates`] puts the untypeds.
const FIRST_UNTYPED: usize = 9;

/// A label: a raw value, or method `i` of the target's capability type (so
/// that most invocations get past the label check).
#[derive(Clone, Copy, Debug)]
enum Label {
    Raw(u64),
    Method(usize),
}

/// The labels a capability's type answers to.
fn methods(cap: Cap) -> &'static [u64] {
    use label::*;
    match cap {
        Cap::Untyped { .. } => &[UNTYPED_RETYPE],
        Cap::Thread { .. } => &[
            TCB_READ_REGISTERS,
            TCB_WRITE_REGISTERS,
            TCB_COPY_REGISTERS,
            TCB_CONFIGURE,
            TCB_SET_PRIORITY,
            TCB_SET_MC_PRIORITY,
            TCB_SET_SCHED_PARAMS,
            TCB_SET_IPC_BUFFER,
            TCB_SET_SPACE,
            TCB_SUSPEND,
            TCB_RESUME,
            TCB_BIND_NOTIFICATION,
            TCB_UNBIND_NOTIFICATION,
            TCB_SET_TLS_BASE,
            TCB_SET_FLAGS,
        ],
        #[cfg(not(feature = "mcs"))]
        Cap::CNode { .. } => &[
            CNODE_REVOKE,
            CNODE_DELETE,
            CNODE_CANCEL_BADGED_SENDS,
            CNODE_COPY,
            CNODE_MINT,
            CNODE_MOVE,
            CNODE_MUTATE,
            CNODE_ROTATE,
            CNODE_SAVE_CALLER,
        ],
        // MCS has no SaveCaller (reply objects replace the caller slot).
        #[cfg(feature = "mcs")]
        Cap::CNode { .. } => &[
            CNODE_REVOKE,
            CNODE_DELETE,
            CNODE_CANCEL_BADGED_SENDS,
            CNODE_COPY,
            CNODE_MINT,
            CNODE_MOVE,
            CNODE_MUTATE,
            CNODE_ROTATE,
        ],
        Cap::IrqControl => &[IRQ_ISSUE_IRQ_HANDLER, RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER],
        Cap::IrqHandler { .. } => &[IRQ_ACK_IRQ, IRQ_SET_IRQ_HANDLER, IRQ_CLEAR_IRQ_HANDLER],
        Cap::Domain => &[
            DOMAIN_SET_SET,
            DOMAIN_SCHEDULE_CONFIGURE,
            DOMAIN_SCHEDULE_SET_START,
        ],
        Cap::PageTable { .. } => &[RISCV_PAGE_TABLE_MAP, RISCV_PAGE_TABLE_UNMAP],
        Cap::Frame { .. } => &[RISCV_PAGE_MAP, RISCV_PAGE_UNMAP, RISCV_PAGE_GET_ADDRESS],
        Cap::AsidControl => &[RISCV_ASID_CONTROL_MAKE_POOL],
        Cap::AsidPool { .. } => &[RISCV_ASID_POOL_ASSIGN],
        Cap::Null
        | Cap::Endpoint { .. }
        | Cap::Notification { .. }
        | Cap::Reply { .. }
        | Cap::Zombie { .. }
        | Cap::SchedContext { .. }
        | Cap::SchedControl { .. }
        | Cap::ReplyObject { .. } => &[0],
    }
}

/// How the invocation is made.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Call,
    Send,
    NBSend,
}

/// One random invocation.
#[derive(Clone, Debug)]
struct Inv {
    kind: Kind,
    /// Index into the candidate cptrs.
    target: usize,
    label: Label,
    mrs: Vec<Word>,
    /// Indices into the candidate cptrs.
    extra: Vec<usize>,
}

fn word() -> impl Strategy<Value = Word> {
    prop_oneof![
        3 => (0..64usize).prop_map(Word::Slot),
        3 => (0..17u64).prop_map(Word::Raw),
        3 => Just(Word::Raw(64)),
        1 => (0..64u64).prop_map(Word::Raw),
        1 => prop_oneof![
            Just(u64::MAX),
            Just(1 << 63),
            Just(0x4000_0000),
            Just(0x3F_FFFF_F000),
            any::<u64>(),
        ]
        .prop_map(Word::Raw),
    ]
}

/// An extra cap: often the root CNode or TCB (a destination CNode, an
/// authority), else any candidate.
fn extra() -> impl Strategy<Value = usize> {
    prop_oneof![1 => 0..2usize, 2 => 0..64usize]
}

/// Invocations that are nearly right: Retype into an empty slot of the
/// root CNode, and Copy, Mint, Move and Mutate between its slots.
fn template() -> impl Strategy<Value = Inv> {
    let retype =
        (0..4usize, 0..14u64, 0..13u64, 0..8u64, 1..3u64).prop_map(|(ut, ty, size, slot, n)| Inv {
            kind: Kind::Call,
            target: FIRST_UNTYPED + ut,
            label: Label::Raw(label::UNTYPED_RETYPE),
            mrs: vec![
                Word::Raw(ty),
                Word::Raw(size),
                Word::Raw(0),
                Word::Raw(0),
                Word::Empty(slot),
                Word::Raw(n),
            ],
            extra: vec![0],
        });
    let transfer = (
        label::CNODE_COPY..=label::CNODE_MUTATE,
        0..8u64,
        0..64usize,
        0..16u64,
        any::<u64>(),
    )
        .prop_map(|(l, dest, src, rights, data)| Inv {
            kind: Kind::Call,
            target: 0,
            label: Label::Raw(l),
            mrs: vec![
                Word::Empty(dest),
                Word::Raw(64),
                Word::Slot(src),
                Word::Raw(64),
                Word::Raw(rights),
                Word::Raw(data & 0xFFFF),
            ],
            extra: vec![0],
        });
    prop_oneof![retype, transfer]
}

fn inv() -> impl Strategy<Value = Inv> {
    prop_oneof![4 => random_inv(), 1 => template()]
}

fn random_inv() -> impl Strategy<Value = Inv> {
    (
        prop_oneof![
            4 => Just(Kind::Call),
            1 => Just(Kind::Send),
            1 => Just(Kind::NBSend)
        ],
        // Candidates 0 and 1 are the root CNode and TCB, whose methods
        // need the most arguments right.
        prop_oneof![2 => 0..2usize, 5 => 0..64usize],
        prop_oneof![
            3 => (0..16usize).prop_map(Label::Method),
            1 => (0..48u64).prop_map(Label::Raw),
        ],
        prop_oneof![
            1 => proptest::collection::vec(word(), 0..3),
            4 => proptest::collection::vec(word(), 3..9),
        ],
        prop_oneof![
            1 => proptest::collection::vec(extra(), 0..1),
            4 => proptest::collection::vec(extra(), 1..4),
        ],
    )
        .prop_map(|(kind, target, label, mrs, extra)| Inv {
            kind,
            target,
            label,
            mrs,
            extra,
        })
}

/// The whole kernel state: the simulated machine and `KernelState`.
struct Snapshot {
    machine: MachineSnapshot,
    state: String,
}

impl Snapshot {
    fn take() -> Snapshot {
        Snapshot {
            machine: SimMachine::snapshot(),
            state: format!("{:?}", kernel()),
        }
    }

    /// Takes it again, reusing the buffers.
    fn retake(&mut self) {
        self.machine.retake();
        self.state = format!("{:?}", kernel());
    }

    /// Panics with the first difference if the state is not this one.
    fn assert_unchanged(&self, what: &str) {
        if let Some(d) = self.machine.difference() {
            panic!("{what} changed the machine: {d}");
        }
        let state = format!("{:?}", kernel());
        assert!(state == self.state, "{what} changed KernelState");
    }
}

#[cfg(not(feature = "mcs"))]
/// Makes `slot` hold a reply cap to a new thread that called the endpoint
/// in `ep` (the root thread received the call and saved its caller cap).
fn make_reply_cap(k: &TestKernel, ep: u64, slot: u64) {
    use crate::arch::{CAP_REGISTER, MSG_INFO_REGISTER};
    use cairn_abi::message::MessageInfo;
    use cairn_abi::syscall::{SYS_CALL, SYS_RECV};
    let caller = k.threads(100, 1)[0];
    let as_current = |t: crate::object::tcb::TcbRef, no, cptr| {
        crate::sched::dequeue(t);
        kernel().set_current(Some(t));
        t.get().set_reg(CAP_REGISTER, cptr);
        t.get()
            .set_reg(MSG_INFO_REGISTER, MessageInfo::new(0, 0, 0, 0).0);
        crate::api::handle_syscall(no);
    };
    as_current(caller, SYS_CALL, ep);
    as_current(k.tcb, SYS_RECV, ep);
    k.tcb.get().set_state(ThreadState::Running);
    let saved = k.call(init::CNODE, label::CNODE_SAVE_CALLER, &[slot, 64], &[]);
    assert_eq!(saved, ok());
    assert!(matches!(k.cap(slot), Cap::Reply { master: false, .. }));
}

/// The cptrs the invocations aim at: the boot caps but the root thread's
/// VSpace (the root CNode and TCB are there so that CNode and TCB methods
/// often find their slots; an invocation that breaks the root thread ends
/// the run), objects of every type, a mapped frame and the tables
/// it is mapped through, an assigned VSpace, an IRQ handler, a reply cap,
/// and some empty slots.
fn candidates(k: &TestKernel) -> Vec<u64> {
    // The first `FIRST_UNTYPED` are the boot caps.
    let mut v = vec![
        init::CNODE,
        init::TCB,
        init::IRQ_CONTROL,
        init::ASID_CONTROL,
        init::ASID_POOL,
        init::DOMAIN,
        init::IPC_BUFFER,
        init::BOOT_INFO_FRAME,
        0,
    ];
    v.extend(k.objects_of_every_type());
    // A VSpace (root, level-1 and leaf tables) with a frame mapped.
    let tables = k.make(T::PageTable, 0, 3);
    let (root, mid, leaf) = (tables[0], tables[1], tables[2]);
    let frame = k.make(T::SmallPage, 0, 1)[0];
    let va = 0x4000_0000;
    let steps = [
        (init::ASID_POOL, label::RISCV_ASID_POOL_ASSIGN, vec![], root),
        (mid, label::RISCV_PAGE_TABLE_MAP, vec![va, 0], root),
        (leaf, label::RISCV_PAGE_TABLE_MAP, vec![va, 0], root),
        (frame, label::RISCV_PAGE_MAP, vec![va, 3, 0], root),
    ];
    for (cap, l, mrs, vspace) in steps {
        assert_eq!(k.call(cap, l, &mrs, &[vspace]), ok(), "label {l}");
    }
    v.extend([root, mid, leaf, frame]);
    let spare = k.first_empty + 16;
    let irq = k.call(
        init::IRQ_CONTROL,
        label::IRQ_ISSUE_IRQ_HANDLER,
        &[7, spare, 64],
        &[init::CNODE],
    );
    assert_eq!(irq, ok());
    let ep = k.make(T::Endpoint, 0, 1)[0];
    // MCS: no classic reply caps (the Reply object is retyped instead).
    #[cfg(not(feature = "mcs"))]
    make_reply_cap(k, ep, spare + 1);
    v.extend([spare, spare + 1, ep]);
    v.extend(k.first_empty..k.first_empty + 8);
    v
}

/// Whether the root thread can still make invocations (an invocation may
/// have deleted its last TCB cap, emptied its CSpace root or taken its IPC
/// buffer away).
fn root_intact(k: &TestKernel) -> bool {
    let tcb_cap = Cap::Thread { tcb: k.tcb.paddr() };
    k.cap(init::TCB) == tcb_cap
        && MessageRegs::of(k.tcb, true).has_buffer()
        && matches!(Tcb::slot(k.tcb, TCB_CTABLE).get().cap(), Cap::CNode { .. })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn decode_changes_nothing_and_its_error_is_the_reply(
        invs in proptest::collection::vec(inv(), 1..40)
    ) {
        // Small RAM: the machine is copied before every invocation.
        let k = boot_with_ram(8 << 20);
        let cands = candidates(&k);
        let pick = |i: usize| cands[i % cands.len()];
        let mut before = Snapshot::take();
        for c in &invs {
            let mrs: Vec<u64> = c
                .mrs
                .iter()
                .map(|w| match *w {
                    Word::Raw(x) => x,
                    Word::Slot(i) => pick(i),
                    Word::Empty(i) => k.first_empty + i,
                })
                .collect();
            let extra: Vec<u64> = c.extra.iter().map(|&i| pick(i)).collect();
            let (is_call, blocking) = match c.kind {
                Kind::Call => (true, true),
                Kind::Send => (false, true),
                Kind::NBSend => (false, false),
            };
            let target = pick(c.target);
            let label = match c.label {
                Label::Raw(l) => l,
                Label::Method(i) => {
                    let m = methods(k.cap(target));
                    m[i % m.len()]
                }
            };
            k.load(target, label, &mrs, &extra);

            before.retake();
            let decoded = with_invocation(k.tcb, is_call, blocking, decode);
            before.assert_unchanged("lookup and decode");

            handle_invocation(k.tcb, is_call, blocking);
            let state = k.tcb.get().state();
            match decoded {
                Err(_) => prop_assert!(
                    !blocking || !state.is_runnable(),
                    "a cap fault leaves the caller waiting: {:?}", c
                ),
                Ok(Err(e)) if is_call => {
                    prop_assert_eq!(state, ThreadState::Running);
                    let (w, n) = e.words();
                    let want = Outcome::Reply { label: e.code() as u64, mrs: w[..n].to_vec() };
                    prop_assert_eq!(k.reply(), want, "{:?}", c);
                }
                Ok(Err(_)) => before.assert_unchanged("a failed Send"),
                Ok(Ok(op)) => {
                    prop_assert!(state != ThreadState::Restart, "preempted: {:?}", op);
                    if is_call && state == ThreadState::Running {
                        let Outcome::Reply { label, .. } = k.reply() else { unreachable!() };
                        prop_assert_eq!(label, 0, "{:?} failed after decoding", op);
                    }
                }
            }

            if !root_intact(&k) {
                break;
            }
            // The next invocation is a new kernel entry of a running
            // thread: one that blocked in IPC is taken out of it first.
            crate::ipc::cancel_ipc(k.tcb);
            crate::sched::dequeue(k.tcb);
            k.tcb.get().set_state(ThreadState::Running);
            k.tcb.get().set_fault(None);
            kernel().set_current(Some(k.tcb));
        }
    }
}
