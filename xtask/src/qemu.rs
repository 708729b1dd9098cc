//! Running QEMU (and other commands) with captured output and a deadline.
//!
//! [`run_captured`] merges a child's stdout and stderr into one pipe (so
//! lines keep their order), reads it on a thread, and kills the child's
//! whole process group if the deadline passes. [`run_foreground`] runs with
//! the terminal attached, for `cargo xtask run`.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The QEMU binary.
pub const QEMU: &str = "qemu-system-riscv64";
/// Guest memory (also used when dumping the device tree, so that the
/// dumped tree describes the same machine).
const MEMORY: &str = "3072M";

/// The machine every image boots on: QEMU `virt`, one hart, OpenSBI in
/// M-mode jumping to the image at 0x80200000 in S-mode, console on stdio.
fn machine_args(machine: &str) -> Vec<String> {
    [
        "-machine",
        machine,
        "-cpu",
        "rv64",
        "-m",
        MEMORY,
        "-smp",
        "1",
        "-bios",
        "default",
        "-nographic",
    ]
    .map(String::from)
    .to_vec()
}

/// Extra QEMU arguments for deterministic figures: the virtual clock
/// advances one nanosecond per instruction, and `rdcycle` counts
/// instructions. The RTC (Goldfish, which `mcs-demo`'s timer is) runs on
/// that clock too, instead of the host's.
///
/// QEMU's default `sleep=on`: while the guest idles (`wfi`) the virtual
/// clock follows the host's, and a deadline that falls then is delivered
/// late by however long a loaded host kept QEMU waiting. The benchmarks
/// never idle; for an image whose timing is checked while every thread
/// waits, see [`ICOUNT_NO_SLEEP_ARGS`].
pub const ICOUNT_ARGS: [&str; 4] = ["-icount", "shift=0", "-rtc", "clock=vm"];

/// [`ICOUNT_ARGS`] with `sleep=off`: while the guest idles the virtual
/// clock jumps to the next timer deadline at once, so an idle kernel's
/// timer is on time whatever the host's load. The MCS isolation suite
/// needs it: with `sleep=on` it saw releases of its periodic thread 10 to
/// 86 ms late, only when every thread waited (docs/isolation.md, "Late
/// releases"); `system-control-mcs` uses it too. A guest that idles with
/// no timer deadline at all must not program `stimecmp = u64::MAX` under
/// it: QEMU 7.2 arms its timer at `INT64_MAX` ns, the idle warp jumps the
/// clock there and QEMU spins with its main loop locked out (the MCS
/// kernel's hang until 2026-12-07: docs/mcs.md, "The idle timer").
pub const ICOUNT_NO_SLEEP_ARGS: [&str; 4] = ["-icount", "shift=0,sleep=off", "-rtc", "clock=vm"];

/// The command that boots `image`, with `dtb` replacing QEMU's device tree.
pub fn boot_command(image: &Path, dtb: Option<&Path>) -> Command {
    let mut cmd = Command::new(QEMU);
    cmd.args(machine_args("virt")).arg("-kernel").arg(image);
    if let Some(dtb) = dtb {
        cmd.arg("-dtb").arg(dtb);
    }
    cmd
}

/// Writes QEMU's device tree of the boot machine (`virt` with the
/// standard `-cpu`, `-m` and `-smp`) to `out`.
pub fn dump_dtb(out: &Path) -> Result<(), String> {
    let machine = format!("virt,dumpdtb={}", out.display());
    let mut dump = Command::new(QEMU);
    dump.args(machine_args(&machine));
    check(dump, "dumping the QEMU device tree")
}

/// The boot machine as a command line, for the generated platform table's
/// comment (`platform::generate`).
pub fn machine_line() -> String {
    format!("{QEMU} {}", machine_args("virt").join(" "))
}

/// Writes a device tree of the boot machine without its memory node:
/// QEMU dumps its own tree, `fdtput -r` removes `/memory@80000000`.
pub fn dtb_without_memory(out: &Path) -> Result<(), String> {
    dump_dtb(out)?;
    let mut fdtput = Command::new("fdtput");
    fdtput.arg("-r").arg(out).arg("/memory@80000000");
    check(fdtput, "removing the memory node")
}

