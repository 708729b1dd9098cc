//! Random invocations of every kind of capability, each answer checked
//! against a model of seL4's. The root thread of a simulated kernel Calls
//! random slots (boot caps, objects of every type it made, empty slots)
//! with random labels, message words (boundary values mixed in) and extra
//! caps.
//!
//! [`predict`] gives, from the invoked cap, the label, the message length
//! and the number of extra caps, what seL4 answers before any argument's
//! value matters: a null cap is InvalidCapability(0); a label the cap's
//! type does not take is IllegalOperation; a message shorter than the
//! invocation's first check needs is TruncatedMessage; a Call of an
//! endpoint blocks the caller; a Call of a notification signals it and
//! gets an empty reply. Past those checks the invocation may succeed or
//! fail; an error is one of seL4's (label 1..=10), and the caller is left
//! running.
//!
//! After every error reply the kernel is as before the call: every byte of
//! simulated RAM in use (all but the unused parts of untypeds and the
//! kernel image), apart from the caller's registers and IPC buffer that
//! carry the reply; the current thread; every IRQ's state. A dangling
//! object pointer would panic the simulated machine's address translation.
//! The CSpace-specific invariants are `cap::proptests`' business; the IPC
//! ones `ipc::tests::props`'.

use crate::arch::host::kptr_to_paddr;
use crate::arch::Registers;
use crate::cap::derive::ensure_no_children;
use crate::cap::Cap;
use crate::ipc::message::ipc_buffer;
use crate::object::access::{copy_in, copy_out};
use crate::object::irq::{state as irq_state, IrqState, MAX_IRQ};
use crate::object::tcb::ThreadState;
use crate::state::kernel;
use crate::testutil::{boot, Outcome, TestKernel, KERNEL_END, KERNEL_START, RAM, RAM_SIZE};
use crate::types::PAddr;
use cairn_abi::cap::init;
use cairn_abi::invocation::label as l;
use cairn_abi::message::IPC_BUFFER_SIZE_BITS;
use proptest::prelude::*;

/// One random invocation.
#[derive(Clone, Debug)]
struct Call {
    /// Index into the candidate cptrs.
    target: usize,
    label: u64,
    mrs: Vec<u64>,
    /// Indices into the candidate cptrs.
    extra: Vec<usize>,
}

fn word() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..64u64,
        Just(u64::MAX),
        Just(1 << 63),
        Just(0x4000_0000),
        Just(0x3F_FFFF_F000),
        any::<u64>(),
    ]
}

fn call() -> impl Strategy<Value = Call> {
    (
        0..64usize,
        0..48u64,
        proptest::collection::vec(word(), 0..7),
        proptest::collection::vec(0..64usize, 0..4),
    )
        .prop_map(|(target, label, mrs, extra)| Call {
            target,
            label,
            mrs,
            extra,
        })
}

/// The cptrs the calls aim at: the boot caps (not the root CNode, VSpace
/// and TCB themselves, whose loss would end the run rather than test
/// anything), objects of every type, and some empty slots.
fn candidates(k: &TestKernel) -> Vec<u64> {
    let mut v = vec![
        init::IRQ_CONTROL,
        init::ASID_CONTROL,
        init::ASID_POOL,
        init::DOMAIN,
        init::IPC_BUFFER,
        init::BOOT_INFO_FRAME,
        0,
    ];
    v.extend(k.objects_of_every_type());
    v.extend(k.first_empty..k.first_empty + 8);
    v
}

// seL4's error codes (ABI ref §5).
const INVALID_CAPABILITY: u64 = 2;
const ILLEGAL_OPERATION: u64 = 3;
const TRUNCATED_MESSAGE: u64 = 7;
const LAST_ERROR: u64 = 10;

/// What seL4 does with a Call.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    /// Exactly this reply.
    Reply(Outcome),
    /// The caller blocks sending on the endpoint.
    BlocksOnSend,
    /// Success or any error; decided by the arguments' values.
    Checked,
}

fn error(code: u64, mrs: &[u64]) -> Expect {
    Expect::Reply(Outcome::Reply {
        label: code,
        mrs: mrs.to_vec(),
    })
}

