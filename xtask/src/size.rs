//! `cargo xtask size`: the kernel's code and data size per configuration,
//! what the bytes are (the largest functions, and the bytes per module),
//! and a bound per section so that size cannot creep (`cargo xtask test`
//! checks the bounds as it checks the benchmarks'). docs/benchmarks.md,
//! "Code size".

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use cairn_config::KernelConfig;
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

use crate::build::{config_tag, parse_config, short, Builder};
use crate::harness::TestResult;

/// The sections reported, in link order (kernel.ld).
pub const SECTIONS: [&str; 4] = [".text", ".rodata", ".data", ".bss"];

/// The configurations the suite checks (`--config` text) and the upper
/// bound of each section's size in bytes, about 3 % above the figure
/// measured when the bound was last set (2026-12-06, in
/// docs/benchmarks.md: the kernel's own device-tree reader replaced the
/// `fdt` crate, 64 740 / 58 464 bytes of `.text`, 6 424 / 5 280 of
/// `.rodata`).
/// `.bss` is not bounded: it is the kernel's stack
/// and statically sized tables, which follow the configuration. Tighten a
/// bound when a change saves bytes; loosen one only in a commit that says
/// why.
pub const BOUNDS: [(&str, [(&str, u64); 3]); 2] = [
    (
        "",
        [(".text", 66_680), (".rodata", 6_620), (".data", 5_600)],
    ),
    (
        "debug=off",
        [(".text", 60_220), (".rodata", 5_440), (".data", 5_600)],
    ),
];

/// Functions that only boot runs, by name: the boot module, device-tree
/// parsing (the kernel's reader `types::fdt` and the platform description
/// read with it),
/// the boot image header, the region sets of the boot memory map, and the
/// boot entry's own steps. Their code could be reclaimed after boot, as
/// seL4 reclaims its `.boot` sections; it is reported apart.
const BOOT_ONLY: [&str; 10] = [
    "cairn_kernel::boot::",
    "types::fdt::",
    "machine::platform::",
    "region_set::RegionSet",
    "cairn_abi::image::",
    "entry::boot_main",
    "entry::print_platform",
    "entry::check_image",
    "entry::cannot_boot",
    "entry::read_header",
];

/// Whether a function is in [`BOOT_ONLY`].
pub fn boot_only(name: &str) -> bool {
    BOOT_ONLY.iter().any(|m| name.contains(m))
}

/// The sizes of one kernel ELF.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Bytes per section of [`SECTIONS`] (0 if absent).
    pub sections: BTreeMap<&'static str, u64>,
    /// Functions in `.text`: (size in bytes, demangled name), largest first.
    pub functions: Vec<(u64, String)>,
}

impl Report {
    /// Reads the section sizes and function symbols of an ELF.
    pub fn of(path: &Path) -> Result<Report, String> {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", short(path)))?;
        let sections = SECTIONS
            .iter()
            .map(|&s| (s, file.section_by_name(s).map_or(0, |sec| sec.size())))
            .collect();
        let mut functions: Vec<(u64, String)> = file
            .symbols()
            .filter(|sym| sym.kind() == SymbolKind::Text && sym.size() > 0)
            .filter_map(|sym| {
                let raw = sym.name().ok()?;
                Some((sym.size(), format!("{:#}", rustc_demangle::demangle(raw))))
            })
            .collect();
        functions.sort_unstable_by(|a, b| b.cmp(a));
        Ok(Report {
            sections,
            functions,
        })
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
        let boot: u64 = (self.functions.iter())
            .filter(|(_, f)| boot_only(f))
            .map(|(s, _)| s)
            .sum();
        let _ = writeln!(
            out,
            "  of .text, boot-only functions {boot} bytes ({:.1} KiB), the rest {} bytes ({:.1} KiB)",
            kib(boot),
            self.section(".text").saturating_sub(boot),
            kib(self.section(".text").saturating_sub(boot))
        );
        let _ = writeln!(out, "  largest modules (function bytes):");
        for (size, m) in self.modules().iter().take(top) {
            let _ = writeln!(out, "    {size:>6}  {m}");
        }
        let _ = writeln!(out, "  largest functions:");
        for (size, f) in self.functions.iter().take(top) {
            let _ = writeln!(out, "    {size:>6}  {f}");
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

/// Checks a report against the bound of its configuration, one result per
/// bounded section; nothing if the configuration has no bounds.
pub fn check(config: &str, report: &Report) -> Vec<TestResult> {
    let Some((_, bounds)) = BOUNDS.iter().find(|(c, _)| *c == config) else {
        return vec![];
    };
    let tag = config_tag(&parse_config(&[config.into()]).unwrap_or(KernelConfig::DEFAULT));
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
        }
    }

    #[test]
    fn boot_only_functions_by_name() {
        assert!(boot_only("cairn_kernel::boot::root::create"));
        assert!(boot_only(
            "<cairn_kernel::types::fdt::Fdt>::for_each_node::<_>"
        ));
        assert!(boot_only(
            "cairn_kernel::arch::riscv64::machine::entry::boot_main::<cairn_kernel::api::Api>"
        ));
        assert!(!boot_only("cairn_kernel::api::invoke::handle_invocation"));
        assert!(!boot_only("core::fmt::write"));
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
        let at = check("debug=off", &report(bounds[0].1));
        assert_eq!(at.len(), 3);
        assert!(at.iter().all(|r| r.line().contains("ok")), "{at:?}");
        let above = check("debug=off", &report(bounds[0].1 + 1));
        assert!(above[0].line().contains("FAILED"), "{above:?}");
        assert!(above[0].line().contains("size::debug-off::text"));
        assert!(check("fpu=off", &report(u64::MAX)).is_empty());
    }

    #[test]
    fn every_bounded_config_parses() {
        for (config, _) in BOUNDS {
            parse_config(&[config.into()]).expect("valid config");
        }
    }
}
