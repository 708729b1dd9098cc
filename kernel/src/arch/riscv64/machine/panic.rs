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
    kprint!("KERNEL PANIC: {}", info.message());
    if let Some(loc) = info.location() {
        kprint!(" at {}:{}", loc.file(), loc.line());
    }
    kprintln!();
    super::halt(false)
}
