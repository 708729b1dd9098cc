//! `cairn_microkit`: the SDK of protection domains (PDs) that the Cairn
//! CapDL loader (`user/loader`) starts, with seL4 Microkit's programming
//! model (issue 14, item 5), on stable Rust.
//!
//! A PD is a small `no_std` crate: it declares its memory regions with
//! [`memory_region!`] (their addresses are set by the system tool from the
//! description's `setvar_vaddr`), implements [`Handler`] (`notified`,
//! `protected`) and names its `init` with [`protection_domain!`]. It talks
//! to the others through [`Channel`]: [`Channel::notify`],
//! [`Channel::ppcall`], [`Channel::irq_ack`]. It needs no unsafe code of
//! its own.
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use cairn_microkit::{protection_domain, Channel, Handler};
//! struct Pd;
//! impl Handler for Pd {
//!     fn notified(&mut self, channel: Channel) { channel.notify() }
//! }
//! fn init() -> Pd { Pd }
//! protection_domain!(init);
//! ```
//!
//! Start-up: the loader enters `_start` with `sp` at the top of the stack
//! the description gave the PD and `a0` = the address of its IPC buffer;
//! `_start` sets `gp`, records the IPC buffer and runs the PD. Output goes
//! through `seL4_DebugPutChar` ([`println!`]). Capabilities are where
//! `cairn-system`'s CSpace layout (`tools/system/src/layout.rs`, Microkit's
//! own) puts them.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub use sel4;
pub use sel4::Message;

mod channel;
mod ipc;
mod region;
#[cfg(all(target_arch = "riscv64", target_os = "none"))]
mod start;

pub use channel::{
    channels, group_cap, irq_cap, notify_cap, ppc_cap, summary_cap, Channel, MAX_CHANNEL,
    MAX_NOTIFY_BIT,
};
pub use ipc::is_passive;
pub use region::{MemoryRegion, SetVar};

use sel4::{CPtr, Endpoint, Notification};

/// The PD's endpoint, or its notification when nobody calls it (layout
/// `INPUT`): `seL4_Recv` on either waits for the PD's next event.
pub const INPUT: Endpoint = Endpoint(CPtr(1));
/// The PD's notification when it has no endpoint (same slot as [`INPUT`]).
pub const INPUT_NOTIFICATION: Notification = Notification(CPtr(1));
/// Badge bit of a protected call (`cairn_system::layout::PPC_BADGE`).
pub const PPC_BADGE: u64 = 1 << 63;
/// Badge bit of a child's fault (`cairn_system::layout::FAULT_BADGE`).
pub const FAULT_BADGE: u64 = 1 << 62;

/// A child PD of this one, by its `id` in the description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Child(u64);

/// Where a PD built on the SDK starts: the link script
/// (`DEP_CAIRN_MICROKIT_LINK_LD`) puts `_start` first at 0x10000.
pub const ENTRY: u64 = 0x10000;
/// The stack pointer a PD starts with (`cairn_system::layout::STACK_TOP`).
pub const STACK_TOP: u64 = 0x3f_ffff_d000;
/// The IPC buffer's address, `a0` at start (`layout::IPC_BUFFER_VADDR`).
pub const IPC_BUFFER_VADDR: u64 = 0x3f_ffff_e000;
/// The parent's cap to child `id`'s TCB is in slot `BASE_CHILD_TCB + id`
/// (`layout::BASE_CHILD_TCB`).
pub const BASE_CHILD_TCB: u64 = 202;
/// Registers `seL4_TCB_WriteRegisters` writes for a restart: pc to a0,
/// in `seL4_UserContext` order.
const REGS_TO_A0: u64 = 17;

impl Child {
    /// The child with this id, if it is one (ids 0 to 61).
    pub const fn new(id: u64) -> Option<Child> {
        if id <= 61 {
            Some(Child(id))
        } else {
            None
        }
    }

    /// The id.
    pub const fn index(self) -> u64 {
        self.0
    }

    /// The child's TCB, held by its parent (Microkit's layout).
    pub const fn tcb(self) -> sel4::Tcb {
        sel4::Tcb(CPtr(BASE_CHILD_TCB + self.0))
    }

    /// Restarts the child from its beginning ([`ENTRY`], its start-up
    /// stack pointer and IPC buffer), as a new run of its program; its
    /// memory is left as it is (variables keep their values, as with
    /// Microkit's `microkit_pd_restart`). A child stopped in a fault
    /// gives up the fault: the parent's [`Handler::fault`] then returns
    /// `None` (no reply). Errors are the kernel's (`TCB_WriteRegisters`).
    pub fn restart(self) -> Result<(), sel4::Error> {
        self.restart_at(ENTRY)
    }

