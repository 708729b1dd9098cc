//! `cargo xtask lint`: formatting, clippy and the unsafe inventory, for
//! every workspace and target; `cargo xtask test` runs it first.
//!
//! Each check is one named result (`test lint::<name> ... ok`), counted
//! like any other test. The checks, in [`CHECKS`]:
//! - `cargo fmt --check` in each workspace: the root one, `user/`,
//!   `user/hello`, `user/mcs-hog` and `user/mcs-demo` (workspaces of
//!   their own);
//! - `cargo clippy ... -- -D warnings` for the host builds (the root
//!   workspace with all targets, tests included; the user libraries'
//!   host tests) and for the bare-metal builds (the kernel for
//!   `riscv64imac`, the user workspace and `user/hello` for `riscv64gc`,
//!   through `toolchain`, so by Debian's clippy on the build-std route);
//! - then `docs/unsafe.md` against the source (`inventory`).
//!
//! What clippy checks is configured in the workspaces' `Cargo.toml`
//! (`[workspace.lints]`, the kernel's own `[lints]`) and `clippy.toml`;
//! see docs/architecture.md, "Lints". Only `suite` and `main` call [`run`].

use std::path::Path;
use std::time::Duration;

use crate::build::repo_root;
use crate::harness::TestResult;
use crate::prereq::{self, Need};
use crate::qemu::{self, Captured, Ending};
use crate::toolchain::{host_cargo, Target, Toolchain};

/// What the checks need from the host.
pub const NEEDS: [Need; 3] = [Need::HostLinters, Need::CrossToolchain, Need::CrossClippy];

/// Limit for each check (a cold bare-metal clippy builds `core` first).
const TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Lines of diagnostics quoted in a failure.
const QUOTED_LINES: usize = 60;

/// How a check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    /// `cargo fmt --check` (every member of the workspace).
    Fmt,
    /// The host's `cargo clippy` with these arguments.
    HostClippy(&'static [&'static str]),
    /// `cargo clippy` for a bare-metal target with these arguments.
    CrossClippy(Target, &'static [&'static str]),
}

/// One check: a name, the directory it runs in (relative to the
/// repository) and how.
#[derive(Clone, Copy, Debug)]
struct Check {
    name: &'static str,
    dir: &'static str,
    tool: Tool,
}

