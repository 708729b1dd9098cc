//! Kernel console output: `kprint!`/`kprintln!` over the architecture's
//! character output (the SBI console on RISC-V, stdout-like capture on the
//! host).

use core::fmt::{self, Write};

struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                crate::arch::console_putchar(b'\r');
            }
            crate::arch::console_putchar(b);
        }
        Ok(())
    }
}

/// Writes formatted text to the console (used by the macros).
pub fn print(args: fmt::Arguments<'_>) {
    // `Console::write_str` never fails, so an error can only come from an
    // argument's formatting, and the console is where it would be
    // reported: there is nothing more to do with it.
    Console.write_fmt(args).unwrap_or_default()
}

/// Prints to the kernel console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// Prints a line to the kernel console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::kprint!("\n") };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}
