//! The fuzzer's findings, each kept as a test, and a smoke run of the
//! driver on fixed inputs.

use super::run;

/// Inputs of every kind of step run without a finding: the empty input
/// (setup and the checks alone), each step kind on its own, and a
/// pseudo-random input long enough to reach every kind many times.
#[test]
fn the_driver_runs_every_step_kind() {
    run(&[]);
    for kind in 0..16u8 {
        run(&[kind, 0x10, 0x05, 0x01, 0x0A, 0xFF, 0x00, 0x33]);
    }
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let data: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    run(&data);
}
