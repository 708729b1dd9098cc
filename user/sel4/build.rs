// Tells the crates that depend on this one which ABI it was built for:
// `DEP_CAIRN_SEL4_MCS=1` in their build scripts under the `mcs` feature,
// so that a root task can compile its MCS-only code (user/hello does).
fn main() {
    if std::env::var_os("CARGO_FEATURE_MCS").is_some() {
        println!("cargo:mcs=1");
    }
}
