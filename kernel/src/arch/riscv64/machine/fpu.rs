//! Copying the FPU registers (f0..f31, fcsr) between the hardware and a
//! thread's saved [`Registers`], for lazy FPU switching (`crate::fpu`
//! decides when). The kernel is soft-float, so these two functions are
//! the only kernel code that touches the FP registers; each first sets
//! `sstatus.FS` so that the FP instructions are legal in S-mode. The exit
//! to user mode writes the whole `sstatus` from the thread's saved word,
//! which is where the thread's own FS comes from.
#![allow(unsafe_code)]

#[cfg(doc)]
use crate::arch::riscv64::context::Registers;
use crate::arch::riscv64::context::{offset, REGISTER_WORDS};
use core::arch::asm;
use core::cell::Cell;

/// `sstatus.FS` = Initial, enough to make FP instructions legal.
const FS_ON: u64 = 1 << 13;

/// Stores the hardware FP registers and fcsr into `regs`.
pub fn fpu_save(regs: &[Cell<u64>; REGISTER_WORDS]) {
    let base = regs.as_ptr() as usize;
    // SAFETY: `regs` is a live array of REGISTER_WORDS `Cell` words
    // (single core); the stores go to its words
    // FPU_FIRST_WORD.. (offset::F ..= offset::FCSR), all inside it, and
    // writing through a shared `Cell` reference is allowed. Setting
    // sstatus.FS only makes FP instructions legal in the kernel.
    unsafe {
        asm!(
            "csrs sstatus, {fs}",
            ".option push",
            ".option arch, +d",
            ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
            "fsd f\\n, {f}+\\n*8({base})",
            ".endr",
            "frcsr {tmp}",
            ".option pop",
            "sd {tmp}, {fcsr}({base})",
            fs = in(reg) FS_ON,
            base = in(reg) base,
            tmp = out(reg) _,
            f = const offset::F,
            fcsr = const offset::FCSR,
            options(nostack),
        );
    }
}

/// Loads the hardware FP registers and fcsr from `regs`.
pub fn fpu_load(regs: &[Cell<u64>; REGISTER_WORDS]) {
    let base = regs.as_ptr() as usize;
    // SAFETY: as in `fpu_save`, the loads read words of `regs` only; the
    // FP registers are user state the kernel itself never uses.
    unsafe {
        asm!(
            "csrs sstatus, {fs}",
            ".option push",
            ".option arch, +d",
            ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
            "fld f\\n, {f}+\\n*8({base})",
            ".endr",
            "ld {tmp}, {fcsr}({base})",
            "fscsr {tmp}",
            ".option pop",
            fs = in(reg) FS_ON,
            base = in(reg) base,
            tmp = out(reg) _,
            f = const offset::F,
            fcsr = const offset::FCSR,
            options(nostack, readonly),
        );
    }
}