/// Every cargo check, in the order run (then `unsafe-inventory`).
const CHECKS: [Check; 18] = [
    Check {
        name: "fmt::root",
        dir: ".",
        tool: Tool::Fmt,
    },
    Check {
        name: "fmt::user",
        dir: "user",
        tool: Tool::Fmt,
    },
    Check {
        name: "fmt::hello",
        dir: "user/hello",
        tool: Tool::Fmt,
    },
    Check {
        name: "clippy::host",
        dir: ".",
        tool: Tool::HostClippy(&["--workspace", "--all-targets"]),
    },
    // The user crates that build on the host: the libraries, with their
    // unit tests (the root tasks are bare-metal only).
    Check {
        name: "clippy::host-user",
        dir: "user",
        tool: Tool::HostClippy(&["-p", "cairn-sel4", "-p", "cairn-rt", "--all-targets"]),
    },
    // The loader's input reading and the PD runtime's pure parts, with
    // their unit tests (their binaries are bare-metal only).
    Check {
        name: "clippy::host-loader",
        dir: "user",
        tool: Tool::HostClippy(&[
            "-p",
            "cairn-loader",
            "-p",
            "cairn-microkit",
            "--lib",
            "--tests",
        ]),
    },
    // The kernel library and binary as the bare-metal build sees them
    // (arch/riscv64/machine exists only there).
    Check {
        name: "clippy::kernel-riscv64imac",
        dir: ".",
        tool: Tool::CrossClippy(Target::Kernel, &["-p", "cairn-kernel"]),
    },
    Check {
        name: "clippy::user-riscv64gc",
        dir: "user",
        tool: Tool::CrossClippy(Target::User, &["--workspace"]),
    },
    Check {
        name: "clippy::hello-riscv64gc",
        dir: "user/hello",
        tool: Tool::CrossClippy(Target::User, &[]),
    },
    // The MCS configuration (`--config mcs=on`, docs/mcs.md): the ABI
    // with its golden test, the kernel (host, with its tests) and the
    // user library built with the `mcs` feature (and the system crates).
    Check {
        name: "clippy::abi-mcs",
        dir: ".",
        tool: Tool::HostClippy(&["-p", "cairn-abi", "--all-targets", "--features", "mcs"]),
    },
    Check {
        name: "clippy::kernel-host-mcs",
        dir: ".",
        tool: Tool::HostClippy(&["-p", "cairn-kernel", "--all-targets", "--features", "mcs"]),
    },
    Check {
        name: "clippy::kernel-riscv64imac-mcs",
        dir: ".",
        tool: Tool::CrossClippy(Target::Kernel, &["-p", "cairn-kernel", "--features", "mcs"]),
    },
    Check {
        name: "clippy::user-lib-riscv64gc-mcs",
        dir: "user",
        // With the crates whose code differs under MCS (`cfg(sel4_mcs)`):
        // the SDK's event loop, the loader, the monitor, the
        // conformance suite and the isolation suite.
        tool: Tool::CrossClippy(
            Target::User,
            &[
                "-p",
                "cairn-sel4",
                "-p",
                "cairn-tests",
                "-p",
                "cairn-microkit",
                "-p",
                "cairn-loader",
                "-p",
                "monitor",
                "-p",
                "cairn-isolation",
                "--features",
                "cairn-sel4/mcs",
            ],
        ),
    },
    // The MCS-only root tasks (workspaces of their own, built only against
    // the MCS user library).
    Check {
        name: "fmt::mcs-hog",
        dir: "user/mcs-hog",
        tool: Tool::Fmt,
    },
    Check {
        name: "clippy::mcs-hog-riscv64gc",
        dir: "user/mcs-hog",
        tool: Tool::CrossClippy(Target::User, &["--features", "cairn-sel4/mcs"]),
    },
    Check {
        name: "fmt::mcs-demo",
        dir: "user/mcs-demo",
        tool: Tool::Fmt,
    },
    Check {
        name: "clippy::mcs-demo-riscv64gc",
        dir: "user/mcs-demo",
        tool: Tool::CrossClippy(Target::User, &["--features", "cairn-sel4/mcs"]),
    },
    // The libFuzzer target's own workspace (its code is the kernel's
    // `fuzz` module, which clippy::host checks; building fuzz/ itself
    // compiles libFuzzer's C++, left to `cargo xtask fuzz`).
    Check {
        name: "fmt::fuzz",
        dir: "fuzz",
        tool: Tool::Fmt,
    },
];

/// Makes sure the linters are there (installing them when possible) and
/// runs every check, handing each result to `report` as it comes.
pub fn run(verbose: bool, report: &mut dyn FnMut(&TestResult)) -> Result<(), String> {
    let toolchain = prereq::ensure(&NEEDS)?.ok_or("no cross toolchain")?;
    let root = repo_root();
    for check in CHECKS {
        eprintln!("xtask: lint {} (in {})", check.name, check.dir);
        let name = format!("lint::{}", check.name);
        let cmd = command(check.tool, &root.join(check.dir), &root, &toolchain);
        report(
            &match qemu::run_captured(cmd, qemu::Limits::total(TIMEOUT), verbose) {
                Ok(c) => judge(&name, check.tool, check.dir, &c),
                Err(e) => TestResult::failed(&name, e),
            },
        );
    }
    let name = "lint::unsafe-inventory";
    report(&match crate::inventory::check(&root) {
        Ok(()) => TestResult::ok(name),
        Err(e) => TestResult::failed(name, e),
    });
    Ok(())
}

