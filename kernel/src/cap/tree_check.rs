//! Test-only checks of the derivation tree's invariants (ch. 3, *Capability
//! Derivation Tree*), used after every step of the property tests and by
//! the deletion tests.

use super::cap::{Cap, VmRights};
use super::cte::SlotRef;
use super::derive::{cap_region, is_mdb_parent_of, same_object_as};
use std::collections::HashSet;

/// Rights as a bit set where a subset means "fewer rights" (endpoints,
/// notifications, frames, reply caps); `None` for capabilities without rights.
fn rights_bits(c: &Cap) -> Option<u64> {
    match *c {
        Cap::Endpoint { rights, .. } | Cap::Notification { rights, .. } => Some(rights.0 & 0xF),
        Cap::Frame { rights, .. } => Some(match rights {
            VmRights::KernelOnly => 0,
            VmRights::ReadOnly => 1,
            VmRights::ReadWrite => 3,
        }),
        Cap::Reply { can_grant, .. } => Some(can_grant as u64),
        _ => None,
    }
}

/// Checks the invariants over `slots`, which must include every slot any of
/// them links to when `closed`. Panics with a description on failure.
pub fn check_tree(slots: &[SlotRef], closed: bool) {
    let set: HashSet<u64> = slots.iter().map(|s| s.paddr().0).collect();
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
            assert!(!closed || set.contains(&n.paddr().0), "{s:?} links outside: {n:?}");
            assert_eq!(n.get().prev(), Some(s), "next's prev of {s:?}");
            assert!(!n.get().cap().is_null(), "{s:?} links to emptied {n:?}");
        }
        match c.prev() {
            Some(p) => {
                assert!(!closed || set.contains(&p.paddr().0), "{s:?} links outside: {p:?}");
                assert_eq!(p.get().next(), Some(s), "prev's next of {s:?}");
                assert!(!p.get().cap().is_null(), "{s:?} links to emptied {p:?}");
            }
            None => heads.push(s),
        }
    }
    let mut seen = HashSet::new();
    for h in heads {
        let mut list = Vec::new();
        let mut cur = Some(h);
        while let Some(s) = cur {
            assert!(seen.insert(s.paddr().0), "{s:?} reached twice (cycle?)");
            list.push(s);
            cur = s.get().next();
        }
        check_list(&list);
    }
    if closed {
        assert_eq!(seen.len(), live, "every capability in exactly one list");
    }
}

/// Nesting, rights and untyped containment within one list.
fn check_list(list: &[SlotRef]) {
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
}
