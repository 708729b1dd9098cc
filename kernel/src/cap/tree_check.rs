//! Test-only checks of the derivation tree's invariants (ch. 3, *Capability
//! Derivation Tree*), used after every step of the property tests
//! (`cap::proptests`) and by the deletion tests.
//!
//! * [`check_tree`]: the lists are well linked, every capability is in
//!   exactly one, subtrees nest, rights only shrink down the tree, untyped
//!   children lie inside their parent. It returns the tree ([`Cdt`]).
//! * [`gather_slots`]: every slot reachable through CNode, TCB and zombie
//!   capabilities and derivation links (a link into memory that is no
//!   object's slot is a dangling link).
//! * [`check_rooted`]: every capability descends from a boot capability.
//! * [`check_memory`]: no capability names memory that boot did not hand
//!   out, no two objects overlap, every object inside an untyped is its
//!   descendant and below its watermark; [`check_ancestors`]: every object
//!   has an untyped ancestor (while no untyped with children is deleted).

#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support, also built for the fuzzer (feature `fuzzing`) \
              and so not `cfg(test)`: a panic here is a failed check"
)]

use super::cap::{Cap, VmRights};
use super::cte::SlotRef;
use super::derive::{cap_region, is_mdb_parent_of, same_object_as};
use super::zombie::{Zombie, ZombieKind};
use crate::object::tcb::{Tcb, TcbRef, TCB_CNODE_ENTRIES};
use crate::types::{PAddr, Region};
use cairn_abi::object::SLOT_BITS;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A fast hasher for slot addresses and other small keys: these checks
/// run after every step of the property and refinement tests, where the
/// standard (DoS-resistant) hasher was the largest single cost.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.write_u64(b as u64));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(23) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        // Slot addresses share their low bits: fold the high bits down.
        self.0 ^ (self.0 >> 29)
    }
}

/// A hash set with [`FastHasher`].
pub type FastSet<T> = HashSet<T, BuildHasherDefault<FastHasher>>;
/// A hash map with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Rights as a bit set where a subset means "fewer rights" (endpoints,
/// notifications, frames, reply caps); `None` for capabilities without rights.
pub fn rights_bits(c: &Cap) -> Option<u64> {
    match *c {
        Cap::Endpoint { rights, .. } | Cap::Notification { rights, .. } => Some(rights.0 & 0xF),
        Cap::Frame { rights, .. } => Some(match rights {
            VmRights::KernelOnly => 0,
            VmRights::ReadOnly => 1,
            VmRights::ReadWrite => 3,
        }),
        Cap::Reply { can_grant, .. } => Some(can_grant as u64),
        #[cfg(any(feature = "mcs", test))]
        Cap::ReplyObject { can_grant, .. } => Some(can_grant as u64),
        _ => None,
    }
}

/// The derivation tree as [`check_tree`] found it: its lists in order and,
/// for each entry, the extent of its descendants.
#[derive(Default)]
pub struct Cdt {
    /// The lists, each from its head (a slot with no previous slot).
    pub lists: Vec<Vec<SlotRef>>,
    /// `ends[l][i]`: the index in list `l` of the last descendant of entry
    /// `i` (`i` itself if it has none).
    ends: Vec<Vec<usize>>,
    /// `parents[l][i]`: the index in list `l` of entry `i`'s MDB parent.
    parents: Vec<Vec<Option<usize>>>,
    /// Slot address -> (list, index).
    pos: FastMap<u64, (usize, usize)>,
}

impl Cdt {
    /// Whether `d` is a derivation descendant of `a` (seL4's revoke would
    /// delete it).
    pub fn is_descendant(&self, a: SlotRef, d: SlotRef) -> bool {
        match (self.pos.get(&a.paddr().0), self.pos.get(&d.paddr().0)) {
            (Some(&(la, ia)), Some(&(ld, id))) => la == ld && ia < id && id <= self.ends[la][ia],
            _ => false,
        }
    }

    /// The derivation descendants of `a`.
    pub fn descendants(&self, a: SlotRef) -> &[SlotRef] {
        match self.pos.get(&a.paddr().0) {
            Some(&(l, i)) => &self.lists[l][i + 1..=self.ends[l][i]],
            None => &[],
        }
    }

