//! `cargo xtask size`: the kernel's code and data size per configuration,
//! what the bytes are (the largest functions, and the bytes per module),
//! and a bound per section so that size cannot creep (`cargo xtask test`
//! checks the bounds as it checks the benchmarks'). docs/benchmarks.md,
//! "Code size".

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use cairn_config::KernelConfig;
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionIndex, SymbolKind};

use crate::build::{config_tag, parse_config, short, Builder};
use crate::harness::TestResult;

/// The sections reported, in link order (kernel.ld). `.boot` holds the
/// code only boot runs, which becomes the root task's untyped memory after
/// boot (seL4's 37.7 KiB of code splits the same way: 31.2 KiB `.text`,
/// 6.5 KiB boot code).
pub const SECTIONS: [&str; 5] = [".boot", ".text", ".rodata", ".data", ".bss"];

/// The configurations the suite checks (`--config` text) and the upper
/// bound of each section's size in bytes, about 3 % above the figure
/// measured when the bound was last set (2026-12-07, in
/// docs/benchmarks.md: smaller boot code, `derive_cap` out of line;
/// `.text` 47 346 / 37 970, `.rodata` 5 536 bytes; then "Boot code",
/// branch `size-boot`: `.boot` 10 848 / 9 548, `debug=off` `.rodata`
/// 3 654; then `.text` with the rare paths shared out of line, branch
/// `size-text`, merged with the fastpath and MCS work: 47 054 / 37 678;
/// then `restart_all` and `cte_move` shared, branch `size-text`:
/// 46 332 / 36 956). `.text` and `.boot` lowered to about 1 % above
/// their figures with linker relaxation and an inline threshold of 180
/// (branch `size-text`, docs/benchmarks.md "Calls relaxed, less
/// inlining"): `.text` 44 658 / 35 492 / 35 460 (`platform=static`),
/// `.boot` 10 146 / 9 086 / 5 902. Lowered again to about 1 % above
/// their figures with the kernel's gp (small code model, `lld
/// --relax-gp`; branch `size-gp`, docs/benchmarks.md "gp-relative
/// addressing"): `.text` 43 750 / 34 808 / 34 772, `.boot` 9 966 /
/// 8 840 / 5 834, `.rodata` 4 448 / 2 512 / 2 440 (jump tables of
/// 4-byte absolute entries). `.data` rose 5 464 → 6 424 in every
/// configuration, its bound 5 600 → 6 490: the machine layer's zeroed
/// statics (960 bytes, `.L_MergedGlobals`) moved there from `.bss`
/// (24 576 bytes now, 960 less), to be within reach of gp; the kernel
/// uses no more memory.
/// `.boot` 10 146 / 9 086 / 5 902. `.text` lowered again to about 1 %
/// above with fewer copies of the decoded `Cap` (branch `size-cap`,
/// docs/benchmarks.md "Copies of the decoded Cap"): 43 798 / 34 620 /
/// 34 588. Both branches merged (gp and the `Cap` copies): `.text`
/// 42 942 / 33 990 / 33 954, bounds about 1 % above.
/// The rare invocations (threads, IRQ control, domain, ASID control
/// and pools) decoded and performed out of line (`api::rare`, branch
/// `size-inv`): `.text` 42 566 / 33 638 / 33 602, bounds about 1 %
/// above. Branch `size-ipc` (IPC and capability code) on its own:
/// 42 266 / 33 414 / 33 382; with `size-inv`: 41 934 / 33 082 /
/// 33 050, bounds about 1 % above.
/// `.bss` is not bounded: it is the kernel's stack
/// and statically sized tables, which follow the configuration. Tighten a
/// bound when a change saves bytes; loosen one only in a commit that says
/// why.
pub const BOUNDS: [(&str, [(&str, u64); 4]); 3] = [
    (
        "",
        [
            (".boot", 10_070),
            (".text", 42_360),
            (".rodata", 4_500),
            (".data", 6_490),
        ],
    ),
    (
        "debug=off",
        [
            (".boot", 8_930),
            (".text", 33_420),
            (".rodata", 2_540),
            (".data", 6_490),
        ],
    ),
    (
        // The platform compiled in, no device-tree parser (branch
        // `size-boot`: `.boot` 6 164, `.rodata` 3 457).
        "debug=off,platform=static",
        [
            (".boot", 5_890),
            (".text", 33_390),
            (".rodata", 2_470),
            (".data", 6_490),
        ],
    ),
];

/// The sizes of one kernel ELF.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Bytes per section of [`SECTIONS`] (0 if absent).
    pub sections: BTreeMap<&'static str, u64>,
    /// Functions in `.text`: (size in bytes, demangled name), largest first.
    pub functions: Vec<(u64, String)>,
    /// Functions in `.boot`, the same way.
    pub boot: Vec<(u64, String)>,
    /// References into `.boot` from any other loaded section, read from
    /// the relocations the kernel is linked with (`--emit-relocs`): code
    /// or data used after boot that could reach the boot code, whose
    /// memory the root task owns by then. Must be empty.
    pub boot_refs: Vec<String>,
}

