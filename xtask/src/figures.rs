//! A benchmark's figures ([`Record`]) and what they are held against: seL4 16.0.0's own
//! (sel4bench on QEMU `virt` under `-icount shift=0`, from the performance
//! issue), and the bound of every `sel4bench` case (a regression fails
//! `cargo xtask test`); plus `cargo xtask bench --compare OLD.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Virtual nanoseconds per instruction under `-icount shift=0`.
const NS_PER_INSTRUCTION: u64 = 1;

/// One measurement: its name and its figures (the root task's and the
/// kernel's, merged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    /// What was measured, for benchmarks of several operations.
    pub op: Option<String>,
    pub figures: BTreeMap<String, u64>,
}

impl Record {
    pub fn get(&self, key: &str) -> Option<u64> {
        self.figures.get(key).copied()
    }

    /// The largest timer-interrupt latency in instructions (from the
    /// kernel's timebase units).
    pub fn latency_max_instructions(&self) -> Option<u64> {
        let hz = self.get("timebase-hz").filter(|&hz| hz > 0)?;
        let ns = self.get("latency-max")?.checked_mul(1_000_000_000)? / hz;
        Some(ns / NS_PER_INSTRUCTION)
    }

    /// `revoke_caps_100000` / `ipc_yield`-style test name.
    pub fn test_name(&self) -> String {
        match (&self.op, self.get("caps"), self.get("threads")) {
            (Some(op), _, _) => format!("{}_{}", self.name, op.replace('-', "_")),
            (None, Some(n), _) => format!("{}_caps_{n}", self.name),
            (None, None, Some(n)) => format!("{}_threads_{n}", self.name),
            (None, None, None) => self.name.clone(),
        }
    }
}

/// seL4 16.0.0's figure (instructions, sel4bench's minimum) for the cases
/// where sel4bench measures the same thing as `user/bench`.
pub const SEL4: [(&str, u64); 16] = [
    ("call-0-same-as", 249),
    ("replyrecv-0-same-as", 289),
    ("call-0-cross-as", 249),
    ("replyrecv-0-cross-as", 289),
    ("call-0-same-as-fpu", 335),
    ("replyrecv-0-same-as-fpu", 373),
    ("send-0-higher-prio", 851),
    ("call-10-same-as", 948),
    ("replyrecv-10-same-as", 938),
    ("map-pages-1", 746),
    ("protect-pages-1", 765),
    ("map-pages-2048", 1_507_338),
    ("retype-frames-2048", 2_303_992),
    ("broadcast", 1_395),
    ("producer-to-consumer", 1_506),
    ("prepare-page-tables-2048", 7_214_428),
];

/// Upper bounds of each `sel4bench` case's figure ([`figure`]), about 3 %
/// above the figure measured when the bound was last set (2026-12-06, in
/// docs/benchmarks.md). Loosen one only in a commit that says why.
pub const BOUNDS: [(&str, u64); 31] = [
    ("call-0-same-as", 222),
    ("replyrecv-0-same-as", 231),
    ("call-4-same-as", 236),
    ("replyrecv-4-same-as", 246),
    ("call-10-same-as", 778),
    ("replyrecv-10-same-as", 732),
    ("call-0-cross-as", 230),
    ("replyrecv-0-cross-as", 239),
    ("call-4-cross-as", 245),
    ("replyrecv-4-cross-as", 254),
    ("call-10-cross-as", 803),
    ("replyrecv-10-cross-as", 746),
    ("call-0-same-as-fpu", 222),
    ("replyrecv-0-same-as-fpu", 231),
    ("send-0-higher-prio", 656),
    ("retype-frames-512", 452_516),
    ("retype-frames-2048", 1_810_434),
    ("retype-frames-1", 884),
    ("map-pages-512", 348_585),
    ("map-pages-2048", 1_394_340),
    ("map-pages-1", 681),
    ("protect-pages-512", 353_859),
    ("protect-pages-2048", 1_415_435),
    ("protect-pages-1", 692),
    ("unprotect-pages-512", 354_352),
    ("unprotect-pages-2048", 1_415_928),
    ("unprotect-pages-1", 692),
    ("broadcast", 975),
    ("producer-to-consumer", 1_096),
    ("consumer-to-producer", 1_094),
    ("prepare-page-tables-2048", 2_853_370),
];