    /// The derivation ancestors of `d`, nearest first.
    pub fn ancestors(&self, d: SlotRef) -> Vec<SlotRef> {
        let mut out = Vec::new();
        let mut at = self.pos.get(&d.paddr().0).copied();
        while let Some(p) = at.and_then(|(l, i)| Some((l, self.parents[l][i]?))) {
            out.push(self.lists[p.0][p.1]);
            at = Some(p);
        }
        out
    }

    /// The nearest derivation ancestor of `d`.
    pub fn parent(&self, d: SlotRef) -> Option<SlotRef> {
        let &(l, i) = self.pos.get(&d.paddr().0)?;
        Some(self.lists[l][self.parents[l][i]?])
    }

    /// Every slot holding a capability.
    pub fn live(&self) -> impl Iterator<Item = SlotRef> + '_ {
        self.lists.iter().flatten().copied()
    }
}

/// Checks the invariants over `slots`, which must include every slot any of
/// them links to when `closed`. Panics with a description on failure.
pub fn check_tree(slots: &[SlotRef], closed: bool) -> Cdt {
    let set: FastSet<u64> = slots.iter().map(|s| s.paddr().0).collect();
    let mut heads = Vec::new();
    let mut live = 0usize;
    for &s in slots {
        let c = s.get();
        if c.cap().is_null() {
            assert!(
                c.prev().is_none() && c.next().is_none() && !c.revocable() && !c.first_badged(),
                "empty slot {s:?} keeps tree links"
            );
            continue;
        }
        live += 1;
        if let Some(n) = c.next() {
            assert!(
                !closed || set.contains(&n.paddr().0),
                "{s:?} links outside: {n:?}"
            );
            assert_eq!(n.get().prev(), Some(s), "next's prev of {s:?}");
            assert!(!n.get().cap().is_null(), "{s:?} links to emptied {n:?}");
        }
        match c.prev() {
            Some(p) => {
                assert!(
                    !closed || set.contains(&p.paddr().0),
                    "{s:?} links outside: {p:?}"
                );
                assert_eq!(p.get().next(), Some(s), "prev's next of {s:?}");
                assert!(!p.get().cap().is_null(), "{s:?} links to emptied {p:?}");
            }
            None => heads.push(s),
        }
    }
    let mut seen = FastSet::with_capacity_and_hasher(live, Default::default());
    let mut cdt = Cdt::default();
    cdt.pos.reserve(live);
    for h in heads {
        let mut list = Vec::new();
        let mut cur = Some(h);
        while let Some(s) = cur {
            assert!(seen.insert(s.paddr().0), "{s:?} reached twice (cycle?)");
            cdt.pos.insert(s.paddr().0, (cdt.lists.len(), list.len()));
            list.push(s);
            cur = s.get().next();
        }
        let ends = check_list(&list);
        cdt.parents.push(parents(&ends));
        cdt.ends.push(ends);
        cdt.lists.push(list);
    }
    if closed {
        assert_eq!(seen.len(), live, "every capability in exactly one list");
    }
    cdt
}

/// Each entry's nearest ancestor from the extents of the subtrees (the
/// entries whose subtree still covers it, innermost on top of a stack).
fn parents(ends: &[usize]) -> Vec<Option<usize>> {
    let mut open: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(ends.len());
    for i in 0..ends.len() {
        while open.last().is_some_and(|&j| ends[j] < i) {
            open.pop();
        }
        out.push(open.last().copied());
        open.push(i);
    }
    out
}

