//! A tiny ELF64 writer for tests: just enough to make good and bad inputs.

/// One program header and its file bytes.
#[derive(Clone, Debug)]
pub struct Seg {
    pub p_type: u32,
    pub vaddr: u64,
    pub paddr: u64,
    pub data: Vec<u8>,
    pub memsz: u64,
    /// Overrides `p_filesz` (default: `data.len()`).
    pub filesz: Option<u64>,
    /// Overrides `p_offset` (default: where `data` is written).
    pub offset: Option<u64>,
}

impl Seg {
    /// A `PT_LOAD` at `vaddr` (= `paddr`) with `data` and `memsz`.
    pub fn load(vaddr: u64, data: &[u8], memsz: u64) -> Seg {
        Seg {
            p_type: 1,
            vaddr,
            paddr: vaddr,
            data: data.to_vec(),
            memsz,
            filesz: None,
            offset: None,
        }
    }

    /// A segment of another type with no bytes.
    pub fn other(p_type: u32) -> Seg {
        Seg {
            p_type,
            ..Seg::load(0, &[], 0)
        }
    }
}

/// An ELF file to build.
#[derive(Clone, Debug)]
pub struct Elf {
    pub class: u8,
    pub data_enc: u8,
    pub e_type: u16,
    pub machine: u16,
    pub entry: u64,
    pub segs: Vec<Seg>,
}

impl Elf {
    /// A RISC-V 64 ET_EXEC with the given entry and segments.
    pub fn exec(entry: u64, segs: Vec<Seg>) -> Elf {
        Elf {
            class: 2,
            data_enc: 1,
            e_type: 2,
            machine: 243,
            entry,
            segs,
        }
    }

    pub fn build(&self) -> Vec<u8> {
        const EHSIZE: usize = 64;
        const PHENTSIZE: usize = 56;
        let mut data_at = EHSIZE + PHENTSIZE * self.segs.len();
        let mut out = Vec::new();
        out.extend_from_slice(b"\x7fELF");
        out.extend_from_slice(&[self.class, self.data_enc, 1, 0]);
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&self.e_type.to_le_bytes());
        out.extend_from_slice(&self.machine.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes()); // e_version
        out.extend_from_slice(&self.entry.to_le_bytes());
        out.extend_from_slice(&(EHSIZE as u64).to_le_bytes()); // e_phoff
        out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        out.extend_from_slice(&(EHSIZE as u16).to_le_bytes());
        out.extend_from_slice(&(PHENTSIZE as u16).to_le_bytes());
        out.extend_from_slice(&(self.segs.len() as u16).to_le_bytes());
        out.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
        out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
        out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
        assert_eq!(out.len(), EHSIZE);
        let mut blobs = Vec::new();
        for s in &self.segs {
            let offset = s.offset.unwrap_or(data_at as u64);
            data_at += s.data.len();
            out.extend_from_slice(&s.p_type.to_le_bytes());
            out.extend_from_slice(&7u32.to_le_bytes()); // p_flags: RWX
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&s.vaddr.to_le_bytes());
            out.extend_from_slice(&s.paddr.to_le_bytes());
            out.extend_from_slice(&s.filesz.unwrap_or(s.data.len() as u64).to_le_bytes());
            out.extend_from_slice(&s.memsz.to_le_bytes());
            out.extend_from_slice(&0x1000u64.to_le_bytes()); // p_align
            blobs.extend_from_slice(&s.data);
        }
        out.extend_from_slice(&blobs);
        out
    }
}
