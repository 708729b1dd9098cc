//! `cairn_pd`: the runtime of a protection domain (PD) that the CapDL
//! loader (`user/loader`) starts, the first piece of the PD SDK (issue 14,
//! item 5).
//!
//! The loader starts a PD's thread at its ELF entry `_start` with `sp` at
//! the top of the stack the system description gave it and `a0` = the
//! address of its IPC buffer (the spec's TCB `addr`). `_start` sets `gp`,
//! records the IPC buffer and calls the PD's `main`, declared with
//! [`entry!`]; if `main` returns the thread waits forever on its
//! notification. Output goes through `seL4_DebugPutChar` ([`println!`]).
//!
//! Capabilities are where `cairn-system`'s CSpace layout puts them (as in
//! seL4 Microkit): [`INPUT`] (the PD's endpoint or notification), a
//! notification for channel `id` at [`notify_cap`]`(id)`, a protected
//! call at [`ppc_cap`]`(id)`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub use sel4;

#[cfg(all(target_arch = "riscv64", target_os = "none"))]
mod start;

use sel4::{CPtr, Endpoint, Notification};

/// The PD's endpoint, or its notification when nobody calls it.
pub const INPUT: Endpoint = Endpoint(CPtr(1));
/// The PD's notification when it has no endpoint (same slot as [`INPUT`]).
pub const INPUT_NOTIFICATION: Notification = Notification(CPtr(1));
/// Badge bit of a protected call (`cairn_system::layout::PPC_BADGE`).
pub const PPC_BADGE: u64 = 1 << 63;

/// The notification cap for channel `id` (layout `BASE_NOTIFY + id`).
pub const fn notify_cap(id: u64) -> Notification {
    Notification(CPtr(10 + id))
}

/// The endpoint cap of the protected call on channel `id` (layout
/// `BASE_PPC + id`).
pub const fn ppc_cap(id: u64) -> Endpoint {
    Endpoint(CPtr(74 + id))
}

/// The channels whose bits are set in a notification badge.
pub fn channels(badge: u64) -> impl Iterator<Item = u64> {
    (0..62).filter(move |i| badge & (1 << i) != 0)
}

/// Console output through `seL4_DebugPutChar`.
pub struct DebugConsole;

impl core::fmt::Write for DebugConsole {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        sel4::debug::put_str(s);
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: core::fmt::Arguments<'_>) {
    // Writing to the debug console cannot fail.
    let _ = core::fmt::Write::write_fmt(&mut DebugConsole, args);
}

/// Prints a line to the kernel's debug console.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => { $crate::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Declares the PD's `main`, a `fn()`, called once at start-up.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The PD's entry, called by `cairn_pd`'s start-up code.
        #[no_mangle]
        fn __cairn_pd_main() {
            let main: fn() = $main;
            main()
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn channels_of_a_badge() {
        let v: std::vec::Vec<u64> = super::channels((1 << 61) | 0b101 | (1 << 63)).collect();
        assert_eq!(v, [0, 2, 61]);
    }
}
