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
//! * the cap (found by [`lookup_fast`](crate::cap::lookup::lookup_fast),
//!   in one step in a CSpace of one level) is an endpoint with the
//!   needed rights (Call: Write and Grant or GrantReply; ReplyRecv: Read);
//! * Call: a receiver waits on the endpoint, its caller slot is empty and
//!   the caller has its master reply cap; ReplyRecv: the caller slot holds
//!   a reply cap to a thread waiting for exactly that reply (no fault), no
//!   sender waits on the endpoint and no signal is pending on the bound
//!   notification;
//! * the thread to switch to has a valid VSpace root (a page table cap with
//!   an ASID that still names it) and is in the current domain (with more
//!   than one), at a priority at which the scheduler would switch straight
//!   to it (`sched::switches_straight_to`).
//!
//! Capabilities are read in place (`CapWords`), never decoded whole; the
//! reply cap is linked into and out of the derivation tree directly, with
//! the same links and flags `cte_insert` and `empty_slot` would leave. The
//! caller's master reply cap is not checked (seL4 does not either): every
//! thread that is not Inactive has its own (`ipc::setup_reply_master` at
//! every restart; only finalising the TCB deletes it; the fuzzer checks
//! this invariant). The resumed thread's badge and message-info registers
//! are handed to the machine layer ([`Resume`]), which loads them
//! straight into the registers, as seL4's `fastpath_restore` does.
//!
//! `ipc::tests::props` runs random IPC with the fastpath on and off and
//! checks that every thread, queue and slot ends up the same;
//! `ipc::tests::fastpath` checks that each guard sends the call to the
//! general path having changed nothing.
//!
//! The MCS kernel has its own `call` and `reply_recv` (`fastpath_mcs.rs`:
//! reply objects and SchedContext donation, seL4's MCS conditions) on the
//! same guards and the same switch.

use crate::arch::{Resume, BADGE_REGISTER, CAP_REGISTER, MSG_INFO_REGISTER, MSG_REGISTERS};
#[cfg(not(feature = "mcs"))]
use crate::cap::cte::{empty_full_slot, insert_child_words};
use crate::cap::lookup::{FastLookup, OneLevel};
use crate::cap::CapWords;
use crate::config::NUM_DOMAINS;
use crate::object::endpoint::{EndpointRef, EndpointState};
use crate::object::notification::{NotificationRef, NotificationState};
use crate::object::queue::{TcbQueue, WaitQueue};
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::{BlockingIpc, TCB_CALLER, TCB_REPLY};
use crate::object::tcb::{Tcb, TcbRef, ThreadState, TCB_CTABLE, TCB_VTABLE};
use crate::state::kernel;
use crate::types::{PAddr, VSpaceWord};
use cairn_abi::cap::CapRights;
use cairn_abi::message::{MessageInfo, N_MSG_REGISTERS};
use cairn_abi::syscall::{SYS_CALL, SYS_REPLY_RECV};

// MCS: Call and ReplyRecv with reply objects and SchedContext donation.
#[cfg(feature = "mcs")]
#[path = "fastpath_mcs.rs"]
mod mcs;
#[cfg(feature = "mcs")]
use mcs::{call, reply_recv};

