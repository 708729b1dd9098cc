//! Fault message labels and layouts (ABI ref §9). MCS adds the timeout
//! fault, which moves the VM fault's label.

use crate::KERNEL_MCS;

/// `seL4_Fault_NullFault`.
pub const NULL_FAULT: u64 = 0;
/// `seL4_Fault_CapFault`.
pub const CAP_FAULT: u64 = 1;
/// `seL4_Fault_UnknownSyscall`.
pub const UNKNOWN_SYSCALL: u64 = 2;
/// `seL4_Fault_UserException`.
pub const USER_EXCEPTION: u64 = 3;
/// `seL4_Fault_Timeout` (MCS only): a thread's budget ran out and it has a
/// timeout endpoint.
#[cfg(feature = "mcs")]
pub const TIMEOUT: u64 = 5;
/// `seL4_Fault_VMFault`.
pub const VM_FAULT: u64 = if KERNEL_MCS { 6 } else { 5 };

/// `seL4_UnknownSyscall_Length`.
pub const UNKNOWN_SYSCALL_LENGTH: u64 = 11;
/// `seL4_UserException_Length`.
pub const USER_EXCEPTION_LENGTH: u64 = 4;
/// `seL4_VMFault_Length`.
pub const VM_FAULT_LENGTH: u64 = 4;

/// Message register indices of a timeout fault (MCS only).
#[cfg(feature = "mcs")]
pub mod timeout {
    /// The badge of the scheduling context whose budget ran out (set by
    /// `SchedControl_ConfigureFlags`).
    pub const DATA: usize = 0;
    /// The time it consumed, in µs (only when the thread has one).
    pub const CONSUMED: usize = 1;
    /// `seL4_Timeout_Length`.
    pub const LENGTH: u64 = 2;
    /// `seL4_TimeoutReply_Length`: a reply to a timeout fault carries the
    /// registers in `seL4_UserContext` order (`seL4_TimeoutReply_FaultIP`
    /// = the pc, then ra, sp, gp, s0-s11, a0-a7, t0-t6, tp).
    pub const REPLY_LENGTH: u64 = crate::context::USER_CONTEXT_WORDS as u64;
}

/// Message register indices of a CapFault.
pub mod cap_fault {
    /// Restart PC.
    pub const IP: usize = 0;
    /// The cptr that failed.
    pub const ADDR: usize = 1;
    /// 1 if the lookup failed in the receive phase.
    pub const IN_RECV_PHASE: usize = 2;
    /// First word of the lookup failure description.
    pub const LOOKUP_FAILURE_TYPE: usize = 3;
    /// Missing capability, depth mismatch: bits left to resolve.
    pub const BITS_LEFT: usize = 4;
    /// Depth mismatch: bits found (the lookup failure's second word).
    pub const DEPTH_MISMATCH_BITS_FOUND: usize = 5;
    /// Guard mismatch: the guard found.
    pub const GUARD_MISMATCH_GUARD_FOUND: usize = 5;
    /// Guard mismatch: the guard's size.
    pub const GUARD_MISMATCH_BITS_FOUND: usize = 6;
}

/// Message register indices of an UnknownSyscall fault: the faulting
/// thread's pc, sp, ra, a0-a6 and the syscall number.
pub mod unknown_syscall {
    /// The pc of the syscall instruction.
    pub const FAULT_IP: usize = 0;
    /// sp.
    pub const SP: usize = 1;
    /// ra.
    pub const RA: usize = 2;
    /// a0; a1..a6 follow it.
    pub const A0: usize = 3;
    /// The syscall number (a7).
    pub const SYSCALL: usize = 10;
}

/// Message register indices of a UserException fault.
pub mod user_exception {
    /// The faulting pc.
    pub const FAULT_IP: usize = 0;
    /// sp.
    pub const SP: usize = 1;
    /// The exception number (`scause`).
    pub const NUMBER: usize = 2;
    /// The exception code (0 on RISC-V).
    pub const CODE: usize = 3;
}

/// Message register indices of a VMFault.
pub mod vm_fault {
    /// Faulting PC.
    pub const IP: usize = 0;
    /// Faulting address (`stval`).
    pub const ADDR: usize = 1;
    /// 1 for an instruction fetch.
    pub const PREFETCH_FAULT: usize = 2;
    /// Normalised cause: 1 fetch, 5 load, 7 store.
    pub const FSR: usize = 3;
}
