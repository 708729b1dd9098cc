//! Kernel objects (ch. 2 Kernel Services and Objects): typed access to
//! object memory ([`access`], the module's one unsafe part) and one module
//! per object type.

pub mod access;
pub mod cnode;
pub mod create;
pub mod domain;
pub mod endpoint;
pub mod invocation;
pub mod irq;
pub mod notification;
pub mod queue;
pub mod tcb;
pub mod untyped;
pub mod untyped_reset;
pub mod vspace;
