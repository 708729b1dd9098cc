//! The invocations of capabilities no benchmarked path invokes: threads,
//! IRQ control, the domain capability, ASID control and ASID pools.
//! `api::invoke` sends them here before the general decode and performs
//! them out of line, in one call; only the outcome joins the invocation
//! path again, at the reply. Inlined there, their decoders and
//! temporaries (a decoded thread control is 208 bytes) made the frame
//! and code of every invocation larger (docs/benchmarks.md, "Code size",
//! branch `size-inv`). Decode, then perform, as everywhere: the decoders
//! are the objects' own, and a failed decode changes nothing.

use super::operation::Operation;
use crate::cap::words::CapWords;
use crate::cap::Cap;
use crate::object::domain::{self, DomainOp};
use crate::object::invocation::{Invocation, Reply};
use crate::object::irq::{self, IssueIrqHandler};
use crate::object::tcb::decode::TcbOp;
use crate::object::tcb::{self, TcbRef, ThreadState};
use crate::object::vspace::asid::{self, Assign, MakePool};
use crate::types::{PAddr, Preempted, SyscallError};

/// A capability whose invocations are decoded and performed here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RareCap {
    /// A thread capability.
    Thread(TcbRef),
    /// The IRQ control capability.
    IrqControl,
    /// The domain capability.
    Domain,
    /// The ASID control capability.
    AsidControl,
    /// An ASID pool capability.
    AsidPool { pool: PAddr, asid_base: u16 },
}

impl RareCap {
    /// `cap`, if it is one of these. Inlined: the match is one on the
    /// type tag, which LLVM merges with the general decode's.
    #[inline(always)]
    pub fn of(cap: CapWords) -> Option<RareCap> {
        match Cap::decode_inline(cap.0) {
            Cap::Thread { tcb } => Some(RareCap::Thread(TcbRef::new(tcb))),
            Cap::IrqControl => Some(RareCap::IrqControl),
            Cap::Domain => Some(RareCap::Domain),
            Cap::AsidControl => Some(RareCap::AsidControl),
            Cap::AsidPool { ptr, asid_base } => Some(RareCap::AsidPool {
                pool: ptr,
                asid_base,
            }),
            Cap::Null
            | Cap::Zombie { .. }
            | Cap::Untyped { .. }
            | Cap::CNode { .. }
            | Cap::Endpoint { .. }
            | Cap::Notification { .. }
            | Cap::Reply { .. }
            | Cap::IrqHandler { .. }
            | Cap::Frame { .. }
            | Cap::PageTable { .. } => None,
            #[cfg(any(feature = "mcs", test))]
            Cap::SchedContext { .. } | Cap::SchedControl { .. } | Cap::ReplyObject { .. } => None,
        }
    }
}

/// A decoded invocation of a [`RareCap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RareOp {
    /// A thread capability's.
    Tcb(TcbOp),
    /// The domain capability's.
    Domain(DomainOp),
    /// The IRQ control capability's.
    IrqControl(IssueIrqHandler),
    /// The ASID control capability's (MakePool).
    AsidControl(MakePool),
    /// An ASID pool capability's (Assign).
    AsidPool(Assign),
}

/// Decodes the invocation `inv` of `cap` (seL4's `decodeInvocation` for
/// these types). Changes nothing. Out of line, as [`perform`]: the
/// general decode and perform name them too (never reached there).
#[inline(never)]
pub fn decode(inv: &Invocation, cap: RareCap) -> Result<RareOp, SyscallError> {
    match cap {
        RareCap::Thread(t) => tcb::decode::decode(inv, t).map(RareOp::Tcb),
        RareCap::IrqControl => irq::decode_control(inv).map(RareOp::IrqControl),
        RareCap::Domain => domain::decode(inv).map(RareOp::Domain),
        RareCap::AsidControl => asid::decode_make_pool(inv).map(RareOp::AsidControl),
        RareCap::AsidPool { pool, asid_base } => {
            asid::decode_assign(inv, pool, asid_base).map(RareOp::AsidPool)
        }
    }
}

/// Performs a decoded operation (the caller is in Restart); fails only
/// by being preempted. Returns what a Call's reply carries.
#[inline(never)]
pub fn perform(op: &RareOp) -> Result<Reply, Preempted> {
    match *op {
        RareOp::Tcb(ref op) => return tcb::perform::perform(op),
        RareOp::Domain(ref op) => domain::perform(op),
        RareOp::IrqControl(ref op) => irq::perform_control(op),
        RareOp::AsidControl(op) => asid::perform_make_pool(op),
        RareOp::AsidPool(op) => asid::perform_assign(op),
    }
    Ok(Reply::Empty)
}

/// Decodes the invocation `inv` of `cap`, then (the caller set to
/// Restart) performs it: `Err` is the decode's error (nothing changed),
/// `Ok` what performing it gave. Out of line, the one call of the rare
/// path.
#[inline(never)]
pub fn invoke(inv: &Invocation, cap: RareCap) -> Result<Result<Reply, Preempted>, SyscallError> {
    let op = decode(inv, cap)?;
    inv.caller.get().set_state(ThreadState::Restart);
    Ok(perform(&op))
}

/// The general decode's form of a rare invocation (`operation::decode`
/// answers for every capability; the kernel sends these here first).
#[inline(never)]
pub fn decode_operation(inv: &Invocation, cap: RareCap) -> Result<Operation, SyscallError> {
    decode(inv, cap).map(Operation::Rare)
}
