//! Replies in the classic configuration (ch. 4, *Endpoints* and ch. 6,
//! *Faults*): the one-shot reply capability that a Call leaves in the
//! receiver's caller slot, and what replying does (seL4's
//! `setupCallerCap`, `deleteCallerCap`, `doReplyTransfer`,
//! `handleFaultReply`).
//!
//! Every thread that has run holds a *master* reply cap to itself in its
//! reply slot (made by `ipc::setup_reply_master` when it is resumed). A
//! Call inserts a reply cap to the caller, derived from that master, into
//! the receiver's caller slot; the caller waits BlockedOnReply. Replying
//! (seL4_Reply, ReplyRecv, or invoking a saved reply cap) delivers the
//! message, or, to a thread that faulted, the handler's verdict, and
//! deletes the reply cap.
//!
//! The MCS kernel replies through reply objects instead (`mcs_reply`);
//! what a fault handler's reply does, [`handle_fault_reply`], is shared.

#[cfg(not(feature = "mcs"))]
use super::transfer::do_ipc_transfer;
use super::transfer::message_info;
use crate::arch::{EXCEPTION_MESSAGE, MSG_INFO_REGISTER, SYSCALL_MESSAGE};
#[cfg(not(feature = "mcs"))]
use crate::cap::cte::insert_child_words;
#[cfg(not(feature = "mcs"))]
use crate::cap::delete::{cte_delete_one, cte_delete_one_in};
#[cfg(not(feature = "mcs"))]
use crate::cap::{CapWords, SlotRef};
use crate::ipc::message::MessageRegs;
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::{Tcb, TCB_CALLER, TCB_REPLY};
use crate::object::tcb::{TcbRef, ThreadState};
#[cfg(not(feature = "mcs"))]
use crate::sched::possible_switch_to;
use crate::sched::set_thread_state;
use crate::types::Fault;

#[cfg(not(feature = "mcs"))]
/// seL4's `setupCallerCap`: `sender` made a Call that `receiver` got; the
/// sender waits for the reply, and the receiver's caller slot holds a
/// reply cap to it (with Grant if `can_grant`).
pub fn setup_caller_cap(sender: TcbRef, receiver: TcbRef, can_grant: bool) {
    set_thread_state(sender, ThreadState::BlockedOnReply);
    super::setup_reply_master(sender);
    let master = Tcb::slot(sender, TCB_REPLY);
    let caller = Tcb::slot(receiver, TCB_CALLER);
    // The receive path empties the caller slot first; never overwrite.
    cte_delete_one(caller);
    // seL4's `cteInsert` of a reply cap: never revocable, and its parent
    // is no untyped, so it is linked in without decoding the master.
    let cap = CapWords::new_reply(sender.paddr(), can_grant);
    insert_child_words(master, caller, cap, false);
}

#[cfg(not(feature = "mcs"))]
/// seL4's `deleteCallerCap`: a receiver about to receive again loses the
/// reply cap of its previous caller (who then can never be replied to).
pub fn delete_caller_cap(receiver: TcbRef) {
    cte_delete_one(Tcb::slot(receiver, TCB_CALLER));
}

#[cfg(not(feature = "mcs"))]
/// seL4's `doReplyTransfer`: `sender` replies to `receiver` (which waits
/// BlockedOnReply) through the reply cap in `slot`, with Grant `grant`.
/// The reply cap is deleted after the message's transfer, and before a
/// fault handler's reply is read (seL4's order); one deletion site for
/// the three cases keeps one inlined copy of it.
pub fn do_reply_transfer(sender: TcbRef, receiver: TcbRef, slot: SlotRef, grant: bool) {
    let r = receiver.get();
    // A reply cap outlives its use only through a kernel bug; a thread
    // that is not waiting for this reply is not woken, the cap deleted.
    let waiting = r.state() == ThreadState::BlockedOnReply;
    let message = waiting && !r.has_fault();
    if message {
        do_ipc_transfer(sender, None, None, 0, grant, receiver);
    }
    cte_delete_one_in(slot);
    if message {
        set_thread_state(receiver, ThreadState::Running);
        possible_switch_to(receiver);
    } else if waiting {
        fault_reply(receiver, sender);
    }
}

#[cfg(not(feature = "mcs"))]
/// The fault half of [`do_reply_transfer`] (rare: out of line).
#[inline(never)]
fn fault_reply(receiver: TcbRef, sender: TcbRef) {
    if take_fault_reply(receiver, sender).is_some() {
        possible_switch_to(receiver);
    }
}

/// The fault half of both builds' `do_reply_transfer`: the handler's
/// reply read (`handle_fault_reply`), the fault cleared, and `receiver`
/// left Restart, returning the fault it answered, or Inactive (`None`;
/// also `None`, changing nothing, if it has no fault). The caller offers
/// a restarted thread to the scheduler in its build's way.
pub(super) fn take_fault_reply(receiver: TcbRef, sender: TcbRef) -> Option<Fault> {
    let f = receiver.get().fault()?;
    let restart = handle_fault_reply(receiver, sender, &f);
    receiver.get().set_fault(None);
    if !restart {
        set_thread_state(receiver, ThreadState::Inactive);
        return None;
    }
    set_thread_state(receiver, ThreadState::Restart);
    Some(f)
}

/// seL4's `handleFaultReply`: what the fault handler's reply does to the
/// faulted `receiver` (ABI ref §9). Returns whether it restarts.
pub(super) fn handle_fault_reply(receiver: TcbRef, sender: TcbRef, f: &Fault) -> bool {
    let info = message_info(sender.get().reg(MSG_INFO_REGISTER));
    let (label, length) = (info.label(), info.length() as usize);
    let regs: &[usize] = match f {
        Fault::Cap { .. } | Fault::VmFault { .. } => return true,
        Fault::UnknownSyscall { .. } => &SYSCALL_MESSAGE,
        Fault::UserException { .. } => &EXCEPTION_MESSAGE,
        // MCS: a timeout fault's reply carries seL4_UserContext
        // (`seL4_TimeoutReply_*`, ABI ref §9).
        #[cfg(feature = "mcs")]
        Fault::Timeout { .. } => &crate::arch::USER_CONTEXT,
    };
    let mrs = MessageRegs::of(sender, false);
    let r = receiver.get();
    for (i, &x) in regs.iter().enumerate().take(length) {
        let from_buffer = i >= cairn_abi::message::N_MSG_REGISTERS;
        if from_buffer && !mrs.has_buffer() {
            break;
        }
        r.set_reg(x, mrs.get(i));
    }
    label == 0
}
