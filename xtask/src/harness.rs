//! Turning output into test results: the conformance protocol, the other
//! images' expectations, cargo's test output, and the closing summary.
//!
//! Conformance protocol (printed by the conformance root task on the kernel
//! console): one line per test, `test <name> ... ok` or
//! `test <name> ... FAILED: <reason>`, then `conformance: N passed, M failed`.
//! Before its result line a test may print `expect console: <text>`: the
//! test then fails unless a later line of its output, before its result
//! line, contains `<text>`. That is how a test checks what the kernel
//! prints (the root task cannot read the console itself).
//! Pure functions over captured lines, so everything here is unit-tested.

use crate::qemu::{Captured, Ending};

/// Lines of output shown with a timeout.
pub const TAIL_LINES: usize = 20;

/// The outcome of one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed(String),
    Ignored,
}

/// One named result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestResult {
    pub name: String,
    pub outcome: Outcome,
}

impl TestResult {
    pub fn ok(name: impl Into<String>) -> TestResult {
        TestResult {
            name: name.into(),
            outcome: Outcome::Ok,
        }
    }

    pub fn failed(name: impl Into<String>, why: impl Into<String>) -> TestResult {
        TestResult {
            name: name.into(),
            outcome: Outcome::Failed(why.into()),
        }
    }

    /// `test <name> ... ok`, or `... FAILED: <reason>` with any further
    /// lines of the reason indented below.
    pub fn line(&self) -> String {
        match &self.outcome {
            Outcome::Ok => format!("test {} ... ok", self.name),
            Outcome::Ignored => format!("test {} ... ignored", self.name),
            Outcome::Failed(why) => {
                let mut lines = why.lines();
                let mut s = format!(
                    "test {} ... FAILED: {}",
                    self.name,
                    lines.next().unwrap_or("")
                );
                for l in lines {
                    s.push_str("\n    ");
                    s.push_str(l);
                }
                s
            }
        }
    }
}

/// Counts of results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub ignored: usize,
}

impl Summary {
    pub fn add(&mut self, r: &TestResult) {
        match r.outcome {
            Outcome::Ok => self.passed += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Ignored => self.ignored += 1,
        }
    }

    /// The closing line: exactly `N passed, M failed`.
    pub fn line(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }
}

/// Parses `test <name> ... <result>` (cargo's and the conformance suite's
/// format). An unknown result is a failure, not silently skipped.
pub fn parse_test_line(line: &str) -> Option<(String, Outcome)> {
    let (name, result) = line.trim().strip_prefix("test ")?.split_once(" ... ")?;
    let outcome = match result.trim() {
        "ok" => Outcome::Ok,
        "FAILED" => Outcome::Failed("failed".into()),
        r if r.starts_with("FAILED:") => Outcome::Failed(r["FAILED:".len()..].trim().into()),
        r if r.starts_with("ignored") => Outcome::Ignored,
        r => Outcome::Failed(format!("unrecognised result {r:?}")),
    };
    Some((name.trim().to_string(), outcome))
}

/// The line a conformance test prints to require a console line containing
/// the text after it (see the module doc).
pub const EXPECT_CONSOLE: &str = "expect console: ";

/// The `expect console:` requests that no line met: `(test name, text)`,
/// in order. A request is met by a line after it and before the result
/// line of the test that made it (other requests excepted); a request with
/// no result line after it is not judged (the run is incomplete anyway).
pub fn unmet_console_expectations(lines: &[String]) -> Vec<(String, String)> {
    let mut pending: Vec<&str> = Vec::new();
    let mut unmet = Vec::new();
    for line in lines {
        let l = line.trim();
        if l.starts_with("start ") {
            pending.clear();
        } else if let Some(text) = l.strip_prefix(EXPECT_CONSOLE) {
            pending.push(text);
        } else if let Some((name, _)) = parse_test_line(l) {
            unmet.extend(pending.drain(..).map(|t| (name.clone(), t.to_string())));
        } else {
            pending.retain(|t| !l.contains(t));
        }
    }
    unmet
}

