//! The platform: what the kernel knows of the machine (QEMU `virt` under
//! OpenSBI) — RAM, reserved memory, the devices it drives, the timebase.
//! Two sources, chosen by the build's `platform` option
//! (`config::PLATFORM_STATIC`):
//!
//! - `platform=dtb` (the default): [`from_blob`] reads the device tree the
//!   firmware hands the kernel, once at boot, with the kernel's own reader
//!   (`types::fdt`). OpenSBI adds a reserved-memory node for itself at run
//!   time.
//! - `platform=static`: [`BUILT`], a table the xtask generated at build
//!   time from QEMU's own device tree (`xtask/src/platform.rs`, which
//!   reads it with the `fdt` crate), turned into a [`Platform`] by
//!   [`from_static`]. So seL4 takes its platform from its build (its DTS
//!   processed by `hardware_gen.py`), and so its kernel has no
//!   device-tree parser. Such a kernel describes the machine it was built
//!   for, whatever tree it is handed (docs/architecture.md, "Platform").
//!
//! Both compile for the host too, so that a test can check that they
//! agree on the same tree (`xtask`'s `platform::tests`). Everything here
//! runs only at boot: kernel.ld puts it in `.boot`.

use crate::arch::MAX_REGIONS;
use crate::types::fdt::{self, be32, Fdt, Node};
use crate::types::TooManyRegions;
use crate::types::{Region, RegionSet};
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

/// The platform as the xtask found it at build time (`platform=static`):
/// [`Platform`] less what only boot knows (where the DTB lies), each set
/// of regions a sorted list.
#[derive(Clone, Copy, Debug)]
pub struct StaticPlatform {
    /// [`Platform::ram`].
    pub ram: &'static [Region],
    /// [`Platform::reserved`], before boot adds the image and the DTB.
    pub reserved: &'static [Region],
    /// [`Platform::kernel_devices`].
    pub kernel_devices: &'static [Region],
    /// [`Platform::timebase`].
    pub timebase: u64,
    /// [`Platform::sstc`].
    pub sstc: bool,
    /// [`Platform::plic`].
    pub plic: Option<PlicInfo>,
    /// [`Platform::clint`].
    pub clint: Option<Region>,
    /// [`Platform::uart`].
    pub uart: Option<Region>,
    /// [`Platform::test_finisher`].
    pub test_finisher: Option<u64>,
}

/// This build's platform: `Some` if built with `platform=static` (the
/// xtask's table, through `build.rs`), else `None`.
pub const BUILT: Option<StaticPlatform> = include!(concat!(env!("OUT_DIR"), "/platform.rs"));

/// The [`Platform`] a static table describes, with the DTB at `dtb`.
pub fn from_static(s: &StaticPlatform, dtb: Region) -> Result<Platform, TooManyRegions> {
    Ok(Platform {
        ram: regions(s.ram)?,
        reserved: regions(s.reserved)?,
        kernel_devices: regions(s.kernel_devices)?,
        timebase: s.timebase,
        sstc: s.sstc,
        plic: s.plic,
        clint: s.clint,
        uart: s.uart,
        test_finisher: s.test_finisher,
        dtb,
    })
}

/// The set of `list`'s regions. Out of line: one copy for the three sets.
#[inline(never)]
fn regions(list: &[Region]) -> Result<Regions, TooManyRegions> {
    let mut set = Regions::new();
    for r in list {
        set.add(*r)?;
    }
    Ok(set)
}

fn round_out_2m(r: Region) -> Region {
    Region::new(
        crate::types::round_down(r.start, 21),
        crate::types::round_up(r.end, 21),
    )
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
        // The first node of each kind, as the tree lists them; the node's
        // `compatible` read once for the four kinds (each read scans the
        // node's properties and their names).
        let compatible = node.prop(b"compatible").unwrap_or(&[]);
        if self.plic.is_none() {
            let mut reg = None;
            let names = ["riscv,plic0", "sifive,plic-1.0.0"];
            if first_of(node, compatible, &names, &mut reg) {
                self.plic = reg.map(|reg| PlicInfo {
                    reg,
                    ndev: node.prop(b"riscv,ndev").and_then(fdt::cells).unwrap_or(0) as u32,
                    context: s_mode_context(node).unwrap_or(1),
                });
            }
        }
        let clint = ["riscv,clint0", "sifive,clint0"];
        first_of(node, compatible, &clint, &mut self.clint);
        first_of(node, compatible, &["ns16550a"], &mut self.uart);
        let test = ["sifive,test1", "sifive,test0"];
        first_of(node, compatible, &test, &mut self.test_finisher);
        Ok(())
    }
}

/// If `found` is still empty and `node`'s `compatible` lists one of
/// `names`: sets `found` to the node's first `reg` region (`None` if it
/// has none, as before the node) and answers true. Out of line: one copy
/// for the four device kinds.
#[inline(never)]
fn first_of(
    node: &Node<'_>,
    compatible: &[u8],
    names: &[&str],
    found: &mut Option<Region>,
) -> bool {
    if found.is_some() || !fdt::lists_any(compatible, names) {
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

/// The platform the device tree blob `bytes` describes, the blob lying
/// at `dtb`: built whole in the result, not completed by the caller (the
/// machine layer's `parse`, into which it is inlined), which took three
/// more copies of the platform (+244 bytes of `.boot`).
pub fn from_blob(bytes: &[u8], dtb: Region) -> Result<Platform, &'static str> {
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
        dtb,
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
