//! A second address space running the root task's own image, and threads
//! in it (ch. 7 Address Spaces and Virtual Memory; ch. 6 Threads and
//! Execution; ABI ref §6.4, §7.8, §11).
//!
//! [`ImageSpace::new`] builds, from an untyped the caller gives:
//!
//! 1. a VSpace root (a page table) given an ASID by `ASIDPool_Assign` with
//!    the root task's ASID pool (`seL4_CapInitThreadASIDPool`);
//! 2. a CNode that will hold every other capability of the space;
//! 3. the page tables the image needs ([`TablePlan`]), each mapped with
//!    `PageTable_Map`, then moved into the CNode;
//! 4. for each frame of BootInfo's `userImageFrames`, a copy of the root
//!    task's frame cap (`CNode_Copy`), mapped with `Page_Map` at the same
//!    virtual address as in the root task, then moved into the CNode. Each
//!    page gets its segment's rights ([`PageKind`], from the segment marks
//!    of `link.ld`): text read and execute, rodata read-only, data and
//!    `.bss` read-write, neither of the last two executable.
//!
//! A thread started there ([`ImageSpace::spawn`]) runs the root task's code
//! at the same addresses, with the root CNode as its CSpace (shared CSpace,
//! separate VSpace). Since the frames are the same, the image's data and
//! `.bss` are memory shared by the two address spaces: statics written in
//! one are read in the other, which is how results are reported back.
//!
//! **Stack and IPC buffer.** A thread here takes, as in `crate::thread`,
//! a [`Stack`](crate::thread::Stack) and an [`IpcPage`] that are `static`s
//! of the image, so they are mapped at the same address in both spaces
//! through the shared frames. That is simpler than private frames at a
//! fixed address: no extra frames or tables, the IPC page's frame cap is
//! already known (BootInfo's image frame), and the `tp`-based IPC-buffer
//! registration of `sel4::ipc_buffer` works unchanged. The price is that
//! the stack and buffer are not private: the root task can see them and
//! must leave them alone while the thread runs (the same contract as for a
//! thread of the root task's own space).
//!
//! **What is not mapped here:** the root thread's IPC buffer, the BootInfo
//! and extra-bootinfo frames, and anything the root task maps later. Code
//! run in this space must not touch them (a `&BootInfo` points into an
//! unmapped page); a thread of this space that does takes a VMFault.
//!
//! **Clean-up.** Everything is retyped from the caller's untyped, and the
//! frame copies and page tables live in the space's CNode, itself retyped
//! from that untyped. Revoking the untyped therefore deletes it all:
//! deleting the VSpace root releases its ASID, deleting the CNode deletes
//! the frame copies and the tables. A frame copy's mapping is its own (the
//! kernel records one mapping per cap), so deleting the copies unmaps only
//! this space's entries: the root task's own image mappings, held by the
//! original caps, stay. Keeping the copies in the CNode (rather than in
//! root CNode slots) matters: a copy left behind would still name this
//! space's ASID and address, and deleting it after the ASID had gone to a
//! new VSpace that maps the same frame there would unmap the new mapping.
//! The root CNode slots used (`ROOT_SLOTS` from the first one given) hold
//! the VSpace root and the CNode (children of the untyped, so the revoke
//! empties them too) and a scratch slot, empty between calls.

#[cfg(target_os = "none")]
use crate::thread::{IpcPage, SpawnError, ThreadSpec};
use sel4::abi::vm::EXECUTE_NEVER;
#[cfg(target_os = "none")]
use sel4::{cap::init_caps, BootInfo, PageTable};
use sel4::{CNode, CapRights, Word};
#[cfg(all(target_arch = "riscv64", target_os = "none"))]
use sel4::{Error, Frame, ObjectType, Untyped};

const PAGE: Word = 4096;
/// Bytes a leaf (level-2) table maps: 512 pages.
const LEAF_SPAN: Word = 1 << 21;
/// Bytes a level-1 table maps: 512 leaf tables.
const L1_SPAN: Word = 1 << 30;
/// Depth of a root CNode slot index (guard plus radix, ABI ref §6.5).
#[cfg(all(target_arch = "riscv64", target_os = "none"))]
const FULL: u8 = 64;

/// Root CNode slots [`ImageSpace::new`] uses, from the first one given:
/// the VSpace root, the space's CNode, and a scratch slot.
pub const ROOT_SLOTS: Word = 3;

/// The image's segments, from `link.ld`'s marks; every bound is page
/// aligned except `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLayout {
    /// `__executable_start`: the text segment.
    pub start: Word,
    /// `__rodata_start`: the read-only data.
    pub rodata: Word,
    /// `__data_start`: data and `.bss`, up to the end.
    pub data: Word,
    /// `_end`.
    pub end: Word,
}

