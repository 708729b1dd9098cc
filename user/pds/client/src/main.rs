//! `client` of examples/mcs.system (priority 100, 5 ms every 10 ms):
//! calls the passive `server` three times (41, 42, 43 → 42, 43, 44),
//! notifies it, tells `ender` (the lowest priority) that the run may
//! end, then writes to its read-only map of `ro` on purpose: a VM fault,
//! which the monitor reports by the client's name (its fault handler,
//! as of every top-level PD); `ender` then halts the system.
#![no_std]
#![no_main]

use cairn_microkit::{memory_region, println, protection_domain, Channel, Handler, Message};

memory_region!(RO = "ro", 0x1000);

/// The channel to `server` (protected calls, notifications).
const SERVER: Channel = Channel::new(0);
/// The channel to `ender`.
const ENDER: Channel = Channel::new(1);

struct Client;

impl Handler for Client {}

fn init() -> Client {
    let answers = [41u64, 42, 43].map(|n| SERVER.ppcall(&Message::new(0, &[n], &[])).mr(0));
    if answers == [42, 43, 44] {
        println!(
            "client: the passive server answered 3 calls ({}, {}, {})",
            answers[0], answers[1], answers[2]
        );
    } else {
        println!("client: FAILED: the server answered {answers:?}");
    }
    SERVER.notify();
    ENDER.notify();
    println!("client: writing to a read-only region, on purpose");
    RO.write_u64(0, 1);
    println!("client: FAILED: the write did not fault");
    Client
}

protection_domain!(init);
