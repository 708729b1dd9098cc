//! The IPC fastpath (seL4's `fastpath_call` and `fastpath_reply_recv`,
//! classic configuration): the common case of a short Call to a waiting
//! server and of the server's ReplyRecv, done directly, and the kernel
//! left at once for the thread switched to.
//!
//! It is an optimisation no user can observe. Each entry point is a run
//! of guards; when all hold, the outcome is exactly what the general path
//! (`api::invoke` → `ipc::endpoint`, `api::recv`, then `sched::schedule`
//! and `activate_thread_vspace` at kernel exit) would produce, and when any
//! fails the entry point returns `None` having changed nothing, and the
//! general path runs. The guards:
//!
//! * the message fits in registers (no extra caps, at most 4 MRs) and the
//!   caller has no fault being handled;
//! * the cap (found by [`lookup_fast`]) is an endpoint with the needed
//!   rights (Call: Write and Grant or GrantReply; ReplyRecv: Read);
//! * Call: a receiver waits on the endpoint, its caller slot is empty and
//!   the caller has its master reply cap; ReplyRecv: the caller slot holds
//!   a reply cap to a thread waiting for exactly that reply (no fault), no
//!   sender waits on the endpoint and no signal is pending on the bound
//!   notification;
//! * the thread to switch to has a valid VSpace root (a page table cap with
//!   an ASID) and is in the current domain, at a priority at which the
//!   scheduler would switch straight to it (`sched::switches_straight_to`).
//!
//! Capabilities are read in place (`CapWords`), never decoded whole; the
//! reply cap is linked into and out of the derivation tree directly, with
//! the same links and flags `cte_insert` and `empty_slot` would leave.
//!
//! `ipc::tests::props` runs random IPC with the fastpath on and off and
//! checks that every thread, queue and slot ends up the same;
//! `ipc::tests::fastpath` checks that each guard sends the call to the
//! general path having changed nothing.

use crate::arch::{BADGE_REGISTER, CAP_REGISTER, MSG_INFO_REGISTER, MSG_REGISTERS};
use crate::cap::cte::{empty_full_slot, insert_child_words};
use crate::cap::lookup::lookup_fast;
use crate::cap::CapWords;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::tcb::{
    BlockingIpc, Tcb, TcbRef, ThreadState, TCB_CALLER, TCB_CTABLE, TCB_REPLY, TCB_VTABLE,
};
use crate::object::vspace::find_vspace_for_asid;
use crate::state::kernel;
use crate::types::PAddr;
use cairn_abi::message::{MessageInfo, N_MSG_REGISTERS};
use cairn_abi::syscall::{SYS_CALL, SYS_REPLY_RECV};

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

/// Tries system call `no` of the running thread on the fastpath. `Some`:
/// done; the kernel pointer of the registers of the thread to resume at
/// once (it is the current thread, its address space installed, no
/// scheduling decision pending). `None`: nothing changed, the general
/// path is to run. On the machine, the trap vector calls it (through
/// `arch::Kernel::fastpath_syscall`) for Call and ReplyRecv only, as a
/// function of its own, before the general path's stack frame exists;
/// everything is inlined into that function.
#[inline(always)]
pub fn syscall(no: i64) -> Option<usize> {
    if no == SYS_CALL || no == SYS_REPLY_RECV {
        try_ipc(no == SYS_CALL)
    } else {
        None
    }
}

#[inline(always)]
fn try_ipc(is_call: bool) -> Option<usize> {
    if !enabled() {
        return None;
    }
    let cur = kernel().current_tcb()?;
    let to = if is_call {
        call(cur)?
    } else {
        reply_recv(cur)?
    };
    Some(to.get().regs_kptr())
}

/// The message in registers, if it qualifies: (label, length).
#[inline]
fn short_message(t: &Tcb) -> Option<(u64, usize)> {
    let info = MessageInfo(t.reg(MSG_INFO_REGISTER));
    let n = info.length() as usize;
    (info.extra_caps() == 0 && n <= N_MSG_REGISTERS && !t.has_fault()).then_some((info.label(), n))
}

/// The capability the thread's cap register names, read in place.
#[inline]
fn invoked_cap(t: TcbRef) -> Option<CapWords> {
    let root = Tcb::slot(t, TCB_CTABLE).get().words();
    lookup_fast(root, t.get().reg(CAP_REGISTER))
}

/// The VSpace `to` would run on, if the scheduler would switch from `cur`
/// straight to it and it has a valid VSpace root registered for its ASID
/// (else the general path decides, running `to` on the kernel's table if
/// its root is invalid). The active VSpace is only ever recorded after
/// such a check, and forgotten when an ASID or pool is deleted, so it
/// needs no lookup (`activate_thread_vspace`'s rule).
#[inline(always)]
fn switch_target(cur: &Tcb, to: TcbRef) -> Option<(PAddr, u16)> {
    let t = to.get();
    let k = kernel();
    let straight = t.domain() == k.cur_domain()
        && crate::sched::switches_straight_to(cur.priority(), t.priority());
    if !straight {
        return None;
    }
    let vspace = Tcb::slot(to, TCB_VTABLE).get().assigned_vspace()?;
    if vspace != k.active_vspace() && find_vspace_for_asid(vspace.1) != Some(vspace.0) {
        return None;
    }
    Some(vspace)
}

