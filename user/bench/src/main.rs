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

mod cancel;
mod ipc;
mod irq;
mod mapping;
mod name;
mod oneway;
mod revoke;
mod server;
mod sync;
mod threads;
#[cfg(sel4_mcs)]
mod timeout;

use cairn_rt::println;
use sel4::BootInfo;

fn main(bi: &BootInfo) {
    println!("cairn-bench: start");
    ipc::null_syscall();
    ipc::yield_alone();
    if let Err(e) = two_threads(bi) {
        println!("bench ipc FAILED: {}: {}", e.0, e.1);
    }
    let slot = bi.empty().start + 2; // the revoke benchmark takes the first two
    if let Err(e) = mapping::run(bi, slot) {
        println!("bench sel4bench FAILED: {}: {}", e.0, e.1);
    }
    // Classic only: the revoke and cancel cases make thousands of threads
    // and caps (under MCS each thread would need a SchedContext).
    if ipc::wanted("revoke") && !cfg!(sel4_mcs) {
        if let Err(e) = revoke::run(bi) {
            println!("bench revoke FAILED: {e}");
        }
    }
    // Slots below the partner threads' (the top 64).
    if ipc::wanted("cancel") && !cfg!(sel4_mcs) {
        if let Err(e) = cancel::run(bi, bi.empty().end - 128) {
            println!("bench cancel FAILED: {e}");
        }
    }
    println!("cairn-bench: done");
    sel4::debug::halt();
}

/// Room for the partner thread's objects: a 1 MiB untyped and slots from
/// the top of BootInfo's empty region (the revoke benchmark uses its
/// start).
fn two_threads(bi: &BootInfo) -> Result<(), threads::Failed> {
    let big = bi
        .untypeds()
        .filter(|u| !u.is_device && u.size_bits >= 21)
        .min_by_key(|u| u.size_bits)
        .ok_or(threads::Failed(
            "no untyped",
            sel4::Error::NotEnoughMemory { available: 0 },
        ))?;
    // MCS: each partner also gets a Reply object and a SchedContext, and
    // the cancel case (classic only) does not use the slots below.
    let slot = bi.empty().end - if cfg!(sel4_mcs) { 128 } else { 64 };
    big.cap
        .retype(
            sel4::ObjectType::Untyped,
            20,
            sel4::cap::init_caps::CNODE,
            0,
            0,
            slot,
            1,
        )
        .map_err(|e| threads::Failed("retyping the partner's untyped", e))?;
    let mut room = threads::Room {
        untyped: sel4::Untyped::from_bits(slot),
        next_slot: slot + 1,
    };
    let space = threads::run(bi, &mut room)?;
    oneway::run(bi, &mut room, &space)?;
    sync::run(bi, &mut room)?;
    // Root slots of its own, below the partners' and the cancel case's.
    irq::run(bi, &mut room, bi.empty().end - 400)
}

cairn_rt::entry!(main);
