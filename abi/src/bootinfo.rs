//! `seL4_BootInfo` and the extra bootinfo chunks (ABI ref §6.4).

use crate::Word;

/// `CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS`.
pub const MAX_BOOTINFO_UNTYPED_CAPS: usize = 230;

/// `seL4_SlotRegion`: slots `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(C)]
pub struct SlotRegion {
    /// First slot.
    pub start: Word,
    /// One past the last slot.
    pub end: Word,
}

/// `seL4_UntypedDesc` (16 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(C)]
pub struct UntypedDesc {
    /// Physical address of the region.
    pub paddr: Word,
    /// log2 of its size.
    pub size_bits: u8,
    /// 1 for device memory.
    pub is_device: u8,
    /// Padding to 16 bytes.
    pub padding: [u8; 6],
}

/// `seL4_BootInfo` (3848 bytes; MCS adds `schedcontrol`: 3864).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct BootInfo {
    /// Bytes of extra bootinfo after this frame (0 if none).
    pub extra_len: Word,
    /// `nodeID`.
    pub node_id: Word,
    /// `numNodes`.
    pub num_nodes: Word,
    /// `numIOPTLevels`.
    pub num_io_pt_levels: Word,
    /// Virtual address of the root task's IPC buffer.
    pub ipc_buffer: Word,
    /// The free slots of the root CNode.
    pub empty: SlotRegion,
    /// `sharedFrames` (unused).
    pub shared_frames: SlotRegion,
    /// Frame caps of the user image.
    pub user_image_frames: SlotRegion,
    /// Page-table caps of the user image.
    pub user_image_paging: SlotRegion,
    /// `ioSpaceCaps` (unused).
    pub io_space_caps: SlotRegion,
    /// Frame caps backing the extra bootinfo.
    pub extra_bi_pages: SlotRegion,
    /// Radix of the root CNode.
    pub init_thread_cnode_size_bits: Word,
    /// Domain of the root thread.
    pub init_thread_domain: Word,
    /// MCS only: the SchedControl caps, one per core (`schedcontrol`).
    #[cfg(feature = "mcs")]
    pub schedcontrol: SlotRegion,
    /// Untyped caps.
    pub untyped: SlotRegion,
    /// One descriptor per untyped cap, in the same order.
    pub untyped_list: [UntypedDesc; MAX_BOOTINFO_UNTYPED_CAPS],
}

/// Size of `seL4_BootInfo`.
pub const BOOT_INFO_SIZE: usize = if crate::KERNEL_MCS { 3864 } else { 3848 };

/// Extra bootinfo chunk header (`seL4_BootInfoHeader`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct BootInfoHeader {
    /// Chunk id (`SEL4_BOOTINFO_HEADER_*`).
    pub id: Word,
    /// Chunk length including this 16-byte header.
    pub len: Word,
}

/// `SEL4_BOOTINFO_HEADER_PADDING`.
pub const BOOTINFO_HEADER_PADDING: Word = 0;
/// `SEL4_BOOTINFO_HEADER_FDT`: the chunk holds the device tree blob.
pub const BOOTINFO_HEADER_FDT: Word = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layout_matches_sel4() {
        assert_eq!(size_of::<UntypedDesc>(), 16);
        assert_eq!(size_of::<BootInfo>(), BOOT_INFO_SIZE);
        assert_eq!(offset_of!(BootInfo, ipc_buffer), 0x20);
        assert_eq!(offset_of!(BootInfo, empty), 0x28);
        assert_eq!(offset_of!(BootInfo, user_image_frames), 0x48);
        assert_eq!(offset_of!(BootInfo, extra_bi_pages), 0x78);
        assert_eq!(offset_of!(BootInfo, init_thread_cnode_size_bits), 0x88);
        let mcs = if crate::KERNEL_MCS { 0x10 } else { 0 };
        #[cfg(feature = "mcs")]
        assert_eq!(offset_of!(BootInfo, schedcontrol), 0x98);
        assert_eq!(offset_of!(BootInfo, untyped), 0x98 + mcs);
        assert_eq!(offset_of!(BootInfo, untyped_list), 0xA8 + mcs);
    }
}