#[cfg(test)]
std::thread_local! {
    /// Test switch: the differential tests run the general path alone.
    pub static ENABLED: core::cell::Cell<bool> = const { core::cell::Cell::new(true) };
    /// How many times [`syscall`] took a ReplyRecv (0) and a Call (1): the
    /// random tests show they reach the fastpath.
    pub static TAKEN: core::cell::Cell<[u64; 2]> = const { core::cell::Cell::new([0; 2]) };
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

/// Tries system call `no` of the running thread on the fastpath, as the
/// host tests' kernel entry makes it: the cap and message-info registers
/// read from its TCB, and when taken the resumed thread's badge and
/// message-info registers written into its TCB (on the machine,
/// [`try_ipc`] is called from the trap vector and the machine layer loads
/// them). `None`: nothing changed, the general path is to run.
pub fn syscall(no: i64) -> Option<Resume> {
    if no != SYS_CALL && no != SYS_REPLY_RECV {
        return None;
    }
    let cur = kernel().current()?;
    let r = try_ipc(
        no == SYS_CALL,
        cur.reg(CAP_REGISTER),
        cur.reg(MSG_INFO_REGISTER),
    )?;
    let to = kernel().current()?;
    #[cfg(test)]
    TAKEN.with(|t| {
        let mut n = t.get();
        n[(no == SYS_CALL) as usize] += 1;
        t.set(n);
    });
    to.set_reg(BADGE_REGISTER, r.badge);
    to.set_reg(MSG_INFO_REGISTER, r.info);
    Some(r)
}

/// The fastpath of a Call (`is_call`) or a ReplyRecv of the running thread,
/// with `cptr` and `info` its cap and message-info registers. `Some`: done;
/// the thread to resume at once (it is the current thread, its address
/// space installed, no scheduling decision pending). `None`: nothing
/// changed. On the machine, the trap vector calls it (through
/// `arch::Kernel::fastpath_syscall`) as a function of its own for each
/// system call, before the general path's stack frame exists; everything
/// is inlined into that function but the copy for a CSpace of more than
/// one level ([`ipc_walking`]).
#[inline(always)]
pub fn try_ipc(is_call: bool, cptr: u64, info: u64) -> Option<Resume> {
    if !enabled() {
        return None;
    }
    let cur = kernel().current_tcb()?;
    // The message first, so that a long one (10 words) declines before
    // anything else is read; then the CSpace's shape.
    if !short_message(cur.get(), MessageInfo(info)) {
        return None;
    }
    let root = Tcb::slot(cur, TCB_CTABLE).get().words();
    match OneLevel::of(root) {
        Some(cspace) => ipc_in(is_call, cur, cspace, cptr, MessageInfo(info)),
        None => ipc_walking(is_call, cur, root, cptr, MessageInfo(info)),
    }
}

/// [`try_ipc`] with the thread's CSpace looked up through `cspace`.
#[inline(always)]
fn ipc_in(
    is_call: bool,
    cur: TcbRef,
    cspace: impl FastLookup,
    cptr: u64,
    info: MessageInfo,
) -> Option<Resume> {
    if is_call {
        call(cur, cspace, cptr, info)
    } else {
        reply_recv(cur, cspace, cptr, info)
    }
}

/// [`try_ipc`] for a CSpace of more than one level, its lookups walked
/// from the root (`root`): out of line, so that the copy for one level
/// holds no loop and saves fewer registers.
#[inline(never)]
fn ipc_walking(
    is_call: bool,
    cur: TcbRef,
    root: CapWords,
    cptr: u64,
    info: MessageInfo,
) -> Option<Resume> {
    ipc_in(is_call, cur, root, cptr, info)
}

/// Whether the message fits in registers: no extra caps, at most four
/// MRs, no fault being handled.
#[inline]
fn short_message(t: &Tcb, info: MessageInfo) -> bool {
    // No extra caps and at most four MRs in one comparison (seL4's
    // `fastpath_mi_check`): the extra-caps field lies just above the
    // length.
    let short = info.0 & 0x1FF <= N_MSG_REGISTERS as u64;
    debug_assert_eq!(short, info.extra_caps() == 0 && info.length() <= 4);
    short && !t.has_fault()
}

/// The opening guards of a Call, the same in both configurations (the
/// message was checked first, in [`try_ipc`]): an endpoint cap with Write
/// and Grant or GrantReply, and a receiver waiting on it. Yields the
/// endpoint's queue, its threads (`q`, whose first is `dest`), the cap's
/// badge, and `dest`.
#[inline(always)]
fn call_guards(cspace: impl FastLookup, cptr: u64) -> Option<CallGuards> {
    let (ptr, badge, rights) = cspace.lookup(cptr)?.endpoint()?;
    if !rights.write() || !(rights.grant() || rights.grant_reply()) {
        return None;
    }
    let ep = &EndpointRef::new(ptr).get().queue;
    if ep.state() != EndpointState::Recv {
        return None;
    }
    let q = ep.tcbs();
    let dest = q.first()?;
    Some(CallGuards { ep, q, badge, dest })
}

/// What [`call_guards`] found.
struct CallGuards {
    ep: &'static WaitQueue<EndpointState>,
    q: TcbQueue,
    badge: u64,
    dest: TcbRef,
}

/// The opening guards of a ReplyRecv, the same in both configurations
/// (the message was checked first, in [`try_ipc`]): an endpoint cap with
/// Read, no sender waiting on it and no signal pending on the caller's
/// bound notification. Yields the endpoint's address, queue and the
/// cap's rights.
#[inline(always)]
fn reply_recv_guards(
    cspace: impl FastLookup,
    cur: &Tcb,
    cptr: u64,
) -> Option<(PAddr, &'static WaitQueue<EndpointState>, CapRights)> {
    let (ptr, _, rights) = cspace.lookup(cptr)?.endpoint()?;
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
    Some((ptr, ep, rights))
}

/// Whether the scheduler would switch from `cur` straight to `to`, and the
/// address space `w` it runs on, if that is the active one or the one
/// installed before it: both are known to be registered for their ASIDs
/// (they are forgotten when an ASID or pool is deleted), so they need no
/// lookup (`activate_thread_vspace`'s rule), and the previous one is
/// recorded only if switching back needs no TLB flush. Any other address
/// space is left to the general path, which looks its ASID up, runs `to`
/// on the kernel's table if its root is invalid, and records it: a Call
/// and its reply between two address spaces find both recorded.
#[inline(always)]
fn switch_target(cur: &Tcb, to: TcbRef) -> Option<VSpaceWord> {
    let t = to.get();
    let k = kernel();
    // One domain: every thread is in it.
    let straight = (NUM_DOMAINS == 1 || t.domain() == k.cur_domain())
        && crate::sched::switches_straight_to(cur.priority(), t.priority());
    if !straight {
        return None;
    }
    let w = Tcb::slot(to, TCB_VTABLE).get().assigned_vspace_word()?;
    k.is_recent_vspace(w).then_some(w)
}

/// Delivers the MRs `info` names from `from` to `to`, and makes `to` the
/// running thread on address space `w` (from [`switch_target`]), as
/// `schedule` and `activate_thread_vspace` would at kernel exit. The badge
/// and the message info travel in the [`Resume`] this returns.
#[inline(always)]
fn deliver_and_switch(
    from: &Tcb,
    to: TcbRef,
    w: VSpaceWord,
    badge: u64,
    info: MessageInfo,
) -> Resume {
    let t = to.get();
    // The length again from `info` (no extra caps: the same as the
    // guard's), rather than a register kept since the guard.
    let n = info.length() as usize;
    for &r in MSG_REGISTERS.iter().take(n) {
        t.set_reg(r, from.reg(r));
    }
    t.set_state(ThreadState::Running);
    let k = kernel();
    k.set_current(Some(to));
    let active = k.active_vspace_word();
    if w != active {
        // The previous address space (`switch_target`): recorded only
        // with tagged ASIDs, so no flush.
        k.swap_active_vspace(active, w);
        crate::arch::set_vspace_tagged(w);
    }
    Resume {
        regs: t.regs_kptr(),
        badge,
        info: MessageInfo::new(info.label(), 0, 0, n as u64).0,
    }
}

/// seL4's `fastpath_call`: the thread to resume, or `None` for the
/// general path.
#[cfg(not(feature = "mcs"))]
#[inline]
fn call(cur_ref: TcbRef, cspace: impl FastLookup, cptr: u64, info: MessageInfo) -> Option<Resume> {
    let cur = cur_ref.get();
    let CallGuards {
        ep,
        mut q,
        badge,
        dest: dest_ref,
    } = call_guards(cspace, cptr)?;
    let dest = dest_ref.get();
    let caller_slot = Tcb::slot(dest_ref, TCB_CALLER);
    if !caller_slot.get().words().is_null() {
        return None;
    }
    let switch = switch_target(cur, dest_ref)?;
    // Committed: the general path's send_ipc, setup_caller_cap (a reply
    // cap is never revocable: cte_insert's rule) and schedule, for this
    // case.
    let master = Tcb::slot(cur_ref, TCB_REPLY);
    debug_assert!(
        matches!(master.get().words().reply(), Some((t, true, _)) if t == cur_ref.paddr()),
        "a running thread without its master reply cap"
    );
    q.pop();
    ep.store(q, EndpointState::Recv);
    let reply = CapWords::new_reply(cur_ref.paddr(), dest.blocking_ipc().can_grant);
    cur.set_state(ThreadState::BlockedOnReply);
    insert_child_words(master, caller_slot, reply, false);
    Some(deliver_and_switch(cur, dest_ref, switch, badge, info))
}

/// seL4's `fastpath_reply_recv`: the thread to resume, or `None` for the
/// general path.
#[cfg(not(feature = "mcs"))]
#[inline]
fn reply_recv(
    cur_ref: TcbRef,
    cspace: impl FastLookup,
    cptr: u64,
    info: MessageInfo,
) -> Option<Resume> {
    let cur = cur_ref.get();
    let (ptr, ep, rights) = reply_recv_guards(cspace, cur, cptr)?;
    let caller_slot = Tcb::slot(cur_ref, TCB_CALLER);
    let Some((tcb, false, _)) = caller_slot.get().words().reply() else {
        return None;
    };
    let caller_ref = TcbRef::new(tcb);
    let caller = caller_ref.get();
    if caller.state() != ThreadState::BlockedOnReply || caller.has_fault() {
        return None;
    }
    let switch = switch_target(cur, caller_ref)?;
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
    Some(deliver_and_switch(cur, caller_ref, switch, 0, info))
}
