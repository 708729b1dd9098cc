//! Where the platform comes from at boot: the device tree's header at the
//! address the firmware passes (its extent is reserved and handed to the
//! root task either way), then the tree itself or, in a `platform=static`
//! build, the table compiled in (`arch::riscv64::platform`).
#![allow(unsafe_code)]

use super::paddr_to_kptr;
pub use crate::arch::platform::Platform;
use crate::arch::platform::{from_blob, from_static, BUILT};
use crate::types::fdt::be32;
use crate::types::{PAddr, Region};

const FDT_MAGIC: u32 = 0xd00d_feed;
/// Largest device tree accepted (a sanity bound on `totalsize`).
const FDT_MAX_SIZE: usize = 1 << 24;

/// The platform, with the device tree at physical address `dtb_pa`: its
/// header checked in either build, the tree parsed unless the platform
/// was compiled in. Out of line: one function the size of all boot was
/// spilling registers to the stack throughout.
#[inline(never)]
pub fn parse(dtb_pa: u64) -> Result<Platform, &'static str> {
    if dtb_pa == 0 || dtb_pa >= super::PADDR_TOP - 8 {
        return Err("no device tree");
    }
    let base = paddr_to_kptr(PAddr(dtb_pa)) as *const u8;
    // SAFETY: the header's first 8 bytes lie in RAM below PADDR_TOP, which
    // the physical-memory window maps; OpenSBI put the DTB there and nothing
    // writes it while the kernel runs (it is reserved).
    let head = unsafe { core::slice::from_raw_parts(base, 8) };
    if be32(head, 0) != Some(FDT_MAGIC) {
        return Err("bad device tree magic");
    }
    let size = be32(head, 4).unwrap_or(0) as usize;
    if !(8..=FDT_MAX_SIZE).contains(&size) || dtb_pa + size as u64 > super::PADDR_TOP {
        return Err("bad device tree size");
    }
    // SAFETY: as above, for the `totalsize` bytes the header declares
    // (bounded and inside the window); the slice is only read.
    let bytes: &'static [u8] = unsafe { core::slice::from_raw_parts(base, size) };
    let dtb = Region::new(dtb_pa, dtb_pa + size as u64);
    // `BUILT` is a constant: a static build links no device-tree parser.
    match BUILT {
        Some(s) => Ok(from_static(&s, dtb)?),
        None => from_blob(bytes, dtb),
    }
}
