//! A safe view of the root task's `seL4_BootInfo` frame and of the extra
//! bootinfo that follows it (ch. 9 System Bootstrapping; ABI ref §6.3, §6.4).

use crate::cap::{CPtr, Untyped};
use cairn_abi::bootinfo::{
    BootInfo as RawBootInfo, SlotRegion, BOOTINFO_HEADER_FDT, MAX_BOOTINFO_UNTYPED_CAPS,
};
use cairn_abi::object::BOOT_INFO_FRAME_BITS;
use cairn_abi::Word;

/// Size of an extra bootinfo chunk header `{id, len}`.
pub const CHUNK_HEADER_SIZE: usize = 16;

/// The boot information the kernel gives the root task: the BootInfo frame
/// and the extra bootinfo bytes (`extraLen` of them, mapped right after it).
#[derive(Clone, Copy)]
pub struct BootInfo<'a> {
    raw: &'a RawBootInfo,
    extra: &'a [u8],
}

/// One untyped cap listed in the BootInfo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UntypedInfo {
    /// Its slot in the root CNode.
    pub cap: Untyped,
    /// Physical address of the region.
    pub paddr: Word,
    /// log2 of the region's size.
    pub size_bits: u8,
    /// Device memory (not RAM; never zeroed by the kernel).
    pub is_device: bool,
}

impl UntypedInfo {
    /// Size in bytes (`None` if `size_bits` is absurd, ≥ 64).
    pub fn size(&self) -> Option<Word> {
        1u64.checked_shl(u32::from(self.size_bits))
    }

    /// One past the last byte (`None` on overflow).
    pub fn end(&self) -> Option<Word> {
        self.paddr.checked_add(self.size()?)
    }
}

/// Number of slots in a region (0 if `end < start`).
pub fn region_len(r: SlotRegion) -> Word {
    r.end.saturating_sub(r.start)
}

impl<'a> BootInfo<'a> {
    /// A view over `raw` and its extra bootinfo bytes.
    pub fn new(raw: &'a RawBootInfo, extra: &'a [u8]) -> Self {
        BootInfo { raw, extra }
    }

