//! The entry point `_start` and the first Rust code of a root task.

use crate::{println, BOOTINFO_ADDR};
use core::cell::UnsafeCell;
use core::sync::atomic::Ordering;
use sel4::abi::bootinfo::BootInfo as RawBootInfo;
use sel4::abi::message::IpcBuffer;
use sel4::BootInfo;

/// Size of the root task's stack.
const STACK_SIZE: usize = 64 * 1024;

/// The stack: zero-initialised, so it lands in `.bss`.
#[repr(C, align(16))]
struct Stack(UnsafeCell<[u8; STACK_SIZE]>);

// SAFETY: the stack is only ever used as the single thread's stack, through
// `sp`; Rust code never forms a reference to its contents.
unsafe impl Sync for Stack {}

static STACK: Stack = Stack(UnsafeCell::new([0; STACK_SIZE]));

// The kernel enters here with a0 = BootInfo vaddr and all other registers 0.
// gp is set without relaxation (the instruction must not be relaxed against
// gp itself); sp to the top of STACK; a0 passes through unchanged.
core::arch::global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    "_start:",
    ".option push",
    ".option norelax",
    "lla gp, __global_pointer$",
    ".option pop",
    "lla sp, {stack}",
    "li t0, {stack_size}",
    "add sp, sp, t0",
    "call {rust_start}",
    "1: j 1b",
    stack = sym STACK,
    stack_size = const STACK_SIZE,
    rust_start = sym rust_start,
);

extern "Rust" {
    /// Defined by [`crate::entry!`] in the root task.
    fn __cairn_rt_main(bootinfo: &BootInfo<'static>);
}

/// Records the BootInfo and IPC buffer, runs `main`, halts.
///
/// # Safety
/// Called only by `_start`, once, with the BootInfo address the kernel
/// passed in `a0`.
unsafe extern "C" fn rust_start(bootinfo: *const RawBootInfo) -> ! {
    BOOTINFO_ADDR.store(bootinfo as usize, Ordering::Relaxed);
    if bootinfo.is_null() {
        println!("cairn-rt: no BootInfo in a0");
        sel4::debug::halt();
    }
    // SAFETY: the kernel maps the BootInfo frame read-write at a0, followed
    // by `extraLen` bytes of extra bootinfo, for the life of the root task,
    // and nothing writes them (ABI ref §6.3).
    let bootinfo = unsafe { BootInfo::from_ptr(bootinfo) };
    let ipc_buffer = bootinfo.ipc_buffer_addr() as *mut IpcBuffer;
    // SAFETY: the kernel maps the root thread's IPC buffer frame read-write
    // at `bootinfo.ipcBuffer` (ABI ref §6.3); only `sel4::ipc_buffer` uses it.
    unsafe { sel4::ipc_buffer::set_ipc_buffer(ipc_buffer) };
    // SAFETY: `__cairn_rt_main` is defined by `entry!` with exactly this
    // signature; a root task without it fails to link.
    unsafe { __cairn_rt_main(&bootinfo) };
    println!("cairn-rt: main returned");
    sel4::debug::halt()
}
