//! CSpace addressing (manual §3.3 *CSpace Addressing*): an address is
//! resolved most significant bits first; at each CNode the next
//! `guard_size` bits must equal the guard, the next `radix` bits pick the
//! slot; the walk goes on into a CNode cap found in the slot while bits
//! remain.

use crate::cap::Cap;
use crate::error::{LookupFault, SyscallError};
use crate::state::{SlotId, State};

/// The `k` bits of `w` just below bit `top` (bits `top-1 ..= top-k`).
fn bits(w: u64, top: u32, k: u32) -> u64 {
    let v = (w as u128) >> (top - k);
    (v & ((1u128 << k) - 1)) as u64
}

impl State {
    /// Resolves the top `depth` bits of the low `depth` bits of `cptr`
    /// from the CNode cap `root`: the slot reached and the bits left
    /// unresolved (non-zero if the walk ended at a slot holding no CNode).
    pub fn resolve(&self, root: &Cap, cptr: u64, depth: u32) -> Result<(SlotId, u32), LookupFault> {
        let mut cnode = *root;
        let mut n = depth;
        loop {
            let Cap::CNode {
                obj,
                radix,
                guard_size,
                guard,
            } = cnode
            else {
                return Err(LookupFault::InvalidRoot);
            };
            if guard_size > n || bits(cptr, n, guard_size) != guard {
                return Err(LookupFault::GuardMismatch {
                    bits_left: n,
                    guard_found: guard,
                    bits_found: guard_size,
                });
            }
            if guard_size + radix > n {
                return Err(LookupFault::DepthMismatch {
                    bits_left: n,
                    bits_found: guard_size + radix,
                });
            }
            let slot = SlotId {
                obj,
                index: bits(cptr, n - guard_size, radix),
            };
            n -= guard_size + radix;
            if n == 0 {
                return Ok((slot, 0));
            }
            match self.cap(slot) {
                Some(next @ Cap::CNode { .. }) => cnode = next,
                _ => return Ok((slot, n)),
            }
        }
    }

    /// The cap a thread names with `cptr` (invoked caps, extra caps): a
    /// full 64-bit walk from its CSpace root that may end early at a
    /// non-CNode cap. The slot may be empty.
    pub fn lookup_cap(
        &self,
        cspace: &Cap,
        cptr: u64,
    ) -> Result<(SlotId, Option<Cap>), LookupFault> {
        let (slot, _) = self.resolve(cspace, cptr, 64)?;
        Ok((slot, self.cap(slot)))
    }

    /// The slot a CNode method names by `(index, depth)` relative to
    /// `root` (§3.3.2): `root` must be a CNode, the depth 1..=64, and the
    /// walk must use exactly `depth` bits.
    pub fn lookup_slot_for_cnode_op(
        &self,
        source: bool,
        root: &Cap,
        index: u64,
        depth: u64,
    ) -> Result<SlotId, SyscallError> {
        let failed = |fault| SyscallError::FailedLookup { source, fault };
        if !matches!(root, Cap::CNode { .. }) {
            return Err(failed(LookupFault::InvalidRoot));
        }
        if !(1..=64).contains(&depth) {
            return Err(SyscallError::RangeError { min: 1, max: 64 });
        }
        match self.resolve(root, index, depth as u32) {
            Err(f) => Err(failed(f)),
            Ok((slot, 0)) => Ok(slot),
            Ok((_, left)) => Err(failed(LookupFault::DepthMismatch {
                bits_left: left,
                bits_found: 0,
            })),
        }
    }
}
