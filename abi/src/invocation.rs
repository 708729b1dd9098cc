//! Invocation labels, non-SMP (ABI ref §7, §13 for MCS). A label is the
//! `label` field of the MessageInfo sent to an object cap. MCS inserts
//! `TCBSetTimeoutEndpoint` and the scheduling-context labels and drops
//! `CNodeSaveCaller`, which moves most labels after them.

use crate::KERNEL_MCS;

/// `seL4_InvocationLabel` values, riscv64.
#[allow(missing_docs)] // Each name is seL4's label name without the prefix.
pub mod label {
    use crate::KERNEL_MCS;

    pub const INVALID_INVOCATION: u64 = 0;
    pub const UNTYPED_RETYPE: u64 = 1;
    pub const TCB_READ_REGISTERS: u64 = 2;
    pub const TCB_WRITE_REGISTERS: u64 = 3;
    pub const TCB_COPY_REGISTERS: u64 = 4;
    pub const TCB_CONFIGURE: u64 = 5;
    pub const TCB_SET_PRIORITY: u64 = 6;
    pub const TCB_SET_MC_PRIORITY: u64 = 7;
    pub const TCB_SET_SCHED_PARAMS: u64 = 8;
    /// MCS only: the endpoint that receives the thread's timeout faults.
    #[cfg(feature = "mcs")]
    pub const TCB_SET_TIMEOUT_ENDPOINT: u64 = 9;
    pub const TCB_SET_IPC_BUFFER: u64 = if KERNEL_MCS { 10 } else { 9 };
    pub const TCB_SET_SPACE: u64 = if KERNEL_MCS { 11 } else { 10 };
    pub const TCB_SUSPEND: u64 = if KERNEL_MCS { 12 } else { 11 };
    pub const TCB_RESUME: u64 = if KERNEL_MCS { 13 } else { 12 };
    pub const TCB_BIND_NOTIFICATION: u64 = if KERNEL_MCS { 14 } else { 13 };
    pub const TCB_UNBIND_NOTIFICATION: u64 = if KERNEL_MCS { 15 } else { 14 };
    pub const TCB_SET_TLS_BASE: u64 = if KERNEL_MCS { 16 } else { 15 };
    pub const TCB_SET_FLAGS: u64 = if KERNEL_MCS { 17 } else { 16 };
    pub const CNODE_REVOKE: u64 = if KERNEL_MCS { 18 } else { 17 };
    pub const CNODE_DELETE: u64 = if KERNEL_MCS { 19 } else { 18 };
    pub const CNODE_CANCEL_BADGED_SENDS: u64 = if KERNEL_MCS { 20 } else { 19 };
    pub const CNODE_COPY: u64 = if KERNEL_MCS { 21 } else { 20 };
    pub const CNODE_MINT: u64 = if KERNEL_MCS { 22 } else { 21 };
    pub const CNODE_MOVE: u64 = if KERNEL_MCS { 23 } else { 22 };
    pub const CNODE_MUTATE: u64 = if KERNEL_MCS { 24 } else { 23 };
    pub const CNODE_ROTATE: u64 = if KERNEL_MCS { 25 } else { 24 };
    /// Classic only: MCS keeps reply capabilities in reply objects.
    #[cfg(not(feature = "mcs"))]
    pub const CNODE_SAVE_CALLER: u64 = 25;
    pub const IRQ_ISSUE_IRQ_HANDLER: u64 = 26;
    pub const IRQ_ACK_IRQ: u64 = 27;
    pub const IRQ_SET_IRQ_HANDLER: u64 = 28;
    pub const IRQ_CLEAR_IRQ_HANDLER: u64 = 29;
    pub const DOMAIN_SET_SET: u64 = 30;
    pub const DOMAIN_SCHEDULE_CONFIGURE: u64 = 31;
    pub const DOMAIN_SCHEDULE_SET_START: u64 = 32;
    // MCS only: the scheduling-context invocations (the manual's
    // "Scheduling contexts" chapter).
    #[cfg(feature = "mcs")]
    pub const SCHED_CONTROL_CONFIGURE_FLAGS: u64 = 33;
    #[cfg(feature = "mcs")]
    pub const SCHED_CONTEXT_BIND: u64 = 34;
    #[cfg(feature = "mcs")]
    pub const SCHED_CONTEXT_UNBIND: u64 = 35;
    #[cfg(feature = "mcs")]
    pub const SCHED_CONTEXT_UNBIND_OBJECT: u64 = 36;
    #[cfg(feature = "mcs")]
    pub const SCHED_CONTEXT_CONSUMED: u64 = 37;
    #[cfg(feature = "mcs")]
    pub const SCHED_CONTEXT_YIELD_TO: u64 = 38;
    pub const RISCV_PAGE_TABLE_MAP: u64 = if KERNEL_MCS { 39 } else { 33 };
    pub const RISCV_PAGE_TABLE_UNMAP: u64 = if KERNEL_MCS { 40 } else { 34 };
    pub const RISCV_PAGE_MAP: u64 = if KERNEL_MCS { 41 } else { 35 };
    pub const RISCV_PAGE_UNMAP: u64 = if KERNEL_MCS { 42 } else { 36 };
    pub const RISCV_PAGE_GET_ADDRESS: u64 = if KERNEL_MCS { 43 } else { 37 };
    pub const RISCV_ASID_CONTROL_MAKE_POOL: u64 = if KERNEL_MCS { 44 } else { 38 };
    pub const RISCV_ASID_POOL_ASSIGN: u64 = if KERNEL_MCS { 45 } else { 39 };
    pub const RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER: u64 = if KERNEL_MCS { 46 } else { 40 };
}

/// `nInvocationLabels` (generic labels).
pub const N_INVOCATION_LABELS: u64 = if KERNEL_MCS { 39 } else { 33 };
/// `nArchInvocationLabels`.
pub const N_ARCH_INVOCATION_LABELS: u64 = if KERNEL_MCS { 47 } else { 41 };

/// `seL4_SchedContext_NoFlag` (MCS): `SchedControl_ConfigureFlags` with no
/// flag makes a constant-bandwidth (non-sporadic) scheduling context.
#[cfg(feature = "mcs")]
pub const SCHED_CONTEXT_NO_FLAG: u64 = 0;
/// `seL4_SchedContext_Sporadic` (MCS): the scheduling context follows the
/// sporadic-server rules (refills replenished one period after use).
#[cfg(feature = "mcs")]
pub const SCHED_CONTEXT_SPORADIC: u64 = 1;

/// `seL4_TCBFlag_NoFlag`.
pub const TCB_FLAG_NO_FLAG: u64 = 0;
/// `seL4_TCBFlag_fpuDisabled`.
pub const TCB_FLAG_FPU_DISABLED: u64 = 0x1;
/// `seL4_TCBFlag_MASK`: every flag TCB_SetFlags knows.
pub const TCB_FLAG_MASK: u64 = TCB_FLAG_FPU_DISABLED;
