//! The monitor of a Cairn system (docs/system.md, "The monitor"): the
//! image builder adds it to every system, at priority 255, above every
//! PD. It waits on its endpoint for two things:
//!
//! - the fault of a top-level PD (its fault handler is this endpoint,
//!   badged with the PD's index + 1): it prints the PD's name, from the
//!   table the image builder writes into `__cairn_monitor_names`, and
//!   the fault, and leaves the PD stopped, as Microkit's monitor does;
//! - under MCS, the timeout fault of a top-level PD whose budget is less
//!   than its period: it prints that the PD ran out of budget (the 1st,
//!   2nd, 4th, 8th, ... time) and lets it go on at its next release;
//! - under MCS, a passive PD's word that its `init` is done (the badge
//!   has the top bit): it unbinds the PD's scheduling context from the
//!   PD's thread, binds it to the PD's notification, and checks with the
//!   kernel that the thread has none left.
//!
//! It has no unsafe code; the names table is a static the compiler reads
//! from memory (atomics), as the SDK's setvars.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use cairn_microkit::sel4::{self, abi::fault, Message};
use cairn_microkit::{entry, memory_region};

memory_region!(
    /// The UART (an NS16550A), mapped by the tool at the address it writes
    /// here (`cairn_system::layout::MONITOR_UART`; 0: not mapped, print
    /// through the kernel). The monitor writes its reports there itself, so
    /// that they show on a kernel without `seL4_DebugPutChar` (`debug=off`)
    /// too, as Microkit's monitor has its own UART output.
    UART = "__cairn_monitor_uart", 8
);
/// Transmit holding register.
const THR: usize = 0;
/// Line status register, and its "transmit holding register empty" bit.
const LSR: usize = 5;
const LSR_THRE: u8 = 1 << 5;
/// Polls of LSR before a byte is written anyway (a UART that never says
/// it is ready must not hang the monitor).
const READY_POLLS: u32 = 100_000;

/// The monitor's console: the UART when it is mapped, else the kernel's
/// debug console (through the SDK).
struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if UART.vaddr() == 0 {
            cairn_microkit::_print(format_args!("{s}"));
            return Ok(());
        }
        for b in s.bytes() {
            let mut polls = 0;
            while UART.read_u8(LSR) & LSR_THRE == 0 && polls < READY_POLLS {
                polls += 1;
            }
            UART.write_u8(THR, b);
        }
        Ok(())
    }
}

/// `println!` through [`Console`].
macro_rules! println {
    ($($arg:tt)*) => {{
        // Writing to the console cannot fail.
        let _ = core::fmt::Write::write_fmt(
            &mut Console,
            format_args!("{}\n", format_args!($($arg)*)),
        );
    }};
}

/// The PDs' names, each followed by a zero byte, badge 1 first
/// (`cairn_system::layout::MONITOR_NAMES`, 4096 bytes).
#[export_name = "__cairn_monitor_names"]
static NAMES: [AtomicU8; 4096] = [const { AtomicU8::new(0) }; 4096];

/// Its endpoint (layout `INPUT`).
const INPUT: sel4::Endpoint = sel4::Endpoint::from_bits(1);
/// Its reply object (MCS; layout `REPLY`).
#[cfg(sel4_mcs)]
const REPLY: sel4::Reply = sel4::Reply::from_bits(4);
/// A passive PD's request (layout `PASSIVE_BADGE`).
const PASSIVE_BADGE: u64 = 1 << 63;
/// Passive PD `i`'s scheduling context, thread and notification are at
/// `MON_BASE + 3 i` (+ 0, 1, 2) (layout `MON_BASE`).
#[cfg_attr(not(sel4_mcs), allow(dead_code))]
const MON_BASE: u64 = 16;

/// How many timeout faults each PD (by badge - 1) had: the monitor
/// reports the 1st, 2nd, 4th, 8th, ... of each, so that a PD that runs
/// out of budget in every period does not flood the console.
static TIMEOUTS: [AtomicU32; 2048] = [const { AtomicU32::new(0) }; 2048];

/// Counts a timeout fault of the PD with `badge`; returns its number
/// (1 for a PD beyond the table: always reported).
fn count_timeout(badge: u64) -> u32 {
    match TIMEOUTS.get((badge as usize).wrapping_sub(1)) {
        Some(c) => c.fetch_add(1, Ordering::Relaxed).saturating_add(1),
        None => 1,
    }
}

/// The name of the PD with `badge` (its index + 1).
fn with_name(badge: u64, f: impl FnOnce(&str)) {
    let mut buf = [0u8; 64];
    let mut len = 0;
    let mut seen = 1;
    for b in NAMES.iter().map(|b| b.load(Ordering::Relaxed)) {
        if b == 0 {
            if seen == badge {
                break;
            }
            seen += 1;
            len = 0;
            continue;
        }
        if seen == badge && len < buf.len() {
            buf[len] = b;
            len += 1;
        }
    }
    match core::str::from_utf8(&buf[..len]) {
        Ok(name) if seen == badge && len > 0 => f(name),
        _ => f("?"),
    }
}

