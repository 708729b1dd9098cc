//! `crasher` of examples/quiet.system: tells `ender` and writes to its
//! read-only map of `ro` on purpose, in `init`. The monitor reports the
//! VM fault by name through the UART, which it writes itself, so the
//! report shows on a kernel without debug output (`debug=off`), where
//! this PD's own `println!` says nothing; `ender`, below it, then ends
//! the run through QEMU's test device.
#![no_std]
#![no_main]

use cairn_microkit::{memory_region, println, protection_domain, Channel, Handler};

memory_region!(RO = "ro", 0x1000);

/// The channel to `ender`.
const ENDER: Channel = Channel::new(0);

struct Crasher;

impl Handler for Crasher {}

fn init() -> Crasher {
    ENDER.notify();
    RO.write_u64(0, 1);
    println!("crasher: FAILED: the write to a read-only map did not fault");
    Crasher
}

protection_domain!(init);
