//! RISC-V 64 (Sv39). `context` and `vspace` are portable data formats and
//! build on the host as well; `machine` is the bare-metal layer.

pub mod context;
pub mod fault;
pub mod platform;
pub mod vspace;

#[cfg(target_os = "none")]
pub mod machine;
