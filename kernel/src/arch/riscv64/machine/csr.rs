//! Control and status registers, fences and `wfi`: one small function per
//! instruction so that the rest of the layer stays free of inline asm.
#![allow(unsafe_code)]

use core::arch::asm;

/// `sie`/`sip` bit of the supervisor timer interrupt.
pub const IRQ_TIMER: u64 = 1 << 5;
/// `sie`/`sip` bit of the supervisor external interrupt.
pub const IRQ_EXTERNAL: u64 = 1 << 9;

macro_rules! csr_read {
    ($name:ident, $csr:literal) => {
        #[doc = concat!("Reads `", $csr, "`.")]
        pub fn $name() -> u64 {
            let v: u64;
            // SAFETY: reading this CSR has no side effect in S-mode.
            unsafe { asm!(concat!("csrr {0}, ", $csr), out(reg) v, options(nomem, nostack)) };
            v
        }
    };
}

csr_read!(read_sip, "sip");
csr_read!(read_sie, "sie");
csr_read!(read_time, "time");
csr_read!(read_cycle, "cycle");
csr_read!(read_satp, "satp");

/// Whether an enabled timer or external interrupt is pending (for
/// preemption points in long operations).
pub fn interrupt_pending() -> bool {
    read_sip() & read_sie() & (IRQ_TIMER | IRQ_EXTERNAL) != 0
}

/// Sets bits in `sie` (interrupts stay globally off in the kernel:
/// `sstatus.SIE` is 0 there).
pub fn set_sie(bits: u64) {
    // SAFETY: enabling interrupt sources cannot trap while sstatus.SIE = 0;
    // they are taken only in U-mode or seen by polling `sip`.
    unsafe { asm!("csrs sie, {0}", in(reg) bits, options(nomem, nostack)) };
}

/// Writes `scounteren` (which counters U-mode may read).
pub fn write_scounteren(v: u64) {
    // SAFETY: only changes which counters user mode may read.
    unsafe { asm!("csrw scounteren, {0}", in(reg) v, options(nomem, nostack)) };
}

/// Writes `stimecmp` (Sstc): the next timer interrupt at `time` = `v`;
/// this also clears a pending one. Only called when the hart has Sstc
/// (`Platform::sstc`), which the firmware then enables for S-mode.
pub fn write_stimecmp(v: u64) {
    // SAFETY: the caller has checked that the hart has Sstc, so the CSR
    // exists; writing it only sets when the timer interrupt is raised.
    unsafe { asm!("csrw 0x14d, {0}", in(reg) v, options(nomem, nostack)) };
}

/// Writes `satp`. The caller passes a root whose entries 256..512 are the
/// kernel's (every VSpace root gets them), so the kernel stays mapped.
pub fn write_satp(v: u64) {
    // SAFETY: the kernel half of every root table equals the boot table's,
    // so the code, stack and data the kernel is using stay mapped.
    unsafe { asm!("csrw satp, {0}", in(reg) v, options(nostack)) };
}

/// `sfence.vma` of everything.
pub fn sfence_vma_all() {
    // SAFETY: a TLB flush has no effect on memory contents.
    unsafe { asm!("sfence.vma", options(nostack)) };
}

/// `sfence.vma vaddr, asid`: orders the page-table writes made so far
/// before later translations of `vaddr` in address space `asid` and drops
/// the TLB entries for that leaf (global entries are not affected).
pub fn sfence_vma_page(vaddr: u64, asid: u64) {
    // SAFETY: a TLB flush has no effect on memory contents.
    unsafe { asm!("sfence.vma {0}, {1}", in(reg) vaddr, in(reg) asid, options(nostack)) };
}

/// `sfence.vma vaddr, x0`: drops the TLB entries for `vaddr` in every
/// address space.
pub fn sfence_vma_vaddr(vaddr: u64) {
    // SAFETY: a TLB flush has no effect on memory contents.
    unsafe { asm!("sfence.vma {0}, x0", in(reg) vaddr, options(nostack)) };
}

/// `sfence.vma x0, asid`: as [`sfence_vma_page`] for every address of
/// `asid`, intermediate (non-leaf) entries included.
pub fn sfence_vma_asid(asid: u64) {
    // SAFETY: a TLB flush has no effect on memory contents.
    unsafe { asm!("sfence.vma x0, {0}", in(reg) asid, options(nostack)) };
}

/// Waits for an interrupt (returns at once if one is pending and enabled
/// in `sie`; with `sstatus.SIE` = 0 it is not taken as a trap).
pub fn wfi() {
    // SAFETY: `wfi` is a hint; it has no architectural side effect.
    unsafe { asm!("wfi", options(nomem, nostack)) };
}
