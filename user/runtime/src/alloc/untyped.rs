//! A bump allocator of untyped memory that predicts where the kernel places
//! objects: at the untyped's watermark rounded up to the object size,
//! `count` objects back to back (ch. 2 Objects, *Untyped Memory*; ABI ref
//! §5). An untyped with no children starts at offset 0.

use super::AllocError;
use sel4::object::untyped::object_size_bits;
use sel4::{ObjectType, Untyped, UntypedInfo, Word};

/// Most untypeds a BootInfo lists.
pub const MAX_UNTYPEDS: usize = sel4::abi::bootinfo::MAX_BOOTINFO_UNTYPED_CAPS;

/// `value` rounded up to a multiple of `2^bits` (`None` on overflow).
pub fn align_up(value: Word, bits: u32) -> Option<Word> {
    let mask = 1u64.checked_shl(bits)?.wrapping_sub(1);
    Some(value.checked_add(mask)? & !mask)
}

/// Where `count` objects of `2^obj_bits` bytes go in an untyped of
/// `2^ut_bits` bytes whose watermark is `watermark`: the offset of the
/// first object and the new watermark. `None` if they do not fit.
pub fn place(ut_bits: u32, watermark: Word, obj_bits: u32, count: Word) -> Option<(Word, Word)> {
    if obj_bits > ut_bits || count == 0 {
        return None;
    }
    let size = 1u64.checked_shl(ut_bits)?;
    let offset = align_up(watermark, obj_bits)?;
    let end = count
        .checked_mul(1u64.checked_shl(obj_bits)?)?
        .checked_add(offset)?;
    (end <= size).then_some((offset, end))
}

/// Where an allocation landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// The untyped to retype.
    pub untyped: Untyped,
    /// Physical address of the first object.
    pub paddr: Word,
    /// Its offset in the untyped.
    pub offset: Word,
    /// log2 of one object's size.
    pub obj_bits: u32,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    info: UntypedInfo,
    watermark: Word,
}

/// The root task's non-device untypeds and how much of each is used.
#[derive(Clone, Debug)]
pub struct UntypedAllocator {
    entries: [Option<Entry>; MAX_UNTYPEDS],
}

impl UntypedAllocator {
    /// Tracks the non-device untypeds of `untypeds` (at most 230), all unused.
    pub fn new(untypeds: impl IntoIterator<Item = UntypedInfo>) -> Self {
        let mut entries = [None; MAX_UNTYPEDS];
        let ram = untypeds.into_iter().filter(|u| !u.is_device);
        for (slot, info) in entries.iter_mut().zip(ram) {
            *slot = Some(Entry { info, watermark: 0 });
        }
        UntypedAllocator { entries }
    }

    /// Bytes not yet handed out, alignment padding not counted.
    pub fn free_bytes(&self) -> Word {
        self.entries
            .iter()
            .flatten()
            .map(|e| e.info.size().unwrap_or(0).saturating_sub(e.watermark))
            .fold(0, Word::saturating_add)
    }

    /// Reserves `count` objects of `object_type` (`size_bits` for Untyped
    /// and CapTable) in the smallest untyped they fit in, so large untypeds
    /// stay whole as long as possible.
    pub fn alloc(
        &mut self,
        object_type: ObjectType,
        size_bits: u32,
        count: Word,
    ) -> Result<Allocation, AllocError> {
        let obj_bits = object_size_bits(object_type, size_bits).ok_or(AllocError::BadSize)?;
        let best = self
            .entries
            .iter_mut()
            .flatten()
            .filter_map(|e| {
                place(u32::from(e.info.size_bits), e.watermark, obj_bits, count).map(|p| (e, p))
            })
            .min_by_key(|(e, _)| e.info.size_bits);
        let (entry, (offset, end)) = best.ok_or(AllocError::OutOfMemory)?;
        entry.watermark = end;
        Ok(Allocation {
            untyped: entry.info.cap,
            paddr: entry.info.paddr.wrapping_add(offset),
            offset,
            obj_bits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sel4::CPtr;

    fn ut(slot: Word, paddr: Word, size_bits: u8, is_device: bool) -> UntypedInfo {
        UntypedInfo {
            cap: Untyped(CPtr(slot)),
            paddr,
            size_bits,
            is_device,
        }
    }

    #[test]
    fn align_and_place() {
        assert_eq!(align_up(0, 12), Some(0));
        assert_eq!(align_up(1, 12), Some(4096));
        assert_eq!(align_up(4096, 12), Some(4096));
        assert_eq!(align_up(u64::MAX, 4), None);
        // 16 bytes used, then a 2 KiB TCB: aligned to 2 KiB.
        assert_eq!(place(12, 16, 11, 1), Some((2048, 4096)));
        assert_eq!(place(12, 16, 11, 2), None);
        assert_eq!(place(12, 0, 11, 2), Some((0, 4096)));
        assert_eq!(place(12, 0, 13, 1), None);
        assert_eq!(place(38, 0, 4, u64::MAX), None);
        assert_eq!(place(12, 0, 4, 0), None);
    }

    #[test]
    fn skips_device_untypeds_and_picks_smallest_fit() {
        let mut a = UntypedAllocator::new([
            ut(26, 0, 25, true),
            ut(27, 0x8000_0000, 20, false),
            ut(28, 0x8010_0000, 12, false),
        ]);
        assert_eq!(a.free_bytes(), (1 << 20) + (1 << 12));
        let e = a.alloc(ObjectType::Endpoint, 0, 1).unwrap();
        assert_eq!(
            (e.untyped.bits(), e.paddr, e.offset, e.obj_bits),
            (28, 0x8010_0000, 0, 4)
        );
        // The TCB (2 KiB) goes after the endpoint, aligned: offset 2048.
        let t = a.alloc(ObjectType::Tcb, 0, 1).unwrap();
        assert_eq!(
            (t.untyped.bits(), t.offset, t.paddr),
            (28, 2048, 0x8010_0800)
        );
        // The 4 KiB untyped is full now; a frame comes from the 1 MiB one.
        let f = a.alloc(ObjectType::SmallPage, 0, 1).unwrap();
        assert_eq!((f.untyped.bits(), f.paddr), (27, 0x8000_0000));
        assert_eq!(
            a.alloc(ObjectType::GigaPage, 0, 1),
            Err(AllocError::OutOfMemory)
        );
        assert_eq!(
            a.alloc(ObjectType::CapTable, 0, 1),
            Err(AllocError::BadSize)
        );
        assert_eq!(a.free_bytes(), (1 << 20) - 4096);
    }

    #[test]
    fn many_objects_back_to_back() {
        let mut a = UntypedAllocator::new([ut(30, 0x9000_0000, 16, false)]);
        let p = a.alloc(ObjectType::SmallPage, 0, 16).unwrap();
        assert_eq!((p.offset, p.paddr), (0, 0x9000_0000));
        assert_eq!(
            a.alloc(ObjectType::SmallPage, 0, 1),
            Err(AllocError::OutOfMemory)
        );
    }
}
