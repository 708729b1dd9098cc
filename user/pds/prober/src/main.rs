//! `prober`, ping's child in examples/ping.system (priority 10): checks
//! that its CSpace holds exactly the caps the description gives it (its
//! notification in slot 1, the fault endpoint to its parent in slot 2,
//! its VSpace in slot 3, nothing else in its 512 slots: nothing the
//! loader kept or forgot), then writes to the `shared` region, which it
//! maps read-only: the write faults, and ping, its fault handler, checks
//! the fault and restarts it (`Child::restart`, on the classic kernel):
//! the second run does the same and faults again. On a wrong CSpace it
//! says FAILED and ends the run.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};

use cairn_microkit::sel4::{self, tag, CPtr};
use cairn_microkit::{memory_region, println, protection_domain, Handler};

/// Runs started so far: ping restarts prober once after its fault, and
/// its memory outlives the restart.
static RUNS: AtomicU64 = AtomicU64::new(0);

memory_region!(SHARED = "shared", 0x1000);

/// The CSpace's size (`cairn_system::layout::CNODE_BITS`).
const SLOTS: u64 = 512;
/// (slot, cap type) that the description gives a child without channels.
const EXPECTED: [(u64, u64); 3] = [
    (1, tag::NOTIFICATION),
    (2, tag::ENDPOINT),
    (3, tag::PAGE_TABLE),
];

struct Prober;

impl Handler for Prober {}

fn init() -> Prober {
    let run = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    let mut found = 0;
    for slot in 0..SLOTS {
        let t = sel4::debug::cap_identify(CPtr(slot));
        if t == tag::NULL {
            continue;
        }
        if EXPECTED.contains(&(slot, t)) {
            found += 1;
        } else {
            println!("prober: FAILED: slot {slot} holds a cap of type {t}");
            sel4::debug::halt();
        }
    }
    if found != EXPECTED.len() {
        println!(
            "prober: FAILED: {found} of the {} expected caps",
            EXPECTED.len()
        );
        sel4::debug::halt();
    }
    println!(
        "prober: CSpace holds exactly its {found} caps; shared region says {}",
        SHARED.read_u64(0)
    );
    println!("prober: run {run}: writing to the read-only shared region");
    SHARED.write_u64(8, 1);
    println!("prober: FAILED: the write to a read-only region went through");
    sel4::debug::halt();
}

protection_domain!(init);
