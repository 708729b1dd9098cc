//! The fuzz target: each input is a program of kernel entries run on the
//! simulated machine as booted (booted once per process and rolled back
//! before every input), with the kernel invariants checked as it goes
//! (`cairn_kernel::fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_kernel::fuzz::run(data));
