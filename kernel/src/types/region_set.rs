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
    /// An empty set. Out of line: the empty array inlined is a store per
    /// word (0.3 KiB for boot's three sets of 16).
    #[inline(never)]
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

    /// Adds a region, merging it with any it overlaps or touches. A
    /// refused add (the set full) changes nothing.
    pub fn add(&mut self, r: Region) -> Result<(), TooManyRegions> {
        add_in(&mut self.regions, &mut self.len, r)
    }

    /// Removes every byte of `cut` from the set. A refused subtract (a
    /// region split in two with the set full) changes nothing.
    pub fn subtract(&mut self, cut: Region) -> Result<(), TooManyRegions> {
        subtract_in(&mut self.regions, &mut self.len, cut)
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

// The work of `add` and `subtract`, in place and not generic over the
// capacity: one copy of each for every set size (boot uses three), and no
// second array built and copied back (docs/benchmarks.md, "Code size").
// `regions` is the whole array, its first `*len` slots the set.

#[inline(never)]
fn add_in(regions: &mut [Region], len: &mut usize, r: Region) -> Result<(), TooManyRegions> {
    if r.is_empty() {
        return Ok(());
    }
    // Keep the regions `r` neither overlaps nor touches, in order, and
    // fold the others into `merged`. If none is folded and the set is
    // full, nothing moved and the insertion below refuses.
    let mut merged = r;
    let mut kept = 0;
    for i in 0..*len {
        let Some(&x) = regions.get(i) else { break };
        if x.end < merged.start || merged.end < x.start {
            if let Some(slot) = regions.get_mut(kept) {
                *slot = x;
            }
            kept += 1;
        } else {
            merged = Region::new(x.start.min(merged.start), x.end.max(merged.end));
        }
    }
    *len = kept;
    insert_sorted(regions, len, merged)
}

#[inline(never)]
fn subtract_in(regions: &mut [Region], len: &mut usize, cut: Region) -> Result<(), TooManyRegions> {
    if cut.is_empty() {
        return Ok(());
    }
    let set = regions.get(..*len).unwrap_or(&[]);
    if *len >= regions.len() && set.iter().any(|x| x.start < cut.start && cut.end < x.end) {
        return Err(TooManyRegions);
    }
    // Each region leaves at most one piece in place (so writes never
    // overtake reads); a region `cut` splits leaves its upper piece to be
    // inserted after the pass (only one can: the regions are disjoint).
    let mut kept = 0;
    let mut upper = None;
    for i in 0..*len {
        let Some(&x) = regions.get(i) else { break };
        let piece = if !x.overlaps(&cut) {
            x
        } else if x.start < cut.start {
            if cut.end < x.end {
                upper = Some(Region::new(cut.end, x.end));
            }
            Region::new(x.start, cut.start)
        } else if cut.end < x.end {
            Region::new(cut.end, x.end)
        } else {
            continue;
        };
        if let Some(slot) = regions.get_mut(kept) {
            *slot = piece;
        }
        kept += 1;
    }
    *len = kept;
    match upper {
        Some(u) => insert_sorted(regions, len, u),
        None => Ok(()),
    }
}

/// Inserts `r` (disjoint from the set) at its place in order.
fn insert_sorted(regions: &mut [Region], len: &mut usize, r: Region) -> Result<(), TooManyRegions> {
    let set = regions.get(..*len).unwrap_or(&[]);
    let pos = set.iter().position(|x| x.start > r.start).unwrap_or(*len);
    // Shift [pos, len) up by one and put `r` at `pos`, one slot at a
    // time: `rotate_right` would call `memmove`, which then nothing
    // else in the kernel needs (docs/benchmarks.md, "Code size").
    let mut carry = r;
    for slot in regions.get_mut(pos..=*len).ok_or(TooManyRegions)? {
        core::mem::swap(slot, &mut carry);
    }
    *len += 1;
    Ok(())
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

    /// The bytes a set covers, as a bit per unit of 0..64.
    fn covered(s: &[Region]) -> u64 {
        s.iter().fold(0, |m, r| m | units(*r))
    }

    fn units(r: Region) -> u64 {
        (r.start..r.end).fold(0, |m, u| m | 1 << u)
    }

    proptest::proptest! {
        /// Random adds and subtracts on a set of four: the set covers
        /// exactly what a bitmap model does, stays sorted, its regions
        /// non-empty and neither overlapping nor touching; a refused
        /// operation (the set full) changes nothing, and is refused only
        /// when the result would need a fifth region.
        #[test]
        fn adds_and_subtracts_agree_with_a_bitmap(
            ops in proptest::collection::vec((proptest::bool::ANY, 0u64..64, 0u64..64), 1..40)
        ) {
            let mut s = RegionSet::<4>::new();
            let mut model = 0u64;
            for (add, a, b) in ops {
                let r = Region::new(a.min(b), a.max(b));
                let before = s;
                let want = if add { model | units(r) } else { model & !units(r) };
                let done = if add { s.add(r) } else { s.subtract(r) };
                // The runs of set bits in `want`: the regions it needs.
                let runs = (want & !(want << 1)).count_ones();
                match done {
                    Ok(()) => model = want,
                    Err(TooManyRegions) => {
                        proptest::prop_assert!(runs > 4);
                        proptest::prop_assert_eq!(s.as_slice(), before.as_slice());
                    }
                }
                proptest::prop_assert_eq!(covered(s.as_slice()), model);
                proptest::prop_assert_eq!(s.as_slice().len() as u32, (model & !(model << 1)).count_ones());
                for w in s.as_slice().windows(2) {
                    proptest::prop_assert!(w[0].end < w[1].start);
                }
                proptest::prop_assert!(s.as_slice().iter().all(|r| !r.is_empty()));
            }
        }
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
