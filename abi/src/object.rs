//! Object types for `Untyped_Retype` and object sizes (ABI ref §5),
//! classic configuration.

/// `seL4_ObjectType` (classic numbering).
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
    /// `seL4_RISCV_Giga_Page` (1 GiB frame).
    GigaPage = 5,
    /// `seL4_RISCV_4K_Page`.
    SmallPage = 6,
    /// `seL4_RISCV_Mega_Page` (2 MiB frame).
    MegaPage = 7,
    /// `seL4_RISCV_PageTableObject`.
    PageTable = 8,
}

impl ObjectType {
    /// `seL4_ObjectTypeCount`.
    pub const COUNT: u64 = 9;
    /// `seL4_NonArchObjectTypeCount`.
    pub const NON_ARCH_COUNT: u64 = 5;

    /// Decodes a user-supplied type number.
    pub const fn from_word(w: u64) -> Option<ObjectType> {
        Some(match w {
            0 => ObjectType::Untyped,
            1 => ObjectType::Tcb,
            2 => ObjectType::Endpoint,
            3 => ObjectType::Notification,
            4 => ObjectType::CapTable,
            5 => ObjectType::GigaPage,
            6 => ObjectType::SmallPage,
            7 => ObjectType::MegaPage,
            8 => ObjectType::PageTable,
            _ => return None,
        })
    }
}

/// `seL4_TCBBits` with the FPU configured (10 without).
pub const TCB_BITS: u32 = 11;
/// `seL4_EndpointBits`.
pub const ENDPOINT_BITS: u32 = 4;
/// `seL4_NotificationBits` (classic).
pub const NOTIFICATION_BITS: u32 = 5;
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
/// `seL4_MaxPrio`.
pub const MAX_PRIO: u64 = 255;
