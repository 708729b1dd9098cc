//! Publishes the absolute path of the root-task linker script to the build
//! scripts of crates that depend on this one (as `DEP_CAIRN_RT_LINK_LD`):
//! link arguments of a library do not reach the final link, so each root
//! task's own build.rs passes `-T<link.ld>`.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:link_ld={dir}/link.ld");
}
