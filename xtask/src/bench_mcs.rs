//! `cargo xtask bench --config mcs=on` (issue 12, "Figures"): the MCS
//! kernel's figures, checked against their bounds by the QEMU image
//! `bench-mcs`, and printed beside the classic kernel's.
//!
//! The benchmark root task built against the MCS user library
//! (`user/bench`, `cfg(sel4_mcs)`) names its records `mcs-ipc` and
//! `mcs-sel4bench` (written to `target/bench/mcs-*.json`, beside the
//! classic `ipc.json` and `sel4bench.json`). Its round trips' servers
//! are passive (each Call lends the client's SchedContext, each reply
//! gives it back: the MCS fastpath's case); it adds a round trip with a
//! server on its own SchedContext, a signal to a passive thread woken on
//! its notification's SchedContext, `SchedContext_Consumed` and the
//! timeout-fault round trip (`user/bench/src/timeout.rs`); the revoke
//! and cancel cases and the `lib-*` round trips are classic only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::figures::Record;
use crate::harness::TestResult;
use crate::qemu::Captured;

/// The MCS-only cases (`--profile` accepts them with `--config mcs=on`).
pub const CASES: [&str; 3] = [
    "call-reply-recv-0-same-as-active",
    "signal-passive",
    "sched-context-consumed",
];

