//! Invocations as values: [`decode`] turns an [`Invocation`] into an
//! [`Operation`] and changes nothing (not even the caller's thread state);
//! [`perform`] carries it out and can only be preempted. Each object type
//! decodes and performs its own operations (`object::<type>`); this module
//! only dispatches on the invoked capability (one exhaustive `match`, no
//! wildcard: a new capability type must be placed here). Called by
//! `api::invoke` (and its host tests) only; nothing below `api` knows
//! these types.
//!
//! Sends to endpoints and notifications and replies through reply caps are
//! IPC rather than object operations: decoding checks the right they need
//! (seL4's `decodeInvocation`), `ipc` does the rest.

use super::rare::{self, RareCap, RareOp};
use crate::cap::Cap;
#[cfg(not(feature = "mcs"))]
use crate::cap::SlotRef;
use crate::ipc::endpoint::{send_ipc, SendArgs};
use crate::ipc::notification::send_signal;
#[cfg(not(feature = "mcs"))]
use crate::ipc::reply::do_reply_transfer;
use crate::object::cnode::CNodeOp;
use crate::object::invocation::{Invocation, Reply};
use crate::object::irq::IrqHandlerOp;
use crate::object::tcb::TcbRef;
use crate::object::untyped::Retype;
use crate::object::vspace::page::FrameOp;
use crate::object::vspace::page_table::PageTableOp;
use crate::object::vspace::{page, page_table};
use crate::object::{cnode, irq, untyped};
use crate::types::{PAddr, Preempted, SyscallError};
use cairn_abi::cap::CapRights;

/// A decoded invocation: every argument checked, every slot and capability
/// resolved. One variant per capability type that can be invoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// An untyped capability's (Retype).
    Untyped(Retype),
    /// A CNode capability's.
    CNode(CNodeOp),
    /// A thread, IRQ control, domain, ASID control or ASID pool
    /// capability's (`api::rare`: the kernel decodes and performs these
    /// before it comes here).
    Rare(RareOp),
    /// An IRQ handler capability's.
    IrqHandler(IrqHandlerOp),
    /// A frame capability's.
    Frame(FrameOp),
    /// A page-table capability's.
    PageTable(PageTableOp),
    /// Send on the endpoint at `ep` (seL4's `performInvocation_Endpoint`).
    Send { ep: PAddr, args: SendArgs },
    /// Signal the notification at `ntfn` with `badge`.
    Signal { ntfn: PAddr, badge: u64 },
    /// Reply to `to` through the reply cap in `slot` (classic).
    #[cfg(not(feature = "mcs"))]
    ReplyTransfer {
        to: TcbRef,
        slot: SlotRef,
        can_grant: bool,
    },
    /// MCS: a reply through the reply object at `reply` (seL4's
    /// `performInvocation_Reply`).
    #[cfg(any(feature = "mcs", test))]
    ReplyObject { reply: PAddr, can_grant: bool },
    /// MCS: a SchedContext capability's.
    #[cfg(feature = "mcs")]
    SchedContext(crate::object::sched_context::SchedContextOp),
    /// MCS: `SchedControl_ConfigureFlags` on a SchedContext.
    #[cfg(feature = "mcs")]
    SchedControl(
        crate::object::sched_context::SchedContextRef,
        crate::object::sched_context::Configure,
    ),
}

/// seL4's `decodeInvocation`: checks the invocation `inv` in seL4's order
/// and describes what it will do. Changes nothing. Inlined into its one
/// caller in the kernel, `api::invoke`, so that the operation is built in
/// that frame.
#[inline(always)]
pub fn decode(inv: &Invocation) -> Result<Operation, SyscallError> {
    // Decoded here, inlined: the match is one on the type tag, and each
    // arm reads only the fields it uses from the two words.
    match Cap::decode_inline(inv.cap.0) {
        Cap::Null | Cap::Zombie { .. } => Err(SyscallError::InvalidCapability { index: 0 }),
        cap @ Cap::Untyped { .. } => untyped::decode(inv, cap).map(Operation::Untyped),
        Cap::CNode { .. } => cnode::decode(inv).map(Operation::CNode),
        Cap::Endpoint { ptr, badge, rights } => decode_send(inv, ptr, badge, rights),
        Cap::Notification { ptr, badge, rights } => decode_signal(ptr, badge, rights),
        Cap::Reply {
            tcb,
            master,
            can_grant,
        } => decode_reply(inv, tcb, master, can_grant),
        Cap::Thread { tcb } => rare::decode_operation(inv, RareCap::Thread(TcbRef::new(tcb))),
        Cap::IrqControl => rare::decode_operation(inv, RareCap::IrqControl),
        Cap::IrqHandler { irq } => irq::decode_handler(inv, irq).map(Operation::IrqHandler),
        Cap::Domain => rare::decode_operation(inv, RareCap::Domain),
        Cap::Frame { .. } => page::decode(inv).map(Operation::Frame),
        Cap::PageTable { base, mapping } => {
            page_table::decode(inv, base, mapping).map(Operation::PageTable)
        }
        Cap::AsidControl => rare::decode_operation(inv, RareCap::AsidControl),
        Cap::AsidPool { ptr, asid_base } => rare::decode_operation(
            inv,
            RareCap::AsidPool {
                pool: ptr,
                asid_base,
            },
        ),
        // Their invocations are the next MCS step (docs/mcs.md); until
        // then every label is one this kernel does not perform.
        #[cfg(feature = "mcs")]
        Cap::SchedContext { ptr, size_bits } => crate::object::sched_context::decode(
            inv,
            crate::object::sched_context::SchedContextRef::new(ptr, size_bits),
        )
        .map(Operation::SchedContext),
        // The classic build's host tests have the cap but no MCS labels.
        #[cfg(all(test, not(feature = "mcs")))]
        Cap::SchedContext { .. } => Err(SyscallError::IllegalOperation),
        #[cfg(feature = "mcs")]
        Cap::SchedControl { .. } => {
            crate::object::sched_control::decode(inv).map(|(sc, c)| Operation::SchedControl(sc, c))
        }
        #[cfg(all(test, not(feature = "mcs")))]
        Cap::SchedControl { .. } => Err(SyscallError::IllegalOperation),
        // Any reply cap may be invoked (MCS has no master reply cap).
        #[cfg(any(feature = "mcs", test))]
        Cap::ReplyObject { ptr, can_grant } => Ok(Operation::ReplyObject {
            reply: ptr,
            can_grant,
        }),
    }
}

