//! Turns the build-time configuration (`CAIRN_CONFIG`, set by the xtask) into
//! constants, and passes the linker script when building for the bare-metal
//! RISC-V target.
#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "a build script reports a failure by panicking (cargo shows the message); \
              it runs on the build host, never in the kernel"
)]
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=CAIRN_CONFIG");
    println!("cargo:rerun-if-env-changed=CAIRN_PLATFORM");
    println!("cargo:rerun-if-changed=src/arch/riscv64/kernel.ld");
    let feature_mcs = env::var_os("CARGO_FEATURE_MCS").is_some();
    let cfg = match env::var("CAIRN_CONFIG") {
        Ok(text) => match cairn_config::KernelConfig::parse(&text) {
            Ok(c) => c,
            Err((e, at)) => panic!("CAIRN_CONFIG: {e} at byte {at} of {text:?}"),
        },
        // A plain cargo build (host tests, clippy): the defaults, with
        // `mcs` as the feature says.
        Err(_) => cairn_config::KernelConfig {
            mcs: feature_mcs,
            ..cairn_config::KernelConfig::DEFAULT
        },
    };
    // `mcs` changes the ABI crate too (a feature), so the configuration
    // and the features must agree; the xtask derives the features from the
    // configuration (KernelConfig::cargo_features).
    assert!(
        cfg.mcs == feature_mcs,
        "CAIRN_CONFIG says mcs={} but the kernel is built {} the `mcs` feature",
        if cfg.mcs { "on" } else { "off" },
        if feature_mcs { "with" } else { "without" },
    );
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let code = format!(
        "/// Canonical text of this build's configuration.\n\
         pub const CONFIG_TEXT: &str = {text:?};\n\
         /// `CONFIG_ROOT_CNODE_SIZE_BITS`.\n\
         pub const ROOT_CNODE_SIZE_BITS: u32 = {};\n\
         /// `CONFIG_NUM_PRIORITIES`.\n\
         pub const NUM_PRIORITIES: usize = {};\n\
         /// `CONFIG_NUM_DOMAINS`.\n\
         pub const NUM_DOMAINS: usize = {};\n\
         /// `CONFIG_NUM_DOMAIN_SCHEDULES`.\n\
         pub const NUM_DOMAIN_SCHEDULES: usize = {};\n\
         /// `CONFIG_TIMER_TICK_MS`.\n\
         pub const TIMER_TICK_MS: u64 = {};\n\
         /// `CONFIG_TIME_SLICE` (ticks).\n\
         pub const TIME_SLICE: u64 = {};\n\
         /// `CONFIG_HAVE_FPU`.\n\
         pub const HAVE_FPU: bool = {};\n\
         /// `CONFIG_DEBUG_BUILD`.\n\
         pub const DEBUG_BUILD: bool = {};\n\
         /// `CONFIG_ENABLE_BENCHMARKS`.\n\
         pub const ENABLE_BENCHMARKS: bool = {};\n\
         /// User mode may read the cycle, time and instret counters.\n\
         pub const USER_CYCLE_COUNTER: bool = {};\n\
         /// `CONFIG_KERNEL_MCS` (the same as `cfg!(feature = \"mcs\")`).\n\
         pub const KERNEL_MCS: bool = {};\n\
         /// `seL4_TCBBits` for this configuration.\n\
         pub const TCB_BITS: u32 = {};\n\
         /// `platform=static`: the platform is compiled in, not read from\n\
         /// the device tree at boot.\n\
         pub const PLATFORM_STATIC: bool = {};\n",
        cfg.root_cnode_bits,
        cfg.num_priorities,
        cfg.num_domains,
        cfg.num_domain_schedules(),
        cfg.timer_tick_ms,
        cfg.time_slice,
        cfg.fpu,
        cfg.debug,
        cfg.benchmark,
        cfg.user_cycle_counter,
        cfg.mcs,
        cfg.tcb_bits(),
        cfg.platform == cairn_config::PlatformSource::Static,
        text = cfg.to_string(),
    );
    fs::write(out.join("config.rs"), code).expect("write config.rs");

    // The platform of a `platform=static` build: an expression of type
    // `Option<StaticPlatform>` that the xtask generated from QEMU's device
    // tree (xtask/src/platform.rs) and names in CAIRN_PLATFORM; `None`
    // otherwise (the kernel parses the DTB at boot).
    let platform = match cfg.platform {
        cairn_config::PlatformSource::Dtb => "None\n".to_string(),
        cairn_config::PlatformSource::Static => {
            let path = env::var("CAIRN_PLATFORM").unwrap_or_else(|_| {
                panic!(
                    "platform=static needs the platform table the xtask generates \
                     (CAIRN_PLATFORM=<file>): build with `cargo xtask build --config platform=static`"
                )
            });
            println!("cargo:rerun-if-changed={path}");
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("CAIRN_PLATFORM={path}: {e}"))
        }
    };
    fs::write(out.join("platform.rs"), platform).expect("write platform.rs");

    let target = env::var("TARGET").unwrap_or_default();
    if target.starts_with("riscv64") && target.ends_with("-none-elf") {
        let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
        let ld = dir.join("src/arch/riscv64/kernel.ld");
        println!("cargo:rustc-link-arg-bins=-T{}", ld.display());
        // Keeps the relocations in the ELF (not loaded: the image holds
        // only PT_LOAD segments) for `cargo xtask size`'s check that no
        // code or data outside `.boot` refers into it (kernel.ld).
        println!("cargo:rustc-link-arg-bins=--emit-relocs");
        // gp-relative relaxation (`lld` leaves it off by default): an
        // address load (`auipc`) of data within 2 KiB of
        // `__global_pointer$` (kernel.ld) becomes an offset from gp. The
        // trap entry and `_start` load gp before any Rust code runs.
        println!("cargo:rustc-link-arg-bins=--relax-gp");
    }
}
