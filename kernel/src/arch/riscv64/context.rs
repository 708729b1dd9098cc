//! The saved user register set of a thread, as laid out in the TCB.
//!
//! The trap entry code (`machine/trap.rs`) stores into and loads from this
//! structure by offset; the offsets below are the contract between the two.
//! It is not part of the ABI: `seL4_UserContext` order is produced by
//! [`Registers::user_context_index`].

/// Index of a general-purpose register `xN` in [`Registers::x`].
pub mod reg {
    /// Return address (x1).
    pub const RA: usize = 1;
    /// Stack pointer (x2).
    pub const SP: usize = 2;
    /// Global pointer (x3).
    pub const GP: usize = 3;
    /// Thread pointer (x4).
    pub const TP: usize = 4;
    /// t0..t2 (x5..x7).
    pub const T0: usize = 5;
    /// s0 (x8).
    pub const S0: usize = 8;
    /// s1 (x9).
    pub const S1: usize = 9;
    /// a0 (x10): capRegister / badgeRegister.
    pub const A0: usize = 10;
    /// a1 (x11): msgInfoRegister.
    pub const A1: usize = 11;
    /// a2 (x12): MR0.
    pub const A2: usize = 12;
    /// a6 (x16).
    pub const A6: usize = 16;
    /// a7 (x17): syscall number.
    pub const A7: usize = 17;
    /// s2 (x18).
    pub const S2: usize = 18;
    /// t3 (x28).
    pub const T3: usize = 28;
}

/// Byte offsets within [`Registers`] used by the trap assembly.
pub mod offset {
    /// `x[i]` is at `8 * i` (x0's slot is unused).
    pub const X: usize = 0;
    /// FaultIP (`sepc` at entry).
    pub const FAULT_IP: usize = 32 * 8;
    /// NextIP (where the thread resumes; `sepc` at exit).
    pub const NEXT_IP: usize = 33 * 8;
    /// `sstatus` of the thread.
    pub const SSTATUS: usize = 34 * 8;
    /// `scause` at the last entry.
    pub const SCAUSE: usize = 35 * 8;
    /// `stval` at the last entry.
    pub const STVAL: usize = 36 * 8;
    /// f0..f31, then fcsr.
    pub const F: usize = 37 * 8;
    /// fcsr.
    pub const FCSR: usize = (37 + 32) * 8;
    /// Total size.
    pub const SIZE: usize = (37 + 33) * 8;
}

/// `sstatus.SPIE`: interrupts enabled once the thread runs.
pub const SSTATUS_SPIE: u64 = 1 << 5;
/// `sstatus.FS` = Initial: the FPU is usable.
pub const SSTATUS_FS_INITIAL: u64 = 1 << 13;
/// `sstatus.FS` mask.
pub const SSTATUS_FS_MASK: u64 = 3 << 13;

/// A thread's saved registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Registers {
    /// x0..x31 (index 0 unused).
    pub x: [u64; 32],
    /// FaultIP: the instruction that trapped (restart point).
    pub fault_ip: u64,
    /// NextIP: where the thread continues.
    pub next_ip: u64,
    /// `sstatus` (SPP must be 0: user mode).
    pub sstatus: u64,
    /// `scause` at the last entry.
    pub scause: u64,
    /// `stval` at the last entry.
    pub stval: u64,
    /// f0..f31.
    pub f: [u64; 32],
    /// fcsr.
    pub fcsr: u64,
}

impl Registers {
    /// A new thread's registers: all zero, `sstatus.SPIE` set (ABI ref §5).
    pub const fn new() -> Registers {
        Registers {
            x: [0; 32],
            fault_ip: 0,
            next_ip: 0,
            sstatus: SSTATUS_SPIE,
            scause: 0,
            stval: 0,
            f: [0; 32],
            fcsr: 0,
        }
    }

    /// Which `x` register holds `seL4_UserContext` word `i` (1..32), or
    /// `None` for word 0 (pc, which is FaultIP/NextIP) and out-of-range `i`.
    /// Order (ABI ref §10): pc, ra, sp, gp, s0–s11, a0–a7, t0–t6, tp.
    pub const fn user_context_index(i: usize) -> Option<usize> {
        Some(match i {
            1 => 1,
            2 => 2,
            3 => 3,
            4 => 8,
            5 => 9,
            6..=15 => i + 12,  // s2..s11 = x18..x27
            16..=23 => i - 6,  // a0..a7 = x10..x17
            24..=26 => i - 19, // t0..t2 = x5..x7
            27..=30 => i + 1,  // t3..t6 = x28..x31
            31 => 4,
            _ => return None,
        })
    }
}

impl Default for Registers {
    fn default() -> Self {
        Registers::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn offsets_match_the_trap_contract() {
        assert_eq!(offset_of!(Registers, fault_ip), offset::FAULT_IP);
        assert_eq!(offset_of!(Registers, next_ip), offset::NEXT_IP);
        assert_eq!(offset_of!(Registers, sstatus), offset::SSTATUS);
        assert_eq!(offset_of!(Registers, scause), offset::SCAUSE);
        assert_eq!(offset_of!(Registers, stval), offset::STVAL);
        assert_eq!(offset_of!(Registers, f), offset::F);
        assert_eq!(offset_of!(Registers, fcsr), offset::FCSR);
        assert_eq!(size_of::<Registers>(), offset::SIZE);
    }

    #[test]
    fn user_context_order_is_a_permutation() {
        let mut seen = [false; 32];
        for i in 1..32 {
            let x = Registers::user_context_index(i).unwrap();
            assert!(!seen[x], "x{x} twice");
            seen[x] = true;
        }
        assert!(!seen[0]);
        assert_eq!(Registers::user_context_index(0), None);
        assert_eq!(Registers::user_context_index(16), Some(reg::A0));
        assert_eq!(Registers::user_context_index(31), Some(reg::TP));
        assert_eq!(Registers::user_context_index(15), Some(27));
        assert_eq!(Registers::user_context_index(24), Some(reg::T0));
        assert_eq!(Registers::user_context_index(30), Some(31));
    }
}
