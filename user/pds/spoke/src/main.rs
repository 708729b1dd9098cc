//! `spoke`, the program of s0 to s3 in examples/wide.system: it learns
//! its channels from the description (`setvar_id` on its channel ends:
//! `first` and `last`, or `call` on the first when it calls hub), and
//!
//! - in `init`, calls hub on `call` (when set) with the value `call` and
//!   checks that hub answers `call + 1`, then notifies hub on each of its
//!   channels from the first to `last`;
//! - answers a protected call with its channel id + 1000 + the value;
//! - notifies hub back on every channel it is notified on.
//!
//! A wrong answer says `spoke: FAILED` and halts.
#![no_std]
#![no_main]

use cairn_microkit::sel4;
use cairn_microkit::{println, protection_domain, setvar, Channel, Handler, Message};

setvar!(FIRST = "first");
setvar!(LAST = "last");
setvar!(CALL = "call");

struct Spoke;

impl Handler for Spoke {
    fn notified(&mut self, channel: Channel) {
        channel.notify();
    }

    fn protected(&mut self, channel: Channel, msg: &Message) -> Message {
        Message::new(0, &[channel.index() + 1000 + msg.mr(0)], &[])
    }
}

fn init() -> Spoke {
    let call = CALL.get();
    let first = if call != 0 {
        let answer = Channel::new(call)
            .ppcall(&Message::new(0, &[call], &[]))
            .mr(0);
        if answer != call + 1 {
            println!("spoke: FAILED: hub answered {answer} to {call}");
            sel4::debug::halt();
        }
        call
    } else {
        FIRST.get()
    };
    for id in first..=LAST.get() {
        Channel::new(id).notify();
    }
    Spoke
}

protection_domain!(init);
