//! `ender`: ends a test system's run. It runs at the lowest priority of
//! its system, so when it is notified it gets the processor only after
//! every other PD (and the monitor) has done what it had to; then it
//! halts the machine (`seL4_DebugHalt`, or QEMU's test device when the
//! description maps it as `finisher`), so that the QEMU test ends.
//!
//! With several channels it waits for all of them: ids 0 to the one its
//! highest channel end's `setvar_id="last_channel"` names (0 without
//! it). PDs on a budget wait for their release now and then, and ender
//! runs then too; a notification from each of them is what says they
//! are done.
#![no_std]
#![no_main]

use cairn_microkit::{memory_region, println, protection_domain, sel4, setvar, Channel, Handler};

setvar!(LAST = "last_channel");
memory_region!(
    /// QEMU `virt`'s test device (SiFive's "finisher", 0x100000), when the
    /// description maps it (`setvar_vaddr="finisher"`): a kernel without
    /// `seL4_DebugHalt` (`debug=off`) cannot end the run, this can.
    FINISHER = "finisher", 0x1000
);
/// The finisher's command: exit QEMU with status 0.
const FINISHER_PASS: u32 = 0x5555;

struct Ender {
    /// Bit `i`: notified on channel `i`.
    heard: u64,
}

impl Handler for Ender {
    fn notified(&mut self, channel: Channel) {
        if channel.index() <= 61 {
            self.heard |= 1 << channel.index();
        }
        let last = LAST.get().min(61);
        let all = (2u64 << last) - 1;
        if self.heard & all == all {
            println!("ender: notified on all {} channels, halting", last + 1);
            if FINISHER.vaddr() != 0 {
                FINISHER.write_u32(0, FINISHER_PASS);
            }
            sel4::debug::halt();
        }
    }
}

fn init() -> Ender {
    Ender { heard: 0 }
}

protection_domain!(init);
