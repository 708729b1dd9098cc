//! `client` of examples/mcs.system (priority 100, 50 ms every 100 ms):
//! calls the passive `server` three times (41, 42, 43 → 42, 43, 44),
//! notifies it, then tells `faulter` to fault on purpose.
#![no_std]
#![no_main]

use cairn_microkit::{println, protection_domain, Channel, Handler, Message};

/// The channel to `server` (protected calls, notifications).
const SERVER: Channel = Channel::new(0);
/// The channel to `faulter`.
const FAULTER: Channel = Channel::new(1);

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
    FAULTER.notify();
    Client
}

protection_domain!(init);
