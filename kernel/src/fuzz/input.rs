//! The fuzz input as a stream of choices. libFuzzer mutates bytes; this
//! reader turns them into the driver's decisions, so that a short input is
//! a short program and a byte changed changes one decision. An exhausted
//! input reads as zeros (every decision has a meaning at zero), so that
//! every byte string is a valid program.

/// Reads decisions from the fuzz input, front to back.
pub struct Input<'a> {
    data: &'a [u8],
}

/// Words that tend to sit on a boundary of some check: zero and one, the
/// top bit, all ones, page and large-page sizes and alignments, the top of
/// user space, a full CNode depth.
const BOUNDARIES: [u64; 16] = [
    0,
    1,
    2,
    63,
    64,
    0xFFF,
    0x1000,
    0x20_0000,
    0x4000_0000,
    0x3F_FFFF_F000,
    0x40_0000_0000,
    1 << 63,
    u64::MAX,
    u64::MAX - 1,
    0xFFFF,
    0x8000_0000,
];

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 once the input is exhausted).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next `n` bytes (at most 8), little-endian.
    pub fn le(&mut self, n: usize) -> u64 {
        (0..n.min(8)).fold(0, |w, i| w | (self.byte() as u64) << (8 * i))
    }

    /// A choice among `n` (> 0) alternatives.
    pub fn below(&mut self, n: usize) -> usize {
        self.byte() as usize % n.max(1)
    }

    /// A message word, drawn one of several ways so that small numbers,
    /// boundary values, capability addresses and raw words are all
    /// likely: `cptrs` are the addresses of the capabilities in play.
    pub fn word(&mut self, cptrs: &[u64]) -> u64 {
        let tag = self.byte();
        match tag % 8 {
            0 | 1 => self.byte() as u64,
            2 => cptrs.get(self.below(cptrs.len())).copied().unwrap_or(0),
            3 => BOUNDARIES
                .get(self.below(BOUNDARIES.len()))
                .copied()
                .unwrap_or(0),
            4 => self.le(2),
            // An address: page-aligned, in the lower part of user space.
            5 => self.le(2) << 12,
            6 => self.le(4),
            _ => self.le(8),
        }
    }
}
