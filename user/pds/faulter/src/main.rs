//! `faulter` of examples/mcs.system (priority 50, round robin: the
//! default budget equals the period, so it is never held back for
//! budget): when `client` notifies it, it tells `ender` and writes to its
//! read-only map of `ro` on purpose, a VM fault that the monitor reports
//! by its name. Being round robin, it reaches the fault before `ender`
//! (priority 1) can run, however slow the host: a PD on a budget could
//! run out of it between the two and let `ender` halt first.
#![no_std]
#![no_main]

use cairn_microkit::{memory_region, println, protection_domain, Channel, Handler};

memory_region!(RO = "ro", 0x1000);

/// The channel to `ender`.
const ENDER: Channel = Channel::new(1);

struct Faulter;

impl Handler for Faulter {
    fn notified(&mut self, _: Channel) {
        println!("faulter: writing to a read-only region, on purpose");
        ENDER.notify();
        RO.write_u64(0, 1);
        println!("faulter: FAILED: the write did not fault");
    }
}

fn init() -> Faulter {
    Faulter
}

protection_domain!(init);
