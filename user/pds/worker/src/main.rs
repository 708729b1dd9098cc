//! `worker` of examples/mcs.system: the child of `supervisor` (id 0), on
//! a budget of 1 ms every 20 ms. Each run of its program does the next
//! thing on its list, and `supervisor` restarts it after the first two:
//!
//! 1. writes to its read-only map of `ro` (a VM fault);
//! 2. spins until its budget runs out (a timeout fault: its timeout
//!    handler is its parent's endpoint, as its fault handler);
//! 3. tells `supervisor` it runs again, and waits.
//!
//! A restart starts the program again at its entry with the same memory,
//! so `RUNS` counts the runs.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};

use cairn_microkit::{memory_region, println, protection_domain, Channel, Handler};

memory_region!(RO = "ro", 0x1000);

/// The channel to `supervisor`.
const SUPERVISOR: Channel = Channel::new(0);

/// Runs started so far (memory outlives a restart).
static RUNS: AtomicU64 = AtomicU64::new(0);

struct Worker;

impl Handler for Worker {}

fn init() -> Worker {
    let run = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    println!("worker: run {run}");
    match run {
        1 => {
            RO.write_u64(0, 1);
            println!("worker: FAILED: the write to a read-only map did not fault");
        }
        2 => {
            // Until the kernel stops it for its budget (a timeout fault).
            #[allow(clippy::empty_loop)]
            loop {}
        }
        _ => SUPERVISOR.notify(),
    }
    Worker
}

protection_domain!(init);
