//! `--config platform=static`: the kernel's platform (RAM, reserved
//! memory, the devices it drives, the timebase) found at build time, as
//! seL4's build finds its platform in the board's DTS (`hardware_gen.py`),
//! so that the kernel carries no device-tree parser. The xtask dumps QEMU's
//! own device tree for the machine every image boots on
//! (`qemu::dump_dtb`: the same `-m`, `-smp` and `-cpu`), reads it with the
//! `fdt` crate, and writes the facts as a Rust expression the kernel's
//! build script includes (`CAIRN_PLATFORM`; the kernel side is
//! `kernel/src/arch/riscv64/platform.rs`, `StaticPlatform`).
//!
//! The facts are those the kernel's boot-time parse (`platform::from_blob`)
//! derives from the same tree, by the same rules, written again here over
//! another reader; the tests below check that the two agree on QEMU's tree
//! and on one shaped as OpenSBI hands it over (reserved memory, a
//! `/memreserve/`, the PLIC's M-mode contexts masked). docs/architecture.md,
//! "Platform".

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cairn_abi::image::KERNEL_PHYS_BASE;

/// A physical region `[start, end)`.
pub type Span = (u64, u64);

/// The platform facts, as the kernel's `StaticPlatform` holds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Usable RAM: memory nodes minus `no-map` reserved memory and the
    /// firmware's RAM below the kernel's load address. Sorted, merged.
    pub ram: Vec<Span>,
    /// Other reserved memory and `/memreserve/` entries, clipped to RAM.
    pub reserved: Vec<Span>,
    /// The PLIC's and CLINT's registers rounded out to 2 MiB.
    pub kernel_devices: Vec<Span>,
    /// `/cpus/timebase-frequency`.
    pub timebase: u64,
    /// The first hart's ISA string names Sstc.
    pub sstc: bool,
    /// The PLIC: registers, `riscv,ndev`, hart 0's S-mode context.
    pub plic: Option<(Span, u32, u32)>,
    pub clint: Option<Span>,
    pub uart: Option<Span>,
    /// The sifive,test finisher's address.
    pub test_finisher: Option<u64>,
}

/// Dumps QEMU's device tree into `dir` and writes the facts read from it
/// as `dir/qemu-virt.rs` (rewritten only if they changed, so that the
/// kernel is not rebuilt for nothing); returns that file's path.
pub fn generate(dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dtb = dir.join("qemu-virt.dtb");
    crate::qemu::dump_dtb(&dtb)?;
    let blob = std::fs::read(&dtb).map_err(|e| format!("{}: {e}", dtb.display()))?;
    let facts = facts(&blob).map_err(|e| format!("{}: {e}", dtb.display()))?;
    let text = render(&facts, &crate::qemu::machine_line());
    let out = dir.join("qemu-virt.rs");
    if std::fs::read_to_string(&out).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(out)
}

