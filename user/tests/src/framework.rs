//! A tiny test framework for a root task: a static list of named tests,
//! each a `fn(&Ctx) -> TestResult`, run in order. Each prints `start
//! <name>`, then exactly one line, `test <name> ... ok` or `test <name>
//! ... FAILED: <reason>`; then a closing `conformance: N passed, M
//! failed`. No heap: a failure reason is formatted into a fixed buffer.
//!
//! A test checks what the kernel prints (a debug kernel's messages) with
//! [`expect_console!`]: the harness (`xtask/src/harness.rs`) then fails the
//! test unless a later line before its result line contains the text.

use cairn_rt::println;
use core::fmt;
use sel4::BootInfo;

/// What every test gets: the boot information and the facts the runtime
/// recorded before `main`.
pub struct Ctx<'a> {
    /// The BootInfo view.
    pub bi: &'a BootInfo<'a>,
    /// The BootInfo address the kernel passed in `a0`.
    pub bootinfo_addr: u64,
    /// `__executable_start`.
    pub image_start: u64,
    /// `_end`.
    pub image_end: u64,
}

/// Why a test failed: a formatted message, truncated to fit.
pub struct Failure {
    buf: [u8; 240],
    len: usize,
}

impl Failure {
    /// Formats `args` into a new failure.
    pub fn new(args: fmt::Arguments<'_>) -> Self {
        let mut f = Failure {
            buf: [0; 240],
            len: 0,
        };
        // Failure's writer never fails; it truncates.
        let _ = fmt::Write::write_fmt(&mut f, args);
        f
    }

    /// The message.
    pub fn as_str(&self) -> &str {
        let bytes = self.buf.get(..self.len).unwrap_or(&[]);
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            // Truncation cut a character: keep the valid prefix.
            Err(e) => {
                core::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or("")
            }
        }
    }
}

impl fmt::Write for Failure {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for (dst, src) in self.buf.iter_mut().skip(self.len).zip(s.bytes()) {
            *dst = src;
            self.len += 1;
        }
        Ok(())
    }
}

/// A test's outcome.
pub type TestResult = Result<(), Failure>;

/// A named test.
pub struct Test {
    /// Printed name: `<topic>_<behaviour>`.
    pub name: &'static str,
    /// The test.
    pub run: fn(&Ctx<'_>) -> TestResult,
}

/// Fails the current test with a formatted reason.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::framework::Failure::new(format_args!($($arg)*)))
    };
}

/// Fails the current test unless `cond` holds.
#[macro_export]
macro_rules! check {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::fail!($($arg)*);
        }
    };
}

/// Fails the current test unless `got == expected`, naming `what`.
#[macro_export]
macro_rules! check_eq {
    ($got:expr, $expected:expr, $what:expr) => {{
        let (got, expected) = (&$got, &$expected);
        if got != expected {
            $crate::fail!("{}: got {:#x?}, expected {:#x?}", $what, got, expected);
        }
    }};
}

/// Requires a console line containing the formatted text later in this
/// test's output (printed as `expect console: <text>`; see the module
/// doc). Print it before doing what makes the kernel print the line.
#[macro_export]
macro_rules! expect_console {
    ($($arg:tt)*) => {
        cairn_rt::println!("expect console: {}", format_args!($($arg)*))
    };
}

/// Runs every test of every suite; returns (passed, failed).
pub fn run_all(ctx: &Ctx<'_>, suites: &[&[Test]]) -> (u32, u32) {
    let (mut passed, mut failed) = (0, 0);
    for test in suites.iter().flat_map(|s| s.iter()) {
        // A line of its own first, so that a test that hangs or crashes is
        // identifiable and kernel messages during the test (e.g. about a
        // thread without a fault handler) do not split its result line.
        println!("start {}", test.name);
        match (test.run)(ctx) {
            Ok(()) => {
                passed += 1;
                println!("test {} ... ok", test.name);
            }
            Err(f) => {
                failed += 1;
                println!("test {} ... FAILED: {}", test.name, f.as_str());
            }
        }
    }
    println!("conformance: {passed} passed, {failed} failed");
    (passed, failed)
}
