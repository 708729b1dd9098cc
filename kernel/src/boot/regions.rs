//! Cutting a region into untyped blocks as seL4 does (ABI ref §6.6).

use crate::types::Region;

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
        let mut bits = floor_log2(len);
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

/// `floor(log2(x))` for `x` > 0 (0 for 0). The target has no
/// count-leading-zeros instruction: `leading_zeros` is a 0.15 KiB
/// bit-twiddling sequence, this binary search a third of it (and as
/// fast); out of line, one copy for boot's two uses.
#[inline(never)]
pub fn floor_log2(x: u64) -> u32 {
    let (mut x, mut n) = (x, 0);
    for shift in [32, 16, 8, 4, 2, 1] {
        if x >> shift != 0 {
            x >>= shift;
            n += shift;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_log2_is_the_highest_set_bit() {
        for (x, want) in [
            (1, 0),
            (2, 1),
            (3, 1),
            (4096, 12),
            (4097, 12),
            (u64::MAX, 63),
        ] {
            assert_eq!(floor_log2(x), want, "{x:#x}");
        }
        assert_eq!(floor_log2(0), 0);
        for b in 0..64 {
            let low = 1u64 << b;
            assert_eq!(floor_log2(low), b, "2^{b}");
            assert_eq!(floor_log2(low | (low - 1)), b, "2^{b} with every lower bit");
        }
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