/// The command line of a check that runs a cargo subcommand.
fn command(tool: Tool, dir: &Path, root: &Path, toolchain: &Toolchain) -> std::process::Command {
    let mut cmd = match tool {
        Tool::Fmt => {
            let mut c = host_cargo();
            // Not `--all`: that would also format path dependencies in
            // other workspaces (user/ depends on abi/).
            c.args(["fmt", "--check"]);
            c
        }
        Tool::HostClippy(args) => {
            let mut c = host_cargo();
            c.arg("clippy").args(args);
            c
        }
        Tool::CrossClippy(target, args) => {
            // The bare-metal builds' own target directory, so that their
            // build scripts and `core` are shared with the builds.
            let mut c = toolchain.cargo_clippy(target, &root.join("target/riscv"));
            c.args(args);
            c
        }
    };
    cmd.current_dir(dir);
    // `cargo fmt` finds the workspace from the directory (it refuses a
    // virtual manifest as --manifest-path); cargo is told explicitly.
    if tool != Tool::Fmt {
        cmd.arg("--manifest-path").arg(dir.join("Cargo.toml"));
        cmd.args(["--message-format=short", "--", "-D", "warnings"]);
    }
    cmd
}

/// Judges a finished check from its output and exit status.
fn judge(name: &str, tool: Tool, dir: &str, c: &Captured) -> TestResult {
    let why = match &c.ending {
        Ending::Exited(0) => return TestResult::ok(name),
        Ending::Exited(code) => format!("exited with status {code}"),
        Ending::Signalled => "killed by a signal".into(),
        Ending::TimedOut(t) | Ending::Silent(t) => format!("timed out after {} s", t.as_secs()),
    };
    let problems: Vec<&str> = c
        .lines
        .iter()
        .map(String::as_str)
        .filter(|l| !is_progress(l))
        .collect();
    let diffs: Vec<&str> = c
        .lines
        .iter()
        .filter_map(|l| l.strip_prefix("Diff in "))
        .collect();
    let (what, lines) = match tool {
        Tool::Fmt if !diffs.is_empty() => (
            format!("not formatted ({why}); run `cargo fmt` in {dir}"),
            diffs,
        ),
        Tool::Fmt => (format!("cargo fmt failed ({why})"), problems),
        _ => (format!("clippy found problems ({why})"), problems),
    };
    let mut text = what;
    for l in lines.iter().take(QUOTED_LINES) {
        text.push('\n');
        text.push_str(l);
    }
    if lines.len() > QUOTED_LINES {
        text.push_str(&format!("\n({} more lines)", lines.len() - QUOTED_LINES));
    }
    TestResult::failed(name, text)
}

