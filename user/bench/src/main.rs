//! `cairn-bench`: the benchmark root task. `cargo xtask bench` boots it on
//! a kernel built with `benchmark=on` under `qemu -icount shift=0`, where
//! `rdcycle` counts instructions, so every figure is deterministic.
//!
//! Output protocol (read by `xtask/src/bench.rs`): one line per
//! measurement, `bench <name> key=value ...`, each followed by the
//! kernel's `cairn: bench: key=value ...` line for the same interval
//! (printed by `seL4_BenchmarkFinalizeLog`), and `cairn-bench: done` at
//! the end. A failure prints `bench <name> FAILED: <reason>`.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

mod ipc;
mod revoke;

use cairn_rt::println;
use sel4::BootInfo;

fn main(bi: &BootInfo) {
    println!("cairn-bench: start");
    ipc::null_syscall();
    ipc::yield_alone();
    if let Err(e) = revoke::run(bi) {
        println!("bench revoke FAILED: {e}");
    }
    println!("cairn-bench: done");
    sel4::debug::halt();
}

cairn_rt::entry!(main);
