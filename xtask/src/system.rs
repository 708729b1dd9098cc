//! `cargo xtask system FILE`: reads a system description (Microkit's XML
//! format) or a CapDL spec (`.cdl`) with the `cairn-system` crate,
//! reports every problem at `file:line:column`, and writes the CapDL text
//! (`--cdl`), its JSON (`--json`) and the authority graph (`--graph`,
//! `.dot` as is or `.svg` through Graphviz's `dot`). With none of these it
//! prints the CapDL text.
//!
//! `--config` takes the kernel options of `build` (checked the same way)
//! and `mcs=on|off`, which decides whether budgets, periods and passive
//! PDs are allowed (the kernel has no MCS configuration yet: `mcs=on`
//! only describes the system for it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cairn_system::Config;

use crate::prereq::{self, Need};

/// What `cargo xtask system` was asked to do.
pub struct Options {
    /// The system description or CapDL spec.
    pub file: PathBuf,
    /// Where to write the CapDL text.
    pub cdl: Option<PathBuf>,
    /// Where to write the JSON.
    pub json: Option<PathBuf>,
    /// Where to write the authority graph (`.dot` or `.svg`).
    pub graph: Option<PathBuf>,
    /// `--config` items.
    pub config: Vec<String>,
    /// Build the PDs' programs and put them into the CapDL (`--cdl`,
    /// `--json`) as frames with `fill` entries, their bytes in a data
    /// file next to the CapDL text.
    pub programs: bool,
}

/// Splits `--config` items into the system tool's configuration (`mcs`)
/// and the kernel's, which are checked as `build` checks them.
pub fn parse_config(items: &[String]) -> Result<Config, String> {
    let mut config = Config::default();
    let mut kernel = Vec::new();
    for item in items.iter().flat_map(|i| i.split(',')) {
        match item.trim().split_once('=') {
            Some(("mcs", "on")) => config.mcs = true,
            Some(("mcs", "off")) => config.mcs = false,
            Some(("mcs", v)) => return Err(format!("--config mcs={v}: mcs is on or off")),
            _ if item.trim().is_empty() => {}
            _ => kernel.push(item.trim().to_string()),
        }
    }
    crate::build::parse_config(&kernel)?;
    Ok(config)
}

/// Runs the command; `Ok(1)` when the input has errors (printed).
pub fn run(opts: &Options) -> Result<i32, String> {
    let config = parse_config(&opts.config)?;
    let shown = opts.file.display().to_string();
    let text =
        std::fs::read_to_string(&opts.file).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let loaded = match cairn_system::load(&shown, &text, config) {
        Ok(l) => l,
        Err(diags) => {
            eprint!("{}", cairn_system::diag::render(&diags));
            eprintln!(
                "{shown}: {} error{}",
                diags.len(),
                if diags.len() == 1 { "" } else { "s" }
            );
            return Ok(1);
        }
    };
    let loaded = if opts.programs {
        with_programs(opts, &shown, loaded)?
    } else {
        loaded
    };
    let cdl = cairn_system::cdl_text(&shown, &loaded);
    eprintln!("{}", summary(&shown, &loaded));
    if opts.cdl.is_none() && opts.json.is_none() && opts.graph.is_none() {
        print!("{cdl}");
    }
    if let Some(out) = &opts.cdl {
        write(out, &cdl)?;
    }
    if let Some(out) = &opts.json {
        write(out, &cairn_system::json_text(&loaded.spec))?;
    }
    if let Some(out) = &opts.graph {
        let system = loaded
            .system
            .as_ref()
            .ok_or("--graph draws a system description's authority graph, not a CapDL spec's")?;
        graph(out, &cairn_system::graph::dot(system))?;
    }
    Ok(0)
}

/// `loaded` with its programs as frames with `fill` entries: the PDs'
/// programs built (or read) as for an image, in the kernel configuration
/// `--config` gives, their bytes written to `NAME.data` beside the
/// `--cdl` output `NAME.cdl`, which its fills name; that spec boots by
/// itself (`cargo xtask run --system NAME.cdl`).
fn with_programs(
    opts: &Options,
    shown: &str,
    loaded: cairn_system::Loaded,
) -> Result<cairn_system::Loaded, String> {
    let out = opts
        .cdl
        .as_ref()
        .ok_or("--programs writes a data file beside the CapDL text: give --cdl OUT.cdl")?;
    let system = loaded
        .system
        .as_ref()
        .ok_or("--programs builds a system description's programs; a CapDL spec has its fills")?;
    let config = parse_config(&opts.config)?;
    let kernel_items: Vec<String> = opts
        .config
        .iter()
        .flat_map(|i| i.split(','))
        .map(str::trim)
        .filter(|i| !i.is_empty() && !i.starts_with("mcs="))
        .map(String::from)
        .collect();
    let mut cfg = crate::build::parse_config(&kernel_items)?;
    cfg.mcs = config.mcs;
    let toolchain = prereq::ensure(&[Need::CrossToolchain])?.ok_or("no cross toolchain")?;
    let b = crate::build::Builder::new(toolchain);
    let dir = opts.file.parent().unwrap_or(Path::new("."));
    let elfs = crate::sysimage::programs(&b, shown, dir, system, &cfg)?;
    let programs = crate::sysimage::as_programs(&elfs);
    let data_path = out.with_extension("data");
    let data_name = data_path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("--cdl {}: not a file name", out.display()))?
        .to_string();
    let (spec, data) = cairn_system::boot::with_programs(&loaded.spec, &programs, &data_name)
        .map_err(|e| format!("{shown}: {e}"))?;
    std::fs::write(&data_path, &data)
        .map_err(|e| format!("cannot write {}: {e}", data_path.display()))?;
    eprintln!("wrote {} ({} bytes)", data_path.display(), data.len());
    Ok(cairn_system::Loaded {
        system: loaded.system,
        spec,
    })
}

