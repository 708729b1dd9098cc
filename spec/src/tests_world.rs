//! The small world every test of the specification starts from, in both
//! configurations (the classic tests, `tests.rs` and the others, and the
//! MCS ones, `tests_mcs.rs`, `tests_tcb_mcs.rs`): one running thread whose
//! CSpace is a 16-slot CNode holding itself (slot 0) and a 64 KiB untyped
//! (slot 1), with an IPC buffer frame in its TCB's buffer slot (slot 4,
//! MCS 2: `TCB_BUFFER`), and the helpers to call into it.

use crate::cap::{Cap, VmRights};
use crate::error::SyscallError;
use crate::invoke::Invocation;
use crate::state::{Entry, Object, SlotId, State, TCB_BUFFER, TCB_CTABLE};
use crate::thread::{Thread, ThreadState};
use std::collections::BTreeMap;

pub(crate) const TCB: u64 = 0x1000;
pub(crate) const ROOT: u64 = 0x2000; // radix 4, guard 0 of 60 bits
pub(crate) const UT: u64 = 0x10_0000; // 64 KiB untyped in root slot 1
pub(crate) const BUFFER: u64 = 0x30_0000; // the thread's IPC buffer frame

/// An original cap with no parent and no children.
pub(crate) fn entry(cap: Cap) -> Entry {
    Entry {
        cap,
        original: true,
        parent: None,
        children: Vec::new(),
    }
}

pub(crate) fn root_cap() -> Cap {
    Cap::CNode {
        obj: ROOT,
        radix: 4,
        guard_size: 60,
        guard: 0,
    }
}

/// The state with no objects: a TCB of 2^11 bytes, one domain, the
/// default domain schedule, no interrupts, no memory.
pub(crate) fn empty() -> State {
    State {
        objects: BTreeMap::new(),
        tcb_bits: 11,
        asid_table: BTreeMap::new(),
        irqs: Default::default(),
        num_domains: 1,
        domain_schedule: Default::default(),
        memory: Default::default(),
        not_ready: Default::default(),
        sched: Default::default(),
    }
}

/// The thread `TCB` running with the root CNode as its CSpace and an IPC
/// buffer (messages longer than the registers need one), the untyped in
/// root slot 1.
pub(crate) fn boot() -> State {
    let mut s = empty();
    let frame = Cap::Frame {
        obj: BUFFER,
        size_bits: 12,
        rights: VmRights::ReadWrite,
        device: false,
        mapped: None,
    };
    s.objects
        .insert(BUFFER, Object::new(frame.object().expect("a frame").1));
    let thread = Thread {
        state: ThreadState::Running,
        ..Default::default()
    };
    let mut tcb = BTreeMap::new();
    tcb.insert(TCB_CTABLE, entry(root_cap()));
    tcb.insert(TCB_BUFFER, entry(frame));
    s.objects.insert(
        TCB,
        Object::Tcb {
            slots: tcb,
            thread: Box::new(thread),
        },
    );
    let mut slots = BTreeMap::new();
    slots.insert(0, entry(root_cap()));
    let ut = Cap::Untyped {
        obj: UT,
        size_bits: 16,
        device: false,
        watermark: 0,
    };
    slots.insert(1, entry(ut));
    s.objects.insert(ROOT, Object::CNode { radix: 4, slots });
    s
}

/// `TCB` calls `cptr` with `label`, `words` and extra caps `extra`: the
/// answer (the method must be specified and answer).
pub(crate) fn call(
    s: &mut State,
    cptr: u64,
    label: u64,
    words: &[u64],
    extra: &[u64],
) -> Result<(), SyscallError> {
    let inv = Invocation {
        cptr,
        label,
        words: words.to_vec(),
        extra: extra.to_vec(),
    };
    let answer = s.invoke(TCB, &inv).expect("specified");
    answer.expect("an answer")
}

/// Slot `i` of the root CNode.
pub(crate) fn root(i: u64) -> SlotId {
    SlotId {
        obj: ROOT,
        index: i,
    }
}