/// The facts a device tree blob describes, by the kernel's rules
/// (`platform::from_blob`; its `Found::visit` says which node gives what).
pub fn facts(blob: &[u8]) -> Result<Facts, String> {
    let fdt = fdt::Fdt::new(blob).map_err(|e| format!("device tree: {e:?}"))?;
    let regs = |n: fdt::node::FdtNode| -> Vec<Span> {
        n.reg()
            .into_iter()
            .flatten()
            .map(|r| {
                let start = r.starting_address as u64;
                (start, start.saturating_add(r.size.unwrap_or(0) as u64))
            })
            .collect()
    };
    let first_reg = |names: &[&str]| {
        fdt.find_compatible(names)
            .and_then(|n| regs(n).first().copied())
    };
    let mut ram = vec![];
    for n in fdt.all_nodes() {
        if n.property("device_type").and_then(|p| p.as_str()) == Some("memory") {
            ram.extend(regs(n));
        }
    }
    let (mut no_map, mut reserved) = (vec![], vec![]);
    if let Some(rm) = fdt.find_node("/reserved-memory") {
        for child in rm.children() {
            let into = if child.property("no-map").is_some() {
                &mut no_map
            } else {
                &mut reserved
            };
            into.extend(regs(child));
        }
    }
    for r in fdt.memory_reservations() {
        let start = r.address() as u64;
        reserved.push((start, start.saturating_add(r.size() as u64)));
    }
    let mut ram = normalise(ram);
    for cut in no_map.into_iter().chain([(0, KERNEL_PHYS_BASE)]) {
        ram = subtract(&ram, cut);
    }
    let reserved = normalise(
        normalise(reserved)
            .iter()
            .flat_map(|r| ram.iter().map(|w| (r.0.max(w.0), r.1.min(w.1))))
            .collect(),
    );
    let cpus = fdt.find_node("/cpus").ok_or("no /cpus")?;
    let timebase = cpus
        .property("timebase-frequency")
        .and_then(|p| p.as_usize())
        .ok_or("no timebase-frequency in /cpus")? as u64;
    let sstc = cpus
        .children()
        .find_map(|c| c.property("riscv,isa")?.as_str())
        .is_some_and(isa_has_sstc);
    let plic = fdt
        .find_compatible(&["riscv,plic0", "sifive,plic-1.0.0"])
        .and_then(|n| {
            let reg = *regs(n).first()?;
            let ndev = n
                .property("riscv,ndev")
                .and_then(|p| p.as_usize())
                .unwrap_or(0) as u32;
            let causes = n
                .property("interrupts-extended")
                .map_or(&[][..], |p| p.value);
            let context = causes
                .chunks_exact(8)
                .position(|pair| pair[4..] == 9u32.to_be_bytes())
                .map_or(1, |i| i as u32);
            Some((reg, ndev, context))
        });
    let clint = first_reg(&["riscv,clint0", "sifive,clint0"]);
    let round_out = |(s, e): Span| (s & !0x1f_ffff, e.next_multiple_of(0x20_0000));
    let kernel_devices = normalise(
        plic.map(|p| p.0)
            .into_iter()
            .chain(clint)
            .map(round_out)
            .collect(),
    );
    let facts = Facts {
        ram,
        reserved,
        kernel_devices,
        timebase,
        sstc,
        plic,
        clint,
        uart: first_reg(&["ns16550a"]),
        test_finisher: first_reg(&["sifive,test1", "sifive,test0"]).map(|r| r.0),
    };
    // The kernel's sets hold 16 regions (`arch::MAX_REGIONS`).
    if [&facts.ram, &facts.reserved, &facts.kernel_devices]
        .iter()
        .any(|s| s.len() > 16)
    {
        return Err("more than 16 regions in a set".into());
    }
    Ok(facts)
}

/// Whether an ISA string names Sstc among its `_`-separated extensions
/// (the part before the first `_` is the base ISA), in any case.
fn isa_has_sstc(isa: &str) -> bool {
    isa.split('_')
        .skip(1)
        .any(|e| e.eq_ignore_ascii_case("sstc"))
}

/// Sorted, with empty regions dropped and overlapping or touching ones
/// merged (as the kernel's `RegionSet::add`).
fn normalise(mut v: Vec<Span>) -> Vec<Span> {
    v.retain(|r| r.0 < r.1);
    v.sort_unstable();
    let mut out: Vec<Span> = vec![];
    for r in v {
        match out.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => out.push(r),
        }
    }
    out
}

/// `set` without the bytes of `cut`.
fn subtract(set: &[Span], cut: Span) -> Vec<Span> {
    let pieces = set
        .iter()
        .flat_map(|&(s, e)| [(s, e.min(cut.0)), (s.max(cut.1), e)]);
    normalise(pieces.collect())
}

