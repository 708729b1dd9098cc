//! Fault message labels and layouts (ABI ref §9), classic configuration.

/// `seL4_Fault_NullFault`.
pub const NULL_FAULT: u64 = 0;
/// `seL4_Fault_CapFault`.
pub const CAP_FAULT: u64 = 1;
/// `seL4_Fault_UnknownSyscall`.
pub const UNKNOWN_SYSCALL: u64 = 2;
/// `seL4_Fault_UserException`.
pub const USER_EXCEPTION: u64 = 3;
/// `seL4_Fault_VMFault` (classic: 5).
pub const VM_FAULT: u64 = 5;

/// `seL4_UnknownSyscall_Length`.
pub const UNKNOWN_SYSCALL_LENGTH: u64 = 11;
/// `seL4_UserException_Length`.
pub const USER_EXCEPTION_LENGTH: u64 = 4;
/// `seL4_VMFault_Length`.
pub const VM_FAULT_LENGTH: u64 = 4;

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