/// One line: what the input holds and what the spec has.
fn summary(file: &str, loaded: &cairn_system::Loaded) -> String {
    let caps: usize = loaded.spec.objects.iter().map(|o| o.slots.len()).sum();
    let spec = format!(
        "CapDL spec of {} objects and {caps} caps",
        loaded.spec.objects.len()
    );
    match &loaded.system {
        Some(s) => format!(
            "{file}: {} protection domains, {} memory regions, {} channels, {} IRQs; {spec}",
            s.pds.len(),
            s.mrs.len(),
            s.channels.len(),
            s.pds.iter().map(|p| p.irqs.len()).sum::<usize>()
        ),
        None => format!("{file}: {spec}"),
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Writes `dot` text to `out`, rendered to SVG by Graphviz if `out` ends
/// in `.svg` (Graphviz is installed then, as other prerequisites are).
fn graph(out: &Path, dot: &str) -> Result<(), String> {
    match out.extension().and_then(|e| e.to_str()) {
        Some("dot" | "gv") => write(out, dot),
        Some("svg") => {
            prereq::ensure(&[Need::Graphviz])?;
            let mut child = Command::new("dot")
                .arg("-Tsvg")
                .arg("-o")
                .arg(out)
                .stdin(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run dot: {e}"))?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(dot.as_bytes())
                    .map_err(|e| format!("writing to dot: {e}"))?;
            }
            let status = child.wait().map_err(|e| format!("dot: {e}"))?;
            if !status.success() {
                return Err(format!("dot -Tsvg failed ({status})"));
            }
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        _ => Err(format!(
            "--graph {}: the graph is written as .dot (Graphviz text) or .svg",
            out.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_takes_mcs_and_checks_kernel_options() {
        assert!(!parse_config(&[]).unwrap().mcs);
        assert!(parse_config(&["mcs=on".into()]).unwrap().mcs);
        assert!(
            parse_config(&["timer-tick-ms=10,mcs=on".into()])
                .unwrap()
                .mcs
        );
        assert!(!parse_config(&["mcs=on,mcs=off".into()]).unwrap().mcs);
        let e = parse_config(&["mcs=yes".into()]).unwrap_err();
        assert!(e.contains("mcs is on or off"), "{e}");
        assert!(parse_config(&["no-such-key=1".into()]).is_err());
    }

    fn example(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(name)
    }

    #[test]
    fn writes_cdl_json_and_dot_and_reads_the_cdl_back() {
        let dir = std::env::temp_dir().join(format!("cairn-system-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cdl, json, dot) = (dir.join("c.cdl"), dir.join("c.json"), dir.join("c.dot"));
        let opts = Options {
            file: example("control.system"),
            cdl: Some(cdl.clone()),
            json: Some(json.clone()),
            graph: Some(dot.clone()),
            config: vec![],
            programs: false,
        };
        assert_eq!(run(&opts).unwrap(), 0);
        let text = std::fs::read_to_string(&cdl).unwrap();
        assert!(text.contains("\narch riscv\n") && text.contains("irq maps {"));
        let spec: cairn_system::Spec =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert!(std::fs::read_to_string(&dot)
            .unwrap()
            .starts_with("digraph system {"));
        // The CDL as input: the same model; it has no graph.
        let again = Options {
            file: cdl.clone(),
            cdl: None,
            json: Some(json.clone()),
            graph: None,
            config: vec![],
            programs: false,
        };
        assert_eq!(run(&again).unwrap(), 0);
        let spec2: cairn_system::Spec =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(spec, spec2);
        let graph_of_cdl = Options {
            graph: Some(dot),
            ..again
        };
        assert!(run(&graph_of_cdl)
            .unwrap_err()
            .contains("not a CapDL spec's"));
        // A description with errors: exit status 1, nothing written.
        let bad = Options {
            file: example("control_mcs.system"),
            cdl: Some(dir.join("bad.cdl")),
            json: None,
            graph: None,
            config: vec![],
            programs: false,
        };
        assert_eq!(run(&bad).unwrap(), 1);
        assert!(!dir.join("bad.cdl").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn programs_need_a_cdl_output_and_a_description() {
        // Refused before anything is built: the data file goes beside
        // --cdl's output, and a CapDL spec has its fills already.
        let no_cdl = Options {
            file: example("ping.system"),
            cdl: None,
            json: None,
            graph: None,
            config: vec![],
            programs: true,
        };
        let e = run(&no_cdl).unwrap_err();
        assert!(e.contains("give --cdl OUT.cdl"), "{e}");
        let out = std::env::temp_dir().join(format!("cairn-system-p{}.cdl", std::process::id()));
        let cdl_input = Options {
            file: example("filled.cdl"),
            cdl: Some(out.clone()),
            json: None,
            graph: None,
            config: vec![],
            programs: true,
        };
        let e = run(&cdl_input).unwrap_err();
        assert!(e.contains("a CapDL spec has its fills"), "{e}");
        assert!(!out.exists());
    }

    #[test]
    fn a_graph_is_dot_or_svg() {
        let e = graph(Path::new("/nonexistent/out.png"), "digraph {}").unwrap_err();
        assert!(e.contains(".dot (Graphviz text) or .svg"), "{e}");
    }
}