/// Upper bounds of the MCS figures (`<record>/<op>`: the median of an
/// `mcs-ipc` case, the minimum of an `mcs-sel4bench` one), about 3 %
/// above those measured on 2026-12-06 with the MCS fastpath
/// (docs/benchmarks.md, "The MCS kernel"); five raised on 2026-12-07 to
/// ~3 % above their figures with the MCS time work (timeout faults, the
/// budget check at every kernel entry, refill checks on IPC wake-ups:
/// null syscall 286 → 303, the 10-word and active-server round trips and
/// the 10-word ReplyRecvs +46..64), none of which the fastpath runs; nine
/// raised on 2026-12-07 after the merges of the MCS queue order and the
/// code-size work: the MCS fastpath's ReplyRecv costs ~17 more (0-word
/// one way 273 → 290, round trip 478 → 503; its empty-queue append was
/// made constant, which took back 5), cause not yet found (profile with
/// `cargo xtask bench --profile call-reply-recv-0-same-as --config
/// mcs=on`); nine lowered on 2026-12-07 to ~3 % above their figures
/// when the fastpath ReplyRecv stopped calling the queue append out of
/// line and took the reply cap's lookup in one step for a CSpace of one
/// level (0-word one way 290 → 255, round trip 503 → 468), and the
/// timeout-fault round trip added (4 723, delivery 1 689).
/// Twenty-eight lowered on 2026-12-07 to ~3 % above their figures after
/// the MCS entry and scheduler work (the budget check inline, the
/// round-robin charge on two refills, the head refill read from two
/// header words, no second admission in possible_switch_to): every
/// general-path row (IRQ to handler 987 → 698, null syscall 303 → 239,
/// the 10-word Call/ReplyRecv 1176/1585 → 1001/1380) and the memory
/// rows, whose every system call passes the entry check.
/// The timeout-fault pair lowered on 2026-12-07 to ~3 % above their
/// figures on main with both changes merged (4 723 → 4 240, delivery
/// 1 689 → 1 571: the cheaper charge and budget check). Fifteen lowered
/// on 2026-12-07 to ~3 % above their figures with every fastpath lookup
/// in one step in a CSpace of one level and the MCS ReplyRecv saving
/// five registers (0-word ReplyRecv one way 255 → 242, round trip
/// 468 → 450, active-server round trip 2 442 → 2 422). Ten lowered on
/// 2026-12-07 to ~3 % above their figures after the MCS slow IPC path
/// work (ReplyRecv's send phase to a reply object without the invocation
/// machinery and without a second reply lookup, the MCS Call's invocation
/// inlined): the 10-word Call/ReplyRecv 992/1 369 → 958/967, their round
/// trip 2 382 → 1 926, the active-server round trip, Send to a
/// higher-priority waiter, broadcast, producer/consumer (docs/benchmarks.md,
/// "The MCS slow IPC path"). Five lowered on 2026-12-07 to ~3 % above
/// their figures with the scheduler's checks as seL4's (docs/mcs.md,
/// "What the scheduler checks"; docs/benchmarks.md, "IRQ to its handler
/// within 1.5×"): IRQ to handler 698 → 594, null syscall 239 → 226,
/// yield 629 → 558, signal to a higher-priority waiter 804 → 700, to a
/// passive one 841 → 782. Sixteen lowered on 2026-12-07 to ~3 % above
/// their figures with the scheduler's cheaper choice and wake-up on a lent
/// context (docs/benchmarks.md, "The MCS scheduler's choice"): 10-word
/// Call/ReplyRecv 949/955 → 889/895, round trip 1 905 → 1 785, yield
/// 559 → 517. Twelve lowered again on the merge of both 2026-12-07
/// branches (the entry's one clock read and the scheduler's choice
/// together): 10-word Call/ReplyRecv 845/835, round trip 1 681, yield
/// 475. Thirty-one lowered on 2026-12-07 to ~3 % above their figures
/// with linker relaxation (a call is one `jal`; 10-word Call 845 → 836).
/// Every figure that fell lowered on 2026-12-07 to ~3 % above it with
/// the kernel's gp (yield 495 → 472, 10-word Call 780 → 769).
/// Eighteen lowered on 2026-12-07 to ~3 % above their figures with the
/// MCS scheduler's leaves (docs/benchmarks.md, "The MCS scheduler's
/// leaves"; and `call_stack::pop` without a frame): 10-word
/// Call/ReplyRecv 780/772 → 759/746, round trip 1 553 → 1 506, null
/// syscall 209 → 191, `Consumed` 744 → 726, the page and frame rows
/// ~2 %.
/// Two lowered on 2026-12-07 with the leaf's switch to a recent address
/// space (docs/mcs.md, "The switch of address space in the leaf"):
/// 10-word Call/ReplyRecv across address spaces 777/760 → 754/737.
/// The 10-word Calls and the page rows lowered again on
/// 2026-12-07 with the rare invocations out of line (branch
/// `size-inv`: 10-word Call 746 → 738, map 662 → 650).
/// Nine lowered on 2026-12-07 (branch `size-ipc`: the fault
/// message and the reply's deletion out of the transfer's path): 10-word
/// Call/ReplyRecv 746/729 → 730/714, timeout fault 3 845 → 3 831.
/// Seven lowered to ~3 % above the figures of the three branches merged
/// (`cargo xtask bench --config mcs=on` on main, 2026-12-07 late): 10-word
/// Call 722, across address spaces 730/722, producer/consumer 1 116/1 114,
/// signal to a passive thread 685, `Consumed` 715.
/// A regression
/// fails `cargo xtask test` (image `bench-mcs`); loosen one only in a
/// commit that says why.
pub const LIMITS: [(&str, u64); 45] = [
    ("mcs-ipc/null-syscall", 192),
    ("mcs-ipc/yield", 487),
    ("mcs-ipc/call-reply-recv-0-same-as", 463),
    ("mcs-ipc/call-reply-recv-4-same-as", 492),
    ("mcs-ipc/call-reply-recv-10-same-as", 1470),
    ("mcs-ipc/call-reply-recv-0-same-as-active", 1702),
    ("mcs-ipc/call-reply-recv-0-cross-as", 479),
    ("mcs-ipc/call-reply-recv-4-cross-as", 508),
    ("mcs-ipc/signal-higher-prio", 643),
    ("mcs-ipc/signal-passive", 706),
    ("mcs-ipc/sched-context-consumed", 737),
    ("mcs-ipc/timeout-fault", 3946),
    ("mcs-ipc/timeout-fault-delivery", 1395),
    ("mcs-ipc/irq-to-handler", 565),
    ("mcs-sel4bench/call-0-same-as", 213),
    ("mcs-sel4bench/replyrecv-0-same-as", 249),
    ("mcs-sel4bench/call-4-same-as", 227),
    ("mcs-sel4bench/replyrecv-4-same-as", 263),
    ("mcs-sel4bench/call-10-same-as", 744),
    ("mcs-sel4bench/replyrecv-10-same-as", 725),
    ("mcs-sel4bench/call-0-cross-as", 221),
    ("mcs-sel4bench/replyrecv-0-cross-as", 257),
    ("mcs-sel4bench/call-4-cross-as", 235),
    ("mcs-sel4bench/replyrecv-4-cross-as", 271),
    ("mcs-sel4bench/call-10-cross-as", 752),
    ("mcs-sel4bench/replyrecv-10-cross-as", 733),
    ("mcs-sel4bench/call-0-same-as-fpu", 213),
    ("mcs-sel4bench/replyrecv-0-same-as-fpu", 249),
    ("mcs-sel4bench/send-0-higher-prio", 802),
    ("mcs-sel4bench/broadcast", 1125),
    ("mcs-sel4bench/producer-to-consumer", 1150),
    ("mcs-sel4bench/consumer-to-producer", 1148),
    ("mcs-sel4bench/prepare-page-tables-2048", 2_784_276),
    ("mcs-sel4bench/retype-frames-512", 418_763),
    ("mcs-sel4bench/retype-frames-2048", 1_675_490),
    ("mcs-sel4bench/retype-frames-1", 818),
    ("mcs-sel4bench/map-pages-512", 342_784),
    ("mcs-sel4bench/map-pages-2048", 1_371_136),
    ("mcs-sel4bench/map-pages-1", 670),
    ("mcs-sel4bench/protect-pages-512", 348_058),
    ("mcs-sel4bench/protect-pages-2048", 1_392_230),
    ("mcs-sel4bench/protect-pages-1", 680),
    ("mcs-sel4bench/unprotect-pages-512", 348_058),
    ("mcs-sel4bench/unprotect-pages-2048", 1_392_786),
    ("mcs-sel4bench/unprotect-pages-1", 680),
];