    /// The view of the BootInfo frame the kernel mapped at `ptr`.
    ///
    /// # Safety
    /// `ptr` must point to a mapped, readable `seL4_BootInfo` frame that is
    /// never written while the view lives (for `'static`: never), and its
    /// `extraLen` bytes of extra bootinfo must be mapped and readable from
    /// `ptr + 4 KiB` (ABI ref §6.3).
    pub unsafe fn from_ptr(ptr: *const RawBootInfo) -> BootInfo<'static> {
        // SAFETY: the caller guarantees the frame is mapped, readable and
        // immutable for 'static; it is page aligned, hence aligned for the
        // struct.
        let raw: &'static RawBootInfo = unsafe { &*ptr };
        let extra_ptr = ptr.cast::<u8>().wrapping_add(1 << BOOT_INFO_FRAME_BITS);
        let extra: &'static [u8] = if raw.extra_len == 0 {
            &[]
        } else {
            // SAFETY: the caller guarantees `extraLen` readable, immutable
            // bytes at `ptr + 4 KiB`.
            unsafe { core::slice::from_raw_parts(extra_ptr, raw.extra_len as usize) }
        };
        BootInfo { raw, extra }
    }

    /// The raw `seL4_BootInfo`.
    pub fn raw(&self) -> &'a RawBootInfo {
        self.raw
    }

    /// `extraLen`: bytes of extra bootinfo.
    pub fn extra_len(&self) -> Word {
        self.raw.extra_len
    }
    /// `nodeID`.
    pub fn node_id(&self) -> Word {
        self.raw.node_id
    }
    /// `numNodes`.
    pub fn num_nodes(&self) -> Word {
        self.raw.num_nodes
    }
    /// `numIOPTLevels`.
    pub fn num_io_pt_levels(&self) -> Word {
        self.raw.num_io_pt_levels
    }
    /// `ipcBuffer`: the root thread's IPC buffer vaddr.
    pub fn ipc_buffer_addr(&self) -> Word {
        self.raw.ipc_buffer
    }
    /// `empty`: the free slots of the root CNode.
    pub fn empty(&self) -> SlotRegion {
        self.raw.empty
    }
    /// `sharedFrames`.
    pub fn shared_frames(&self) -> SlotRegion {
        self.raw.shared_frames
    }
    /// MCS: `schedcontrol`, the SchedControl caps (one per core).
    #[cfg(feature = "mcs")]
    pub fn sched_control(&self) -> SlotRegion {
        self.raw.schedcontrol
    }
    /// `userImageFrames`.
    pub fn user_image_frames(&self) -> SlotRegion {
        self.raw.user_image_frames
    }
    /// `userImagePaging`.
    pub fn user_image_paging(&self) -> SlotRegion {
        self.raw.user_image_paging
    }
    /// `ioSpaceCaps`.
    pub fn io_space_caps(&self) -> SlotRegion {
        self.raw.io_space_caps
    }
    /// `extraBIPages`.
    pub fn extra_bi_pages(&self) -> SlotRegion {
        self.raw.extra_bi_pages
    }
    /// `initThreadCNodeSizeBits`: the root CNode's radix.
    pub fn cnode_size_bits(&self) -> Word {
        self.raw.init_thread_cnode_size_bits
    }
    /// `initThreadDomain`.
    pub fn init_thread_domain(&self) -> Word {
        self.raw.init_thread_domain
    }
    /// `untyped`: the slots of the untyped caps.
    pub fn untyped(&self) -> SlotRegion {
        self.raw.untyped
    }

    /// The untyped caps with their descriptors, in slot order. At most 230
    /// (the size of `untypedList`), however large the slot region claims to be.
    pub fn untypeds(&self) -> impl Iterator<Item = UntypedInfo> + 'a {
        let region = self.raw.untyped;
        let n = region_len(region).min(MAX_BOOTINFO_UNTYPED_CAPS as Word) as usize;
        self.raw
            .untyped_list
            .iter()
            .take(n)
            .zip(region.start..)
            .map(|(d, slot)| UntypedInfo {
                cap: Untyped(CPtr(slot)),
                paddr: d.paddr,
                size_bits: d.size_bits,
                is_device: d.is_device != 0,
            })
    }

    /// The extra bootinfo bytes.
    pub fn extra(&self) -> &'a [u8] {
        self.extra
    }

    /// The extra bootinfo chunks.
    pub fn extra_chunks(&self) -> ExtraChunks<'a> {
        ExtraChunks::new(self.extra)
    }

    /// The device tree blob from the FDT chunk (id 6), if any.
    pub fn fdt(&self) -> Option<&'a [u8]> {
        self.extra_chunks()
            .find(|c| c.id == BOOTINFO_HEADER_FDT)
            .map(|c| c.payload)
    }
}

/// One extra bootinfo chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtraChunk<'a> {
    /// `SEL4_BOOTINFO_HEADER_*` id.
    pub id: Word,
    /// `len` from the header (including the header itself).
    pub len: Word,
    /// The bytes after the header.
    pub payload: &'a [u8],
}

/// Iterator over extra bootinfo chunks (`{id: word, len: word}` headers,
/// `len` counting the header). Stops at the end or at a malformed header
/// (`len` < 16 or past the end).
#[derive(Clone, Debug)]
pub struct ExtraChunks<'a> {
    rest: &'a [u8],
}

impl<'a> ExtraChunks<'a> {
    /// Chunks of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        ExtraChunks { rest: bytes }
    }
}

fn le_word(b: &[u8]) -> Option<Word> {
    Some(Word::from_le_bytes(b.get(..8)?.try_into().ok()?))
}

impl<'a> Iterator for ExtraChunks<'a> {
    type Item = ExtraChunk<'a>;

