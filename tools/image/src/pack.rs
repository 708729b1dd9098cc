//! Laying out a boot image (format: `cairn_abi::image`).
//!
//! Everything is validated before any byte of output exists: [`pack`]
//! returns either the complete image or the first problem it found.

use cairn_abi::image::{ImageHeader, IMAGE_PAGE_SIZE, KERNEL_PHYS_BASE};
use cairn_abi::vm::USER_TOP;

use crate::elf::{self, first_overlap, Problem, Program};
use crate::{ImageError, Input};

/// Offset of the flat user image from the header's start: the header page.
pub const USER_OFFSET: u64 = IMAGE_PAGE_SIZE;
/// Highest end address of a root task segment: the kernel maps the IPC
/// buffer and the bootinfo frame in the pages just below `USER_TOP`.
pub const USER_LIMIT: u64 = USER_TOP - 0x3000;
/// Largest flat user image accepted (1 GiB): anything bigger is a mistake.
pub const MAX_USER_SIZE: u64 = 1 << 30;
/// Largest kernel span accepted (256 MiB).
pub const MAX_KERNEL_SIZE: u64 = 256 << 20;

/// A complete boot image.
#[derive(Clone, Debug)]
pub struct Packed {
    /// The file's bytes; byte 0 is loaded at `KERNEL_PHYS_BASE`.
    pub bytes: Vec<u8>,
    /// The header written into the image.
    pub header: ImageHeader,
    /// Physical address of the header page.
    pub header_paddr: u64,
}

fn round_up(x: u64) -> u64 {
    x.div_ceil(IMAGE_PAGE_SIZE) * IMAGE_PAGE_SIZE
}

fn round_down(x: u64) -> u64 {
    x - x % IMAGE_PAGE_SIZE
}

/// Packs a kernel ELF and a root task ELF into one boot image.
pub fn pack(kernel_elf: &[u8], root_elf: &[u8]) -> Result<Packed, ImageError> {
    let kernel_err = |problem| ImageError {
        input: Input::Kernel,
        problem,
    };
    let user_err = |problem| ImageError {
        input: Input::RootTask,
        problem,
    };
    let kernel = elf::parse(kernel_elf).map_err(kernel_err)?;
    let kernel_end = check_kernel(&kernel).map_err(kernel_err)?;
    let user = elf::parse(root_elf).map_err(user_err)?;
    let (v_start, v_end) = check_user(&user).map_err(user_err)?;

    let header_paddr = round_up(kernel_end);
    let header_off = header_paddr - KERNEL_PHYS_BASE;
    let user_off = header_off + USER_OFFSET;
    let user_size = v_end - v_start;
    let image_size = user_off + user_size;
    let header = ImageHeader {
        magic: ImageHeader::MAGIC,
        version: ImageHeader::VERSION,
        image_size,
        user_offset: USER_OFFSET,
        user_size,
        user_v_start: v_start,
        user_v_end: v_end,
        user_entry: user.entry,
        reserved: [0; 8],
    };
    debug_assert_eq!(header.validate(), Ok(()));

    // Sizes are bounded above (256 MiB + 4 KiB + 1 GiB), so `usize` holds them.
    let mut bytes = vec![0u8; image_size as usize];
    for seg in &kernel.segments {
        let at = (seg.paddr - KERNEL_PHYS_BASE) as usize;
        bytes[at..at + seg.data.len()].copy_from_slice(seg.data);
    }
    let h = header_off as usize;
    bytes[h..h + ImageHeader::SIZE].copy_from_slice(&header.to_bytes());
    for seg in &user.segments {
        let at = (user_off + (seg.vaddr - v_start)) as usize;
        bytes[at..at + seg.data.len()].copy_from_slice(seg.data);
    }
    Ok(Packed {
        bytes,
        header,
        header_paddr,
    })
}

/// Validates a root task ELF alone (as [`pack`] would), e.g. to refuse a
/// bad `--rootserver` before building anything.
pub fn check_root_task(root_elf: &[u8]) -> Result<(), ImageError> {
    let user = elf::parse(root_elf).map_err(|problem| ImageError {
        input: Input::RootTask,
        problem,
    })?;
    check_user(&user).map_err(|problem| ImageError {
        input: Input::RootTask,
        problem,
    })?;
    Ok(())
}

/// Kernel-specific checks; returns the kernel's end physical address.
fn check_kernel(k: &Program<'_>) -> Result<u64, Problem> {
    if let Some((first, second)) = first_overlap(&k.segments, |s| s.paddr) {
        return Err(Problem::Overlap { first, second });
    }
    let lowest = k.segments.iter().map(|s| s.paddr).min().unwrap_or(0);
    if lowest != KERNEL_PHYS_BASE {
        return Err(Problem::KernelBase {
            lowest,
            expected: KERNEL_PHYS_BASE,
        });
    }
    let end = k
        .segments
        .iter()
        .map(|s| s.paddr + s.memsz)
        .max()
        .unwrap_or(0);
    let size = end - KERNEL_PHYS_BASE;
    if size > MAX_KERNEL_SIZE {
        return Err(Problem::TooLarge {
            size,
            limit: MAX_KERNEL_SIZE,
        });
    }
    // `parse` guarantees some segment holds the entry point.
    let entry_paddr = k
        .segments
        .iter()
        .find(|s| k.entry >= s.vaddr && k.entry - s.vaddr < s.memsz)
        .map_or(0, |s| s.paddr + (k.entry - s.vaddr));
    if entry_paddr != KERNEL_PHYS_BASE {
        return Err(Problem::KernelEntry {
            entry_paddr,
            expected: KERNEL_PHYS_BASE,
        });
    }
    Ok(end)
}

/// Root-task-specific checks; returns the page-aligned virtual span.
fn check_user(u: &Program<'_>) -> Result<(u64, u64), Problem> {
    for s in &u.segments {
        let end = s.vaddr + s.memsz;
        if end > USER_LIMIT {
            return Err(Problem::AboveUserLimit {
                end,
                limit: USER_LIMIT,
            });
        }
    }
    let (lo, hi) = u.vaddr_span();
    let (v_start, v_end) = (round_down(lo), round_up(hi));
    let size = v_end - v_start;
    if size > MAX_USER_SIZE {
        return Err(Problem::TooLarge {
            size,
            limit: MAX_USER_SIZE,
        });
    }
    Ok((v_start, v_end))
}
