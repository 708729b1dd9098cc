//! The receiving half of the IPC system calls (ABI ref §1, §2; seL4's
//! `handleRecv` and `handleReply`): Recv, NBRecv (seL4_Wait and seL4_Poll
//! on a notification), Reply and ReplyRecv. MCS (ABI ref §13): Recv,
//! NBRecv and the receive phase of ReplyRecv and NBSendRecv take a reply
//! object (its cap in the reply register); Wait, NBWait and NBSendWait's
//! receive phase take none; there is no Reply.

use crate::arch::CAP_REGISTER;
#[cfg(feature = "mcs")]
use crate::arch::{MSG_INFO_REGISTER, REPLY_REGISTER};
#[cfg(not(feature = "mcs"))]
use crate::cap::lookup::lookup_cap_rare;
use crate::cap::lookup::LookupFault;
#[cfg(feature = "mcs")]
use crate::cap::lookup::{lookup_cap_words, lookup_slot_fast};
use crate::cap::Cap;
use crate::ipc::endpoint::receive_ipc;
use crate::ipc::fault::handle_fault;
use crate::ipc::notification::receive_signal;
#[cfg(not(feature = "mcs"))]
use crate::ipc::reply::{delete_caller_cap, do_reply_transfer};
#[cfg(feature = "mcs")]
use crate::object::reply::ReplyRef;
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::TCB_CALLER;
use crate::object::tcb::{Tcb, TcbRef, TCB_CTABLE};
use crate::types::Fault;
#[cfg(feature = "mcs")]
use cairn_abi::message::MessageInfo;

/// `seL4_Recv` (`blocking`) or `seL4_NBRecv` on the cap in the cap register: an
/// endpoint with Read, or a notification with Read that is not bound to
/// another thread. Anything else is a cap fault in the receive phase.
pub fn handle_recv(thread: TcbRef, blocking: bool, #[cfg(feature = "mcs")] reply: ReplyArg) {
    let cptr = thread.get().reg(CAP_REGISTER);
    let missing = recv_fault(cptr, MISSING);
    let cap = match lookup_in_recv_phase(thread, cptr) {
        Ok(cap) => cap,
        Err(f) => return handle_fault(thread, f),
    };
    match cap {
        #[cfg(not(feature = "mcs"))]
        Cap::Endpoint { ptr, rights, .. } if rights.read() => {
            delete_caller_cap(thread);
            receive_ipc(thread, ptr, rights.grant(), blocking);
        }
        #[cfg(feature = "mcs")]
        Cap::Endpoint { ptr, rights, .. } if rights.read() => {
            let reply = match reply {
                ReplyArg::Lookup => match lookup_reply(thread) {
                    Ok(r) => Some(r),
                    Err(f) => return handle_fault(thread, f),
                },
                ReplyArg::Found(r) => Some(r),
                ReplyArg::None => None,
            };
            receive_ipc(thread, ptr, rights.grant(), blocking, reply);
        }
        Cap::Notification { ptr, rights, .. } if rights.read() => {
            let bound = crate::object::notification::NotificationRef::new(ptr)
                .get()
                .bound_tcb();
            if bound != 0 && bound != thread.paddr().0 {
                return handle_fault(thread, missing);
            }
            receive_signal(thread, ptr, blocking);
        }
        _ => handle_fault(thread, missing),
    }
}

/// MCS: the reply object a receive on an endpoint takes.
#[cfg(feature = "mcs")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyArg {
    /// None (Wait, NBWait, NBSendWait).
    None,
    /// The one the reply register names, looked up only if the cap
    /// register names an endpoint with Read (Recv, NBRecv, NBSendRecv).
    Lookup,
    /// That one, already found by the send phase of a ReplyRecv in the
    /// same CSpace (`handle_reply_recv`).
    Found(ReplyRef),
}

