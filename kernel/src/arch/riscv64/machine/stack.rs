//! The kernel stack: one, because the kernel is single-core and
//! event-based (every entry starts afresh at its top). Used by the boot
//! assembly (`entry`) and the trap entry (`trap`).
#![allow(unsafe_code)]

use core::cell::UnsafeCell;

/// Size of the (single) kernel stack.
pub const KERNEL_STACK_SIZE: usize = 16 * 1024;

/// The kernel stack (one, the kernel is single-core and event-based).
/// Page-aligned, so that its top is page-aligned too: the trap vector
/// loads it with one `lui` (the kernel lies in the top 2 GiB, where
/// `lui` reaches every page; the linker checks the reach).
#[repr(C, align(4096))]
pub struct KernelStack(UnsafeCell<[u8; KERNEL_STACK_SIZE]>);

// SAFETY: only the assembly uses the stack, as the stack pointer of the one
// flow of control in the kernel; Rust never references its contents.
unsafe impl Sync for KernelStack {}

const _: () =
    assert!(KERNEL_STACK_SIZE.is_multiple_of(4096) && core::mem::align_of::<KernelStack>() == 4096);

/// The stack every kernel entry starts on, from its top.
pub static KERNEL_STACK: KernelStack = KernelStack(UnsafeCell::new([0; KERNEL_STACK_SIZE]));
