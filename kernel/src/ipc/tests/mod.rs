//! Host tests of IPC: threads of a simulated kernel make system calls one
//! after the other (each call is made as the current thread, as if it had
//! been scheduled), and the tests check thread states, queues, registers,
//! IPC buffers and capabilities afterwards.

mod cancel;
mod endpoint;
// The fastpath's tests and the random sequences exist for each IPC (the
// classic ones use seL4_Reply and reply caps, the MCS ones reply objects:
// `props_mcs` compares the MCS fastpath with the general path,
// `props_mcs_links` checks priority order and every MCS link).
#[cfg(not(feature = "mcs"))]
mod fastpath;
#[cfg(feature = "mcs")]
mod fastpath_mcs;
mod fault;
mod harness;
#[cfg(feature = "mcs")]
mod mcs;
#[cfg(feature = "mcs")]
mod mcs_time;
#[cfg(feature = "mcs")]
mod mcs_vspace;
mod notification;
#[cfg(not(feature = "mcs"))]
mod props;
#[cfg(feature = "mcs")]
mod props_mcs;
#[cfg(feature = "mcs")]
mod props_mcs_links;
#[cfg(feature = "mcs")]
mod queue_order;

use crate::arch::{BADGE_REGISTER, CAP_REGISTER, MSG_INFO_REGISTER};
use crate::cap::derive::cte_insert;
use crate::cap::Cap;
use crate::ipc::message::MessageRegs;
use crate::object::access::{read_word, write_word};
use crate::object::tcb::{Tcb, TcbRef, TCB_BUFFER};
use crate::state::kernel;
use crate::testutil::TestKernel;
use cairn_abi::message::MessageInfo;
use cairn_abi::object::ObjectType;
use cairn_abi::syscall::SyscallNo;

/// IPC buffer words: caps_or_badges[0], receive CNode, index, depth.
pub const CAPS_WORD: usize = crate::ipc::transfer::CAPS_OR_BADGES_WORD;
pub const RECV_CNODE_WORD: usize = 125;

/// Makes `t` the running thread and has it make system call `no` with
/// `a0` (cptr or badge), a MessageInfo of `label`, `extra` caps (their
/// cptrs written to its IPC buffer) and `mrs`.
pub fn syscall(t: TcbRef, no: SyscallNo, a0: u64, label: u64, mrs: &[u64], extra: &[u64]) {
    load(t, a0, label, mrs, extra);
    crate::api::handle_syscall(no);
}

/// Takes the root thread out of a test's scene: suspended, so in no
/// ready queue and never chosen (boot leaves it running at the highest
/// priority; [`syscall`] would put it back in its ready queue).
pub fn stop_root(k: &TestKernel) {
    crate::ipc::suspend(k.tcb);
}

/// `t` replies with `label` and `mrs` to the Call it received last:
/// classic `seL4_Reply`; MCS, a Send on the reply object named by its
/// reply register (`testutil::TestKernel::give_reply`).
pub fn reply(t: TcbRef, label: u64, mrs: &[u64]) {
    #[cfg(not(feature = "mcs"))]
    syscall(t, cairn_abi::syscall::SYS_REPLY, 0, label, mrs, &[]);
    #[cfg(feature = "mcs")]
    {
        let r = t.get().reg(crate::arch::REPLY_REGISTER);
        syscall(t, cairn_abi::syscall::SYS_SEND, r, label, mrs, &[]);
    }
}

/// What [`syscall`] does before the system call: `t` running, its
/// registers and IPC buffer holding the arguments.
pub fn load(t: TcbRef, a0: u64, label: u64, mrs: &[u64], extra: &[u64]) {
    let k = kernel();
    // As if the scheduler had switched to it: the thread that ran before
    // goes back to its ready queue if it can still run (one a fastpath
    // switched to, say), and the running thread is in no ready queue.
    if let Some(before) = k.current_tcb().filter(|&p| p != t) {
        if before.get().state().is_runnable() {
            crate::sched::enqueue(before);
        }
    }
    crate::sched::dequeue(t);
    k.set_current(Some(t));
    k.set_action(crate::state::Action::ResumeCurrent);
    let regs = MessageRegs::of(t, true);
    for (i, w) in mrs.iter().enumerate() {
        assert!(regs.set(i, *w), "MR {i} needs an IPC buffer");
    }
    for (i, c) in extra.iter().enumerate() {
        write_word(regs.buffer_word(CAPS_WORD + i).expect("IPC buffer"), *c);
    }
    let tcb = t.get();
    tcb.set_reg(CAP_REGISTER, a0);
    tcb.set_reg(
        MSG_INFO_REGISTER,
        MessageInfo::new(label, 0, extra.len() as u64, mrs.len() as u64).0,
    );
}

