//! Invocation labels of the classic configuration, non-SMP (ABI ref §7).
//! A label is the `label` field of the MessageInfo sent to an object cap.

/// `seL4_InvocationLabel` values, classic riscv64.
#[allow(missing_docs)] // Each name is seL4's label name without the prefix.
pub mod label {
    pub const INVALID_INVOCATION: u64 = 0;
    pub const UNTYPED_RETYPE: u64 = 1;
    pub const TCB_READ_REGISTERS: u64 = 2;
    pub const TCB_WRITE_REGISTERS: u64 = 3;
    pub const TCB_COPY_REGISTERS: u64 = 4;
    pub const TCB_CONFIGURE: u64 = 5;
    pub const TCB_SET_PRIORITY: u64 = 6;
    pub const TCB_SET_MC_PRIORITY: u64 = 7;
    pub const TCB_SET_SCHED_PARAMS: u64 = 8;
    pub const TCB_SET_IPC_BUFFER: u64 = 9;
    pub const TCB_SET_SPACE: u64 = 10;
    pub const TCB_SUSPEND: u64 = 11;
    pub const TCB_RESUME: u64 = 12;
    pub const TCB_BIND_NOTIFICATION: u64 = 13;
    pub const TCB_UNBIND_NOTIFICATION: u64 = 14;
    pub const TCB_SET_TLS_BASE: u64 = 15;
    pub const TCB_SET_FLAGS: u64 = 16;
    pub const CNODE_REVOKE: u64 = 17;
    pub const CNODE_DELETE: u64 = 18;
    pub const CNODE_CANCEL_BADGED_SENDS: u64 = 19;
    pub const CNODE_COPY: u64 = 20;
    pub const CNODE_MINT: u64 = 21;
    pub const CNODE_MOVE: u64 = 22;
    pub const CNODE_MUTATE: u64 = 23;
    pub const CNODE_ROTATE: u64 = 24;
    pub const CNODE_SAVE_CALLER: u64 = 25;
    pub const IRQ_ISSUE_IRQ_HANDLER: u64 = 26;
    pub const IRQ_ACK_IRQ: u64 = 27;
    pub const IRQ_SET_IRQ_HANDLER: u64 = 28;
    pub const IRQ_CLEAR_IRQ_HANDLER: u64 = 29;
    pub const DOMAIN_SET_SET: u64 = 30;
    pub const DOMAIN_SCHEDULE_CONFIGURE: u64 = 31;
    pub const DOMAIN_SCHEDULE_SET_START: u64 = 32;
    pub const RISCV_PAGE_TABLE_MAP: u64 = 33;
    pub const RISCV_PAGE_TABLE_UNMAP: u64 = 34;
    pub const RISCV_PAGE_MAP: u64 = 35;
    pub const RISCV_PAGE_UNMAP: u64 = 36;
    pub const RISCV_PAGE_GET_ADDRESS: u64 = 37;
    pub const RISCV_ASID_CONTROL_MAKE_POOL: u64 = 38;
    pub const RISCV_ASID_POOL_ASSIGN: u64 = 39;
    pub const RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER: u64 = 40;
}

/// `nInvocationLabels` (generic labels), classic.
pub const N_INVOCATION_LABELS: u64 = 33;
/// `nArchInvocationLabels`, classic.
pub const N_ARCH_INVOCATION_LABELS: u64 = 41;

/// `seL4_TCBFlag_fpuDisabled`.
pub const TCB_FLAG_FPU_DISABLED: u64 = 0x1;
