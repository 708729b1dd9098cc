//! Boot: creating the root task exactly as seL4 does (ch. 9 Bootstrapping;
//! ABI ref §6). The machine layer describes the platform in [`BootParams`]
//! and calls [`boot_root_task`] through `api::Api` (`arch::Kernel::boot`);
//! everything here is architecture-neutral and runs on the host in tests.

pub use crate::arch::{BootParams, MAX_REGIONS};
use crate::types::{Region, RegionSet, TooManyRegions};

/// Why the kernel cannot boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootError {
    /// The device tree describes no usable memory.
    NoMemory,
    /// No free RAM region can hold the root task's objects.
    RootTaskDoesNotFit,
    /// The user image lies outside RAM or overlaps something else.
    BadUserImage,
    /// More regions than the kernel can track.
    TooManyRegions,
}

impl From<TooManyRegions> for BootError {
    fn from(_: TooManyRegions) -> BootError {
        BootError::TooManyRegions
    }
}

impl From<BootError> for &'static str {
    fn from(e: BootError) -> &'static str {
        match e {
            BootError::NoMemory => "no memory described by the device tree",
            BootError::RootTaskDoesNotFit => "the root task's objects do not fit in free memory",
            BootError::BadUserImage => "the user image lies outside RAM",
            BootError::TooManyRegions => "too many memory regions",
        }
    }
}

impl core::fmt::Display for BootError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str((*self).into())
    }
}

pub mod bootinfo;
pub mod regions;
pub mod root;

use crate::cap::Cap;
use crate::types::PAddr;
use cairn_abi::bootinfo::{SlotRegion, MAX_BOOTINFO_UNTYPED_CAPS};
use cairn_abi::object::{MAX_UNTYPED_BITS, MIN_UNTYPED_BITS};
use regions::for_each_untyped_block;

/// Physical address space covered by device untypeds (Sv39: 2^39).
pub const PADDR_SPACE_END: u64 = 1 << 39;

/// Creates the root task exactly as seL4 does and makes it the thread to
/// run: objects, initial CSpace, VSpace with the image mapped, bootinfo and
/// extra bootinfo, untyped caps for all free memory (ABI ref §6). Out
/// of line: see `platform::parse`.
#[inline(never)]
pub fn boot_root_task(p: &BootParams) -> Result<(), BootError> {
    let mut ram = RegionSet::<MAX_REGIONS>::new();
    for r in p.ram {
        ram.add(*r)?;
    }
    if ram.as_slice().is_empty() {
        return Err(BootError::NoMemory);
    }
    let h = p.header;
    let user = Region::new(
        p.user_image_paddr,
        p.user_image_paddr.saturating_add(h.user_size),
    );
    if !p.user_image_paddr.is_multiple_of(4096) || !ram.contains(user) {
        return Err(BootError::BadUserImage);
    }
    let mut free = ram;
    for r in p.reserved {
        free.subtract(*r)?;
    }
    free.subtract(user)?;
    // The boot code runs from `boot_reuse` until the root task does, so
    // nothing is allocated there; it is handed out only as untyped caps,
    // which the root task can use once boot is over. A region that is not
    // RAM or that holds the user image or the DTB stays reserved.
    let dtb_region = p.dtb.unwrap_or_default();
    let reuse = p.boot_reuse;
    let reuse = if !reuse.is_empty()
        && ram.contains(reuse)
        && !reuse.overlaps(&user)
        && !reuse.overlaps(&dtb_region)
    {
        free.subtract(reuse)?;
        reuse
    } else {
        Region::default()
    };

    let cnode_bits = crate::config::ROOT_CNODE_SIZE_BITS;
    let tcb_bits = crate::config::TCB_BITS;
    let dtb = p.dtb.filter(|d| !d.is_empty());
    let layout = root::RootLayout::compute(h, dtb.map(|d| d.len()), cnode_bits, tcb_bits)?;
    let block = free
        .alloc_from_top(layout.block_size, layout.block_align)
        .ok_or(BootError::RootTaskDoesNotFit)?;
    crate::object::access::zero(PAddr(block), layout.block_size);
    let dtb_src = dtb.map(|d| (PAddr(d.start), d.len()));
    let mut rt = root::create(&layout, block, h, p.user_image_paddr, dtb_src, tcb_bits);

    // Untypeds: device memory first, then the recycled boot code, then
    // free RAM (ABI ref §6.6).
    let mut devices = RegionSet::<{ 2 * MAX_REGIONS }>::new();
    devices.add(Region::new(0, PADDR_SPACE_END))?;
    for r in ram.as_slice().iter().chain(p.kernel_devices) {
        devices.subtract(*r)?;
    }
    let mut uts = Untypeds {
        cnode: rt.cnode,
        bootinfo: rt.bootinfo,
        next_slot: rt.next_slot,
        capacity: 1u64 << cnode_bits,
        n: 0,
    };
    uts.add(devices.as_slice(), true);
    uts.add(&[reuse], false);
    uts.add(free.as_slice(), false);
    rt.values.untyped = SlotRegion {
        start: rt.next_slot,
        end: uts.next_slot,
    };
    rt.values.empty = SlotRegion {
        start: uts.next_slot,
        end: uts.capacity,
    };
    bootinfo::write_boot_info(rt.bootinfo, &rt.values);

    // seL4 boots with the root thread as the scheduler's candidate.
    crate::sched::possible_switch_to(rt.tcb);
    Ok(())
}

/// The untyped caps as boot makes them: each into the next free slot of
/// the root CNode, its descriptor straight into the (zeroed) bootinfo
/// frame (ABI ref §6.6).
struct Untypeds {
    cnode: PAddr,
    bootinfo: PAddr,
    next_slot: u64,
    capacity: u64,
    /// Descriptors written so far.
    n: usize,
}

impl Untypeds {
    /// Cuts every region of `set` into untyped blocks, in order. Out of
    /// line: one copy for the three kinds of region (the loop over them
    /// was unrolled into three copies).
    #[inline(never)]
    fn add(&mut self, set: &[Region], is_device: bool) {
        for r in set {
            for_each_untyped_block(*r, MIN_UNTYPED_BITS, MAX_UNTYPED_BITS, |paddr, bits| {
                if self.n >= MAX_BOOTINFO_UNTYPED_CAPS || self.next_slot >= self.capacity {
                    return; // seL4 silently drops the excess
                }
                root::put(
                    self.cnode,
                    self.next_slot,
                    Cap::Untyped {
                        ptr: PAddr(paddr),
                        size_bits: bits as u8,
                        free_index: 1 << bits,
                        is_device,
                    },
                );
                bootinfo::write_untyped_desc(self.bootinfo, self.n, paddr, bits, is_device);
                self.n += 1;
                self.next_slot += 1;
            });
        }
    }
}

#[cfg(test)]
mod tests;