/// Nesting, rights and untyped containment within one list; returns the
/// extent of each entry's descendants.
fn check_list(list: &[SlotRef]) -> Vec<usize> {
    // end[i]: the last index of i's descendants (the contiguous run after i
    // of which i is the MDB parent).
    let mut end = vec![0usize; list.len()];
    for i in (0..list.len()).rev() {
        let mut j = i;
        while j + 1 < list.len() && is_mdb_parent_of(list[i], list[j + 1]) {
            j += 1;
        }
        end[i] = j;
    }
    for i in 0..list.len() {
        let ci = list[i].get().cap();
        for k in i + 1..=end[i] {
            assert!(
                end[k] <= end[i],
                "subtree of {:?} leaves its parent {:?}'s",
                list[k],
                list[i]
            );
            let ck = list[k].get().cap();
            if same_object_as(&ci, &ck) {
                if let (Some(a), Some(b)) = (rights_bits(&ci), rights_bits(&ck)) {
                    assert_eq!(b & !a, 0, "{ck:?} has more rights than ancestor {ci:?}");
                }
            }
            if let Cap::Untyped { .. } = ci {
                let (Some((pa, pb)), Some((ka, kb))) = (cap_region(&ci), cap_region(&ck)) else {
                    panic!("untyped child without memory: {ck:?}")
                };
                assert!(pa <= ka && ka + (1u64 << kb) <= pa + (1u64 << pb));
            }
        }
    }
    end
}

/// The slots of the object a CNode, TCB or zombie capability names, as a
/// slot range `[start, end)` of addresses; `None` for other capabilities.
fn object_slots(cap: &Cap) -> Option<(u64, u64)> {
    let (start, n) = match *cap {
        Cap::CNode { ptr, radix, .. } => (ptr.0, 1u64.checked_shl(radix as u32)?),
        Cap::Thread { tcb } => (tcb.0, TCB_CNODE_ENTRIES as u64),
        Cap::Zombie { .. } => {
            let z = Zombie::from_cap(cap)?;
            let n = match z.kind {
                ZombieKind::CNode { radix } => 1u64.checked_shl(radix as u32)?,
                ZombieKind::Tcb => TCB_CNODE_ENTRIES as u64,
            };
            (z.ptr.0, n)
        }
        _ => return None,
    };
    Some((start, start.checked_add(n.checked_mul(1 << SLOT_BITS)?)?))
}

/// Every slot reachable from `roots` through the slots of the objects that
/// CNode, TCB and zombie capabilities name and through derivation links,
/// in the order found. CNodes listed in `prefix` as `(address, n)` are too
/// big to scan at every step: only their first `n` slots are, but links
/// may lead anywhere into them. Objects outside `ram` are not entered
/// (`check_memory` reports their capabilities). Panics on a link to
/// memory that is no object's slot.
pub fn gather_slots(roots: &[SlotRef], prefix: &[(PAddr, u64)], ram: Region) -> Vec<SlotRef> {
    gather_slots_with(roots, prefix, &[], ram)
}

/// [`gather_slots`], with `known` slot ranges `(start, end)` of objects
/// no capability names (the IRQ node) that links may lead into.
pub fn gather_slots_with(
    roots: &[SlotRef],
    prefix: &[(PAddr, u64)],
    known: &[(u64, u64)],
    ram: Region,
) -> Vec<SlotRef> {
    // Slot ranges of the objects found (a `prefix` CNode's whole range).
    let mut objects: Vec<(u64, u64)> = known.to_vec();
    let mut seen: FastSet<u64> =
        FastSet::with_capacity_and_hasher(2 * roots.len(), Default::default());
    let mut out = Vec::new();
    let mut work: Vec<SlotRef> = roots.to_vec();
    let mut links: Vec<(SlotRef, SlotRef)> = Vec::new();
    while let Some(s) = work.pop() {
        if !seen.insert(s.paddr().0) {
            continue;
        }
        out.push(s);
        let c = s.get();
        for l in [c.prev(), c.next()].into_iter().flatten() {
            let a = l.paddr().0;
            assert!(
                ram.start <= a && a < ram.end,
                "{s:?} links to {l:?}, outside memory"
            );
            links.push((s, l));
            work.push(l);
        }
        let Some((start, end)) = object_slots(&c.cap()) else {
            continue;
        };
        if start < ram.start || end > ram.end || objects.contains(&(start, end)) {
            continue;
        }
        objects.push((start, end));
        let end = match prefix.iter().find(|(p, _)| p.0 == start) {
            Some(&(_, n)) => end.min(start + (n << SLOT_BITS)),
            None => end,
        };
        let slots = (start..end).step_by(1 << SLOT_BITS);
        work.extend(slots.map(|a| SlotRef::new(PAddr(a))));
    }
    for (from, to) in links {
        let a = to.paddr().0;
        assert!(
            objects.iter().any(|&(s, e)| s <= a && a < e),
            "{from:?} links to {to:?}, which is no live object's slot"
        );
    }
    out
}

