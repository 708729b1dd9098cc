//! Calls to the SBI firmware (OpenSBI): console output, the timer and
//! system reset. Extension IDs from the RISC-V SBI specification: legacy
//! console_putchar 0x01, set_timer 0x00, shutdown 0x08; TIME
//! (0x54494D45), SRST (0x53525354), base probe_extension (0x10, fid 3).
#![allow(unsafe_code)]

use core::arch::asm;

const EID_LEGACY_SET_TIMER: u64 = 0x00;
const EID_LEGACY_PUTCHAR: u64 = 0x01;
const EID_LEGACY_SHUTDOWN: u64 = 0x08;
const EID_BASE: u64 = 0x10;
const EID_TIME: u64 = 0x5449_4D45;
const EID_SRST: u64 = 0x5352_5354;
const FID_PROBE_EXTENSION: u64 = 3;

/// One SBI call: returns (error, value) from (a0, a1).
fn call(eid: u64, fid: u64, arg0: u64, arg1: u64) -> (i64, u64) {
    let (err, val): (i64, u64);
    // SAFETY: an `ecall` from S-mode enters the SBI firmware, which by the
    // SBI calling convention preserves every register but a0 and a1.
    unsafe {
        asm!("ecall",
            inlateout("a0") arg0 => err,
            inlateout("a1") arg1 => val,
            in("a6") fid,
            in("a7") eid,
            options(nostack))
    };
    (err, val)
}

/// Writes one byte to the SBI console. A failure has nowhere to be
/// reported (this is the console), so the firmware's error is not read.
pub fn console_putchar(c: u8) {
    call(EID_LEGACY_PUTCHAR, 0, c as u64, 0);
}

/// Whether the firmware implements extension `eid`.
pub fn probe(eid: u64) -> bool {
    let (err, val) = call(EID_BASE, FID_PROBE_EXTENSION, eid, 0);
    err == 0 && val != 0
}

/// Whether the TIME extension is present.
pub fn has_time_extension() -> bool {
    probe(EID_TIME)
}

/// Programs the next timer interrupt at absolute time `stime` (timebase
/// units); this also clears a pending timer interrupt. The SBI
/// specification defines no error for either call (any `stime` is valid),
/// so there is no result to read.
pub fn set_timer(stime: u64, time_extension: bool) {
    if time_extension {
        call(EID_TIME, 0, stime, 0);
    } else {
        call(EID_LEGACY_SET_TIMER, 0, stime, 0);
    }
}

/// Shuts the system down (reason "none" on success, "system failure"
/// otherwise), falling back to the legacy shutdown call. Returns only if
/// the firmware ignored both; either call returns only when it failed, so
/// its error says nothing more than that it returned.
pub fn system_reset(success: bool) {
    let reason = if success { 0 } else { 1 };
    // SRST: type 0 = shutdown.
    call(EID_SRST, 0, 0, reason);
    call(EID_LEGACY_SHUTDOWN, 0, 0, 0);
}