/// Prints the fault `msg` of the PD with `badge`.
fn report(badge: u64, msg: &Message) {
    with_name(badge, |name| match msg.label() {
        fault::VM_FAULT => println!(
            "monitor: '{name}' faulted: VM fault at address {:#x}, pc {:#x}, {} (cause {})",
            msg.mr(fault::vm_fault::ADDR),
            msg.mr(fault::vm_fault::IP),
            if msg.mr(fault::vm_fault::PREFETCH_FAULT) != 0 {
                "instruction fetch"
            } else {
                "data access"
            },
            msg.mr(fault::vm_fault::FSR)
        ),
        fault::CAP_FAULT => println!(
            "monitor: '{name}' faulted: cap fault on cptr {:#x}, pc {:#x}",
            msg.mr(fault::cap_fault::ADDR),
            msg.mr(fault::cap_fault::IP)
        ),
        fault::UNKNOWN_SYSCALL => println!(
            "monitor: '{name}' faulted: unknown system call {}, pc {:#x}",
            msg.mr(fault::unknown_syscall::SYSCALL),
            msg.mr(fault::unknown_syscall::FAULT_IP)
        ),
        fault::USER_EXCEPTION => println!(
            "monitor: '{name}' faulted: user exception {} (code {}), pc {:#x}",
            msg.mr(fault::user_exception::NUMBER),
            msg.mr(fault::user_exception::CODE),
            msg.mr(fault::user_exception::FAULT_IP)
        ),
        other => println!("monitor: '{name}' faulted: fault type {other}"),
    });
}

/// Makes the PD with `badge` passive: its scheduling context goes from
/// its thread to its notification.
#[cfg(sel4_mcs)]
fn make_passive(badge: u64) {
    let at = MON_BASE + 3 * (badge - 1);
    let sc = sel4::SchedContext(sel4::CPtr(at));
    let (tcb, ntfn) = (sel4::CPtr(at + 1), sel4::CPtr(at + 2));
    let unbound = sc.unbind_object(tcb);
    let bound = unbound.and_then(|()| sc.bind(ntfn));
    // The kernel's word that the thread has no scheduling context now: it
    // refuses to unbind one that is not bound to it.
    let gone = sc.unbind_object(tcb) == Err(sel4::Error::IllegalOperation);
    with_name(badge, |name| {
        match bound {
        Ok(()) if gone => println!(
            "monitor: '{name}' is passive: its scheduling context left its thread for its notification"
        ),
        r => println!("monitor: '{name}' could not be made passive: {r:?}, thread still bound: {}", !gone),
    }
    });
}

/// The classic kernel has no scheduling contexts (the tool refuses
/// passive PDs there).
#[cfg(not(sel4_mcs))]
fn make_passive(badge: u64) {
    with_name(badge, |name| {
        println!("monitor: '{name}' asked to be passive, which needs the MCS kernel")
    });
}

fn recv() -> (u64, Message) {
    #[cfg(sel4_mcs)]
    return INPUT.recv(REPLY);
    #[cfg(not(sel4_mcs))]
    INPUT.recv()
}

/// Answers the timeout fault just received with an empty message of
/// label 0, which lets the PD go on where it was once its budget is
/// replenished (seL4 then puts it in the release queue), then waits.
#[cfg(sel4_mcs)]
fn resume_and_recv() -> (u64, Message) {
    INPUT.reply_recv(&Message::empty(0), REPLY)
}

/// The classic kernel raises no timeout faults.
#[cfg(not(sel4_mcs))]
fn resume_and_recv() -> (u64, Message) {
    recv()
}

fn main() {
    let (mut badge, mut msg) = recv();
    loop {
        if badge & PASSIVE_BADGE != 0 {
            make_passive(badge & !PASSIVE_BADGE);
        } else if cairn_microkit::is_timeout_fault(&msg) {
            // Only a PD whose budget is less than its period has the
            // monitor as its timeout handler (the tool's rule): it is
            // told, and the PD goes on at its release, as it would
            // without a handler.
            let n = count_timeout(badge);
            if n.is_power_of_two() {
                with_name(badge, |name| {
                    println!(
                        "monitor: '{name}' ran out of budget ({} us consumed; {n} time{} so far)",
                        // seL4_Timeout_Consumed.
                        msg.mr(1),
                        if n == 1 { "" } else { "s" }
                    )
                });
            }
            (badge, msg) = resume_and_recv();
            continue;
        } else {
            // The PD stays stopped: no reply (under MCS the next receive
            // takes the reply object from it).
            report(badge, &msg);
        }
        (badge, msg) = recv();
    }
}

entry!(main);
