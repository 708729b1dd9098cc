//! Host prerequisites: finding what is missing and installing it.
//!
//! Every other module asks for tools through [`ensure`]. The checks go
//! through the [`Probe`] trait so that the decision logic is unit-tested
//! with a fake machine instead of by uninstalling packages.

use std::process::{Command, Stdio};

use crate::probe::{Probe, System};
use crate::toolchain::Toolchain;

/// What a command needs from the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// A way to build for the bare-metal RISC-V target (see `toolchain`).
    CrossToolchain,
    /// `qemu-system-riscv64`.
    Qemu,
    /// `fdtput`, to make the device tree of the negative boot test.
    Fdtput,
    /// `cargo fmt` and `cargo clippy` for the host toolchain (rustup
    /// components `rustfmt` and `clippy`).
    HostLinters,
    /// `cargo clippy` for the bare-metal targets (with
    /// [`Need::CrossToolchain`]).
    CrossClippy,
    /// Graphviz's `dot`, to render `cargo xtask system --graph FILE.svg`
    /// (asked for only then).
    Graphviz,
    /// A C++ compiler, for libFuzzer's sources (`cargo xtask fuzz`).
    Cxx,
    /// `llvm-profdata-N` and `llvm-cov-N` whose N is the host rustc's LLVM
    /// major version (its profile format), for `cargo xtask coverage`.
    LlvmCov,
}

/// The major version of the host rustc's LLVM (`rustc -vV`), whose
/// profile format `llvm-profdata` must read.
pub fn rustc_llvm_major(probe: &dyn Probe) -> Option<u32> {
    let v = probe.stdout("rustc", &["-vV"])?;
    let line = v.lines().find_map(|l| l.strip_prefix("LLVM version: "))?;
    line.split('.').next()?.trim().parse().ok()
}

/// The Debian packages missing for `needs` (empty when all is there).
pub fn missing_packages(needs: &[Need], probe: &dyn Probe) -> Vec<&'static str> {
    let mut missing = Vec::new();
    for need in needs {
        match need {
            Need::CrossToolchain => {
                if let Err(pkgs) = Toolchain::detect(probe) {
                    missing.extend(pkgs);
                }
            }
            Need::Qemu => {
                if probe.which("qemu-system-riscv64").is_none() {
                    missing.push("qemu-system-misc");
                }
            }
            Need::Fdtput => {
                if probe.which("fdtput").is_none() {
                    missing.push("device-tree-compiler");
                }
            }
            Need::Graphviz => {
                if probe.which("dot").is_none() {
                    missing.push("graphviz");
                }
            }
            // If no cross toolchain is there yet, the one apt-get is
            // about to install is Debian's, which needs Debian's clippy.
            Need::CrossClippy => missing.extend(match Toolchain::detect(probe) {
                Ok(tc) => tc.clippy_missing(probe),
                Err(_) => crate::toolchain::debian_clippy_missing(probe),
            }),
            Need::Cxx => {
                if probe.which("c++").is_none() && probe.which("g++").is_none() {
                    missing.push("g++");
                }
            }
            Need::LlvmCov => {
                // Debian packages each LLVM as llvm-N (llvm-22 for rustc
                // 1.95); an unknown version asks for the newest we know.
                let n = rustc_llvm_major(probe).unwrap_or(22);
                let tools = [format!("llvm-profdata-{n}"), format!("llvm-cov-{n}")];
                if tools.iter().any(|t| probe.which(t).is_none()) {
                    missing.push(llvm_package(n));
                }
            }
            Need::HostLinters => {}
        }
    }
    // A need may be listed twice (`test` asks for lint's needs as well).
    let mut unique = Vec::new();
    for p in missing {
        if !unique.contains(&p) {
            unique.push(p);
        }
    }
    unique
}

/// Debian's package of LLVM `n` (the tools are `llvm-*-n`).
fn llvm_package(n: u32) -> &'static str {
    match n {
        14 => "llvm-14",
        19 => "llvm-19",
        20 => "llvm-20",
        21 => "llvm-21",
        _ => "llvm-22",
    }
}

/// The rustup components missing for `needs`, judged by whether `cargo`
/// (the host's cargo, see `toolchain::host_cargo`) runs the subcommand.
pub fn missing_components(needs: &[Need], cargo: &str, probe: &dyn Probe) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if needs.contains(&Need::HostLinters) {
        for (subcommand, component) in [("fmt", "rustfmt"), ("clippy", "clippy")] {
            if probe.stdout(cargo, &[subcommand, "--version"]).is_none() {
                missing.push(component);
            }
        }
    }
    missing
}

