//! `ender`: ends a test system's run. It runs at the lowest priority of
//! its system, so when it is notified it gets the processor only after
//! every other PD (and the monitor) has done what it had to; then it
//! halts the machine (`seL4_DebugHalt`), so that the QEMU test ends.
#![no_std]
#![no_main]

use cairn_microkit::{println, protection_domain, sel4, Channel, Handler};

struct Ender;

impl Handler for Ender {
    fn notified(&mut self, channel: Channel) {
        println!("ender: notified on channel {}, halting", channel.index());
        sel4::debug::halt();
    }
}

fn init() -> Ender {
    Ender
}

protection_domain!(init);