/// Which segment an image page belongs to, and so how it is mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// Code: read and execute.
    Text,
    /// Read-only data: read, never execute.
    ReadOnly,
    /// Data and `.bss`: read-write, never execute.
    Data,
}

impl PageKind {
    /// The rights `Page_Map` is asked for.
    pub fn rights(self) -> CapRights {
        match self {
            PageKind::Text | PageKind::ReadOnly => CapRights::CAN_READ,
            PageKind::Data => CapRights::READ_WRITE,
        }
    }

    /// The `seL4_RISCV_VMAttributes` `Page_Map` is given (ABI ref §7.8).
    pub fn attributes(self) -> Word {
        match self {
            PageKind::Text => 0,
            PageKind::ReadOnly | PageKind::Data => EXECUTE_NEVER,
        }
    }
}

impl ImageLayout {
    /// The running root task's layout (`crate::image`).
    #[cfg(all(target_arch = "riscv64", target_os = "none"))]
    pub fn of_this_image() -> ImageLayout {
        ImageLayout {
            start: crate::image::start() as Word,
            rodata: crate::image::rodata_start() as Word,
            data: crate::image::data_start() as Word,
            end: crate::image::end() as Word,
        }
    }

    /// The segment of the page at `vaddr`.
    pub fn page_kind(&self, vaddr: Word) -> PageKind {
        if vaddr < self.rodata {
            PageKind::Text
        } else if vaddr < self.data {
            PageKind::ReadOnly
        } else {
            PageKind::Data
        }
    }

    /// The page holding `start`: where BootInfo's first image frame maps.
    pub fn first_page(&self) -> Word {
        self.start & !(PAGE - 1)
    }
}

/// The virtual addresses at which successive `PageTable_Map` calls install
/// the tables that `first..end` needs in a VSpace whose root holds nothing
/// below the kernel: per GiB touched, one table at its first 2 MiB (it
/// becomes the level-1 table, the first missing level), and per 2 MiB
/// touched, one more (the leaf table). In address order, so each leaf
/// comes after its level-1 table.
#[derive(Clone, Debug)]
pub struct TablePlan {
    /// The next 2 MiB region to cover.
    next: Word,
    /// One past the last byte to cover.
    end: Word,
    /// The GiB whose level-1 table is already planned.
    l1_done: Option<Word>,
}

impl TablePlan {
    /// The plan for `first..end` (nothing if `end ≤ first`).
    pub fn new(first: Word, end: Word) -> TablePlan {
        let next = first & !(LEAF_SPAN - 1);
        TablePlan {
            next,
            end: if end > first { end } else { next },
            l1_done: None,
        }
    }
}

impl Iterator for TablePlan {
    type Item = Word;

    fn next(&mut self) -> Option<Word> {
        if self.next >= self.end {
            return None;
        }
        let region = self.next;
        let gib = region & !(L1_SPAN - 1);
        if self.l1_done != Some(gib) {
            self.l1_done = Some(gib);
            return Some(region);
        }
        // The leaf table; the next region follows (or the plan ends).
        self.next = region.checked_add(LEAF_SPAN).unwrap_or(Word::MAX);
        Some(region)
    }
}

/// The radix of the smallest CNode (at least 2 slots, seL4's minimum) with
/// room for `n` capabilities; `None` beyond 2^32 slots.
pub fn cnode_radix(n: Word) -> Option<u32> {
    let radix = n.max(2).checked_next_power_of_two()?.trailing_zeros();
    (radix <= 32).then_some(radix)
}

/// Which step of building an [`ImageSpace`] failed, and how. What was made
/// before it stays; revoking the untyped removes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpaceError {
    /// BootInfo lists no image frame, or too many for a CNode.
    BadImage,
    /// `Untyped_Retype` of the named object failed.
    Retype(&'static str, sel4::Error),
    /// `ASIDPool_Assign` failed.
    Assign(sel4::Error),
    /// `PageTable_Map` at the address failed.
    MapTable(Word, sel4::Error),
    /// `CNode_Copy` of the image frame cap in the root slot failed.
    CopyFrame(Word, sel4::Error),
    /// `Page_Map` of the frame copy at the address failed.
    MapFrame(Word, sel4::Error),
    /// `CNode_Move` into the space's CNode failed.
    Move(sel4::Error),
}

impl core::fmt::Display for SpaceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpaceError::BadImage => write!(f, "no usable image frames in BootInfo"),
            SpaceError::Retype(what, e) => write!(f, "Untyped_Retype of the {what}: {e}"),
            SpaceError::Assign(e) => write!(f, "ASIDPool_Assign: {e}"),
            SpaceError::MapTable(va, e) => write!(f, "PageTable_Map at {va:#x}: {e}"),
            SpaceError::CopyFrame(s, e) => write!(f, "CNode_Copy of image frame {s:#x}: {e}"),
            SpaceError::MapFrame(va, e) => write!(f, "Page_Map at {va:#x}: {e}"),
            SpaceError::Move(e) => write!(f, "CNode_Move into the space's CNode: {e}"),
        }
    }
}

