//! CSpace addressing: resolving a capability pointer through CNodes with
//! guards and radix (ch. 3, *CSpace Addressing*; ABI ref §4).

use super::cap::Cap;
use super::cte::{cnode_slot, SlotRef};
use super::words::CapWords;
pub use crate::types::LookupFault;
use crate::types::PAddr;

/// `bits` bits of `w` whose most significant bit is bit `top - 1`.
fn bits_below(w: u64, top: u32, bits: u32) -> u64 {
    if bits == 0 || top == 0 {
        return 0;
    }
    let shifted = w.checked_shr(top - bits).unwrap_or(0);
    if bits >= 64 {
        shifted
    } else {
        shifted & ((1u64 << bits) - 1)
    }
}

/// A CNode capability's fields as the lookup walks them: object, radix,
/// guard size, guard.
type CNodeFields = (PAddr, u32, u32, u64);

/// A capability a lookup may start from: a decoded [`Cap`] or the two
/// words of a slot, read in place (a thread's CSpace root is read at
/// every system call; decoding it whole cost more than the walk).
pub trait LookupRoot: Copy {
    /// The CNode's fields; `None` for any other capability.
    fn cnode_fields(self) -> Option<CNodeFields>;
}

impl LookupRoot for Cap {
    #[inline]
    fn cnode_fields(self) -> Option<CNodeFields> {
        match self {
            Cap::CNode {
                ptr,
                radix,
                guard_size,
                guard,
            } => Some((ptr, radix as u32, guard_size as u32, guard)),
            _ => None,
        }
    }
}

impl LookupRoot for CapWords {
    #[inline]
    fn cnode_fields(self) -> Option<CNodeFields> {
        self.cnode()
    }
}

/// seL4's `resolveAddressBits`: resolves the `n` most significant bits of
/// the low `n` bits of `cptr`, starting at the CNode capability `root`.
/// Returns the slot reached and how many bits were left unresolved (non-zero
/// only when the walk stopped early at a slot not holding a CNode).
#[inline]
pub fn resolve_address_bits(
    root: impl LookupRoot,
    cptr: u64,
    n: u32,
) -> Result<(SlotRef, u32), LookupFault> {
    resolve_from(root.cnode_fields(), cptr, n)
}

/// [`resolve_address_bits`] from the root's CNode fields (one copy of the
/// walk, whatever the root was read from). The CNodes met on the way are
/// read in place.
fn resolve_from(
    root: Option<CNodeFields>,
    cptr: u64,
    mut n: u32,
) -> Result<(SlotRef, u32), LookupFault> {
    let Some((mut ptr, mut radix, mut guard_size, mut guard)) = root else {
        return Err(LookupFault::InvalidRoot);
    };
    loop {
        let (g, r) = (guard_size, radix);
        if g > n || bits_below(cptr, n, g) != guard {
            return Err(LookupFault::GuardMismatch {
                bits_left: n,
                guard_found: guard,
                bits_found: g,
            });
        }
        if g + r > n {
            return Err(LookupFault::DepthMismatch {
                bits_left: n,
                bits_found: g + r,
            });
        }
        let index = bits_below(cptr, n - g, r);
        let slot = cnode_slot(ptr, index);
        if n == g + r {
            return Ok((slot, 0));
        }
        n -= g + r;
        match slot.get().words().cnode() {
            Some((p, rr, gs, gg)) if rr + gs > 0 => {
                (ptr, radix, guard_size, guard) = (p, rr, gs, gg);
            }
            _ => return Ok((slot, n)),
        }
    }
}

/// A full-depth lookup with the capability decoded (the tests' form): see
/// [`lookup_cap_words`].
#[cfg(test)]
pub fn lookup_cap(root: impl LookupRoot, cptr: u64) -> Result<(SlotRef, Cap), LookupFault> {
    lookup_cap_words(root, cptr).map(|(slot, cap)| (slot, Cap::decode(cap.0)))
}

