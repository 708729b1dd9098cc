//! `actuator` of examples/control.system (priority 150): when the
//! controller notifies (channel 0), it fetches the current command with a
//! protected call into the controller (same channel) and "switches the
//! heater", checking that `commands` (mapped read-only) says the same.
#![no_std]
#![no_main]

use cairn_microkit::{memory_region, println, protection_domain, Channel, Handler, Message};

const CONTROLLER: Channel = Channel::new(0);

memory_region!(COMMANDS = "commands", 0x1000);

struct Actuator {
    done: u64,
}

impl Handler for Actuator {
    fn notified(&mut self, channel: Channel) {
        if channel != CONTROLLER {
            return;
        }
        let reply = CONTROLLER.ppcall(&Message::new(0, &[], &[]));
        let (seq, command) = (reply.mr(0), reply.mr(1));
        if seq == self.done {
            return;
        }
        self.done = seq;
        let shared = (COMMANDS.read_u64(0), COMMANDS.read_u64(8));
        let what = match command {
            0 => "heater off",
            1 => "heater on",
            _ => "stopped",
        };
        let same = if shared == (seq, command) {
            ""
        } else {
            " (commands region differs!)"
        };
        println!("actuator: command {seq}: {what}{same}");
    }
}

fn init() -> Actuator {
    println!("actuator: init");
    Actuator { done: 0 }
}

protection_domain!(init);
