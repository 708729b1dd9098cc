//! A bump allocator of root CNode slots.

use sel4::abi::bootinfo::SlotRegion;
use sel4::{CPtr, Word};

/// Hands out the slots of a region (BootInfo's `empty`) in ascending order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotAllocator {
    next: Word,
    end: Word,
}

impl SlotAllocator {
    /// Slots `region.start..region.end`.
    pub const fn new(region: SlotRegion) -> Self {
        SlotAllocator {
            next: region.start,
            end: region.end,
        }
    }

    /// Slots not yet handed out.
    pub fn remaining(&self) -> Word {
        self.end.saturating_sub(self.next)
    }

    /// The next free slot.
    pub fn alloc(&mut self) -> Option<CPtr> {
        self.alloc_range(1).map(|r| CPtr(r.start))
    }

    /// `n` consecutive free slots (`n` ≥ 1).
    pub fn alloc_range(&mut self, n: Word) -> Option<SlotRegion> {
        if n == 0 || n > self.remaining() {
            return None;
        }
        let start = self.next;
        self.next = start.checked_add(n)?;
        Some(SlotRegion {
            start,
            end: self.next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_in_order_until_empty() {
        let mut a = SlotAllocator::new(SlotRegion {
            start: 0x5a,
            end: 0x5d,
        });
        assert_eq!(a.remaining(), 3);
        assert_eq!(a.alloc(), Some(CPtr(0x5a)));
        assert_eq!(
            a.alloc_range(2),
            Some(SlotRegion {
                start: 0x5b,
                end: 0x5d
            })
        );
        assert_eq!(a.alloc(), None);
        assert_eq!(a.remaining(), 0);
    }

    #[test]
    fn refuses_oversized_and_empty_requests() {
        let mut a = SlotAllocator::new(SlotRegion { start: 10, end: 12 });
        assert_eq!(a.alloc_range(3), None);
        assert_eq!(a.alloc_range(0), None);
        assert_eq!(a.remaining(), 2);
        let mut b = SlotAllocator::new(SlotRegion { start: 12, end: 10 });
        assert_eq!(b.alloc(), None);
    }
}
