//! User address space limits and VM attributes (ABI ref §6.2, §11).

/// `seL4_UserTop`: exclusive end of user virtual addresses (deprecated name).
pub const USER_TOP: u64 = 0x0000_003F_FFFF_F000;
/// `seL4_UserVSpaceTop`: the last user virtual address (inclusive).
pub const USER_VSPACE_TOP: u64 = 0x3F_FFFF_EFFF;
/// `seL4_RISCV_ExecuteNever`.
pub const EXECUTE_NEVER: u64 = 0x1;
/// `seL4_RISCV_Default_VMAttributes`.
pub const DEFAULT_VM_ATTRIBUTES: u64 = 0;
/// ASID of the root task's VSpace.
pub const ROOT_ASID: u64 = 1;
