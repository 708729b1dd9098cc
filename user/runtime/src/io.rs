//! Console output through `seL4_DebugPutChar` (ABI ref §14): [`print!`] and
//! [`println!`].

use core::fmt;

/// The kernel's debug console, byte by byte.
#[derive(Clone, Copy, Debug, Default)]
pub struct DebugConsole;

impl fmt::Write for DebugConsole {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        sel4::debug::put_str(s);
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    // Writing to the debug console cannot fail.
    let _ = fmt::Write::write_fmt(&mut DebugConsole, args);
}

/// Prints to the kernel's debug console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::_print(format_args!($($arg)*)) };
}

/// Prints a line to the kernel's debug console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::io::_print(format_args!("{}\n", format_args!($($arg)*))) };
}
