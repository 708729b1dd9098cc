//! The receiving half of the IPC system calls (ABI ref §1, §2; seL4's
//! `handleRecv` and `handleReply`): Recv, NBRecv (seL4_Wait and seL4_Poll
//! on a notification), Reply and ReplyRecv.

use crate::arch::CAP_REGISTER;
use crate::cap::lookup::{lookup_cap, LookupFault};
use crate::cap::Cap;
use crate::ipc::endpoint::receive_ipc;
use crate::ipc::fault::handle_fault;
use crate::ipc::notification::receive_signal;
use crate::ipc::reply::{delete_caller_cap, do_reply_transfer};
use crate::object::tcb::{Tcb, TcbRef, TCB_CALLER, TCB_CTABLE};
use crate::types::Fault;

/// `seL4_Recv` (`blocking`) or `seL4_NBRecv` on the cap in the cap register: an
/// endpoint with Read, or a notification with Read that is not bound to
/// another thread. Anything else is a cap fault in the receive phase.
pub fn handle_recv(thread: TcbRef, blocking: bool) {
    let cptr = thread.get().reg(CAP_REGISTER);
    let root = Tcb::slot(thread, TCB_CTABLE).get().words();
    let fault = |lookup| Fault::Cap {
        addr: cptr,
        in_recv_phase: true,
        lookup,
    };
    let missing = fault(LookupFault::MissingCapability { bits_left: 0 });
    let cap = match lookup_cap(root, cptr) {
        Ok((_, cap)) => cap,
        Err(lookup) => return handle_fault(thread, fault(lookup)),
    };
    match cap {
        Cap::Endpoint { ptr, rights, .. } if rights.read() => {
            delete_caller_cap(thread);
            receive_ipc(thread, ptr, rights.grant(), blocking);
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

/// `seL4_Reply`: replies through the reply cap in the caller slot, if
/// there is one (an empty slot or a master cap: nothing happens).
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
