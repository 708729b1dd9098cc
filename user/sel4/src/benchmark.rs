//! The benchmark system calls of a kernel built with `benchmark=on`
//! (seL4's `KernelBenchmarks = generic`, ABI ref §14), and the cycle
//! counter benchmarks read.
//!
//! Cairn's kernel measures how late it takes its timer interrupt;
//! [`reset_log`] starts a measurement and [`finalize_log`] ends it, the
//! kernel printing the figures on its console (see `kernel/src/bench.rs`).

use crate::syscall::{raw, Regs};
use cairn_abi::syscall as nr;
use cairn_abi::Word;

/// `seL4_BenchmarkResetLog`: starts a new measurement; returns the kernel's
/// status word (0, seL4_NoError).
pub fn reset_log() -> Word {
    raw(nr::SYS_BENCHMARK_RESET_LOG, Regs::default()).a0
}

/// `seL4_BenchmarkFinalizeLog`: ends the measurement; returns the log
/// index (0: the generic configuration has no log buffer).
pub fn finalize_log() -> Word {
    raw(nr::SYS_BENCHMARK_FINALIZE_LOG, Regs::default()).a0
}

/// `seL4_BenchmarkNullSyscall`: enters and leaves the kernel.
pub fn null_syscall() {
    raw(nr::SYS_BENCHMARK_NULL_SYSCALL, Regs::default());
}

/// The `cycle` counter (`rdcycle`; user access needs the kernel's
/// `user-cycle-counter` option). Under `qemu -icount shift=0` it counts
/// instructions. 0 on the host.
#[inline(always)]
pub fn cycles() -> u64 {
    #[cfg(target_arch = "riscv64")]
    {
        let c: u64;
        // SAFETY: `rdcycle` reads a counter CSR into a register; it touches
        // no memory and has no other effect (a kernel that denies access
        // makes it an illegal-instruction fault, not undefined behaviour).
        unsafe { core::arch::asm!("rdcycle {}", out(reg) c, options(nomem, nostack)) };
        c
    }
    #[cfg(not(target_arch = "riscv64"))]
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::testing::with_fake_kernel;

    #[test]
    fn benchmark_calls_use_sel4s_numbers() {
        let ((), calls) = with_fake_kernel(&[], || {
            reset_log();
            finalize_log();
            null_syscall();
        });
        let nos: Vec<_> = calls.iter().map(|c| c.0).collect();
        // seL4's numbers (ABI ref §1): the MCS system calls move them by 3.
        #[cfg(not(feature = "mcs"))]
        assert_eq!(nos, [-19, -20, -22]);
        #[cfg(feature = "mcs")]
        assert_eq!(nos, [-22, -23, -25]);
    }
}
