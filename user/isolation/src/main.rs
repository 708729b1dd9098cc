//! `cairn-isolation`: the isolation suite's root task (issue 13, item 5;
//! docs/isolation.md). The root task is the **monitor**. It makes
//!
//! - a **hostile** thread (`hostile`) in an address space of its own
//!   (`space`: its data are private copies) and a CSpace of its own
//!   (`proto`) holding only a small set of caps, which tries every
//!   invocation on every cptr it can name, and more;
//! - a **victim** thread (priority above the hostile) that beats once per
//!   notification the monitor sends it, in the monitor's own memory;
//! - a **watchdog** at the lowest priority, which runs only when the
//!   hostile is blocked and tells the monitor so.
//!
//! Every message that reaches the monitor's endpoint (a report, a fault
//! of the hostile, anything it sends there, the watchdog) is a check
//! point (`monitor`): canaries, heartbeat, badges, and at reports the
//! hostile's whole CSpace; then the monitor restarts the hostile at its
//! entry and it carries on with its next attempt. The last line is
//! `isolation: N attempts, E escapes` (read by `xtask/src/isolation.rs`).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

mod alloc;
#[cfg(sel4_mcs)]
mod attacks;
mod check;
mod hostile;
#[cfg(sel4_mcs)]
mod mcs;
mod monitor;
mod proto;
mod setup;
mod space;

use cairn_rt::println;
use sel4::BootInfo;

fn main(bi: &BootInfo) {
    println!("isolation: start");
    match setup::run(bi) {
        Ok(world) => monitor::run(world),
        Err(e) => println!("isolation: setup FAILED: {e}"),
    }
    sel4::debug::halt();
}

cairn_rt::entry!(main);
