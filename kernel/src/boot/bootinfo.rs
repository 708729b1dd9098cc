//! Writing `seL4_BootInfo` and the extra bootinfo into their frames, field
//! by field at the ABI's offsets (ABI ref §6.4).

use crate::object::access::{copy_out, write_word};
use crate::types::PAddr;
use cairn_abi::bootinfo::{SlotRegion, BOOTINFO_HEADER_FDT, MAX_BOOTINFO_UNTYPED_CAPS};

/// The values the kernel reports to the root task.
#[derive(Clone, Debug, Default)]
pub struct BootInfoValues {
    /// Bytes of extra bootinfo.
    pub extra_len: u64,
    /// Root IPC buffer vaddr.
    pub ipc_buffer: u64,
    /// Free slots.
    pub empty: SlotRegion,
    /// User image frame caps.
    pub user_image_frames: SlotRegion,
    /// User image page-table caps.
    pub user_image_paging: SlotRegion,
    /// Extra bootinfo frame caps.
    pub extra_bi_pages: SlotRegion,
    /// Root CNode radix.
    pub cnode_size_bits: u64,
    /// Untyped caps.
    pub untyped: SlotRegion,
    /// MCS: the SchedControl caps, one per core (not written in the
    /// classic layout, which has no such field).
    pub schedcontrol: SlotRegion,
}

fn region(at: PAddr, r: SlotRegion) {
    write_word(at, r.start);
    write_word(at.add(8), r.end);
}

/// Offset of the untyped list in bootinfo (after `untyped`): MCS inserts
/// `schedcontrol` before it and moves the rest 16 bytes on (ABI ref
/// §6.4; a constant: the classic layout is unchanged).
const UNTYPED_LIST: u64 = if crate::config::KERNEL_MCS {
    0xB8
} else {
    0xA8
};

/// Writes the bootinfo into the (zeroed) frame at `frame`, all but the
/// untyped descriptors ([`write_untyped_desc`]).
pub fn write_boot_info(frame: PAddr, v: &BootInfoValues) {
    write_word(frame, v.extra_len);
    write_word(frame.add(0x08), 0); // nodeID
    write_word(frame.add(0x10), 1); // numNodes
    write_word(frame.add(0x18), 0); // numIOPTLevels
    write_word(frame.add(0x20), v.ipc_buffer);
    region(frame.add(0x28), v.empty);
    region(frame.add(0x38), SlotRegion::default()); // sharedFrames
    region(frame.add(0x48), v.user_image_frames);
    region(frame.add(0x58), v.user_image_paging);
    region(frame.add(0x68), SlotRegion::default()); // ioSpaceCaps
    region(frame.add(0x78), v.extra_bi_pages);
    write_word(frame.add(0x88), v.cnode_size_bits);
    write_word(frame.add(0x90), 0); // initThreadDomain
    if crate::config::KERNEL_MCS {
        region(frame.add(0x98), v.schedcontrol);
    }
    region(frame.add(UNTYPED_LIST - 0x10), v.untyped);
}

/// Writes untyped descriptor `i` (`paddr`, `size_bits`, `is_device`) of
/// the bootinfo in `frame`; nothing past the list's 230 entries.
pub fn write_untyped_desc(frame: PAddr, i: usize, paddr: u64, size_bits: u32, is_device: bool) {
    if i >= MAX_BOOTINFO_UNTYPED_CAPS {
        return;
    }
    let at = frame.add(UNTYPED_LIST + 16 * i as u64);
    write_word(at, paddr);
    write_word(
        at.add(8),
        u64::from(size_bits) | (u64::from(is_device) << 8),
    );
}

/// Writes the extra bootinfo: one FDT chunk holding the DTB copied from
/// `dtb` (`len` bytes). Returns `extraLen`.
pub fn write_extra_fdt(frame: PAddr, dtb: PAddr, len: u64) -> u64 {
    let total = 16 + len;
    write_word(frame, BOOTINFO_HEADER_FDT);
    write_word(frame.add(8), total);
    // A word at a time, the last word's bytes past the DTB zero (the frame
    // is zeroed and at least `total` rounded up to 8 bytes: a power of two
    // of 4 KiB or more). A copy through a buffer was fused by LLVM into a
    // `memmove` call, 0.8 KiB of code for this one copy.
    let mut done = 0;
    while done < len {
        let mut word = [0u8; 8];
        let n = (len - done).min(8) as usize;
        copy_out(dtb.add(done), word.get_mut(..n).unwrap_or(&mut []));
        write_word(frame.add(16 + done), u64::from_le_bytes(word));
        done += 8;
    }
    total
}
