//! `_start`, the panic handler and the first Rust code of a PD.

use sel4::abi::message::IpcBuffer;

// The loader enters here with sp = the stack top and a0 = the IPC buffer
// address. gp is set without relaxation (the instruction must not be
// relaxed against gp itself).
core::arch::global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    "_start:",
    ".option push",
    ".option norelax",
    "lla gp, __global_pointer$",
    ".option pop",
    "call {rust_start}",
    "1: j 1b",
    rust_start = sym rust_start,
);

extern "Rust" {
    /// Defined by [`crate::entry!`] in the PD.
    fn __cairn_microkit_main();
}

/// Records the IPC buffer, runs `main`, then waits for good.
///
/// # Safety
/// Called only by `_start`, once, with the IPC buffer address the loader
/// passed in `a0`.
unsafe extern "C" fn rust_start(ipc_buffer: *mut IpcBuffer) -> ! {
    // SAFETY: the loader maps the PD's IPC buffer frame read-write at the
    // address it passes in a0 and configures the TCB with it; only
    // `sel4::ipc_buffer` uses it.
    unsafe { sel4::ipc_buffer::set_ipc_buffer(ipc_buffer) };
    // SAFETY: `__cairn_microkit_main` is defined by `entry!` with exactly this
    // signature; a PD without it fails to link.
    unsafe { __cairn_microkit_main() };
    loop {
        crate::INPUT_NOTIFICATION.wait();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::println!("PD panicked: {}", info.message());
    sel4::debug::halt()
}
