//! `cargo xtask test`: the lint checks (`lint`), host tests, then every
//! QEMU test image, then the closing line `N passed, M failed`.
//!
//! All artifacts are built before the first image runs; a build failure
//! fails the images that needed it (and the run goes on with the others).
//! Images run one after the other (CI has two cores).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_config::KernelConfig;

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
    /// `--config` settings laid over every image's own configuration.
    pub config: Vec<String>,
}

/// The `--image` name that selects the kernel size check.
pub const SIZE: &str = "size";

/// Runs the suite; returns whether everything passed.
pub fn run(opts: &Options) -> Result<bool, String> {
    // `size` is not an image: the kernel size bounds (size.rs), checked
    // with every run of the images or when named, for the plain
    // configurations only (not under a --config overlay).
    let sized =
        opts.config.is_empty() && (opts.images.is_empty() || opts.images.iter().any(|i| i == SIZE));
    let only: Vec<String> = opts.images.iter().filter(|i| *i != SIZE).cloned().collect();
    let overlay = parse_config(&opts.config)?;
    let selected = if only.is_empty() && !opts.images.is_empty() {
        vec![]
    } else {
        images::select(&only)?
    };
    let (selected, left): (Vec<&TestImage>, Vec<&TestImage>) = selected
        .into_iter()
        .partition(|i| !overlay.mcs || i.under_mcs);
    if !left.is_empty() {
        let names: Vec<_> = left.iter().map(|i| i.name).collect();
        eprintln!(
            "xtask: not run with mcs=on (they do not run under MCS yet): {}",
            names.join(", ")
        );
    }
    let selected: Vec<(&TestImage, KernelConfig)> = selected
        .into_iter()
        .map(|i| Ok((i, parse_config(&[i.config.into(), opts.config.join(",")])?)))
        .collect::<Result<_, String>>()?;
    let mut needs = vec![];
    if !selected.is_empty() {
        needs.extend([Need::CrossToolchain, Need::Qemu]);
    }
    if sized {
        needs.push(Need::CrossToolchain);
    }
    if selected
        .iter()
        .any(|(i, _)| i.machine == Machine::VirtWithoutMemory)
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
        for (prefix, args) in host_test_runs(&overlay) {
            eprintln!("xtask: cargo {}", args.join(" "));
            let mut cmd = host_cargo();
            cmd.current_dir(crate::build::repo_root()).args(&args);
            let c = qemu::run_captured(cmd, qemu::Limits::total(HOST_TIMEOUT), opts.verbose)?;
            parse_cargo_test(prefix, &c).iter().for_each(&mut report);
        }
    }

    if let Some(tc) = toolchain {
        eprintln!("xtask: cross toolchain: {}", tc.describe());
        let b = Builder::new(tc);
        let artifacts = build_all(&b, &selected);
        for ((image, _), built) in selected.iter().zip(artifacts) {
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
        if sized {
            let configs: Vec<&str> = crate::size::BOUNDS.iter().map(|(c, _)| *c).collect();
            crate::size::measure(&b, &configs, None)
                .iter()
                .for_each(&mut report);
        }
    }

    let _ = std::fs::remove_dir_all(rootserver_dir());
    println!("{}", summary.line());
    Ok(summary.failed == 0)
}

/// The host `cargo test` runs for the configuration `cfg`. Classic: the
/// root workspace, the ABI crate and the kernel with `mcs` (the ABI's
/// MCS numbering against seL4's MCS golden table; the MCS kernel's
/// objects and invocations, with the spec's MCS configuration and the
/// refinement test in it) and the user libraries, classic and with the
/// user library's `mcs` (its MCS system calls, labels and stub forms
/// against the fake kernel). MCS: the three `mcs` runs. In the MCS kernel
/// build the tests written against classic IPC (reply caps in the caller
/// slot, seL4_Reply, the fuzz findings) are left out by `cfg`.
fn host_test_runs(cfg: &KernelConfig) -> Vec<(&'static str, Vec<String>)> {
    let words = |w: &[&str]| -> Vec<String> { w.iter().map(|s| s.to_string()).collect() };
    let abi_mcs = (
        "host-abi-mcs",
        words(&[
            "test",
            "-p",
            "cairn-abi",
            "--features",
            "mcs",
            "--no-fail-fast",
        ]),
    );
    // The spec's own MCS tests run with the MCS kernel's (the
    // refinement test among them).
    let kernel_mcs = (
        "host-kernel-mcs",
        words(&[
            "test",
            "-p",
            "cairn-kernel",
            "-p",
            "cairn-spec",
            "--features",
            "cairn-kernel/mcs,cairn-spec/mcs",
            "--no-fail-fast",
        ]),
    );
    let user = |features: &[&str]| {
        let mut w = words(&[
            "test",
            "--manifest-path",
            "user/Cargo.toml",
            "-p",
            "cairn-sel4",
            "-p",
            "cairn-rt",
            "-p",
            "cairn-loader",
            "-p",
            "cairn-microkit",
            "--no-fail-fast",
        ]);
        w.extend(words(features));
        w
    };
    let user_mcs = ("host-user-mcs", user(&["--features", "cairn-sel4/mcs"]));
    if cfg.mcs {
        return vec![abi_mcs, kernel_mcs, user_mcs];
    }
    vec![
        ("host", words(&["test", "--workspace", "--no-fail-fast"])),
        abi_mcs,
        kernel_mcs,
        ("host-user", user(&[])),
        user_mcs,
    ]
}

