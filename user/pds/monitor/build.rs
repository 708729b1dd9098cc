// Link with the PD link script published by cairn-microkit's build.rs.
// The user library's ABI: `cfg(sel4_mcs)` when it was built for MCS.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(sel4_mcs)");
    if std::env::var_os("DEP_CAIRN_SEL4_MCS").is_some() {
        println!("cargo:rustc-cfg=sel4_mcs");
    }
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("riscv64") && t.ends_with("-none-elf")) {
        println!(
            "cargo:rustc-link-arg-bins=-T{}",
            std::env::var("DEP_CAIRN_MICROKIT_LINK_LD").unwrap_or_default()
        );
    }
}
