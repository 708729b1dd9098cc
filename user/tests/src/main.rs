//! `cairn-tests`: the conformance suite, a root task that checks the kernel
//! against seL4's documented behaviour, one named test per behaviour, and
//! halts the machine (`seL4_DebugHalt`) when done.
//!
//! Tests are grouped by topic, one module each; a later issue adds a module
//! and its list to [`SUITES`].
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(
    clippy::result_large_err,
    reason = "a test's failure carries its message inline (the root task has no heap); \
              it is returned once, at the end of a failed test"
)]

mod framework;
mod ram;

mod boot;
mod caps;
mod cnode;
mod debug;
mod fixture;
mod forms;
mod ipc;
mod irq;
mod memory;
mod retype;
#[cfg(sel4_mcs)]
mod sched_context;
mod tcb;
mod threads;
mod untyped;
mod vspace;

use framework::{Ctx, Test};
use sel4::BootInfo;

/// Every suite, in running order. `memory` comes first: it checks that
/// `.bss` reads as zeros before anything could have written it.
const SUITES: &[&[Test]] = &[
    memory::TESTS,
    boot::TESTS,
    caps::TESTS,
    untyped::TESTS,
    debug::TESTS,
    retype::TESTS,
    cnode::TESTS,
    irq::TESTS,
    tcb::TESTS,
    ipc::TESTS,
    vspace::TESTS,
    #[cfg(sel4_mcs)]
    sched_context::TESTS,
];

fn main(bi: &BootInfo) {
    cairn_rt::println!("cairn-tests: conformance suite");
    let ctx = Ctx {
        bi,
        bootinfo_addr: cairn_rt::bootinfo_addr() as u64,
        image_start: cairn_rt::image::start() as u64,
        image_end: cairn_rt::image::end() as u64,
    };
    framework::run_all(&ctx, SUITES);
    sel4::debug::halt();
}

cairn_rt::entry!(main);
