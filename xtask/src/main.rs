//! `cargo xtask`: builds, runs and tests Cairn.
//!
//! Modules, one concern each: `toolchain` (how to run cargo for the
//! RISC-V target), `prereq` (host tools, installed when possible), `build`
//! (kernel, root tasks, images), `qemu` (running with a deadline), `harness`
//! (judging output), `images` (the QEMU test table), `suite` (`test`),
//! `lint` and `inventory` (`lint`), `bench` (`bench`), `profile`
//! (`bench --profile`), `size` (`size`), `system` (`system`), `spec` (`spec`).

mod bench;
mod bench_mcs;
mod build;
mod coverage;
mod figures;
mod fuzz;
mod harness;
mod images;
mod inventory;
mod isolation;
mod lint;
mod platform;
mod prereq;
mod probe;
mod profile;
mod qemu;
mod size;
mod spec;
mod suite;
mod sysimage;
mod system;
mod toolchain;
mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::build::{config_tag, parse_config, Builder};
use crate::prereq::Need;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, run and test Cairn",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Builds the kernel, a root task and their boot image into target/images/.
    ///
    /// The root task is the demo (cairn-demo) unless --suite or --rootserver
    /// names another. Prints the image's path; boot it with
    /// `qemu-system-riscv64 -machine virt -cpu rv64 -m 3072M -smp 1
    /// -bios default -nographic -kernel IMAGE`.
    Build {
        #[command(flatten)]
        system: SystemArgs,
        /// Root task from the user/ workspace (conflicts with --rootserver).
        #[arg(long, value_enum, conflicts_with_all = ["rootserver", "system_file"])]
        suite: Option<Suite>,
    },
    /// Builds the kernel and the demo (or --rootserver) and boots them under
    /// QEMU in this terminal.
    ///
    /// QEMU runs with -nographic: the console is this terminal, Ctrl-A X
    /// quits. Exits with QEMU's exit status.
    Run {
        #[command(flatten)]
        system: SystemArgs,
        /// Boot another demo instead: `mcs`, the mixed-criticality
        /// scenario on the MCS kernel (user/mcs-demo, 10 000 periods of
        /// 5 ms under -icount, minutes of QEMU; docs/mcs.md "The demo").
        #[arg(long, value_enum, conflicts_with_all = ["rootserver", "system_file"])]
        demo: Option<Demo>,
        /// Stop QEMU and exit 0 once the serial output shows TEXT
        /// (repeatable: any of them), e.g. sel4test's "All is well in the
        /// universe". The run is then unattended: output is echoed and
        /// watched, input typed as without a terminal. Exits non-zero if
        /// QEMU exits first.
        #[arg(long = "exit-on", value_name = "TEXT", conflicts_with = "demo")]
        exit_on: Vec<String>,
        /// Stop QEMU and exit 1 once the output shows TEXT (repeatable),
        /// e.g. "Test suite failed".
        #[arg(long = "fail-on", value_name = "TEXT", conflicts_with = "demo")]
        fail_on: Vec<String>,
        /// Stop QEMU and exit 1 after SECS seconds of wall-clock time.
        #[arg(long, value_name = "SECS", conflicts_with = "demo")]
        timeout: Option<u64>,
    },
    /// Runs the whole test suite: lint, host tests, then every QEMU test
    /// image.
    ///
    /// Lint: as `cargo xtask lint`, each check a test. Host tests: `cargo test --workspace` here and the user libraries'
    /// host tests. QEMU images (table in xtask/src/images.rs): the
    /// conformance suite in four configurations (defaults, a 13-bit root
    /// CNode, 4 domains, the MCS kernel), the demo with its UART echo, a standalone
    /// --rootserver (also on the MCS kernel), a system booted by the CapDL
    /// loader, the benchmarks' bounds under -icount, and two boots
    /// that must fail fast (no memory, root task too big). Prints
    /// one line per test and closes with `N passed, M failed`; exits
    /// non-zero if anything failed.
    Test {
        /// Stream cargo's and QEMU's output (otherwise shown on failure).
        #[arg(long, short)]
        verbose: bool,
        /// Run only this QEMU test image (repeatable).
        #[arg(long = "image", value_name = "NAME")]
        images: Vec<String>,
        /// Skip the host tests.
        #[arg(long)]
        no_host: bool,
        /// Skip the lint checks.
        #[arg(long)]
        no_lint: bool,
        /// Run the suite in this kernel configuration (as for `build`):
        /// the host tests with its cargo features, each QEMU image with
        /// these settings on top of its own. With `mcs=on`, only the
        /// images that already run under MCS (xtask/src/images.rs).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
    },
    /// Checks formatting (`cargo fmt --check`) and clippy (`-D warnings`)
    /// for every workspace and target, and that docs/unsafe.md lists every
    /// unsafe block.
    ///
    /// Workspaces: the root one, user/ and user/hello; clippy for the host
    /// builds (tests included) and the bare-metal ones (kernel for
    /// riscv64imac, user crates for riscv64gc). Installs rustfmt and
    /// clippy if missing (rustup components; Debian's rust-web-clippy for
    /// the build-std route). Prints one line per check and closes with `N
    /// passed, M failed`; `cargo xtask test` runs the same checks first.
    Lint {
        /// Stream cargo's output.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Builds the kernel and prints its size: bytes of .text, .rodata,
    /// .data and .bss, and the largest modules and functions.
    ///
    /// Without --config: the configurations whose size `cargo xtask test`
    /// bounds (defaults, and debug=off); exits non-zero if a section is
    /// above its bound (xtask/src/size.rs, docs/benchmarks.md "Code size").
    Size {
        /// Kernel option KEY=VALUE (repeatable, or comma-separated): report
        /// this one configuration instead.
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
        /// How many modules and functions to list.
        #[arg(long, value_name = "N", default_value_t = 20)]
        top: usize,
    },
    /// Reads a system description (seL4 Microkit's XML format) or a CapDL
    /// spec (.cdl), checks it and writes its CapDL spec.
    ///
    /// Every problem is reported as FILE:LINE:COLUMN: error: MESSAGE. With
    /// none of --cdl, --json, --graph, prints the CapDL text. The format,
    /// the CapDL model and the differences from Microkit are in
    /// docs/system.md.
    System {
        /// The system description (.system, XML) or CapDL spec (.cdl).
        file: PathBuf,
        /// Write seL4's textual CapDL here.
        #[arg(long, value_name = "OUT.cdl")]
        cdl: Option<PathBuf>,
        /// Write the CapDL model as JSON here.
        #[arg(long, value_name = "OUT.json")]
        json: Option<PathBuf>,
        /// Draw the authority graph: Graphviz text (.dot) or SVG (.svg,
        /// rendered by Graphviz's dot, installed if missing).
        #[arg(long, value_name = "OUT.svg|OUT.dot")]
        graph: Option<PathBuf>,
        /// mcs=on|off (budgets, periods and passive PDs need mcs=on), or
        /// a kernel option KEY=VALUE as for build (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
        /// Build the PDs' programs and write them into the CapDL as
        /// frames with fill entries (bytes in OUT.data beside --cdl
        /// OUT.cdl): the spec then boots by itself.
        #[arg(long)]
        programs: bool,
    },
    /// Runs the benchmarks under `qemu -icount shift=0` (instruction counts,
    /// deterministic), prints a table and writes target/bench/<name>.json.
    ///
    /// The kernel is built with `benchmark=on`; the root task is
    /// user/bench. Exits non-zero if a figure breaks its bound
    /// (xtask/src/bench.rs); `cargo xtask test` checks the same bounds.
    ///
    /// With --profile CASE, instead: logs every instruction of one
    /// benchmark case (software emulation, a minute or two) and prints
    /// where one iteration's instructions go, per function of the kernel
    /// and the root task (xtask/src/profile.rs, docs/benchmarks.md).
    Bench {
        /// Stream cargo's and QEMU's output.
        #[arg(long, short)]
        verbose: bool,
        /// Profile this case (null-syscall, yield,
        /// call-reply-recv-{0,4}-{same,cross}-as, call-reply-recv-10-same-as,
        /// lib-call-reply-recv-{0,4,10}-same-as, signal-higher-prio, and
        /// the one-way cases: see docs/benchmarks.md).
        #[arg(long, value_name = "CASE")]
        profile: Option<String>,
        /// Iterations of the profiled case (the profile subtracts a run of
        /// N from a run of 2N).
        #[arg(long, value_name = "N", default_value_t = 100)]
        iterations: u64,
        /// Also print each figure beside the one in this earlier
        /// target/bench/<name>.json (or a copy of target/bench/), with the
        /// change in percent.
        #[arg(long, value_name = "OLD")]
        compare: Option<PathBuf>,
        /// mcs=on: the MCS kernel and the bench built against the MCS user
        /// library (records `mcs-ipc`, `mcs-sel4bench`, printed beside the
        /// classic figures of the last `cargo xtask bench`); or another
        /// kernel option KEY=VALUE on top of benchmark=on (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
    },
    /// Coverage-guided fuzzing of the system-call surface (libFuzzer, on
    /// the host build; docs/fuzzing.md).
    ///
    /// Builds fuzz/ with SanitizerCoverage and runs it on the corpus in
    /// target/fuzz/corpus (kept between runs); findings go to
    /// target/fuzz/artifacts/. Prints executions, exec/s, coverage (edges
    /// and features), corpus size and findings; exits non-zero on a
    /// finding. Without --execs or --seconds, runs 60 seconds. With
    /// --config mcs=on, the MCS kernel (its own build, corpus and
    /// findings under target/fuzz-mcs/).
    Fuzz {
        /// Stop after N executions.
        #[arg(long, value_name = "N")]
        execs: Option<u64>,
        /// Stop after S seconds.
        #[arg(long, value_name = "S")]
        seconds: Option<u64>,
        /// Print all of libFuzzer's output.
        #[arg(long, short)]
        verbose: bool,
        /// The kernel configuration: the default, or `mcs=on` (the only
        /// option the fuzz driver takes; the others keep their defaults).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
    },
    /// Line coverage of the kernel by its host tests, per module
    /// (docs/coverage.md).
    ///
    /// Builds the kernel's host tests with -C instrument-coverage, classic
    /// and with --features mcs, runs them, and reports with Debian's
    /// llvm-profdata/llvm-cov of the host rustc's LLVM version (installed
    /// if missing): a table per module (both runs merged per line, and
    /// each run), the total outside arch/, and an HTML report in
    /// target/coverage/html/.
    Coverage {
        /// Show the tests' output.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Runs the refinement test (docs/spec.md) for N steps: random CNode
    /// and Retype calls on the kernel's host build and on the executable
    /// specification (spec/), their replies and states compared after
    /// every step.
    ///
    /// `cargo xtask test` runs it with 1 000 000 steps; this runs it
    /// optimised, as long as asked. A failure prints the shrunk sequence
    /// of steps and the seed that reproduces it.
    Spec {
        /// Steps to run (in sequences of up to 400 from fresh boots).
        #[arg(long, value_name = "N", default_value_t = 1_000_000)]
        steps: u64,
        /// Seed of the random sequences (default: a fresh one, printed).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// The kernel configuration: the default, or `mcs=on` (the MCS
        /// kernel against the spec's MCS configuration; the only option
        /// taken).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
    },
}

/// What makes up a system: the kernel's configuration and the root task.
#[derive(Args)]
struct SystemArgs {
    /// Kernel option KEY=VALUE (repeatable, or comma-separated); see
    /// config/src/lib.rs for the options and their defaults.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Any statically linked RISC-V 64 seL4 root task ELF to boot instead
    /// of the demo.
    #[arg(long, value_name = "PATH")]
    rootserver: Option<PathBuf>,
    /// A system description (seL4 Microkit's XML format): its PDs'
    /// programs are built and the CapDL loader, the root task, starts
    /// them (docs/system.md).
    #[arg(long = "system", value_name = "FILE", conflicts_with = "rootserver")]
    system_file: Option<PathBuf>,
    /// With --system: the loader prints what it creates.
    #[arg(long, requires = "system_file")]
    loader_debug: bool,
}

/// The demos `run --demo` boots besides the default one.
#[derive(Clone, Copy, ValueEnum)]
enum Demo {
    /// The mixed-criticality scenario on the MCS kernel (user/mcs-demo).
    Mcs,
}

/// Root tasks of the user/ workspace.
#[derive(Clone, Copy, ValueEnum)]
enum Suite {
    /// The demo system (cairn-demo).
    Demo,
    /// The conformance test suite (cairn-tests).
    Conformance,
}

/// `fuzz --config` and `spec --config`: whether it selects MCS; any
/// option but `mcs` set away from its default is refused (the fuzz
/// driver and the refinement test are written against the defaults).
fn fuzz_config(items: &[String]) -> Result<bool, String> {
    let cfg = build::parse_config(items)?;
    let mcs = cfg.mcs;
    let rest = cairn_config::KernelConfig { mcs: false, ..cfg };
    if rest != cairn_config::KernelConfig::default() {
        return Err("fuzz: only --config mcs=on is taken (the driver runs the defaults)".into());
    }
    Ok(mcs)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Build { system, suite } => build_system(&system, suite, &[]).map(|image| {
            println!("{}", image.display());
            0
        }),
        Cmd::Run {
            system,
            demo: Some(Demo::Mcs),
            ..
        } => run_mcs_demo(&system),
        Cmd::Run {
            system,
            demo: None,
            exit_on,
            fail_on,
            timeout,
        } => {
            let watch = watch::Watch {
                exit_on,
                fail_on,
                timeout: timeout.map(std::time::Duration::from_secs),
            };
            build_system(&system, None, &[Need::Qemu]).and_then(|image| {
                let cmd = qemu::boot_command(&image, None);
                if watch.is_set() {
                    run_watched(cmd, &watch)
                } else if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    qemu::run_foreground(cmd)
                } else {
                    run_unattended(cmd)
                }
            })
        }
        Cmd::Test {
            verbose,
            images,
            no_host,
            no_lint,
            config,
        } => suite::run(&suite::Options {
            verbose,
            images,
            no_host,
            no_lint,
            config,
        })
        .map(|ok| if ok { 0 } else { 1 }),
        Cmd::Lint { verbose } => {
            let mut summary = harness::Summary::default();
            lint::run(verbose, &mut |r| {
                println!("{}", r.line());
                summary.add(r);
            })
            .map(|()| {
                println!("{}", summary.line());
                i32::from(summary.failed != 0)
            })
        }
        Cmd::System {
            file,
            cdl,
            json,
            graph,
            config,
            programs,
        } => system::run(&system::Options {
            file,
            cdl,
            json,
            graph,
            config,
            programs,
        }),
        Cmd::Size { config, top } => size_command(&config, top),
        Cmd::Bench {
            verbose,
            profile: Some(case),
            iterations,
            config,
            ..
        } => profile::run(&case, iterations, &config, verbose).map(|()| 0),
        Cmd::Bench {
            verbose,
            compare,
            config,
            ..
        } => bench::run(verbose, compare.as_deref(), &config).map(|ok| if ok { 0 } else { 1 }),
        Cmd::Fuzz {
            execs,
            seconds,
            verbose,
            config,
        } => fuzz_config(&config)
            .and_then(|mcs| {
                fuzz::run(&fuzz::Options {
                    execs,
                    seconds,
                    verbose,
                    mcs,
                })
            })
            .map(|ok| if ok { 0 } else { 1 }),
        Cmd::Coverage { verbose } => coverage::run(verbose).map(|()| 0),
        Cmd::Spec {
            steps,
            seed,
            config,
        } => fuzz_config(&config)
            .and_then(|mcs| spec::run(steps, seed, mcs))
            .map(|ok| if ok { 0 } else { 1 }),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("{}", error_message(&e));
            ExitCode::FAILURE
        }
    }
}