/// A second address space mapping the root task's image (module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageSpace {
    vspace: Word,
    cnode: CNode,
    radix: u8,
    used: Word,
}

impl ImageSpace {
    /// Builds the space from `untyped`, using root CNode slots
    /// `first_slot..first_slot + ROOT_SLOTS` (which must be empty). See
    /// the module doc for what is made and how it is torn down.
    #[cfg(all(target_arch = "riscv64", target_os = "none"))]
    pub fn new(
        bi: &BootInfo,
        untyped: Untyped,
        first_slot: Word,
    ) -> Result<ImageSpace, SpaceError> {
        let layout = ImageLayout::of_this_image();
        let frames = bi.user_image_frames();
        let n_frames = sel4::bootinfo::region_len(frames);
        let first = layout.first_page();
        let end = n_frames
            .checked_mul(PAGE)
            .and_then(|len| first.checked_add(len))
            .filter(|_| n_frames > 0)
            .ok_or(SpaceError::BadImage)?;
        let n_tables = TablePlan::new(first, end).count() as Word;
        let radix = n_frames
            .checked_add(n_tables)
            .and_then(cnode_radix)
            .ok_or(SpaceError::BadImage)?;
        let (vspace, cnode, scratch) = (first_slot, first_slot + 1, first_slot + 2);
        let root = init_caps::CNODE;
        let make = |t: ObjectType, bits: u32, slot: Word, what| {
            untyped
                .retype(t, Word::from(bits), root, 0, 0, slot, 1)
                .map_err(|e| SpaceError::Retype(what, e))
        };
        make(ObjectType::PageTable, 0, vspace, "VSpace root")?;
        make(ObjectType::CapTable, radix, cnode, "space's CNode")?;
        let mut space = ImageSpace {
            vspace,
            cnode: CNode::from_bits(cnode),
            radix: radix as u8, // ≤ 32 (`cnode_radix`)
            used: 0,
        };
        let vs = PageTable::from_bits(vspace);
        init_caps::ASID_POOL
            .assign(vs)
            .map_err(SpaceError::Assign)?;
        for va in TablePlan::new(first, end) {
            make(ObjectType::PageTable, 0, scratch, "page table")?;
            let mapped = PageTable::from_bits(scratch).map(vs, va, 0);
            space.keep(scratch, mapped.map_err(|e| SpaceError::MapTable(va, e)))?;
        }
        for (i, slot) in (frames.start..frames.end).enumerate() {
            let va = first + i as Word * PAGE;
            root.copy(scratch, FULL, root, slot, FULL, CapRights::ALL)
                .map_err(|e| SpaceError::CopyFrame(slot, e))?;
            let kind = layout.page_kind(va);
            let mapped = Frame::from_bits(scratch).map(vs, va, kind.rights(), kind.attributes());
            space.keep(scratch, mapped.map_err(|e| SpaceError::MapFrame(va, e)))?;
        }
        Ok(space)
    }

    /// After a step on the cap in `scratch`: on success moves it into the
    /// space's CNode, on failure deletes it; either way `scratch` ends
    /// empty.
    #[cfg(all(target_arch = "riscv64", target_os = "none"))]
    fn keep(&mut self, scratch: Word, step: Result<(), SpaceError>) -> Result<(), SpaceError> {
        let root = init_caps::CNODE;
        if let Err(e) = step {
            let _ = root.delete(scratch, FULL);
            return Err(e);
        }
        let moved: Result<(), Error> = self.cnode.move_(self.used, self.radix, root, scratch, FULL);
        if let Err(e) = moved {
            let _ = root.delete(scratch, FULL);
            return Err(SpaceError::Move(e));
        }
        self.used += 1;
        Ok(())
    }

    /// The root CNode slot of the space's VSpace root (a `PageTable` cap).
    pub fn vspace_slot(&self) -> Word {
        self.vspace
    }

    /// The space's CNode (in a root CNode slot), holding its page tables
    /// and frame copies.
    pub fn cnode(&self) -> CNode {
        self.cnode
    }

    /// Capabilities in the space's CNode (tables, then frames).
    pub fn caps_held(&self) -> Word {
        self.used
    }

