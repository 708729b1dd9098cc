//! The kernel binary. On the bare-metal target the entry point is the
//! architecture's boot code (`arch::riscv64::machine`); this file plugs the
//! kernel's top layer (`api::Api`) into it, the one place where the machine
//! layer meets the code above it. On the host it is an empty program, so
//! that the workspace builds everywhere.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
cairn_kernel::machine_entry_points!(cairn_kernel::api::Api);

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("cairn-kernel runs on riscv64gc-unknown-none-elf; use `cargo xtask run`");
}
