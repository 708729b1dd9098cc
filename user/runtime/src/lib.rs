//! `cairn_rt`: the runtime of a Cairn root task.
//!
//! - `_start` (in `start.rs`): the ELF entry. The kernel enters it with
//!   `a0` = BootInfo vaddr and every other register 0, `sp` included
//!   (ABI ref §6.3). It sets `gp` and `sp` (a 64 KiB stack in `.bss`), then
//!   records the BootInfo and the IPC buffer and calls the program's `main`,
//!   declared with [`entry!`].
//! - A panic handler that prints the message and location with
//!   `seL4_DebugPutChar`, then calls `seL4_DebugHalt`.
//! - [`print!`] and [`println!`] over `seL4_DebugPutChar`.
//! - [`alloc`]: bump allocators of untyped memory and of CSpace slots.
//! - [`image`]: the image bounds from the linker script (`link.ld`).
//! - [`thread`]: starting threads in the root task's own address space.
//! - [`space`]: a second address space running the image, and threads in it.
//! - [`uart`]: QEMU virt's UART mapped for a user-level driver.
//!
//! Every root task binary links with `link.ld` through a two-line build.rs
//! that reads `DEP_CAIRN_RT_LINK_LD` (see this crate's build.rs).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod alloc;
pub mod io;
pub mod space;
pub mod thread;
pub mod uart;

#[cfg(all(target_arch = "riscv64", target_os = "none"))]
pub mod image;
#[cfg(all(target_arch = "riscv64", target_os = "none"))]
mod panic;
#[cfg(all(target_arch = "riscv64", target_os = "none"))]
mod start;

pub use sel4;

use core::sync::atomic::{AtomicUsize, Ordering};

static BOOTINFO_ADDR: AtomicUsize = AtomicUsize::new(0);

/// The BootInfo address the kernel passed in `a0` (0 before start-up).
pub fn bootinfo_addr() -> usize {
    BOOTINFO_ADDR.load(Ordering::Relaxed)
}

/// Declares the root task's `main`, a `fn(&sel4::BootInfo)`. The runtime
/// calls it once the stack, BootInfo and IPC buffer are set up, and halts the
/// machine (`seL4_DebugHalt`) if it returns.
///
/// ```ignore
/// fn main(bootinfo: &sel4::BootInfo) { cairn_rt::println!("hi"); }
/// cairn_rt::entry!(main);
/// ```
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The root task's entry point, called by `cairn_rt`'s start-up code.
        #[no_mangle]
        fn __cairn_rt_main(bootinfo: &$crate::sel4::BootInfo<'static>) {
            let main: fn(&$crate::sel4::BootInfo<'static>) = $main;
            main(bootinfo)
        }
    };
}