/// What to do about missing packages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing is missing.
    Ready,
    /// We are root and have apt-get: install these.
    Install(Vec<&'static str>),
    /// Tell the user this command and fail.
    Tell(String),
}

/// The apt-get command line that installs `pkgs`.
pub fn install_command(pkgs: &[&str], sudo: bool) -> String {
    let s = if sudo { "sudo " } else { "" };
    format!(
        "{s}apt-get update && {s}apt-get install -y {}",
        pkgs.join(" ")
    )
}

/// Decides what to do about `missing`.
pub fn plan(missing: Vec<&'static str>, probe: &dyn Probe) -> Plan {
    if missing.is_empty() {
        Plan::Ready
    } else if probe.is_root() && probe.which("apt-get").is_some() {
        Plan::Install(missing)
    } else {
        Plan::Tell(format!(
            "missing prerequisites: {}\ninstall them with:\n    {}",
            missing.join(" "),
            install_command(&missing, !probe.is_root())
        ))
    }
}

/// Makes sure everything in `needs` is present, installing it when we
/// can, and returns the cross toolchain if it was asked for and found.
pub fn ensure(needs: &[Need]) -> Result<Option<Toolchain>, String> {
    let probe = System;
    ensure_components(needs, &probe)?;
    match plan(missing_packages(needs, &probe), &probe) {
        Plan::Ready => {}
        Plan::Tell(msg) => return Err(msg),
        Plan::Install(pkgs) => {
            eprintln!(
                "xtask: installing missing prerequisites: {}",
                pkgs.join(" ")
            );
            apt_get(&["update"])?;
            let mut args = vec!["install", "-y"];
            args.extend(&pkgs);
            apt_get(&args)?;
            let still = missing_packages(needs, &probe);
            if !still.is_empty() {
                return Err(format!(
                    "still missing after apt-get install: {}",
                    still.join(" ")
                ));
            }
        }
    }
    if needs.contains(&Need::CrossToolchain) {
        let tc = Toolchain::detect(&probe)
            .map_err(|pkgs| format!("no cross toolchain (missing {})", pkgs.join(" ")))?;
        return Ok(Some(tc));
    }
    Ok(None)
}

/// Adds missing rustup components to the active toolchain (no root
/// needed), or says how to.
fn ensure_components(needs: &[Need], probe: &dyn Probe) -> Result<(), String> {
    let cargo = crate::toolchain::host_cargo_program();
    let cargo = cargo.to_string_lossy();
    let missing = missing_components(needs, &cargo, probe);
    if missing.is_empty() {
        return Ok(());
    }
    let mut args = vec!["component", "add"];
    args.extend(&missing);
    if probe.which("rustup").is_none() {
        return Err(format!(
            "missing cargo subcommands (rustup components {}); install them with:\n    rustup {}",
            missing.join(" "),
            args.join(" ")
        ));
    }
    eprintln!("xtask: rustup {}", args.join(" "));
    let status = Command::new("rustup")
        .args(&args)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    let still = missing_components(needs, &cargo, probe);
    if !status.success() || !still.is_empty() {
        return Err(format!(
            "rustup {} failed ({status}); still missing: {}",
            args.join(" "),
            still.join(" ")
        ));
    }
    Ok(())
}

fn apt_get(args: &[&str]) -> Result<(), String> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("apt-get {} failed ({status})", args.join(" ")))
    }
}

#[cfg(test)]
pub mod fake {
    //! A fake host for tests.
    use super::Probe;
    use std::collections::{HashMap, HashSet};
    use std::path::{Path, PathBuf};

    #[derive(Default)]
    pub struct Fake {
        pub programs: HashSet<&'static str>,
        pub paths: HashSet<PathBuf>,
        pub outputs: HashMap<String, String>,
        pub root: bool,
    }

