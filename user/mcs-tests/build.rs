// Link with the root-task linker script published by cairn-rt's build.rs.
fn main() {
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("riscv64") && t.ends_with("-none-elf")) {
        println!(
            "cargo:rustc-link-arg-bins=-T{}",
            std::env::var("DEP_CAIRN_RT_LINK_LD").unwrap_or_default()
        );
    }
}
