//! The IPC fastpath (seL4's `fastpath_call` and `fastpath_reply_recv`,
//! classic configuration): the common case of a short Call to a waiting
//! server and of the server's ReplyRecv, done directly.
//!
//! It is an optimisation no user can observe. Each entry point is a run
//! of guards; when all hold, the outcome is exactly what the general path
//! (`api::invoke` → `ipc::endpoint`, `api::recv`) would produce, and when
//! any fails the entry point returns `false` having changed nothing, and
//! the general path runs. The guards:
//!
//! * the message fits in registers (no extra caps, at most 4 MRs) and the
//!   caller has no fault being handled;
//! * the cap is an endpoint with the needed rights (Call: Write and Grant
//!   or GrantReply; ReplyRecv: Read);
//! * Call: a receiver waits on the endpoint, its caller slot is empty and
//!   the caller has its master reply cap; ReplyRecv: the caller slot holds
//!   a reply cap to a thread waiting for exactly that reply (no fault), no
//!   sender waits on the endpoint and no signal is pending on the bound
//!   notification;
//! * the thread to switch to is in the current domain with a priority at
//!   least the caller's, so the general path's scheduler would switch to
//!   it directly.
//!
//! `tests_fastpath` runs random IPC with the fastpath on and off and
//! checks that every thread, queue and slot ends up the same.

use crate::arch::{BADGE_REGISTER, CAP_REGISTER, MSG_INFO_REGISTER, MSG_REGISTERS};
use crate::cap::cte::empty_slot;
use crate::cap::derive::cte_insert;
use crate::cap::lookup::lookup_cap;
use crate::cap::Cap;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::tcb::{
    BlockingIpc, Tcb, TcbRef, ThreadState, TCB_CALLER, TCB_CTABLE, TCB_REPLY,
};
use crate::state::kernel;
use crate::types::PAddr;
use cairn_abi::message::{MessageInfo, N_MSG_REGISTERS};

#[cfg(test)]
std::thread_local! {
    /// Test switch: the differential tests run the general path alone.
    pub static ENABLED: core::cell::Cell<bool> = const { core::cell::Cell::new(true) };
}

fn enabled() -> bool {
    #[cfg(test)]
    {
        ENABLED.with(|e| e.get())
    }
    #[cfg(not(test))]
    {
        true
    }
}

/// The message in registers, if it qualifies: (label, length).
fn short_message(t: &Tcb) -> Option<(u64, usize)> {
    let info = MessageInfo(t.reg(MSG_INFO_REGISTER));
    let n = info.length() as usize;
    (info.extra_caps() == 0 && n <= N_MSG_REGISTERS && !t.has_fault()).then(|| (info.label(), n))
}

/// Whether the scheduler would switch from `cur` straight to `to`.
fn would_switch_to(cur: &Tcb, to: &Tcb) -> bool {
    to.domain() == kernel().cur_domain() && to.priority() >= cur.priority()
}

/// Delivers `n` MRs and the label from `from` to `to` with `badge`, and
/// makes `to` the running thread.
fn deliver_and_switch(from: &Tcb, to: TcbRef, badge: u64, label: u64, n: usize) {
    let t = to.get();
    for &r in MSG_REGISTERS.iter().take(n) {
        t.set_reg(r, from.reg(r));
    }
    t.set_reg(BADGE_REGISTER, badge);
    t.set_reg(MSG_INFO_REGISTER, MessageInfo::new(label, 0, 0, n as u64).0);
    t.set_state(ThreadState::Running);
    kernel().set_current(Some(to));
    crate::object::vspace::activate_thread_vspace(to);
}

/// seL4's `fastpath_call`; false: take the general path.
pub fn call(cur_ref: TcbRef) -> bool {
    if !enabled() {
        return false;
    }
    let cur = cur_ref.get();
    let Some((label, n)) = short_message(cur) else {
        return false;
    };
    let root = Tcb::slot(cur_ref, TCB_CTABLE).get().cap();
    let Ok((_, Cap::Endpoint { ptr, badge, rights })) = lookup_cap(root, cur.reg(CAP_REGISTER))
    else {
        return false;
    };
    if !rights.write() || !(rights.grant() || rights.grant_reply()) {
        return false;
    }
    let ep = &EndpointRef::new(ptr).get().queue;
    if ep.state() != EndpointState::Recv {
        return false;
    }
    let mut q = ep.tcbs();
    let Some(dest_ref) = q.first() else {
        return false;
    };
    let dest = dest_ref.get();
    let master = Tcb::slot(cur_ref, TCB_REPLY);
    let caller_slot = Tcb::slot(dest_ref, TCB_CALLER);
    let has_master = matches!(master.get().cap(), Cap::Reply { master: true, tcb, .. } if tcb == cur_ref.paddr());
    if !would_switch_to(cur, dest) || !has_master || !caller_slot.get().cap().is_null() {
        return false;
    }
    // Committed: the general path's send_ipc, setup_caller_cap and
    // schedule, for this case.
    q.pop();
    ep.store(q, EndpointState::Recv);
    let reply_can_grant = dest.blocking_ipc().can_grant;
    cur.set_state(ThreadState::BlockedOnReply);
    let reply = Cap::Reply {
        tcb: cur_ref.paddr(),
        master: false,
        can_grant: reply_can_grant,
    };
    cte_insert(reply, master, caller_slot);
    deliver_and_switch(cur, dest_ref, badge, label, n);
    true
}

/// seL4's `fastpath_reply_recv`; false: take the general path.
pub fn reply_recv(cur_ref: TcbRef) -> bool {
    if !enabled() {
        return false;
    }
    let cur = cur_ref.get();
    let Some((label, n)) = short_message(cur) else {
        return false;
    };
    let root = Tcb::slot(cur_ref, TCB_CTABLE).get().cap();
    let Ok((_, Cap::Endpoint { ptr, rights, .. })) = lookup_cap(root, cur.reg(CAP_REGISTER)) else {
        return false;
    };
    let ep = &EndpointRef::new(ptr).get().queue;
    if !rights.read() || ep.state() == EndpointState::Send {
        return false;
    }
    let bound = cur.bound_notification();
    if bound != 0
        && NotificationRef::new(PAddr(bound)).get().queue.state() == NotificationState::Active
    {
        return false;
    }
    let caller_slot = Tcb::slot(cur_ref, TCB_CALLER);
    let Cap::Reply {
        tcb, master: false, ..
    } = caller_slot.get().cap()
    else {
        return false;
    };
    let caller_ref = TcbRef::new(tcb);
    let caller = caller_ref.get();
    if caller.state() != ThreadState::BlockedOnReply
        || caller.has_fault()
        || !would_switch_to(cur, caller)
    {
        return false;
    }
    // Committed: the general path's reply (do_reply_transfer with a
    // short message: no caps travel) and then receive_ipc blocking, for
    // this case.
    empty_slot(caller_slot);
    let ipc = BlockingIpc {
        can_grant: rights.grant(),
        ..BlockingIpc::default()
    };
    cur.set_blocking(ptr.0, 0, ipc);
    cur.set_state(ThreadState::BlockedOnReceive);
    let mut q = ep.tcbs();
    q.append(cur_ref);
    ep.set(q, EndpointState::Recv);
    deliver_and_switch(cur, caller_ref, 0, label, n);
    true
}
