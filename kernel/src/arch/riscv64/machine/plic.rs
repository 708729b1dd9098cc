//! The platform-level interrupt controller (ABI ref §12): the kernel uses
//! one context, hart 0's S-mode (context 1 on QEMU `virt`, taken from the
//! device tree). Every source gets priority 2 and starts disabled; the
//! threshold is 0. An interrupt is claimed and completed at once (the QEMU
//! quirk seL4 follows too) and then handed to the generic code, which masks
//! the line until user space acknowledges it.
#![allow(unsafe_code)]

use super::machine;
use crate::arch::platform::PlicInfo;
use crate::types::PAddr;

const PRIORITY_BASE: u64 = 0x0;
const ENABLE_BASE: u64 = 0x2000;
const ENABLE_STRIDE: u64 = 0x80;
const CONTEXT_BASE: u64 = 0x20_0000;
const CONTEXT_STRIDE: u64 = 0x1000;
const CLAIM_OFFSET: u64 = 4;

fn plic() -> Option<PlicInfo> {
    machine().and_then(|m| m.platform.plic)
}

/// Pointer to the 32-bit PLIC register at `offset`, if inside the block.
fn reg(p: &PlicInfo, offset: u64) -> Option<*mut u32> {
    if offset + 4 > p.reg.len() {
        return None;
    }
    Some(super::paddr_to_kptr(PAddr(p.reg.start + offset)) as *mut u32)
}

fn write(p: &PlicInfo, offset: u64, v: u32) {
    if let Some(r) = reg(p, offset) {
        // SAFETY: `r` is a register inside the PLIC block the device tree
        // describes, mapped by the physical-memory window; MMIO needs
        // volatile access.
        unsafe { r.write_volatile(v) }
    }
}

fn read(p: &PlicInfo, offset: u64) -> u32 {
    match reg(p, offset) {
        // SAFETY: as in `write`.
        Some(r) => unsafe { r.read_volatile() },
        None => 0,
    }
}

fn enable_word(p: &PlicInfo, irq: u32) -> u64 {
    ENABLE_BASE + ENABLE_STRIDE * p.context as u64 + 4 * (irq / 32) as u64
}

fn context_reg(p: &PlicInfo, offset: u64) -> u64 {
    CONTEXT_BASE + CONTEXT_STRIDE * p.context as u64 + offset
}

/// Sets every source's priority to 2, disables them all, threshold 0.
pub fn init() {
    let Some(p) = plic() else { return };
    for irq in 1..=p.ndev {
        write(&p, PRIORITY_BASE + 4 * irq as u64, 2);
    }
    for word in 0..=p.ndev / 32 {
        write(&p, enable_word(&p, word * 32), 0);
    }
    write(&p, context_reg(&p, 0), 0);
}

/// Sets or clears source `irq`'s enable bit; the PLIC, if `irq` is one
/// of its sources.
fn set_enable(irq: u32, on: bool) -> Option<PlicInfo> {
    let p = plic()?;
    if irq == 0 || irq > p.ndev {
        return None;
    }
    let off = enable_word(&p, irq);
    let bit = 1u32 << (irq % 32);
    let v = read(&p, off);
    write(&p, off, if on { v | bit } else { v & !bit });
    Some(p)
}

/// Unmasks source `irq` (1..=ndev; others are ignored), and makes the
/// PLIC look again at what is pending: a source whose device raised its
/// line while it was masked is signalled now.
///
/// A PLIC is to signal a pending source as soon as it is enabled, but
/// QEMU's (`hw/intc/sifive_plic.c`, 7.2) only stores an enable word: it
/// re-evaluates its outputs on a write to a source's priority, to a
/// context's threshold or claim/complete register, or on a device's line
/// changing. Without the second write an interrupt raised while masked
/// is lost until some other source changes (docs/mcs.md, "What it
/// found"). Writing the threshold back with the value it always holds
/// (0, set in [`init`]) changes nothing on a PLIC that needs no help.
pub fn plic_enable(irq: u32) {
    if let Some(p) = set_enable(irq, true) {
        write(&p, context_reg(&p, 0), 0);
    }
}

/// Masks source `irq` (1..=ndev; others are ignored).
pub fn plic_disable(irq: u32) {
    let _ = set_enable(irq, false);
}

/// Claims the highest-priority pending source and completes it at once;
/// returns it (None if nothing is pending).
pub fn claim_and_complete() -> Option<u32> {
    let p = plic()?;
    let irq = read(&p, context_reg(&p, CLAIM_OFFSET));
    if irq == 0 {
        return None;
    }
    write(&p, context_reg(&p, CLAIM_OFFSET), irq);
    Some(irq)
}
