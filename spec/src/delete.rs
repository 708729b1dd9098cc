//! Deleting caps (manual §3.1.5 *Deletion and Revocation*): deleting the
//! last cap to an object destroys the object, and with it the caps held in
//! its slots; revoking a cap deletes every cap derived from it.
//!
//! One rule comes from seL4's behaviour rather than the manual: when the
//! last cap to a CNode or TCB is met while *another* object's slots are
//! being emptied, that CNode or TCB is not destroyed. Its cap becomes a
//! zombie that moves into the object's own first slot (swapping with the
//! cap there, which is deleted in its stead); the object, the zombie and
//! the caps in its other slots stay until a Revoke or Delete reaches the
//! zombie (through the derivation tree: the zombie keeps its cap's place).
//! This bounds the kernel's recursion; user space sees it in the tree: the
//! untyped the object came from still has a child.

use crate::cap::{same_object, Cap, Kind};
use crate::state::{Object, SlotId, State};

impl State {
    /// Whether `cap` in `slot` is the last cap to its object: no other slot
    /// holds a cap to the same object.
    pub fn is_final(&self, slot: SlotId, cap: &Cap) -> bool {
        !self
            .entries()
            .any(|(s, e)| s != slot && same_object(cap, &e.cap))
    }

    /// Deletes the cap in `slot`: `exposed` for the slot the caller named
    /// (Delete, each cap Revoke reaches), not for the slots of an object
    /// being destroyed. The slot's derivation children are adopted by its
    /// parent.
    pub fn delete(&mut self, slot: SlotId, exposed: bool) {
        while let Some(cap) = self.cap(slot) {
            let object = match cap {
                Cap::Zombie { obj, kind } => Some((obj, kind)),
                _ if self.is_final(slot, &cap) => cap.object(),
                _ => None,
            };
            let holder = match object {
                Some((obj, kind @ (Kind::CNode { .. } | Kind::Tcb))) => Some((obj, kind)),
                _ => None,
            };
            let Some((obj, kind)) = holder else {
                // Not the last cap, or an object without slots.
                self.remove(slot);
                if let Some((obj, _)) = object {
                    self.objects.remove(&obj);
                }
                return;
            };
            let first = SlotId { obj, index: 0 };
            if exposed || slot == first {
                if slot == first && !exposed {
                    // Its own first slot: it stays, a zombie.
                    self.set_cap(slot, Cap::Zombie { obj, kind });
                    return;
                }
                self.empty_object(obj, slot);
                self.remove(slot);
                self.drop_object(obj);
                return;
            }
            // Met inside another object: becomes a zombie in its own first
            // slot; what was there is deleted here in its stead.
            let z = Cap::Zombie { obj, kind };
            match self.cap(first) {
                Some(fc) => self.swap_caps(slot, z, first, fc),
                None => self.move_cap(slot, first, z),
            }
        }
    }

    /// Deletes the caps in the slots of CNode or TCB `obj`, last slot
    /// first, except `keep` (the slot holding its zombie).
    fn empty_object(&mut self, obj: u64, keep: SlotId) {
        let full: Vec<SlotId> = match self.objects.get(&obj) {
            Some(Object::CNode { slots, .. } | Object::Tcb { slots }) => slots
                .keys()
                .rev()
                .map(|&index| SlotId { obj, index })
                .filter(|&s| s != keep)
                .collect(),
            _ => Vec::new(),
        };
        for s in full {
            self.delete(s, false);
        }
    }

    /// Removes object `obj`, first taking any cap still in its slots out of
    /// the tree (one a zombie swap put back), so that no link dangles.
    fn drop_object(&mut self, obj: u64) {
        let left: Vec<SlotId> = self
            .entries()
            .filter(|(s, _)| s.obj == obj)
            .map(|(s, _)| s)
            .collect();
        for s in left {
            self.remove(s);
        }
        self.objects.remove(&obj);
    }

    /// `seL4_CNode_Revoke` on `slot`: deletes its derivation children
    /// (each with its own subtree, adopted on the way) one by one, newest
    /// first, until it has none, or until the slot itself is gone (a
    /// deletion destroyed the CNode holding it).
    pub fn revoke(&mut self, slot: SlotId) {
        while let Some(&child) = self.entry(slot).and_then(|e| e.children.first()) {
            self.delete(child, true);
            if self.entry(slot).and_then(|e| e.children.first()) == Some(&child) {
                // A deletion that cannot finish (a cycle of zombies): take
                // the child out of the tree rather than loop.
                self.remove(child);
            }
        }
    }
}
