//! `server`, the passive server of examples/mcs.system (priority 200,
//! `passive="true"`): after `init`, which runs on its own scheduling
//! context, the SDK hands that context to the monitor, which binds it to
//! the server's notification. From then on the server runs only on its
//! caller's scheduling context (each protected call from `client` lends
//! it) or, when notified, on the one bound to its notification.
//! It answers a call with the number plus one.
#![no_std]
#![no_main]

use cairn_microkit::{is_passive, println, protection_domain, Channel, Handler, Message};

struct Server {
    calls: u64,
}

impl Handler for Server {
    fn notified(&mut self, channel: Channel) {
        println!(
            "server: notified on channel {} after {} calls",
            channel.index(),
            self.calls
        );
    }

    fn protected(&mut self, channel: Channel, msg: &Message) -> Message {
        self.calls += 1;
        println!(
            "server: protected call {} on channel {}: {}",
            self.calls,
            channel.index(),
            msg.mr(0)
        );
        Message::new(0, &[msg.mr(0) + 1], &[])
    }
}

fn init() -> Server {
    println!("server: init (passive: {})", is_passive());
    Server { calls: 0 }
}

protection_domain!(init);
