//! The saved user register set of a thread, as laid out in the TCB, and
//! the registers' roles in seL4's ABI.
//!
//! The trap entry code (`machine/trap.rs`) stores into and loads from this
//! structure by offset; the offsets below are the contract between the two.
//! The layout is not part of the ABI: `seL4_UserContext` order is
//! [`roles::USER_CONTEXT`]. Generic code names registers only by the roles
//! in [`roles`], which `arch` re-exports.

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

/// The registers with a role in seL4's ABI, each a word index into
/// [`Registers`] (x1..x31 at 1..31, then FaultIP, NextIP, `sstatus`), for
/// the TCB's register accessors. RISC-V names after seL4's
/// `arch/riscv/.../registerset.h` (ABI ref §5, §9, §10).
pub mod roles {
    use super::{offset, reg::*};
    use cairn_abi::context::USER_CONTEXT_WORDS;
    use cairn_abi::message::N_MSG_REGISTERS;

    /// The invoked capability's cptr on entry (`capRegister`, a0); also the
    /// root task's bootinfo pointer.
    pub const CAP_REGISTER: usize = A0;
    /// The badge delivered with a message or signal (`badgeRegister`, a0).
    pub const BADGE_REGISTER: usize = A0;
    /// The `seL4_MessageInfo` word (`msgInfoRegister`, a1).
    pub const MSG_INFO_REGISTER: usize = A1;
    /// MR0..MR3 (`msgRegisters`, a2..a5); later MRs are in the IPC buffer.
    pub const MSG_REGISTERS: [usize; N_MSG_REGISTERS] = [A2, A2 + 1, A2 + 2, A2 + 3];
    /// MCS: the reply object's cptr of a receive, the destination of
    /// NBSendWait (`replyRegister`, a6; ABI ref §13).
    pub const REPLY_REGISTER: usize = A6;
    /// MCS: the destination cptr of NBSendRecv (`nbsendRecvDest`, t0).
    pub const NB_SEND_RECV_DEST: usize = T0;
    /// The TLS base (`TLS_BASE`, tp), set by TCB SetTLSBase.
    pub const TLS_BASE_REGISTER: usize = TP;
    /// FaultIP: the instruction that trapped (the restart point).
    pub const FAULT_IP: usize = offset::FAULT_IP / 8;
    /// NextIP: where the thread continues.
    pub const NEXT_IP: usize = offset::NEXT_IP / 8;
    /// The saved status word (`sstatus`); no user invocation reaches it.
    pub const STATUS_REGISTER: usize = offset::SSTATUS / 8;
    /// The registers of an UnknownSyscall fault message and of its reply,
    /// in MR order (`syscallMessage`: FaultIP, sp, ra, a0..a6; ABI ref §9).
    pub const SYSCALL_MESSAGE: [usize; 10] = [
        FAULT_IP,
        SP,
        RA,
        A0,
        A0 + 1,
        A0 + 2,
        A0 + 3,
        A0 + 4,
        A0 + 5,
        A6,
    ];
    /// The registers of a UserException fault message and of its reply
    /// (`exceptionMessage`: FaultIP, sp; ABI ref §9).
    pub const EXCEPTION_MESSAGE: [usize; 2] = [FAULT_IP, SP];
    /// `seL4_UserContext` order (ABI ref §10): pc (FaultIP), ra, sp, gp,
    /// s0–s11, a0–a7, t0–t6, tp. Words 0..16 are seL4's "frame registers",
    /// 16..32 its "gp registers".
    pub const USER_CONTEXT: [usize; USER_CONTEXT_WORDS] = [
        FAULT_IP, RA, SP, GP, S0, S1, S2, 19, 20, 21, 22, 23, 24, 25, 26, 27, // frame
        A0, 11, 12, 13, 14, 15, A6, A7, T0, 6, 7, T3, 29, 30, 31, TP, // gp
    ];
}

/// Byte offsets within [`Registers`] used by the trap assembly (which the
/// host does not build).
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
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
/// `sstatus.FS` = Clean: the FPU is usable and holds the thread's state.
const SSTATUS_FS_CLEAN: u64 = 2 << 13;
/// `sstatus.FS` mask.
const SSTATUS_FS_MASK: u64 = 3 << 13;
/// `scause` of an illegal instruction, which is what an FP instruction
/// raises while `sstatus.FS` is Off.
const SCAUSE_ILLEGAL_INSTRUCTION: u64 = 2;

/// The status word of a new thread (seL4's `Arch_initContext`): interrupts
/// enabled in user mode. FS is Off: the thread does not own the FPU, and
/// its first FP instruction traps and makes it the owner (lazy switching,
/// `crate::fpu`); its FP registers start as the zeroes of its new TCB.
pub const INITIAL_STATUS: u64 = SSTATUS_SPIE;

