//! The kernel stack: one, because the kernel is single-core and
//! event-based (every entry starts afresh at its top). Used by the boot
//! assembly (`entry`) and the trap entry (`trap`).
#![allow(unsafe_code)]

use core::cell::UnsafeCell;

/// Size of the (single) kernel stack.
pub const KERNEL_STACK_SIZE: usize = 16 * 1024;

/// The kernel stack (one, the kernel is single-core and event-based).
#[repr(C, align(16))]
pub struct KernelStack(UnsafeCell<[u8; KERNEL_STACK_SIZE]>);

// SAFETY: only the assembly uses the stack, as the stack pointer of the one
// flow of control in the kernel; Rust never references its contents.
unsafe impl Sync for KernelStack {}

/// The stack every kernel entry starts on, from its top.
pub static KERNEL_STACK: KernelStack = KernelStack(UnsafeCell::new([0; KERNEL_STACK_SIZE]));
