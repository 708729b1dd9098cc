//! A reader of flattened device trees (the DTB the firmware hands the
//! kernel at boot), written for what boot needs: walk the nodes once, read
//! a node's properties, its `reg` pairs and `compatible` strings, and the
//! memory reservation block. No allocation, no unsafe, every read bounds-
//! checked: a malformed tree is an error, never a panic. The format is the
//! Devicetree Specification's (v0.4, chapter 5); only version 17 blobs
//! (`last_comp_version` ≤ 16, as every firmware writes) are taken.
//!
//! Why not the `fdt` crate the kernel used before: it is general (paths,
//! iterators of iterators, string parsing) and cost about 5 KiB of kernel
//! code for the dozen reads boot makes; this reader is a single pass over
//! the structure block (docs/benchmarks.md, "Code size"). The crate stays
//! as the test oracle (`fdt::tests`).

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Deepest nesting accepted (QEMU's trees are 4 deep).
pub const MAX_DEPTH: usize = 16;

/// The tree is not a well-formed version-17 device tree blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

impl From<Malformed> for &'static str {
    fn from(_: Malformed) -> &'static str {
        "malformed device tree"
    }
}

/// The big-endian word at byte `at` of `b`, if it lies inside. Out of
/// line: the reader makes a dozen reads, one copy serves them all.
#[inline(never)]
pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    let w = b.get(at..at.checked_add(4)?)?;
    Some(w.iter().fold(0, |n, &x| (n << 8) | u32::from(x)))
}

/// A big-endian number of one or two cells (what `reg`,
/// `timebase-frequency` and `riscv,ndev` hold).
/// Out of line and a plain loop: boot reads a handful, one copy serves.
#[inline(never)]
pub fn cells(b: &[u8]) -> Option<u64> {
    if !matches!(b.len(), 4 | 8) {
        return None;
    }
    Some(b.iter().fold(0, |n, &x| (n << 8) | u64::from(x)))
}

/// A device tree blob, its header checked.
#[derive(Clone, Copy)]
pub struct Fdt<'a> {
    structs: &'a [u8],
    strings: &'a [u8],
    reservations: &'a [u8],
}

impl<'a> Fdt<'a> {
    /// Checks the header of `blob` (magic, version, every block inside
    /// `totalsize` and `totalsize` inside `blob`).
    pub fn new(blob: &'a [u8]) -> Result<Fdt<'a>, Malformed> {
        let word = |i: usize| be32(blob, i * 4).ok_or(Malformed);
        let total = word(1)? as usize;
        if word(0)? != MAGIC || word(6)? > 16 || word(5)? < 17 {
            return Err(Malformed);
        }
        let blob = blob.get(..total).ok_or(Malformed)?;
        let block = |off: u32, len: usize| -> Result<&'a [u8], Malformed> {
            let off = off as usize;
            blob.get(off..off.checked_add(len).ok_or(Malformed)?)
                .ok_or(Malformed)
        };
        let (off_structs, off_strings, off_rsv) = (word(2)?, word(3)?, word(4)?);
        let strings = block(off_strings, word(8)? as usize)?;
        let structs = block(off_structs, word(9)? as usize)?;
        let reservations = block(off_rsv, total.saturating_sub(off_rsv as usize))?;
        Ok(Fdt {
            structs,
            strings,
            reservations,
        })
    }

    /// The memory reservation block's (address, size) pairs, up to its
    /// (0, 0) terminator.
    pub fn reservations(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        let rsv = self.reservations;
        (0..)
            .map(move |i: usize| {
                Some((
                    cells(rsv.get(i * 16..i * 16 + 8)?)?,
                    cells(rsv.get(i * 16 + 8..i * 16 + 16)?)?,
                ))
            })
            .map_while(|e| e.filter(|&(a, s)| (a, s) != (0, 0)))
    }

    /// Calls `visit` for every node in document order (the root first, at
    /// depth 0). Returns an error if the structure block is malformed; the
    /// nodes before the fault have been visited.
    pub fn for_each_node(&self, mut visit: impl FnMut(&Node<'a>)) -> Result<(), Malformed> {
        // Per depth: the node's name and the #address-cells/#size-cells
        // its children's `reg` use (the spec's defaults: 2 and 1), each
        // written when the node begins, before any child reads it. Both
        // start as zeros, which is one `memset`: a non-zero pattern
        // (the empty slice's dangling pointer, the defaults) was a store
        // per entry, 0.25 KiB.
        let mut names: [Option<&[u8]>; MAX_DEPTH] = [None; MAX_DEPTH];
        let mut child_cells = [(0u32, 0u32); MAX_DEPTH];
        let mut depth = 0usize;
        let mut at = 0usize;
        loop {
            let token = be32(self.structs, at).ok_or(Malformed)?;
            at += 4;
            match token {
                BEGIN_NODE => {
                    let rest = self.structs.get(at..).ok_or(Malformed)?;
                    let len = rest.iter().position(|&b| b == 0).ok_or(Malformed)?;
                    let name = rest.get(..len).ok_or(Malformed)?;
                    at = align4(at + len + 1);
                    if depth >= MAX_DEPTH {
                        return Err(Malformed);
                    }
                    let parent_cells = match depth.checked_sub(1) {
                        Some(p) => *child_cells.get(p).ok_or(Malformed)?,
                        None => (2, 1),
                    };
                    let node = Node {
                        fdt: *self,
                        name,
                        parent: depth.checked_sub(1).and_then(|p| names.get(p).copied()?),
                        depth,
                        cells: parent_cells,
                        props: at,
                    };
                    let own =
                        |n: &[u8], d: u32| node.prop(n).and_then(cells).map_or(d, |v| v as u32);
                    let c = (own(b"#address-cells", 2), own(b"#size-cells", 1));
                    *child_cells.get_mut(depth).ok_or(Malformed)? = c;
                    *names.get_mut(depth).ok_or(Malformed)? = Some(name);
                    visit(&node);
                    depth += 1;
                }
                END_NODE => depth = depth.checked_sub(1).ok_or(Malformed)?,
                PROP => at = skip_prop(self.structs, at).ok_or(Malformed)?,
                NOP => {}
                END if depth == 0 => return Ok(()),
                _ => return Err(Malformed),
            }
        }
    }

    fn string(&self, off: u32) -> Option<&'a [u8]> {
        let rest = self.strings.get(off as usize..)?;
        rest.get(..rest.iter().position(|&b| b == 0)?)
    }
}

