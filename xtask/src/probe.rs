//! What the xtask asks of the host (which programs exist, what they print,
//! whether we are root), behind a trait so that toolchain detection and
//! the prerequisite checks can be tested with a fake host.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Questions about the host, answered by [`System`] (or a fake in tests).
pub trait Probe {
    /// The full path of `program` if it is on `PATH`.
    fn which(&self, program: &str) -> Option<PathBuf>;
    /// Whether `path` exists.
    fn exists(&self, path: &Path) -> bool;
    /// The trimmed standard output of a successful `program args...`.
    fn stdout(&self, program: &str, args: &[&str]) -> Option<String>;
    /// Whether we run as root (so `apt-get install` works).
    fn is_root(&self) -> bool;
}

/// The real host.
pub struct System;

impl Probe for System {
    fn which(&self, program: &str) -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn stdout(&self, program: &str, args: &[&str]) -> Option<String> {
        let out = Command::new(program)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn is_root(&self) -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }
}
