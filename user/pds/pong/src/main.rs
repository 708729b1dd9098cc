//! `pong`, the server of examples/ping.system (priority 150): answers
//! `ping`'s protected calls (channel 1) with the number plus one and
//! notifies `ping` back when `ping` notifies it. It also writes the
//! answer into the `shared` region (mapped read-write).
#![no_std]
#![no_main]

use cairn_microkit::{memory_region, println, protection_domain, Channel, Handler, Message};

memory_region!(SHARED = "shared", 0x1000);

/// The channel to `ping`.
const PING: Channel = Channel::new(1);

struct Pong;

impl Handler for Pong {
    fn notified(&mut self, channel: Channel) {
        println!("pong: notified on channel {}", channel.index());
        PING.notify();
    }

    fn protected(&mut self, channel: Channel, msg: &Message) -> Message {
        println!(
            "pong: protected call on channel {}: {}",
            channel.index(),
            msg.mr(0)
        );
        SHARED.write_u64(0, msg.mr(0) + 1);
        Message::new(0, &[msg.mr(0) + 1], &[])
    }
}

fn init() -> Pong {
    println!("pong: init");
    Pong
}

protection_domain!(init);
