//! The independent ABI check: every constant and layout of `cairn-abi`
//! that seL4 names, compared with seL4 16.0.0's values for RISC-V 64 in
//! the golden tables under `abi/golden/` (see its README for where they
//! come from). Kernel and user library both take their ABI from
//! `cairn-abi`, so a mistake there is invisible to the QEMU suite; this
//! check is what catches it.
//!
//! One test per group, so a failure names the group, then every
//! mismatching constant with both values. The configuration cairn-abi is
//! built for is compared: classic, or MCS with `--features mcs` (`cargo
//! xtask test` runs both). `golden_items_without_abi_counterpart` keeps
//! `abi/golden/without-abi-counterpart.txt` true: the golden items no
//! group compares, each with the reason; it never fails because cairn-abi
//! lacks something, only because that list is out of date.

mod layouts;
mod numbers;
mod table;

use std::collections::BTreeSet;

use table::{Check, Golden, BUILT};

/// One `#[test]` per group, and the list of all groups for the coverage
/// test.
macro_rules! groups {
    ($($module:ident::$group:ident),+ $(,)?) => {
        $(
            #[test]
            fn $group() {
                let mut c = Check::new(stringify!($group));
                $module::$group(&mut c);
                c.finish();
            }
        )+
        const GROUPS: &[fn(&mut Check)] = &[$($module::$group),+];
    };
}

groups!(
    numbers::syscall_numbers,
    numbers::invocation_labels,
    numbers::object_types_and_sizes,
    numbers::errors_and_lookup_failures,
    numbers::fault_labels_and_messages,
    numbers::initial_cap_slots,
    numbers::cap_type_tags,
    numbers::words_and_address_space,
    layouts::message_info_layout,
    layouts::cap_rights_and_cap_data,
    layouts::bootinfo_layout,
    layouts::ipc_buffer_layout,
    layouts::user_context_order,
);

/// The list this test keeps true, relative to the crate root.
const UNMATCHED_FILE: &str = "golden/without-abi-counterpart.txt";

/// The lines of `abi/golden/without-abi-counterpart.txt` that belong to
/// the configuration this build compares (`classic ...` or `mcs ...`):
/// its golden items that no group compares.
fn unmatched_lines() -> Vec<String> {
    let mut used = BTreeSet::new();
    for group in GROUPS {
        let mut c = Check::new("coverage");
        group(&mut c);
        used.extend(c.into_used());
    }
    let prefix = BUILT.key();
    Golden::load(BUILT)
        .names()
        .filter(|(name, _)| !used.contains(*name))
        .map(|(name, v)| format!("{prefix} {name} = {v}"))
        .collect()
}

/// Whether a line of the list belongs to this build's configuration.
fn ours(line: &str) -> bool {
    line.starts_with(BUILT.key()) && line.as_bytes().get(BUILT.key().len()) == Some(&b' ')
}

#[test]
fn golden_items_without_abi_counterpart() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(UNMATCHED_FILE);
    let want = unmatched_lines();
    if std::env::var_os("CAIRN_GOLDEN_BLESS").is_some() {
        // Keep the other configuration's lines; rewrite this one's.
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let mut lines: Vec<String> = old
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !ours(l))
            .map(String::from)
            .chain(want.iter().cloned())
            .collect();
        lines.sort_by_key(|l| !l.starts_with("classic "));
        let mut text = String::from(HEADER);
        for line in &lines {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write the unmatched list");
    }
    let text = std::fs::read_to_string(&path).expect("read the unmatched list");
    let have: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#') && ours(l))
        .collect();
    let missing: Vec<&String> = want
        .iter()
        .filter(|l| !have.contains(&l.as_str()))
        .collect();
    let stale: Vec<&&str> = have
        .iter()
        .filter(|l| !want.contains(&l.to_string()))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "{UNMATCHED_FILE} is out of date for {BUILT:?} (rerun with CAIRN_GOLDEN_BLESS=1, \
         with and without --features mcs, to rewrite it)\n\
         not listed but unmatched:\n  {missing:?}\nlisted but now matched or gone:\n  {stale:?}"
    );
    // The list is what remains after the groups: nearly all of the table
    // must be matched, or the groups are not running at all.
    let total = Golden::load(BUILT).names().count();
    assert!(
        want.len() * 20 < total,
        "{} of {total} golden items have no counterpart",
        want.len()
    );
}

const HEADER: &str = "\
# Golden items (abi/golden/*.json) that no group of abi/tests/golden compares
# with cairn-abi, per configuration (`classic`: the default build, `mcs`:
# `--features mcs`). Kept true by the test golden_items_without_abi_counterpart
# in each build; CAIRN_GOLDEN_BLESS=1 rewrites that build's lines.
#
# Why each has no counterpart (docs/abi.md, \"The golden check\"):
# - seL4_True, seL4_False, seL4_Null, seL4_NilData, seL4_InvalidPrio: C
#   conveniences (Rust has bool, Option and its own sentinels).
# - seL4_RISCV_Tera_Page, seL4_TeraPageBits: Sv48 and wider; Cairn is Sv39.
# - seL4_SysVMEnter, seL4_SysX86Dangerous{R,W}DMSR: x86 and virtualisation
#   syscalls, never on RISC-V.
# - seL4_SysBenchmark{Dump,Reset}AllThreadsUtilisation: benchmark
#   syscalls Cairn does not offer (its benchmark build has the per-thread
#   ones).
";
