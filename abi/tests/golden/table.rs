//! The golden tables as flat name → value maps, and the comparison that
//! collects every mismatch of a group before failing.
//!
//! Used only by this test crate. Names are seL4's: a constant, enum member
//! or invocation label by its own name (`seL4_SysCall`, `CNodeCopy`), a
//! struct member as `Struct.member` (`seL4_BootInfo.empty`, the size as
//! `seL4_BootInfo.SIZEOF`), a bitfield as `Type.field.shift` and
//! `Type.field.width`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The table computed from seL4 16.0.0's generated libsel4 headers.
const COMPUTED: &str = include_str!("../../golden/sel4-16.0.0-riscv64.json");
/// Facts the computed table cannot hold, transcribed from the ABI reference.
const SUPPLEMENT: &str = include_str!("../../golden/sel4-16.0.0-riscv64-supplement.json");

/// A build configuration of seL4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    Classic,
    Mcs,
}

impl Config {
    pub fn key(self) -> &'static str {
        match self {
            Config::Classic => "classic",
            Config::Mcs => "mcs",
        }
    }
}

/// Both golden files of one configuration, flattened.
pub struct Golden {
    values: BTreeMap<String, i128>,
}

impl Golden {
    /// Loads `config`'s entries of both files. A name in both files, or a
    /// value that is not an integer, is an error in the tables themselves.
    pub fn load(config: Config) -> Golden {
        let mut values = BTreeMap::new();
        let computed: Value = serde_json::from_str(COMPUTED).expect("computed table is JSON");
        let supplement: Value = serde_json::from_str(SUPPLEMENT).expect("supplement is JSON");
        flatten_section(&computed[config.key()], &mut values);
        flatten_section(&supplement["common"], &mut values);
        flatten_section(&supplement[config.key()], &mut values);
        assert!(
            values.len() > 200,
            "golden tables for {config:?} hold only {} names",
            values.len()
        );
        Golden { values }
    }

    pub fn get(&self, name: &str) -> Option<i128> {
        self.values.get(name).copied()
    }

    pub fn names(&self) -> impl Iterator<Item = (&str, i128)> {
        self.values.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// Adds one configuration's `constants`, `layouts` and `bitfields`.
fn flatten_section(section: &Value, out: &mut BTreeMap<String, i128>) {
    let Some(section) = section.as_object() else {
        return;
    };
    for (kind, entries) in section {
        let entries = entries.as_object().expect("a golden section is an object");
        for (name, value) in entries {
            match kind.as_str() {
                "constants" => insert(out, name.clone(), value),
                "layouts" => {
                    for (member, offset) in value.as_object().expect("a layout is an object") {
                        insert(out, format!("{name}.{member}"), offset);
                    }
                }
                "bitfields" => {
                    for (field, pos) in value.as_object().expect("a bitfield is an object") {
                        for part in ["shift", "width"] {
                            insert(out, format!("{name}.{field}.{part}"), &pos[part]);
                        }
                    }
                }
                other => panic!("unknown golden section kind {other:?}"),
            }
        }
    }
}

fn insert(out: &mut BTreeMap<String, i128>, name: String, value: &Value) {
    let v = value
        .as_i64()
        .map(i128::from)
        .or_else(|| value.as_u64().map(i128::from))
        .unwrap_or_else(|| panic!("golden {name} is not an integer: {value}"));
    let previous = out.insert(name.clone(), v);
    assert!(previous.is_none(), "golden {name} is given twice");
}

/// The configuration cairn-abi is built for (feature `mcs`), whose golden
/// table the groups compare with.
pub const BUILT: Config = if cairn_abi::KERNEL_MCS {
    Config::Mcs
} else {
    Config::Classic
};

/// One group of comparisons against the golden table of [`BUILT`]. Every
/// mismatch is collected, so one run names them all; [`Check::finish`]
/// fails the test if there was any.
pub struct Check {
    group: &'static str,
    golden: Golden,
    used: BTreeSet<String>,
    compared: usize,
    failures: Vec<String>,
}

impl Check {
    pub fn new(group: &'static str) -> Check {
        Check {
            group,
            golden: Golden::load(BUILT),
            used: BTreeSet::new(),
            compared: 0,
            failures: vec![],
        }
    }

    /// The golden value of `name`, marked as having a counterpart in
    /// cairn-abi. A name missing from the tables is a failure.
    pub fn golden(&mut self, name: &str) -> i128 {
        self.used.insert(name.to_string());
        match self.golden.get(name) {
            Some(v) => v,
            None => {
                self.failures
                    .push(format!("the golden tables have no {name}"));
                0
            }
        }
    }

    /// Compares golden `name` with the cairn-abi expression `abi` (its
    /// source text) whose value is `value`.
    pub fn name(&mut self, name: &str, abi: &str, value: i128) {
        self.used.insert(name.to_string());
        match self.golden.get(name) {
            Some(expected) => self.compare(name, expected, abi, value),
            None => self
                .failures
                .push(format!("the golden tables have no {name} (for `{abi}`)")),
        }
    }

    /// Compares a value derived from golden entries (described by `what`)
    /// with the cairn-abi expression `abi`.
    pub fn compare(&mut self, what: &str, expected: i128, abi: &str, value: i128) {
        self.compared += 1;
        if expected != value {
            self.failures.push(format!(
                "{what}: seL4 16.0.0 (golden) = {expected}, cairn-abi `{abi}` = {value}"
            ));
        }
    }

    /// The golden names this group compared.
    pub fn into_used(self) -> BTreeSet<String> {
        self.used
    }

    /// Fails with every mismatch of the group, or if it compared nothing.
    pub fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{}: cairn-abi disagrees with seL4 16.0.0's golden table:\n  {}",
            self.group,
            self.failures.join("\n  ")
        );
        assert!(self.compared > 0, "{}: compared nothing", self.group);
    }
}

/// `check!(c, "seL4_Name" => abi::expr, ...)`: compares each cairn-abi
/// expression with the golden value of that name, quoting the expression
/// in a failure.
#[macro_export]
macro_rules! check {
    ($c:expr, $($name:literal => $abi:expr),+ $(,)?) => {
        $( $c.name($name, stringify!($abi), ($abi) as i128); )+
    };
}
