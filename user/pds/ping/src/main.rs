//! `ping`, the client of examples/ping.system (priority 100): notifies
//! `pong` (channel 0) and calls its protected procedure in `init`, then
//! waits for `pong`'s notification and ends the run (`seL4_DebugHalt`,
//! so the test harness sees QEMU exit). It says `ping: done` only if pong
//! answered 42 and notified on channel 0 alone: the `system-ping` test
//! waits for that line.
#![no_std]
#![no_main]

use cairn_microkit::{println, protection_domain, sel4, Channel, Handler, Message};

/// The channel to `pong`.
const PONG: Channel = Channel::new(0);

struct Ping {
    answer: u64,
}

impl Handler for Ping {
    fn notified(&mut self, channel: Channel) {
        println!("ping: notified on channel {}", channel.index());
        if self.answer == 42 && channel == PONG {
            println!("ping: done");
        } else {
            println!(
                "ping: FAILED: answer {}, channel {}",
                self.answer,
                channel.index()
            );
        }
        sel4::debug::halt();
    }
}

fn init() -> Ping {
    println!("ping: init");
    PONG.notify();
    let answer = PONG.ppcall(&Message::new(0, &[41], &[])).mr(0);
    println!("ping: pong answered {answer}");
    Ping { answer }
}

protection_domain!(init);