/// Delivers `n` MRs and the label from `from` to `to` with `badge`, and
/// makes `to` the running thread on VSpace `vspace` (from
/// [`switch_target`]), as `schedule` and `activate_thread_vspace` would at
/// kernel exit.
#[inline(always)]
fn deliver_and_switch(
    from: &Tcb,
    to: TcbRef,
    vspace: (PAddr, u16),
    badge: u64,
    label: u64,
    n: usize,
) {
    let t = to.get();
    for &r in MSG_REGISTERS.iter().take(n) {
        t.set_reg(r, from.reg(r));
    }
    t.set_reg(BADGE_REGISTER, badge);
    t.set_reg(MSG_INFO_REGISTER, MessageInfo::new(label, 0, 0, n as u64).0);
    t.set_state(ThreadState::Running);
    let k = kernel();
    k.set_current(Some(to));
    // `activate_thread_vspace`, for a root `switch_target` found
    // registered for its ASID: nothing if it is already the active one.
    if k.active_vspace() != vspace {
        k.set_active_vspace(vspace.0, vspace.1);
        crate::arch::set_vspace(vspace.0, vspace.1);
    }
}

/// seL4's `fastpath_call`: the thread to resume, or `None` for the
/// general path.
#[inline]
fn call(cur_ref: TcbRef) -> Option<TcbRef> {
    let cur = cur_ref.get();
    let (label, n) = short_message(cur)?;
    let (ptr, badge, rights) = invoked_cap(cur_ref)?.endpoint()?;
    if !rights.write() || !(rights.grant() || rights.grant_reply()) {
        return None;
    }
    let ep = &EndpointRef::new(ptr).get().queue;
    if ep.state() != EndpointState::Recv {
        return None;
    }
    let mut q = ep.tcbs();
    let dest_ref = q.first()?;
    let dest = dest_ref.get();
    let master = Tcb::slot(cur_ref, TCB_REPLY);
    let caller_slot = Tcb::slot(dest_ref, TCB_CALLER);
    let has_master =
        matches!(master.get().words().reply(), Some((t, true, _)) if t == cur_ref.paddr());
    if !has_master || !caller_slot.get().words().is_null() {
        return None;
    }
    let vspace = switch_target(cur, dest_ref)?;
    // Committed: the general path's send_ipc, setup_caller_cap (a reply
    // cap is never revocable: cte_insert's rule) and schedule, for this
    // case.
    q.pop();
    ep.store(q, EndpointState::Recv);
    let reply = CapWords::new_reply(cur_ref.paddr(), dest.blocking_ipc().can_grant);
    cur.set_state(ThreadState::BlockedOnReply);
    insert_child_words(master, caller_slot, reply, false);
    deliver_and_switch(cur, dest_ref, vspace, badge, label, n);
    Some(dest_ref)
}

/// seL4's `fastpath_reply_recv`: the thread to resume, or `None` for the
/// general path.
#[inline]
fn reply_recv(cur_ref: TcbRef) -> Option<TcbRef> {
    let cur = cur_ref.get();
    let (label, n) = short_message(cur)?;
    let (ptr, _, rights) = invoked_cap(cur_ref)?.endpoint()?;
    let ep = &EndpointRef::new(ptr).get().queue;
    if !rights.read() || ep.state() == EndpointState::Send {
        return None;
    }
    let bound = cur.bound_notification();
    if bound != 0
        && NotificationRef::new(PAddr(bound)).get().queue.state() == NotificationState::Active
    {
        return None;
    }
    let caller_slot = Tcb::slot(cur_ref, TCB_CALLER);
    let Some((tcb, false, _)) = caller_slot.get().words().reply() else {
        return None;
    };
    let caller_ref = TcbRef::new(tcb);
    let caller = caller_ref.get();
    if caller.state() != ThreadState::BlockedOnReply || caller.has_fault() {
        return None;
    }
    let vspace = switch_target(cur, caller_ref)?;
    // Committed: the general path's reply (do_reply_transfer with a
    // short message: no caps travel) and then receive_ipc blocking, for
    // this case.
    empty_full_slot(caller_slot);
    let ipc = BlockingIpc {
        can_grant: rights.grant(),
        ..BlockingIpc::default()
    };
    cur.set_blocking(ptr.0, 0, ipc);
    cur.set_state(ThreadState::BlockedOnReceive);
    let mut q = ep.tcbs();
    q.append(cur_ref);
    ep.set(q, EndpointState::Recv);
    deliver_and_switch(cur, caller_ref, vspace, 0, label, n);
    Some(caller_ref)
}