fn check(mut cmd: Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {} ({})",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// How a captured run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Exited with this status code.
    Exited(i32),
    /// Killed by a signal it did not expect.
    Signalled,
    /// Still running at the deadline, so we killed it.
    TimedOut(Duration),
    /// Printed nothing for this long, so we took it for hung and killed it
    /// (e.g. a root task that faulted with no fault handler: the kernel
    /// idles for ever).
    Silent(Duration),
}

/// How long a captured run may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The whole run.
    pub total: Duration,
    /// The longest stretch without a line of output.
    pub silence: Duration,
}

impl Limits {
    /// Only a total limit (a run may be silent until it).
    pub fn total(total: Duration) -> Limits {
        Limits {
            total,
            silence: total,
        }
    }
}

/// The output and ending of a captured run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// Output lines (stdout and stderr merged), without line terminators.
    pub lines: Vec<String>,
    pub ending: Ending,
}

impl Captured {
    /// The last `n` lines, joined.
    pub fn tail(&self, n: usize) -> String {
        self.lines[self.lines.len().saturating_sub(n)..].join("\n")
    }
}

/// The process group of the captured child, killed if we are interrupted.
static CHILD_GROUP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_interrupt(sig: libc::c_int) {
    let group = CHILD_GROUP.load(Ordering::SeqCst);
    // SAFETY: kill and _exit are async-signal-safe and have no memory
    // preconditions; a stale group id at worst names no process.
    unsafe {
        if group > 0 {
            libc::kill(-group, libc::SIGKILL);
        }
        libc::_exit(128 + sig);
    }
}

/// Input typed into a run (QEMU's serial console is its stdin): `send` is
/// written once a line of output contains `after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Input {
    pub after: &'static str,
    pub send: &'static str,
}

/// Runs `cmd` with stdin closed and its output captured (and echoed if
/// `echo`), killing its process group when it passes one of the `limits`.
pub fn run_captured(cmd: Command, limits: Limits, echo: bool) -> Result<Captured, String> {
    run_captured_with_input(cmd, limits, echo, None)
}