/// [`lookup_cap_words`] out of line, for the full-depth lookups off the
/// fast paths (`DebugCapIdentify`, fault handlers, the receive CNode of a
/// cap transfer, the classic receive endpoint; seL4's
/// `lookupCapAndSlot`): one copy of the walk, and the capability as its
/// two words, which each caller reads or decodes as it needs (a decoded
/// `Cap` returned through the `Result` was copied out and back;
/// docs/benchmarks.md, "Code size").
#[inline(never)]
pub fn lookup_cap_rare(root: CapWords, cptr: u64) -> Result<(SlotRef, CapWords), LookupFault> {
    lookup_cap_words(root, cptr)
}

/// A full-depth lookup (invoked caps, extra caps; seL4's
/// `lookupCapAndSlot`): the walk may stop early at a non-CNode
/// capability. Returns the slot and the two words of the capability in
/// it, which may be null: an empty slot is found, not a lookup failure
/// (invoking it is InvalidCapability; a null extra cap is each method's
/// business, and an IPC receive on it is MissingCapability(0) at the call
/// site). The capability is not decoded: whoever uses it reads the fields
/// it needs. Walked the fastpath's way ([`lookup_slot_fast`], inlined into
/// the caller); only a failed walk is walked again, out of line, for its
/// lookup fault ([`lookup_cap_words_slow`]).
#[inline(always)]
pub fn lookup_cap_words(
    root: impl LookupRoot,
    cptr: u64,
) -> Result<(SlotRef, CapWords), LookupFault> {
    match walk_fast(root.cnode_fields(), cptr) {
        Some(found) => Ok(found),
        None => lookup_cap_words_slow(root, cptr),
    }
}

/// [`lookup_cap_words`] where it succeeds, `None` where it fails: the
/// walk alone, inlined. A caller on a hot path matches this first and
/// calls [`lookup_cap_words_slow`] on `None`, so that the slot and words
/// found stay in registers (a `Result` carrying a lookup fault is
/// returned through memory).
#[inline(always)]
pub fn lookup_slot_fast(root: impl LookupRoot, cptr: u64) -> Option<(SlotRef, CapWords)> {
    walk_fast(root.cnode_fields(), cptr)
}

/// The slot [`lookup_slot_fast`] finds, as a call of its own that saves
/// no register and answers in registers: for the extra caps of an
/// invocation or a message, looked up in a loop whose caller keeps its
/// own registers.
#[inline(never)]
pub fn lookup_slot_by_call(root: CapWords, cptr: u64) -> Option<SlotRef> {
    walk_fast(root.cnode(), cptr).map(|(slot, _)| slot)
}

/// [`lookup_cap_words`] by the walk of [`resolve_address_bits`], which
/// reports faults: what a lookup answers after the fast walk failed. Out
/// of line, off the path of every lookup that succeeds.
#[inline(never)]
pub fn lookup_cap_words_slow(
    root: impl LookupRoot,
    cptr: u64,
) -> Result<(SlotRef, CapWords), LookupFault> {
    let (slot, _) = resolve_from(root.cnode_fields(), cptr, 64)?;
    Ok((slot, slot.get().words()))
}

/// The fastpath's lookup (seL4's `lookup_fp`): [`lookup_cap`] reading
/// the CNode capabilities in place, without building a lookup fault.
/// `Some(cap)` exactly when `lookup_cap` finds a slot (holding `cap`),
/// `None` exactly when it fails: the fastpath then leaves the system call
/// to the general path, which reports the fault. Always inlined: the MCS
/// fastpath's ReplyRecv looks up two caps, and a call per lookup cost it
/// about 5 instructions each (`bench --profile`, docs/benchmarks.md).
/// A CSpace of one level takes [`OneLevel`]'s single step, any other the
/// walk.
#[inline(always)]
pub fn lookup_fast(root: CapWords, cptr: u64) -> Option<CapWords> {
    match OneLevel::of(root) {
        Some(cspace) => cspace.lookup(cptr),
        None => walk_fast(root.cnode(), cptr).map(|(_, cap)| cap),
    }
}

