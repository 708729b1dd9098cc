//! Invocations of kernel objects (seL4's `handleInvocation`): look up the
//! invoked capability and the extra capabilities, decode the invocation
//! into an [`Operation`](super::operation::Operation), perform it, and
//! reply. Called by `api::syscall` for Call, Send and NBSend.
//!
//! seL4's rule *decode, then perform*: the lookups and decoding check
//! everything and change nothing (a failed lookup is a cap fault, a failed
//! check an error reply); only then is the caller set to Restart and the
//! operation performed. Performing cannot fail except by being preempted,
//! which leaves its objects consistent and the caller in Restart, so that
//! the system call runs again.

use super::operation::{decode, perform};
use super::rare::{self, RareCap};
use crate::arch::{CAP_REGISTER, MSG_INFO_REGISTER};
use crate::cap::lookup::{lookup_cap_words_slow, lookup_slot_fast};
use crate::ipc::fault::handle_fault;
use crate::ipc::message::{reply_error, reply_with, MessageRegs};
use crate::ipc::transfer::lookup_extra_caps;
use crate::object::invocation::Invocation;
use crate::object::tcb::{Tcb, TcbRef, ThreadState, TCB_CTABLE};
use crate::types::{Fault, Preempted};
use cairn_abi::message::{MessageInfo, MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH, N_MSG_REGISTERS};

/// seL4's `handleInvocation` for Call (`is_call`), Send and NBSend
/// (`is_blocking` false): look up, decode (nothing changes), then set the
/// caller to Restart, perform, and reply.
#[cfg(not(feature = "mcs"))]
pub fn handle_invocation(caller: TcbRef, is_call: bool, is_blocking: bool) {
    let looked_up = with_invocation(caller, is_call, is_blocking, |inv| {
        // Preempted: the caller's restart is already arranged.
        let _ = decode_and_perform(caller, inv, is_call);
    });
    if let Err(fault) = looked_up {
        if is_blocking {
            handle_fault(caller, fault);
        }
    }
}

/// seL4's `handleInvocation` for Call (`is_call`), Send and NBSend
/// (`is_blocking` false): look up, decode (nothing changes), then set the
/// caller to Restart, perform, and reply.
///
/// Its own closure, not [`invoke`]'s: that one is shared with the send
/// phase and stays out of line, a call with the phase as a value; this
/// one is inlined, as the classic kernel's (the 10-word Call's
/// `handle_invocation` now costs what the classic one does, 213 against
/// 211 instructions: docs/benchmarks.md, MCS).
#[cfg(feature = "mcs")]
pub fn handle_invocation(caller: TcbRef, is_call: bool, is_blocking: bool) {
    let cptr = caller.get().reg(CAP_REGISTER);
    let looked_up = with_invocation_of(caller, cptr, is_call, is_blocking, |inv| {
        // Preempted: the caller's restart is already arranged.
        let _ = decode_and_perform(caller, inv, is_call, false);
    });
    if let Err(fault) = looked_up {
        if is_blocking {
            handle_fault(caller, fault);
        }
    }
}

/// MCS: the send phase of ReplyRecv, NBSendRecv and NBSendWait (seL4's
/// `handleInvocation(false, false, true, true, cptr)`): an NBSend of the
/// cap at `cptr` that may lend the caller's SchedContext. A TCB, CNode,
/// Domain, SchedControl or SchedContext cap is not invoked
/// (InvalidCapability(0), which a non-Call never sees); a failed lookup
/// is no fault (the send does not block). `Err(Preempted)` if the
/// operation was preempted: the syscall then runs again, and the receive
/// phase does not happen now.
#[cfg(feature = "mcs")]
pub fn handle_send_phase(caller: TcbRef, cptr: u64) -> Result<(), Preempted> {
    invoke(caller, cptr, false, false, true)
}

/// MCS: the invocation of the cap at `cptr` (`handle_invocation`'s, with
/// its result); `first_phase` is the send phase of a combined syscall.
#[cfg(feature = "mcs")]
#[inline(always)]
fn invoke(
    caller: TcbRef,
    cptr: u64,
    is_call: bool,
    is_blocking: bool,
    first_phase: bool,
) -> Result<(), Preempted> {
    let looked_up = with_invocation_of(caller, cptr, is_call, is_blocking, move |inv| {
        if first_phase && !invocable_in_first_phase(&crate::cap::Cap::decode(inv.cap.0)) {
            return Ok(());
        }
        decode_and_perform(caller, inv, is_call, first_phase)
    });
    match looked_up {
        Ok(done) => done,
        Err(fault) => {
            if is_blocking {
                handle_fault(caller, fault);
            }
            Ok(())
        }
    }
}

