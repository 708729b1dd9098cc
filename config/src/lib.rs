//! The kernel's build-time configuration: one typed value, shared by the
//! xtask (which parses `--config key=value` and passes the canonical text to
//! the kernel build), the kernel's build script (which turns it into
//! constants) and the kernel itself (which records the text in its image and
//! prints it at boot).
//!
//! Names and defaults follow seL4's CMake options for `qemu-riscv-virt`
//! (ABI ref §0 "Configuration assumed", §6.3, §12): only options whose value
//! user space can observe are here.
#![no_std]
#![forbid(unsafe_code)]

use core::fmt;

/// Build-time options of the kernel that user space can observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelConfig {
    /// `KernelRootCNodeSizeBits`: radix of the root task's CNode (default 12).
    pub root_cnode_bits: u8,
    /// `KernelNumPriorities`: number of thread priorities (256).
    pub num_priorities: u32,
    /// `KernelNumDomains`: number of scheduling domains (1).
    pub num_domains: u32,
    /// `KernelTimerTickMS`: the classic scheduler's tick, in milliseconds (2).
    pub timer_tick_ms: u32,
    /// `KernelTimeSlice`: round-robin timeslice, in ticks (5).
    pub time_slice: u32,
    /// `KernelRiscvExtD`/`F`: threads have floating-point state (on).
    pub fpu: bool,
    /// `KernelDebugBuild`: debug syscalls (`seL4_DebugPutChar`, ...) (on).
    pub debug: bool,
    /// `KernelBenchmarks` = generic: benchmark syscalls (off).
    pub benchmark: bool,
    /// `KernelRiscvUserCycleCounter`-like: user mode may read `cycle`,
    /// `time` and `instret` (on, as QEMU's seL4 builds allow `rdcycle`).
    pub user_cycle_counter: bool,
    /// `KernelIsMCS`: the mixed-criticality kernel, with scheduling
    /// contexts, reply objects and its own syscall numbers, labels and
    /// object types (off). Unlike the other options it changes the ABI
    /// itself, so it is also a cargo feature of the kernel and the user
    /// library: [`KernelConfig::cargo_features`].
    pub mcs: bool,
    /// Where the kernel learns its platform (memory, devices, timebase):
    /// from the device tree the firmware hands it at boot (`dtb`, the
    /// default), or from a table the xtask generated at build time from
    /// QEMU's own device tree (`static`), as seL4 takes its platform from
    /// its build. A `static` kernel carries no device-tree parser and
    /// boots correctly only on the machine it was built for.
    pub platform: PlatformSource,
}

/// [`KernelConfig::platform`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformSource {
    /// Parsed from the DTB at boot.
    Dtb,
    /// Compiled in (the xtask's `platform.rs` generates it).
    Static,
}

impl KernelConfig {
    /// seL4's defaults for `qemu-riscv-virt`.
    pub const DEFAULT: KernelConfig = KernelConfig {
        root_cnode_bits: 12,
        num_priorities: 256,
        num_domains: 1,
        timer_tick_ms: 2,
        time_slice: 5,
        fpu: true,
        debug: true,
        benchmark: false,
        user_cycle_counter: true,
        mcs: false,
        platform: PlatformSource::Dtb,
    };

    /// Every option's name, in canonical order.
    pub const KEYS: &'static [&'static str] = &[
        "root-cnode-bits",
        "num-priorities",
        "num-domains",
        "timer-tick-ms",
        "time-slice",
        "fpu",
        "debug",
        "benchmark",
        "user-cycle-counter",
        "mcs",
        "platform",
    ];

    /// Applies one `key=value` setting, checking its range.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let num = |lo: u64, hi: u64| -> Result<u64, ConfigError> {
            let v: u64 = value.parse().map_err(|_| ConfigError::BadValue)?;
            if v < lo || v > hi {
                return Err(ConfigError::OutOfRange { min: lo, max: hi });
            }
            Ok(v)
        };
        let flag = || -> Result<bool, ConfigError> {
            match value {
                "on" | "true" | "1" | "yes" => Ok(true),
                "off" | "false" | "0" | "no" => Ok(false),
                _ => Err(ConfigError::BadValue),
            }
        };
        match key {
            // seL4 requires the root CNode to hold the initial caps and the
            // bootinfo regions; 8..=19 is what its CMake accepts in practice.
            "root-cnode-bits" => self.root_cnode_bits = num(8, 19)? as u8,
            // seL4_MaxPrio is 255: exactly 256 priorities (a Prio is a u8).
            "num-priorities" => self.num_priorities = num(256, 256)? as u32,
            "num-domains" => self.num_domains = num(1, 256)? as u32,
            "timer-tick-ms" => self.timer_tick_ms = num(1, 1000)? as u32,
            "time-slice" => self.time_slice = num(1, 1000)? as u32,
            "fpu" => self.fpu = flag()?,
            "debug" => self.debug = flag()?,
            "benchmark" => self.benchmark = flag()?,
            "user-cycle-counter" => self.user_cycle_counter = flag()?,
            "mcs" => self.mcs = flag()?,
            "platform" => {
                self.platform = match value {
                    "dtb" => PlatformSource::Dtb,
                    "static" => PlatformSource::Static,
                    _ => return Err(ConfigError::BadValue),
                }
            }
            _ => return Err(ConfigError::UnknownKey),
        }
        Ok(())
    }

    /// Parses a list of `key=value` settings separated by commas or
    /// whitespace, on top of the defaults.
    pub fn parse(text: &str) -> Result<KernelConfig, (ConfigError, usize)> {
        let mut cfg = KernelConfig::DEFAULT;
        let mut at = 0usize;
        for item in text.split(|c: char| c == ',' || c.is_whitespace()) {
            let start = at;
            at += item.len() + 1;
            if item.is_empty() {
                continue;
            }
            let (k, v) = item.split_once('=').ok_or((ConfigError::BadValue, start))?;
            cfg.set(k.trim(), v.trim()).map_err(|e| (e, start))?;
        }
        Ok(cfg)
    }

    /// `seL4_TCBBits`: 11 with the FPU state, 10 without (ABI ref §5).
    pub const fn tcb_bits(&self) -> u32 {
        if self.fpu {
            11
        } else {
            10
        }
    }

    /// The cargo features that the kernel (`cairn-kernel`) and the user
    /// library (`cairn-sel4`) must be built with for this configuration:
    /// the one place that turns options into features, used by the xtask
    /// for every build and checked by the kernel's build script, so that
    /// kernel, user library and configuration text cannot disagree.
    pub fn cargo_features(&self) -> &'static [&'static str] {
        if self.mcs {
            &["mcs"]
        } else {
            &[]
        }
    }

    /// Number of domain schedule entries (`CONFIG_NUM_DOMAIN_SCHEDULES`,
    /// ABI ref §7.6): 2 with one domain, else 100.
    pub const fn num_domain_schedules(&self) -> u32 {
        if self.num_domains == 1 {
            2
        } else {
            100
        }
    }
}