/// Upper bounds of the revoke benchmark's instruction count per number of
/// capabilities revoked, set like [`BOUNDS`].
pub const REVOKE_BOUNDS: [(u64, u64); 3] =
    [(1_000, 438_109), (10_000, 4_360_905), (100_000, 43_602_803)];

fn lookup(table: &[(&str, u64)], op: &str) -> Option<u64> {
    table.iter().find(|(o, _)| *o == op).map(|(_, v)| *v)
}

/// The one figure a record stands for: a total where there is one, else
/// the minimum (sel4bench reports minima) or the median, else the
/// instruction count (revoke).
pub fn figure(r: &Record) -> Option<u64> {
    match r.name.trim_start_matches("mcs-") {
        "sel4bench" => r.get("total").or(r.get("min")),
        "ipc" => r.get("median"),
        _ => r.get("instructions"),
    }
}

/// Checks a `sel4bench` record against its bound.
pub fn check(r: &Record) -> Result<(), String> {
    let op = r.op.as_deref().ok_or("no op= name")?;
    let n = r.get("iterations").ok_or("no iterations= figure")?;
    let value = figure(r).ok_or("no total= or min= figure")?;
    if r.get("total").is_none() && n < 1000 {
        return Err(format!("{n} iterations, at least 1000 wanted"));
    }
    let limit = lookup(&BOUNDS, op).ok_or_else(|| format!("no bound for sel4bench op {op:?}"))?;
    if value > limit {
        return Err(format!("{value} instructions, limit {limit}"));
    }
    Ok(())
}

/// The `sel4bench` cases beside seL4 16.0.0's figures: Cairn, seL4, the
/// ratio and the goal of the performance issue (0.9 × seL4).
pub fn versus_sel4(records: &[Record]) -> String {
    let mut s = format!(
        "{:<26} {:>12} {:>12} {:>7} {:>12}\n",
        "versus seL4 16.0.0", "Cairn", "seL4", "ratio", "goal (0.9x)"
    );
    for r in records.iter().filter(|r| r.name == "sel4bench") {
        let (Some(op), Some(v)) = (r.op.as_deref(), figure(r)) else {
            continue;
        };
        let Some(sel4) = lookup(&SEL4, op) else {
            continue;
        };
        let _ = writeln!(
            s,
            "{op:<26} {v:>12} {sel4:>12} {:>7.2} {:>12}",
            v as f64 / sel4 as f64,
            sel4 * 9 / 10
        );
    }
    s
}

/// A record's key across runs: `<name>/<op or caps>`.
fn key(r: &Record) -> String {
    match (&r.op, r.get("caps")) {
        (Some(op), _) => format!("{}/{op}", r.name),
        (None, Some(caps)) => format!("{}/caps={caps}", r.name),
        (None, None) => r.name.clone(),
    }
}

/// Reads a `target/bench/<name>.json` written by an earlier run into
/// (key, figure) pairs.
pub fn read_json(text: &str) -> Result<BTreeMap<String, u64>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let groups = v.as_object().ok_or("not a JSON object")?;
    let mut out = BTreeMap::new();
    for (name, rows) in groups {
        for row in rows.as_array().ok_or("a group is not an array")? {
            let fields = row.as_object().ok_or("a record is not an object")?;
            let figures = fields
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                .collect();
            let r = Record {
                name: name.clone(),
                op: fields.get("op").and_then(|o| o.as_str()).map(String::from),
                figures,
            };
            if let Some(f) = figure(&r) {
                out.insert(key(&r), f);
            }
        }
    }
    Ok(out)
}