/// The minimum message length and extra caps of invocation `label` of a
/// cap type, as the type's first check after the label asks; `None`: the
/// type does not take the label (IllegalOperation).
fn first_check(cap: &Cap, label: u64) -> Option<(usize, usize)> {
    let any = Some((0, 0));
    match (cap, label) {
        (Cap::Untyped { .. }, l::UNTYPED_RETYPE) => Some((6, 1)),
        (Cap::CNode { .. }, l::CNODE_REVOKE..=l::CNODE_SAVE_CALLER) => Some((2, 0)),
        (Cap::Thread { .. }, _) => match label {
            l::TCB_READ_REGISTERS | l::TCB_WRITE_REGISTERS => Some((2, 0)),
            l::TCB_COPY_REGISTERS => Some((1, 1)),
            l::TCB_CONFIGURE => Some((4, 3)),
            l::TCB_SET_PRIORITY | l::TCB_SET_MC_PRIORITY => Some((1, 1)),
            l::TCB_SET_SCHED_PARAMS => Some((2, 1)),
            l::TCB_SET_IPC_BUFFER => Some((1, 1)),
            l::TCB_SET_SPACE => Some((3, 2)),
            l::TCB_SUSPEND | l::TCB_RESUME | l::TCB_UNBIND_NOTIFICATION => any,
            l::TCB_BIND_NOTIFICATION => Some((0, 1)),
            l::TCB_SET_TLS_BASE => Some((1, 0)),
            l::TCB_SET_FLAGS => Some((2, 0)),
            _ => None,
        },
        (Cap::Frame { .. }, l::RISCV_PAGE_MAP) => Some((3, 1)),
        (Cap::Frame { .. }, l::RISCV_PAGE_UNMAP | l::RISCV_PAGE_GET_ADDRESS) => any,
        (Cap::PageTable { .. }, l::RISCV_PAGE_TABLE_MAP) => Some((2, 1)),
        (Cap::PageTable { .. }, l::RISCV_PAGE_TABLE_UNMAP) => any,
        (Cap::IrqControl, l::IRQ_ISSUE_IRQ_HANDLER) => Some((3, 1)),
        (Cap::IrqControl, l::RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER) => Some((4, 1)),
        (Cap::AsidControl, l::RISCV_ASID_CONTROL_MAKE_POOL) => Some((2, 2)),
        (Cap::AsidPool { .. }, l::RISCV_ASID_POOL_ASSIGN) => Some((0, 1)),
        (Cap::Domain, l::DOMAIN_SET_SET) => Some((1, 0)),
        (Cap::Domain, l::DOMAIN_SCHEDULE_CONFIGURE) => Some((3, 0)),
        (Cap::Domain, l::DOMAIN_SCHEDULE_SET_START) => Some((1, 0)),
        _ => None,
    }
}

/// The model: seL4's answer to a Call of `cap` with `label`, `len`
/// message words and `extra` extra caps, as far as it is decided before
/// any argument's value matters.
fn predict(cap: &Cap, label: u64, len: usize, extra: usize) -> Expect {
    match cap {
        Cap::Null | Cap::Zombie { .. } => return error(INVALID_CAPABILITY, &[0]),
        Cap::Endpoint { rights, .. } | Cap::Notification { rights, .. } if !rights.write() => {
            return error(INVALID_CAPABILITY, &[0])
        }
        Cap::Endpoint { .. } => return Expect::BlocksOnSend,
        Cap::Notification { .. } => return error(0, &[]),
        _ => {}
    }
    match first_check(cap, label) {
        None => error(ILLEGAL_OPERATION, &[]),
        Some((min_len, min_extra)) if len < min_len || extra < min_extra => {
            error(TRUNCATED_MESSAGE, &[])
        }
        Some(_) => Expect::Checked,
    }
}

/// Half-open ranges of simulated RAM the kernel may be using: all of it
/// but the kernel image and the unused part of every untyped in `slots`
/// (above its watermark; all of it if it has no children: no object lives
/// there, whatever the watermark says, as for the boot untypeds, whose
/// watermark starts at the top).
fn ranges_in_use(k: &TestKernel, slots: &[u64]) -> Vec<(u64, u64)> {
    let mut unused = vec![(KERNEL_START, KERNEL_END)];
    for &s in slots {
        if let Cap::Untyped {
            ptr,
            size_bits,
            free_index,
            is_device: false,
        } = k.cap(s)
        {
            let end = ptr.0 + (1 << size_bits);
            match ensure_no_children(k.slot(s)) {
                Ok(()) => unused.push((ptr.0, end)),
                Err(_) => unused.push((ptr.0 + free_index, end)),
            }
        }
    }
    unused.sort_unstable();
    let mut used = Vec::new();
    let mut at = RAM;
    for (s, e) in unused {
        if s > at {
            used.push((at, s));
        }
        at = at.max(e);
    }
    if at < RAM + RAM_SIZE {
        used.push((at, RAM + RAM_SIZE));
    }
    used
}

/// Everything an error must leave as it was (see the module doc).
#[derive(PartialEq, Eq)]
struct Snapshot {
    ram: Vec<u8>,
    current: Option<PAddr>,
    irqs: Vec<IrqState>,
}

fn snapshot(ranges: &[(u64, u64)]) -> Snapshot {
    let mut ram = vec![0; ranges.iter().map(|(s, e)| (e - s) as usize).sum()];
    let mut at = 0;
    for &(s, e) in ranges {
        let n = (e - s) as usize;
        copy_out(PAddr(s), &mut ram[at..at + n]);
        at += n;
    }
    Snapshot {
        ram,
        current: kernel().current_tcb().map(|t| t.paddr()),
        irqs: (0..=MAX_IRQ).map(irq_state).collect(),
    }
}

/// The caller's registers and IPC buffer: where they are and their bytes.
struct CallerState {
    regs: (PAddr, Vec<u8>),
    buffer: (PAddr, Vec<u8>),
}

