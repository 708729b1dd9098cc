//! The receiving half of the IPC system calls (ABI ref §1, §2; seL4's
//! `handleRecv` and `handleReply`): Recv, NBRecv (seL4_Wait and seL4_Poll
//! on a notification), Reply and ReplyRecv. MCS (ABI ref §13): Recv,
//! NBRecv and the receive phase of ReplyRecv and NBSendRecv take a reply
//! object (its cap in the reply register); Wait, NBWait and NBSendWait's
//! receive phase take none; there is no Reply.

use crate::arch::CAP_REGISTER;
#[cfg(feature = "mcs")]
use crate::arch::REPLY_REGISTER;
use crate::cap::lookup::{lookup_cap, LookupFault};
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

/// `seL4_Recv` (`blocking`) or `seL4_NBRecv` on the cap in the cap register: an
/// endpoint with Read, or a notification with Read that is not bound to
/// another thread. Anything else is a cap fault in the receive phase.
pub fn handle_recv(thread: TcbRef, blocking: bool, #[cfg(feature = "mcs")] can_reply: bool) {
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
            let reply = match can_reply {
                true => match lookup_reply(thread) {
                    Ok(r) => Some(r),
                    Err(f) => return handle_fault(thread, f),
                },
                false => None,
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

/// MCS (seL4's `lookupReply`): the reply object named by the reply
/// register; a failed lookup, or a cap that is not a reply cap, is a cap
/// fault in the receive phase on that cptr.
#[cfg(feature = "mcs")]
fn lookup_reply(thread: TcbRef) -> Result<ReplyRef, Fault> {
    let cptr = thread.get().reg(REPLY_REGISTER);
    match lookup_in_recv_phase(thread, cptr)? {
        Cap::ReplyObject { ptr, .. } => Ok(ReplyRef::new(ptr)),
        _ => Err(recv_fault(cptr, MISSING)),
    }
}

/// The cap `cptr` names in `thread`'s CSpace; a failed lookup is a cap
/// fault in the receive phase on `cptr`.
fn lookup_in_recv_phase(thread: TcbRef, cptr: u64) -> Result<Cap, Fault> {
    let root = Tcb::slot(thread, TCB_CTABLE).get().words();
    lookup_cap(root, cptr)
        .map(|(_, cap)| cap)
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
