//! Kernel console output: `kprint!`/`kprintln!` over the architecture's
//! character output (the SBI console on RISC-V, stdout-like capture on the
//! host), and `kput!`, which prints strings and numbers without
//! `core::fmt`.
//!
//! `kput!` is for what every kernel prints (the boot messages, a trap in
//! kernel mode, the panic line): with only it, a `debug=off` kernel links
//! no formatting machinery at all (`core::fmt` and the `Display` impls it
//! reaches, ~5 KiB of code and ~1.7 KiB of `.rodata`; docs/benchmarks.md,
//! "Code size"). `kprint!` stays for the debug kernel's own messages.

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

/// Writes `s` to the console (a newline as CR LF). Out of line, as
/// [`put_digits`]: `kput!` is a call per piece, not a loop inlined per
/// piece.
#[inline(never)]
pub fn put_str(s: &str) {
    // `Console::write_str` never fails.
    let _ = Console.write_str(s);
}

/// A value `kput!` prints: a string as it is, an integer in decimal,
/// [`Hex`] as `{:#x}` prints it.
pub trait Put {
    /// Writes the value to the console.
    fn put(&self);
}

/// An integer that `kput!` prints in hexadecimal with `0x` before it.
#[derive(Clone, Copy, Debug)]
pub struct Hex(pub u64);

impl Put for &str {
    fn put(&self) {
        put_str(self);
    }
}

impl Put for u64 {
    fn put(&self) {
        put_digits(*self, 10);
    }
}

impl Put for u32 {
    fn put(&self) {
        put_digits(u64::from(*self), 10);
    }
}

impl Put for usize {
    fn put(&self) {
        put_digits(*self as u64, 10);
    }
}

impl Put for Hex {
    fn put(&self) {
        put_str("0x");
        put_digits(self.0, 16);
    }
}

/// `v` in `base` (10 or 16, lower-case digits), no leading zeros.
#[inline(never)]
fn put_digits(v: u64, base: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut v = v;
    loop {
        let d = (v % base) as u8;
        at -= 1;
        if let Some(b) = buf.get_mut(at) {
            *b = if d < 10 { b'0' + d } else { b'a' + d - 10 };
        }
        v /= base;
        if v == 0 || at == 0 {
            break;
        }
    }
    for &b in buf.get(at..).unwrap_or(&[]) {
        crate::arch::console_putchar(b);
    }
}

/// Prints each argument in turn with [`Put`]: strings, integers (decimal),
/// [`Hex`]. No `core::fmt`: see the module documentation.
#[macro_export]
macro_rules! kput {
    ($($x:expr),* $(,)?) => {{ $( $crate::console::Put::put(&$x); )* }};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;

    #[test]
    fn kput_prints_as_format_does() {
        SimMachine::install(0x8000_0000, 1 << 20);
        let big = u64::MAX;
        kput!(
            "a ",
            0u64,
            " ",
            42u32,
            " ",
            Hex(0),
            " ",
            Hex(0x8020_0000),
            " ",
            big,
            " ",
            Hex(big),
            "\n"
        );
        let want = format!("a 0 42 0x0 0x80200000 {big} {big:#x}\r\n");
        assert_eq!(SimMachine::take_console(), want);
    }
}
