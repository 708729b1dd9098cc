//! Deleting caps (manual §3.1.5 *Deletion and Revocation*): deleting the
//! last cap to an object destroys the object, and with it the caps held in
//! its slots; revoking a cap deletes every cap derived from it. A thread
//! destroyed stops first; the threads waiting on an endpoint or
//! notification destroyed run their system calls again (`ipc`).
//!
//! How a CNode or TCB is emptied comes from seL4's behaviour (its
//! `finaliseSlot` and `reduceZombie`); the manual only says that the caps
//! inside are deleted. The last cap to such an object becomes a *zombie*
//! for it, which stays in the derivation tree at the cap's place:
//!
//! * a Delete or Revoke (an *exposed* deletion) empties the object's slots
//!   one at a time, highest index first, each with an unexposed deletion,
//!   and empties its own slot once no other is left;
//! * an unexposed deletion that meets the last cap to another CNode or TCB
//!   does not empty that object: the zombie moves into the object's own
//!   first slot (swapping with the cap there, which is deleted in its
//!   stead) and stays there until an exposed deletion reaches it.
//!
//! Both bound seL4's recursion, and user space sees them: the untyped a
//! zombie's object came from still has a child. Two consequences are
//! seL4's too (docs/spec.md, rule 2): if the slot being deleted is the
//! first slot of an object met inside, that object's zombie lands in it
//! and that object is destroyed instead, the first one left a zombie in
//! its own first slot; and an object whose last cap sits in its own slot
//! `i > 0` is left a zombie in slot 0, its slots `1..i` still full.
//!
//! A zombie counts the slots left to empty (seL4's zombie number: the
//! object's size at first, one fewer after each slot an exposed deletion
//! empties); it decides when the zombie's own slot may be emptied.

use crate::cap::{same_object, Cap, Kind, ObjId};
use crate::state::{SlotId, State, TCB_SLOTS};

impl State {
    /// Whether `cap` in `slot` is the last cap to its object: no other slot
    /// holds a cap to the same object.
    pub fn is_final(&self, slot: SlotId, cap: &Cap) -> bool {
        !self
            .entries()
            .any(|(s, e)| s != slot && same_object(cap, &e.cap))
    }

    /// Finalises the cap in `slot` (seL4's `finaliseCap`): the zombie it
    /// leaves (a zombie stays itself; the last cap to a CNode or TCB
    /// becomes one with all its slots to empty), or `None` if the slot may
    /// simply be emptied (the last cap to any other object destroys it).
    fn finalise(&mut self, slot: SlotId, cap: Cap) -> Option<(ObjId, Kind, u64)> {
        if let Cap::Zombie { obj, kind, count } = cap {
            return Some((obj, kind, count));
        }
        // A frame cap's mapping goes with any of its caps; a table, a
        // VSpace's ASID, a pool with the last cap (`crate::vspace`).
        self.finalise_vm(slot, &cap);
        if !self.is_final(slot, &cap) {
            return None;
        }
        if let Cap::IrqHandler { irq } = cap {
            self.deleting_irq_handler(irq);
            return None;
        }
        match cap.object()? {
            (obj, kind @ Kind::CNode { radix }) => Some((obj, kind, 1 << radix)),
            (obj, Kind::Tcb) => {
                // The thread stops (§6.1): it leaves its bound
                // notification and whatever it waits for; MCS: and its
                // scheduling context.
                self.unbind_notification(obj);
                if crate::MCS {
                    self.unbind_sc_of(obj);
                }
                self.suspend(obj);
                Some((obj, Kind::Tcb, TCB_SLOTS))
            }
            (obj, kind @ (Kind::Endpoint | Kind::Notification)) => {
                // Its waiters run their system calls again (§4.2, §5).
                if kind == Kind::Notification {
                    self.unbind_maybe_notification(obj);
                    if crate::MCS {
                        self.unbind_sc_of(obj);
                    }
                }
                self.cancel_all(obj);
                self.objects.remove(&obj);
                None
            }
            (obj, Kind::Reply) => {
                self.finalise_reply(obj);
                self.objects.remove(&obj);
                None
            }
            (obj, Kind::SchedContext { .. }) => {
                self.finalise_sched_context(obj);
                None
            }
            (obj, _) => {
                self.objects.remove(&obj);
                None
            }
        }
    }

    /// Deletes the cap in `slot` (seL4's `cteDelete`): `exposed` for the
    /// slot the caller named (Delete, each cap Revoke reaches), not for the
    /// slots of an object being emptied. Its derivation children are
    /// adopted by its parent. An exposed deletion always empties the slot;
    /// an unexposed one leaves a zombie there if the slot is its object's
    /// first.
    pub fn delete(&mut self, slot: SlotId, exposed: bool) {
        while let Some(cap) = self.cap(slot) {
            let Some((obj, kind, count)) = self.finalise(slot, cap) else {
                self.remove(slot);
                return;
            };
            let first = SlotId { obj, index: 0 };
            if count == 0 || (count == 1 && slot == first) {
                // Nothing left to empty but, maybe, this zombie's slot.
                self.remove(slot);
                self.objects.remove(&obj);
                return;
            }
            let zombie = Cap::Zombie { obj, kind, count };
            self.set_cap(slot, zombie);
            if exposed {
                // Empty the last slot left, then look at `slot` again: it
                // holds the same zombie (one slot fewer to go), nothing, or
                // (if `slot` is the first slot of an object met there) that
                // object's zombie.
                let end = SlotId {
                    obj,
                    index: count - 1,
                };
                self.delete(end, false);
                if self.cap(slot) == Some(zombie) {
                    let fewer = Cap::Zombie {
                        obj,
                        kind,
                        count: count - 1,
                    };
                    self.set_cap(slot, fewer);
                }
            } else if slot == first {
                return; // its own first slot: it stays
            } else {
                match self.cap(first) {
                    Some(fc) => self.swap_caps(slot, zombie, first, fc),
                    None => self.move_cap(slot, first, zombie),
                }
            }
        }
    }

    /// `seL4_CNode_Revoke` on `slot`: deletes its derivation children
    /// (each with its own subtree, adopted on the way) one by one, newest
    /// first, until it has none, or until the slot itself is gone (a
    /// deletion destroyed the CNode holding it). Each exposed deletion
    /// empties a slot, so this ends.
    pub fn revoke(&mut self, slot: SlotId) {
        while let Some(&child) = self.entry(slot).and_then(|e| e.children.first()) {
            self.delete(child, true);
        }
    }
}
