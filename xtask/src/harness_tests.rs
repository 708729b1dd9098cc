//! Tests of the output parsing and judging in `harness`.

use super::*;
use crate::qemu::{run_captured, Captured, Ending, Limits};
use std::process::Command;
use std::time::Duration;

fn captured(text: &str, ending: Ending) -> Captured {
    Captured {
        lines: text.lines().map(String::from).collect(),
        ending,
    }
}

fn failure(r: &TestResult) -> &str {
    match &r.outcome {
        Outcome::Failed(why) => why,
        o => panic!("{} is {o:?}, expected a failure", r.name),
    }
}

const GOOD: &str = "\
OpenSBI v1.2
Cairn kernel booting
test boot_info_layout ... ok
test untyped_retype ... FAILED: expected error 3, got 0
test cnode_copy ... ok
conformance: 2 passed, 1 failed
";

#[test]
fn parses_test_lines() {
    assert_eq!(
        parse_test_line("test a::b ... ok"),
        Some(("a::b".into(), Outcome::Ok))
    );
    assert_eq!(
        parse_test_line("test x ... FAILED: wanted 1 ... got 2"),
        Some(("x".into(), Outcome::Failed("wanted 1 ... got 2".into())))
    );
    assert_eq!(
        parse_test_line("test x ... FAILED"),
        Some(("x".into(), Outcome::Failed("failed".into())))
    );
    assert_eq!(
        parse_test_line("test x ... ignored, slow"),
        Some(("x".into(), Outcome::Ignored))
    );
    assert!(
        matches!(parse_test_line("test x ... bogus"), Some((_, Outcome::Failed(w))) if w.contains("bogus"))
    );
    assert_eq!(parse_test_line("test result: ok. 3 passed; 0 failed"), None);
    assert_eq!(parse_test_line("booting test kernel"), None);
    assert_eq!(
        parse_closing_line("conformance: 12 passed, 0 failed"),
        Some((12, 0))
    );
    assert_eq!(parse_closing_line("conformance: 12 passed"), None);
}

#[test]
fn conformance_results_are_reported_one_by_one() {
    let r = evaluate(
        "conformance",
        Expect::Conformance,
        &captured(GOOD, Ending::Exited(0)),
    );
    let names: Vec<_> = r.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "conformance::boot_info_layout",
            "conformance::untyped_retype",
            "conformance::cnode_copy",
            "conformance"
        ]
    );
    assert_eq!(r[0].line(), "test conformance::boot_info_layout ... ok");
    assert_eq!(
        r[1].line(),
        "test conformance::untyped_retype ... FAILED: expected error 3, got 0"
    );
    assert_eq!(
        r[3].outcome,
        Outcome::Ok,
        "the closing line agrees and QEMU exited 0"
    );
}

#[test]
fn conformance_closing_line_must_exist_and_agree() {
    let no_closing = GOOD.replace("conformance: 2 passed, 1 failed\n", "");
    let r = evaluate(
        "c",
        Expect::Conformance,
        &captured(&no_closing, Ending::Exited(0)),
    );
    assert!(failure(r.last().unwrap()).contains("no closing line"));

    let wrong = GOOD.replace("2 passed, 1 failed", "3 passed, 0 failed");
    let r = evaluate(
        "c",
        Expect::Conformance,
        &captured(&wrong, Ending::Exited(0)),
    );
    assert!(failure(r.last().unwrap()).contains("closing line says 3 passed, 0 failed"));

    let r = evaluate(
        "c",
        Expect::Conformance,
        &captured("conformance: 0 passed, 0 failed", Ending::Exited(0)),
    );
    assert!(failure(r.last().unwrap()).contains("no test ran"));
}

#[test]
fn console_expectations_must_be_met_between_request_and_result() {
    let out = "\
start named
expect console: \"worker\" faulted
cairn: thread 0x8100 \"worker\" faulted at pc 0x0
test named ... ok
start early
cairn: DebugNameThread: cap is not a TCB; ignored
expect console: not a TCB
test early ... ok
start late
expect console: no IPC buffer
test late ... ok
cairn: DebugNameThread: caller has no IPC buffer; ignored
start failing
expect console: never printed
test failing ... FAILED: flag 0
conformance: 3 passed, 1 failed
";
    let r = evaluate("c", Expect::Conformance, &captured(out, Ending::Exited(0)));
    assert_eq!(r[0].outcome, Outcome::Ok, "met by the kernel's line");
    assert!(
        failure(&r[1]).contains("no console line contains \"not a TCB\""),
        "a line before the request does not count"
    );
    assert!(
        failure(&r[2]).contains("\"no IPC buffer\""),
        "a line after the result does not count"
    );
    let both = failure(&r[3]);
    assert!(both.starts_with("flag 0\n") && both.contains("\"never printed\""));
    assert_eq!(
        r[4].outcome,
        Outcome::Ok,
        "the closing line agrees with what the root task reported"
    );
    assert_eq!(
        unmet_console_expectations(&["expect console: x".into(), "test t ... ok".into()]),
        [("t".to_string(), "x".to_string())],
        "the request itself does not meet it"
    );
}