fn align4(x: usize) -> usize {
    (x + 3) & !3
}

/// The offset after the property whose header starts at `at` (just past
/// its PROP token).
fn skip_prop(structs: &[u8], at: usize) -> Option<usize> {
    let len = be32(structs, at)? as usize;
    let end = at.checked_add(8)?.checked_add(len)?;
    structs.get(..end)?;
    Some(align4(end))
}

/// One node met by [`Fdt::for_each_node`].
pub struct Node<'a> {
    fdt: Fdt<'a>,
    /// Name with unit address (`memory@80000000`); empty for the root.
    pub name: &'a [u8],
    /// The parent's name (`None` for the root).
    pub parent: Option<&'a [u8]>,
    /// 0 for the root.
    pub depth: usize,
    /// The parent's #address-cells and #size-cells, which this node's
    /// `reg` uses.
    cells: (u32, u32),
    /// Offset of the node's first property in the structure block.
    props: usize,
}

impl<'a> Node<'a> {
    /// The value of property `name`, if the node has it. Properties come
    /// before a node's children in the structure block, so the scan stops
    /// at the first token that is neither PROP nor NOP.
    pub fn prop(&self, name: &[u8]) -> Option<&'a [u8]> {
        let s = self.fdt.structs;
        let mut at = self.props;
        loop {
            match be32(s, at)? {
                NOP => at += 4,
                PROP => {
                    let len = be32(s, at + 4)? as usize;
                    let value = s.get(at + 12..(at + 12).checked_add(len)?)?;
                    if self.fdt.string(be32(s, at + 8)?)? == name {
                        return Some(value);
                    }
                    at = skip_prop(s, at + 4)?;
                }
                _ => return None,
            }
        }
    }

    /// The (address, size) pairs of `reg` (size 0 where the parent has
    /// no size cells). Empty if there is none or the cells are not 1 or 2
    /// (0 for the size) wide. Out of line: one copy for `first_reg` and
    /// the platform's loop over memory nodes.
    #[inline(never)]
    pub fn reg(&self) -> Regs<'a> {
        let (a, s) = (self.cells.0 as usize * 4, self.cells.1 as usize * 4);
        let ok = matches!(a, 4 | 8) && matches!(s, 0 | 4 | 8);
        let value = self.prop(b"reg").filter(|_| ok).unwrap_or(&[]);
        Regs {
            value,
            address: a,
            size: s,
        }
    }

    /// The first `reg` pair as a region `[address, address + size)`.
    /// Out of line, as [`Node::is_compatible`]: the platform parse asks
    /// for it per device kind, and one copy serves them all.
    #[inline(never)]
    pub fn first_reg(&self) -> Option<super::Region> {
        let (start, size) = self.reg().next()?;
        Some(super::Region::new(start, start.saturating_add(size)))
    }

    /// Whether `compatible` lists any of `names`.
    pub fn is_compatible(&self, names: &[&str]) -> bool {
        lists_any(self.prop(b"compatible").unwrap_or(&[]), names)
    }
}

/// Whether a string list property's value (`compatible`: NUL-terminated
/// strings) holds any of `names`, whole. Out of line: the platform parse
/// reads a node's `compatible` once and asks it per device kind, one copy
/// serves all.
#[inline(never)]
pub fn lists_any(value: &[u8], names: &[&str]) -> bool {
    value
        .split(|&b| b == 0)
        .any(|c| names.iter().any(|n| n.as_bytes() == c))
}

/// The (address, size) pairs of a `reg` property ([`Node::reg`]): its
/// entries are `address` then `size` bytes, each 4 or 8 wide (`size` 0:
/// no size cells).
pub struct Regs<'a> {
    value: &'a [u8],
    address: usize,
    size: usize,
}

impl Iterator for Regs<'_> {
    type Item = (u64, u64);

    /// Out of line: one copy for every loop over `reg` at boot.
    #[inline(never)]
    fn next(&mut self) -> Option<(u64, u64)> {
        // Empty also when the cell sizes were refused (then both are 0).
        if self.value.is_empty() {
            return None;
        }
        let (entry, rest) = self.value.split_at_checked(self.address + self.size)?;
        self.value = rest;
        let (address, size) = entry.split_at_checked(self.address)?;
        let size = if size.is_empty() { 0 } else { cells(size)? };
        Some((cells(address)?, size))
    }
}

#[cfg(test)]
mod tests;