impl Report {
    /// Reads the section sizes, function symbols and relocations of an ELF.
    pub fn of(path: &Path) -> Result<Report, String> {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", short(path)))?;
        let sections = SECTIONS
            .iter()
            .map(|&s| (s, file.section_by_name(s).map_or(0, |sec| sec.size())))
            .collect();
        let boot = file.section_by_name(".boot");
        let mut report = Report {
            sections,
            ..Report::default()
        };
        for sym in file.symbols() {
            if sym.kind() != SymbolKind::Text || sym.size() == 0 {
                continue;
            }
            let Ok(raw) = sym.name() else { continue };
            let entry = (sym.size(), format!("{:#}", rustc_demangle::demangle(raw)));
            match &boot {
                Some(b) if sym.section_index() == Some(b.index()) => report.boot.push(entry),
                _ => report.functions.push(entry),
            }
        }
        report.functions.sort_unstable_by(|a, b| b.cmp(a));
        report.boot.sort_unstable_by(|a, b| b.cmp(a));
        if let Some(b) = boot {
            report.boot_refs = refs_into(&file, b.index(), b.address()..b.address() + b.size());
        }
        Ok(report)
    }

    fn section(&self, name: &str) -> u64 {
        self.sections.get(name).copied().unwrap_or(0)
    }

    /// Function bytes per [`module_of`] group, largest first.
    pub fn modules(&self) -> Vec<(u64, String)> {
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for (size, name) in &self.functions {
            *by.entry(module_of(name)).or_default() += size;
        }
        let mut v: Vec<(u64, String)> = by.into_iter().map(|(m, s)| (s, m)).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v
    }

    /// The printed report: sections, then the `top` largest modules and
    /// functions.
    pub fn table(&self, what: &str, top: usize) -> String {
        let mut out = format!("kernel size, {what}\n");
        for s in SECTIONS {
            let b = self.section(s);
            let _ = writeln!(out, "  {s:<8} {b:>7} bytes  {:>6.1} KiB", kib(b));
        }
        let (boot, text) = (self.section(".boot"), self.section(".text"));
        let _ = writeln!(
            out,
            "  code, .text + .boot: {} bytes ({:.1} KiB); seL4 16.0.0 release: 31.2 + 6.5 = 37.7 KiB",
            text + boot,
            kib(text + boot)
        );
        let _ = writeln!(out, "  largest modules of .text (function bytes):");
        for (size, m) in self.modules().iter().take(top) {
            let _ = writeln!(out, "    {size:>6}  {m}");
        }
        let _ = writeln!(out, "  largest functions of .text:");
        for (size, f) in self.functions.iter().take(top) {
            let _ = writeln!(out, "    {size:>6}  {f}");
        }
        let _ = writeln!(out, "  largest functions of .boot:");
        for (size, f) in self.boot.iter().take(top) {
            let _ = writeln!(out, "    {size:>6}  {f}");
        }
        for r in &self.boot_refs {
            let _ = writeln!(out, "  reference into .boot: {r}");
        }
        out
    }
}

fn kib(bytes: u64) -> f64 {
    // Sizes are far below 2^52: exact as f64.
    bytes as f64 / 1024.0
}

/// The module a function belongs to, for the per-module table: the crate
/// and its first module (`cairn_kernel::ipc`, `core::fmt`, `fdt::node`);
/// an `impl` (`<a::b::C as d::E>::f`) counts for the type's module.
pub fn module_of(name: &str) -> String {
    // `<u32 as core::fmt::Display>::fmt`: a primitive type has no module;
    // count the trait's.
    let name = match name.strip_prefix('<').and_then(|n| n.split_once(" as ")) {
        Some((ty, tr)) if !ty.contains("::") => tr,
        _ => name,
    };
    let path = name.trim_start_matches('<');
    let end = path.find(['<', ' ', '>', '{']).unwrap_or(path.len());
    let parts: Vec<&str> = path[..end].split("::").filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [] => "(unnamed)".into(),
        [one] => (*one).into(),
        // A crate-level item (`fdt::Fdt`, `cairn_user_trap`'s crate):
        // name the crate only, when the second part is a type or function.
        [krate, second, ..] if second.starts_with(|c: char| c.is_uppercase()) => (*krate).into(),
        [krate, module, ..] => format!("{krate}::{module}"),
    }
}

/// The references into `boot` (section index, address range) from every
/// other loaded section: each relocation's target address (symbol plus
/// addend) that lies in the range. Relocations within `.boot` itself and
/// those of unloaded sections (debug information) are not references a
/// running kernel follows.
fn refs_into(file: &object::File, boot: SectionIndex, range: Range<u64>) -> Vec<String> {
    let mut refs = vec![];
    for sec in file.sections() {
        if sec.index() == boot || sec.address() == 0 {
            continue;
        }
        for (offset, rel) in sec.relocations() {
            let sym = match rel.target() {
                RelocationTarget::Symbol(i) => file.symbol_by_index(i).ok(),
                _ => None,
            };
            let Some(sym) = sym else { continue };
            let target = sym.address().wrapping_add_signed(rel.addend());
            if range.contains(&target) {
                refs.push(format!(
                    "{} {offset:#x} -> {}",
                    sec.name().unwrap_or("?"),
                    rustc_demangle::demangle(sym.name().unwrap_or("?"))
                ));
            }
        }
    }
    refs
}

