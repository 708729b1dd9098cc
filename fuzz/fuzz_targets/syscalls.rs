//! The fuzz target: each input is a program of kernel entries run on a
//! freshly booted simulated machine, with the kernel invariants checked
//! after every one (`cairn_kernel::fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: {
        // Every run allocates and frees the simulated machine's 10 MiB of
        // RAM. A fixed mmap threshold keeps glibc from raising its own
        // after the first free and then serving the block from the heap,
        // which calloc must clear byte by byte (most of a run's time);
        // fresh mmap'd pages are zero and only those touched cost.
        // SAFETY: mallopt only changes an allocator tuning parameter; it
        // is called before any other thread exists.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
    },
    |data: &[u8]| cairn_kernel::fuzz::run(data)
);
