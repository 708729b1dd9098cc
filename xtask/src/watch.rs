//! `cargo xtask run --exit-on TEXT --fail-on TEXT --timeout SECS`: boot,
//! echo the serial console, and stop QEMU as soon as one of the texts is
//! printed (or at the timeout), so that a script can run a root task that
//! never powers the machine off (sel4test ends with "All is well in the
//! universe" and then idles for ever).
//!
//! The output is watched as a byte stream, not as lines: a pipe read may
//! end anywhere, so [`Matcher`] keeps the end of what it has seen that
//! could still be the start of a text, and a text split across reads is
//! found all the same.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Which kind of text was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An `--exit-on` text: success.
    Exit,
    /// A `--fail-on` text: failure.
    Fail,
}

/// Finds the first of a set of texts in a byte stream fed in pieces.
#[derive(Debug)]
pub struct Matcher {
    texts: Vec<(Vec<u8>, Kind)>,
    /// The end of the stream so far, at most the longest text less one
    /// byte: every text that began there has not ended yet.
    tail: Vec<u8>,
    keep: usize,
}

impl Matcher {
    /// Empty texts are left out: they would match before any output.
    pub fn new<'a>(texts: impl IntoIterator<Item = (&'a str, Kind)>) -> Matcher {
        let texts: Vec<(Vec<u8>, Kind)> = texts
            .into_iter()
            .filter(|(t, _)| !t.is_empty())
            .map(|(t, k)| (t.as_bytes().to_vec(), k))
            .collect();
        let keep = texts.iter().map(|(t, _)| t.len()).max().unwrap_or(1) - 1;
        Matcher {
            texts,
            tail: Vec::new(),
            keep,
        }
    }

    /// Feeds the next piece of output. Returns the text that ends first in
    /// the stream (the earlier one when a piece completes two), if any.
    pub fn feed(&mut self, piece: &[u8]) -> Option<(&str, Kind)> {
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(piece);
        let mut best: Option<(usize, usize)> = None;
        for (i, (text, _)) in self.texts.iter().enumerate() {
            if let Some(at) = window.windows(text.len()).position(|w| w == text) {
                let end = at + text.len();
                if best.is_none_or(|(e, _)| end < e) {
                    best = Some((end, i));
                }
            }
        }
        let cut = window.len().saturating_sub(self.keep);
        self.tail = window.split_off(cut);
        let (_, i) = best?;
        let (text, kind) = &self.texts[i];
        // The texts came from &str, so this never fails.
        Some((std::str::from_utf8(text).unwrap_or(""), *kind))
    }
}

/// What `run --exit-on` watches for.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    pub exit_on: Vec<String>,
    pub fail_on: Vec<String>,
    pub timeout: Option<Duration>,
}

impl Watch {
    /// Whether any option asks for a watched run.
    pub fn is_set(&self) -> bool {
        !self.exit_on.is_empty() || !self.fail_on.is_empty() || self.timeout.is_some()
    }
}

/// How a watched run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A text was printed; QEMU was stopped.
    Seen(String, Kind),
    /// QEMU exited by itself with this status (`None`: killed by a signal).
    Exited(Option<i32>),
    /// The timeout passed; QEMU was stopped.
    TimedOut(Duration),
}

impl Verdict {
    /// The xtask's exit status: 0 on an `--exit-on` text, or on QEMU's own
    /// exit with status 0 when no `--exit-on` text was asked for.
    pub fn code(&self, watch: &Watch) -> i32 {
        match self {
            Verdict::Seen(_, Kind::Exit) => 0,
            Verdict::Seen(_, Kind::Fail) | Verdict::TimedOut(_) => 1,
            Verdict::Exited(Some(c)) if watch.exit_on.is_empty() => *c,
            Verdict::Exited(_) => 1,
        }
    }

    /// One line for stderr saying why the run ended.
    pub fn describe(&self, watch: &Watch) -> String {
        match self {
            Verdict::Seen(t, Kind::Exit) => format!("xtask: saw \"{t}\"; QEMU stopped"),
            Verdict::Seen(t, Kind::Fail) => format!("xtask: saw \"{t}\" (--fail-on); QEMU stopped"),
            Verdict::TimedOut(d) => {
                format!("xtask: timed out after {} s; QEMU stopped", d.as_secs())
            }
            Verdict::Exited(c) => {
                let how = c.map_or("killed by a signal".into(), |c| format!("exited with {c}"));
                if watch.exit_on.is_empty() {
                    format!("xtask: QEMU {how}")
                } else {
                    format!("xtask: QEMU {how} before any --exit-on text")
                }
            }
        }
    }
}