/// How an error ends the xtask: a message that already says it is an
/// error (a diagnostic, `FILE:LINE:COLUMN: error: MESSAGE`) as it is,
/// any other after `xtask: error: `.
fn error_message(e: &str) -> String {
    let first = e.lines().next().unwrap_or("");
    if first.starts_with("error:") || first.contains(": error: ") {
        e.to_string()
    } else {
        format!("xtask: error: {e}")
    }
}

/// `cargo xtask size`: the bounded configurations, or the one given.
fn size_command(config: &[String], top: usize) -> Result<i32, String> {
    let tc = prereq::ensure(&[Need::CrossToolchain])?.ok_or("no cross toolchain")?;
    let joined = config.join(",");
    let configs: Vec<&str> = if config.is_empty() {
        size::BOUNDS.iter().map(|(c, _)| *c).collect()
    } else {
        vec![&joined]
    };
    let mut summary = harness::Summary::default();
    for r in size::measure(&Builder::new(tc), &configs, Some(top)) {
        println!("{}", r.line());
        summary.add(&r);
    }
    Ok(i32::from(summary.failed != 0))
}

/// `cargo xtask run` without a terminal (a script, CI): nobody can type
/// the line the demo's UART driver waits for, so it is typed for them,
/// and the output is streamed as usual. Exits with QEMU's status.
fn run_unattended(cmd: std::process::Command) -> Result<i32, String> {
    let input = qemu::Input {
        after: "type a line",
        send: "typed by cargo xtask run\r",
    };
    let limits = qemu::Limits::total(std::time::Duration::from_secs(600));
    let c = qemu::run_captured_with_input(cmd, limits, true, Some(input))?;
    Ok(match c.ending {
        qemu::Ending::Exited(code) => code,
        qemu::Ending::Signalled | qemu::Ending::TimedOut(_) | qemu::Ending::Silent(_) => 1,
    })
}