    fn next(&mut self) -> Option<ExtraChunk<'a>> {
        let id = le_word(self.rest)?;
        let len = le_word(self.rest.get(8..)?)?;
        let n = usize::try_from(len)
            .ok()
            .filter(|&n| n >= CHUNK_HEADER_SIZE && n <= self.rest.len());
        let Some(n) = n else {
            self.rest = &[];
            return None;
        };
        let (chunk, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(ExtraChunk {
            id,
            len,
            payload: chunk.get(CHUNK_HEADER_SIZE..).unwrap_or(&[]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_abi::bootinfo::UntypedDesc;

    fn raw() -> RawBootInfo {
        let r = SlotRegion::default();
        RawBootInfo {
            extra_len: 0,
            node_id: 0,
            num_nodes: 1,
            num_io_pt_levels: 0,
            ipc_buffer: 0x16000,
            empty: r,
            shared_frames: r,
            user_image_frames: r,
            user_image_paging: r,
            io_space_caps: r,
            extra_bi_pages: r,
            init_thread_cnode_size_bits: 12,
            init_thread_domain: 0,
            #[cfg(feature = "mcs")]
            schedcontrol: r,
            untyped: r,
            untyped_list: [UntypedDesc::default(); MAX_BOOTINFO_UNTYPED_CAPS],
        }
    }

    fn chunk(id: Word, payload: &[u8]) -> Vec<u8> {
        let mut v = id.to_le_bytes().to_vec();
        v.extend_from_slice(&((payload.len() + 16) as Word).to_le_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn untypeds_pair_slots_with_descriptors() {
        let mut r = raw();
        r.untyped = SlotRegion {
            start: 0x1a,
            end: 0x1c,
        };
        r.untyped_list[0] = UntypedDesc {
            paddr: 0,
            size_bits: 25,
            is_device: 1,
            padding: [0; 6],
        };
        r.untyped_list[1] = UntypedDesc {
            paddr: 0x8040_0000,
            size_bits: 22,
            is_device: 0,
            padding: [0; 6],
        };
        let bi = BootInfo::new(&r, &[]);
        let v: Vec<_> = bi.untypeds().collect();
        assert_eq!(v.len(), 2);
        assert_eq!(
            (v[0].cap.bits(), v[0].is_device, v[0].size()),
            (0x1a, true, Some(1 << 25))
        );
        assert_eq!(
            (v[1].cap.bits(), v[1].paddr, v[1].end()),
            (0x1b, 0x8040_0000, Some(0x8080_0000))
        );
    }

    #[test]
    fn untypeds_are_capped_at_230() {
        let mut r = raw();
        r.untyped = SlotRegion {
            start: 16,
            end: 1000,
        };
        assert_eq!(BootInfo::new(&r, &[]).untypeds().count(), 230);
        r.untyped = SlotRegion { start: 20, end: 16 };
        assert_eq!(BootInfo::new(&r, &[]).untypeds().count(), 0);
    }

    /// MCS: the SchedControl caps are the bootinfo's `schedcontrol`
    /// region, which sits between the root thread's domain and the
    /// untypeds and moves neither.
    #[cfg(feature = "mcs")]
    #[test]
    fn sched_control_is_its_own_region() {
        let mut r = raw();
        r.schedcontrol = SlotRegion { start: 14, end: 15 };
        r.untyped = SlotRegion { start: 15, end: 16 };
        let bi = BootInfo::new(&r, &[]);
        assert_eq!(bi.sched_control(), SlotRegion { start: 14, end: 15 });
        let v: Vec<_> = bi.untypeds().collect();
        assert_eq!((v.len(), v[0].cap.bits()), (1, 15));
    }

    #[test]
    fn chunks_and_fdt() {
        let mut bytes = chunk(0, &[0; 8]);
        bytes.extend(chunk(6, &[0xd0, 0x0d, 0xfe, 0xed, 1, 2]));
        let r = raw();
        let bi = BootInfo::new(&r, &bytes);
        let ids: Vec<_> = bi.extra_chunks().map(|c| (c.id, c.len)).collect();
        assert_eq!(ids, [(0, 24), (6, 22)]);
        assert_eq!(bi.fdt(), Some(&[0xd0, 0x0d, 0xfe, 0xed, 1, 2][..]));
    }

    #[test]
    fn malformed_chunks_stop() {
        let mut bytes = chunk(6, &[1, 2, 3]);
        bytes[8] = 200; // len past the end
        assert_eq!(ExtraChunks::new(&bytes).count(), 0);
        bytes[8] = 4; // len shorter than a header
        assert_eq!(ExtraChunks::new(&bytes).count(), 0);
        assert_eq!(ExtraChunks::new(&bytes[..10]).count(), 0);
        assert_eq!(ExtraChunks::new(&[]).count(), 0);
    }
}
