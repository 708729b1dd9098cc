//! `logger` of examples/control.system (priority 50, the lowest): may
//! only receive. It holds no capability to anybody: the controller
//! (channel 0) and the sensor (channel 1) notify it, and it reads `log`
//! and `samples` (both mapped read-only). It prints each new log entry,
//! and at the end of the input a summary, then ends the run
//! (`seL4_DebugHalt`): the `system-control` test waits for that line.
#![no_std]
#![no_main]

use cairn_microkit::{memory_region, println, protection_domain, sel4, Channel, Handler};

const CONTROLLER: Channel = Channel::new(0);

memory_region!(LOG = "log", 0x4000);
memory_region!(SAMPLES = "samples", 0x1000);

const LOG_ENTRIES: u64 = (0x4000 - 8) / 16;
const END: u64 = u64::MAX;

struct Logger {
    read: u64,
    on: u64,
    off: u64,
}

impl Handler for Logger {
    fn notified(&mut self, channel: Channel) {
        if channel != CONTROLLER {
            return;
        }
        let written = LOG.read_u64(0);
        while self.read < written {
            let at = 8 + 16 * (self.read % LOG_ENTRIES) as usize;
            let (sample, command) = (LOG.read_u64(at), LOG.read_u64(at + 8));
            self.read += 1;
            if sample == END {
                println!(
                    "logger: end of input after {} samples (sensor counted {}): heater on {} times, off {} times",
                    self.read - 1,
                    SAMPLES.read_u64(0) - 1,
                    self.on,
                    self.off
                );
                sel4::debug::halt();
            }
            let what = if command == 1 { "on" } else { "off" };
            if command == 1 {
                self.on += 1;
            } else {
                self.off += 1;
            }
            println!(
                "logger: #{}: temperature {sample}, heater {what}",
                self.read
            );
        }
    }
}

fn init() -> Logger {
    println!("logger: init");
    Logger {
        read: 0,
        on: 0,
        off: 0,
    }
}

protection_domain!(init);