/// `cargo xtask run --exit-on/--fail-on/--timeout`: echoes the output,
/// stops QEMU at the first text seen (or the timeout) and says why.
fn run_watched(cmd: std::process::Command, w: &watch::Watch) -> Result<i32, String> {
    let typed = watch::Typed {
        after: "type a line",
        send: "typed by cargo xtask run\r",
    };
    let verdict = watch::run(cmd, w, Some(typed), true)?;
    eprintln!("{}", verdict.describe(w));
    Ok(verdict.code(w))
}

/// How many periods `run --demo mcs` runs (the issue's 10 000).
const MCS_DEMO_PERIODS: &str = "10000";

/// `cargo xtask run --demo mcs`: the MCS kernel (whatever else `--config`
/// says) with user/mcs-demo built for 10 000 periods (or
/// `$CAIRN_MCS_DEMO_PERIODS`), booted under
/// `-icount` so that its figures are instructions and the same on every
/// run; prints how long it took.
fn run_mcs_demo(args: &SystemArgs) -> Result<i32, String> {
    let mut config = args.config.clone();
    config.push("mcs=on".into());
    let cfg = parse_config(&config)?;
    let toolchain =
        prereq::ensure(&[Need::CrossToolchain, Need::Qemu])?.ok_or("no cross toolchain")?;
    let b = Builder::new(toolchain);
    let kernel = b.kernel(&cfg)?;
    let dir = build::repo_root().join(images::MCS_DEMO_DIR);
    // The environment's count wins, for shorter (or longer) runs.
    let periods = std::env::var("CAIRN_MCS_DEMO_PERIODS").unwrap_or(MCS_DEMO_PERIODS.into());
    let root = b.standalone_with_env(&dir, &cfg, &[("CAIRN_MCS_DEMO_PERIODS", &periods)])?;
    let image = b.image(&kernel, &root, &format!("mcs-demo-{}", config_tag(&cfg)))?;
    let mut cmd = qemu::boot_command(&image, None);
    cmd.args(qemu::ICOUNT_ARGS);
    let started = std::time::Instant::now();
    let code = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        qemu::run_foreground(cmd)?
    } else {
        let limits = qemu::Limits::total(std::time::Duration::from_secs(3600));
        match qemu::run_captured(cmd, limits, true)?.ending {
            qemu::Ending::Exited(code) => code,
            _ => 1,
        }
    };
    eprintln!(
        "xtask: the MCS demo took {:.0} s of wall-clock time",
        started.elapsed().as_secs_f64()
    );
    Ok(code)
}

