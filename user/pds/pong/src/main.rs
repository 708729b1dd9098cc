//! `pong`, the server of examples/ping.system (priority 150): answers
//! `ping`'s protected calls (channel 1) with the number plus one and
//! notifies `ping` back when `ping` notifies it.
#![no_std]
#![no_main]

use cairn_microkit::{println, protection_domain, Channel, Handler, Message};

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
        Message::new(0, &[msg.mr(0) + 1], &[])
    }
}

fn init() -> Pong {
    println!("pong: init");
    Pong
}

protection_domain!(init);