/// The classic case an MCS case stands beside (its own name, except the
/// MCS-only ones).
fn classic_op(op: &str) -> &str {
    match op {
        "call-reply-recv-0-same-as-active" => "call-reply-recv-0-same-as",
        "signal-passive" => "signal-higher-prio",
        o => o,
    }
}

/// The goal for an MCS/classic ratio, where it sets one.
fn goal(op: &str) -> Option<f64> {
    let ipc = ["call-reply-recv-", "call-", "replyrecv-"];
    if op == "call-reply-recv-0-same-as-active" {
        return None;
    }
    if ipc.iter().any(|p| op.starts_with(p)) {
        return Some(1.1);
    }
    op.starts_with("irq-").then_some(1.5)
}

/// Checks one MCS record against its bound.
fn check(r: &Record) -> Result<(), String> {
    let op = r.op.as_deref().ok_or("no op= name")?;
    let n = r.get("iterations").ok_or("no iterations= figure")?;
    if r.get("total").is_none() && n < 1000 {
        return Err(format!("{n} iterations, at least 1000 wanted"));
    }
    let value = crate::figures::figure(r).ok_or("no total=, median= or min= figure")?;
    let key = format!("{}/{op}", r.name);
    let limit = LIMITS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .ok_or_else(|| format!("no bound for {key}"))?;
    if value > limit {
        return Err(format!("{value} instructions, limit {limit}"));
    }
    Ok(())
}

