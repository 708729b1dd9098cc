//! An executable abstract specification of the part of seL4's interface
//! Cairn implements that concerns capabilities and memory: CSpace
//! addressing, the CNode methods and `Untyped_Retype` (seL4 Reference
//! Manual, ch. 2 *Kernel Services and Objects*, ch. 3 *Capability Spaces*,
//! ch. 10 API reference; error codes and their data: *Errors* in
//! ch. 10 and the ABI).
//!
//! The state is plain data: objects named by their identity (in Cairn
//! their physical address, an opaque number here), slots as maps inside
//! the objects that hold them, the capability derivation tree (CDT) as a
//! tree with a parent and an ordered list of children per capability.
//! Operations are atomic (no preemption) and written one function per
//! method. Nothing here knows how the kernel encodes anything; the
//! refinement test (`kernel/src/cap/proptests/refine.rs`) maps the
//! kernel's state onto [`State`] and compares.
//!
//! Reading order: [`cap`] (capabilities and what derivation does to them),
//! [`state`] (objects, slots, the CDT), [`lookup`] (CSpace addressing),
//! [`delete`] (Delete, Revoke, finalisation), [`cnode`] (the CNode
//! methods), [`untyped`] (Retype), [`invoke`] (dispatch of a call).
//! `docs/spec.md` says what is covered and what is not.

pub mod cap;
pub mod cnode;
pub mod delete;
pub mod error;
pub mod invoke;
pub mod lookup;
pub mod state;
pub mod untyped;

pub use cap::{Cap, EpRights, ObjId, VmRights};
pub use error::{LookupFault, SyscallError};
pub use invoke::Invocation;
pub use state::{Entry, Object, SlotId, State};

#[cfg(test)]
mod tests;