    impl Probe for Fake {
        fn which(&self, program: &str) -> Option<PathBuf> {
            self.programs
                .contains(program)
                .then(|| Path::new("/usr/bin").join(program))
        }
        fn exists(&self, path: &Path) -> bool {
            self.paths.contains(path)
        }
        fn stdout(&self, program: &str, args: &[&str]) -> Option<String> {
            self.outputs
                .get(&format!("{program} {}", args.join(" ")))
                .cloned()
        }
        fn is_root(&self) -> bool {
            self.root
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::Fake;
    use super::*;
    use crate::toolchain::tests::debian_machine;

    #[test]
    fn nothing_missing_on_a_full_machine() {
        let mut m = debian_machine();
        m.programs.extend(["qemu-system-riscv64", "fdtput", "dot"]);
        let all = [
            Need::CrossToolchain,
            Need::Qemu,
            Need::Fdtput,
            Need::Graphviz,
        ];
        assert!(missing_packages(&all, &m).is_empty());
        assert_eq!(plan(vec![], &m), Plan::Ready);
    }

    #[test]
    fn names_each_missing_package() {
        let bare = Fake::default();
        assert_eq!(missing_packages(&[Need::Qemu], &bare), ["qemu-system-misc"]);
        assert_eq!(
            missing_packages(&[Need::Fdtput], &bare),
            ["device-tree-compiler"]
        );
        assert_eq!(missing_packages(&[Need::Graphviz], &bare), ["graphviz"]);
        assert_eq!(
            missing_packages(&[Need::CrossToolchain], &bare),
            ["rustc-web", "cargo-web", "rust-web-src", "lld"]
        );
        // Each package once, however often a need is listed.
        assert_eq!(
            missing_packages(&[Need::Qemu, Need::Fdtput, Need::Qemu], &bare),
            ["qemu-system-misc", "device-tree-compiler"]
        );
        // Only what is asked for is checked.
        assert!(missing_packages(&[], &bare).is_empty());
    }

    #[test]
    fn fuzzing_needs_a_cxx_compiler_and_coverage_the_matching_llvm() {
        let mut m = Fake::default();
        assert_eq!(missing_packages(&[Need::Cxx], &m), ["g++"]);
        m.programs.insert("c++");
        assert!(missing_packages(&[Need::Cxx], &m).is_empty());
        m.outputs.insert(
            "rustc -vV".into(),
            "rustc 1.95.0\nhost: x86_64-unknown-linux-gnu\nLLVM version: 21.1.0".into(),
        );
        assert_eq!(rustc_llvm_major(&m), Some(21));
        assert_eq!(missing_packages(&[Need::LlvmCov], &m), ["llvm-21"]);
        // The other version's tools do not count.
        m.programs.extend(["llvm-profdata-22", "llvm-cov-22"]);
        assert_eq!(missing_packages(&[Need::LlvmCov], &m), ["llvm-21"]);
        m.programs.extend(["llvm-profdata-21", "llvm-cov-21"]);
        assert!(missing_packages(&[Need::LlvmCov], &m).is_empty());
    }

    #[test]
    fn linters_are_rustup_components_and_debians_clippy() {
        let mut m = debian_machine();
        let lint = [Need::HostLinters, Need::CrossToolchain, Need::CrossClippy];
        assert_eq!(
            missing_components(&lint, "cargo", &m),
            ["rustfmt", "clippy"]
        );
        assert_eq!(missing_packages(&lint, &m), ["rust-web-clippy"]);
        m.outputs
            .insert("cargo fmt --version".into(), "rustfmt 1.9.0".into());
        m.outputs
            .insert("cargo clippy --version".into(), "clippy 0.1.95".into());
        m.paths.insert("/usr/bin/cargo-clippy".into());
        m.paths.insert("/usr/bin/clippy-driver".into());
        assert!(missing_components(&lint, "cargo", &m).is_empty());
        assert!(missing_packages(&lint, &m).is_empty());
        // Components are judged with the cargo given, and only for lint.
        assert_eq!(missing_components(&lint, "/other/cargo", &m).len(), 2);
        assert!(missing_components(&[Need::Qemu], "/other/cargo", &m).is_empty());
        // A bare machine gets Debian's toolchain and so Debian's clippy.
        assert_eq!(
            missing_packages(&lint, &Fake::default()),
            [
                "rustc-web",
                "cargo-web",
                "rust-web-src",
                "lld",
                "rust-web-clippy"
            ]
        );
    }

    #[test]
    fn installs_as_root_with_apt_else_tells() {
        let mut m = Fake {
            root: true,
            ..Fake::default()
        };
        m.programs.insert("apt-get");
        assert_eq!(
            plan(vec!["qemu-system-misc"], &m),
            Plan::Install(vec!["qemu-system-misc"])
        );

        m.root = false;
        let Plan::Tell(msg) = plan(vec!["qemu-system-misc", "lld"], &m) else {
            panic!()
        };
        assert!(
            msg.contains("sudo apt-get update && sudo apt-get install -y qemu-system-misc lld"),
            "{msg}"
        );

        let m = Fake {
            root: true,
            ..Fake::default()
        }; // no apt-get
        let Plan::Tell(msg) = plan(vec!["lld"], &m) else {
            panic!()
        };
        assert!(
            msg.contains("    apt-get update && apt-get install -y lld"),
            "{msg}"
        );
    }
}
