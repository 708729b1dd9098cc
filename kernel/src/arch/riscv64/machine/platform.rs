//! The platform as the device tree describes it (QEMU `virt` under
//! OpenSBI, which adds a `no-map` reserved-memory node for itself at run
//! time). Parsed once at boot with the `fdt` crate, into fixed-size arrays.
#![allow(unsafe_code)]

use super::paddr_to_kptr;
use crate::arch::MAX_REGIONS;
use crate::types::{PAddr, Region, RegionSet};
use cairn_abi::image::KERNEL_PHYS_BASE;
use fdt::Fdt;

/// Up to [`MAX_REGIONS`] physical regions, sorted and merged.
pub type Regions = RegionSet<MAX_REGIONS>;

/// The PLIC (`riscv,plic0` / `sifive,plic-1.0.0`).
#[derive(Clone, Copy, Debug)]
pub struct PlicInfo {
    /// Register block.
    pub reg: Region,
    /// Number of interrupt sources (`riscv,ndev`).
    pub ndev: u32,
    /// The context of hart 0's S-mode (index in `interrupts-extended` whose
    /// cause is 9; 1 on QEMU `virt`).
    pub context: u32,
}

/// What the kernel needs to know about the machine.
#[derive(Clone, Copy, Debug)]
pub struct Platform {
    /// Usable RAM: memory nodes minus `no-map` reserved memory and minus
    /// the firmware's RAM below `KERNEL_PHYS_BASE`. Sorted.
    pub ram: Regions,
    /// Reserved memory without `no-map` and /memreserve/ entries, clipped
    /// to RAM; then the boot image and the DTB (added by `entry`). Sorted
    /// and merged, as every [`Regions`] is.
    pub reserved: Regions,
    /// PLIC and CLINT rounded out to 2 MiB.
    pub kernel_devices: Regions,
    /// `timebase-frequency` of /cpus (Hz).
    pub timebase: u64,
    /// The PLIC, if any.
    pub plic: Option<PlicInfo>,
    /// The CLINT, if any.
    pub clint: Option<Region>,
    /// The ns16550a UART, if any.
    pub uart: Option<Region>,
    /// Physical address of the sifive,test finisher, if any.
    pub test_finisher: Option<u64>,
    /// Where the DTB lies.
    pub dtb: Region,
}

const FDT_MAGIC: u32 = 0xd00d_feed;
/// Largest device tree accepted (a sanity bound on `totalsize`).
const FDT_MAX_SIZE: usize = 1 << 24;

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let w = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(w.try_into().ok()?))
}

fn first_reg(node: fdt::node::FdtNode<'_, '_>) -> Option<Region> {
    let r = node.reg()?.next()?;
    let start = r.starting_address as u64;
    Some(Region::new(
        start,
        start.saturating_add(r.size.unwrap_or(0) as u64),
    ))
}

fn round_out_2m(r: Region) -> Region {
    Region::new(
        crate::types::round_down(r.start, 21),
        crate::types::round_up(r.end, 21),
    )
}

/// Parses the device tree at physical address `dtb_pa`.
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
    let fdt = Fdt::new(bytes).map_err(|_| "malformed device tree")?;

    let mut ram = Regions::new();
    for node in fdt.all_nodes() {
        let is_memory = node.property("device_type").and_then(|p| p.as_str()) == Some("memory");
        if is_memory {
            for r in node.reg().into_iter().flatten() {
                let start = r.starting_address as u64;
                ram.add(Region::new(
                    start,
                    start.saturating_add(r.size.unwrap_or(0) as u64),
                ))?;
            }
        }
    }

    let mut reserved = Regions::new();
    if let Some(rm) = fdt.find_node("/reserved-memory") {
        for child in rm.children() {
            let no_map = child.property("no-map").is_some();
            for r in child.reg().into_iter().flatten() {
                let start = r.starting_address as u64;
                let region = Region::new(start, start.saturating_add(r.size.unwrap_or(0) as u64));
                if no_map {
                    ram.subtract(region)?;
                } else {
                    reserved.add(region)?;
                }
            }
        }
    }
    for m in fdt.memory_reservations() {
        let start = m.address() as u64;
        reserved.add(Region::new(start, start.saturating_add(m.size() as u64)))?;
    }
    // The SBI firmware owns the RAM below the kernel's load address (OpenSBI
    // puts its payload at the 2 MiB boundary after itself). seL4's
    // qemu-riscv-virt overlay marks [0x80000000, 0x80200000) no-map, while
    // the DT OpenSBI passes at run time reserves only part of it and
    // without no-map: remove all of it from RAM, as seL4 does, so that it
    // becomes a device untyped (ABI ref §6.6).
    ram.subtract(Region::new(0, KERNEL_PHYS_BASE))?;
    let mut clipped = Regions::new();
    for r in reserved.as_slice() {
        for w in ram.as_slice() {
            clipped.add(Region::new(r.start.max(w.start), r.end.min(w.end)))?;
        }
    }
    let reserved = clipped;

    let timebase = fdt
        .find_node("/cpus")
        .and_then(|c| c.property("timebase-frequency"))
        .and_then(|p| p.as_usize())
        .ok_or("no timebase-frequency in /cpus")? as u64;

    let plic = fdt
        .find_compatible(&["riscv,plic0", "sifive,plic-1.0.0"])
        .and_then(|n| {
            let reg = first_reg(n)?;
            let ndev = n
                .property("riscv,ndev")
                .and_then(|p| p.as_usize())
                .unwrap_or(0) as u32;
            Some(PlicInfo {
                reg,
                ndev,
                context: s_mode_context(n).unwrap_or(1),
            })
        });
    let clint = fdt
        .find_compatible(&["riscv,clint0", "sifive,clint0"])
        .and_then(first_reg);
    let uart = fdt.find_compatible(&["ns16550a"]).and_then(first_reg);
    let test_finisher = fdt
        .find_compatible(&["sifive,test1", "sifive,test0"])
        .and_then(first_reg)
        .map(|r| r.start);

    let mut kernel_devices = Regions::new();
    if let Some(p) = plic {
        kernel_devices.add(round_out_2m(p.reg))?;
    }
    if let Some(c) = clint {
        kernel_devices.add(round_out_2m(c))?;
    }

    Ok(Platform {
        ram,
        reserved,
        kernel_devices,
        timebase,
        plic,
        clint,
        uart,
        test_finisher,
        dtb: Region::new(dtb_pa, dtb_pa + size as u64),
    })
}

/// The PLIC context of the first hart's S-mode: the index of the first
/// (phandle, cause) pair in `interrupts-extended` whose cause is 9
/// (supervisor external interrupt).
fn s_mode_context(plic: fdt::node::FdtNode<'_, '_>) -> Option<u32> {
    let v = plic.property("interrupts-extended")?.value;
    (0..v.len() / 8)
        .find(|i| be32(v, i * 8 + 4) == Some(9))
        .map(|i| i as u32)
}
