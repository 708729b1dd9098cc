//! The Cairn boot image builder.
//!
//! Packs a kernel ELF and a root task ELF into one flat binary that QEMU
//! loads at `KERNEL_PHYS_BASE` (format and contract: `cairn_abi::image`).
//! The root task may be any statically linked RISC-V 64 seL4 root task.
//!
//! Bad input is refused with a message naming the file and the problem
//! ([`ImageError`]), and then no output file is written: [`write_image`]
//! validates everything in memory first, then writes a temporary file next
//! to the output and renames it into place.
#![forbid(unsafe_code)]

pub mod elf;
pub mod pack;

#[cfg(test)]
mod testelf;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use cairn_abi::image::ImageHeader;
pub use elf::Problem;
pub use pack::{check_root_task, pack, Packed};

/// Which input a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Kernel,
    RootTask,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Input::Kernel => "kernel ELF",
            Input::RootTask => "root task ELF",
        })
    }
}

/// An input refused by [`pack`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageError {
    pub input: Input,
    pub problem: Problem,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.problem)
    }
}

impl std::error::Error for ImageError {}

/// A failure of [`write_image`].
#[derive(Debug)]
pub enum Error {
    /// Reading an input or writing the output failed.
    Io { path: PathBuf, err: io::Error },
    /// An input was refused; `path` is that input.
    Image { path: PathBuf, err: ImageError },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, err } => write!(f, "{}: {err}", path.display()),
            Error::Image { path, err } => write!(f, "{}: {err}", path.display()),
        }
    }
}

impl std::error::Error for Error {}

/// Reads both ELF files, packs them and writes the image to `out`
/// atomically (nothing is written if anything is refused).
pub fn write_image(kernel: &Path, root_task: &Path, out: &Path) -> Result<Packed, Error> {
    let read = |path: &Path| {
        fs::read(path).map_err(|err| Error::Io {
            path: path.to_path_buf(),
            err,
        })
    };
    let (k, u) = (read(kernel)?, read(root_task)?);
    let packed = pack(&k, &u).map_err(|err| {
        let path = match err.input {
            Input::Kernel => kernel,
            Input::RootTask => root_task,
        };
        Error::Image {
            path: path.to_path_buf(),
            err,
        }
    })?;
    write_atomically(out, &packed.bytes).map_err(|err| Error::Io {
        path: out.to_path_buf(),
        err,
    })?;
    Ok(packed)
}

/// Writes `bytes` to a temporary file beside `out`, then renames it to `out`.
pub fn write_atomically(out: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = out.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = out.with_file_name(tmp_name);
    let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, out));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
