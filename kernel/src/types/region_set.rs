//! Fixed-capacity sets of physical memory regions (no heap at boot): the
//! machine layer's view of the device tree and boot's free-memory
//! accounting.

use super::{round_down, Region};

/// A [`RegionSet`] is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyRegions;

impl core::fmt::Display for TooManyRegions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("too many memory regions")
    }
}

impl From<TooManyRegions> for &'static str {
    fn from(_: TooManyRegions) -> &'static str {
        "too many memory regions"
    }
}

/// A sorted set of disjoint, non-empty regions with room for `N`.
#[derive(Clone, Copy, Debug)]
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
    pub fn add(&mut self, r: Region) -> Result<(), TooManyRegions> {
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

    fn push_sorted(&mut self, r: Region) -> Result<(), TooManyRegions> {
        if self.len >= N {
            return Err(TooManyRegions);
        }
        let pos = self
            .as_slice()
            .iter()
            .position(|x| x.start > r.start)
            .unwrap_or(self.len);
        // Shift [pos, len) up by one and put `r` at `pos`, one slot at a
        // time: `rotate_right` would call `memmove`, which then nothing
        // else in the kernel needs (docs/benchmarks.md, "Code size").
        let mut carry = r;
        for slot in self.regions.get_mut(pos..=self.len).ok_or(TooManyRegions)? {
            core::mem::swap(slot, &mut carry);
        }
        self.len += 1;
        Ok(())
    }

    /// Removes every byte of `cut` from the set.
    pub fn subtract(&mut self, cut: Region) -> Result<(), TooManyRegions> {
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
        assert_eq!(s.add(Region::new(0x2000, 0x2100)), Err(TooManyRegions));
        assert_eq!(s.as_slice().len(), 4, "a refused add changes nothing");
    }

    #[test]
    fn capacity_is_enforced() {
        let mut s = RegionSet::<2>::new();
        s.add(Region::new(0, 10)).unwrap();
        s.add(Region::new(20, 30)).unwrap();
        assert_eq!(s.add(Region::new(40, 50)), Err(TooManyRegions));
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
}
