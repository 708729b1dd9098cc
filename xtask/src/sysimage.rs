//! System images (`cargo xtask run --system FILE`, the `system-*` test
//! images): the PDs' programs are built, the description is turned into
//! the loader's input (`cairn_system::boot`) with their ELF files, and
//! the loader (`user/loader`) is built around it as the root task.
//!
//! A `program_image` path `NAME.elf` names the PD crate `user/pds/NAME`
//! (package and binary `NAME`) when there is one; otherwise it is a file,
//! relative to the description's directory. A CapDL spec (`.cdl`) has no
//! programs: its frames' `fill` entries (files relative to the spec) and
//! its TCBs' `ip` say what runs.

use std::path::{Path, PathBuf};

use crate::build::{repo_root, Builder};

/// The monitor every system gets (`user/pds/monitor`; its objects are
/// `monitor_*` in the spec).
pub const MONITOR: &str = cairn_system::layout::MONITOR;

/// Builds the PDs and the loader for the description `file`; returns the
/// loader's ELF. `verbose`: the loader prints what it creates.
pub fn loader(
    b: &Builder,
    file: &Path,
    cfg: &cairn_config::KernelConfig,
    verbose: bool,
) -> Result<PathBuf, String> {
    let shown = file.display().to_string();
    if verbose && !cfg.debug {
        return Err(
            "--loader-debug needs the debug kernel (debug=on): the loader prints through seL4_DebugPutChar"
                .into(),
        );
    }
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let config = cairn_system::Config { mcs: cfg.mcs };
    let loaded =
        cairn_system::load(&shown, &text, config).map_err(|d| cairn_system::diag::render(&d))?;
    let dir = file.parent().unwrap_or(Path::new("."));
    // Frames' `fill` files are relative to the description or spec.
    let files = |name: &str| -> Result<Vec<u8>, String> {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| format!("fill file {}: {e}", path.display()))
    };
    let Some(system) = loaded.system.as_ref() else {
        // A CapDL spec: no programs; its TCBs' `ip` and its frames'
        // `fill` entries say what runs.
        let spec = cairn_system::boot::serialise_with_files(&loaded.spec, &[], verbose, &files)
            .map_err(|e| format!("{shown}: {e}"))?;
        return write_and_build(b, file, &spec, cfg);
    };
    let elfs = programs(b, &shown, dir, system, cfg)?;
    let programs = as_programs(&elfs);
    let spec = cairn_system::boot::serialise_with_files(&loaded.spec, &programs, verbose, &files)
        .map_err(|e| format!("{shown}: {e}"))?;
    write_and_build(b, file, &spec, cfg)
}

/// A program of a system: its TCB's name, the ELF bytes, its setvars and
/// blobs (`cairn_system::boot::Program`'s parts, owned).
pub type Built = (String, Vec<u8>, Vec<(String, u64)>, Vec<(String, Vec<u8>)>);

/// The image builder's view of built programs (the ELF bytes borrowed);
/// for the system image and for `--cdl` output alike.
pub fn as_programs(elfs: &[Built]) -> Vec<cairn_system::boot::Program<'_>> {
    elfs.iter()
        .map(|(tcb, elf, setvars, blobs)| cairn_system::boot::Program {
            tcb: cairn_system::capdl::ObjId::new(tcb.clone()),
            elf,
            setvars: setvars.clone(),
            blobs: blobs.clone(),
        })
        .collect()
}

/// Builds (PD crates) or reads (files relative to `dir`) the program of
/// every PD of `system` and the monitor's, with what the image builder
/// writes into each: setvars (checked against the programs' symbols,
/// every problem at its element of the description `shown`), the SDK's
/// quiet flag without debug output, the monitor's names and UART.
pub fn programs(
    b: &Builder,
    shown: &str,
    dir: &Path,
    system: &cairn_system::sdf::System,
    cfg: &cairn_config::KernelConfig,
) -> Result<Vec<Built>, String> {
    // Programs: PD crates first (one cargo run, the monitor's with them),
    // then files.
    let mut crates = vec![MONITOR.to_string()];
    for pd in &system.pds {
        if let Some(name) = pd_crate(&pd.program_image) {
            crates.push(name);
        }
    }
    crates.sort_unstable();
    crates.dedup();
    let refs: Vec<&str> = crates.iter().map(String::as_str).collect();
    let built = if refs.is_empty() {
        Default::default()
    } else {
        b.user_programs(&refs, cfg)?
    };
    let mut elfs = Vec::new();
    let mut diags = Vec::new();
    for (i, pd) in system.pds.iter().enumerate() {
        let path = match pd_crate(&pd.program_image) {
            Some(name) => built[&name].clone(),
            None => dir.join(&pd.program_image),
        };
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("{shown}: PD {}: program {}: {e}", pd.name, path.display()))?;
        // Every setvar whose symbol is missing or not a 64-bit variable,
        // at the element of the description that asks for it.
        diags.extend(cairn_system::setvar::check(
            shown,
            system,
            i,
            &pd.program_image,
            &bytes,
        ));
        let mut setvars = cairn_system::boot::setvars(system, i);
        if !cfg.debug {
            setvars.extend(cairn_system::boot::quiet(&bytes));
        }
        elfs.push((format!("tcb_{}", pd.name), bytes, setvars, Vec::new()));
    }
    let monitor = std::fs::read(&built[MONITOR])
        .map_err(|e| format!("the monitor's program {}: {e}", built[MONITOR].display()))?;
    let names = cairn_system::boot::monitor_names(system).map_err(|e| format!("{shown}: {e}"))?;
    let blobs = vec![(cairn_system::layout::MONITOR_NAMES.to_string(), names)];
    // The monitor prints through the UART itself (debug=off too).
    let setvars = cairn_system::boot::monitor_setvars(system);
    elfs.push((format!("{MONITOR}_tcb"), monitor, setvars, blobs));
    if !diags.is_empty() {
        diags.sort_by_key(|d| d.pos);
        return Err(cairn_system::diag::render(&diags));
    }
    Ok(elfs)
}

/// Writes the loader's input `spec` for `file` and builds the loader
/// around it.
fn write_and_build(
    b: &Builder,
    file: &Path,
    spec: &[u8],
    cfg: &cairn_config::KernelConfig,
) -> Result<PathBuf, String> {
    let stem = file
        .file_stem()
        .map_or("system".into(), |s| s.to_string_lossy().into_owned());
    let mut spec = spec.to_vec();
    if !cfg.debug {
        cairn_system::boot::set_flag(&mut spec, cairn_system::boot::FLAG_NO_DEBUG);
    }
    let out = b.images_dir()?.join(format!("{stem}.spec"));
    std::fs::write(&out, &spec).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "xtask: {}: {} bytes of loader input",
        out.display(),
        spec.len()
    );
    b.loader(&out, cfg)
}

/// The PD crate a `program_image` path names, if `user/pds/NAME` exists.
fn pd_crate(path: &str) -> Option<String> {
    let name = path.strip_suffix(".elf")?;
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (ok && repo_root()
        .join("user/pds")
        .join(name)
        .join("Cargo.toml")
        .is_file())
    .then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn program_images_name_pd_crates() {
        assert_eq!(super::pd_crate("ping.elf").as_deref(), Some("ping"));
        assert_eq!(super::pd_crate("nope.elf"), None);
        assert_eq!(super::pd_crate("../ping.elf"), None);
        assert_eq!(super::pd_crate("ping"), None);
    }
}
