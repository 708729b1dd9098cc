//! `cargo xtask test`: the lint checks (`lint`), host tests, then every
//! QEMU test image, then the closing line `N passed, M failed`.
//!
//! All artifacts are built before the first image runs; a build failure
//! fails the images that needed it (and the run goes on with the others).
//! Images run one after the other (CI has two cores).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::build::{parse_config, short, Builder};
use crate::harness::{evaluate, parse_cargo_test, Summary, TestResult};
use crate::images::{self, Machine, RootTask, TestImage};
use crate::prereq::{self, Need};
use crate::qemu;
use crate::toolchain::host_cargo;

/// Limit for each host `cargo test` run (includes compiling).
const HOST_TIMEOUT: Duration = Duration::from_secs(40 * 60);
/// A QEMU image silent this long is taken for hung: every image prints
/// as it goes (the conformance suite a line per test), and a root task
/// that faults without a fault handler leaves the kernel idling for ever.
const SILENCE_LIMIT: Duration = Duration::from_secs(60);

/// Options of `cargo xtask test`.
pub struct Options {
    pub verbose: bool,
    pub images: Vec<String>,
    pub no_host: bool,
    pub no_lint: bool,
}

/// Runs the suite; returns whether everything passed.
pub fn run(opts: &Options) -> Result<bool, String> {
    let selected = images::select(&opts.images)?;
    let mut needs = vec![];
    if !selected.is_empty() {
        needs.extend([Need::CrossToolchain, Need::Qemu]);
    }
    if selected
        .iter()
        .any(|i| i.machine == Machine::VirtWithoutMemory)
    {
        needs.push(Need::Fdtput);
    }
    if !opts.no_lint {
        // Installed with the rest, in one apt-get run.
        needs.extend(crate::lint::NEEDS);
    }
    let toolchain = prereq::ensure(&needs)?;
    let mut summary = Summary::default();
    let mut report = |r: &TestResult| {
        println!("{}", r.line());
        summary.add(r);
    };

    if !opts.no_lint {
        // A linter that cannot be had fails the suite, not just the lint.
        if let Err(e) = crate::lint::run(opts.verbose, &mut report) {
            report(&TestResult::failed("lint", e));
        }
    }

    if !opts.no_host {
        for (prefix, args) in [
            ("host", &["test", "--workspace", "--no-fail-fast"][..]),
            (
                "host-user",
                &[
                    "test",
                    "--manifest-path",
                    "user/Cargo.toml",
                    "-p",
                    "cairn-sel4",
                    "-p",
                    "cairn-rt",
                    "--no-fail-fast",
                ],
            ),
        ] {
            eprintln!("xtask: cargo {}", args.join(" "));
            let mut cmd = host_cargo();
            cmd.current_dir(crate::build::repo_root()).args(args);
            let c = qemu::run_captured(cmd, qemu::Limits::total(HOST_TIMEOUT), opts.verbose)?;
            parse_cargo_test(prefix, &c).iter().for_each(&mut report);
        }
    }

    if let Some(tc) = toolchain {
        eprintln!("xtask: cross toolchain: {}", tc.describe());
        let artifacts = build_all(&Builder::new(tc), &selected);
        for (image, built) in selected.iter().zip(artifacts) {
            let (results, output) = match built {
                Ok(path) => run_image(image, &path, opts.verbose),
                Err(e) => (
                    vec![TestResult::failed(image.name, format!("build failed: {e}"))],
                    None,
                ),
            };
            results.iter().for_each(&mut report);
            if let Some(output) = output {
                eprintln!("{output}");
            }
        }
    }

    let _ = std::fs::remove_dir_all(rootserver_dir());
    println!("{}", summary.line());
    Ok(summary.failed == 0)
}