/// cargo's progress lines, which say nothing about the problems.
fn is_progress(line: &str) -> bool {
    const VERBS: [&str; 9] = [
        "Compiling ",
        "Checking ",
        "Finished ",
        "Blocking ",
        "Updating ",
        "Downloading ",
        "Downloaded ",
        "Locking ",
        "Adding ",
    ];
    let t = line.trim_start();
    VERBS.iter().any(|v| t.starts_with(v)) || t.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Outcome;

    fn captured(lines: &[&str], ending: Ending) -> Captured {
        Captured {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            ending,
        }
    }

    #[test]
    fn every_workspace_is_formatted_and_every_target_linted() {
        let dirs = |pick: fn(&Tool) -> bool| -> Vec<&str> {
            CHECKS
                .iter()
                .filter(|c| pick(&c.tool))
                .map(|c| c.dir)
                .collect()
        };
        assert_eq!(
            dirs(|t| *t == Tool::Fmt),
            [
                ".",
                "user",
                "user/hello",
                "user/mcs-hog",
                "user/mcs-demo",
                "fuzz"
            ]
        );
        assert_eq!(
            dirs(|t| matches!(t, Tool::HostClippy(_))),
            [".", "user", "user", ".", "."]
        );
        let cross: Vec<_> = CHECKS
            .iter()
            .filter_map(|c| match c.tool {
                Tool::CrossClippy(t, _) => Some((c.dir, t)),
                _ => None,
            })
            .collect();
        assert_eq!(
            cross,
            [
                (".", Target::Kernel),
                ("user", Target::User),
                ("user/hello", Target::User),
                (".", Target::Kernel),
                ("user", Target::User),
                ("user/mcs-hog", Target::User),
                ("user/mcs-demo", Target::User),
            ]
        );
        // Every directory holds a manifest, and names are unique.
        for c in CHECKS {
            assert!(
                repo_root().join(c.dir).join("Cargo.toml").is_file(),
                "{}",
                c.dir
            );
            assert_eq!(CHECKS.iter().filter(|d| d.name == c.name).count(), 1);
        }
    }

    #[test]
    fn clippy_denies_warnings_and_fmt_only_checks() {
        let tc = Toolchain::detect(&crate::toolchain::tests::debian_machine()).unwrap();
        let root = Path::new("/r");
        let args = |t: Tool| -> Vec<String> {
            command(t, &root.join("user"), root, &tc)
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let fmt = args(Tool::Fmt);
        assert_eq!(fmt, ["fmt", "--check"]);
        let host = args(CHECKS[4].tool);
        assert_eq!(host.first().map(String::as_str), Some("clippy"));
        assert!(host.ends_with(&["--".into(), "-D".into(), "warnings".into()]));
        let cross = args(CHECKS[7].tool);
        assert!(cross.contains(&"riscv64gc-unknown-none-elf".to_string()));
        assert!(cross.contains(&"--workspace".to_string()));
        assert!(cross.ends_with(&["--".into(), "-D".into(), "warnings".into()]));
    }

    #[test]
    fn failures_quote_the_problems_without_cargo_progress() {
        let ok = judge("lint::x", Tool::Fmt, ".", &captured(&[], Ending::Exited(0)));
        assert_eq!(ok.outcome, Outcome::Ok);

        let c = captured(
            &[
                "Diff in /r/kernel/src/lib.rs:3:",
                "-fn  f() {}",
                "+fn f() {}",
            ],
            Ending::Exited(1),
        );
        let r = judge("lint::fmt::root", Tool::Fmt, ".", &c);
        // Without a diff, the output is the problem.
        let broken = captured(&["Failed to find targets"], Ending::Exited(1));
        assert_eq!(
            judge("f", Tool::Fmt, ".", &broken).outcome,
            Outcome::Failed(
                "cargo fmt failed (exited with status 1)\nFailed to find targets".into()
            )
        );
        assert_eq!(
            r.outcome,
            Outcome::Failed(
                "not formatted (exited with status 1); run `cargo fmt` in .\n/r/kernel/src/lib.rs:3:"
                    .into()
            )
        );

        let c = captured(
            &[
                "    Checking cairn-abi v0.1.0 (/r/abi)",
                "kernel/src/a.rs:1:5: error: indexing may panic",
                "error: could not compile `cairn-kernel` (lib) due to 1 previous error",
            ],
            Ending::Exited(101),
        );
        let tool = Tool::HostClippy(&[]);
        let Outcome::Failed(why) = judge("lint::clippy::host", tool, ".", &c).outcome else {
            panic!("a failed clippy passed");
        };
        assert_eq!(why.lines().count(), 3, "{why}");
        assert!(why.starts_with("clippy found problems (exited with status 101)"));
        assert!(why.contains("kernel/src/a.rs:1:5: error: indexing may panic"));
        assert!(!why.contains("Checking"));

        let many: Vec<String> = (0..QUOTED_LINES + 5).map(|i| format!("e{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let Outcome::Failed(why) =
            judge("x", tool, ".", &captured(&many, Ending::Exited(101))).outcome
        else {
            panic!("a failed clippy passed");
        };
        assert!(why.ends_with("\n(5 more lines)"), "{why}");
        assert_eq!(why.lines().count(), QUOTED_LINES + 2);
    }
}
