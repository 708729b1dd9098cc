//! The panic handler: print message and location, then `seL4_DebugHalt`.

use crate::println;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(loc) => println!(
            "panicked at {}:{}:{}: {}",
            loc.file(),
            loc.line(),
            loc.column(),
            info.message()
        ),
        None => println!("panicked: {}", info.message()),
    }
    sel4::debug::halt()
}
