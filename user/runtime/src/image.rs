//! The root task's image bounds, defined by `link.ld`. The kernel maps the
//! image from `__executable_start` (rounded down to 4 KiB) to `_end`
//! (rounded up) and puts the IPC buffer right after it (ABI ref §6.3).
//! `link.ld` starts each segment (text, rodata, data with `.bss`) on a page
//! boundary and marks the rodata and data starts.

extern "C" {
    static __executable_start: u8;
    static __rodata_start: u8;
    static __data_start: u8;
    static _end: u8;
}

/// First byte of the image (`__executable_start`).
pub fn start() -> usize {
    // Only the symbol's address is taken (safe); the byte is never read.
    core::ptr::addr_of!(__executable_start) as usize
}

/// First byte of the read-only data segment, page aligned (`__rodata_start`):
/// the text segment ends here.
pub fn rodata_start() -> usize {
    // As in `start`: only the address is taken.
    core::ptr::addr_of!(__rodata_start) as usize
}

/// First byte of the data segment (`.data`, `.sdata`, `.bss`), page aligned
/// (`__data_start`): the read-only data ends here.
pub fn data_start() -> usize {
    // As in `start`: only the address is taken.
    core::ptr::addr_of!(__data_start) as usize
}

/// One past the last byte of the image, `.bss` included (`_end`).
pub fn end() -> usize {
    core::ptr::addr_of!(_end) as usize
}
