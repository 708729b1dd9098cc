//! The root task's image bounds, defined by `link.ld`. The kernel maps the
//! image from `__executable_start` (rounded down to 4 KiB) to `_end`
//! (rounded up) and puts the IPC buffer right after it (ABI ref §6.3).

extern "C" {
    static __executable_start: u8;
    static _end: u8;
}

/// First byte of the image (`__executable_start`).
pub fn start() -> usize {
    // Only the symbol's address is taken (safe); the byte is never read.
    core::ptr::addr_of!(__executable_start) as usize
}

/// One past the last byte of the image, `.bss` included (`_end`).
pub fn end() -> usize {
    core::ptr::addr_of!(_end) as usize
}