/// Decodes `inv` (nothing changes; an error is a Call's error reply),
/// then sets the caller to Restart, performs the operation and replies
/// to a Call: the tail of every invocation, classic and MCS (whose
/// `first_phase`, the send phase of a combined syscall, lends the
/// SchedContext). `Err(Preempted)` if the operation was preempted: the
/// caller's next IP is then the system call, to run it again. Inlined
/// into its callers: out of line, with the operation passed down, the
/// classic slow paths cost 15 % more.
#[inline(always)]
fn decode_and_perform(
    caller: TcbRef,
    inv: &Invocation,
    is_call: bool,
    #[cfg(feature = "mcs")] first_phase: bool,
) -> Result<(), Preempted> {
    let t = caller.get();
    // The rare capabilities first, out of line (`api::rare`): only their
    // outcome joins this path, at the reply.
    let performed = match RareCap::of(inv.cap) {
        Some(cap) => rare::invoke(inv, cap),
        None => {
            // The operation is a large value: it stays where decode built
            // it and is used by reference (moving it would copy it whole).
            #[cfg_attr(not(feature = "mcs"), allow(unused_mut))]
            let mut decoded = decode(inv);
            // The combined syscalls' send phase lends the SchedContext.
            #[cfg(feature = "mcs")]
            if let Ok(super::operation::Operation::Send { args, .. }) = &mut decoded {
                args.can_donate |= first_phase;
            }
            match &decoded {
                Ok(op) => {
                    t.set_state(ThreadState::Restart);
                    Ok(perform(caller, op))
                }
                Err(e) => Err(*e),
            }
        }
    };
    let performed = match performed {
        Ok(performed) => performed,
        Err(e) => {
            if is_call {
                reply_error(caller, &e);
            }
            return Ok(());
        }
    };
    match performed {
        Ok(answer) => {
            // An operation that blocked or stopped the caller (IPC, a
            // Suspend of itself) has no reply.
            if t.state() == ThreadState::Restart {
                if is_call {
                    reply_with(caller, 0, answer.len(), |i| answer.word(i));
                }
                t.set_state(ThreadState::Running);
            }
            Ok(())
        }
        Err(Preempted) => {
            // Run the system call again when the thread next runs.
            t.set_next_ip(t.fault_ip());
            Err(Preempted)
        }
    }
}

/// Looks up the invocation `caller` makes (its message and the invoked and
/// extra capabilities, at full depth in its CSpace: seL4's
/// `lookupCapAndSlot` and `lookupExtraCaps`) and hands it to `then`. A
/// failed lookup is the cap fault to raise. Changes nothing. The
/// invocation is built in this frame and lent, never moved: it is large,
/// and this is on every invocation's path.
#[cfg(any(test, not(feature = "mcs")))]
#[inline(always)]
pub(crate) fn with_invocation<R>(
    caller: TcbRef,
    is_call: bool,
    is_blocking: bool,
    then: impl FnOnce(&Invocation) -> R,
) -> Result<R, Fault> {
    let cptr = caller.get().reg(CAP_REGISTER);
    with_invocation_of(caller, cptr, is_call, is_blocking, then)
}

/// [`with_invocation`] of the cap at `cptr` (MCS: the send phase of the
/// combined syscalls names it in another register).
#[inline(always)]
fn with_invocation_of<R>(
    caller: TcbRef,
    cptr: u64,
    is_call: bool,
    is_blocking: bool,
    then: impl FnOnce(&Invocation) -> R,
) -> Result<R, Fault> {
    let t = caller.get();
    let info = MessageInfo(t.reg(MSG_INFO_REGISTER));
    let root = Tcb::slot(caller, TCB_CTABLE).get().words();
    let cap_fault = |addr, lookup| Fault::Cap {
        addr,
        in_recv_phase: false,
        lookup,
    };
    // The capability stays two words: whoever reads it decodes it.
    let (slot, cap) = match lookup_slot_fast(root, cptr) {
        Some(found) => found,
        None => match lookup_cap_words_slow(root, cptr) {
            Ok(found) => found,
            Err(lookup) => return Err(cap_fault(cptr, lookup)),
        },
    };
    let msg = MessageRegs::of(caller, false);
    let mut length = (info.length() as usize).min(MSG_MAX_LENGTH);
    if !msg.has_buffer() && length > N_MSG_REGISTERS {
        length = N_MSG_REGISTERS;
    }
    let mut inv = Invocation {
        caller,
        label: info.label(),
        length,
        msg,
        slot,
        cap,
        extra: [None; MSG_MAX_EXTRA_CAPS],
        blocking: is_blocking,
        call: is_call,
    };
    // Most invocations send no extra caps: skip the call then.
    let extra_caps = info.extra_caps() as usize;
    if extra_caps != 0 {
        if let Err((xptr, lookup)) = lookup_extra_caps(root, &inv.msg, extra_caps, &mut inv.extra) {
            return Err(cap_fault(xptr, lookup));
        }
    }
    Ok(then(&inv))
}

/// MCS: whether the send phase of a combined syscall may invoke `cap`
/// (seL4's `decodeInvocation` with `firstPhase`: not a TCB, CNode, Domain,
/// SchedControl or SchedContext cap; ABI ref §13).
#[cfg(feature = "mcs")]
fn invocable_in_first_phase(cap: &crate::cap::Cap) -> bool {
    use crate::cap::Cap;
    !matches!(
        cap,
        Cap::Thread { .. }
            | Cap::CNode { .. }
            | Cap::Domain
            | Cap::SchedControl { .. }
            | Cap::SchedContext { .. }
    )
}
