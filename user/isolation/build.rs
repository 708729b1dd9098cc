// Link with the root-task linker script published by cairn-rt's build.rs,
// and `cfg(sel4_mcs)` when the user library was built for MCS (its build
// script publishes DEP_CAIRN_SEL4_MCS): the suite then adds its MCS part.
fn main() {
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
}
