//! Fixed-capacity sets of physical memory regions (no heap at boot), and
//! the cutting of a region into untyped blocks as seL4 does (ABI ref §6.6).

use super::BootError;
use crate::types::{round_down, Region};

/// A sorted set of disjoint, non-empty regions with room for `N`.
#[derive(Clone, Debug)]
pub struct RegionSet<const N: usize> {
    regions: [Region; N],
    len: usize,
}

impl<const N: usize> RegionSet<N> {
    pub const fn new() -> Self {
        RegionSet {
            regions: [Region::new(0, 0); N],
            len: 0,
        }
    }

    /// The regions, ascending.
    pub fn as_slice(&self) -> &[Region] {
        self.regions.get(..self.len).unwrap_or(&[])
    }

    /// Adds a region, merging it with any it overlaps or touches.
    pub fn add(&mut self, r: Region) -> Result<(), BootError> {
        if r.is_empty() {
            return Ok(());
        }
        let mut merged = r;
        let mut out = Self::new();
        for &x in self.as_slice() {
            if x.end < merged.start || merged.end < x.start {
                out.push_sorted(x)?;
            } else {
                merged = Region::new(x.start.min(merged.start), x.end.max(merged.end));
            }
        }
        out.push_sorted(merged)?;
        *self = out;
        Ok(())
    }

    fn push_sorted(&mut self, r: Region) -> Result<(), BootError> {
        if self.len >= N {
            return Err(BootError::TooManyRegions);
        }
        let pos = self
            .as_slice()
            .iter()
            .position(|x| x.start > r.start)
            .unwrap_or(self.len);
        // Shift [pos, len) up by one: the free slot at `len` comes to `pos`.
        let moved = self
            .regions
            .get_mut(pos..=self.len)
            .ok_or(BootError::TooManyRegions)?;
        moved.rotate_right(1);
        if let Some(slot) = moved.first_mut() {
            *slot = r;
        }
        self.len += 1;
        Ok(())
    }

    /// Removes every byte of `cut` from the set.
    pub fn subtract(&mut self, cut: Region) -> Result<(), BootError> {
        if cut.is_empty() {
            return Ok(());
        }
        let mut out = Self::new();
        for &x in self.as_slice() {
            if !x.overlaps(&cut) {
                out.push_sorted(x)?;
                continue;
            }
            if x.start < cut.start {
                out.push_sorted(Region::new(x.start, cut.start))?;
            }
            if cut.end < x.end {
                out.push_sorted(Region::new(cut.end, x.end))?;
            }
        }
        *self = out;
        Ok(())
    }

    /// Takes `size` bytes aligned to `2^align_bits` from the top of the
    /// highest region that can hold them.
    pub fn alloc_from_top(&mut self, size: u64, align_bits: u32) -> Option<u64> {
        let found = self.as_slice().iter().rev().find_map(|r| {
            let start = round_down(r.end.checked_sub(size)?, align_bits);
            (start >= r.start).then_some(start)
        })?;
        self.subtract(Region::new(found, found + size)).ok()?;
        Some(found)
    }

    /// Whether `r` lies entirely inside one region of the set.
    pub fn contains(&self, r: Region) -> bool {
        self.as_slice()
            .iter()
            .any(|x| x.start <= r.start && r.end <= x.end)
    }
}

impl<const N: usize> Default for RegionSet<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Cuts `r` greedily from its start into the largest blocks that are
/// aligned to their own size and at most `2^max_bits`, calling `f(paddr,
/// size_bits)` for each block of at least `2^min_bits` bytes (smaller
/// pieces are skipped, as seL4 does).
pub fn for_each_untyped_block(
    r: Region,
    min_bits: u32,
    max_bits: u32,
    mut f: impl FnMut(u64, u32),
) {
    let mut start = r.start;
    while start < r.end {
        let len = r.end - start;
        let mut bits = 63 - len.leading_zeros();
        bits = bits.min(max_bits);
        if start != 0 {
            bits = bits.min(start.trailing_zeros());
        }
        if bits >= min_bits {
            f(start, bits);
        }
        match start.checked_add(1 << bits) {
            Some(s) => start = s,
            None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_merges_and_subtract_splits() {
        let mut s = RegionSet::<8>::new();
        s.add(Region::new(0x3000, 0x4000)).unwrap();
        s.add(Region::new(0x1000, 0x2000)).unwrap();
        s.add(Region::new(0x2000, 0x3000)).unwrap();
        assert_eq!(s.as_slice(), &[Region::new(0x1000, 0x4000)]);
        s.subtract(Region::new(0x1800, 0x2800)).unwrap();
        assert_eq!(
            s.as_slice(),
            &[Region::new(0x1000, 0x1800), Region::new(0x2800, 0x4000)]
        );
        s.subtract(Region::new(0, 0x10_0000)).unwrap();
        assert!(s.as_slice().is_empty());
    }

    #[test]
    fn disjoint_regions_added_in_any_order_stay_sorted() {
        let mut s = RegionSet::<4>::new();
        // Each new region lands before the ones there: they shift up.
        for start in [0x5000, 0x3000, 0x1000, 0x4000] {
            s.add(Region::new(start, start + 0x800)).unwrap();
        }
        assert_eq!(
            s.as_slice(),
            &[
                Region::new(0x1000, 0x1800),
                Region::new(0x3000, 0x3800),
                Region::new(0x4000, 0x4800),
                Region::new(0x5000, 0x5800),
            ]
        );
        assert_eq!(
            s.add(Region::new(0x2000, 0x2100)),
            Err(BootError::TooManyRegions)
        );
        assert_eq!(s.as_slice().len(), 4, "a refused add changes nothing");
    }

    #[test]
    fn capacity_is_enforced() {
        let mut s = RegionSet::<2>::new();
        s.add(Region::new(0, 10)).unwrap();
        s.add(Region::new(20, 30)).unwrap();
        assert_eq!(s.add(Region::new(40, 50)), Err(BootError::TooManyRegions));
    }

    #[test]
    fn alloc_from_top_prefers_the_highest_region() {
        let mut s = RegionSet::<4>::new();
        s.add(Region::new(0x1000, 0x9000)).unwrap();
        s.add(Region::new(0x10000, 0x13000)).unwrap();
        assert_eq!(s.alloc_from_top(0x2000, 13), Some(0x10000));
        assert_eq!(s.alloc_from_top(0x4000, 14), Some(0x4000));
        assert_eq!(s.alloc_from_top(0x10000, 12), None);
    }

    #[test]
    fn untyped_blocks_follow_sel4s_greedy_cut() {
        let mut out = std::vec::Vec::new();
        for_each_untyped_block(Region::new(0x2200000, 0xC000000), 4, 38, |p, b| {
            out.push((p, b))
        });
        assert_eq!(
            out,
            [
                (0x2200000, 21),
                (0x2400000, 22),
                (0x2800000, 23),
                (0x3000000, 24),
                (0x4000000, 26),
                (0x8000000, 26)
            ]
        );
        out.clear();
        // Tiny leftovers below 2^4 are dropped; the cap is 2^38.
        for_each_untyped_block(Region::new(0x1008, 0x1020), 4, 38, |p, b| out.push((p, b)));
        assert_eq!(out, [(0x1010, 4)]);
        out.clear();
        for_each_untyped_block(Region::new(0, 1 << 39), 4, 38, |p, b| out.push((p, b)));
        assert_eq!(out, [(0, 38), (1 << 38, 38)]);
    }
}