/// `status` with the FPU usable (`usable`: the thread owns the FPU and
/// its `seL4_TCBFlag_fpuDisabled` is clear) or not, effective at the
/// thread's next exit to user mode. Usable turns Off into Clean (a
/// Dirty or Clean FS is kept); not usable is FS Off, so that any FP
/// instruction traps as an illegal instruction. Without an FPU, FS stays
/// Off.
pub const fn fpu_status(status: u64, usable: bool) -> u64 {
    if !crate::config::HAVE_FPU || !usable {
        status & !SSTATUS_FS_MASK
    } else if status & SSTATUS_FS_MASK == 0 {
        status | SSTATUS_FS_CLEAN
    } else {
        status
    }
}

/// Whether `status` lets the thread use the FPU.
pub const fn fpu_enabled(status: u64) -> bool {
    status & SSTATUS_FS_MASK != 0
}

/// Whether exception `scause` of a thread whose saved status word is
/// `status` may be its first FP instruction since it lost (or before it
/// had) the FPU: an illegal instruction with FS Off. It may also be a
/// truly illegal instruction; `crate::fpu` then gives the thread the FPU,
/// the instruction runs again and traps again with FS on.
pub const fn may_be_fpu_trap(scause: u64, status: u64) -> bool {
    crate::config::HAVE_FPU && scause == SCAUSE_ILLEGAL_INSTRUCTION && !fpu_enabled(status)
}

/// Words of [`Registers`].
pub const REGISTER_WORDS: usize = offset::SIZE / 8;
/// Word index of f0 in [`Registers`] (f0..f31, then fcsr: the FPU state
/// `crate::fpu` saves and loads).
pub const FPU_FIRST_WORD: usize = offset::F / 8;
/// Words of FPU state (f0..f31, fcsr).
pub const FPU_WORDS: usize = 33;

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

// The frame the trap assembly saves is exactly this struct (checked when
// compiling, in every build; the offsets are checked by the tests below).
const _: () = assert!(core::mem::size_of::<Registers>() == offset::SIZE);

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

    /// The trap exit writes a thread's saved word into `sstatus` as it is
    /// (`trap.rs`): every word the kernel makes must return to user mode
    /// (SPP = 0), with interrupts off until `sret` (SIE = 0) and on after
    /// it (SPIE = 1).
    #[test]
    fn status_words_the_kernel_makes_are_fit_for_sret() {
        const SPP: u64 = 1 << 8;
        const SIE: u64 = 1 << 1;
        let fit = |s: u64| s & (SPP | SIE) == 0 && s & SSTATUS_SPIE != 0;
        assert!(fit(INITIAL_STATUS), "a new thread's");
        for fs in 0..4 {
            // As a trap from user mode saves it, with any FS.
            let trapped = SSTATUS_SPIE | fs << 13;
            for usable in [false, true] {
                assert!(fit(fpu_status(trapped, usable)), "FS {fs}, {usable}");
            }
        }
    }

    #[test]
    fn user_context_order_is_a_permutation() {
        use roles::*;
        let mut seen = [false; 33];
        for r in USER_CONTEXT {
            assert!(!seen[r], "word {r} twice");
            seen[r] = true;
        }
        assert!(!seen[0], "x0 is no user register");
        assert_eq!(USER_CONTEXT[0], FAULT_IP);
        assert_eq!(USER_CONTEXT[16], reg::A0);
        assert_eq!(USER_CONTEXT[31], reg::TP);
        assert_eq!(USER_CONTEXT[15], 27, "s11");
        assert_eq!(USER_CONTEXT[24], reg::T0);
        assert_eq!(USER_CONTEXT[30], 31, "t6");
        assert_eq!(USER_CONTEXT[18..22], MSG_REGISTERS, "a2..a5");
    }

    #[test]
    fn fpu_status_turns_fs_off_and_back_to_clean() {
        assert!(!fpu_enabled(INITIAL_STATUS), "a new thread owns no FPU");
        let on = fpu_status(INITIAL_STATUS, true);
        assert_eq!(on & SSTATUS_SPIE, SSTATUS_SPIE, "other bits kept");
        assert_eq!(fpu_enabled(on), crate::config::HAVE_FPU);
        let off = fpu_status(on, false);
        assert_eq!(off, INITIAL_STATUS);
        let dirty = INITIAL_STATUS | SSTATUS_FS_MASK;
        if crate::config::HAVE_FPU {
            assert_eq!(on & SSTATUS_FS_MASK, SSTATUS_FS_CLEAN);
            assert_eq!(fpu_status(dirty, true), dirty, "Dirty stays Dirty");
            assert!(may_be_fpu_trap(2, off));
        }
        assert!(!may_be_fpu_trap(2, on), "FS on: a real illegal instruction");
        assert!(!may_be_fpu_trap(13, off), "not an illegal instruction");
        assert_eq!(FPU_FIRST_WORD + FPU_WORDS, REGISTER_WORDS);
    }
}
