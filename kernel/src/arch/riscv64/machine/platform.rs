//! The platform as the device tree describes it (QEMU `virt` under
//! OpenSBI, which adds a `no-map` reserved-memory node for itself at run
//! time). Parsed once at boot with the kernel's own reader (`types::fdt`),
//! into fixed-size arrays.
#![allow(unsafe_code)]

use super::paddr_to_kptr;
use crate::arch::MAX_REGIONS;
use crate::types::fdt::{self, be32, Fdt, Node};
use crate::types::TooManyRegions;
use crate::types::{PAddr, Region, RegionSet};
use cairn_abi::image::KERNEL_PHYS_BASE;

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
    /// The first hart's ISA string names the Sstc extension (`stimecmp`
    /// in S-mode; QEMU 7.2's `virt` has it, which OpenSBI enables).
    pub sstc: bool,
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

fn round_out_2m(r: Region) -> Region {
    Region::new(
        crate::types::round_down(r.start, 21),
        crate::types::round_up(r.end, 21),
    )
}

/// Parses the device tree at physical address `dtb_pa`. Out of line, as
/// [`Found::visit`]: one function the size of all boot was spilling
/// registers to the stack throughout.
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
    let mut p = from_blob(bytes)?;
    p.dtb = Region::new(dtb_pa, dtb_pa + size as u64);
    Ok(p)
}

/// What one pass over the nodes collects.
#[derive(Default)]
struct Found {
    ram: Regions,
    no_map: Regions,
    reserved: Regions,
    timebase: Option<u64>,
    /// Whether the first hart's ISA string names Sstc (`None`: no hart
    /// met yet).
    sstc: Option<bool>,
    plic: Option<PlicInfo>,
    clint: Option<Region>,
    uart: Option<Region>,
    /// The finisher's first `reg` region (its start is the address).
    test_finisher: Option<Region>,
    /// The first error met (the pass itself cannot stop early).
    error: Option<&'static str>,
}

impl Found {
    #[inline(never)]
    fn visit(&mut self, node: &Node<'_>) {
        if let Err(e) = self.visit_fallible(node) {
            self.error.get_or_insert(e.into());
        }
    }

    fn visit_fallible(&mut self, node: &Node<'_>) -> Result<(), TooManyRegions> {
        if node.prop(b"device_type") == Some(b"memory\0") {
            add_regs(node, &mut self.ram)?;
        }
        // The children of /reserved-memory.
        if node.depth == 2 && node.parent == Some(b"reserved-memory") {
            let into = match node.prop(b"no-map") {
                Some(_) => &mut self.no_map,
                None => &mut self.reserved,
            };
            add_regs(node, into)?;
        }
        if node.depth == 1 && node.name == b"cpus" {
            self.timebase = node.prop(b"timebase-frequency").and_then(fdt::cells);
        }
        if self.sstc.is_none() && node.depth == 2 && node.parent == Some(b"cpus") {
            if let Some(isa) = node.prop(b"riscv,isa") {
                self.sstc = Some(isa_has_sstc(isa));
            }
        }
        // The first node of each kind, as the tree lists them.
        if self.plic.is_none() {
            let mut reg = None;
            if first_of(node, &["riscv,plic0", "sifive,plic-1.0.0"], &mut reg) {
                self.plic = reg.map(|reg| PlicInfo {
                    reg,
                    ndev: node.prop(b"riscv,ndev").and_then(fdt::cells).unwrap_or(0) as u32,
                    context: s_mode_context(node).unwrap_or(1),
                });
            }
        }
        first_of(node, &["riscv,clint0", "sifive,clint0"], &mut self.clint);
        first_of(node, &["ns16550a"], &mut self.uart);
        first_of(
            node,
            &["sifive,test1", "sifive,test0"],
            &mut self.test_finisher,
        );
        Ok(())
    }
}

/// If `found` is still empty and `node` is compatible with one of
/// `names`: sets `found` to the node's first `reg` region (`None` if it
/// has none, as before the node) and answers true. Out of line: one copy
/// for the four device kinds.
#[inline(never)]
fn first_of(node: &Node<'_>, names: &[&str], found: &mut Option<Region>) -> bool {
    if found.is_some() || !node.is_compatible(names) {
        return false;
    }
    *found = node.first_reg();
    true
}

/// Adds every `reg` pair of `node` to `into`. Out of line: called for
/// memory and reserved-memory nodes, one copy of the loop for both.
#[inline(never)]
fn add_regs(node: &Node<'_>, into: &mut Regions) -> Result<(), TooManyRegions> {
    for (start, size) in node.reg() {
        into.add(Region::new(start, start.saturating_add(size)))?;
    }
    Ok(())
}

/// The platform a device tree blob describes (`dtb` left empty).
pub fn from_blob(bytes: &[u8]) -> Result<Platform, &'static str> {
    let fdt = Fdt::new(bytes)?;
    let mut found = Found::default();
    fdt.for_each_node(|node| found.visit(node))?;
    if let Some(e) = found.error {
        return Err(e);
    }
    let Found {
        mut ram,
        no_map,
        mut reserved,
        timebase,
        sstc,
        plic,
        clint,
        uart,
        test_finisher,
        error: _,
    } = found;
    for r in no_map.as_slice() {
        ram.subtract(*r)?;
    }
    for (start, size) in fdt.reservations() {
        reserved.add(Region::new(start, start.saturating_add(size)))?;
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
    let mut kernel_devices = Regions::new();
    if let Some(p) = plic {
        kernel_devices.add(round_out_2m(p.reg))?;
    }
    if let Some(c) = clint {
        kernel_devices.add(round_out_2m(c))?;
    }
    Ok(Platform {
        ram,
        reserved: clipped,
        kernel_devices,
        timebase: timebase.ok_or("no timebase-frequency in /cpus")?,
        sstc: sstc.unwrap_or(false),
        plic,
        clint,
        uart,
        test_finisher: test_finisher.map(|r| r.start),
        dtb: Region::new(0, 0),
    })
}

/// Whether an ISA string (`rv64imafdc_zicsr_..._sstc`, NUL-terminated
/// as the tree stores it) names Sstc: one of its `_`-separated
/// multi-letter extensions, in any case. One pass keeping the current
/// extension's last four bytes, lower-cased, in a word (the iterator
/// form, `split`/`skip`/`eq_ignore_ascii_case`, was 0.25 KiB).
fn isa_has_sstc(isa: &[u8]) -> bool {
    const SSTC: u32 = u32::from_be_bytes(*b"sstc");
    let isa = isa.strip_suffix(b"\0").unwrap_or(isa);
    // `len` counts the bytes of the token being read; `ext` is false in
    // the base ISA (before the first `_`), which is never an extension.
    let (mut word, mut len, mut ext) = (0u32, 0usize, false);
    for &b in isa {
        if b == b'_' {
            if ext && len == 4 && word == SSTC {
                return true;
            }
            (word, len, ext) = (0, 0, true);
        } else {
            word = (word << 8) | u32::from(b.to_ascii_lowercase());
            len += 1;
        }
    }
    ext && len == 4 && word == SSTC
}

/// The PLIC context of the first hart's S-mode: the index of the first
/// (phandle, cause) pair in `interrupts-extended` whose cause is 9
/// (supervisor external interrupt).
fn s_mode_context(plic: &Node<'_>) -> Option<u32> {
    let v = plic.prop(b"interrupts-extended")?;
    (0..v.len() / 8)
        .find(|i| be32(v, i * 8 + 4) == Some(9))
        .map(|i| i as u32)
}
