//! Capability slots (CTEs) and the capability derivation tree (ch. 3,
//! *Capability Derivation Tree*): the slot layout and the list operations
//! that need no knowledge of what the capabilities name. `cap::derive` has
//! the two that do (`cte_insert`, `is_final_capability`).
//!
//! A CTE is 32 bytes (`seL4_SlotBits` = 5): the capability's two words and
//! two words of derivation-tree links. As in seL4, the derivation tree is
//! kept as a doubly-linked list of slots in depth-first order; a slot's
//! descendants are the slots that follow it and are "MDB children" of it.
//! Link words hold the neighbour's physical address (CTEs are 32-byte
//! aligned, so the low bits are free): `prev | revocable`, `next | first_badged`.

use super::cap::Cap;
use super::words::CapWords;
use crate::object::access::ObjPtr;
use crate::types::{PAddr, VSpaceWord};
use core::cell::Cell;

/// One capability slot.
#[repr(C)]
pub struct Cte {
    cap: [Cell<u64>; 2],
    mdb: [Cell<u64>; 2],
}

/// A pointer to a slot.
pub type SlotRef = ObjPtr<Cte>;

const REVOCABLE: u64 = 1;
const FIRST_BADGED: u64 = 1;
const LINK_MASK: u64 = !0x1F;

impl Cte {
    pub fn cap(&self) -> Cap {
        Cap::decode([self.cap[0].get(), self.cap[1].get()])
    }

    /// The root and ASID if the slot holds an assigned VSpace root cap
    /// ([`Cap::assigned_vspace`]), without decoding the whole cap.
    #[inline]
    pub fn assigned_vspace(&self) -> Option<(PAddr, u16)> {
        Cap::assigned_vspace([self.cap[0].get(), self.cap[1].get()])
    }

    /// The slot's assigned VSpace root cap as its [`VSpaceWord`]
    /// ([`Cap::assigned_vspace_word`]).
    #[inline]
    pub fn assigned_vspace_word(&self) -> Option<VSpaceWord> {
        Cap::assigned_vspace_word([self.cap[0].get(), self.cap[1].get()])
    }

    /// The capability in the slot, undecoded (the fastpath's reads).
    #[inline]
    pub fn words(&self) -> CapWords {
        CapWords([self.cap[0].get(), self.cap[1].get()])
    }

    /// Overwrites the capability, leaving the tree links alone.
    pub fn set_cap(&self, cap: Cap) {
        self.set_words(CapWords(cap.encode()));
    }

    /// Overwrites the capability with words already encoded (in place
    /// updates such as [`CapWords::with_free_index`]).
    #[inline]
    pub fn set_words(&self, w: CapWords) {
        let [a, b] = w.0;
        self.cap[0].set(a);
        self.cap[1].set(b);
    }

    /// The previous slot in the derivation list.
    pub fn prev(&self) -> Option<SlotRef> {
        link(self.mdb[0].get())
    }
    /// The next slot in the derivation list.
    pub fn next(&self) -> Option<SlotRef> {
        link(self.mdb[1].get())
    }
    /// Whether the capability is revocable (an original).
    pub fn revocable(&self) -> bool {
        self.mdb[0].get() & REVOCABLE != 0
    }
    /// Whether this is the first badged copy (seL4's `mdbFirstBadged`).
    pub fn first_badged(&self) -> bool {
        self.mdb[1].get() & FIRST_BADGED != 0
    }

    fn set_prev(&self, p: Option<SlotRef>) {
        self.mdb[0].set(pa_of(p) | (self.mdb[0].get() & !LINK_MASK));
    }
    fn set_next(&self, n: Option<SlotRef>) {
        self.mdb[1].set(pa_of(n) | (self.mdb[1].get() & !LINK_MASK));
    }
    fn set_flags(&self, revocable: bool, first_badged: bool) {
        self.mdb[0].set((self.mdb[0].get() & LINK_MASK) | revocable as u64);
        self.mdb[1].set((self.mdb[1].get() & LINK_MASK) | first_badged as u64);
    }
    // Four stores: the iterator chain over both arrays stays a loop.
    fn clear(&self) {
        let [c0, c1] = &self.cap;
        let [m0, m1] = &self.mdb;
        c0.set(0);
        c1.set(0);
        m0.set(0);
        m1.set(0);
    }
}

