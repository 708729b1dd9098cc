//! Building the kernel, root tasks and boot images (into `target/images/`).
//!
//! Cross builds go through `toolchain` and write into `target/riscv`; cargo
//! runs in the directory of the manifest it builds, so that a workspace's own
//! `.cargo/config.toml` applies as it would for someone typing `cargo build`
//! there. Executables are found from cargo's JSON messages, not guessed.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cairn_config::KernelConfig;

use crate::toolchain::{Target, Toolchain};

/// The kernel's package and binary.
const KERNEL: &str = "cairn-kernel";
/// The CapDL loader, root task of system images (package and binary name
/// in `user/`; `sysimage.rs` says what it loads).
const LOADER: &str = "cairn-loader";

/// The repository root.
pub fn repo_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// Parses `--config` values (each `k=v` or a comma-separated list) into a
/// validated configuration.
pub fn parse_config(items: &[String]) -> Result<KernelConfig, String> {
    let text = items.join(",");
    KernelConfig::parse(&text).map_err(|(e, at)| {
        let item = text
            .get(at..)
            .unwrap_or("")
            .split([',', ' '])
            .next()
            .unwrap_or("");
        format!(
            "--config {item}: {e} (options: {})",
            KernelConfig::KEYS.join(", ")
        )
    })
}

/// A short file-name tag for a configuration: its non-default settings.
pub fn config_tag(cfg: &KernelConfig) -> String {
    let (text, default) = (cfg.to_string(), KernelConfig::DEFAULT.to_string());
    let diff: Vec<String> = text
        .split(',')
        .zip(default.split(','))
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.replace('=', "-"))
        .collect();
    if diff.is_empty() {
        "default".into()
    } else {
        diff.join("_")
    }
}

/// Builds things for the RISC-V target.
pub struct Builder {
    root: PathBuf,
    toolchain: Toolchain,
}

impl Builder {
    pub fn new(toolchain: Toolchain) -> Builder {
        Builder {
            root: repo_root(),
            toolchain,
        }
    }

    /// `target/images`, created if needed.
    pub fn images_dir(&self) -> Result<PathBuf, String> {
        let dir = self.root.join("target/images");
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(dir)
    }

    fn cargo(&self, target: Target, dir: &Path) -> Command {
        let mut cmd = self
            .toolchain
            .cargo_build(target, &self.root.join("target/riscv"));
        cmd.current_dir(dir)
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml"));
        cmd
    }

    /// Builds the kernel for `cfg`; returns a copy of its ELF named after
    /// the configuration (`target/images/kernel-<tag>.elf`), so that kernels
    /// of several configurations can coexist.
    pub fn kernel(&self, cfg: &KernelConfig) -> Result<PathBuf, String> {
        eprintln!("xtask: building the kernel ({cfg})");
        let mut cmd = self.cargo(Target::Kernel, &self.root);
        cmd.args(["-p", KERNEL, "--bin", KERNEL])
            .env("CAIRN_CONFIG", cfg.to_string());
        if cfg.platform == cairn_config::PlatformSource::Static {
            // The platform found at build time, from QEMU's own tree
            // (platform.rs); the kernel's build script includes it.
            let table = crate::platform::generate(&self.root.join("target/platform"))?;
            cmd.env("CAIRN_PLATFORM", table);
        }
        add_features(&mut cmd, cfg, "");
        let built = cargo_executables(cmd, "the kernel")?;
        let elf = built
            .get(KERNEL)
            .ok_or("cargo built no cairn-kernel executable")?;
        let out = self
            .images_dir()?
            .join(format!("kernel-{}.elf", config_tag(cfg)));
        fs::copy(elf, &out).map_err(|e| format!("copying {}: {e}", elf.display()))?;
        Ok(out)
    }

    /// Builds binary packages of the `user/` workspace (binary name =
    /// package name) against the user library of `cfg`'s ABI; returns
    /// their ELF paths by name.
    pub fn user_programs(
        &self,
        names: &[&str],
        cfg: &KernelConfig,
    ) -> Result<BTreeMap<String, PathBuf>, String> {
        eprintln!("xtask: building {}", names.join(", "));
        let mut cmd = self.cargo(Target::User, &self.root.join("user"));
        for n in names {
            cmd.args(["-p", n, "--bin", n]);
        }
        add_features(&mut cmd, cfg, USER_LIBRARY);
        let built = cargo_executables(cmd, &names.join(", "))?;
        for n in names {
            if !built.contains_key(*n) {
                return Err(format!("cargo built no executable named {n}"));
            }
        }
        Ok(built)
    }

    /// Builds the CapDL loader around the input file `spec`
    /// (`CAIRN_SYSTEM_SPEC`, read by its build.rs) for `cfg`'s ABI and
    /// returns its ELF.
    pub fn loader(&self, spec: &Path, cfg: &KernelConfig) -> Result<PathBuf, String> {
        let name = LOADER;
        eprintln!("xtask: building {name} for {}", short(spec));
        let mut cmd = self.cargo(Target::User, &self.root.join("user"));
        cmd.args(["-p", name, "--bin", name])
            .env("CAIRN_SYSTEM_SPEC", spec);
        add_features(&mut cmd, cfg, USER_LIBRARY);
        let built = cargo_executables(cmd, name)?;
        built
            .get(name)
            .cloned()
            .ok_or_else(|| format!("cargo built no executable named {name}"))
    }

