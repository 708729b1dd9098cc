//! `spinner` of examples/mcs.system: a top-level PD on a budget of 1 ms
//! every 20 ms that spins for good. Its timeout handler is the monitor,
//! which says `monitor: 'spinner' ran out of budget` each time and lets
//! it go on at its next release. It never blocks otherwise, so `ender`
//! (below it) runs only while it waits for a release, that is after the
//! monitor's first report.
#![no_std]
#![no_main]

use cairn_microkit::{entry, println};

fn main() {
    println!("spinner: spinning for good");
    #[allow(clippy::empty_loop)]
    loop {}
}

entry!(main);