/// The test results of an MCS benchmark run: one per record, one per
/// failure the root task reported, and its end.
pub fn judge(image: &str, c: &Captured) -> Vec<TestResult> {
    let check = |r: &Record| {
        if r.name.starts_with("mcs-") {
            check(r)
        } else {
            Ok(())
        }
    };
    crate::figures::judge_run(image, c, check).1
}

/// The classic figures of the last `cargo xtask bench` in `dir`
/// (`ipc.json`, `sel4bench.json`), by `<record>/<op>`.
fn classic_figures(dir: &Path) -> BTreeMap<String, u64> {
    let mut all = BTreeMap::new();
    for name in ["ipc", "sel4bench"] {
        let path = dir.join(format!("{name}.json"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Ok(figures) = crate::figures::read_json(&text) {
                all.extend(figures);
            }
        }
    }
    all
}

/// The MCS figures beside the classic ones of the last classic run in
/// `dir`, with the ratio and the goal where it sets one.
pub fn versus_classic(records: &[Record], dir: &Path) -> String {
    let classic = classic_figures(dir);
    if classic.is_empty() {
        return "MCS versus classic: no classic figures in target/bench (run `cargo xtask bench` first)\n".into();
    }
    let mut s = format!(
        "{:<44} {:>10} {:>10} {:>7} {:>6}\n",
        "MCS versus classic", "MCS", "classic", "ratio", "goal"
    );
    for r in records {
        let (Some(group), Some(op), Some(v)) = (
            r.name.strip_prefix("mcs-"),
            r.op.as_deref(),
            crate::figures::figure(r),
        ) else {
            continue;
        };
        let Some(&c) = classic.get(&format!("{group}/{}", classic_op(op))) else {
            continue;
        };
        let ratio = v as f64 / c.max(1) as f64;
        let goal = goal(op).map_or_else(String::new, |g| format!("{g:.1}"));
        let _ = writeln!(
            s,
            "{:<44} {v:>10} {c:>10} {ratio:>7.2} {goal:>6}",
            format!("{group}/{op}")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qemu::Ending;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn mcs_records_are_bounded_and_a_missing_bound_fails() {
        let Some(&(key, limit)) = LIMITS.first() else {
            return;
        };
        let (group, op) = key.split_once('/').expect("group/op");
        let figure = if group == "mcs-ipc" { "median" } else { "min" };
        let run = |v: u64| {
            let text = format!(
                "bench {group} op={op} iterations=1000 median={v} min={v}\n\
                 bench {group} op=no-such-case iterations=1000 median=1 min=1\n\
                 cairn-bench: done\n"
            );
            judge(
                "b",
                &Captured {
                    lines: lines(&text),
                    ending: Ending::Exited(0),
                },
            )
        };
        let ok = run(limit);
        assert!(
            ok[0].line().ends_with("... ok"),
            "{} ({figure})",
            ok[0].line()
        );
        assert!(
            ok[1].line().contains("FAILED: no bound"),
            "{}",
            ok[1].line()
        );
        let slow = run(limit + 1);
        assert!(slow[0].line().contains("FAILED"), "{}", slow[0].line());
    }

    #[test]
    fn every_mcs_case_beside_its_classic_one() {
        let dir = std::env::temp_dir().join(format!("mcs-fast-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ipc.json"),
            "{\"ipc\": [{\"op\": \"call-reply-recv-0-same-as\", \"median\": 400, \"min\": 400}]}",
        )
        .unwrap();
        let (records, _) = crate::figures::parse(&lines(
            "bench mcs-ipc op=call-reply-recv-0-same-as iterations=1000 median=420 min=420\n\
             bench mcs-ipc op=call-reply-recv-0-same-as-active iterations=1000 median=900 min=900\n",
        ));
        let t = versus_classic(&records, &dir);
        assert!(
            t.contains("ipc/call-reply-recv-0-same-as") && t.contains("1.05"),
            "{t}"
        );
        assert!(t.contains("2.25"), "{t}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(versus_classic(&records, &dir).contains("no classic figures"));
    }
}
