//! Object types for `Untyped_Retype` and object sizes (ABI ref §5, §13 for
//! MCS). MCS adds two generic types (SchedContext, Reply) before the
//! architecture's, which moves those by two.

use crate::KERNEL_MCS;

/// `seL4_ObjectType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ObjectType {
    /// `seL4_UntypedObject`.
    Untyped = 0,
    /// `seL4_TCBObject`.
    Tcb = 1,
    /// `seL4_EndpointObject`.
    Endpoint = 2,
    /// `seL4_NotificationObject`.
    Notification = 3,
    /// `seL4_CapTableObject` (a CNode).
    CapTable = 4,
    /// `seL4_SchedContextObject` (MCS only): of a size chosen at retype,
    /// at least [`MIN_SCHED_CONTEXT_BITS`].
    #[cfg(feature = "mcs")]
    SchedContext = 5,
    /// `seL4_ReplyObject` (MCS only).
    #[cfg(feature = "mcs")]
    Reply = 6,
    /// `seL4_RISCV_Giga_Page` (1 GiB frame).
    GigaPage = if KERNEL_MCS { 7 } else { 5 },
    /// `seL4_RISCV_4K_Page`.
    SmallPage = if KERNEL_MCS { 8 } else { 6 },
    /// `seL4_RISCV_Mega_Page` (2 MiB frame).
    MegaPage = if KERNEL_MCS { 9 } else { 7 },
    /// `seL4_RISCV_PageTableObject`.
    PageTable = if KERNEL_MCS { 10 } else { 8 },
}

impl ObjectType {
    /// `seL4_ObjectTypeCount`.
    pub const COUNT: u64 = if KERNEL_MCS { 11 } else { 9 };
    /// `seL4_NonArchObjectTypeCount`.
    pub const NON_ARCH_COUNT: u64 = if KERNEL_MCS { 7 } else { 5 };
    /// `seL4_ModeObjectTypeCount`: the generic types plus the 64-bit
    /// mode's one, the giga page; the architecture's follow.
    pub const MODE_COUNT: u64 = ObjectType::GigaPage as u64 + 1;

    /// Decodes a user-supplied type number.
    pub const fn from_word(w: u64) -> Option<ObjectType> {
        const GIGA: u64 = ObjectType::GigaPage as u64;
        const SMALL: u64 = ObjectType::SmallPage as u64;
        const MEGA: u64 = ObjectType::MegaPage as u64;
        const PAGE_TABLE: u64 = ObjectType::PageTable as u64;
        Some(match w {
            0 => ObjectType::Untyped,
            1 => ObjectType::Tcb,
            2 => ObjectType::Endpoint,
            3 => ObjectType::Notification,
            4 => ObjectType::CapTable,
            #[cfg(feature = "mcs")]
            5 => ObjectType::SchedContext,
            #[cfg(feature = "mcs")]
            6 => ObjectType::Reply,
            GIGA => ObjectType::GigaPage,
            SMALL => ObjectType::SmallPage,
            MEGA => ObjectType::MegaPage,
            PAGE_TABLE => ObjectType::PageTable,
            _ => return None,
        })
    }
}

/// `seL4_TCBBits` with the FPU configured (10 without).
pub const TCB_BITS: u32 = 11;
/// `seL4_EndpointBits`.
pub const ENDPOINT_BITS: u32 = 4;
/// `seL4_NotificationBits`: MCS notifications also name the scheduling
/// context bound to them, which takes them past 32 bytes.
pub const NOTIFICATION_BITS: u32 = if KERNEL_MCS { 6 } else { 5 };
/// `seL4_ReplyBits` (MCS only).
#[cfg(feature = "mcs")]
pub const REPLY_BITS: u32 = 5;
/// `seL4_MinSchedContextBits` (MCS only): the smallest SchedContext object.
#[cfg(feature = "mcs")]
pub const MIN_SCHED_CONTEXT_BITS: u32 = 7;
/// `seL4_CoreSchedContextBytes` (MCS only): the bytes of a SchedContext
/// before its refills; the rest of the object holds refills.
#[cfg(feature = "mcs")]
pub const CORE_SCHED_CONTEXT_BYTES: u64 = 128;
/// `seL4_RefillSizeBytes` (MCS only): one refill (release time, amount).
#[cfg(feature = "mcs")]
pub const REFILL_SIZE_BYTES: u64 = 16;
/// `seL4_MaxExtraRefills(size_bits)` (MCS only, ABI ref §5): the refills a
/// SchedContext of `size_bits` holds beyond the two every one has (its
/// core, [`CORE_SCHED_CONTEXT_BYTES`], includes them); the most
/// `SchedControl_ConfigureFlags` accepts. `None` for a size below the
/// core or past a word.
#[cfg(feature = "mcs")]
pub const fn max_extra_refills(size_bits: u32) -> Option<u64> {
    if size_bits >= crate::WORD_BITS {
        return None;
    }
    let bytes = 1u64 << size_bits;
    match bytes.checked_sub(CORE_SCHED_CONTEXT_BYTES) {
        Some(rest) => Some(rest / REFILL_SIZE_BYTES),
        None => None,
    }
}
/// `seL4_SlotBits`: a capability slot (CTE) is 32 bytes.
pub const SLOT_BITS: u32 = 5;
/// `seL4_PageBits`.
pub const PAGE_BITS: u32 = 12;
/// `seL4_LargePageBits`.
pub const LARGE_PAGE_BITS: u32 = 21;
/// `seL4_HugePageBits`.
pub const HUGE_PAGE_BITS: u32 = 30;
/// `seL4_PageTableBits`.
pub const PAGE_TABLE_BITS: u32 = 12;
/// `seL4_PageTableEntryBits`.
pub const PAGE_TABLE_ENTRY_BITS: u32 = 3;
/// `seL4_PageTableIndexBits`.
pub const PAGE_TABLE_INDEX_BITS: u32 = 9;
/// `seL4_VSpaceBits`.
pub const VSPACE_BITS: u32 = 12;
/// `seL4_ASIDPoolBits`.
pub const ASID_POOL_BITS: u32 = 12;
/// `seL4_NumASIDPoolsBits`.
pub const NUM_ASID_POOLS_BITS: u32 = 7;
/// `seL4_ASIDPoolIndexBits`.
pub const ASID_POOL_INDEX_BITS: u32 = 9;
/// `seL4_MinUntypedBits`.
pub const MIN_UNTYPED_BITS: u32 = 4;
/// `seL4_MaxUntypedBits`.
pub const MAX_UNTYPED_BITS: u32 = 38;
/// `seL4_BootInfoFrameBits`.
pub const BOOT_INFO_FRAME_BITS: u32 = 12;
/// `seL4_UntypedRetypeMaxObjects` (`CONFIG_RETYPE_FAN_OUT_LIMIT`).
pub const UNTYPED_RETYPE_MAX_OBJECTS: u64 = 256;
/// `seL4_MinPrio`.
pub const MIN_PRIO: u64 = 0;
/// `seL4_MaxPrio`.
pub const MAX_PRIO: u64 = 255;