/// MCS `seL4_ReplyRecv` (seL4's `handleSyscall`: the send phase,
/// `handleInvocation` of the cap in the reply register, then
/// `handleRecv`). Where that cap is a reply object and the message names
/// no extra caps (every ReplyRecv that answers a Call), the send phase
/// is what its invocation performs, seL4's `performInvocation_Reply`,
/// without building the invocation (nothing else of it is read: its
/// decode checks nothing and sets the caller to Restart and back to
/// Running around the reply, which never blocks or stops it), and the
/// receive takes that reply object without a second lookup: the reply
/// changes no capability the lookup walks (it can only fill an empty
/// receive slot of the caller it answers). Any other cap, extra caps
/// (whose lookup may fail, which drops the reply) or a failed lookup
/// take the general path.
#[cfg(feature = "mcs")]
pub fn handle_reply_recv(thread: TcbRef) {
    let t = thread.get();
    let cptr = t.reg(REPLY_REGISTER);
    let root = Tcb::slot(thread, TCB_CTABLE).get().words();
    let no_extra_caps = MessageInfo(t.reg(MSG_INFO_REGISTER)).extra_caps() == 0;
    let reply = match lookup_slot_fast(root, cptr) {
        Some((_, words)) if no_extra_caps => match Cap::decode_inline(words.0) {
            Cap::ReplyObject { ptr, can_grant } => Some((ReplyRef::new(ptr), can_grant)),
            _ => None,
        },
        _ => None,
    };
    match reply {
        Some((r, can_grant)) => {
            crate::ipc::mcs_reply::do_reply_transfer(thread, r, can_grant);
            handle_recv(thread, true, ReplyArg::Found(r));
        }
        None => {
            if super::invoke::handle_send_phase(thread, cptr).is_ok() {
                handle_recv(thread, true, ReplyArg::Lookup);
            }
        }
    }
}

/// MCS (seL4's `lookupReply`): the reply object named by the reply
/// register; a failed lookup, or a cap that is not a reply cap, is a cap
/// fault in the receive phase on that cptr.
/// The capability's two words are read in place, not decoded.
#[cfg(feature = "mcs")]
fn lookup_reply(thread: TcbRef) -> Result<ReplyRef, Fault> {
    let cptr = thread.get().reg(REPLY_REGISTER);
    let root = Tcb::slot(thread, TCB_CTABLE).get().words();
    let (_, words) = lookup_cap_words(root, cptr).map_err(|lookup| recv_fault(cptr, lookup))?;
    match words.reply_object() {
        Some(ptr) => Ok(ReplyRef::new(ptr)),
        None => Err(recv_fault(cptr, MISSING)),
    }
}

/// The cap `cptr` names in `thread`'s CSpace; a failed lookup is a cap
/// fault in the receive phase on `cptr`. MCS: the walk and the decode
/// inlined (every MCS receive, and ReplyRecv's, which the MCS fastpath
/// leaves to this path with a long message, looks up here).
#[cfg(feature = "mcs")]
#[inline(always)]
fn lookup_in_recv_phase(thread: TcbRef, cptr: u64) -> Result<Cap, Fault> {
    let root = Tcb::slot(thread, TCB_CTABLE).get().words();
    lookup_cap_words(root, cptr)
        .map(|(_, words)| Cap::decode_inline(words.0))
        .map_err(|lookup| recv_fault(cptr, lookup))
}

/// The cap `cptr` names in `thread`'s CSpace; a failed lookup is a cap
/// fault in the receive phase on `cptr`.
#[cfg(not(feature = "mcs"))]
fn lookup_in_recv_phase(thread: TcbRef, cptr: u64) -> Result<Cap, Fault> {
    let root = Tcb::slot(thread, TCB_CTABLE).get().words();
    lookup_cap_rare(root, cptr)
        .map(|(_, words)| Cap::decode(words.0))
        .map_err(|lookup| recv_fault(cptr, lookup))
}

/// The lookup fault of a cap of the wrong type.
const MISSING: LookupFault = LookupFault::MissingCapability { bits_left: 0 };

/// A cap fault in the receive phase on `cptr`.
fn recv_fault(cptr: u64, lookup: LookupFault) -> Fault {
    Fault::Cap {
        addr: cptr,
        in_recv_phase: true,
        lookup,
    }
}

/// `seL4_Reply`: replies through the reply cap in the caller slot, if
/// there is one (an empty slot or a master cap: nothing happens).
#[cfg(not(feature = "mcs"))]
pub fn handle_reply(thread: TcbRef) {
    let slot = Tcb::slot(thread, TCB_CALLER);
    if let Cap::Reply {
        tcb,
        master: false,
        can_grant,
    } = slot.get().cap()
    {
        do_reply_transfer(thread, TcbRef::new(tcb), slot, can_grant);
    }
}