/// Parses `conformance: N passed, M failed` into `(N, M)`.
pub fn parse_closing_line(line: &str) -> Option<(usize, usize)> {
    let rest = line.trim().strip_prefix("conformance:")?;
    let mut parts = rest.split(',').map(str::trim);
    let passed = parts.next()?.strip_suffix(" passed")?.parse().ok()?;
    let failed = parts.next()?.strip_suffix(" failed")?.parse().ok()?;
    Some((passed, failed))
}

/// What a test image must do to pass.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// Print the conformance protocol with a consistent closing line, no
    /// kernel panic, and make QEMU exit 0.
    Conformance,
    /// Print a line containing this text, no kernel panic, QEMU exits 0.
    SuccessWith(&'static str),
    /// Print, for each of these texts, a line containing it (in any
    /// order), no kernel panic, QEMU exits 0.
    SuccessWithAll(&'static [&'static str]),
    /// Print a line containing this text and make QEMU exit non-zero before
    /// the timeout (a fast, clean refusal; a panic line is allowed).
    FailFastWith(&'static str),
    /// The benchmark protocol, judged by the given function (the images
    /// table names `bench::judge`, so that this module needs no benchmark
    /// knowledge), no kernel panic, QEMU exits 0.
    Bench(Judge),
}

/// A judge of a run's own result lines: `<image>::<test>` results.
pub type Judge = fn(&str, &Captured) -> Vec<TestResult>;

fn ending_problem(c: &Captured, want_zero: bool) -> Option<String> {
    match c.ending {
        Ending::TimedOut(t) => Some(format!(
            "timed out after {} s (QEMU killed); last {TAIL_LINES} lines of output:\n{}",
            t.as_secs(),
            c.tail(TAIL_LINES)
        )),
        Ending::Silent(t) => Some(format!(
            "no output for {} s, taken for a hang (QEMU killed); last {TAIL_LINES} lines of output:\n{}",
            t.as_secs(),
            c.tail(TAIL_LINES)
        )),
        Ending::Exited(0) if want_zero => None,
        Ending::Exited(code) if want_zero => Some(format!("QEMU exited with status {code}")),
        Ending::Exited(0) => Some("QEMU exited with status 0, a failure was expected".into()),
        Ending::Exited(_) => None,
        Ending::Signalled => Some("QEMU was killed by a signal".into()),
    }
}

fn panic_line(c: &Captured) -> Option<&str> {
    c.lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("KERNEL PANIC"))
}

/// Judges one image's run: the conformance suite's own lines (each a
/// result named `<image>::<test>`) and then one result named `<image>` for
/// the image as a whole.
pub fn evaluate(image: &str, expect: Expect, c: &Captured) -> Vec<TestResult> {
    let mut results = Vec::new();
    let mut problems = Vec::new();
    match expect {
        Expect::Conformance => {
            let (mut ok, mut failed, mut closing) = (0, 0, None);
            for line in &c.lines {
                if let Some((name, outcome)) = parse_test_line(line) {
                    match outcome {
                        Outcome::Ok => ok += 1,
                        Outcome::Failed(_) => failed += 1,
                        Outcome::Ignored => {}
                    }
                    results.push(TestResult {
                        name: format!("{image}::{name}"),
                        outcome,
                    });
                } else if let Some(counts) = parse_closing_line(line) {
                    closing = Some(counts);
                }
            }
            match closing {
                None => problems.push("no closing line `conformance: N passed, M failed`".to_string()),
                Some((n, m)) if (n, m) != (ok, failed) => problems.push(format!(
                    "closing line says {n} passed, {m} failed, but the test lines say {ok} passed, {failed} failed"
                )),
                Some(_) => {}
            }
            if results.is_empty() {
                problems.push("no test ran".into());
            }
            // After the closing-line check, which counts what the root
            // task itself reported.
            for (name, text) in unmet_console_expectations(&c.lines) {
                let why = format!("no console line contains {text:?}, which the test expected");
                let full = format!("{image}::{name}");
                if let Some(r) = results.iter_mut().find(|r| r.name == full) {
                    r.outcome = match &r.outcome {
                        Outcome::Failed(first) => Outcome::Failed(format!("{first}\n{why}")),
                        _ => Outcome::Failed(why),
                    };
                }
            }
        }
        Expect::Bench(judge) => results.extend(judge(image, c)),
        Expect::SuccessWithAll(texts) => {
            for text in texts {
                if !c.lines.iter().any(|l| l.contains(text)) {
                    problems.push(format!("no output line contains {text:?}"));
                }
            }
        }
        Expect::SuccessWith(text) | Expect::FailFastWith(text) => {
            if !c.lines.iter().any(|l| l.contains(text)) {
                problems.push(format!("no output line contains {text:?}"));
            }
        }
    }
    if !matches!(expect, Expect::FailFastWith(_)) {
        if let Some(p) = panic_line(c) {
            problems.push(format!("kernel panic: {p}"));
        }
    }
    if let Some(p) = ending_problem(c, !matches!(expect, Expect::FailFastWith(_))) {
        problems.push(p);
    }
    results.push(if problems.is_empty() {
        TestResult::ok(image)
    } else {
        TestResult::failed(image, problems.join("\n"))
    });
    results
}

