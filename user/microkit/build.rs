//! Publishes the link script to the PDs' build scripts (as
//! `DEP_CAIRN_MICROKIT_LINK_LD`). PDs are linked like root tasks (at 0x10000,
//! one page-aligned segment per right), so they share cairn-rt's script.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    println!("cargo:rerun-if-changed=../runtime/link.ld");
    println!("cargo:link_ld={dir}/../runtime/link.ld");
}