/// Input typed into the run once `after` has been printed (QEMU's serial
/// console is its stdin), as an unattended `cargo xtask run` does.
pub struct Typed<'a> {
    pub after: &'a str,
    pub send: &'a str,
}

/// Runs `cmd` (QEMU) with its output echoed to our stdout as it comes and
/// watched. Stdin is never the terminal, so killing QEMU leaves the
/// terminal as it was; QEMU is our direct child and starts nothing, so
/// killing it is enough.
pub fn run(
    mut cmd: Command,
    watch: &Watch,
    typed: Option<Typed>,
    echo: bool,
) -> Result<Verdict, String> {
    let (mut reader, writer) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
    let writer2 = writer.try_clone().map_err(|e| format!("pipe: {e}"))?;
    cmd.stdin(if typed.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(writer)
    .stderr(writer2);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    // Our copies of the pipe's write end must go, or we never see EOF.
    drop(cmd);

    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if echo {
                        let mut out = std::io::stdout().lock();
                        let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
                    }
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
        // Dropping `tx` tells the watcher the output has ended.
    });

    let texts = watch
        .exit_on
        .iter()
        .map(|t| (t.as_str(), Kind::Exit))
        .chain(watch.fail_on.iter().map(|t| (t.as_str(), Kind::Fail)));
    let mut matcher = Matcher::new(texts);
    let mut trigger = typed
        .as_ref()
        .map(|t| Matcher::new([(t.after, Kind::Exit)]));
    let deadline = watch.timeout.map(|t| started + t);
    let verdict = loop {
        let piece = match deadline {
            Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match piece {
            Ok(piece) => {
                if let Some((text, kind)) = matcher.feed(&piece) {
                    break Verdict::Seen(text.to_string(), kind);
                }
                if let (Some(m), Some(t)) = (trigger.as_mut(), typed.as_ref()) {
                    if m.feed(&piece).is_some() {
                        if let Some(stdin) = child.stdin.as_mut() {
                            // A failed write shows as missing output.
                            let _ = stdin
                                .write_all(t.send.as_bytes())
                                .and_then(|()| stdin.flush());
                        }
                        child.stdin = None;
                        trigger = None;
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                break Verdict::TimedOut(watch.timeout.unwrap_or_default())
            }
            Err(RecvTimeoutError::Disconnected) => {
                // Output closed: wait for the exit, still under the deadline.
                break wait_exit(&mut child, deadline, watch.timeout)?;
            }
        }
    };
    if !matches!(verdict, Verdict::Exited(_)) {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(verdict)
}

fn wait_exit(
    child: &mut std::process::Child,
    deadline: Option<Instant>,
    timeout: Option<Duration>,
) -> Result<Verdict, String> {
    loop {
        if let Some(s) = child.try_wait().map_err(|e| format!("wait: {e}"))? {
            return Ok(Verdict::Exited(s.code()));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Verdict::TimedOut(timeout.unwrap_or_default()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> Matcher {
        Matcher::new([
            ("All is well in the universe", Kind::Exit),
            ("Test suite failed", Kind::Fail),
        ])
    }

    #[test]
    fn a_text_in_one_piece_is_found() {
        let mut m = matcher();
        assert_eq!(m.feed(b"booting\n"), None);
        assert_eq!(
            m.feed(b"All is well in the universe\n"),
            Some(("All is well in the universe", Kind::Exit))
        );
    }

    #[test]
    fn a_text_split_across_reads_is_found() {
        let text = b"xx All is well in the universe\r\n";
        // Every way of cutting it in two, and byte by byte.
        for cut in 0..text.len() {
            let mut m = matcher();
            let first = m.feed(&text[..cut]).map(|(_, k)| k);
            let second = m.feed(&text[cut..]).map(|(_, k)| k);
            assert_eq!(first.or(second), Some(Kind::Exit), "cut at {cut}");
        }
        let mut m = matcher();
        let hits: Vec<_> = text
            .iter()
            .filter_map(|b| m.feed(&[*b]).map(|(_, k)| k))
            .collect();
        assert_eq!(hits, [Kind::Exit]);
    }

    #[test]
    fn a_near_miss_is_not_a_match() {
        let mut m = matcher();
        assert_eq!(m.feed(b"All is well in the univers"), None);
        assert_eq!(
            m.feed(b"e!"),
            Some(("All is well in the universe", Kind::Exit))
        );
        let mut m = matcher();
        assert_eq!(m.feed(b"All is well in the "), None);
        assert_eq!(m.feed(b"\nuniverse"), None);
        assert_eq!(m.feed(b"Test suite passed"), None);
    }

    #[test]
    fn the_text_that_ends_first_wins() {
        let mut m = matcher();
        assert_eq!(
            m.feed(b"Test suite failed. 1 tests failed.\nAll is well in the universe"),
            Some(("Test suite failed", Kind::Fail))
        );
        let mut m = matcher();
        assert_eq!(m.feed(b"Test suite fai"), None);
        assert_eq!(
            m.feed(b"led\nAll is well in the universe"),
            Some(("Test suite failed", Kind::Fail))
        );
    }

    #[test]
    fn empty_texts_never_match() {
        let mut m = Matcher::new([("", Kind::Exit)]);
        assert_eq!(m.feed(b"anything"), None);
        assert_eq!(m.feed(b""), None);
    }

    #[test]
    fn the_tail_stays_shorter_than_the_longest_text() {
        let mut m = matcher();
        for _ in 0..1000 {
            assert_eq!(m.feed(&[b'a'; 4096]), None);
        }
        assert_eq!(m.tail.len(), "All is well in the universe".len() - 1);
    }

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    fn watch(exit: &[&str], fail: &[&str], secs: Option<u64>) -> Watch {
        Watch {
            exit_on: exit.iter().map(|s| s.to_string()).collect(),
            fail_on: fail.iter().map(|s| s.to_string()).collect(),
            timeout: secs.map(Duration::from_secs),
        }
    }

    #[test]
    fn the_exit_text_stops_a_child_that_would_run_on() {
        let t = Instant::now();
        let w = watch(&["All is well"], &["failed"], Some(60));
        let v = run(
            sh("printf 'All is '; sleep 0.2; echo 'well'; exec sleep 100"),
            &w,
            None,
            false,
        )
        .unwrap();
        assert_eq!(v, Verdict::Seen("All is well".into(), Kind::Exit));
        assert_eq!(v.code(&w), 0);
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "took {:?}",
            t.elapsed()
        );
    }

    #[test]
    fn the_fail_text_and_the_timeout_exit_non_zero() {
        let w = watch(&["All is well"], &["failed"], Some(60));
        let v = run(
            sh("echo 'Test suite failed'; exec sleep 100"),
            &w,
            None,
            false,
        )
        .unwrap();
        assert_eq!(v, Verdict::Seen("failed".into(), Kind::Fail));
        assert_eq!(v.code(&w), 1);

        let w = watch(&["All is well"], &[], Some(1));
        let v = run(sh("echo starting; exec sleep 100"), &w, None, false).unwrap();
        assert_eq!(v, Verdict::TimedOut(Duration::from_secs(1)));
        assert_eq!(v.code(&w), 1);
    }

    #[test]
    fn an_exit_without_the_text_fails_unless_none_was_asked_for() {
        let w = watch(&["All is well"], &[], Some(60));
        let v = run(sh("echo nothing; exit 0"), &w, None, false).unwrap();
        assert_eq!(v, Verdict::Exited(Some(0)));
        assert_eq!(v.code(&w), 1);
        let w = watch(&[], &["failed"], Some(60));
        let v = run(sh("exit 3"), &w, None, false).unwrap();
        assert_eq!(v.code(&w), 3);
    }

    #[test]
    fn input_is_typed_after_its_trigger() {
        let w = watch(&["got typed"], &[], Some(60));
        let typed = Typed {
            after: "type a line",
            send: "typed\n",
        };
        let v = run(
            sh("echo 'type a line'; read x; echo got $x; exec sleep 100"),
            &w,
            Some(typed),
            false,
        );
        assert_eq!(v.unwrap(), Verdict::Seen("got typed".into(), Kind::Exit));
    }
}
