// Link with the PD link script published by cairn-microkit's build.rs.
fn main() {
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("riscv64") && t.ends_with("-none-elf")) {
        println!(
            "cargo:rustc-link-arg-bins=-T{}",
            std::env::var("DEP_CAIRN_MICROKIT_LINK_LD").unwrap_or_default()
        );
    }
}
