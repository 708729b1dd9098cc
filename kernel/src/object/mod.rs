//! Kernel objects (ch. 2 Kernel Services and Objects): typed access to
//! object memory ([`access`] and `kernel_objects`, the module's unsafe
//! parts) and one module per object type.

pub mod access;
pub mod cnode;
pub mod create;
pub mod domain;
pub mod endpoint;
pub mod invocation;
pub mod irq;
mod kernel_objects;
pub mod notification;
pub mod queue;
// MCS reply objects (issue 12, docs/mcs.md).
#[cfg(feature = "mcs")]
pub mod reply;
// MCS: SchedControl/SchedContext decode (docs/mcs.md); host-tested in every
// configuration.
#[cfg(any(feature = "mcs", test))]
pub mod sched_context;
#[cfg(any(feature = "mcs", test))]
pub mod sched_control;
pub mod tcb;
pub mod untyped;
pub mod untyped_reset;
pub mod vspace;

#[cfg(test)]
#[cfg(feature = "mcs")]
mod mcs_invocation_tests;
#[cfg(test)]
#[cfg(feature = "mcs")]
mod mcs_tests;
#[cfg(test)]
#[cfg(feature = "mcs")]
mod mcs_yield_tests;