/// Checks a report against the bound of its configuration, one result per
/// bounded section, and that nothing outside `.boot` refers into it;
/// nothing if the configuration has no bounds.
pub fn check(config: &str, report: &Report) -> Vec<TestResult> {
    let Some((_, bounds)) = BOUNDS.iter().find(|(c, _)| *c == config) else {
        return vec![];
    };
    let tag = config_tag(&parse_config(&[config.into()]).unwrap_or(KernelConfig::DEFAULT));
    let apart = format!("size::{tag}::boot_apart");
    let apart = match report.boot_refs.as_slice() {
        [] => TestResult::ok(apart),
        refs => TestResult::failed(
            apart,
            format!(
                "{} references into .boot from code or data kept after boot, first {} \
                 (kernel.ld's .boot patterns catch a function used after boot)",
                refs.len(),
                refs[0]
            ),
        ),
    };
    bounds
        .iter()
        .map(|&(section, bound)| {
            let name = format!("size::{tag}::{}", section.trim_start_matches('.'));
            let got = report.section(section);
            if got <= bound {
                TestResult::ok(name)
            } else {
                TestResult::failed(
                    name,
                    format!(
                        "{section} is {got} bytes, above its bound {bound} (xtask/src/size.rs)"
                    ),
                )
            }
        })
        .chain([apart])
        .collect()
}

/// Builds the kernel of each configuration and reports its size, checked
/// against the bounds (`cargo xtask test` and `cargo xtask size`).
pub fn measure(b: &Builder, configs: &[&str], top: Option<usize>) -> Vec<TestResult> {
    let mut results = vec![];
    for &config in configs {
        let built = parse_config(&[config.into()]).and_then(|cfg| {
            let elf = b.kernel(&cfg)?;
            Ok((cfg, Report::of(&elf)?))
        });
        match built {
            Ok((cfg, report)) => {
                if let Some(top) = top {
                    print!(
                        "{}",
                        report.table(&format!("config {}", config_tag(&cfg)), top)
                    );
                }
                results.extend(check(config, &report));
            }
            Err(e) => results.push(TestResult::failed(
                format!("size::{config}"),
                format!("build failed: {e}"),
            )),
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_group_by_crate_and_first_module() {
        assert_eq!(
            module_of("cairn_kernel::api::invoke::handle_invocation"),
            "cairn_kernel::api"
        );
        assert_eq!(
            module_of("<cairn_kernel::types::region_set::RegionSet<16>>::add"),
            "cairn_kernel::types"
        );
        assert_eq!(
            module_of("<core::fmt::Formatter>::pad_integral"),
            "core::fmt"
        );
        assert_eq!(module_of("<fdt::Fdt>::new"), "fdt");
        assert_eq!(
            module_of("<core::iter::sources::from_fn::FromFn<fdt::node::X> as I>::next"),
            "core::iter"
        );
        assert_eq!(module_of("<u32 as core::fmt::Display>::fmt"), "core::fmt");
        assert_eq!(module_of("cairn_user_trap"), "cairn_user_trap");
        assert_eq!(module_of(""), "(unnamed)");
    }

    fn report(text: u64) -> Report {
        Report {
            sections: [(".text", text), (".rodata", 100), (".data", 100)]
                .into_iter()
                .collect(),
            functions: vec![
                (30, "a::b::f".into()),
                (20, "a::c".into()),
                (10, "a::b::g".into()),
            ],
            boot: vec![(40, "a::boot::main".into())],
            boot_refs: vec![],
        }
    }

    #[test]
    fn modules_sum_their_functions() {
        assert_eq!(
            report(0).modules(),
            vec![(40, "a::b".to_string()), (20, "a::c".to_string())]
        );
    }

    #[test]
    fn bounds_pass_at_and_fail_above() {
        let (_, bounds) = BOUNDS[1];
        let (text, bound) = bounds[1];
        assert_eq!(text, ".text");
        let at = check("debug=off", &report(bound));
        assert_eq!(at.len(), 5, "four sections and boot_apart");
        assert!(at.iter().all(|r| r.line().contains("ok")), "{at:?}");
        let above = check("debug=off", &report(bound + 1));
        assert!(above[1].line().contains("FAILED"), "{above:?}");
        assert!(above[1].line().contains("size::debug-off::text"));
        assert!(check("fpu=off", &report(u64::MAX)).is_empty());
    }

    #[test]
    fn a_reference_into_boot_fails() {
        let mut r = report(0);
        r.boot_refs = vec![".text 0x10 -> a::boot::main".into()];
        let results = check("", &r);
        let apart = results.last().unwrap().line();
        assert!(apart.contains("size::default::boot_apart"), "{apart}");
        assert!(apart.contains("FAILED") && apart.contains("a::boot::main"));
    }

    #[test]
    fn every_bounded_config_parses() {
        for (config, _) in BOUNDS {
            parse_config(&[config.into()]).expect("valid config");
        }
    }
}
