//! Links with cairn-rt's root-task script and embeds the system: the file
//! named by `CAIRN_SYSTEM_SPEC` (written by `cargo xtask run --system`,
//! `cairn_system::boot`'s format) is copied to `OUT_DIR/system.bin`, which
//! the loader includes. Without it (lint, plain builds) the loader gets an
//! empty system and says so.
fn main() {
    // The user library's ABI: `cfg(sel4_mcs)` when it was built for MCS.
    println!("cargo::rustc-check-cfg=cfg(sel4_mcs)");
    if std::env::var_os("DEP_CAIRN_SEL4_MCS").is_some() {
        println!("cargo:rustc-cfg=sel4_mcs");
    }
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("riscv64") && t.ends_with("-none-elf")) {
        println!(
            "cargo:rustc-link-arg-bins=-T{}",
            std::env::var("DEP_CAIRN_RT_LINK_LD").unwrap_or_default()
        );
    }
    println!("cargo:rerun-if-env-changed=CAIRN_SYSTEM_SPEC");
    let out =
        std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("system.bin");
    let spec = std::env::var("CAIRN_SYSTEM_SPEC")
        .ok()
        .filter(|s| !s.is_empty());
    let bytes = match &spec {
        Some(path) => {
            println!("cargo:rerun-if-changed={path}");
            std::fs::read(path).unwrap_or_else(|e| panic!("CAIRN_SYSTEM_SPEC={path}: {e}"))
        }
        None => Vec::new(),
    };
    std::fs::write(&out, bytes).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