/// [`run_captured`], typing `input` (if any) into the child's stdin.
pub fn run_captured_with_input(
    mut cmd: Command,
    limits: Limits,
    echo: bool,
    input: Option<Input>,
) -> Result<Captured, String> {
    let (reader, writer) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
    let writer2 = writer.try_clone().map_err(|e| format!("pipe: {e}"))?;
    // The child gets its own process group so that a timeout kills it and
    // everything it started; we forward SIGINT/SIGTERM to that group since
    // the terminal no longer does.
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(writer)
    .stderr(writer2)
    .process_group(0);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    // Our copies of the pipe's write end must go, or we never see EOF.
    drop(cmd);
    let group = i32::try_from(child.id()).map_err(|_| "pid out of range".to_string())?;
    CHILD_GROUP.store(group, Ordering::SeqCst);
    // SAFETY: installing a handler that only calls async-signal-safe
    // functions (see `on_interrupt`).
    unsafe {
        let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }

    let (tx, rx) = mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        let mut r = BufReader::new(reader);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).to_string();
                    if echo {
                        println!("{line}");
                    }
                    if tx.send(Some(line)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(None);
    });

    let deadline = started + limits.total;
    let mut lines = Vec::new();
    let mut eof = false;
    let mut timed_out = false;
    let mut silent = false;
    while !eof {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.min(limits.silence)) {
            Ok(Some(line)) => {
                if let (Some(i), Some(stdin)) = (input, child.stdin.as_mut()) {
                    if line.contains(i.after) {
                        use std::io::Write;
                        // A failed write shows as missing output: the
                        // harness judges the output, not this.
                        let _ = stdin
                            .write_all(i.send.as_bytes())
                            .and_then(|()| stdin.flush());
                        child.stdin = None;
                    }
                }
                lines.push(line)
            }
            Ok(None) | Err(RecvTimeoutError::Disconnected) => eof = true,
            Err(RecvTimeoutError::Timeout) => {
                timed_out = true;
                silent = Instant::now() < deadline;
                break;
            }
        }
    }
    // Output closed; the child may still be running until the deadline.
    let mut status: Option<ExitStatus> = None;
    while !timed_out && status.is_none() {
        status = child.try_wait().map_err(|e| format!("wait: {e}"))?;
        if status.is_none() {
            if Instant::now() >= deadline {
                timed_out = true;
            } else {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    if timed_out {
        // SAFETY: kill has no memory preconditions; the group is our child's.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = child.wait();
        // Whatever was printed before the kill (bounded: the writers are dead).
        while let Ok(Some(line)) = rx.recv_timeout(Duration::from_millis(500)) {
            lines.push(line);
        }
    }
    CHILD_GROUP.store(0, Ordering::SeqCst);
    let ending = match status {
        _ if silent => Ending::Silent(limits.silence),
        _ if timed_out => Ending::TimedOut(limits.total),
        Some(s) => s.code().map_or(Ending::Signalled, Ending::Exited),
        None => Ending::Signalled,
    };
    Ok(Captured { lines, ending })
}

/// Runs `cmd` attached to the terminal and returns its exit code (QEMU
/// `-nographic`: Ctrl-A X quits).
pub fn run_foreground(mut cmd: Command) -> Result<i32, String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    Ok(status.code().unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn captures_merged_output_and_status() {
        let c = run_captured(
            sh("echo one; echo two >&2; printf 'three\\r\\n'; printf four; exit 3"),
            Limits::total(Duration::from_secs(20)),
            false,
        )
        .unwrap();
        assert_eq!(c.lines, ["one", "two", "three", "four"]);
        assert_eq!(c.ending, Ending::Exited(3));
    }

    #[test]
    fn kills_the_whole_group_at_the_deadline() {
        let t = Instant::now();
        let c = run_captured(
            sh("echo hi; sleep 100"),
            Limits::total(Duration::from_secs(1)),
            false,
        )
        .unwrap();
        assert_eq!(c.ending, Ending::TimedOut(Duration::from_secs(1)));
        assert_eq!(c.lines, ["hi"]);
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "took {:?}",
            t.elapsed()
        );
    }

    #[test]
    fn a_child_that_closes_its_output_still_times_out() {
        let c = run_captured(
            sh("exec >&- 2>&-; sleep 100"),
            Limits::total(Duration::from_secs(1)),
            false,
        )
        .unwrap();
        assert!(matches!(c.ending, Ending::TimedOut(_)));
    }

    #[test]
    fn a_silent_child_is_killed_before_the_deadline() {
        let t = Instant::now();
        let limits = Limits {
            total: Duration::from_secs(100),
            silence: Duration::from_secs(1),
        };
        let c = run_captured(sh("echo a; sleep 0.5; echo b; sleep 100"), limits, false).unwrap();
        assert_eq!(c.ending, Ending::Silent(Duration::from_secs(1)));
        assert_eq!(c.lines, ["a", "b"]);
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "took {:?}",
            t.elapsed()
        );
    }

    #[test]
    fn input_is_typed_after_the_trigger_line() {
        let input = Input {
            after: "ready",
            send: "typed\n",
        };
        let c = run_captured_with_input(
            sh("echo ready; read x; echo got $x"),
            Limits::total(Duration::from_secs(20)),
            false,
            Some(input),
        )
        .unwrap();
        assert_eq!(c.lines, ["ready", "got typed"]);
        assert_eq!(c.ending, Ending::Exited(0));
    }

    #[test]
    fn boot_command_is_the_documented_one() {
        let cmd = boot_command(Path::new("x.img"), None);
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args.join(" "),
            "-machine virt -cpu rv64 -m 3072M -smp 1 -bios default -nographic -kernel x.img"
        );
    }
}
