//! Reading and validating a statically linked RISC-V 64 executable.
//!
//! [`parse`] turns ELF bytes into a [`Program`]: the entry point and the
//! non-empty `PT_LOAD` segments, each with its file bytes. It accepts only
//! what Cairn can boot: ELF64, little-endian, `EM_RISCV`, `ET_EXEC`, no
//! `PT_INTERP`/`PT_DYNAMIC`, every segment's bytes inside the file,
//! `p_filesz <= p_memsz`, no address wrap-around, no two segments sharing
//! an address (by `p_vaddr`), and an entry point inside a segment. The
//! kernel- and root-task-specific checks (load address, size limits) are in
//! [`crate::pack`].

use core::fmt;

use object::elf::{
    FileHeader64, ELFCLASS64, ELFDATA2LSB, EM_RISCV, ET_DYN, ET_EXEC, PT_DYNAMIC, PT_INTERP,
    PT_LOAD,
};
use object::read::elf::{FileHeader, ProgramHeader};
use object::LittleEndian;

/// Why an ELF file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The file does not start with the ELF magic.
    NotElf,
    /// A header or table the file declares lies (partly) past its end.
    Truncated(&'static str),
    /// 32-bit (or unknown class) ELF.
    NotElf64,
    /// Big-endian (or unknown data encoding) ELF.
    NotLittleEndian,
    /// `e_machine` is not `EM_RISCV`.
    NotRiscv { machine: u16 },
    /// The file needs a dynamic loader: `ET_DYN` (PIE), `PT_INTERP` or `PT_DYNAMIC`.
    Dynamic(&'static str),
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN` (relocatable, core, ...).
    NotExecutable { e_type: u16 },
    /// No `PT_LOAD` segment with a non-zero memory size.
    NoLoadSegment,
    /// A segment has more file bytes than memory bytes.
    FileSizeExceedsMemSize {
        index: usize,
        filesz: u64,
        memsz: u64,
    },
    /// A segment's file bytes lie past the end of the file.
    SegmentOutsideFile {
        index: usize,
        offset: u64,
        filesz: u64,
        file_len: u64,
    },
    /// A segment's address range wraps around the address space.
    SegmentWraps { index: usize },
    /// Two segments share addresses.
    Overlap { first: usize, second: usize },
    /// The entry point is in no `PT_LOAD` segment.
    EntryOutside { entry: u64 },
    /// A root task segment reaches into the pages reserved for the IPC
    /// buffer and the bootinfo frame (or past the user address space).
    AboveUserLimit { end: u64, limit: u64 },
    /// The loaded image would be absurdly large.
    TooLarge { size: u64, limit: u64 },
    /// The kernel's lowest physical address is not where OpenSBI loads it.
    KernelBase { lowest: u64, expected: u64 },
    /// The kernel's entry point is not the first byte of the image, where
    /// OpenSBI jumps.
    KernelEntry { entry_paddr: u64, expected: u64 },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotElf => f.write_str("not an ELF file (no \\x7fELF magic)"),
            Problem::Truncated(what) => write!(f, "truncated ELF file: {what}"),
            Problem::NotElf64 => f.write_str("not a 64-bit ELF file (ELFCLASS64 required)"),
            Problem::NotLittleEndian => f.write_str("not a little-endian ELF file"),
            Problem::NotRiscv { machine } => {
                write!(f, "not a RISC-V executable (e_machine {machine}, expected EM_RISCV = 243)")
            }
            Problem::Dynamic(why) => write!(
                f,
                "dynamically linked executable ({why}): a root task must be statically linked at a fixed address"
            ),
            Problem::NotExecutable { e_type } => {
                write!(f, "not an executable (e_type {e_type}, expected ET_EXEC)")
            }
            Problem::NoLoadSegment => f.write_str("no PT_LOAD segment: nothing to load"),
            Problem::FileSizeExceedsMemSize { index, filesz, memsz } => write!(
                f,
                "segment {index}: p_filesz {filesz:#x} is larger than p_memsz {memsz:#x}"
            ),
            Problem::SegmentOutsideFile { index, offset, filesz, file_len } => write!(
                f,
                "segment {index}: its bytes [{offset:#x}, {offset:#x} + {filesz:#x}) lie outside the {file_len}-byte file"
            ),
            Problem::SegmentWraps { index } => {
                write!(f, "segment {index}: its address range wraps around the address space")
            }
            Problem::Overlap { first, second } => {
                write!(f, "segments {first} and {second} overlap")
            }
            Problem::EntryOutside { entry } => {
                write!(f, "entry point {entry:#x} is outside every PT_LOAD segment")
            }
            Problem::AboveUserLimit { end, limit } => write!(
                f,
                "a segment ends at {end:#x}, above {limit:#x}: the pages below USER_TOP are reserved for the IPC buffer and bootinfo"
            ),
            Problem::TooLarge { size, limit } => {
                write!(f, "loaded size {size:#x} bytes exceeds the limit of {limit:#x} bytes")
            }
            Problem::KernelBase { lowest, expected } => write!(
                f,
                "lowest PT_LOAD p_paddr is {lowest:#x}, but the kernel must be linked to load at {expected:#x}"
            ),
            Problem::KernelEntry { entry_paddr, expected } => write!(
                f,
                "entry point is at physical address {entry_paddr:#x}, but OpenSBI jumps to {expected:#x}"
            ),
        }
    }
}

/// One non-empty `PT_LOAD` segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Index of the segment in the program header table (for messages).
    pub index: usize,
    pub vaddr: u64,
    pub paddr: u64,
    pub memsz: u64,
    /// `p_flags` (`PF_X` 1, `PF_W` 2, `PF_R` 4), for loaders that map
    /// each segment with its own rights.
    pub flags: u32,
    /// The `p_filesz` bytes from the file; the rest of `memsz` is zero.
    pub data: &'a [u8],
}

/// A validated executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program<'a> {
    pub entry: u64,
    /// Non-empty `PT_LOAD` segments, sorted by `vaddr`, pairwise disjoint.
    pub segments: Vec<Segment<'a>>,
}

impl Program<'_> {
    /// Lowest and highest-plus-one virtual address over the segments.
    pub fn vaddr_span(&self) -> (u64, u64) {
        let lo = self.segments.iter().map(|s| s.vaddr).min().unwrap_or(0);
        let hi = self
            .segments
            .iter()
            .map(|s| s.vaddr + s.memsz)
            .max()
            .unwrap_or(0);
        (lo, hi)
    }
}

/// Validates `data` as a static RISC-V 64 executable (see the module doc).
pub fn parse(data: &[u8]) -> Result<Program<'_>, Problem> {
    // The identification bytes are checked by hand so that each refusal
    // names its own reason; `object` then does the bounds-checked parsing.
    let ident = data.get(..16).ok_or(if data.starts_with(b"\x7fELF") {
        Problem::Truncated("ELF identification shorter than 16 bytes")
    } else {
        Problem::NotElf
    })?;
    if !ident.starts_with(b"\x7fELF") {
        return Err(Problem::NotElf);
    }
    if ident[4] != ELFCLASS64.0 {
        return Err(Problem::NotElf64);
    }
    if ident[5] != ELFDATA2LSB.0 {
        return Err(Problem::NotLittleEndian);
    }
    let header = FileHeader64::<LittleEndian>::parse(data)
        .map_err(|_| Problem::Truncated("file header incomplete or invalid"))?;
    let e = LittleEndian;
    let machine = header.e_machine(e);
    if machine != EM_RISCV {
        return Err(Problem::NotRiscv { machine: machine.0 });
    }
    match header.e_type(e) {
        ET_EXEC => {}
        ET_DYN => {
            return Err(Problem::Dynamic(
                "ET_DYN: position-independent or shared object",
            ))
        }
        e_type => return Err(Problem::NotExecutable { e_type: e_type.0 }),
    }
    let phdrs = header
        .program_headers(e, data)
        .map_err(|_| Problem::Truncated("program header table outside the file"))?;

    let file_len = data.len() as u64;
    let mut segments = Vec::new();
    for (index, ph) in phdrs.iter().enumerate() {
        match ph.p_type(e) {
            PT_INTERP => return Err(Problem::Dynamic("has a PT_INTERP segment")),
            PT_DYNAMIC => return Err(Problem::Dynamic("has a PT_DYNAMIC segment")),
            PT_LOAD => {}
            _ => continue,
        }
        let (offset, filesz, memsz) = (ph.p_offset(e), ph.p_filesz(e), ph.p_memsz(e));
        let (vaddr, paddr) = (ph.p_vaddr(e), ph.p_paddr(e));
        if filesz > memsz {
            return Err(Problem::FileSizeExceedsMemSize {
                index,
                filesz,
                memsz,
            });
        }
        let file_end = offset.checked_add(filesz).filter(|&end| end <= file_len);
        let Some(file_end) = file_end else {
            return Err(Problem::SegmentOutsideFile {
                index,
                offset,
                filesz,
                file_len,
            });
        };
        if vaddr.checked_add(memsz).is_none() || paddr.checked_add(memsz).is_none() {
            return Err(Problem::SegmentWraps { index });
        }
        if memsz == 0 {
            continue;
        }
        // In range: checked against `file_len` just above.
        let bytes = &data[offset as usize..file_end as usize];
        segments.push(Segment {
            index,
            vaddr,
            paddr,
            memsz,
            flags: ph.p_flags(e).0,
            data: bytes,
        });
    }
    if segments.is_empty() {
        return Err(Problem::NoLoadSegment);
    }
    segments.sort_by_key(|s| s.vaddr);
    if let Some((first, second)) = first_overlap(&segments, |s| s.vaddr) {
        return Err(Problem::Overlap { first, second });
    }
    let entry = header.e_entry(e);
    if !segments
        .iter()
        .any(|s| entry >= s.vaddr && entry - s.vaddr < s.memsz)
    {
        return Err(Problem::EntryOutside { entry });
    }
    Ok(Program { entry, segments })
}

/// The first pair of segments (by program header index) whose ranges
/// `[start(s), start(s) + memsz)` intersect, if any.
pub fn first_overlap(
    segs: &[Segment<'_>],
    start: impl Fn(&Segment<'_>) -> u64,
) -> Option<(usize, usize)> {
    let mut sorted: Vec<&Segment<'_>> = segs.iter().collect();
    sorted.sort_by_key(|s| start(s));
    sorted.windows(2).find_map(|w| {
        let (a, b) = (w[0], w[1]);
        // No wrap: `parse` checked `start + memsz` for both address kinds.
        (start(a) + a.memsz > start(b)).then(|| (a.index.min(b.index), a.index.max(b.index)))
    })
}

/// Symbol types (`STT_*`, the ELF specification's values).
pub mod stt {
    /// No type.
    pub const NOTYPE: u8 = 0;
    /// A data object.
    pub const OBJECT: u8 = 1;
    /// A function.
    pub const FUNC: u8 = 2;
    /// A section.
    pub const SECTION: u8 = 3;
    /// A source file.
    pub const FILE: u8 = 4;
    /// Thread-local storage.
    pub const TLS: u8 = 6;
}

/// A symbol of an ELF file's symbol table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Its address (`st_value`).
    pub addr: u64,
    /// Its size in bytes (`st_size`).
    pub size: u64,
    /// Its type (`STT_*` of `st_info`).
    pub kind: u8,
}

impl Symbol {
    /// Whether it names data: an object, or a symbol without a type (an
    /// assembly label); not a function, section, file or TLS symbol.
    pub fn is_data(&self) -> bool {
        matches!(self.kind, stt::OBJECT | stt::NOTYPE)
    }

    /// What its type is called, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            stt::OBJECT => "a variable",
            stt::NOTYPE => "a symbol without type",
            stt::FUNC => "a function",
            stt::SECTION => "a section",
            stt::FILE => "a file name",
            stt::TLS => "a thread-local variable",
            _ => "a symbol of an unknown type",
        }
    }
}

/// The symbol `name` in the symbol table of the ELF file `data` (`None`:
/// no such symbol, no symbol table, or a file `object` cannot read). For
/// the system tool's `setvar_*` patches.
pub fn symbol(data: &[u8], name: &str) -> Option<Symbol> {
    use object::read::elf::Sym;
    let e = LittleEndian;
    let header = FileHeader64::<LittleEndian>::parse(data).ok()?;
    let sections = header.sections(e, data).ok()?;
    let symbols = sections.symbols(e, data, object::elf::SHT_SYMTAB).ok()?;
    symbols.iter().find_map(|s| {
        (symbols.symbol_name(e, s).ok()? == name.as_bytes()).then(|| Symbol {
            addr: s.st_value(e),
            size: s.st_size(e),
            kind: s.st_type().0,
        })
    })
}
