//! `cairn-mcs-tests`: MCS tests on QEMU (issue 12, docs/mcs.md), for the
//! MCS configuration only (`--config mcs=on`; image `mcs`). The root task
//! retypes SchedContexts, configures them through the SchedControl cap
//! BootInfo names, and binds one to a new thread with the MCS form of
//! `TCB_SetSchedParams`; the thread runs on it and signals back. Output
//! follows the conformance protocol (`test <name> ... ok`, then
//! `conformance: N passed, M failed`).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

use sel4::BootInfo;

sel4::if_mcs! {
    mod ctx;
    mod errors;
    mod library;
    mod tests;
    mod timeout;
}

fn main(bi: &BootInfo) {
    sel4::if_mcs! {
        tests::run(bi);
    }
    sel4::if_classic! {
        let _ = bi;
        cairn_rt::println!("mcs-tests: this root task needs the MCS configuration (--config mcs=on)");
    }
    sel4::debug::halt();
}

cairn_rt::entry!(main);
