//! `ping`, the client of examples/ping.system (priority 100): notifies
//! `pong` (channel 0), calls its protected procedure, waits for `pong`'s
//! notification, then ends the run (`seL4_DebugHalt`, so the test
//! harness sees QEMU exit). It says `ping: done` only if pong answered
//! 42 and notified on channel 0 alone: the `system-ping` test waits for
//! that line.
#![no_std]
#![no_main]

use cairn_pd::sel4::{self, Message};
use cairn_pd::{channels, notify_cap, ppc_cap, println, INPUT_NOTIFICATION};

/// The channel to `pong`.
const PONG: u64 = 0;

fn main() {
    println!("ping: init");
    notify_cap(PONG).signal();
    let reply = ppc_cap(PONG).call(&Message::new(0, &[41], &[]));
    println!("ping: pong answered {}", reply.mr(0));
    let badge = INPUT_NOTIFICATION.wait();
    for c in channels(badge) {
        println!("ping: notified on channel {c}");
    }
    if reply.mr(0) == 42 && badge == 1 << PONG {
        println!("ping: done");
    } else {
        println!("ping: FAILED: answer {}, badge {badge:#x}", reply.mr(0));
    }
    sel4::debug::halt();
}

cairn_pd::entry!(main);