/// Builds kernel, root task and image; returns the image's path.
fn build_system(args: &SystemArgs, suite: Option<Suite>, more: &[Need]) -> Result<PathBuf, String> {
    let cfg = parse_config(&args.config)?;
    if cfg.mcs && args.rootserver.is_none() && args.system_file.is_none() {
        // The demo and the conformance suite use classic IPC (reply caps
        // in the caller slot); systems (the loader and the SDK) run on
        // either kernel.
        return Err(
            "--config mcs=on: the demo and the conformance suite do not run under MCS yet \
             (docs/mcs.md); boot a system with --system FILE, or your own root task with \
             --rootserver ELF, built against cairn-sel4 with its `mcs` feature (user/hello is one)"
                .into(),
        );
    }
    if let Some(path) = &args.rootserver {
        // Refuse a bad path before spending minutes on the kernel.
        let elf =
            std::fs::read(path).map_err(|e| format!("--rootserver {}: {e}", path.display()))?;
        cairn_image::check_root_task(&elf)
            .map_err(|e| format!("--rootserver {}: {e}", path.display()))?;
    }
    let mut needs = vec![Need::CrossToolchain];
    needs.extend(more);
    let toolchain = prereq::ensure(&needs)?.ok_or("no cross toolchain")?;
    let b = Builder::new(toolchain);
    let kernel = b.kernel(&cfg)?;
    let (root, name) = match (&args.rootserver, suite) {
        (Some(path), _) => (path.clone(), file_stem(path)),
        (None, _) if args.system_file.is_some() => {
            let file = args.system_file.as_deref().ok_or("no --system")?;
            (
                sysimage::loader(&b, file, &cfg, args.loader_debug)?,
                format!("system-{}", file_stem(file)),
            )
        }
        (None, s) => {
            let package = match s.unwrap_or(Suite::Demo) {
                Suite::Demo => images::DEMO,
                Suite::Conformance => images::CONFORMANCE,
            };
            let built = b.user_programs(&[package], &cfg)?;
            (built[package].clone(), package.to_string())
        }
    };
    let tag = config_tag(&cfg);
    let name = if tag == "default" {
        name
    } else {
        format!("{name}-{tag}")
    };
    b.image(&kernel, &root, &name)
}

fn file_stem(p: &Path) -> String {
    p.file_stem()
        .map_or_else(|| "rootserver".into(), |s| s.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::error_message;

    #[test]
    fn an_error_says_error_once() {
        assert_eq!(
            error_message("--rootserver x: No such file"),
            "xtask: error: --rootserver x: No such file"
        );
        let diag = "a.system:1:1: error: not well-formed XML";
        assert_eq!(error_message(diag), diag);
        assert_eq!(error_message("error: no kernel"), "error: no kernel");
        assert_eq!(error_message("").matches("error").count(), 1);
    }
}
