//! The isolation suite's verdict (`user/isolation`, docs/isolation.md):
//! its summary line `isolation: N attempts, E escapes` must say 0 escapes
//! after at least [`MIN_ATTEMPTS`] attempts, and no line may report an
//! escape.

use crate::harness::TestResult;
use crate::qemu::Captured;

/// The root task's package (and binary) name in `user/`.
pub const ISOLATION: &str = "cairn-isolation";

/// Fewer attempts than this means the hostile stopped early.
pub const MIN_ATTEMPTS: u64 = 25_000;

/// The summary's figures: (attempts, escapes).
fn summary(line: &str) -> Option<(u64, u64)> {
    let rest = line.split("isolation: ").nth(1)?;
    let (attempts, rest) = rest.split_once(" attempts, ")?;
    let escapes = rest.strip_suffix(" escapes")?;
    Some((attempts.trim().parse().ok()?, escapes.trim().parse().ok()?))
}

/// The self-test's figures: (planted, detected).
fn self_test(line: &str) -> Option<(u64, u64)> {
    let rest = line.split("isolation: self-test: ").nth(1)?;
    let (planted, rest) = rest.split_once(" planted, ")?;
    let detected = rest.strip_suffix(" detected")?;
    Some((planted.trim().parse().ok()?, detected.trim().parse().ok()?))
}

/// One result, `<image>::summary`.
pub fn judge(image: &str, c: &Captured) -> Vec<TestResult> {
    vec![result(image, verdict(&c.lines))]
}

/// The MCS image (`isolation-mcs`): the summary as [`judge`]'s, and
/// `<image>::mcs`: no attack answered unlike seL4, and the temporal
/// checks ran (their failures are escapes, so the summary counts them).
pub fn judge_mcs(image: &str, c: &Captured) -> Vec<TestResult> {
    vec![
        result(image, verdict(&c.lines)),
        match verdict_mcs(&c.lines) {
            Ok(()) => TestResult::ok(format!("{image}::mcs")),
            Err(why) => TestResult::failed(format!("{image}::mcs"), why),
        },
    ]
}

fn result(image: &str, v: Result<(), String>) -> TestResult {
    match v {
        Ok(()) => TestResult::ok(format!("{image}::summary")),
        Err(why) => TestResult::failed(format!("{image}::summary"), why),
    }
}

fn verdict_mcs(lines: &[String]) -> Result<(), String> {
    if let Some(wrong) = lines.iter().find(|l| l.contains("isolation: WRONG")) {
        return Err(wrong.clone());
    }
    let attacks = lines
        .iter()
        .find(|l| l.contains("isolation: mcs: "))
        .ok_or("no `isolation: mcs: ...` line")?;
    if !attacks.ends_with(" 0 answers unlike seL4's") {
        return Err(attacks.clone());
    }
    let temporal = lines
        .iter()
        .filter(|l| l.contains("isolation: temporal: "))
        .count();
    if temporal < 2 {
        return Err(format!("{temporal} `isolation: temporal:` lines, not 2"));
    }
    Ok(())
}

fn verdict(lines: &[String]) -> Result<(), String> {
    let escapes: Vec<&String> = lines.iter().filter(|l| l.contains("ESCAPE")).collect();
    if let Some(first) = escapes.first() {
        return Err(format!(
            "{} escape lines, the first: {first}",
            escapes.len()
        ));
    }
    let (attempts, escaped) = lines
        .iter()
        .find_map(|l| summary(l))
        .ok_or("no `isolation: N attempts, E escapes` line")?;
    if escaped != 0 {
        return Err(format!("{escaped} escapes in {attempts} attempts"));
    }
    if attempts < MIN_ATTEMPTS {
        return Err(format!(
            "only {attempts} attempts (at least {MIN_ATTEMPTS})"
        ));
    }
    // The checks must have caught every violation the monitor planted.
    let (planted, detected) = lines
        .iter()
        .find_map(|l| self_test(l))
        .ok_or("no `isolation: self-test: N planted, M detected` line")?;
    if planted == 0 || detected != planted {
        return Err(format!(
            "self-test: {detected} of {planted} planted violations detected"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn zero_escapes_above_the_floor_pass() {
        let ok = lines(&[
            "isolation: start",
            "isolation: 29000 attempts, 0 escapes",
            "isolation: self-test: 4 planted, 4 detected",
        ]);
        assert_eq!(verdict(&ok), Ok(()));
        let blind = lines(&[
            "isolation: 29000 attempts, 0 escapes",
            "isolation: self-test: 4 planted, 3 detected",
        ]);
        assert!(verdict(&blind).unwrap_err().contains("3 of 4"));
    }

    #[test]
    fn escapes_few_attempts_or_no_summary_fail() {
        let bad = lines(&["isolation: 29000 attempts, 1 escapes"]);
        assert!(verdict(&bad).unwrap_err().contains("1 escapes"));
        let few = lines(&["isolation: 10 attempts, 0 escapes"]);
        assert!(verdict(&few).unwrap_err().contains("only 10"));
        let line = lines(&[
            "isolation: ESCAPE: x",
            "isolation: 29000 attempts, 0 escapes",
        ]);
        assert!(verdict(&line).unwrap_err().contains("ESCAPE: x"));
        assert!(verdict(&lines(&["isolation: start"])).is_err());
    }

    #[test]
    fn mcs_needs_every_answer_right_and_the_time_checked() {
        let ok = lines(&[
            "isolation: mcs: 40 attacks (budget 4), 0 answers unlike seL4's",
            "isolation: temporal: periodic victim ...",
            "isolation: temporal: hostile ...",
        ]);
        assert_eq!(verdict_mcs(&ok), Ok(()));
        let mut wrong = ok.clone();
        wrong[0] = "isolation: mcs: 40 attacks (budget 4), 1 answers unlike seL4's".into();
        assert!(verdict_mcs(&wrong).unwrap_err().contains("1 answers"));
        let mut line = ok.clone();
        line.push("isolation: WRONG answer at attempt 7: 3, seL4 gives 0".into());
        assert!(verdict_mcs(&line).unwrap_err().contains("attempt 7"));
        assert!(verdict_mcs(&ok[..2]).unwrap_err().contains("1 `isolation"));
    }
}