// The IPC decoders below are never inlined into `decode`: each then writes
// its small variant straight into the caller's result, where an inlined
// arm would share `decode`'s exit path, which copies the largest variant
// (a `TcbOp`) whole. They are on the path of every slow-path send.

/// A send on an endpoint cap: it needs Write.
#[inline(always)]
fn decode_send(
    inv: &Invocation,
    ep: PAddr,
    badge: u64,
    rights: CapRights,
) -> Result<Operation, SyscallError> {
    if !rights.write() {
        return Err(SyscallError::InvalidCapability { index: 0 });
    }
    let args = SendArgs {
        blocking: inv.blocking,
        is_call: inv.call,
        badge,
        can_grant: rights.grant(),
        can_grant_reply: rights.grant_reply(),
        regs: Some(inv.msg),
        // A Call lends; `api::invoke` lets the send phase of the MCS
        // combined syscalls lend too.
        #[cfg(feature = "mcs")]
        can_donate: inv.call,
    };
    Ok(Operation::Send { ep, args })
}

/// A signal through a notification cap: it needs Write.
#[inline(always)]
fn decode_signal(ntfn: PAddr, badge: u64, rights: CapRights) -> Result<Operation, SyscallError> {
    if !rights.write() {
        return Err(SyscallError::InvalidCapability { index: 0 });
    }
    Ok(Operation::Signal { ntfn, badge })
}

/// A reply through a reply cap: not through the master cap (MCS has no
/// classic reply caps: none is ever made).
#[cfg(feature = "mcs")]
#[inline(always)]
fn decode_reply(_: &Invocation, _: PAddr, _: bool, _: bool) -> Result<Operation, SyscallError> {
    Err(SyscallError::InvalidCapability { index: 0 })
}

/// A reply through a reply cap: not through the master cap.
#[cfg(not(feature = "mcs"))]
#[inline(always)]
fn decode_reply(
    inv: &Invocation,
    tcb: PAddr,
    master: bool,
    can_grant: bool,
) -> Result<Operation, SyscallError> {
    if master {
        return Err(SyscallError::InvalidCapability { index: 0 });
    }
    Ok(Operation::ReplyTransfer {
        to: TcbRef::new(tcb),
        slot: inv.slot,
        can_grant,
    })
}

/// Performs a decoded operation for the thread `caller` (whose state is
/// Restart). Fails only by being preempted; returns what a Call's reply
/// carries.
#[inline(always)]
pub fn perform(caller: TcbRef, op: &Operation) -> Result<Reply, Preempted> {
    match *op {
        Operation::Rare(ref op) => return rare::perform(op),
        #[cfg(feature = "mcs")]
        Operation::SchedContext(ref op) => {
            return Ok(crate::object::sched_context::perform(caller, op))
        }
        #[cfg(feature = "mcs")]
        Operation::SchedControl(sc, ref c) => crate::object::sched_control::perform(sc, c),
        Operation::Frame(ref op) => return Ok(page::perform(op)),
        Operation::Untyped(ref op) => untyped::perform(op)?,
        Operation::CNode(ref op) => {
            crate::preempt::operation_start();
            let done = cnode::perform(caller, op);
            crate::preempt::stretch_end();
            done?
        }
        Operation::IrqHandler(ref op) => irq::perform_handler(op)?,
        Operation::PageTable(ref op) => page_table::perform(op),
        Operation::Send { ep, args } => send_ipc(caller, ep, args),
        Operation::Signal { ntfn, badge } => send_signal(ntfn, badge),
        #[cfg(not(feature = "mcs"))]
        Operation::ReplyTransfer {
            to,
            slot,
            can_grant,
        } => do_reply_transfer(caller, to, slot, can_grant),
        // seL4's `performInvocation_Reply`: nothing happens when no caller
        // waits on the reply object.
        #[cfg(feature = "mcs")]
        Operation::ReplyObject { reply, can_grant } => crate::ipc::mcs_reply::do_reply_transfer(
            caller,
            crate::object::reply::ReplyRef::new(reply),
            can_grant,
        ),
        // The classic build's host tests have the cap but no reply objects.
        #[cfg(all(test, not(feature = "mcs")))]
        Operation::ReplyObject { .. } => {}
    }
    Ok(Reply::Empty)
}
