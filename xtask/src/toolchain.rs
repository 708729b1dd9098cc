//! The one place that knows how to run cargo for the bare-metal target.
//!
//! Two routes, chosen by [`Toolchain::detect`]:
//! - **Installed**: the active (rustup) toolchain already has the standard
//!   library of both bare-metal targets ([`Target`]): plain `cargo build
//!   --target ...`.
//! - **Build-std**: Debian's `rustc-web`/`cargo-web` (`/usr/bin/rustc`,
//!   `/usr/bin/cargo`) build `core`/`alloc` from the `rust-web-src` sources
//!   with `-Zbuild-std` (allowed by `RUSTC_BOOTSTRAP=1`), linked by rustup's
//!   `rust-lld` or Debian's `ld.lld` (package `lld`).
//!
//! Cross builds use their own target directory (`target/riscv`) so that two
//! different rustc versions never thrash each other's artifacts. Callers get
//! a ready [`Command`] from [`Toolchain::cargo_build`] (or
//! [`Toolchain::cargo_clippy`], for `cargo xtask lint`) and add only the
//! package selection; nothing outside this module knows which route is used.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::probe::Probe;

/// The two bare-metal targets. The kernel is soft-float (`imac`) so that it
/// never touches the floating-point registers holding user state; user
/// programs use the full `gc` ISA, as seL4 root tasks do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `riscv64imac-unknown-none-elf`.
    Kernel,
    /// `riscv64gc-unknown-none-elf`.
    User,
}

impl Target {
    /// The target triple.
    pub const fn triple(self) -> &'static str {
        match self {
            Target::Kernel => "riscv64imac-unknown-none-elf",
            Target::User => "riscv64gc-unknown-none-elf",
        }
    }

    /// cargo's linker variable for the target.
    const fn linker_var(self) -> &'static str {
        match self {
            Target::Kernel => "CARGO_TARGET_RISCV64IMAC_UNKNOWN_NONE_ELF_LINKER",
            Target::User => "CARGO_TARGET_RISCV64GC_UNKNOWN_NONE_ELF_LINKER",
        }
    }

    const ALL: [Target; 2] = [Target::Kernel, Target::User];
}

const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_STD_SRC: &str = "/usr/lib/rustlib/src/rust/library/core";
const DEBIAN_CARGO_CLIPPY: &str = "/usr/bin/cargo-clippy";
const DEBIAN_CLIPPY_DRIVER: &str = "/usr/bin/clippy-driver";

#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    Installed,
    BuildStd { linker: PathBuf },
}

/// A way to build for the [`Target`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    route: Route,
}

impl Toolchain {
    /// Picks a route, or names the Debian packages that would provide one.
    pub fn detect(probe: &dyn Probe) -> Result<Toolchain, Vec<&'static str>> {
        let installed = |t: Target| {
            let libdir = probe.stdout(
                "rustc",
                &["--print", "target-libdir", "--target", t.triple()],
            );
            libdir.is_some_and(|dir| !dir.is_empty() && probe.exists(Path::new(&dir)))
        };
        if Target::ALL.iter().all(|t| installed(*t)) {
            return Ok(Toolchain {
                route: Route::Installed,
            });
        }
        let mut missing = Vec::new();
        if !probe.exists(Path::new(DEBIAN_RUSTC)) {
            missing.push("rustc-web");
        }
        if !probe.exists(Path::new(DEBIAN_CARGO)) {
            missing.push("cargo-web");
        }
        if !probe.exists(Path::new(DEBIAN_STD_SRC)) {
            missing.push("rust-web-src");
        }
        let linker = rustup_lld(probe).or_else(|| probe.which("ld.lld"));
        match linker {
            Some(linker) if missing.is_empty() => Ok(Toolchain {
                route: Route::BuildStd { linker },
            }),
            Some(_) => Err(missing),
            None => {
                missing.push("lld");
                Err(missing)
            }
        }
    }

    /// `cargo build --release --target <triple>` (plus what the route
    /// needs), writing into `target_dir` (absolute).
    pub fn cargo_build(&self, target: Target, target_dir: &Path) -> Command {
        self.cargo("build", target, target_dir)
    }

    /// `cargo clippy --release --target <triple>` (plus what the route
    /// needs), writing into `target_dir` (absolute). The caller adds the
    /// package selection and `-- <lint flags>`.
    pub fn cargo_clippy(&self, target: Target, target_dir: &Path) -> Command {
        self.cargo("clippy", target, target_dir)
    }

    /// The Debian package missing for [`Toolchain::cargo_clippy`], if any.
    /// The build-std route needs the clippy built for Debian's rustc
    /// (`rust-web-clippy`): rustup's would not accept its metadata. The
    /// installed route uses the active toolchain's clippy component (see
    /// `prereq`, `Need::HostLinters`).
    pub fn clippy_missing(&self, probe: &dyn Probe) -> Option<&'static str> {
        match self.route {
            Route::Installed => None,
            Route::BuildStd { .. } => debian_clippy_missing(probe),
        }
    }

    fn cargo(&self, subcommand: &str, target: Target, target_dir: &Path) -> Command {
        let mut cmd;
        match &self.route {
            Route::Installed => {
                cmd = Command::new("cargo");
                cmd.args([subcommand, "--release", "--target", target.triple()]);
            }
            Route::BuildStd { linker } => {
                // Debian's cargo would look `cargo-clippy` up on PATH and
                // might find rustup's, built for another rustc: run
                // Debian's directly, with Debian's cargo under it.
                if subcommand == "clippy" {
                    cmd = Command::new(DEBIAN_CARGO_CLIPPY);
                    cmd.env("CARGO", DEBIAN_CARGO);
                } else {
                    cmd = Command::new(DEBIAN_CARGO);
                }
                cmd.env("RUSTC", DEBIAN_RUSTC)
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env(target.linker_var(), linker);
                cmd.args([
                    subcommand,
                    "--release",
                    "--target",
                    target.triple(),
                    "-Zbuild-std=core,alloc,compiler_builtins",
                    "-Zbuild-std-features=compiler-builtins-mem",
                ]);
            }
        }
        cmd.env("CARGO_TARGET_DIR", target_dir);
        cmd
    }

    /// One line saying which route is used.
    pub fn describe(&self) -> String {
        match &self.route {
            Route::Installed => "active rustup toolchain with the RISC-V targets".to_string(),
            Route::BuildStd { linker } => format!(
                "{DEBIAN_CARGO} with -Zbuild-std, linked by {}",
                linker.display()
            ),
        }
    }
}

