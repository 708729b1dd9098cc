//! A server's receive and ReplyRecv in either configuration, and what the
//! MCS kernel needs around a partner thread (`cfg(sel4_mcs)`: the bench
//! built against the MCS user library, `cargo xtask bench --config
//! mcs=on`).
//!
//! Under MCS a thread runs only on a scheduling context, and a server
//! answers Calls through a reply object: [`equip`] gives each new partner
//! thread both (a round-robin SchedContext of 5 ms, seL4's boot thread
//! timeslice, and a fresh Reply object that [`recv`] and [`reply_recv`]
//! pass in a6). [`make_passive`] then lets the partner run to its first
//! receive and takes its SchedContext away: the round trips' servers are
//! passive, so each Call lends the client's SchedContext and each reply
//! gives it back — the case seL4's MCS fastpath takes. In the classic
//! configuration these are the plain register calls and do nothing more.

use sel4::syscall::RegMessage;
use sel4::{CPtr, Word};

#[cfg(sel4_mcs)]
use core::sync::atomic::{AtomicU64, Ordering};

/// The record names' prefix: `mcs-ipc`, `mcs-sel4bench` under MCS, so
/// that their JSON sits beside the classic figures.
#[cfg(sel4_mcs)]
pub const PREFIX: &str = "mcs-";
#[cfg(not(sel4_mcs))]
pub const PREFIX: &str = "";

/// The running partner's reply object and SchedContext (one partner at
/// a time).
#[cfg(sel4_mcs)]
static REPLY: AtomicU64 = AtomicU64::new(0);
#[cfg(sel4_mcs)]
static SC: AtomicU64 = AtomicU64::new(0);

/// `seL4_Recv` of a server (MCS: with its reply object).
pub fn recv(ep: CPtr) -> (Word, RegMessage) {
    #[cfg(sel4_mcs)]
    return sel4::syscall::recv_regs(ep, reply_object());
    #[cfg(not(sel4_mcs))]
    sel4::syscall::recv_regs(ep)
}

/// `seL4_ReplyRecv` of a server (MCS: through its reply object).
pub fn reply_recv(ep: CPtr, m: RegMessage) -> (Word, RegMessage) {
    #[cfg(sel4_mcs)]
    return sel4::syscall::reply_recv_regs(ep, m, reply_object());
    #[cfg(not(sel4_mcs))]
    sel4::syscall::reply_recv_regs(ep, m)
}

/// MCS: the running partner's reply object, for the library's ordinary
/// receive calls (`sel4::syscall::recv(ep, reply)`, …).
#[cfg(sel4_mcs)]
pub fn reply_object() -> sel4::Reply {
    sel4::Reply::from_bits(REPLY.load(Ordering::Relaxed))
}

/// MCS: gives the new thread `tcb` a reply object and a configured
/// round-robin SchedContext bound to it (before it is resumed), made
/// with `create` (object type, size bits → root slot).
#[cfg(sel4_mcs)]
pub fn equip(
    bi: &sel4::BootInfo,
    tcb: sel4::Tcb,
    mut create: impl FnMut(sel4::ObjectType, Word) -> Result<Word, crate::threads::Failed>,
) -> Result<(), crate::threads::Failed> {
    use crate::threads::Failed;
    let reply = create(sel4::ObjectType::Reply, 0)?;
    REPLY.store(reply, Ordering::Relaxed);
    let sc = sel4::SchedContext::from_bits(create(sel4::ObjectType::SchedContext, 8)?);
    SC.store(sc.bits(), Ordering::Relaxed);
    sched_control(bi)
        .configure_flags(sc, 5_000, 5_000, 0, 0, 0)
        .map_err(|e| Failed("SchedControl_ConfigureFlags", e))?;
    sc.bind(tcb.cptr())
        .map_err(|e| Failed("SchedContext_Bind", e))
}

/// MCS: the SchedContext [`equip`] gave the latest partner.
#[cfg(sel4_mcs)]
pub fn sched_context() -> sel4::SchedContext {
    sel4::SchedContext::from_bits(SC.load(Ordering::Relaxed))
}

/// MCS: BootInfo's SchedControl cap.
#[cfg(sel4_mcs)]
pub fn sched_control(bi: &sel4::BootInfo) -> sel4::SchedControl {
    sel4::SchedControl::from_bits(bi.sched_control().start)
}

/// MCS: lets the partner just resumed (at the caller's priority) run into
/// its first receive, then unbinds its SchedContext: it becomes a passive
/// server. Classic: nothing.
pub fn make_passive() -> Result<(), crate::threads::Failed> {
    #[cfg(sel4_mcs)]
    {
        // The root thread's timeslice ends (round robin): the partner runs
        // until it blocks in its receive.
        sel4::syscall::yield_now();
        sel4::SchedContext::from_bits(SC.load(Ordering::Relaxed))
            .unbind()
            .map_err(|e| crate::threads::Failed("SchedContext_Unbind", e))?;
    }
    Ok(())
}
