//! `controller` of examples/control.system (priority 254, the highest):
//! a thermostat. For each new sample (the sensor notifies on channel 0)
//! it decides the heater's command (on below 5, off from 5), publishes it
//! in `commands` and notifies the actuator (channel 1), and appends
//! (sample, command) to `log` for the logger (channel 2). The actuator's
//! protected call (channel 1) answers the current command.
#![no_std]
#![no_main]

use cairn_microkit::{memory_region, println, protection_domain, Channel, Handler, Message};

const SENSOR: Channel = Channel::new(0);
const ACTUATOR: Channel = Channel::new(1);
const LOGGER: Channel = Channel::new(2);

memory_region!(SAMPLES = "samples", 0x1000);
memory_region!(COMMANDS = "commands", 0x1000);
memory_region!(LOG = "log", 0x4000);

/// As the sensor writes them (user/pds/sensor).
const RING: u64 = 500;
const END: u64 = u64::MAX;
/// Commands: heater off, on, and stop (end of input).
const OFF: u64 = 0;
const ON: u64 = 1;
const STOP: u64 = 2;
/// Log entries (sample, command) after the count word.
const LOG_ENTRIES: u64 = (0x4000 - 8) / 16;

struct Controller {
    seen: u64,
    seq: u64,
    command: u64,
}

impl Controller {
    fn control(&mut self, sample: u64) {
        self.command = match sample {
            END => STOP,
            t if t < 5 => ON,
            _ => OFF,
        };
        self.seq += 1;
        COMMANDS.write_u64(8, self.command);
        COMMANDS.write_u64(0, self.seq);
        ACTUATOR.notify();
        let at = 8 + 16 * ((self.seq - 1) % LOG_ENTRIES) as usize;
        LOG.write_u64(at, sample);
        LOG.write_u64(at + 8, self.command);
        LOG.write_u64(0, self.seq);
        LOGGER.notify();
    }
}

impl Handler for Controller {
    fn notified(&mut self, channel: Channel) {
        if channel != SENSOR {
            return;
        }
        let count = SAMPLES.read_u64(0);
        while self.seen < count {
            let sample = SAMPLES.read_u64(8 * (1 + (self.seen % RING) as usize));
            self.seen += 1;
            self.control(sample);
        }
    }

    fn protected(&mut self, channel: Channel, _msg: &Message) -> Message {
        if channel != ACTUATOR {
            return Message::new(1, &[], &[]);
        }
        Message::new(0, &[self.seq, self.command], &[])
    }
}

fn init() -> Controller {
    // The first PD to run: the loader's boot cost ends here (under -icount
    // the cycle counter counts instructions; docs/system.md).
    let cycle = cairn_microkit::sel4::benchmark::cycles();
    println!("controller: init (highest priority) at cycle {cycle}");
    Controller {
        seen: 0,
        seq: 0,
        command: OFF,
    }
}

protection_domain!(init);