    /// Builds the crate in `dir` (a workspace of its own, depending on the
    /// user library) for `cfg`'s ABI and returns its only executable.
    pub fn standalone(&self, dir: &Path, cfg: &KernelConfig) -> Result<PathBuf, String> {
        self.standalone_with_env(dir, cfg, &[])
    }

    /// [`Builder::standalone`] with these environment variables set for
    /// the build (a root task may read them with `option_env!`; cargo
    /// rebuilds it when they change).
    pub fn standalone_with_env(
        &self,
        dir: &Path,
        cfg: &KernelConfig,
        env: &[(&str, &str)],
    ) -> Result<PathBuf, String> {
        eprintln!("xtask: building {}", dir.display());
        let mut cmd = self.cargo(Target::User, dir);
        cmd.envs(env.iter().copied());
        add_features(&mut cmd, cfg, USER_LIBRARY);
        let built = cargo_executables(cmd, &short(dir))?;
        let mut exes = built.into_values();
        match (exes.next(), exes.next()) {
            (Some(exe), None) => Ok(exe),
            _ => Err(format!(
                "{} must build exactly one executable",
                dir.display()
            )),
        }
    }

    /// Packs `kernel` and `root_task` into `target/images/<name>.img`.
    pub fn image(&self, kernel: &Path, root_task: &Path, name: &str) -> Result<PathBuf, String> {
        let out = self.images_dir()?.join(format!("{name}.img"));
        let p = cairn_image::write_image(kernel, root_task, &out).map_err(|e| e.to_string())?;
        eprintln!(
            "xtask: {}: {} bytes, root task {} [{:#x}, {:#x})",
            out.display(),
            p.header.image_size,
            root_task.display(),
            p.header.user_v_start,
            p.header.user_v_end
        );
        Ok(out)
    }
}

/// The user library (`user/sel4`), whose features follow the kernel's.
const USER_LIBRARY: &str = "cairn-sel4/";

/// Adds `--features` for `cfg` ([`KernelConfig::cargo_features`], the one
/// place that maps options to features), each prefixed with `package`
/// (`"cairn-sel4/"`, or `""` for the package being built).
fn add_features(cmd: &mut Command, cfg: &KernelConfig, package: &str) {
    let features: Vec<String> = cfg
        .cargo_features()
        .iter()
        .map(|f| format!("{package}{f}"))
        .collect();
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
}

/// The repository-relative path of `p` if it is inside the repository.
pub fn short(p: &Path) -> String {
    p.strip_prefix(repo_root())
        .unwrap_or(p)
        .display()
        .to_string()
}

/// Runs a cargo build (diagnostics on our stderr) and returns the
/// executables it produced, by target name.
fn cargo_executables(mut cmd: Command, what: &str) -> Result<BTreeMap<String, PathBuf>, String> {
    cmd.arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    let mut built = BTreeMap::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.map_err(|e| format!("reading cargo output: {e}"))?;
            if let Some((name, exe)) = executable_of(&line) {
                built.insert(name, exe);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build of {what} failed ({status}); its errors are above"
        ));
    }
    Ok(built)
}

/// The target name and executable of a `compiler-artifact` message.
fn executable_of(json_line: &str) -> Option<(String, PathBuf)> {
    let v: serde_json::Value = serde_json::from_str(json_line).ok()?;
    if v["reason"] != "compiler-artifact" {
        return None;
    }
    let exe = v["executable"].as_str()?;
    let name = v["target"]["name"].as_str()?;
    Some((name.to_string(), PathBuf::from(exe)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_items_may_repeat_or_use_commas() {
        let c = parse_config(&["root-cnode-bits=13,fpu=off".into(), "debug=off".into()]).unwrap();
        assert_eq!((c.root_cnode_bits, c.fpu, c.debug), (13, false, false));
        assert_eq!(parse_config(&[]).unwrap(), KernelConfig::DEFAULT);
        let e = parse_config(&["fpu=on".into(), "root-cnode-bits=99".into()]).unwrap_err();
        assert!(
            e.starts_with("--config root-cnode-bits=99: value outside 8..=19"),
            "{e}"
        );
        assert!(parse_config(&["bogus=1".into()])
            .unwrap_err()
            .contains("unknown option"));
    }

    #[test]
    fn config_tags_name_the_changes() {
        assert_eq!(config_tag(&KernelConfig::DEFAULT), "default");
        let c = parse_config(&["root-cnode-bits=13,fpu=off".into()]).unwrap();
        assert_eq!(config_tag(&c), "root-cnode-bits-13_fpu-off");
    }

    #[test]
    fn finds_executables_in_cargo_messages() {
        let line = r#"{"reason":"compiler-artifact","package_id":"x","target":{"kind":["bin"],"name":"cairn-kernel"},"executable":"/t/riscv/release/cairn-kernel","fresh":true}"#;
        assert_eq!(
            executable_of(line),
            Some((
                "cairn-kernel".into(),
                "/t/riscv/release/cairn-kernel".into()
            ))
        );
        let lib =
            r#"{"reason":"compiler-artifact","target":{"name":"cairn_abi"},"executable":null}"#;
        assert_eq!(executable_of(lib), None);
        assert_eq!(
            executable_of(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(executable_of("not json"), None);
    }
}