/// Parses the output of `cargo test` into one result per test, named
/// `<prefix>::<test binary>::<test>`. Adds a failure when cargo's own
/// `test result:` totals disagree with the lines, or when cargo failed
/// without a failing test (a build error, a crashed test binary).
pub fn parse_cargo_test(prefix: &str, c: &Captured) -> Vec<TestResult> {
    let mut results = Vec::new();
    let mut binary = String::from("?");
    let (mut reported_ok, mut reported_failed) = (0usize, 0usize);
    for line in &c.lines {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Running ") {
            binary = binary_name(rest);
        } else if let Some(krate) = t.strip_prefix("Doc-tests ") {
            binary = format!("{}(doc)", krate.trim());
        } else if let Some(totals) = t.strip_prefix("test result: ") {
            for part in totals.split(';').map(str::trim) {
                let word = |w: &str| {
                    part.strip_suffix(w)
                        .and_then(|n| n.trim().rsplit(' ').next()?.parse::<usize>().ok())
                };
                reported_ok += word(" passed").unwrap_or(0);
                reported_failed += word(" failed").unwrap_or(0);
            }
        } else if let Some((name, outcome)) = parse_test_line(t) {
            results.push(TestResult {
                name: format!("{prefix}::{binary}::{name}"),
                outcome,
            });
        }
    }
    let mut s = Summary::default();
    results.iter().for_each(|r| s.add(r));
    if (s.passed, s.failed) != (reported_ok, reported_failed) {
        results.push(TestResult::failed(
            prefix,
            format!(
                "cargo reported {reported_ok} passed, {reported_failed} failed, but {} passed, {} failed were listed",
                s.passed, s.failed
            ),
        ));
    }
    let cargo_failed = !matches!(c.ending, Ending::Exited(0));
    if cargo_failed && s.failed == 0 {
        let why = match c.ending {
            Ending::Exited(code) => format!("cargo test exited with status {code}"),
            Ending::Signalled => "cargo test was killed by a signal".into(),
            Ending::TimedOut(t) => format!("cargo test timed out after {} s", t.as_secs()),
            Ending::Silent(t) => format!("cargo test printed nothing for {} s", t.as_secs()),
        };
        results.push(TestResult::failed(
            prefix,
            format!(
                "{why}; last {TAIL_LINES} lines of output:\n{}",
                c.tail(TAIL_LINES)
            ),
        ));
    }
    results
}

/// `unittests src/lib.rs (target/debug/deps/cairn_abi-0123abcd)` -> `cairn_abi`.
fn binary_name(running: &str) -> String {
    let inner = running
        .rsplit_once('(')
        .map_or(running, |(_, p)| p.trim_end_matches(')'));
    let file = inner.rsplit('/').next().unwrap_or(inner);
    match file.rsplit_once('-') {
        Some((stem, hash)) if !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            stem.to_string()
        }
        _ => file.to_string(),
    }
}

#[cfg(test)]
#[path = "harness_tests.rs"]
mod tests;
