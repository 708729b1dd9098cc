//! The hostile thread's address space (ch. 7 Address Spaces and Virtual
//! Memory): the root task's image at its own addresses, but only its code
//! and read-only data are the root task's frames (mapped read-only); every
//! page of data and `.bss` is a **private copy** in a frame of its own,
//! filled here from the monitor's page at the time of the copy. So the
//! hostile's statics, stack and IPC buffer (statics of the image) are its
//! own memory, and nothing it can write is the monitor's or the victim's.
//!
//! Also mapped: the tables for [`FRAME_VA`], where the hostile may map the
//! frame it was given. Nothing else: not the monitor's IPC buffer, not the
//! BootInfo, not [`SCRATCH_VA`] (the monitor's copy window).

use crate::alloc::Pool;
use cairn_rt::space::{ImageLayout, PageKind, TablePlan};
use sel4::abi::vm::EXECUTE_NEVER;
use sel4::cap::init_caps;
use sel4::{BootInfo, CapRights, Frame, ObjectType, PageTable, Word};

const PAGE: Word = 4096;
/// Where the monitor maps a data frame to fill it (its own VSpace only).
pub const SCRATCH_VA: Word = 0x6000_0000;
/// Where the hostile may map its own frame (tables made here).
pub const FRAME_VA: Word = 0x4000_0000;

/// The hostile's VSpace root and the frame holding a given page's copy.
pub struct HostileSpace {
    pub vspace: PageTable,
    /// (vaddr, frame) of every private data page, in address order.
    data: [(Word, Word); MAX_DATA_PAGES],
    n_data: usize,
}

/// Data and `.bss` pages the image may have (stacks of three threads and
/// their IPC pages included).
const MAX_DATA_PAGES: usize = 64;

impl HostileSpace {
    /// The private frame that maps `vaddr`'s page, if it is a data page.
    pub fn data_frame(&self, vaddr: Word) -> Option<Frame> {
        let page = vaddr & !(PAGE - 1);
        self.data
            .get(..self.n_data)?
            .iter()
            .find(|(va, _)| *va == page)
            .map(|(_, f)| Frame::from_bits(*f))
    }
}

/// Level-1 and leaf tables for the 2 MiB at `va` in `vspace`.
pub fn tables(pool: &mut Pool, vspace: PageTable, va: Word) -> Result<(), &'static str> {
    for _ in 0..2 {
        let t = PageTable::from_bits(pool.create(ObjectType::PageTable, 0)?);
        t.map(vspace, va, 0).map_err(|_| "PageTable_Map")?;
    }
    Ok(())
}

/// Builds the space. Must run after every static the hostile needs at
/// start is set (its thread slot): the data pages are copied now.
pub fn build(bi: &BootInfo, pool: &mut Pool) -> Result<HostileSpace, &'static str> {
    let layout = ImageLayout::of_this_image();
    let frames = bi.user_image_frames();
    let first = layout.first_page();
    let end = first + sel4::bootinfo::region_len(frames) * PAGE;
    let vspace = PageTable::from_bits(pool.create(ObjectType::PageTable, 0)?);
    init_caps::ASID_POOL
        .assign(vspace)
        .map_err(|_| "ASIDPool_Assign")?;
    for va in TablePlan::new(first, end) {
        let t = PageTable::from_bits(pool.create(ObjectType::PageTable, 0)?);
        t.map(vspace, va, 0).map_err(|_| "PageTable_Map (image)")?;
    }
    tables(pool, vspace, FRAME_VA)?;
    tables(pool, init_caps::VSPACE, SCRATCH_VA)?;
    let mut space = HostileSpace {
        vspace,
        data: [(0, 0); MAX_DATA_PAGES],
        n_data: 0,
    };
    for (i, slot) in (frames.start..frames.end).enumerate() {
        let va = first + i as Word * PAGE;
        let kind = layout.page_kind(va);
        let frame = if kind == PageKind::Data {
            let f = Frame::from_bits(pool.create(ObjectType::SmallPage, 0)?);
            copy_page(f, va)?;
            let entry = space
                .data
                .get_mut(space.n_data)
                .ok_or("too many data pages")?;
            *entry = (va, f.bits());
            space.n_data += 1;
            f
        } else {
            let copy = pool.slot()?;
            init_caps::CNODE
                .copy(copy, 64, init_caps::CNODE, slot, 64, CapRights::ALL)
                .map_err(|_| "CNode_Copy of an image frame")?;
            Frame::from_bits(copy)
        };
        frame
            .map(vspace, va, kind.rights(), kind.attributes())
            .map_err(|_| "Page_Map in the hostile space")?;
    }
    Ok(space)
}

/// Fills `f` with the monitor's page at `va` through [`SCRATCH_VA`].
fn copy_page(f: Frame, va: Word) -> Result<(), &'static str> {
    f.map(
        init_caps::VSPACE,
        SCRATCH_VA,
        CapRights::READ_WRITE,
        EXECUTE_NEVER,
    )
    .map_err(|_| "Page_Map at the scratch window")?;
    for off in (0..PAGE).step_by(8) {
        // SAFETY: `va` is a data page of this image, mapped readable here;
        // `f` is mapped read-write at SCRATCH_VA (the kernel said so just
        // above), a window nothing else uses; both offsets stay in the page.
        unsafe {
            let w = ((va + off) as *const Word).read_volatile();
            ((SCRATCH_VA + off) as *mut Word).write_volatile(w);
        }
    }
    f.unmap().map_err(|_| "Page_Unmap of the scratch window")
}
