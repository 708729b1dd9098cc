//! The Cairn boot image (not part of seL4's ABI).
//!
//! A boot image is one flat binary that QEMU (`-bios default -kernel`)
//! loads at [`KERNEL_PHYS_BASE`]. It holds:
//!
//! ```text
//! KERNEL_PHYS_BASE  kernel image (its ELF PT_LOAD segments laid out by
//!                   physical address; .bss included as zeros)
//! header_paddr      ImageHeader (one 4 KiB page), at the kernel's end
//!                   (highest p_paddr + p_memsz over PT_LOAD) rounded up to 4 KiB
//! + user_offset     the root task laid out flat: bytes for virtual
//!                   addresses [user_v_start, user_v_end), .bss as zeros,
//!                   holes as zeros, page aligned
//! ```
//!
//! The kernel finds the header at its own end symbol rounded up to a page,
//! checks [`ImageHeader::MAGIC`] and `version`, then maps the user image's
//! pages into the root task's address space: no ELF parsing in the kernel.
//! The image builder (`tools/image`) validates the root task ELF.

/// Physical address where QEMU's OpenSBI (`-bios default`) jumps to the
/// payload and where the kernel is linked to be loaded (`PHYS_BASE`).
pub const KERNEL_PHYS_BASE: u64 = 0x8020_0000;
/// Page size used for image layout.
pub const IMAGE_PAGE_SIZE: u64 = 4096;

/// The header page that follows the kernel in a boot image. All fields are
/// little-endian words; the structure is exactly 16 words long, the rest of
/// the page is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(C)]
pub struct ImageHeader {
    /// [`ImageHeader::MAGIC`].
    pub magic: u64,
    /// [`ImageHeader::VERSION`].
    pub version: u64,
    /// Byte size of the whole image from `KERNEL_PHYS_BASE` to its last byte.
    pub image_size: u64,
    /// Offset of the flat user image from the header's start (page aligned).
    pub user_offset: u64,
    /// Size in bytes of the flat user image (`user_v_end - user_v_start`).
    pub user_size: u64,
    /// Lowest virtual address of the root task (page aligned).
    pub user_v_start: u64,
    /// End of the root task's highest segment, rounded up to a page.
    pub user_v_end: u64,
    /// The root task's entry point.
    pub user_entry: u64,
    /// Reserved, zero.
    pub reserved: [u64; 8],
}

impl ImageHeader {
    /// `"CAIRNIMG"` as a little-endian word.
    pub const MAGIC: u64 = u64::from_le_bytes(*b"CAIRNIMG");
    /// Format version.
    pub const VERSION: u64 = 1;
    /// Size of the header structure in bytes.
    pub const SIZE: usize = 16 * 8;

    /// Serialises the header (little-endian words).
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let words = self.words();
        let mut out = [0u8; Self::SIZE];
        for (chunk, w) in out.chunks_exact_mut(8).zip(words.iter()) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Parses a header from its little-endian bytes (no validation).
    pub fn from_bytes(bytes: &[u8; Self::SIZE]) -> ImageHeader {
        let mut w = [0u64; 16];
        for (i, chunk) in bytes.chunks_exact(8).enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            if let Some(slot) = w.get_mut(i) {
                *slot = u64::from_le_bytes(b);
            }
        }
        ImageHeader {
            magic: w[0],
            version: w[1],
            image_size: w[2],
            user_offset: w[3],
            user_size: w[4],
            user_v_start: w[5],
            user_v_end: w[6],
            user_entry: w[7],
            reserved: [w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]],
        }
    }

    fn words(&self) -> [u64; 16] {
        let r = self.reserved;
        [
            self.magic,
            self.version,
            self.image_size,
            self.user_offset,
            self.user_size,
            self.user_v_start,
            self.user_v_end,
            self.user_entry,
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
        ]
    }

    /// Checks the header's internal consistency; returns why it is bad.
    pub fn validate(&self) -> Result<(), &'static str> {
        let page = IMAGE_PAGE_SIZE;
        if self.magic != Self::MAGIC {
            return Err("no Cairn image header (bad magic)");
        }
        if self.version != Self::VERSION {
            return Err("unsupported image header version");
        }
        if !self.user_offset.is_multiple_of(page) || self.user_offset < page {
            return Err("user image offset not page aligned");
        }
        if !self.user_v_start.is_multiple_of(page) || !self.user_v_end.is_multiple_of(page) {
            return Err("user image not page aligned");
        }
        if self.user_v_end <= self.user_v_start
            || self.user_v_end - self.user_v_start != self.user_size
        {
            return Err("user image size inconsistent");
        }
        if self.user_entry < self.user_v_start || self.user_entry >= self.user_v_end {
            return Err("entry point outside the user image");
        }
        if self.user_v_end > crate::vm::USER_TOP {
            return Err("user image above the user address space");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ImageHeader {
        ImageHeader {
            magic: ImageHeader::MAGIC,
            version: ImageHeader::VERSION,
            image_size: 0x10000,
            user_offset: 0x1000,
            user_size: 0x3000,
            user_v_start: 0x10000,
            user_v_end: 0x13000,
            user_entry: 0x10000,
            reserved: [0; 8],
        }
    }

    #[test]
    fn round_trip() {
        let h = good();
        assert_eq!(ImageHeader::from_bytes(&h.to_bytes()), h);
        assert_eq!(&h.to_bytes()[..8], b"CAIRNIMG");
        assert_eq!(h.validate(), Ok(()));
    }

    #[test]
    fn bad_headers_are_named() {
        let mut h = good();
        h.magic = 0;
        assert!(h.validate().is_err());
        let mut h = good();
        h.user_entry = 0x20000;
        assert_eq!(h.validate(), Err("entry point outside the user image"));
        let mut h = good();
        h.user_size = 0x1000;
        assert_eq!(h.validate(), Err("user image size inconsistent"));
    }
}
