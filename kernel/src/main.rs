//! The kernel binary. On the bare-metal target the entry point is the
//! architecture's boot code (`arch::riscv64::machine`); this file only pulls
//! the library in. On the host it is an empty program, so that the workspace
//! builds everywhere.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
use cairn_kernel as _;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("cairn-kernel runs on riscv64gc-unknown-none-elf; use `cargo xtask run`");
}