/// What `t` received: (badge, MessageInfo, its first `n` MRs).
pub fn received(t: TcbRef, n: usize) -> (u64, MessageInfo, Vec<u64>) {
    let regs = MessageRegs::of(t, false);
    let tcb = t.get();
    (
        tcb.reg(BADGE_REGISTER),
        MessageInfo(tcb.reg(MSG_INFO_REGISTER)),
        (0..n).map(|i| regs.get(i)).collect(),
    )
}

/// Gives `t` an IPC buffer of its own: a fresh frame, the buffer at its
/// start.
pub fn own_buffer(k: &TestKernel, t: TcbRef) {
    let slot = k.make(ObjectType::SmallPage, 0, 1)[0];
    let dest = Tcb::slot(t, TCB_BUFFER);
    let _ = crate::cap::delete::cte_delete(dest);
    cte_insert(k.cap(slot), k.slot(slot), dest);
    t.get().set_ipc_buffer(0);
}

/// Takes `t`'s IPC buffer away.
pub fn no_buffer(t: TcbRef) {
    let _ = crate::cap::delete::cte_delete(Tcb::slot(t, TCB_BUFFER));
}

/// Sets `t`'s receive slot to root-CNode slot `index` (full depth).
pub fn receive_into(t: TcbRef, index: u64) {
    let regs = MessageRegs::of(t, true);
    let w = |i, v| write_word(regs.buffer_word(RECV_CNODE_WORD + i).expect("buffer"), v);
    w(0, cairn_abi::cap::init::CNODE);
    w(1, index);
    w(2, 64);
}

/// `t`'s `caps_or_badges[i]`.
pub fn caps_or_badges(t: TcbRef, i: usize) -> u64 {
    MessageRegs::of(t, false)
        .buffer_word(CAPS_WORD + i)
        .map_or(0, read_word)
}

/// Makes the cap in root slot `cptr` the fault handler of `t`: the
/// classic kernel keeps the cptr and looks it up when `t` faults; MCS
/// keeps a copy of the cap in the TCB's fault-handler slot (seL4's
/// `tcbFaultHandler`), which must be empty.
pub fn set_fault_handler(k: &TestKernel, t: TcbRef, cptr: u64) {
    #[cfg(not(feature = "mcs"))]
    {
        let _ = k;
        t.get().set_fault_handler(cptr);
    }
    #[cfg(feature = "mcs")]
    {
        let dest = Tcb::slot(t, crate::object::tcb::TCB_FAULT_HANDLER);
        cte_insert(k.cap(cptr), k.slot(cptr), dest);
    }
}

/// An endpoint (or notification) in a fresh root slot; returns the slot.
pub fn object(k: &TestKernel, ty: ObjectType) -> u64 {
    k.make(ty, 0, 1)[0]
}

/// The capability in root slot `s`, re-minted with `badge` and `rights`
/// into a fresh slot (through the CNode invocation); returns the slot.
pub fn mint(k: &TestKernel, s: u64, rights: u64, badge: u64) -> u64 {
    let d = k.make(ObjectType::Endpoint, 0, 1)[0];
    // Free the slot we were given (an endpoint we do not need).
    let _ = crate::cap::delete::cte_delete(k.slot(d));
    let r = k.call(
        cairn_abi::cap::init::CNODE,
        cairn_abi::invocation::label::CNODE_MINT,
        &[d, 64, s, 64, rights, badge],
        &[cairn_abi::cap::init::CNODE],
    );
    assert_eq!(r, crate::testutil::ok(), "mint");
    d
}

/// Whether the capability in slot `s` is null.
pub fn is_null(k: &TestKernel, s: u64) -> bool {
    matches!(k.cap(s), Cap::Null)
}
