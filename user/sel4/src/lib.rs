//! `sel4`: Cairn's libsel4, the Rust library root tasks and components use to
//! talk to a kernel with seL4 16.0.0's user ABI on RISC-V 64 (classic
//! configuration).
//!
//! Layers, bottom up:
//! - [`syscall`]: the system calls with seL4's register convention
//!   (ABI ref §2). The `ecall` stubs are the only assembly and exist only on
//!   `riscv64`; on the host a scripted fake kernel stands in for unit tests.
//! - [`ipc_buffer`]: the calling thread's IPC buffer (ABI ref §3), through
//!   which message registers beyond the fourth and extra caps travel.
//! - [`Message`]: a message as seL4 carries it: the MessageInfo and
//!   MR0..MR3 as a five-word value, MR4.. and the extra caps in place in
//!   the IPC buffer (as libsel4's `seL4_SetMR`/`seL4_GetMR`). A call moves
//!   only the words in use, so the library's calls cost what the
//!   register-only ones do (`bench ipc op=lib-*`, docs/benchmarks.md). Host
//!   tests see every message as the kernel reads it (a fake kernel reads
//!   registers and IPC buffer at each system call).
//! - [`object`]: typed capability wrappers ([`Untyped`], [`CNode`], [`Tcb`],
//!   …) with seL4's invocations (ABI ref §7), each returning
//!   `Result<_, Error>` with seL4's error data ([`Error`], ABI ref §8). As
//!   in libsel4, the invocation methods are generated from one table of the
//!   object API (`object/api.rs`, expanded by the `invocations!` macro of
//!   `object/stubs.rs`); [`object`]'s doc says how to add an invocation.
//! - [`bootinfo`]: a safe view of the root task's BootInfo frame and of the
//!   extra bootinfo chunks (ABI ref §6.4).
//! - [`debug`]: the debug system calls (ABI ref §14); [`benchmark`]: the
//!   benchmark system calls and the cycle counter.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod benchmark;
pub mod bootinfo;
pub mod cap;
pub mod debug;
pub mod error;
pub mod ipc_buffer;
pub mod message;
pub mod object;
pub mod syscall;

pub use bootinfo::{BootInfo, UntypedInfo};
pub use cairn_abi as abi;
pub use cairn_abi::cap::{init, tag, CapRights};
pub use cairn_abi::context::UserContext;
pub use cairn_abi::message::MessageInfo;
pub use cairn_abi::object::ObjectType;
pub use cairn_abi::Word;
pub use cap::{
    AsidControl, AsidPool, CNode, CPtr, DomainSet, Endpoint, Frame, IrqControl, IrqHandler,
    Notification, PageTable, Tcb, Untyped,
};
#[cfg(feature = "mcs")]
pub use cap::{Reply, SchedContext, SchedControl};
pub use error::{Error, LookupFailure};
pub use message::Message;

/// Whether the library speaks seL4's MCS ABI (its `mcs` feature).
pub const MCS: bool = cairn_abi::KERNEL_MCS;

/// Expands to its input when the library speaks seL4's MCS ABI (its `mcs`
/// feature, which the xtask sets with the kernel's), to nothing
/// otherwise: for programs built in both configurations that use MCS-only
/// items (a program's own `cfg` cannot see a dependency's feature).
#[cfg(feature = "mcs")]
#[macro_export]
macro_rules! if_mcs {
    ($($t:tt)*) => { $($t)* };
}

/// See the MCS build's documentation: expands to nothing here.
#[cfg(not(feature = "mcs"))]
#[macro_export]
macro_rules! if_mcs {
    ($($t:tt)*) => {};
}

/// The converse of [`if_mcs!`]: its input in the classic configuration.
#[cfg(not(feature = "mcs"))]
#[macro_export]
macro_rules! if_classic {
    ($($t:tt)*) => { $($t)* };
}

/// The converse of `if_mcs!`: expands to nothing here.
#[cfg(feature = "mcs")]
#[macro_export]
macro_rules! if_classic {
    ($($t:tt)*) => {};
}
