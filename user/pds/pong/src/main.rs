//! `pong`, the server of examples/ping.system (priority 150): answers
//! `ping`'s protected calls (channel 1) with the number plus one and
//! notifies `ping` back when `ping` notifies it. Written in the shape
//! Microkit's model gives PDs (`init`, `notified`, `protected`), so that it
//! becomes an SDK user when the SDK lands.
#![no_std]
#![no_main]

use cairn_pd::sel4::Message;
use cairn_pd::{channels, notify_cap, println, INPUT, PPC_BADGE};

/// The channel to `ping`.
const PING: u64 = 1;

fn init() {
    println!("pong: init");
}

fn notified(channel: u64) {
    println!("pong: notified on channel {channel}");
    notify_cap(PING).signal();
}

fn protected(channel: u64, msg: &Message) -> Message {
    println!("pong: protected call on channel {channel}: {}", msg.mr(0));
    Message::new(0, &[msg.mr(0) + 1], &[])
}

fn main() {
    init();
    let (mut badge, mut msg) = INPUT.recv();
    loop {
        if badge & PPC_BADGE != 0 {
            let reply = protected(badge & !PPC_BADGE, &msg);
            (badge, msg) = INPUT.reply_recv(&reply);
        } else {
            channels(badge).for_each(notified);
            (badge, msg) = INPUT.recv();
        }
    }
}

cairn_pd::entry!(main);