fn link(w: u64) -> Option<SlotRef> {
    match w & LINK_MASK {
        0 => None,
        pa => Some(SlotRef::new(PAddr(pa))),
    }
}

fn pa_of(s: Option<SlotRef>) -> u64 {
    s.map_or(0, |s| s.paddr().0)
}

/// Slot `index` of the CNode at `cnode` (the caller checks the index
/// against the radix).
pub fn cnode_slot(cnode: PAddr, index: u64) -> SlotRef {
    SlotRef::new(cnode.add(index << cairn_abi::object::SLOT_BITS))
}

/// Puts an original capability (a root of the derivation tree, e.g. made at
/// boot or by retype without a parent list position) into an empty slot.
pub fn insert_original(slot: SlotRef, cap: Cap) {
    let s = slot.get();
    debug_assert!(s.cap().is_null());
    s.clear();
    s.set_cap(cap);
    s.set_flags(true, true);
}

/// Inserts `cap`, derived from the capability in `parent`, into the empty
/// `slot` as `parent`'s child: right after the parent in the list (seL4's
/// `cteInsert`). `revocable` follows seL4's rules for the capability type
/// (decided by the caller).
pub fn insert_child(parent: SlotRef, slot: SlotRef, cap: Cap, revocable: bool) {
    insert_child_words(parent, slot, CapWords(cap.encode()), revocable);
}

/// [`insert_child`] of a capability already encoded (the fastpath's reply
/// capability: seL4's fastpath also writes the cap and its links
/// directly): each word written once, with the links and flags
/// `insert_child` leaves.
#[inline(always)]
pub fn insert_child_words(parent: SlotRef, slot: SlotRef, cap: CapWords, revocable: bool) {
    let (s, p) = (slot.get(), parent.get());
    debug_assert!(s.words().is_null());
    // Read once: the stores below are to other slots (an empty slot is
    // neither the parent nor its successor).
    let parent_next = p.mdb[1].get();
    let next = parent_next & LINK_MASK;
    let flag = revocable as u64;
    s.set_words(cap);
    s.mdb[0].set(parent.paddr().0 | flag);
    s.mdb[1].set(next | flag);
    if let Some(n) = link(next) {
        let n = n.get();
        n.mdb[0].set(slot.paddr().0 | (n.mdb[0].get() & !LINK_MASK));
    }
    p.mdb[1].set(slot.paddr().0 | (parent_next & !LINK_MASK));
}

/// seL4's `cteMove`: moves the capability of `src` into the empty slot
/// `dest` as `cap` (Mutate may have changed its guard), taking over the
/// list position and revocable/first-badged flags; `src` is left empty.
/// Out of line: only the CNode's Move, Mutate, Rotate (twice) and
/// SaveCaller use it, none on a benchmarked path, and inlined it was
/// copied into each (docs/benchmarks.md, "Code size").
#[inline(never)]
pub fn cte_move(cap: Cap, src: SlotRef, dest: SlotRef) {
    if src == dest {
        return;
    }
    let (s, d) = (src.get(), dest.get());
    debug_assert!(d.cap().is_null());
    let (prev, next) = (s.prev(), s.next());
    let mdb = [s.mdb[0].get(), s.mdb[1].get()];
    d.set_cap(cap);
    d.mdb[0].set(mdb[0]);
    d.mdb[1].set(mdb[1]);
    s.clear();
    if let Some(p) = prev {
        p.get().set_next(Some(dest));
    }
    if let Some(n) = next {
        n.get().set_prev(Some(dest));
    }
}