    /// `crate::thread::prepare` for a thread of this space: configured
    /// with this VSpace root (and the root CNode), not yet running.
    ///
    /// # Safety
    /// As for `crate::thread::prepare`; also, `spec.entry` must use nothing
    /// this space does not map (module doc).
    #[cfg(target_os = "none")]
    pub unsafe fn prepare(
        &self,
        bi: &BootInfo,
        spec: &ThreadSpec,
        page: &'static IpcPage,
    ) -> Result<(), SpawnError> {
        let vs = PageTable::from_bits(self.vspace);
        // SAFETY: the caller's guarantees are `prepare_in`'s; this VSpace
        // maps the image at its own addresses.
        unsafe { crate::thread::prepare_in(bi, spec, page, vs) }
    }

    /// [`ImageSpace::prepare`], then Resume.
    ///
    /// # Safety
    /// As for [`ImageSpace::prepare`].
    #[cfg(target_os = "none")]
    pub unsafe fn spawn(
        &self,
        bi: &BootInfo,
        spec: &ThreadSpec,
        page: &'static IpcPage,
    ) -> Result<(), SpawnError> {
        // SAFETY: the caller's guarantees are `prepare`'s.
        unsafe { self.prepare(bi, spec, page)? };
        spec.tcb.resume().map_err(SpawnError::Resume)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_image_needs_one_table_per_level() {
        let plan: Vec<Word> = TablePlan::new(0x10000, 0x5_3000).collect();
        assert_eq!(plan, [0, 0], "level-1 table, then the leaf, at GiB 0");
    }

    #[test]
    fn image_across_2mib_gets_two_leaves() {
        let plan: Vec<Word> = TablePlan::new(0x1F_F000, 0x20_1000).collect();
        assert_eq!(plan, [0, 0, 0x20_0000]);
        // Ending exactly on the boundary needs no second leaf.
        let plan: Vec<Word> = TablePlan::new(0x10000, 0x20_0000).collect();
        assert_eq!(plan, [0, 0]);
    }

    #[test]
    fn image_across_a_gib_gets_two_level_1_tables() {
        let plan: Vec<Word> = TablePlan::new(0x3FFF_F000, 0x4000_1000).collect();
        assert_eq!(plan, [0x3FE0_0000, 0x3FE0_0000, 0x4000_0000, 0x4000_0000]);
    }

    #[test]
    fn empty_range_needs_nothing() {
        assert_eq!(TablePlan::new(0x10000, 0x10000).count(), 0);
        assert_eq!(TablePlan::new(0x20000, 0x10000).count(), 0);
    }

    #[test]
    fn plan_at_the_top_of_the_address_space_ends() {
        let top = Word::MAX & !(PAGE - 1);
        let plan: Vec<Word> = TablePlan::new(top, Word::MAX).collect();
        assert_eq!(plan.len(), 2);
    }

    #[test]
    fn radix_fits_the_caps() {
        assert_eq!(cnode_radix(0), Some(1));
        assert_eq!(cnode_radix(2), Some(1));
        assert_eq!(cnode_radix(3), Some(2));
        assert_eq!(cnode_radix(64), Some(6));
        assert_eq!(cnode_radix(65), Some(7));
        assert_eq!(cnode_radix(1 << 32), Some(32));
        assert_eq!(cnode_radix((1 << 32) + 1), None);
        assert_eq!(cnode_radix(Word::MAX), None);
    }

    #[test]
    fn pages_get_their_segments_rights() {
        let l = ImageLayout {
            start: 0x10040,
            rodata: 0x30000,
            data: 0x38000,
            end: 0x50123,
        };
        assert_eq!(l.first_page(), 0x10000);
        assert_eq!(l.page_kind(0x10000), PageKind::Text);
        assert_eq!(l.page_kind(0x2F000), PageKind::Text);
        assert_eq!(l.page_kind(0x30000), PageKind::ReadOnly);
        assert_eq!(l.page_kind(0x37000), PageKind::ReadOnly);
        assert_eq!(l.page_kind(0x38000), PageKind::Data);
        assert_eq!(l.page_kind(0x50000), PageKind::Data);
        assert_eq!(
            (PageKind::Text.rights(), PageKind::Text.attributes()),
            (CapRights::CAN_READ, 0)
        );
        assert_eq!(
            (PageKind::ReadOnly.rights(), PageKind::ReadOnly.attributes()),
            (CapRights::CAN_READ, EXECUTE_NEVER)
        );
        assert_eq!(
            (PageKind::Data.rights(), PageKind::Data.attributes()),
            (CapRights::READ_WRITE, EXECUTE_NEVER)
        );
        // An empty rodata segment: text runs straight into data.
        let l = ImageLayout {
            rodata: 0x38000,
            ..l
        };
        assert_eq!(l.page_kind(0x37000), PageKind::Text);
        assert_eq!(l.page_kind(0x38000), PageKind::Data);
    }
}
