//! What differs between the two configurations the suite is built for
//! (`cfg(sel4_mcs)`, set by build.rs when the user library speaks MCS):
//! the receive and reply system calls, the TCB forms that carry a fault
//! endpoint, and what a new thread needs to run.
//!
//! - **Receiving and replying.** Classic: `seL4_Recv` leaves a reply cap
//!   in the receiver's TCB, which `seL4_Reply`/`ReplyRecv` use. MCS: the
//!   receiver names a reply object (a6) and replies through it. Every
//!   thread of the suite gets a reply object of its own (`reply_cap`:
//!   the root thread's is made once, a worker's with its thread), found
//!   through the thread's `tp` ([`crate::threads::current_entry`]), so
//!   the tests call [`recv`], [`reply_recv`], [`nb_recv`] and [`reply`]
//!   in either build. Both builds go through the user library's
//!   ordinary calls (`Endpoint::recv`, …), whose MCS forms take the
//!   reply object ([`sel4::Reply`]); these wrappers only pick it.
//! - **Threads.** An MCS thread runs only on a SchedContext: each thread
//!   the suite starts gets a round-robin one (budget = period =
//!   `BUDGET_US`, as the root thread's) bound before it is resumed
//!   ([`give_sched_context`]).
//! - **TCB forms.** MCS's Configure has no fault endpoint, its SetSpace
//!   takes the fault handler as a cap (an endpoint with Send and Grant or
//!   GrantReply, or null) and its SetSchedParams also a SchedContext and
//!   a fault handler: [`configure`], [`set_space`], [`set_sched_params`]
//!   and the message sizes `*_WORDS`/`*_CAPS` for the truncation cases.

#[cfg(sel4_mcs)]
use crate::fixture::failure;
use crate::fixture::Env;
use crate::framework::Failure;
use sel4::{CNode, CPtr, Endpoint, Error, Frame, Message, PageTable, Tcb, Word};

/// Words and extra caps of TCB_Configure (classic: the fault endpoint is
/// a word; MCS: no fault endpoint).
#[cfg(not(sel4_mcs))]
pub const CONFIGURE_WORDS: usize = 4;
#[cfg(sel4_mcs)]
pub const CONFIGURE_WORDS: usize = 3;
/// Words of TCB_SetSpace (classic: fault endpoint, CSpace and VSpace
/// data; MCS: the fault handler is an extra cap).
#[cfg(not(sel4_mcs))]
pub const SET_SPACE_WORDS: usize = 3;
#[cfg(sel4_mcs)]
pub const SET_SPACE_WORDS: usize = 2;
/// Extra caps of TCB_SetSpace.
#[cfg(not(sel4_mcs))]
pub const SET_SPACE_CAPS: usize = 2;
#[cfg(sel4_mcs)]
pub const SET_SPACE_CAPS: usize = 3;
/// Extra caps of TCB_SetSchedParams (classic: the authority; MCS: also
/// the SchedContext and the fault handler).
#[cfg(not(sel4_mcs))]
pub const SET_SCHED_PARAMS_CAPS: usize = 1;
#[cfg(sel4_mcs)]
pub const SET_SCHED_PARAMS_CAPS: usize = 3;

/// TCB_Configure in the build's form; the fault endpoint (a cptr word)
/// exists only in the classic one.
#[allow(clippy::too_many_arguments)] // Configure's own.
pub fn configure(
    t: Tcb,
    _fault_ep: CPtr,
    croot: CNode,
    cdata: Word,
    vroot: PageTable,
    vdata: Word,
    buffer: Word,
    frame: Frame,
) -> Result<(), Error> {
    #[cfg(not(sel4_mcs))]
    return t.configure(_fault_ep, croot, cdata, vroot, vdata, buffer, frame);
    #[cfg(sel4_mcs)]
    return t.configure(croot, cdata, vroot, vdata, buffer, frame);
}

/// TCB_SetSpace in the build's form: `fault` is a cptr word (classic) or
/// the handler cap (MCS).
pub fn set_space(
    t: Tcb,
    fault: CPtr,
    croot: CNode,
    cdata: Word,
    vroot: PageTable,
    vdata: Word,
) -> Result<(), Error> {
    t.set_space(fault, croot, cdata, vroot, vdata)
}

/// TCB_SetSchedParams in the build's form; under MCS with a null
/// SchedContext and fault handler (neither bound nor installed: the
/// thread is not the caller, so a null context is no error).
pub fn set_sched_params(t: Tcb, authority: Tcb, mcp: Word, prio: Word) -> Result<(), Error> {
    #[cfg(not(sel4_mcs))]
    return t.set_sched_params(authority, mcp, prio);
    #[cfg(sel4_mcs)]
    return t.set_sched_params(authority, mcp, prio, CPtr::NULL, CPtr::NULL);
}

