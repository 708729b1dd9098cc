//! The kernel's panic handler: one line on the console, then a failing halt.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    // A panic while printing a panic must not recurse.
    if PANICKING.swap(true, Ordering::Relaxed) {
        super::halt(false);
    }
    kput!("KERNEL PANIC");
    // The message needs `core::fmt`, which only a debug kernel links
    // (console.rs); the place is enough to find the broken invariant.
    if crate::config::DEBUG_BUILD {
        kprint!(": {}", info.message());
    }
    if let Some(loc) = info.location() {
        kput!(" at ", loc.file(), ":", loc.line());
    }
    kput!("\n");
    super::halt(false)
}
