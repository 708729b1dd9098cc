//! A benchmark's figures ([`Record`]) and what they are held against: seL4 16.0.0's own
//! (sel4bench on QEMU `virt` under `-icount shift=0`, from the performance
//! issue), and the bound of every `sel4bench` case (a regression fails
//! `cargo xtask test`); plus `cargo xtask bench --compare OLD.json`.
//! Also what both benchmark judges (`bench`, `bench_mcs`) share: the
//! parse of a run's lines and the results of its records and end.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::harness::TestResult;
use crate::qemu::Captured;

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

    /// Which of its benchmark's rows it is: its `op=`, else its size
    /// (`caps=`, `threads=`), as (label, value).
    fn variant(&self) -> Option<(&str, String)> {
        match (&self.op, self.get("caps"), self.get("threads")) {
            (Some(op), _, _) => Some(("", op.clone())),
            (None, Some(n), _) => Some(("caps", n.to_string())),
            (None, None, Some(n)) => Some(("threads", n.to_string())),
            (None, None, None) => None,
        }
    }

    /// `revoke_caps_100000` / `ipc_yield`-style test name.
    pub fn test_name(&self) -> String {
        match self.variant() {
            Some(("", op)) => format!("{}_{}", self.name, op.replace('-', "_")),
            Some((label, n)) => format!("{}_{label}_{n}", self.name),
            None => self.name.clone(),
        }
    }

    /// Its key across runs (`--compare`, MCS beside classic):
    /// `<name>/<op>`, `<name>/caps=<n>`, `<name>/threads=<n>`.
    fn key(&self) -> String {
        match self.variant() {
            Some(("", op)) => format!("{}/{op}", self.name),
            Some((label, n)) => format!("{}/{label}={n}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The `op=<name>` of a record (a text value), if any.
fn op_of(text: &str) -> Option<String> {
    text.split_whitespace()
        .find_map(|kv| kv.strip_prefix("op=").map(String::from))
}

fn key_values(text: &str) -> BTreeMap<String, u64> {
    text.split_whitespace()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// Parses the benchmark lines of a run: the records, and the failures the
/// root task reported (`(name, reason)`).
pub fn parse(lines: &[String]) -> (Vec<Record>, Vec<(String, String)>) {
    let mut records: Vec<Record> = Vec::new();
    let mut failures = Vec::new();
    for line in lines.iter().map(|l| l.trim()) {
        if let Some(rest) = line.strip_prefix("cairn: bench:") {
            if let Some(last) = records.last_mut() {
                last.figures.extend(key_values(rest));
            }
        } else if let Some(rest) = line.strip_prefix("bench ") {
            let (name, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Some(why) = rest.strip_prefix("FAILED:") {
                failures.push((name.to_string(), why.trim().to_string()));
            } else {
                records.push(Record {
                    name: name.to_string(),
                    op: op_of(rest),
                    figures: key_values(rest),
                });
            }
        }
    }
    (records, failures)
}

/// The results of a benchmark run's records and end: one per record
/// (`<image>::<test>`, held against `check`), one per failure the root
/// task reported, and one if it never said it was done. Also the records.
pub fn judge_run(
    image: &str,
    c: &Captured,
    check: impl Fn(&Record) -> Result<(), String>,
) -> (Vec<Record>, Vec<TestResult>) {
    let (records, failures) = parse(&c.lines);
    let mut results: Vec<TestResult> = records
        .iter()
        .map(|r| {
            let name = format!("{image}::{}", r.test_name());
            match check(r) {
                Ok(()) => TestResult::ok(name),
                Err(why) => TestResult::failed(name, why),
            }
        })
        .collect();
    results.extend(
        failures
            .into_iter()
            .map(|(name, why)| TestResult::failed(format!("{image}::{name}"), why)),
    );
    if !c.lines.iter().any(|l| l.contains("cairn-bench: done")) {
        results.push(TestResult::failed(
            format!("{image}::done"),
            "no `cairn-bench: done` line",
        ));
    }
    (records, results)
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
/// docs/benchmarks.md); the ten 0- and 4-word Call/ReplyRecv cases
/// lowered on 2026-12-07 to ~3 % above their figures with every
/// fastpath lookup in one step in a CSpace of one level (Call 215 →
/// 211, ReplyRecv 224 → 220); the 10-word cases, send-0-higher-prio
/// and the three notification cases lowered on 2026-12-07 to ~3 % above
/// their figures with the ready queues' remembered highest bit. Every
/// case that moved lowered on 2026-12-07 to ~3 % above its figure with
/// linker relaxation (10-word Call 717 → 709, Retype 845 → 835). Every
/// case that fell lowered on 2026-12-07 to ~3 % above its figure with
/// the kernel's gp (Retype 827 → 817; not the revoke bounds, which
/// `bench::tests::bounds_are_checked`'s fixtures name). The 10-word
/// Calls, Send, Retype, map/protect/unprotect lowered on 2026-12-07 to
/// ~3 % above their figures with the rare invocations out of line
/// (branch `size-inv`: map 626 → 606). The 10-word cases, Send and
/// Retype lowered again (branch `size-ipc`: the reply's and the
/// transfer's fault paths out of line; on its own 10-word Call/ReplyRecv
/// 697/671 → 674/640, Retype 755 → 749). The 10-word Call across address
/// spaces lowered to ~3 % above 674 with all three branches merged. Loosen
/// one only in a commit that says why.
pub const BOUNDS: [(&str, u64); 31] = [
    ("call-0-same-as", 217),
    ("replyrecv-0-same-as", 226),
    ("call-4-same-as", 231),
    ("replyrecv-4-same-as", 241),
    ("call-10-same-as", 694),
    ("replyrecv-10-same-as", 659),
    ("call-0-cross-as", 225),
    ("replyrecv-0-cross-as", 234),
    ("call-4-cross-as", 239),
    ("replyrecv-4-cross-as", 249),
    ("call-10-cross-as", 694),
    ("replyrecv-10-cross-as", 673),
    ("call-0-same-as-fpu", 217),
    ("replyrecv-0-same-as-fpu", 226),
    ("send-0-higher-prio", 590),
    ("retype-frames-512", 395_040),
    ("retype-frames-2048", 1_580_590),
    ("retype-frames-1", 771),
    ("map-pages-512", 319_580),
    ("map-pages-2048", 1_278_800),
    ("map-pages-1", 624),
    ("protect-pages-512", 324_854),
    ("protect-pages-2048", 1_299_894),
    ("protect-pages-1", 634),
    ("unprotect-pages-512", 324_854),
    ("unprotect-pages-2048", 1_299_415),
    ("unprotect-pages-1", 634),
    ("broadcast", 849),
    ("producer-to-consumer", 922),
    ("consumer-to-producer", 920),
    ("prepare-page-tables-2048", 2_784_873),
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
                out.insert(r.key(), f);
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
        let (k, Some(new)) = (r.key(), figure(r)) else {
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
    fn compare_matches_the_rows_of_one_benchmark_by_op_or_size() {
        // Rows of one name differ by op (ipc) or by size (cancel's
        // threads, revoke's caps): each is compared with its own.
        let old = r#"{"cancel": [{"threads": 10, "instructions": 1000},
                                 {"threads": 1000, "instructions": 50000}],
                      "ipc": [{"op": "yield", "median": 300}, {"op": "call", "median": 500}]}"#;
        let old = read_json(old).expect("parses");
        assert_eq!(old.get("cancel/threads=10"), Some(&1000));
        assert_eq!(old.get("cancel/threads=1000"), Some(&50000));
        assert_eq!(old.get("ipc/call"), Some(&500));
        let now = [
            rec("cancel", None, &[("threads", 10), ("instructions", 1100)]),
            rec(
                "cancel",
                None,
                &[("threads", 1000), ("instructions", 50000)],
            ),
            rec("ipc", Some("call"), &[("median", 450)]),
            rec("ipc", Some("yield"), &[("median", 300)]),
        ];
        let t = compare(&now, &old);
        let row = |k: &str| {
            t.lines()
                .find(|l| l.starts_with(&format!("{k} ")))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(row("cancel/threads=10"), ["1000", "1100", "+10.0%"], "{t}");
        assert_eq!(
            row("cancel/threads=1000"),
            ["50000", "50000", "+0.0%"],
            "{t}"
        );
        assert_eq!(row("ipc/call"), ["500", "450", "-10.0%"], "{t}");
        assert_eq!(row("ipc/yield"), ["300", "300", "+0.0%"], "{t}");
        assert_eq!(
            now.iter().map(Record::test_name).collect::<Vec<_>>(),
            [
                "cancel_threads_10",
                "cancel_threads_1000",
                "ipc_call",
                "ipc_yield"
            ]
        );
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