/// The budget and period of every thread's round-robin SchedContext, the
/// root thread's included (reconfigured at the first test), in µs. Not
/// seL4's 5 ms boot time slice: budgets are wall-clock time (QEMU without
/// `-icount`), and a thread whose budget has run out when it enters the
/// kernel does not have its system call or exception handled until it
/// runs again (seL4's `checkBudgetRestart`). On a loaded host a QEMU
/// stall of 5 ms made a thread's first system call wait behind the root
/// thread (a Yield measured 5.5 ms there), so a test that gives it one
/// Yield saw it not done yet (debug_name_thread_*, sched_yield_*,
/// tcb_fpu_state_survives_suspend: failures in 2 of 3 runs at 5 ms;
/// docs/mcs.md). 100 ms rarely runs out in the middle of a test, like
/// the classic kernel's time slice, which preempts but never holds back
/// a system call.
#[cfg(sel4_mcs)]
pub const BUDGET_US: Word = 100_000;

/// The root thread's reply object (made once, outside the pool).
#[cfg(sel4_mcs)]
static ROOT_REPLY: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
/// Each thread-pool entry's reply object (made with its thread).
#[cfg(sel4_mcs)]
static REPLIES: [core::sync::atomic::AtomicU64; crate::threads::MAX_THREADS] =
    [const { core::sync::atomic::AtomicU64::new(0) }; crate::threads::MAX_THREADS];

/// Records the root thread's reply object (MCS).
#[cfg(sel4_mcs)]
pub fn set_root_reply(slot: Word) {
    ROOT_REPLY.store(slot, core::sync::atomic::Ordering::SeqCst);
}

/// The calling thread's reply object (MCS): its pool entry's, or the
/// root thread's.
#[cfg(sel4_mcs)]
pub fn reply_cap() -> sel4::Reply {
    use core::sync::atomic::Ordering;
    let w = match crate::threads::current_entry() {
        Some(i) => REPLIES.get(i).map_or(0, |r| r.load(Ordering::SeqCst)),
        None => ROOT_REPLY.load(Ordering::SeqCst),
    };
    sel4::Reply::from_bits(w)
}

/// Gives the thread on pool entry `i` a round-robin SchedContext bound to
/// it and a reply object, both from the pool, and returns the
/// SchedContext's slot (MCS; nothing to do in the classic build, where a
/// thread runs on the kernel's timeslice: 0).
pub fn give_sched_context(env: &Env<'_>, i: usize, tcb: Tcb) -> Result<Word, Failure> {
    #[cfg(sel4_mcs)]
    {
        use sel4::{ObjectType, SchedContext, SchedControl};
        let sc = SchedContext::from_bits(env.create(
            ObjectType::SchedContext,
            sel4::abi::object::MIN_SCHED_CONTEXT_BITS,
        )?);
        let control = SchedControl::from_bits(env.ctx.bi.sched_control().start);
        control
            .configure_flags(sc, BUDGET_US, BUDGET_US, 0, 0, 0)
            .map_err(|e| failure!("configuring thread {i}'s SchedContext: {e}"))?;
        sc.bind(tcb.cptr())
            .map_err(|e| failure!("binding thread {i}'s SchedContext: {e}"))?;
        let reply = env.create(ObjectType::Reply, 0)?;
        let Some(r) = REPLIES.get(i) else {
            return Err(failure!("no thread entry {i}"));
        };
        r.store(reply, core::sync::atomic::Ordering::SeqCst);
        Ok(sc.bits())
    }
    #[cfg(not(sel4_mcs))]
    {
        let _ = (env, i, tcb);
        Ok(0)
    }
}

/// `seL4_Recv` on `ep`: the badge and the message (MCS: with the
/// caller's reply object).
pub fn recv(ep: Endpoint) -> (Word, Message) {
    #[cfg(not(sel4_mcs))]
    return ep.recv();
    #[cfg(sel4_mcs)]
    return ep.recv(reply_cap());
}

/// `seL4_NBRecv` on `ep` (MCS: with the caller's reply object).
pub fn nb_recv(ep: Endpoint) -> (Word, Message) {
    #[cfg(not(sel4_mcs))]
    return ep.nb_recv();
    #[cfg(sel4_mcs)]
    return ep.nb_recv(reply_cap());
}

/// `seL4_ReplyRecv` on `ep` with `msg` (MCS: through the caller's reply
/// object).
pub fn reply_recv(ep: Endpoint, msg: &Message) -> (Word, Message) {
    #[cfg(not(sel4_mcs))]
    return ep.reply_recv(msg);
    #[cfg(sel4_mcs)]
    return ep.reply_recv(msg, reply_cap());
}

/// `seL4_Reply` with `msg` (MCS: a Send on the caller's reply object,
/// which answers the thread it links, if any).
pub fn reply(msg: &Message) {
    #[cfg(not(sel4_mcs))]
    sel4::syscall::reply(msg);
    #[cfg(sel4_mcs)]
    reply_cap().send(msg);
}