/// Every capability descends from a boot capability (is reachable from
/// one in the derivation tree): each list starts at a slot in `heads` and
/// all of its other entries are descendants of its head.
pub fn check_rooted<S: std::hash::BuildHasher>(cdt: &Cdt, heads: &HashSet<u64, S>) {
    for (list, ends) in cdt.lists.iter().zip(&cdt.ends) {
        let head = list[0];
        assert!(
            heads.contains(&head.paddr().0),
            "{head:?} ({:?}) heads a list but is no boot capability",
            head.get().cap()
        );
        assert_eq!(
            ends[0],
            list.len() - 1,
            "{:?} in the list of {head:?} descends from nothing there",
            list.get(ends[0] + 1).map(|s| s.get().cap())
        );
    }
}

/// The memory boot handed out: the untyped regions and the boot objects.
pub struct BootMemory {
    /// `(start, size_bits)` of each boot untyped.
    pub untyped: Vec<(u64, u32)>,
    /// `(start, size_bits)` of each boot object (root CNode, TCB, VSpace,
    /// frames, ASID pool).
    pub objects: Vec<(u64, u32)>,
}

/// What kind of object a capability names, for the overlap check: a
/// zombie names the same object its CNode or TCB capability did.
fn object_kind(cap: &Cap) -> Option<u8> {
    Some(match *cap {
        Cap::Endpoint { .. } => 1,
        Cap::Notification { .. } => 2,
        Cap::CNode { .. } => 3,
        Cap::Thread { .. } => 4,
        Cap::Zombie { .. } => match Zombie::from_cap(cap)?.kind {
            ZombieKind::CNode { .. } => 3,
            ZombieKind::Tcb => 4,
        },
        Cap::Frame { is_device, .. } => 5 + 8 * is_device as u8,
        Cap::PageTable { .. } => 6,
        Cap::AsidPool { .. } => 7,
        _ => return None,
    })
}

fn end_of(start: u64, bits: u32) -> u128 {
    start as u128 + (1u128 << bits)
}

fn inside(outer: (u64, u32), inner: (u64, u32)) -> bool {
    outer.0 <= inner.0 && end_of(inner.0, inner.1) <= end_of(outer.0, outer.1)
}

fn overlap(a: (u64, u32), b: (u64, u32)) -> bool {
    (a.0 as u128) < end_of(b.0, b.1) && (b.0 as u128) < end_of(a.0, a.1)
}

