//! The fuzz driver itself, in both builds: it runs every step kind and
//! pseudo-random programs without a finding, and every run starts from
//! the machine as booted (RAM, the simulated machine with its clock, the
//! kernel state). The findings and the corruption tests are in
//! `tests`/`tests_corrupt` (classic) and `tests_mcs`.

use super::run;
use crate::arch::host::SimMachine;
use crate::state::kernel;

/// A pseudo-random program of `len` bytes (xorshift from `seed`).
pub(super) fn program(seed: u64, len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ seed.wrapping_mul(0xA24B_AED4_963E_E407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Inputs of every kind of step run without a finding: the empty input
/// (setup and the checks alone), each step kind on its own, and
/// pseudo-random inputs long enough to reach every kind many times.
#[test]
fn the_driver_runs_every_step_kind_and_random_programs() {
    run(&[]);
    for kind in 0..16u8 {
        run(&[kind, 0x10, 0x05, 0x01, 0x0A, 0xFF, 0x00, 0x33]);
        run(&[kind, 0x10, 0x05, 0x01, 0x0A, 0xFF, 0x00, 0x33, 0x90, 0xF0]);
    }
    for seed in 0..16 {
        run(&program(seed, 4096));
    }
}

/// Every run starts from the same machine: after runs of pseudo-random
/// programs, the rollback (which copies back only the pages the kernel
/// touched) leaves every byte of RAM, the rest of the simulated machine
/// (its clock and timer deadline included) and the kernel state (MCS:
/// the scheduler's MCS state) as they were after boot, so that a finding
/// replays alone as it happened after a thousand other inputs.
#[test]
fn every_run_starts_from_the_machine_as_booted() {
    super::from_start(|_| ());
    let machine = SimMachine::snapshot();
    let state = format!("{:?}", kernel());
    let now = crate::arch::now();
    let (mut changed, mut moved) = (0, 0);
    for seed in 0..24 {
        run(&program(seed, 2048));
        changed += usize::from(machine.difference().is_some());
        moved += usize::from(crate::arch::now() != now);
        super::from_start(|_| ());
        assert_eq!(machine.difference(), None, "after program {seed}");
        assert_eq!(format!("{:?}", kernel()), state, "after program {seed}");
        assert_eq!(crate::arch::now(), now, "the clock, after program {seed}");
    }
    // The comparisons can fail: the programs did change the machine
    // (MCS: and moved the clock, which the driver moves before a timer
    // interrupt; classic, it stays still).
    assert!(changed > 20, "only {changed} programs changed the machine");
    #[cfg(feature = "mcs")]
    assert!(moved > 8, "only {moved} programs moved the clock");
    #[cfg(not(feature = "mcs"))]
    let _ = moved;
}
