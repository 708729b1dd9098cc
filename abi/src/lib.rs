//! seL4 16.0.0's user-visible ABI on RISC-V 64 (`qemu-riscv-virt`), as
//! Rust types and constants: the classic configuration, or with the cargo
//! feature `mcs` seL4's MCS configuration (`KernelIsMCS`). Where the two
//! differ the item gives both values (`if KERNEL_MCS { .. } else { .. }`),
//! and items of one configuration only are `#[cfg]`-gated, so that each
//! build has exactly its configuration's names.
//!
//! Shared by the kernel and by user space so that the two can never disagree.
//! Every item cites the section of `../shared/reference/sel4-abi-riscv64.md`
//! ("ABI ref §N") it comes from. Numbers, layouts and names are facts of the
//! ABI; the code is Cairn's own.
//!
//! The module [`image`] is not part of seL4's ABI: it is the boot image
//! format shared by the Cairn kernel and its image builder.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bootinfo;
pub mod cap;
pub mod context;
pub mod error;
pub mod fault;
pub mod image;
pub mod invocation;
pub mod message;
pub mod object;
pub mod syscall;
pub mod vm;

/// `CONFIG_KERNEL_MCS`: this build has seL4's MCS ABI (feature `mcs`).
pub const KERNEL_MCS: bool = cfg!(feature = "mcs");

/// A machine word (`seL4_Word`).
pub type Word = u64;
/// `seL4_WordBits`.
pub const WORD_BITS: u32 = 64;
/// `seL4_WordSizeBits`.
pub const WORD_SIZE_BITS: u32 = 3;