#[test]
fn panics_and_bad_exits_fail_the_image() {
    let panicked = format!("{GOOD}KERNEL PANIC: at kernel/src/boot/mod.rs:3: oops\n");
    let r = evaluate(
        "c",
        Expect::Conformance,
        &captured(&panicked, Ending::Exited(0)),
    );
    assert!(failure(r.last().unwrap()).contains("kernel panic: KERNEL PANIC: at kernel/src/boot"));

    let r = evaluate("c", Expect::Conformance, &captured(GOOD, Ending::Exited(1)));
    assert!(failure(r.last().unwrap()).contains("QEMU exited with status 1"));

    let demo = "cairn-demo: starting\ncairn-demo: done\n";
    let r = evaluate(
        "demo",
        Expect::SuccessWith("cairn-demo: done"),
        &captured(demo, Ending::Exited(0)),
    );
    assert_eq!(r, [TestResult::ok("demo")]);
    let r = evaluate(
        "demo",
        Expect::SuccessWith("cairn-demo: done"),
        &captured(demo, Ending::Exited(2)),
    );
    assert!(failure(&r[0]).contains("status 2"));
    let r = evaluate(
        "demo",
        Expect::SuccessWith("cairn-demo: done"),
        &captured("x", Ending::Exited(0)),
    );
    assert!(failure(&r[0]).contains("no output line contains \"cairn-demo: done\""));
}

#[test]
fn fail_fast_images_must_exit_non_zero_with_the_message() {
    let out = "KERNEL PANIC: no memory in the device tree\n";
    let e = Expect::FailFastWith("no memory");
    assert_eq!(
        evaluate("nomem", e, &captured(out, Ending::Exited(1))),
        [TestResult::ok("nomem")]
    );
    assert!(
        failure(&evaluate("nomem", e, &captured(out, Ending::Exited(0)))[0]).contains("expected")
    );
    assert!(
        failure(&evaluate("nomem", e, &captured("hang", Ending::Exited(1)))[0])
            .contains("no memory")
    );
    let hung = captured(out, Ending::TimedOut(Duration::from_secs(120)));
    assert!(failure(&evaluate("nomem", e, &hung)[0]).contains("timed out after 120 s"));
}

#[test]
fn timeout_is_a_failure_showing_the_output() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo hi; sleep 100"]);
    let c = run_captured(cmd, Limits::total(Duration::from_secs(1)), false).unwrap();
    let r = evaluate("slow", Expect::Conformance, &c);
    let why = failure(r.last().unwrap());
    assert!(why.contains("timed out after 1 s"), "{why}");
    assert!(why.contains("hi"), "{why}");
    assert!(
        r.last().unwrap().line().contains("\n    hi"),
        "the tail is shown indented"
    );
}

#[test]
fn the_tail_is_the_last_twenty_lines() {
    let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
    let c = captured(&text, Ending::TimedOut(Duration::from_secs(5)));
    let why = failure(&evaluate("x", Expect::SuccessWith("never"), &c)[0]).to_string();
    assert!(
        why.contains("line 11\n") && why.ends_with("line 30") && !why.contains("line 10\n"),
        "{why}"
    );
}

const CARGO: &str = "\
   Compiling cairn-abi v0.1.0 (/work/main/abi)
    Finished `test` profile [optimized + debuginfo] target(s) in 1.50s
     Running unittests src/lib.rs (target/debug/deps/cairn_abi-520bcba7b26d323f)

running 3 tests
test image::tests::round_trip ... ok
test image::tests::bad ... FAILED
test slow ... ignored

failures:

---- image::tests::bad stdout ----
thread 'image::tests::bad' panicked

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests cairn_abi

running 1 test
test abi/src/lib.rs - Word (line 3) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
";

#[test]
fn cargo_test_output_counts_each_test() {
    let r = parse_cargo_test("host", &captured(CARGO, Ending::Exited(101)));
    let lines: Vec<_> = r.iter().map(TestResult::line).collect();
    assert_eq!(
        lines,
        [
            "test host::cairn_abi::image::tests::round_trip ... ok",
            "test host::cairn_abi::image::tests::bad ... FAILED: failed",
            "test host::cairn_abi::slow ... ignored",
            "test host::cairn_abi(doc)::abi/src/lib.rs - Word (line 3) ... ok",
        ]
    );
    let mut s = Summary::default();
    r.iter().for_each(|r| s.add(r));
    assert_eq!(s.line(), "2 passed, 1 failed");
}

#[test]
fn cargo_failures_without_a_failing_test_are_reported() {
    let build_error =
        "error[E0425]: cannot find value `x`\nerror: could not compile `cairn-sel4`\n";
    let r = parse_cargo_test("user", &captured(build_error, Ending::Exited(101)));
    assert_eq!(r.len(), 1);
    assert!(
        failure(&r[0]).contains("exited with status 101")
            && failure(&r[0]).contains("could not compile")
    );

    let lying = "test a ... ok\ntest result: ok. 2 passed; 0 failed; 0 ignored\n";
    let r = parse_cargo_test("host", &captured(lying, Ending::Exited(0)));
    assert!(failure(r.last().unwrap()).contains("cargo reported 2 passed, 0 failed, but 1 passed"));
}

#[test]
fn success_with_all_needs_every_line() {
    let c = captured("a: one\nb: two\n", Ending::Exited(0));
    let all = Expect::SuccessWithAll(&["b: two", "a: one"]);
    assert!(matches!(evaluate("x", all, &c)[0].outcome, Outcome::Ok));
    let missing = Expect::SuccessWithAll(&["a: one", "c: three"]);
    let why = failure(&evaluate("x", missing, &c)[0]).to_string();
    assert!(
        why.contains("\"c: three\"") && !why.contains("a: one"),
        "{why}"
    );
}