/// A lookup the fastpath makes in the CSpace of the thread it runs for:
/// [`lookup_fast`]'s answer, by the general walk from the root's words
/// or by the single step of a CSpace of one level. The fastpath is
/// compiled once for each (`api::fastpath::try_ipc`), so that the copy
/// for one level, the common case, holds no loop: the walk's registers
/// made the MCS ReplyRecv save nine callee-saved registers.
pub trait FastLookup: Copy {
    /// The capability `cptr` names, read in place; `None` where
    /// [`lookup_cap`] fails.
    fn lookup(self, cptr: u64) -> Option<CapWords>;
}

/// The walk for a CSpace of more than one level: by call
/// ([`lookup_slot_by_call`]), so that the fastpath's walking copy, off
/// the common path, stays small.
impl FastLookup for CapWords {
    #[inline(always)]
    fn lookup(self, cptr: u64) -> Option<CapWords> {
        lookup_slot_by_call(self, cptr).map(|slot| slot.get().words())
    }
}

/// A root CNode whose guard and radix take all 64 bits: a CSpace of one
/// level, as the root task's and most servers' are. A lookup is a guard
/// check and an index, without the walk's checks of bits left and of a
/// next level: the walk's first turn with 64 bits to resolve, which ends
/// there.
#[derive(Clone, Copy)]
pub struct OneLevel {
    ptr: PAddr,
    guard_size: u32,
    guard: u64,
}

impl OneLevel {
    /// `root`'s fields, if it is a CNode capability of one level.
    #[inline(always)]
    pub fn of(root: CapWords) -> Option<Self> {
        let (ptr, radix, guard_size, guard) = root.cnode()?;
        (radix + guard_size == 64).then_some(Self {
            ptr,
            guard_size,
            guard,
        })
    }
}

impl FastLookup for OneLevel {
    #[inline(always)]
    fn lookup(self, cptr: u64) -> Option<CapWords> {
        // guard_size < 64 (a 6-bit field), so the radix is not 0: the
        // guard is the top guard_size bits of cptr, the index the rest.
        let g = self.guard_size;
        if cptr >> 1 >> (63 - g) != self.guard {
            return None;
        }
        Some(cnode_slot(self.ptr, cptr & (u64::MAX >> g)).get().words())
    }
}

/// The full-depth walk of [`resolve_address_bits`] without its lookup
/// faults: the slot it finds and the capability there, `None` exactly
/// where it fails. The
/// unresolved bits are kept at the top of `rest`, so each level is two
/// shifts.
// Always inlined: the fastpath's copy must cost what its own loop did.
#[inline(always)]
fn walk_fast(root: Option<CNodeFields>, cptr: u64) -> Option<(SlotRef, CapWords)> {
    let (mut ptr, mut radix, mut guard_size, mut guard) = root?;
    let (mut rest, mut left) = (cptr, 64u32);
    loop {
        // Guard size and radix are 6-bit fields (< 64), so no shift
        // overflows; the top `b` bits of `rest` are `rest >> 1 >> (63 - b)`,
        // which is 0 for b = 0.
        if guard_size + radix > left || rest >> 1 >> (63 - guard_size) != guard {
            return None;
        }
        rest <<= guard_size;
        let index = rest >> 1 >> (63 - radix);
        rest <<= radix;
        left -= guard_size + radix;
        let slot = cnode_slot(ptr, index);
        let cap = slot.get().words();
        if left == 0 {
            return Some((slot, cap));
        }
        match cap.cnode() {
            Some((p, r, g, gd)) if r + g > 0 => (ptr, radix, guard_size, guard) = (p, r, g, gd),
            _ => return Some((slot, cap)),
        }
    }
}