impl CallerState {
    fn save(k: &TestKernel) -> CallerState {
        let read = |pa: PAddr, len: usize| {
            let mut v = vec![0; len];
            copy_out(pa, &mut v);
            (pa, v)
        };
        let regs = kptr_to_paddr(k.tcb.get().regs_kptr());
        let buffer = ipc_buffer(k.tcb, false).expect("the root thread's IPC buffer");
        CallerState {
            regs: read(regs, core::mem::size_of::<Registers>()),
            buffer: read(buffer, 1 << IPC_BUFFER_SIZE_BITS),
        }
    }

    fn restore(&self) {
        copy_in(self.regs.0, &self.regs.1);
        copy_in(self.buffer.0, &self.buffer.1);
    }
}

/// Calls `target` as the root thread and checks the answer against
/// [`predict`]; after an error, if `untyped_slots` is given (every slot
/// that may hold an untyped), that the kernel state is as before the call.
/// Then makes the root thread running and current again for the next
/// call (a new kernel entry of a running thread). Returns the answer.
fn check_call(
    k: &TestKernel,
    target: u64,
    label: u64,
    mrs: &[u64],
    extra: &[u64],
    untyped_slots: Option<&[u64]>,
) -> Result<Outcome, TestCaseError> {
    let what = || {
        format!(
            "cap {:?}, label {label}, {mrs:x?}, extra {extra:?}",
            k.cap(target)
        )
    };
    let want = predict(&k.cap(target), label, mrs.len(), extra.len());
    let before = untyped_slots.map(|slots| {
        let ranges = ranges_in_use(k, slots);
        let snap = snapshot(&ranges);
        (ranges, snap, CallerState::save(k))
    });
    let what = what();
    let out = k.call(target, label, mrs, extra);
    let state = k.tcb.get().state();
    match &want {
        Expect::BlocksOnSend => {
            prop_assert_eq!(state, ThreadState::BlockedOnSend, "{}", what);
        }
        Expect::Reply(reply) => {
            prop_assert_eq!(&out, reply, "{}", what);
            prop_assert_eq!(state, ThreadState::Running, "{}", what);
        }
        Expect::Checked => {
            let Outcome::Reply { label: got, .. } = out else {
                return Err(TestCaseError::fail(format!("{out:?} for {what}")));
            };
            prop_assert!(got <= LAST_ERROR, "label {} for {}", got, what);
            prop_assert_eq!(state, ThreadState::Running, "{}", what);
        }
    }
    let failed = matches!(out, Outcome::Reply { label, .. } if label != 0);
    if let (Some((ranges, snap, caller)), true) = (before, failed && want != Expect::BlocksOnSend) {
        caller.restore();
        prop_assert!(
            snapshot(&ranges) == snap,
            "state changed by {} ({:?})",
            what,
            out
        );
    }
    // One that blocked in IPC is taken out of it.
    crate::ipc::cancel_ipc(k.tcb);
    crate::sched::dequeue(k.tcb);
    k.tcb.get().set_state(ThreadState::Running);
    kernel().set_current(Some(k.tcb));
    Ok(out)
}

/// Every label (and some past the last), message length and number of
/// extra caps at one cap of every type: each first check the model knows
/// is met on both sides of its bound, and right at the bound the answer
/// is not TruncatedMessage (the bound is not too low) but for
/// WriteRegisters, whose count word asks for more. Extra caps are empty
/// slots and message words all ones, so that few invocations get past
/// decoding.
#[test]
fn every_label_length_and_cap_count_gets_sel4s_first_answer() {
    let k = boot();
    let cands = candidates(&k);
    let mut seen = Vec::new();
    let empty = k.first_empty;
    for &target in &cands {
        let tag = k.cap(target).tag();
        if seen.contains(&tag) {
            continue;
        }
        seen.push(tag);
        for label in 0..48 {
            for len in 0..7 {
                for n in 0..4 {
                    let cap = k.cap(target);
                    let words = &[u64::MAX; 6][..len];
                    let out = check_call(&k, target, label, words, &vec![empty; n], None)
                        .unwrap_or_else(|e| panic!("{e}"));
                    if first_check(&cap, label) == Some((len, n)) && label != l::TCB_WRITE_REGISTERS
                    {
                        assert!(
                            !matches!(
                                out,
                                Outcome::Reply {
                                    label: TRUNCATED_MESSAGE,
                                    ..
                                }
                            ),
                            "{cap:?}, label {label}: TruncatedMessage with {len} words, {n} caps"
                        );
                    }
                }
            }
        }
    }
    assert!(seen.len() >= 12, "cap types tried: {seen:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random calls: the model's answer, and no change after an error.
    #[test]
    fn random_invocations_get_sel4s_answers_and_errors_change_nothing(
        calls in proptest::collection::vec(call(), 1..120)
    ) {
        let k = boot();
        let cands = candidates(&k);
        let pick = |i: usize| cands[i % cands.len()];
        let untyped_slots: Vec<u64> = k.untypeds.clone().chain(cands.iter().copied()).collect();
        for c in &calls {
            let extra: Vec<u64> = c.extra.iter().map(|&i| pick(i)).collect();
            check_call(&k, pick(c.target), c.label, &c.mrs, &extra, Some(&untyped_slots))?;
        }
    }
}