/// `--compare`: each record's figure beside the old one, with the change
/// (records of benchmarks the old run does not have are left out).
pub fn compare(records: &[Record], old: &BTreeMap<String, u64>) -> String {
    let mut s = format!(
        "{:<36} {:>12} {:>12} {:>9}\n",
        "compared with the old run", "old", "new", "change"
    );
    let group_of = |k: &str| k.split('/').next().unwrap_or("").to_string();
    let groups: Vec<String> = old.keys().map(|k| group_of(k)).collect();
    for r in records.iter().filter(|r| groups.contains(&r.name)) {
        let (k, Some(new)) = (key(r), figure(r)) else {
            continue;
        };
        match old.get(&k) {
            Some(&o) => {
                let pct = 100.0 * (new as f64 - o as f64) / (o.max(1) as f64);
                let _ = writeln!(s, "{k:<36} {o:>12} {new:>12} {pct:>+8.1}%");
            }
            None => {
                let _ = writeln!(s, "{k:<36} {:>12} {new:>12} {:>9}", "-", "new");
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, op: Option<&str>, kv: &[(&str, u64)]) -> Record {
        Record {
            name: name.into(),
            op: op.map(String::from),
            figures: kv.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn every_sel4_figure_has_a_bound() {
        for (op, _) in SEL4 {
            assert!(lookup(&BOUNDS, op).is_some(), "{op}");
        }
    }

    #[test]
    fn sel4bench_records_are_bounded() {
        let limit = lookup(&BOUNDS, "call-0-same-as").unwrap();
        let ok = rec(
            "sel4bench",
            Some("call-0-same-as"),
            &[("iterations", 1000), ("min", limit - 10), ("median", limit)],
        );
        assert_eq!(check(&ok), Ok(()));
        let slow = rec(
            "sel4bench",
            Some("call-0-same-as"),
            &[("iterations", 1000), ("min", limit + 1)],
        );
        assert_eq!(
            check(&slow),
            Err(format!("{} instructions, limit {limit}", limit + 1))
        );
        let few = rec(
            "sel4bench",
            Some("call-0-same-as"),
            &[("iterations", 10), ("min", 1)],
        );
        assert!(check(&few).unwrap_err().contains("10 iterations"));
        let total = rec(
            "sel4bench",
            Some("map-pages-2048"),
            &[("iterations", 1), ("total", 99)],
        );
        assert_eq!(check(&total), Ok(()));
        let unknown = rec(
            "sel4bench",
            Some("teleport"),
            &[("iterations", 1), ("total", 1)],
        );
        assert!(check(&unknown).unwrap_err().contains("no bound"));
    }

    #[test]
    fn the_comparison_with_sel4_shows_the_ratio() {
        let r = rec(
            "sel4bench",
            Some("call-0-same-as"),
            &[("iterations", 1000), ("min", 498)],
        );
        let t = versus_sel4(&[r]);
        let row = t.lines().nth(1).unwrap_or("");
        assert!(
            row.contains(" 498 ") && row.contains(" 249 ") && row.contains("2.00"),
            "{t}"
        );
        assert!(row.trim_end().ends_with("224"), "{t}");
    }

    #[test]
    fn compare_reads_old_json_and_prints_changes() {
        let old = r#"{"sel4bench": [{"op": "call-0-same-as", "iterations": 1000, "min": 800}],
                      "revoke": [{"caps": 1000, "instructions": 500}]}"#;
        let old = read_json(old).expect("parses");
        assert_eq!(old.get("sel4bench/call-0-same-as"), Some(&800));
        assert_eq!(old.get("revoke/caps=1000"), Some(&500));
        let now = [
            rec(
                "sel4bench",
                Some("call-0-same-as"),
                &[("iterations", 1000), ("min", 760)],
            ),
            rec("revoke", None, &[("caps", 1000), ("instructions", 500)]),
            rec("ipc", Some("yield"), &[("median", 481)]),
        ];
        let t = compare(&now, &old);
        assert!(
            t.contains("sel4bench/call-0-same-as") && t.contains("-5.0%"),
            "{t}"
        );
        assert!(t.contains("+0.0%"), "{t}");
        assert!(!t.contains("ipc/yield"), "not in the old run: {t}");
        let more = [rec("revoke", None, &[("caps", 10), ("instructions", 5)])];
        let t = compare(&more, &old);
        assert!(
            t.lines()
                .any(|l| l.starts_with("revoke/caps=10 ") && l.ends_with("new")),
            "{t}"
        );
    }
}