/// seL4's `cteSwap`: exchanges two slots' capabilities (as `cap1`, the
/// capability of `slot1`, and `cap2`) together with their list positions
/// and flags. Neighbouring slots are handled (the two may be adjacent).
pub fn cte_swap(cap1: Cap, slot1: SlotRef, cap2: Cap, slot2: SlotRef) {
    if slot1 == slot2 {
        slot1.get().set_cap(cap1);
        return;
    }
    let (a, b) = (slot1.get(), slot2.get());
    let mdb_a = [a.mdb[0].get(), a.mdb[1].get()];
    let mdb_b = [b.mdb[0].get(), b.mdb[1].get()];
    // Re-point a's neighbours at b, then b's (old) neighbours at a; where
    // the two are neighbours each other's link then names the other slot.
    let (pa, na) = (a.prev(), a.next());
    if let Some(p) = pa {
        p.get().set_next(Some(slot2));
    }
    if let Some(n) = na {
        n.get().set_prev(Some(slot2));
    }
    let swap_ref = |x: u64| -> u64 {
        let l = x & LINK_MASK;
        let f = x & !LINK_MASK;
        if l == slot1.paddr().0 {
            slot2.paddr().0 | f
        } else if l == slot2.paddr().0 {
            slot1.paddr().0 | f
        } else {
            x
        }
    };
    let (pb, nb) = (link(mdb_b[0]), link(mdb_b[1]));
    a.set_cap(cap2);
    b.set_cap(cap1);
    a.mdb[0].set(swap_ref(mdb_b[0]));
    a.mdb[1].set(swap_ref(mdb_b[1]));
    b.mdb[0].set(swap_ref(mdb_a[0]));
    b.mdb[1].set(swap_ref(mdb_a[1]));
    if let Some(p) = pb.filter(|&p| p != slot1) {
        p.get().set_next(Some(slot1));
    }
    if let Some(n) = nb.filter(|&n| n != slot1) {
        n.get().set_prev(Some(slot1));
    }
}

/// seL4's `emptySlot` (without the post-deletion hook, which is
/// `cap::delete`'s): unlinks the slot from the derivation list and clears
/// it. The next slot inherits "first badged" so that a badged subtree keeps
/// its root. Returns the capability that was there.
pub fn empty_slot(slot: SlotRef) -> Cap {
    let cap = slot.get().cap();
    if !cap.is_null() {
        empty_full_slot(slot);
    }
    cap
}

/// [`empty_slot`] of a slot known to hold a capability, which is not
/// decoded (the fastpath's removal of the reply capability).
#[inline(always)]
pub fn empty_full_slot(slot: SlotRef) {
    let s = slot.get();
    let (prev, next) = (s.prev(), s.next());
    if let Some(p) = prev {
        p.get().set_next(next);
    }
    if let Some(n) = next {
        let ng = n.get();
        ng.set_prev(prev);
        if s.first_badged() {
            ng.mdb[1].set(ng.mdb[1].get() | FIRST_BADGED);
        }
    }
    s.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;

    const BASE: u64 = 0x8000_0000;

    #[test]
    fn insert_and_empty_keep_the_list_linked() {
        SimMachine::install(BASE, 1 << 16);
        let cn = PAddr(BASE);
        let (a, b, c) = (cnode_slot(cn, 1), cnode_slot(cn, 2), cnode_slot(cn, 3));
        insert_original(a, Cap::Domain);
        insert_child(a, b, Cap::Domain, false);
        insert_child(a, c, Cap::Domain, false);
        // List order: a, c, b (a child goes right after its parent).
        assert_eq!(a.get().next(), Some(c));
        assert_eq!(c.get().next(), Some(b));
        assert_eq!(b.get().prev(), Some(c));
        assert!(a.get().revocable() && !b.get().revocable());
        assert_eq!(empty_slot(c), Cap::Domain);
        assert_eq!(a.get().next(), Some(b));
        assert_eq!(b.get().prev(), Some(a));
        assert!(c.get().cap().is_null() && c.get().next().is_none());
    }
}