/// Builds every selected image (each with its effective configuration);
/// one result per image, in order.
fn build_all(b: &Builder, selected: &[(&TestImage, KernelConfig)]) -> Vec<Result<PathBuf, String>> {
    // Kernels, one per distinct configuration.
    let mut kernels: BTreeMap<String, Result<PathBuf, String>> = BTreeMap::new();
    for (_, cfg) in selected {
        kernels
            .entry(cfg.to_string())
            .or_insert_with(|| b.kernel(cfg));
    }
    // Root tasks: those of the user workspace in one cargo invocation per
    // set of cargo features (the user library follows the kernel's ABI),
    // the standalone one once per set.
    let mut by_features: BTreeMap<&[&str], (KernelConfig, Vec<&str>)> = BTreeMap::new();
    for (i, cfg) in selected {
        let entry = by_features
            .entry(cfg.cargo_features())
            .or_insert_with(|| (*cfg, vec![]));
        if let RootTask::Package(p) = i.root {
            entry.1.push(p);
        }
    }
    let mut user = BTreeMap::new();
    let mut standalone = BTreeMap::new();
    for (features, (cfg, mut packages)) in by_features {
        packages.sort_unstable();
        packages.dedup();
        if !packages.is_empty() {
            let built = b
                .user_programs(&packages, &cfg)
                .and_then(|elfs| keep_copies(elfs, &cfg));
            user.insert(features, built);
        }
        for dir in selected.iter().filter_map(|(i, c)| match i.root {
            RootTask::Standalone(dir) if c.cargo_features() == features => Some(dir),
            _ => None,
        }) {
            standalone
                .entry((features, dir))
                .or_insert_with(|| standalone_rootserver(b, &cfg, dir));
        }
    }

    selected
        .iter()
        .map(|(i, cfg)| {
            let kernel = kernels[&cfg.to_string()].as_ref().map_err(Clone::clone)?;
            let features = cfg.cargo_features();
            let root = match i.root {
                RootTask::Package(p) => user
                    .get(features)
                    .ok_or("not built")?
                    .as_ref()
                    .map_err(Clone::clone)?
                    .get(p)
                    .ok_or("not built")?
                    .clone(),
                RootTask::Standalone(dir) => standalone
                    .get(&(features, dir))
                    .ok_or("not built")?
                    .as_ref()
                    .map_err(Clone::clone)?
                    .clone(),
                RootTask::System(file) => {
                    crate::sysimage::loader(b, &crate::build::repo_root().join(file), cfg, false)?
                }
            };
            b.image(kernel, &root, &format!("test-{}", i.name))
        })
        .collect()
}

/// Builds the standalone root task for `cfg`'s ABI and copies its ELF out
/// of the repository, so that the image is made from an arbitrary
/// `--rootserver` path exactly as a user would pass one.
fn standalone_rootserver(b: &Builder, cfg: &KernelConfig, dir: &str) -> Result<PathBuf, String> {
    let exe = b.standalone(&crate::build::repo_root().join(dir), cfg)?;
    let dir = rootserver_dir().join(crate::build::config_tag(cfg));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = exe.file_name().ok_or("executable without a file name")?;
    let copy = dir.join(name);
    std::fs::copy(&exe, &copy).map_err(|e| format!("copying {}: {e}", exe.display()))?;
    Ok(copy)
}

/// Copies the ELFs cargo built for `cfg` out of its target directory: a
/// package built for two configurations (`cairn-bench` for `bench` and
/// `bench-mcs`) has one output path, which the second build overwrites
/// before the images are made.
fn keep_copies(
    elfs: BTreeMap<String, PathBuf>,
    cfg: &KernelConfig,
) -> Result<BTreeMap<String, PathBuf>, String> {
    let dir = rootserver_dir().join(format!("user-{}", crate::build::config_tag(cfg)));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    elfs.into_iter()
        .map(|(name, exe)| {
            let copy = dir.join(&name);
            std::fs::copy(&exe, &copy).map_err(|e| format!("copying {}: {e}", exe.display()))?;
            Ok((name, copy))
        })
        .collect()
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
        Machine::Virt
        | Machine::VirtWithMemoryMiB(_)
        | Machine::VirtIcount
        | Machine::VirtIcountNoSleep => None,
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
        Machine::VirtIcountNoSleep => {
            cmd.args(qemu::ICOUNT_NO_SLEEP_ARGS);
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