/// The facts as the Rust expression (`Option<StaticPlatform>`) the
/// kernel's `platform::BUILT` is.
pub fn render(f: &Facts, machine: &str) -> String {
    let region = |(s, e): Span| format!("Region::new({s:#x}, {e:#x})");
    let list = |v: &[Span]| v.iter().map(|&r| region(r)).collect::<Vec<_>>().join(", ");
    let opt = |v: Option<String>| v.map_or("None".into(), |s| format!("Some({s})"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Generated by `cargo xtask` (xtask/src/platform.rs) from the device tree"
    );
    let _ = writeln!(out, "// of `{machine}`; do not edit.");
    let _ = writeln!(out, "Some(StaticPlatform {{");
    let _ = writeln!(out, "    ram: &[{}],", list(&f.ram));
    let _ = writeln!(out, "    reserved: &[{}],", list(&f.reserved));
    let _ = writeln!(out, "    kernel_devices: &[{}],", list(&f.kernel_devices));
    let _ = writeln!(out, "    timebase: {},", f.timebase);
    let _ = writeln!(out, "    sstc: {},", f.sstc);
    let plic = f.plic.map(|(reg, ndev, context)| {
        format!(
            "PlicInfo {{ reg: {}, ndev: {ndev}, context: {context} }}",
            region(reg)
        )
    });
    let _ = writeln!(out, "    plic: {},", opt(plic));
    let _ = writeln!(out, "    clint: {},", opt(f.clint.map(region)));
    let _ = writeln!(out, "    uart: {},", opt(f.uart.map(region)));
    let _ = writeln!(
        out,
        "    test_finisher: {},",
        opt(f.test_finisher.map(|a| format!("{a:#x}")))
    );
    let _ = writeln!(out, "}})");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_kernel::arch::platform::{from_blob, Platform};

    /// QEMU 7.2's tree (`-machine virt -cpu rv64 -m 3072M -smp 1`, dumped
    /// with `dumpdtb`, through `dtc`), and the same machine with 512 MiB as
    /// OpenSBI hands it on (testdata/*.dts: its reserved memory without
    /// `no-map`, the PLIC's M-mode contexts masked) plus a `no-map` hole, a
    /// reservation across the end of RAM and a `/memreserve/`.
    const QEMU_VIRT: &[u8] = include_bytes!("../testdata/qemu-virt.dtb");
    const OPENSBI: &[u8] = include_bytes!("../testdata/qemu-virt-opensbi.dtb");

    fn spans(p: &cairn_kernel::arch::platform::Regions) -> Vec<Span> {
        p.as_slice().iter().map(|r| (r.start, r.end)).collect()
    }

    /// The kernel's boot-time parse of `blob`, as facts.
    fn kernel_facts(blob: &[u8]) -> Facts {
        let p: Platform = from_blob(blob, Default::default()).unwrap();
        Facts {
            ram: spans(&p.ram),
            reserved: spans(&p.reserved),
            kernel_devices: spans(&p.kernel_devices),
            timebase: p.timebase,
            sstc: p.sstc,
            plic: p
                .plic
                .map(|p| ((p.reg.start, p.reg.end), p.ndev, p.context)),
            clint: p.clint.map(|r| (r.start, r.end)),
            uart: p.uart.map(|r| (r.start, r.end)),
            test_finisher: p.test_finisher,
        }
    }

    #[test]
    fn build_time_facts_are_what_the_kernel_parses_from_qemus_tree() {
        let f = facts(QEMU_VIRT).unwrap();
        assert_eq!(f, kernel_facts(QEMU_VIRT));
        // What the kernel needs of QEMU `virt` with 3 GiB (ABI ref §6.6:
        // RAM from the kernel's load address on).
        assert_eq!(f.ram, [(0x8020_0000, 0x1_4000_0000)]);
        assert!(f.reserved.is_empty());
        assert_eq!(
            f.kernel_devices,
            [(0x200_0000, 0x220_0000), (0xc00_0000, 0xc60_0000)]
        );
        assert_eq!((f.timebase, f.sstc), (10_000_000, true));
        assert_eq!(f.plic, Some(((0xc00_0000, 0xc60_0000), 0x60, 1)));
        assert_eq!(f.clint, Some((0x200_0000, 0x201_0000)));
        assert_eq!(f.uart, Some((0x1000_0000, 0x1000_0100)));
        assert_eq!(f.test_finisher, Some(0x10_0000));
    }

    #[test]
    fn build_time_facts_agree_on_a_tree_as_opensbi_hands_it_over() {
        let f = facts(OPENSBI).unwrap();
        assert_eq!(f, kernel_facts(OPENSBI));
        // The no-map hole cut out of RAM; OpenSBI's own region below the
        // kernel dropped with the firmware's RAM; the reservations clipped.
        assert_eq!(
            f.ram,
            [(0x8020_0000, 0x9000_0000), (0x9010_0000, 0xa000_0000)]
        );
        assert_eq!(
            f.reserved,
            [(0x8800_0000, 0x8800_1000), (0x9ff0_0000, 0xa000_0000)]
        );
    }

    #[test]
    fn a_tree_without_timebase_is_refused_by_both() {
        // Renaming the property's string breaks it for both readers alike.
        let mut blob = QEMU_VIRT.to_vec();
        let at = blob
            .windows(18)
            .position(|w| w == b"timebase-frequency")
            .unwrap();
        blob[at] = b'T';
        assert!(facts(&blob).is_err());
        assert!(from_blob(&blob, Default::default()).is_err());
    }

    #[test]
    fn sstc_is_an_extension_not_the_base_isa() {
        assert!(isa_has_sstc("rv64imafdc_zicsr_SSTC"));
        assert!(!isa_has_sstc("sstc_zicsr"));
        assert!(!isa_has_sstc("rv64imafdc_sstcx"));
    }

    #[test]
    fn the_rendered_table_names_every_fact() {
        let text = render(&facts(QEMU_VIRT).unwrap(), "qemu");
        assert!(
            text.contains("ram: &[Region::new(0x80200000, 0x140000000)],"),
            "{text}"
        );
        assert!(text.contains("plic: Some(PlicInfo { reg: Region::new(0xc000000, 0xc600000), ndev: 96, context: 1 }),"));
        assert!(text.contains("test_finisher: Some(0x100000),"));
        assert!(text.trim_end().ends_with("})"));
    }
}