/// The host's cargo, for host builds and tests: the cargo running the
/// xtask if known, else `cargo` from `PATH`.
pub fn host_cargo() -> Command {
    Command::new(host_cargo_program())
}

/// The program [`host_cargo`] runs.
pub fn host_cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// `rust-web-clippy` unless Debian's clippy (for Debian's rustc) is there.
pub fn debian_clippy_missing(probe: &dyn Probe) -> Option<&'static str> {
    let there = |p: &str| probe.exists(Path::new(p));
    (!there(DEBIAN_CARGO_CLIPPY) || !there(DEBIAN_CLIPPY_DRIVER)).then_some("rust-web-clippy")
}

/// rustup's `rust-lld` for the host, if the active rustc has one.
fn rustup_lld(probe: &dyn Probe) -> Option<PathBuf> {
    let sysroot = probe.stdout("rustc", &["--print", "sysroot"])?;
    let verbose = probe.stdout("rustc", &["-vV"])?;
    let host = verbose
        .lines()
        .find_map(|l| l.strip_prefix("host: "))?
        .trim();
    let lld = Path::new(&sysroot)
        .join("lib/rustlib")
        .join(host)
        .join("bin/rust-lld");
    probe.exists(&lld).then_some(lld)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::prereq::fake::Fake;

    const SYSROOT: &str = "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu";

    /// This machine: rustup stable for the host only, plus Debian's
    /// rustc-web, cargo-web and rust-web-src.
    pub fn debian_machine() -> Fake {
        let mut m = Fake::default();
        for p in [DEBIAN_RUSTC, DEBIAN_CARGO, DEBIAN_STD_SRC] {
            m.paths.insert(p.into());
        }
        let lld = format!("{SYSROOT}/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld");
        m.paths.insert(lld.into());
        m.outputs
            .insert("rustc --print sysroot".into(), SYSROOT.into());
        m.outputs.insert(
            "rustc -vV".into(),
            "rustc 1.95.0\nhost: x86_64-unknown-linux-gnu".into(),
        );
        for t in Target::ALL {
            let triple = t.triple();
            m.outputs.insert(
                format!("rustc --print target-libdir --target {triple}"),
                format!("{SYSROOT}/lib/rustlib/{triple}/lib"),
            );
        }
        m
    }

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn env(cmd: &Command, key: &str) -> Option<String> {
        cmd.get_envs()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()))
    }

    #[test]
    fn installed_target_means_plain_cargo() {
        let mut m = debian_machine();
        let user = Target::User.triple();
        m.paths
            .insert(format!("{SYSROOT}/lib/rustlib/{user}/lib").into());
        // One target is not enough: the kernel's is missing.
        assert_ne!(Toolchain::detect(&m).unwrap().route, Route::Installed);
        let kernel = Target::Kernel.triple();
        m.paths
            .insert(format!("{SYSROOT}/lib/rustlib/{kernel}/lib").into());
        let tc = Toolchain::detect(&m).unwrap();
        let cmd = tc.cargo_build(Target::User, Path::new("/w/target/riscv"));
        assert_eq!(cmd.get_program(), "cargo");
        assert_eq!(args(&cmd), ["build", "--release", "--target", user]);
        assert_eq!(
            env(&cmd, "CARGO_TARGET_DIR").as_deref(),
            Some("/w/target/riscv")
        );
        assert_eq!(env(&cmd, "RUSTC_BOOTSTRAP"), None);
    }

    #[test]
    fn debian_route_uses_build_std_and_rustups_lld() {
        let tc = Toolchain::detect(&debian_machine()).unwrap();
        let cmd = tc.cargo_build(Target::Kernel, Path::new("/w/target/riscv"));
        assert_eq!(cmd.get_program(), DEBIAN_CARGO);
        assert!(args(&cmd).contains(&"riscv64imac-unknown-none-elf".to_string()));
        assert!(args(&cmd).contains(&"-Zbuild-std=core,alloc,compiler_builtins".to_string()));
        assert!(args(&cmd).contains(&"-Zbuild-std-features=compiler-builtins-mem".to_string()));
        assert_eq!(env(&cmd, "RUSTC").as_deref(), Some(DEBIAN_RUSTC));
        assert_eq!(env(&cmd, "RUSTC_BOOTSTRAP").as_deref(), Some("1"));
        let lld = format!("{SYSROOT}/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld");
        assert_eq!(env(&cmd, Target::Kernel.linker_var()), Some(lld));
    }

    #[test]
    fn debian_route_falls_back_to_ld_lld() {
        let mut m = debian_machine();
        m.outputs.remove("rustc --print sysroot");
        assert_eq!(Toolchain::detect(&m), Err(vec!["lld"]));
        m.programs.insert("ld.lld");
        let cmd = Toolchain::detect(&m)
            .unwrap()
            .cargo_build(Target::User, Path::new("/t"));
        assert_eq!(
            env(&cmd, Target::User.linker_var()).as_deref(),
            Some("/usr/bin/ld.lld")
        );
    }

    #[test]
    fn names_missing_debian_packages() {
        let mut m = debian_machine();
        m.paths.remove(Path::new(DEBIAN_STD_SRC));
        assert_eq!(Toolchain::detect(&m), Err(vec!["rust-web-src"]));
        m.paths.remove(Path::new(DEBIAN_CARGO));
        assert_eq!(
            Toolchain::detect(&m),
            Err(vec!["cargo-web", "rust-web-src"])
        );
    }

    #[test]
    fn debian_route_lints_with_debians_clippy() {
        let mut m = debian_machine();
        let tc = Toolchain::detect(&m).unwrap();
        assert_eq!(tc.clippy_missing(&m), Some("rust-web-clippy"));
        m.paths.insert(DEBIAN_CARGO_CLIPPY.into());
        assert_eq!(tc.clippy_missing(&m), Some("rust-web-clippy"));
        m.paths.insert(DEBIAN_CLIPPY_DRIVER.into());
        assert_eq!(tc.clippy_missing(&m), None);
        let cmd = tc.cargo_clippy(Target::User, Path::new("/t"));
        assert_eq!(cmd.get_program(), DEBIAN_CARGO_CLIPPY);
        assert_eq!(args(&cmd).first().map(String::as_str), Some("clippy"));
        assert!(args(&cmd).contains(&"-Zbuild-std=core,alloc,compiler_builtins".to_string()));
        assert_eq!(env(&cmd, "CARGO").as_deref(), Some(DEBIAN_CARGO));
        assert_eq!(env(&cmd, "RUSTC").as_deref(), Some(DEBIAN_RUSTC));
        // Builds still go through Debian's cargo itself.
        let build = tc.cargo_build(Target::User, Path::new("/t"));
        assert_eq!(build.get_program(), DEBIAN_CARGO);
        assert_eq!(env(&build, "CARGO"), None);
    }

    #[test]
    fn installed_route_lints_with_the_active_clippy() {
        let tc = Toolchain {
            route: Route::Installed,
        };
        assert_eq!(tc.clippy_missing(&Fake::default()), None);
        let cmd = tc.cargo_clippy(Target::Kernel, Path::new("/t"));
        assert_eq!(cmd.get_program(), "cargo");
        assert_eq!(
            args(&cmd),
            ["clippy", "--release", "--target", Target::Kernel.triple()]
        );
    }
}
