//! `ping`, the client of examples/ping.system (priority 100): notifies
//! `pong` (channel 0), calls its protected procedure, waits for `pong`'s
//! notification, then ends the run (`seL4_DebugHalt`, so the test
//! harness sees QEMU exit).
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
    println!("ping: done");
    sel4::debug::halt();
}

cairn_pd::entry!(main);
