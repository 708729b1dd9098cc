//! Publishes the link script to the PDs' build scripts (as
//! `DEP_CAIRN_MICROKIT_LINK_LD`). PDs are linked like root tasks (at 0x10000,
//! one page-aligned segment per right), so they share cairn-rt's script.
fn main() {
    // The user library's ABI: `cfg(sel4_mcs)` when it was built for MCS
    // (the event loop then uses MCS IPC with the PD's reply object).
    println!("cargo::rustc-check-cfg=cfg(sel4_mcs)");
    if std::env::var_os("DEP_CAIRN_SEL4_MCS").is_some() {
        println!("cargo:rustc-cfg=sel4_mcs");
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    println!("cargo:rerun-if-changed=../runtime/link.ld");
    println!("cargo:link_ld={dir}/../runtime/link.ld");
}