/// Memory invariants over the capabilities of `cdt` (gathered with every
/// live capability):
/// * no dangling reference: every capability names memory inside a boot
///   untyped, or exactly a boot object;
/// * distinct objects (named by non-untyped capabilities) do not overlap;
/// * every capability whose memory overlaps an untyped's descends from it
///   (or, for an untyped, the untyped descends from it): a reset can
///   never reuse live memory;
/// * an untyped's descendants lie below its watermark (free index).
///
/// [`check_ancestors`] adds that every object has an untyped ancestor.
pub fn check_memory(cdt: &Cdt, boot: &BootMemory) {
    let caps: Vec<(SlotRef, Cap, (u64, u32))> = cdt
        .live()
        .filter_map(|s| {
            let c = s.get().cap();
            cap_region(&c).map(|r| (s, c, r))
        })
        .collect();
    let is_boot_object = |r| boot.objects.contains(&r);
    for (s, c, r) in &caps {
        let in_untyped = boot.untyped.iter().any(|&u| inside(u, *r));
        let boot_obj = !matches!(c, Cap::Untyped { .. }) && is_boot_object(*r);
        assert!(
            in_untyped || boot_obj,
            "{s:?}: {c:?} names memory boot never handed out"
        );
    }
    // Distinct objects are disjoint (sorted by start, neighbours suffice).
    let mut objs: Vec<(u64, u32, u8, SlotRef)> = caps
        .iter()
        .filter_map(|(s, c, r)| object_kind(c).map(|k| (r.0, r.1, k, *s)))
        .collect();
    objs.sort_by_key(|o| (o.0, o.1, o.2));
    objs.dedup_by_key(|o| (o.0, o.1, o.2));
    for w in objs.windows(2) {
        let (a, b) = (w[0], w[1]);
        assert!(
            !overlap((a.0, a.1), (b.0, b.1)),
            "objects overlap: {:?} in {:?} and {:?} in {:?}",
            a.3.get().cap(),
            a.3,
            b.3.get().cap(),
            b.3
        );
    }
    // Each untyped against every capability overlapping it: those that
    // start inside it (a range of the caps sorted by start) and those
    // that start before it and reach into it (a sweep keeps the regions
    // still open at each start).
    let mut by_start: Vec<usize> = (0..caps.len()).collect();
    by_start.sort_by_key(|&i| caps[i].2 .0);
    let mut open: Vec<usize> = Vec::new();
    for (n, &ui) in by_start.iter().enumerate() {
        let (u, uc, ur) = &caps[ui];
        let Cap::Untyped { free_index, .. } = *uc else {
            open.push(ui);
            continue;
        };
        // Pruned only here, where it is read (copies of one object are
        // many).
        let start = ur.0 as u128;
        open.retain(|&o| end_of(caps[o].2 .0, caps[o].2 .1) > start);
        let before = open.iter().copied().filter(|&o| caps[o].2 .0 < ur.0);
        let from = by_start[..n].partition_point(|&i| caps[i].2 .0 < ur.0);
        let end = end_of(ur.0, ur.1);
        let inside = by_start[from..]
            .iter()
            .copied()
            .take_while(|&i| (caps[i].2 .0 as u128) < end);
        for xi in before.chain(inside) {
            let (x, xc, _) = &caps[xi];
            if x == u {
                continue;
            }
            let ok = cdt.is_descendant(*u, *x)
                || (matches!(xc, Cap::Untyped { .. }) && cdt.is_descendant(*x, *u));
            assert!(
                ok,
                "{xc:?} in {x:?} overlaps {uc:?} in {u:?} but is not its descendant"
            );
        }
        open.push(ui);
        let mark = ur.0 as u128 + free_index as u128;
        for d in cdt.descendants(*u) {
            if let Some(dr) = cap_region(&d.get().cap()) {
                assert!(
                    end_of(dr.0, dr.1) <= mark,
                    "{:?} in {d:?} lies above the watermark of {uc:?} in {u:?}",
                    d.get().cap()
                );
            }
        }
    }
}

/// Every object that is not a boot object lies inside an untyped that is
/// its ancestor. Only while no untyped capability with descendants is
/// deleted: seL4 lets one be (its objects live on, out of reach of any
/// Retype, since every untyped overlapping them must be their ancestor:
/// [`check_memory`]), so the property tests, which never delete a boot
/// untyped, check this and the fuzzer does not.
pub fn check_ancestors(cdt: &Cdt, boot: &BootMemory) {
    for s in cdt.live() {
        let c = s.get().cap();
        let Some(r) = cap_region(&c) else { continue };
        if matches!(c, Cap::Untyped { .. }) || boot.objects.contains(&r) {
            continue;
        }
        let mut up = cdt.parent(s);
        let found = loop {
            let Some(a) = up else { break false };
            let ac = a.get().cap();
            if matches!(ac, Cap::Untyped { .. }) && cap_region(&ac).is_some_and(|ar| inside(ar, r))
            {
                break true;
            }
            up = cdt.parent(a);
        };
        assert!(found, "{c:?} in {s:?} has no untyped ancestor");
    }
}

/// The slots of the TCB at `tcb`.
pub fn tcb_slots(tcb: TcbRef) -> impl Iterator<Item = SlotRef> {
    (0..TCB_CNODE_ENTRIES).map(move |i| Tcb::slot(tcb, i))
}