impl Default for KernelConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Canonical text: every key, in order, `key=value` separated by commas.
impl fmt::Display for KernelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let onoff = |b: bool| if b { "on" } else { "off" };
        write!(
            f,
            "root-cnode-bits={},num-priorities={},num-domains={},timer-tick-ms={},time-slice={},fpu={},debug={},benchmark={},user-cycle-counter={},mcs={},platform={}",
            self.root_cnode_bits,
            self.num_priorities,
            self.num_domains,
            self.timer_tick_ms,
            self.time_slice,
            onoff(self.fpu),
            onoff(self.debug),
            onoff(self.benchmark),
            onoff(self.user_cycle_counter),
            onoff(self.mcs),
            match self.platform {
                PlatformSource::Dtb => "dtb",
                PlatformSource::Static => "static",
            },
        )
    }
}

/// Why a setting was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The key names no option.
    UnknownKey,
    /// The value does not parse for this option.
    BadValue,
    /// The value is outside the option's range.
    OutOfRange { min: u64, max: u64 },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::UnknownKey => f.write_str("unknown option"),
            ConfigError::BadValue => f.write_str("malformed value"),
            ConfigError::OutOfRange { min, max } => write!(f, "value outside {min}..={max}"),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn defaults_are_sel4s_for_qemu_riscv_virt() {
        let c = KernelConfig::DEFAULT;
        assert_eq!(c.root_cnode_bits, 12);
        assert_eq!(c.num_priorities, 256);
        assert_eq!(c.tcb_bits(), 11);
        assert_eq!((c.timer_tick_ms, c.time_slice), (2, 5));
    }

    #[test]
    fn display_round_trips() {
        let c = KernelConfig::parse("root-cnode-bits=13, fpu=off").unwrap();
        assert_eq!(c.root_cnode_bits, 13);
        assert!(!c.fpu);
        assert_eq!(KernelConfig::parse(&c.to_string()).unwrap(), c);
    }

    #[test]
    fn mcs_is_off_by_default_and_selects_the_feature() {
        let classic = KernelConfig::DEFAULT;
        assert!(!classic.mcs);
        assert!(classic.cargo_features().is_empty());
        let mcs = KernelConfig::parse("mcs=on").unwrap();
        assert!(mcs.mcs);
        assert_eq!(mcs.cargo_features(), ["mcs"]);
        assert!(mcs.to_string().ends_with(",mcs=on,platform=dtb"));
        assert_eq!(KernelConfig::parse(&mcs.to_string()).unwrap(), mcs);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert_eq!(
            KernelConfig::parse("nope=1").unwrap_err().0,
            ConfigError::UnknownKey
        );
        assert_eq!(
            KernelConfig::parse("root-cnode-bits=40").unwrap_err().0,
            ConfigError::OutOfRange { min: 8, max: 19 }
        );
        assert_eq!(
            KernelConfig::parse("fpu=maybe").unwrap_err().0,
            ConfigError::BadValue
        );
        assert_eq!(
            KernelConfig::parse("debug").unwrap_err().0,
            ConfigError::BadValue
        );
    }

    #[test]
    fn platform_is_read_from_the_dtb_unless_static() {
        assert_eq!(KernelConfig::DEFAULT.platform, PlatformSource::Dtb);
        let c = KernelConfig::parse("platform=static,debug=off").unwrap();
        assert_eq!(c.platform, PlatformSource::Static);
        assert!(c.to_string().ends_with(",platform=static"));
        assert_eq!(KernelConfig::parse(&c.to_string()).unwrap(), c);
        assert_eq!(
            KernelConfig::parse("platform=fdt").unwrap_err().0,
            ConfigError::BadValue
        );
    }
}
