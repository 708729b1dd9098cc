//! An executable abstract specification of the part of seL4's interface
//! Cairn implements that concerns capabilities, memory, threads and
//! messages: CSpace addressing, the CNode methods and `Untyped_Retype`,
//! the system calls, endpoint and notification IPC with badges, reply caps
//! and cap transfer, and the TCB methods that change thread state (seL4
//! Reference Manual, ch. 2 *Kernel Services and Objects*, ch. 3
//! *Capability Spaces*, ch. 4 *Message Passing*, ch. 5 *Notifications*,
//! ch. 6 *Threads and Execution*, ch. 10 API reference; error codes and
//! their data: *Errors* in ch. 10 and the ABI).
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
//! methods), [`untyped`] (Retype), [`thread`] (thread states and
//! registers), [`ipc`] (endpoints, notifications, replies, cancelling),
//! [`fault`] (fault messages and replies), [`tcb`] (TCB methods),
//! [`tcb_control`] (Configure, SetSpace, SetIPCBuffer), [`vspace`]
//! (page tables, frames, ASIDs), [`irq`] (interrupts), [`domain`]
//! (DomainSet and the domain schedule), [`memory`] (frame contents),
//! [`invoke`] (the system calls); MCS (the `mcs` feature, [`MCS`]):
//! [`sched_context`] (SchedContexts, SchedControl, reply objects),
//! [`ipc_mcs`] (reply objects linked to callers, donation, passive
//! threads),
//! [`tcb_mcs`] (the MCS TCB methods and handler slots).
//! `docs/spec.md` says what is covered and what is not.

pub mod cap;
pub mod cnode;
pub mod delete;
pub mod domain;
pub mod error;
pub mod fault;
pub mod invoke;
pub mod ipc;
pub mod ipc_mcs;
pub mod irq;
pub mod lookup;
pub mod memory;
pub mod sched;
pub mod sched_context;
pub mod state;
pub mod tcb;
pub mod tcb_control;
pub mod tcb_mcs;
pub mod thread;
pub mod timeout;
pub mod untyped;
pub mod vspace;

/// Whether this is the specification of seL4's MCS configuration (the
/// `mcs` feature, which the kernel crate's `mcs` feature turns on):
/// scheduling contexts and reply objects (`sched_context`), the MCS
/// numbering of invocation labels and object types, the MCS TCB's slots.
pub const MCS: bool = cfg!(feature = "mcs");

pub use cap::{Cap, EpRights, ObjId, VmRights};
pub use error::{LookupFault, SyscallError};
pub use fault::Fault;
pub use invoke::{Answer, Invocation, Syscall, Unspecified};
pub use state::{Entry, Object, SlotId, State};
pub use thread::{MsgInfo, Thread, ThreadState};

#[cfg(all(test, not(feature = "mcs")))]
mod tests;
#[cfg(all(test, not(feature = "mcs")))]
mod tests_fault;
#[cfg(all(test, not(feature = "mcs")))]
mod tests_ipc;
#[cfg(all(test, not(feature = "mcs")))]
mod tests_irq;
#[cfg(all(test, feature = "mcs"))]
mod tests_mcs;
#[cfg(all(test, not(feature = "mcs")))]
mod tests_sched;
#[cfg(all(test, not(feature = "mcs")))]
mod tests_tcb;
#[cfg(all(test, not(feature = "mcs")))]
mod tests_tcb_control;
#[cfg(all(test, feature = "mcs"))]
mod tests_tcb_mcs;
#[cfg(all(test, feature = "mcs"))]
mod tests_timeout;
#[cfg(all(test, not(feature = "mcs")))]
mod tests_vspace;
#[cfg(test)]
mod tests_world;
