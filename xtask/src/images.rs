//! The QEMU test images of `cargo xtask test`: the one table saying which
//! root task each image runs, with which kernel configuration, on which
//! machine, what counts as passing, and how long it may take.

use std::time::Duration;

use crate::harness::Expect;

/// The conformance root task (package and binary name in `user/`).
pub const CONFORMANCE: &str = "cairn-tests";
/// The demo root task (package and binary name in `user/`).
pub const DEMO: &str = "cairn-demo";
/// The MCS tests' root task (package and binary name in `user/`).
pub const MCS_TESTS: &str = "cairn-mcs-tests";
/// A root task crate with its own workspace, built on its own and then
/// handed to the image builder as `--rootserver`.
pub const STANDALONE_DIR: &str = "user/hello";
/// The MCS temporal-isolation root task (a workspace of its own, built
/// only against the MCS user library: docs/mcs.md).
pub const MCS_HOG_DIR: &str = "user/mcs-hog";
/// The mixed-criticality demo's root task (a workspace of its own, MCS
/// only; also `cargo xtask run --demo mcs`: docs/mcs.md "The demo").
pub const MCS_DEMO_DIR: &str = "user/mcs-demo";

/// Where an image's root task comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootTask {
    /// A binary package of the `user/` workspace.
    Package(&'static str),
    /// A crate with a workspace of its own ([`STANDALONE_DIR`],
    /// [`MCS_HOG_DIR`]) built separately, its ELF copied to a temporary
    /// directory and used as a `--rootserver` path.
    Standalone(&'static str),
    /// The CapDL loader with the system of this description (a path
    /// from the repository root) and its PDs (`crate::sysimage`).
    System(&'static str),
}

/// The machine an image boots on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    /// QEMU `virt` as is.
    Virt,
    /// QEMU `virt` with a device tree whose memory node was removed.
    VirtWithoutMemory,
    /// QEMU `virt` with only this many MiB of RAM.
    VirtWithMemoryMiB(u32),
    /// QEMU `virt` counting instructions (`-icount shift=0`), for
    /// deterministic benchmark figures.
    VirtIcount,
    /// [`Machine::VirtIcount`] whose clock jumps to the next deadline
    /// while the guest idles (`sleep=off`, `qemu::ICOUNT_NO_SLEEP_ARGS`).
    VirtIcountNoSleep,
}

/// One QEMU test image.
#[derive(Clone, Copy, Debug)]
pub struct TestImage {
    /// Name, also the prefix of its results (`test <name>::<test> ...`).
    pub name: &'static str,
    pub root: RootTask,
    /// `--config` text on top of the defaults (`""` = defaults).
    pub config: &'static str,
    pub machine: Machine,
    pub expect: Expect,
    /// Typed into the serial console once the output shows a line.
    pub input: Option<crate::qemu::Input>,
    /// Wall-clock limit for the QEMU run (software emulation, 2 cores).
    pub timeout: Duration,
    /// Whether the image also runs in the MCS configuration: `cargo xtask
    /// test --config mcs=on` runs only these. Its root task uses only what
    /// the MCS kernel and user library implement so far (docs/mcs.md).
    pub under_mcs: bool,
}

/// The default limit: generous for a software-emulated CPU on a busy host.
/// Images that finish in seconds here (the conformance suite ~10 s, the demo
/// ~5 s, measured 2026-12-06 alone) have tighter limits, still over ten
/// times what they take, so that the table has room for new images.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Every QEMU test image, run in this order.
pub const TEST_IMAGES: &[TestImage] = &[
    TestImage {
        name: "conformance",
        root: RootTask::Package(CONFORMANCE),
        config: "",
        machine: Machine::Virt,
        expect: Expect::Conformance,
        input: None,
        timeout: Duration::from_secs(150),
        under_mcs: false,
    },
    TestImage {
        name: "conformance-cnode13",
        root: RootTask::Package(CONFORMANCE),
        config: "root-cnode-bits=13",
        machine: Machine::Virt,
        expect: Expect::Conformance,
        input: None,
        timeout: Duration::from_secs(150),
        under_mcs: false,
    },
    TestImage {
        // Domains as sel4test runs them (4): the domain invocations'
        // limits, and a schedule that really switches domains.
        name: "conformance-domains4",
        root: RootTask::Package(CONFORMANCE),
        config: "num-domains=4",
        machine: Machine::Virt,
        expect: Expect::Conformance,
        input: None,
        timeout: Duration::from_secs(150),
        under_mcs: false,
    },
    TestImage {
        // The conformance suite on the MCS kernel (issue 12, docs/mcs.md
        // "The conformance suite on MCS"): every thread it makes gets a
        // round-robin SchedContext and a reply object, IPC uses the MCS
        // forms, classic-only subjects are compiled out.
        name: "conformance-mcs",
        root: RootTask::Package(CONFORMANCE),
        config: "mcs=on",
        machine: Machine::Virt,
        expect: Expect::Conformance,
        input: None,
        // About 8 s of QEMU alone (2026-12-07); ten times that and more.
        timeout: Duration::from_secs(90),
        // Already MCS.
        under_mcs: false,
    },
    TestImage {
        // The conformance suite on a kernel whose platform was found at
        // build time (`platform=static`, xtask/src/platform.rs), with no
        // device-tree parser: the same root task sees the same untypeds,
        // bootinfo and devices (docs/architecture.md, "Platform").
        name: "conformance-static",
        root: RootTask::Package(CONFORMANCE),
        config: "platform=static",
        machine: Machine::Virt,
        expect: Expect::Conformance,
        input: None,
        timeout: Duration::from_secs(150),
        under_mcs: false,
    },
    TestImage {
        name: "demo",
        root: RootTask::Package(DEMO),
        config: "",
        machine: Machine::Virt,
        // The user-level UART driver echoes a typed line (IRQ 10).
        expect: Expect::SuccessWith("cairn-demo: the driver echoed 11 characters: hello cairn"),
        input: Some(crate::qemu::Input {
            after: "type a line",
            send: "hello cairn\r",
        }),
        timeout: Duration::from_secs(120),
        under_mcs: false,
    },
    TestImage {
        name: "rootserver-standalone",
        root: RootTask::Standalone(STANDALONE_DIR),
        config: "",
        machine: Machine::Virt,
        expect: Expect::SuccessWith("hello from a standalone root task"),
        input: None,
        timeout: Duration::from_secs(60),
        under_mcs: true,
    },
    TestImage {
        // The MCS kernel (issue 12, docs/mcs.md) boots and lays out the
        // bootinfo for a root task built against the MCS user library,
        // which prints with MCS's syscall numbers; built for MCS, the root
        // task first has a passive server answer its Calls on its own
        // SchedContext (reply objects, donation and return: user/hello's
        // `mcs` module), and says hello only if that worked.
        name: "rootserver-standalone-mcs",
        root: RootTask::Standalone(STANDALONE_DIR),
        config: "mcs=on",
        machine: Machine::Virt,
        expect: Expect::SuccessWith("mcs ipc: a passive server answered 3 calls on the caller's SchedContext"),
        input: None,
        // Seconds when it works (it prints one line); this only bounds a
        // hang, and leaves room in the suite's budget for the `mcs` image.
        timeout: Duration::from_secs(60),
        // Already MCS: it would only repeat itself.
        under_mcs: false,
    },
    TestImage {
        // MCS on QEMU (issue 12, docs/mcs.md): SchedContexts retyped,
        // configured through BootInfo's SchedControl cap and bound to a
        // thread by the MCS SetSchedParams; the thread runs and signals;
        // the MCS TCB forms' and notification binding's errors
        // (user/mcs-tests).
        name: "mcs",
        root: RootTask::Package(MCS_TESTS),
        config: "mcs=on",
        machine: Machine::Virt,
        expect: Expect::Conformance,
        input: None,
        // Seconds when it works; this only bounds a hang.
        timeout: Duration::from_secs(60),
        // Already MCS.
        under_mcs: false,
    },
    TestImage {
        // MCS temporal isolation (docs/mcs.md): a thread spinning at
        // priority 200 on a 1 ms / 10 ms budget, the root thread spinning
        // at 100; the root prints the hog's share and its longest wait.
        name: "mcs-hog",
        root: RootTask::Standalone(MCS_HOG_DIR),
        config: "mcs=on",
        // Under icount the time counter follows instructions, so the
        // figures do not depend on how busy the host is.
        machine: Machine::VirtIcount,
        expect: Expect::SuccessWith("mcs-hog: the hog was held to its budget"),
        input: None,
        // About 2.3 s of QEMU on a loaded host; the table's worst case
        // stays under 40 minutes.
        timeout: Duration::from_secs(9),
        // Already MCS.
        under_mcs: false,
    },
    TestImage {
        // The seed's mixed-criticality scenario (docs/mcs.md "The demo"):
        // a control loop released by the RTC's alarm each 5 ms, a driver,
        // and a hog spinning above them; 200 periods (`cargo xtask run
        // --demo mcs` runs 10 000). Passes on no missed deadline and the
        // hog within its 10 %.
        name: "mcs-demo",
        root: RootTask::Standalone(MCS_DEMO_DIR),
        config: "mcs=on",
        machine: Machine::VirtIcount,
        expect: Expect::SuccessWith(
            "mcs-demo: the control loop met every deadline and the hog was held to its budget",
        ),
        input: None,
        timeout: Duration::from_secs(60),
        // Already MCS.
        under_mcs: false,
    },
    TestImage {
        // Three PDs built and started by the CapDL loader: a notification
        // each way, a protected call, a shared region (read-write in
        // pong, read-only in ping and prober), a child that finds exactly
        // its caps in its CSpace and whose write to its read-only mapping
        // faults to its parent, which restarts it once (user/pds/ping,
        // pong, prober); the loader
        // checks that it kept no authority it should have deleted.
        name: "system-ping",
        root: RootTask::System("examples/ping.system"),
        config: "",
        machine: Machine::Virt,
        // Then ping writes to its read-only map on purpose: the monitor
        // reports the fault by name, and ender (priority 1) halts.
        expect: Expect::SuccessWithAll(&[
            "prober: run 2: writing to the read-only shared region",
            "ping: done (prober restarted, faulted again)",
            "monitor: 'ping' faulted: VM fault at address 0x2000000",
        ]),
        input: None,
        // Seconds when it works; this only bounds a hang.
        timeout: Duration::from_secs(60),
        under_mcs: false,
    },
    TestImage {
        // A system on the MCS kernel (examples/mcs.system): a client on a
        // 50 ms / 100 ms budget calls a passive server that the monitor made
        // passive after its init (its SchedContext moved from its thread to
        // its notification), notifies it, then a round-robin PD faults on
        // purpose for the monitor to report; a child faults and runs out
        // of budget, and its parent restarts it after each (user/pds/
        // supervisor, worker); a PD spins past its budget and the monitor,
        // its timeout handler, reports it; ender (priority 1) halts.
        name: "system-mcs",
        root: RootTask::System("examples/mcs.system"),
        config: "mcs=on",
        // Budgets and periods were wall-clock time: under a load of ~18
        // the PDs got so few instructions per period that the run missed
        // its 30 s twice in full suites (it passes alone). Under -icount
        // a budget is a count of instructions, whatever the load (2.3 s
        // of wall clock at load 22); only idle stretches follow the
        // host's clock (how often spinner is reported before the end
        // varies, which the test does not count).
        machine: Machine::VirtIcount,
        expect: Expect::SuccessWithAll(&[
            "monitor: 'server' is passive: its scheduling context left its thread for its notification",
            "client: the passive server answered 3 calls (42, 43, 44)",
            "server: notified on channel 0 after 3 calls",
            "monitor: 'faulter' faulted: VM fault at address 0x2000000",
            "supervisor: worker restarted after a VM fault and after a timeout fault, and runs again",
            "monitor: 'spinner' ran out of budget",
            "ender: notified on all 2 channels, halting",
        ]),
        input: None,
        // Seconds when it works; this only bounds a hang.
        timeout: Duration::from_secs(30),
        // Already MCS.
        under_mcs: false,
    },
    TestImage {
        // A kernel without debug output (examples/quiet.system): the
        // monitor reports a PD's fault through the UART it writes itself,
        // and ender ends the run through QEMU's test device.
        name: "system-quiet",
        root: RootTask::System("examples/quiet.system"),
        config: "debug=off",
        machine: Machine::Virt,
        expect: Expect::SuccessWith("monitor: 'crasher' faulted: VM fault at address 0x2000000"),
        input: None,
        // Under a second when it works; this only bounds a hang.
        timeout: Duration::from_secs(20),
        under_mcs: false,
    },
    TestImage {
        // A CapDL spec as input (examples/filled.cdl): a thread whose code
        // page the image builder fills from a file by the spec's `fill`
        // entry; it prints a line and halts.
        name: "system-filled",
        root: RootTask::System("examples/filled.cdl"),
        config: "",
        machine: Machine::Virt,
        expect: Expect::SuccessWith("filled.cdl: a thread loaded from CapDL fill entries"),
        input: None,
        // Under a second when it works; this only bounds a hang.
        timeout: Duration::from_secs(20),
        under_mcs: false,
    },
    TestImage {
        // More than 62 channels in one PD: hub's 101 channels to four
        // spokes (user/pds/hub, spoke), ids up to 255 through its extra
        // notifications, protected calls on ids above 63 both ways.
        name: "system-wide",
        root: RootTask::System("examples/wide.system"),
        config: "",
        machine: Machine::Virt,
        expect: Expect::SuccessWith("hub: done"),
        input: None,
        // 0.2 s of QEMU when it works; this only bounds a hang (all images'
        // limits together stay under the 40 minutes table_is_well_formed checks).
        timeout: Duration::from_secs(20),
        under_mcs: false,
    },
    TestImage {
        // A hostile thread tries every invocation on every cap it can
        // name; a monitor checks after each step that it gained no cap,
        // touched no foreign memory and that the victim kept running
        // (user/isolation, docs/isolation.md).
        name: "isolation",
        root: RootTask::Package(crate::isolation::ISOLATION),
        config: "",
        machine: Machine::Virt,
        expect: Expect::Bench(crate::isolation::judge),
        input: None,
        // Seconds of QEMU when it works; this only bounds a hang.
        timeout: Duration::from_secs(90),
        under_mcs: false,
    },
    TestImage {
        // The same suite on the MCS kernel (docs/isolation.md, "The MCS
        // suite"): every thread on a SchedContext of its own, the
        // hostile on a small budget it tries to exceed, the MCS attacks
        // with every answer checked against seL4's, and a periodic
        // victim above the monitor whose releases and the hostile's
        // consumption the monitor checks against the clock.
        name: "isolation-mcs",
        root: RootTask::Package(crate::isolation::ISOLATION),
        config: "mcs=on",
        // Budgets are time: under -icount time is the instructions run,
        // so the run and its figures are the same on a loaded host.
        machine: Machine::VirtIcountNoSleep,
        expect: Expect::Bench(crate::isolation::judge_mcs),
        input: None,
        // Seconds of QEMU when it works; this only bounds a hang.
        timeout: Duration::from_secs(120),
        // Already MCS.
        under_mcs: false,
    },
    TestImage {
        // The seed's demo (examples/control.system, user/pds/sensor,
        // controller, actuator, logger): the sensor driver takes the
        // typed temperatures from the UART by its IRQ, the controller
        // decides, the actuator fetches the command by a protected call,
        // the logger, which may only receive, sums up from the shared
        // log and halts. 3, 7, 1, 9: on, off, on, off.
        name: "system-control",
        root: RootTask::System("examples/control.system"),
        config: "",
        machine: Machine::Virt,
        expect: Expect::SuccessWith(
            "logger: end of input after 4 samples (sensor counted 4): heater on 2 times, off 2 times",
        ),
        input: Some(crate::qemu::Input {
            after: "type a line of temperatures",
            send: "3719\r",
        }),
        // Seconds when it works; this only bounds a hang.
        timeout: Duration::from_secs(60),
        under_mcs: false,
    },
    TestImage {
        // The demo on the MCS kernel (examples/control_mcs.system): the
        // same PDs and input, each on a budget (the controller 2 ms every
        // 10 ms, at the highest priority), the monitor their timeout
        // handler.
        name: "system-control-mcs",
        root: RootTask::System("examples/control_mcs.system"),
        config: "mcs=on",
        // Budgets are wall-clock time: on a loaded host a PD ran out of
        // its 2 ms in the middle of printing the line the harness waits
        // for, and the monitor's report split it. Under -icount time is
        // the instructions run, and the run is repeatable; with sleep=off
        // the wait for the typed line is not host time either. (It hung
        // with sleep=off until the idle kernel programmed a deadline
        // again: docs/mcs.md, "The idle timer".)
        machine: Machine::VirtIcountNoSleep,
        expect: Expect::SuccessWith(
            "logger: end of input after 4 samples (sensor counted 4): heater on 2 times, off 2 times",
        ),
        input: Some(crate::qemu::Input {
            after: "type a line of temperatures",
            send: "3719\r",
        }),
        // Seconds when it works; this only bounds a hang.
        timeout: Duration::from_secs(60),
        // Already MCS.
        under_mcs: false,
    },
    TestImage {
        // The benchmarks' bounds (xtask/src/bench.rs), e.g. the latency of
        // the timer interrupt during a 100 000-capability revoke.
        name: "bench",
        root: RootTask::Package(crate::bench::BENCH),
        config: crate::bench::CONFIG,
        machine: Machine::VirtIcount,
        expect: Expect::Bench(crate::bench::judge),
        input: None,
        timeout: DEFAULT_TIMEOUT,
        under_mcs: false,
    },
    TestImage {
        // The MCS kernel's figures against their bounds (xtask/src/bench_mcs.rs):
        // the round trips through the MCS fastpath, the IRQ to its handler.
        name: "bench-mcs",
        root: RootTask::Package(crate::bench::BENCH),
        config: "benchmark=on,mcs=on",
        machine: Machine::VirtIcount,
        expect: Expect::Bench(crate::bench_mcs::judge),
        input: None,
        // 40 s with its build checks on a loaded host (2026-12-06; no
        // revoke or cancel cases under MCS); this bounds a hang.
        timeout: Duration::from_secs(240),
        // Already MCS.
        under_mcs: false,
    },
    TestImage {
        name: "boot-no-memory",
        root: RootTask::Package(CONFORMANCE),
        config: "",
        machine: Machine::VirtWithoutMemory,
        expect: Expect::FailFastWith("no memory"),
        input: None,
        // Failing fast means seconds; this only bounds a hang.
        timeout: Duration::from_secs(60),
        under_mcs: false,
    },
    TestImage {
        // A 16 MiB root CNode cannot fit in 14 MiB of RAM.
        name: "boot-root-task-too-big",
        root: RootTask::Package(DEMO),
        config: "root-cnode-bits=19",
        machine: Machine::VirtWithMemoryMiB(16),
        expect: Expect::FailFastWith("do not fit"),
        input: None,
        timeout: Duration::from_secs(60),
        under_mcs: false,
    },
];

/// The images named in `only` (all when empty); unknown names are errors.
pub fn select(only: &[String]) -> Result<Vec<&'static TestImage>, String> {
    if only.is_empty() {
        return Ok(TEST_IMAGES.iter().collect());
    }
    only.iter()
        .map(|name| {
            TEST_IMAGES.iter().find(|i| i.name == name).ok_or_else(|| {
                let names: Vec<_> = TEST_IMAGES.iter().map(|i| i.name).collect();
                format!("no test image {name:?} (images: {})", names.join(", "))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_well_formed() {
        let mut names: Vec<_> = TEST_IMAGES.iter().map(|i| i.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TEST_IMAGES.len(), "image names are unique");
        for i in TEST_IMAGES {
            cairn_config::KernelConfig::parse(i.config).expect("valid config");
            assert!(i.timeout <= DEFAULT_TIMEOUT);
        }
        // Worst case, every image hangs: still well inside CI's 90 minutes.
        let total: Duration = TEST_IMAGES.iter().map(|i| i.timeout).sum();
        assert!(total < Duration::from_secs(40 * 60));
    }

    #[test]
    fn select_by_name() {
        assert_eq!(select(&[]).unwrap().len(), TEST_IMAGES.len());
        assert_eq!(select(&["demo".into()]).unwrap()[0].name, "demo");
        assert!(select(&["nope".into()])
            .unwrap_err()
            .contains("conformance-cnode13"));
    }
}
