//! The independent ABI check: every constant and layout of `cairn-abi`
//! that seL4 names, compared with seL4 16.0.0's values for RISC-V 64 in
//! the golden tables under `abi/golden/` (see its README for where they
//! come from). Kernel and user library both take their ABI from
//! `cairn-abi`, so a mistake there is invisible to the QEMU suite; this
//! check is what catches it.
//!
//! One test per group, so a failure names the group, then every
//! mismatching constant with both values. The classic configuration is
//! compared (cairn-abi is classic). `golden_items_without_abi_counterpart`
//! keeps `abi/golden/without-abi-counterpart.txt` true: the golden items
//! no group compares (MCS items among them), listed for the work that
//! will add them; it never fails because cairn-abi lacks something, only
//! because that list is out of date.

mod layouts;
mod numbers;
mod table;

use std::collections::BTreeSet;

use table::{Check, Config, Golden};

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

/// The lines `abi/golden/without-abi-counterpart.txt` must hold: classic
/// golden items no group compares, then MCS items that are MCS-only,
/// differ from classic or are absent in MCS (an MCS item equal to its
/// classic one shares its classic counterpart, or its classic line).
fn unmatched_lines() -> Vec<String> {
    let mut used = BTreeSet::new();
    for group in GROUPS {
        let mut c = Check::new("coverage");
        group(&mut c);
        used.extend(c.into_used());
    }
    let classic = Golden::load(Config::Classic);
    let mcs = Golden::load(Config::Mcs);
    let mut lines: Vec<String> = classic
        .names()
        .filter(|(name, _)| !used.contains(*name))
        .map(|(name, v)| format!("classic {name} = {v}"))
        .collect();
    for (name, v) in mcs.names() {
        match classic.get(name) {
            Some(cv) if cv == v => {}
            Some(cv) => lines.push(format!("mcs {name} = {v} (classic: {cv})")),
            None => lines.push(format!("mcs {name} = {v} (MCS only)")),
        }
    }
    for (name, cv) in classic.names() {
        if mcs.get(name).is_none() {
            lines.push(format!("mcs {name} absent (classic: {cv})"));
        }
    }
    lines
}

#[test]
fn golden_items_without_abi_counterpart() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(UNMATCHED_FILE);
    let want = unmatched_lines();
    if std::env::var_os("CAIRN_GOLDEN_BLESS").is_some() {
        let mut text = String::from(HEADER);
        for line in &want {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write the unmatched list");
    }
    let text = std::fs::read_to_string(&path).expect("read the unmatched list");
    let have: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
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
        "{UNMATCHED_FILE} is out of date (rerun with CAIRN_GOLDEN_BLESS=1 to rewrite it)\n\
         not listed but unmatched:\n  {missing:?}\nlisted but now matched or gone:\n  {stale:?}"
    );
    // The list is what remains after the groups: most of the classic
    // table must be matched, or the groups are not running at all.
    let classic_total = Golden::load(Config::Classic).names().count();
    let classic_left = want.iter().filter(|l| l.starts_with("classic ")).count();
    assert!(
        classic_left * 4 < classic_total,
        "{classic_left} of {classic_total} classic golden items have no counterpart"
    );
}

const HEADER: &str = "\
# Golden items (abi/golden/*.json) that no group of abi/tests/golden compares
# with cairn-abi: classic items cairn-abi has no constant for, and MCS items
# that are MCS-only, differ from classic or do not exist in MCS (cairn-abi
# is classic only; MCS work, issue 12, adds them). Kept true by the test
# golden_items_without_abi_counterpart; CAIRN_GOLDEN_BLESS=1 rewrites it.
";