    /// Restarts the child at `entry` (Microkit's `microkit_pd_restart`),
    /// with its start-up stack pointer and IPC buffer.
    pub fn restart_at(self, entry: u64) -> Result<(), sel4::Error> {
        let mut regs = sel4::UserContext {
            pc: entry,
            sp: STACK_TOP,
            ..sel4::UserContext::default()
        };
        regs.a[0] = IPC_BUFFER_VADDR;
        self.tcb().write_registers(true, 0, REGS_TO_A0, &regs)
    }

    /// Stops the child (`TCB_Suspend`; Microkit's `microkit_pd_stop`).
    pub fn stop(self) -> Result<(), sel4::Error> {
        self.tcb().suspend()
    }
}

/// Whether a fault message is a timeout fault (MCS: a budget ran out; the
/// classic kernel raises none, and its label 5 is a VM fault).
pub fn is_timeout_fault(msg: &Message) -> bool {
    #[cfg(sel4_mcs)]
    return msg.label() == sel4::abi::fault::TIMEOUT;
    #[cfg(not(sel4_mcs))]
    {
        let _ = msg;
        false
    }
}

/// What a PD does when something happens to it; `init` (named with
/// [`protection_domain!`]) returns it.
pub trait Handler {
    /// A notification (or interrupt) arrived on `channel`.
    fn notified(&mut self, channel: Channel) {
        let _ = channel;
    }

    /// A protected call on `channel`; the returned message is the answer.
    /// The default answers an empty message with label 1 (an error: the PD
    /// offers no protected procedure).
    fn protected(&mut self, channel: Channel, msg: &Message) -> Message {
        let _ = (channel, msg);
        Message::new(1, &[], &[])
    }

    /// Child `child` faulted; `msg` is seL4's fault message (its label
    /// the fault type, `sel4::abi::fault`; under MCS a child whose budget
    /// is less than its period also sends its timeout faults here, label
    /// `TIMEOUT`). `Some(reply)` resumes the child with that reply (for a
    /// timeout fault, `Message::empty(0)` lets it go on at its next
    /// release); the default, `None`, leaves it stopped, and so does
    /// [`Child::restart`] followed by `None`.
    fn fault(&mut self, child: Child, msg: &Message) -> Option<Message> {
        let _ = (child, msg);
        None
    }
}

/// Microkit's event loop: waits on the PD's input, hands each protected
/// call to [`Handler::protected`] and replies, each child's fault to
/// [`Handler::fault`], and each notification bit to
/// [`Handler::notified`], lowest channel first (in a PD with more than
/// 62 channels, those of its extra notifications after the others).
/// Under MCS it receives and replies with the PD's reply object, and a
/// passive PD first hands its scheduling context over (`ipc`).
pub fn run<H: Handler>(mut handler: H) -> ! {
    let (mut badge, mut msg) = ipc::first_recv();
    loop {
        if badge & PPC_BADGE != 0 {
            let ch = Channel::from_badge(badge & !PPC_BADGE);
            let reply = handler.protected(ch, &msg);
            (badge, msg) = ipc::reply_recv(&reply);
        } else if badge & FAULT_BADGE != 0 {
            match handler.fault(Child(badge & 63), &msg) {
                Some(reply) => (badge, msg) = ipc::reply_recv(&reply),
                None => (badge, msg) = ipc::recv(),
            }
        } else {
            channel::deliver(badge, |c| handler.notified(c));
            (badge, msg) = ipc::recv();
        }
    }
}

/// 1 when the kernel has no `seL4_DebugPutChar` (`debug=off`;
/// `layout::SDK_QUIET`, set by the image builder): [`println!`] then
/// prints nothing, instead of a system call the kernel does not know
/// (which would be a fault).
#[export_name = "__cairn_microkit_quiet"]
static QUIET: SetVar = SetVar::new();

/// Console output through `seL4_DebugPutChar` (nothing on a kernel
/// without it).
pub struct DebugConsole;

impl core::fmt::Write for DebugConsole {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if QUIET.get() == 0 {
            sel4::debug::put_str(s);
        }
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

/// Names the PD's `init`, a `fn() -> impl Handler`: the SDK runs it once
/// at start-up, then [`run`]s the handler it returns.
#[macro_export]
macro_rules! protection_domain {
    ($init:path) => {
        fn __cairn_microkit_pd() {
            $crate::run($init())
        }
        $crate::entry!(__cairn_microkit_pd);
    };
}

/// Declares a PD's start-up function, a `fn()`, called once (below
/// [`protection_domain!`], for a PD with its own loop).
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The PD's entry, called by `cairn_microkit`'s start-up code.
        #[no_mangle]
        fn __cairn_microkit_main() {
            let main: fn() = $main;
            main()
        }
    };
}

#[cfg(test)]
mod tests;
