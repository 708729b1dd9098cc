//! What Configure, SetSpace, SetIPCBuffer, SetPriority, SetMCPriority,
//! SetSchedParams and (MCS) SetTimeoutEndpoint decode into, seL4's
//! `invokeTCB_ThreadControl` arguments ([`ThreadControl`] and its parts,
//! with the MCS handler and SchedContext updates), and the checks the
//! classic decoders (`super::decode`) and the MCS ones (`super::mcs`)
//! share: the authority, priorities, the CSpace and VSpace roots.
//!
//! Both decoders import this file and neither imports the other's
//! checks, so `decode` (which dispatches to the MCS forms) and `mcs`
//! form no import cycle.

use super::{Tcb, TcbRef, TCB_CTABLE, TCB_VTABLE};
use crate::cap::delete::slot_cap_long_running_delete;
use crate::cap::derive::derive_cap;
use crate::cap::rights::update_cap_data;
use crate::cap::{Cap, SlotRef};
use crate::object::invocation::Invocation;
#[cfg(feature = "mcs")]
use crate::types::PAddr;
use crate::types::SyscallError;

/// A capability to install in one of the target's slots, and the slot it
/// was derived from (seL4 inserts it as that slot's child).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewCap {
    /// The derived capability.
    pub cap: Cap,
    /// Where it came from.
    pub src: SlotRef,
}

/// New CSpace and VSpace roots and fault endpoint (Configure, SetSpace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceUpdate {
    /// The fault endpoint cptr, stored raw (classic; MCS installs a cap:
    /// `HandlerUpdates`).
    #[cfg(not(feature = "mcs"))]
    pub fault_ep: u64,
    /// The CSpace root.
    pub croot: NewCap,
    /// The VSpace root.
    pub vroot: NewCap,
}

/// A new IPC buffer (Configure, SetIPCBuffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferUpdate {
    /// The buffer's virtual address (0: none).
    pub addr: u64,
    /// The frame (none if `addr` is 0).
    pub frame: Option<NewCap>,
}

/// seL4's `invokeTCB_ThreadControl` arguments: which parts change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadControl {
    /// The thread configured.
    pub target: TcbRef,
    /// The slot of the invoked TCB capability (installing caps requires
    /// that it still holds the TCB cap after the old ones are deleted).
    pub slot: SlotRef,
    /// New maximum controlled priority.
    pub mcp: Option<u64>,
    /// New priority.
    pub priority: Option<u64>,
    /// New roots and fault endpoint.
    pub space: Option<SpaceUpdate>,
    /// New IPC buffer.
    pub buffer: Option<BufferUpdate>,
    /// MCS: new handler caps and SchedContext binding.
    #[cfg(feature = "mcs")]
    pub mcs: HandlerUpdates,
}

/// What an MCS thread control changes besides the classic parts. Kept
/// to 32 bytes because every decoded operation is copied on every
/// invocation: seL4's `invokeTCB_ThreadControlCaps` could replace both
/// handlers, but no invocation asks for both, so one field names the
/// slot; and a handler cap is named by its source slot (it is installed
/// as it is, and nothing runs between decoding and performing that could
/// change that slot).
#[cfg(feature = "mcs")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandlerUpdates {
    /// A new handler cap, if any.
    pub handler: HandlerUpdate,
    /// A new SchedContext binding, if any.
    pub sched_context: ScUpdate,
}

/// A new fault or timeout handler.
#[cfg(feature = "mcs")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HandlerUpdate {
    /// No change.
    #[default]
    Keep,
    /// Empty the TCB's slot `slot` (`TCB_FAULT_HANDLER` or
    /// `TCB_TIMEOUT_HANDLER`).
    Clear { slot: u8 },
    /// Replace its cap with the endpoint cap in `src`.
    Install { slot: u8, src: SlotRef },
}

/// A new SchedContext binding.
#[cfg(feature = "mcs")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScUpdate {
    /// No change.
    #[default]
    Keep,
    /// Unbind the thread's SchedContext.
    Unbind,
    /// Bind this one (`Cap::SchedContext`'s fields).
    Bind { ptr: PAddr, size_bits: u8 },
}

/// IllegalOperation unless `cond`.
pub(super) fn illegal_unless(cond: bool) -> Result<(), SyscallError> {
    match cond {
        true => Ok(()),
        false => Err(SyscallError::IllegalOperation),
    }
}

/// The thread an authority or source cap (extra cap 0) names:
/// InvalidCapability(1) if it is not a TCB cap.
pub(super) fn authority(cap: Cap) -> Result<TcbRef, SyscallError> {
    match cap {
        Cap::Thread { tcb } => Ok(TcbRef::new(tcb)),
        _ => Err(SyscallError::InvalidCapability { index: 1 }),
    }
}

/// seL4's `checkPrio`: `prio` may not exceed the authority's MCP.
pub(super) fn check_prio(prio: u64, auth: TcbRef) -> Result<(), SyscallError> {
    let mcp = auth.get().mcp();
    match prio <= mcp {
        true => Ok(()),
        false => Err(SyscallError::RangeError { min: 0, max: mcp }),
    }
}

/// seL4's `isValidVTableRoot` (RISC-V): a page table cap that is mapped
/// (as a VSpace root: assigned an ASID).
fn is_valid_vtable_root(cap: &Cap) -> bool {
    matches!(
        cap,
        Cap::PageTable {
            mapping: Some(_),
            ..
        }
    )
}

/// The message register of the CSpace root's cap data in Configure and
/// SetSpace (the VSpace root's follows): classic has the fault endpoint
/// cptr first, MCS none.
pub(super) const SPACE_DATA_ARG: usize = if crate::config::KERNEL_MCS { 0 } else { 1 };

/// The space of Configure and SetSpace (classic: MR0 fault endpoint; then
/// the CSpace and VSpace root cap data). Neither root slot of `target` may
/// hold a capability whose deletion is long-running (IllegalOperation);
/// the new roots get their cap data if non-zero, are derived and checked.
pub(super) fn decode_space(
    inv: &Invocation,
    target: TcbRef,
    croot: (SlotRef, Cap),
    vroot: (SlotRef, Cap),
) -> Result<SpaceUpdate, SyscallError> {
    let busy = |i| slot_cap_long_running_delete(Tcb::slot(target, i));
    illegal_unless(!busy(TCB_CTABLE) && !busy(TCB_VTABLE))?;
    let with_data = |data: u64, cap: &mut Cap| {
        if data != 0 {
            update_cap_data(false, data, cap);
        }
    };
    let mut ccap = croot.1;
    with_data(inv.arg(SPACE_DATA_ARG), &mut ccap);
    derive_cap(croot.0, &mut ccap)?;
    illegal_unless(matches!(ccap, Cap::CNode { .. }))?;
    let mut vcap = vroot.1;
    with_data(inv.arg(SPACE_DATA_ARG + 1), &mut vcap);
    derive_cap(vroot.0, &mut vcap)?;
    illegal_unless(is_valid_vtable_root(&vcap))?;
    Ok(SpaceUpdate {
        #[cfg(not(feature = "mcs"))]
        fault_ep: inv.arg(0),
        croot: NewCap {
            cap: ccap,
            src: croot.0,
        },
        vroot: NewCap {
            cap: vcap,
            src: vroot.0,
        },
    })
}