/// Builds every selected image; one result per image, in order.
fn build_all(b: &Builder, selected: &[&TestImage]) -> Vec<Result<PathBuf, String>> {
    // Kernels, one per distinct configuration.
    let mut kernels: BTreeMap<&str, Result<PathBuf, String>> = BTreeMap::new();
    for i in selected {
        kernels
            .entry(i.config)
            .or_insert_with(|| b.kernel(&parse_config(&[i.config.into()])?));
    }
    // Root tasks of the user workspace, in one cargo invocation.
    let mut packages: Vec<&str> = selected
        .iter()
        .filter_map(|i| match i.root {
            RootTask::Package(p) => Some(p),
            RootTask::Standalone => None,
        })
        .collect();
    packages.sort_unstable();
    packages.dedup();
    let user = if packages.is_empty() {
        Ok(BTreeMap::new())
    } else {
        b.user_programs(&packages)
    };
    let standalone = selected
        .iter()
        .any(|i| i.root == RootTask::Standalone)
        .then(|| standalone_rootserver(b));

    selected
        .iter()
        .map(|i| {
            let kernel = kernels[i.config].as_ref().map_err(Clone::clone)?;
            let root = match i.root {
                RootTask::Package(p) => user.as_ref().map_err(Clone::clone)?[p].clone(),
                RootTask::Standalone => standalone
                    .as_ref()
                    .ok_or("not built")?
                    .as_ref()
                    .map_err(Clone::clone)?
                    .clone(),
            };
            b.image(kernel, &root, &format!("test-{}", i.name))
        })
        .collect()
}

/// Builds the standalone root task and copies its ELF out of the
/// repository, so that the image is made from an arbitrary `--rootserver`
/// path exactly as a user would pass one.
fn standalone_rootserver(b: &Builder) -> Result<PathBuf, String> {
    let exe = b.standalone(&crate::build::repo_root().join(images::STANDALONE_DIR))?;
    let dir = rootserver_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = exe.file_name().ok_or("executable without a file name")?;
    let copy = dir.join(name);
    std::fs::copy(&exe, &copy).map_err(|e| format!("copying {}: {e}", exe.display()))?;
    Ok(copy)
}

/// A temporary directory outside the repository, removed after the run.
fn rootserver_dir() -> PathBuf {
    std::env::temp_dir().join(format!("cairn-rootserver-{}", std::process::id()))
}

/// Boots one image and judges it; returns the results and, on a failure
/// (unless the output was streamed), the output to show.
fn run_image(image: &TestImage, path: &Path, verbose: bool) -> (Vec<TestResult>, Option<String>) {
    eprintln!(
        "xtask: booting {} ({}, limit {} s)",
        image.name,
        short(path),
        image.timeout.as_secs()
    );
    let dtb = path.with_extension("dtb");
    let dtb = match image.machine {
        Machine::Virt | Machine::VirtWithMemoryMiB(_) | Machine::VirtIcount => None,
        Machine::VirtWithoutMemory => match qemu::dtb_without_memory(&dtb) {
            Ok(()) => Some(dtb.as_path()),
            Err(e) => return (vec![TestResult::failed(image.name, e)], None),
        },
    };
    let mut cmd = qemu::boot_command(path, dtb);
    match image.machine {
        // A later -m overrides the standard one.
        Machine::VirtWithMemoryMiB(mib) => {
            cmd.arg("-m").arg(format!("{mib}M"));
        }
        Machine::VirtIcount => {
            cmd.args(qemu::ICOUNT_ARGS);
        }
        Machine::Virt | Machine::VirtWithoutMemory => {}
    }
    let limits = qemu::Limits {
        total: image.timeout,
        silence: SILENCE_LIMIT,
    };
    let c = match qemu::run_captured_with_input(cmd, limits, verbose, image.input) {
        Ok(c) => c,
        Err(e) => return (vec![TestResult::failed(image.name, e)], None),
    };
    let results = evaluate(image.name, image.expect, &c);
    let failed = results
        .iter()
        .any(|r| matches!(r.outcome, crate::harness::Outcome::Failed(_)));
    let timed_out = matches!(
        c.ending,
        qemu::Ending::TimedOut(_) | qemu::Ending::Silent(_)
    );
    if !failed || verbose || timed_out {
        // (A timeout already shows its last lines in the failure.)
        return (results, None);
    }
    const MAX: usize = 400;
    let note = if c.lines.len() > MAX {
        format!(" (last {MAX} lines)")
    } else {
        String::new()
    };
    let output = format!(
        "---- {name} output{note} ----\n{}\n---- end of {name} output ----",
        c.tail(MAX),
        name = image.name
    );
    (results, Some(output))
}