/// An `(index, depth)` lookup of a slot for a CNode operation: the walk must
/// consume exactly `depth` bits (the caller has checked 1 ≤ depth ≤ 64).
pub fn lookup_slot_exact(
    root: impl LookupRoot,
    index: u64,
    depth: u32,
) -> Result<SlotRef, LookupFault> {
    let (slot, left) = resolve_address_bits(root, index, depth)?;
    if left != 0 {
        return Err(LookupFault::DepthMismatch {
            bits_left: left,
            bits_found: 0,
        });
    }
    Ok(slot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;
    use crate::cap::cte::insert_original;
    use crate::types::PAddr;

    const BASE: u64 = 0x8000_0000;

    fn root(radix: u8) -> Cap {
        Cap::CNode {
            ptr: PAddr(BASE),
            radix,
            guard_size: 64 - radix,
            guard: 0,
        }
    }

    #[test]
    fn root_task_style_cnode_resolves_small_cptrs() {
        SimMachine::install(BASE, 1 << 20);
        insert_original(cnode_slot(PAddr(BASE), 5), Cap::AsidControl);
        let (slot, cap) = lookup_cap(root(12), 5).unwrap();
        assert_eq!(slot, cnode_slot(PAddr(BASE), 5));
        assert_eq!(cap, Cap::AsidControl);
        // An empty slot is found, holding the null capability.
        assert_eq!(
            lookup_cap(root(12), 6),
            Ok((cnode_slot(PAddr(BASE), 6), Cap::Null))
        );
    }

    #[test]
    fn guard_mismatch_reports_sel4s_data() {
        SimMachine::install(BASE, 1 << 20);
        // A cptr with a bit set above the radix misses the zero guard.
        let e = lookup_cap(root(12), 1 << 12).unwrap_err();
        assert_eq!(
            e,
            LookupFault::GuardMismatch {
                bits_left: 64,
                guard_found: 0,
                bits_found: 52
            }
        );
        // ABI ref §6.7: Copy to dest depth 13 with radix 13 root: GuardMismatch(13, 0, 51).
        let e = lookup_slot_exact(root(13), 7, 13).unwrap_err();
        assert_eq!(
            e,
            LookupFault::GuardMismatch {
                bits_left: 13,
                guard_found: 0,
                bits_found: 51
            }
        );
        assert_eq!(e.words(), ([4, 13, 0, 51], 4));
    }

    #[test]
    fn depth_mismatch_and_invalid_root() {
        SimMachine::install(BASE, 1 << 20);
        let small = Cap::CNode {
            ptr: PAddr(BASE),
            radix: 8,
            guard_size: 0,
            guard: 0,
        };
        assert_eq!(
            lookup_slot_exact(small, 3, 4),
            Err(LookupFault::DepthMismatch {
                bits_left: 4,
                bits_found: 8
            })
        );
        assert_eq!(lookup_cap(Cap::Domain, 0), Err(LookupFault::InvalidRoot));
    }

    #[test]
    fn two_level_walk_and_early_stop() {
        SimMachine::install(BASE, 1 << 20);
        let l2 = PAddr(BASE + 0x10000);
        // Root: radix 4, no guard. Slot 3 holds a radix-4 CNode with a 4-bit guard 0b1010.
        let r = Cap::CNode {
            ptr: PAddr(BASE),
            radix: 4,
            guard_size: 0,
            guard: 0,
        };
        insert_original(
            cnode_slot(PAddr(BASE), 3),
            Cap::CNode {
                ptr: l2,
                radix: 4,
                guard_size: 4,
                guard: 0b1010,
            },
        );
        insert_original(cnode_slot(l2, 9), Cap::Domain);
        insert_original(cnode_slot(PAddr(BASE), 2), Cap::IrqControl);
        // cptr (12 bits): 0011 1010 1001
        let (slot, left) = resolve_address_bits(r, 0x3A9, 12).unwrap();
        assert_eq!((slot, left), (cnode_slot(l2, 9), 0));
        // Early stop at a non-CNode cap with bits left.
        let (slot, left) = resolve_address_bits(r, 0x2FF, 12).unwrap();
        assert_eq!((slot, left), (cnode_slot(PAddr(BASE), 2), 8));
        // A wrong second-level guard.
        assert_eq!(
            resolve_address_bits(r, 0x3B9, 12),
            Err(LookupFault::GuardMismatch {
                bits_left: 8,
                guard_found: 0b1010,
                bits_found: 4
            })
        );
        // Exact-depth lookup refuses the early stop.
        assert_eq!(
            lookup_slot_exact(r, 0x2FF, 12),
            Err(LookupFault::DepthMismatch {
                bits_left: 8,
                bits_found: 0
            })
        );
    }

    /// `lookup_fast` finds what `resolve_address_bits` finds and fails
    /// where it fails, and `lookup_cap` answers as that walk (the same
    /// slot, or the same lookup fault), on two-level CSpaces with random radices, guards and cptrs.
    mod fast {
        use super::*;
        use crate::cap::cap::tests::caps;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn agrees_with_lookup_cap(
                (r1, g1, gv1) in prop_oneof![
                    (0u8..=6, 0u8..=63, 0u64..4),
                    // A CSpace of one level (lookup_fast's one step).
                    (1u8..=6, 0u64..4).prop_map(|(r, gv)| (r, 64 - r, gv)),
                ],
                (r2, g2, gv2) in (0u8..=6, 0u8..=63, 0u64..4),
                at in 0u64..64,
                leaf in caps(),
                cptr in prop_oneof![any::<u64>(), 0u64..1 << 16, any::<u64>().prop_map(|c| c >> 40)],
            ) {
                SimMachine::install(BASE, 1 << 20);
                let l2 = PAddr(BASE + 0x10000);
                let root = Cap::CNode { ptr: PAddr(BASE), radix: r1, guard_size: g1, guard: gv1 };
                let child = Cap::CNode { ptr: l2, radix: r2, guard_size: g2, guard: gv2 };
                let slots = 1u64 << r1;
                // With one slot the leaf overwrites the child: a root
                // holding no CNode.
                cnode_slot(PAddr(BASE), at % slots).get().set_cap(child);
                cnode_slot(PAddr(BASE), (at + 1) % slots).get().set_cap(leaf);
                for i in 0..1u64 << r2 {
                    cnode_slot(l2, i).get().set_cap(if i % 2 == 0 { leaf } else { Cap::Domain });
                }
                // Against the walk that reports faults (lookup_cap itself
                // walks the fast way first).
                let slow = resolve_address_bits(root, cptr, 64);
                let found = slow.ok().map(|(slot, _)| slot.get().words());
                prop_assert_eq!(lookup_fast(CapWords(root.encode()), cptr), found);
                // The fastpath's two forms answer the same.
                let words = CapWords(root.encode());
                prop_assert_eq!(FastLookup::lookup(words, cptr), found);
                if let Some(one) = OneLevel::of(words) {
                    prop_assert_eq!(one.lookup(cptr), found);
                }
                prop_assert_eq!(OneLevel::of(words).is_some(), r1 + g1 == 64);
                let looked_up = lookup_cap(root, cptr).map(|(slot, c)| (slot, CapWords(c.encode())));
                prop_assert_eq!(looked_up, slow.map(|(slot, _)| (slot, slot.get().words())));
                // The undecoded lookups answer the same, inlined or by call.
                let words = slow.map(|(slot, _)| (slot, slot.get().words()));
                prop_assert_eq!(lookup_cap_words(root, cptr), words);
                prop_assert_eq!(lookup_cap_words_slow(root, cptr), words);
                prop_assert_eq!(lookup_slot_fast(root, cptr), words.ok());
                let by_call = lookup_slot_by_call(CapWords(root.encode()), cptr);
                prop_assert_eq!(by_call, words.ok().map(|(slot, _)| slot));
            }
        }

        #[test]
        fn a_root_that_is_no_cnode_fails() {
            assert_eq!(lookup_fast(CapWords(Cap::Domain.encode()), 0), None);
        }
    }
}
