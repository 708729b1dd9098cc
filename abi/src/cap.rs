//! Capabilities as user space sees them: addressing, rights, cap data and
//! the type tags reported by `seL4_DebugCapIdentify` (ABI ref §4, §6.5).

use crate::Word;

/// A capability pointer (`seL4_CPtr`): an address in a CSpace.
pub type CPtr = Word;

/// `seL4_CapRights_t`: bit0 Write, bit1 Read, bit2 Grant, bit3 GrantReply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct CapRights(pub Word);

impl CapRights {
    /// `seL4_AllRights`.
    pub const ALL: CapRights = CapRights(0xF);
    /// `seL4_ReadWrite`.
    pub const READ_WRITE: CapRights = CapRights(0x3);
    /// `seL4_CanRead`.
    pub const CAN_READ: CapRights = CapRights(0x2);
    /// `seL4_CanWrite`.
    pub const CAN_WRITE: CapRights = CapRights(0x1);
    /// `seL4_CanGrant`.
    pub const CAN_GRANT: CapRights = CapRights(0x4);
    /// `seL4_CanGrantReply`.
    pub const CAN_GRANT_REPLY: CapRights = CapRights(0x8);
    /// `seL4_NoWrite`.
    pub const NO_WRITE: CapRights = CapRights(0xE);
    /// `seL4_NoRead`.
    pub const NO_READ: CapRights = CapRights(0xD);
    /// `seL4_NoRights`.
    pub const NONE: CapRights = CapRights(0);

    /// `seL4_CapRights_new(grantReply, grant, read, write)`.
    pub const fn new(grant_reply: bool, grant: bool, read: bool, write: bool) -> Self {
        CapRights(
            (write as Word)
                | ((read as Word) << 1)
                | ((grant as Word) << 2)
                | ((grant_reply as Word) << 3),
        )
    }
    /// The Write right.
    pub const fn write(self) -> bool {
        self.0 & 1 != 0
    }
    /// The Read right.
    pub const fn read(self) -> bool {
        self.0 & 2 != 0
    }
    /// The Grant right.
    pub const fn grant(self) -> bool {
        self.0 & 4 != 0
    }
    /// The GrantReply right.
    pub const fn grant_reply(self) -> bool {
        self.0 & 8 != 0
    }
    /// Rights in both `self` and `mask` (rights only ever shrink).
    pub const fn mask(self, mask: CapRights) -> CapRights {
        CapRights(self.0 & mask.0 & 0xF)
    }
}

/// `seL4_GuardSizeBits`.
pub const GUARD_SIZE_BITS: u32 = 6;
/// `seL4_GuardBits`.
pub const GUARD_BITS: u32 = 58;
/// `seL4_BadgeBits`.
pub const BADGE_BITS: u32 = 64;

/// `seL4_CNode_CapData_new(guard, guardSize)`: `(guard << 6) | guardSize`.
pub const fn cnode_cap_data(guard: Word, guard_size: Word) -> Word {
    (guard << GUARD_SIZE_BITS) | (guard_size & 0x3F)
}

/// Capability type tags, as returned by `seL4_DebugCapIdentify` (ABI ref §4).
pub mod tag {
    /// Null capability (also: lookup failed).
    pub const NULL: u64 = 0;
    /// Frame.
    pub const FRAME: u64 = 1;
    /// Untyped memory.
    pub const UNTYPED: u64 = 2;
    /// RISC-V page table.
    pub const PAGE_TABLE: u64 = 3;
    /// Endpoint.
    pub const ENDPOINT: u64 = 4;
    /// Notification.
    pub const NOTIFICATION: u64 = 6;
    /// Reply.
    pub const REPLY: u64 = 8;
    /// CNode.
    pub const CNODE: u64 = 10;
    /// ASID control.
    pub const ASID_CONTROL: u64 = 11;
    /// Thread control block.
    pub const THREAD: u64 = 12;
    /// ASID pool.
    pub const ASID_POOL: u64 = 13;
    /// IRQ control.
    pub const IRQ_CONTROL: u64 = 14;
    /// IRQ handler.
    pub const IRQ_HANDLER: u64 = 16;
    /// Zombie (an object being deleted).
    pub const ZOMBIE: u64 = 18;
    /// Domain.
    pub const DOMAIN: u64 = 20;
    /// A SchedContext cap (MCS only).
    #[cfg(feature = "mcs")]
    pub const SCHED_CONTEXT: u64 = 22;
    /// The SchedControl cap of a core (MCS only).
    #[cfg(feature = "mcs")]
    pub const SCHED_CONTROL: u64 = 24;
}

/// The fixed slots of the root task's CNode (ABI ref §6.5).
pub mod init {
    use super::CPtr;
    /// `seL4_CapNull`.
    pub const NULL: CPtr = 0;
    /// `seL4_CapInitThreadTCB`.
    pub const TCB: CPtr = 1;
    /// `seL4_CapInitThreadCNode`.
    pub const CNODE: CPtr = 2;
    /// `seL4_CapInitThreadVSpace`.
    pub const VSPACE: CPtr = 3;
    /// `seL4_CapIRQControl`.
    pub const IRQ_CONTROL: CPtr = 4;
    /// `seL4_CapASIDControl`.
    pub const ASID_CONTROL: CPtr = 5;
    /// `seL4_CapInitThreadASIDPool`.
    pub const ASID_POOL: CPtr = 6;
    /// `seL4_CapIOPortControl` (null on RISC-V).
    pub const IO_PORT_CONTROL: CPtr = 7;
    /// `seL4_CapIOSpace` (null on RISC-V).
    pub const IO_SPACE: CPtr = 8;
    /// `seL4_CapBootInfoFrame`.
    pub const BOOT_INFO_FRAME: CPtr = 9;
    /// `seL4_CapInitThreadIPCBuffer`.
    pub const IPC_BUFFER: CPtr = 10;
    /// `seL4_CapDomain`.
    pub const DOMAIN: CPtr = 11;
    /// `seL4_CapSMMUSIDControl` (null).
    pub const SMMU_SID_CONTROL: CPtr = 12;
    /// `seL4_CapSMMUCBControl` (null).
    pub const SMMU_CB_CONTROL: CPtr = 13;
    /// `seL4_CapInitThreadSC` (null in the classic configuration).
    pub const SC: CPtr = 14;
    /// `seL4_CapSMC` (null).
    pub const SMC: CPtr = 15;
    /// `seL4_NumInitialCaps`: the first dynamic slot.
    pub const NUM_INITIAL_CAPS: CPtr = 16;
}
