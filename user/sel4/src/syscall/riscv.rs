//! The `ecall` stub: seL4's RISC-V system-call register convention
//! (ABI ref §2).

use super::Regs;
use cairn_abi::syscall::SyscallNo;

/// Traps into the kernel with syscall number `sys` in `a7` and `r` in
/// `a0..a5`; returns `a0..a5` as the kernel left them.
#[inline(always)]
pub(crate) fn raw(sys: SyscallNo, r: Regs) -> Regs {
    let [mut a2, mut a3, mut a4, mut a5] = r.mr;
    let (mut a0, mut a1) = (r.a0, r.a1);
    // SAFETY: `ecall` from U-mode enters the seL4 kernel, which preserves
    // every register except the outputs declared here (a0..a5; ABI ref §2)
    // and returns to the next instruction. It does not use our stack. It may
    // read and write the IPC buffer, which Rust code only touches through
    // `ipc_buffer` (`with_ipc_buffer`, `BufferRef`), never holding a
    // reference to it across this asm block; the asm is not `nomem`, so the
    // compiler assumes memory may change.
    unsafe {
        core::arch::asm!(
            "ecall",
            inout("a0") a0,
            inout("a1") a1,
            inout("a2") a2,
            inout("a3") a3,
            inout("a4") a4,
            inout("a5") a5,
            in("a7") sys,
            options(nostack),
        );
    }
    Regs {
        a0,
        a1,
        mr: [a2, a3, a4, a5],
    }
}

/// MCS: [`raw`] that also passes `a6` (the reply object's cptr, or
/// NBSendWait's destination) and `t0` (NBSendRecv's destination); the
/// kernel preserves both (ABI ref §2, §13).
#[cfg(feature = "mcs")]
#[inline(always)]
pub(crate) fn raw_mcs(sys: SyscallNo, r: Regs, a6: u64, t0: u64) -> Regs {
    let [mut a2, mut a3, mut a4, mut a5] = r.mr;
    let (mut a0, mut a1) = (r.a0, r.a1);
    // SAFETY: as `raw`'s block: `ecall` enters the kernel, which preserves
    // every register but the outputs declared (a0..a5; a6 and t0 are only
    // read) and returns to the next instruction, without our stack; the
    // IPC buffer is not referenced across it and the asm is not `nomem`.
    unsafe {
        core::arch::asm!(
            "ecall",
            inout("a0") a0,
            inout("a1") a1,
            inout("a2") a2,
            inout("a3") a3,
            inout("a4") a4,
            inout("a5") a5,
            in("a6") a6,
            in("t0") t0,
            in("a7") sys,
            options(nostack),
        );
    }
    Regs {
        a0,
        a1,
        mr: [a2, a3, a4, a5],
    }
}
