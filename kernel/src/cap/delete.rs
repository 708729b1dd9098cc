//! Deleting and revoking capabilities (ch. 3 Capability Spaces, *Deleting
//! Capabilities* and *Revoking Capabilities*; seL4's `cteDelete`,
//! `cteRevoke`). Called by the CNode invocations (`object::cnode`) and, later,
//! by anything else that deletes capabilities.
//!
//! # Design
//!
//! Deleting the last capability to a CNode or TCB must first empty the
//! object's own slots, which may hold further CNodes and TCBs (even the
//! object itself). Cairn follows the manual's zombie scheme:
//!
//! * The capability is replaced in place by a [`Zombie`] that records the
//!   object's first slot and how many slots are left. The zombie keeps the
//!   capability's place in the derivation tree.
//! * [`cte_delete`] repeatedly empties the zombie's *last* remaining slot
//!   and then decrements the count, with a preemption point after each
//!   slot. All progress is in the zombie, so a preempted delete is simply
//!   started again and continues where it stopped.
//! * Emptying such an inner slot ([`delete_inner`]) never recurses: if the
//!   inner capability is itself the last one to a CNode or TCB, its zombie
//!   is swapped into that object's own first slot (a "cyclic" zombie: the
//!   object now holds the only reference to itself) and whatever was there
//!   comes back to the slot being emptied, which is processed again. A
//!   cyclic zombie stays where it is; it is in the derivation tree under its
//!   untyped, so revoking the untyped (or deleting that slot) finishes it.
//! * A zombie whose only remaining slot is the one it sits in (a CNode
//!   holding its own last capability, a TCB whose CSpace root slot holds its
//!   own thread capability, ...) is removable: the slot is emptied and the
//!   object is gone. This is what makes self-containing objects terminate.
//!
//! The call depth is fixed (delete → inner delete, never deeper) whatever
//! user space built; the loops are bounded by the number of slots and each
//! iteration ends in a preemption point.

use super::cap::Cap;
use super::cte::{cte_swap, empty_full_slot, SlotRef};
use super::derive::is_final_capability;
use super::derive::is_mdb_parent_of;
use super::finalise::{finalise_cap, finality_ignored, Finalised};
use super::zombie::Zombie;
use crate::object::irq::table::set_state;
use crate::preempt::preemption_point;
use crate::state::IrqState;
use crate::types::Preempted;

/// seL4's `capRemovable`: the zombie has no slot left to empty except,
/// possibly, the one it occupies.
fn removable(z: &Zombie, slot: SlotRef) -> bool {
    z.count == 0 || (z.count == 1 && z.ptr == slot.paddr())
}

/// Empties a slot and runs the post-deletion hook (seL4's `emptySlot` with
/// `postCapDeletion`): once the last handler cap of `irq` is gone, its line
/// is masked so that IRQControl may issue it again.
/// The slot holds a capability (its caller decoded it), so that it is
/// not decoded again.
fn empty(slot: SlotRef, irq: Option<u16>) {
    empty_full_slot(slot);
    if let Some(irq) = irq {
        set_state(irq, IrqState::Inactive);
    }
}

/// seL4's `cteDelete(slot, exposed = true)`: deletes the capability in
/// `slot`, finalising its object if it is the last capability to it. May
/// return `Preempted`, leaving a zombie in `slot` that a restarted delete
/// continues with.
pub fn cte_delete(slot: SlotRef) -> Result<(), Preempted> {
    while let Some(z) = finalise_step(slot)? {
        slot.get().set_cap(z.to_cap());
        reduce_zombie(slot, z)?;
        preemption_point()?;
    }
    Ok(())
}

/// seL4's `cteDeleteOne`: deletes the capability in `slot`, which must be
/// of a kind that finalises at once with nothing to preempt (a reply
/// capability), so that no error is possible. Callers: `ipc` (reply and
/// caller caps, `ipc::cancel`). (A notification capability, as the IRQ
/// node holds, may be the last one with waiters to restart: it is deleted
/// with [`cte_delete`].)
///
/// Only the emptiness check is inlined: every receive and every Call
/// empties a caller slot that is nearly always empty already. A
/// capability there is deleted by the general step, shared out of line
/// ([`cte_delete_one_in`] for the reply, which always finds one).
#[inline]
pub fn cte_delete_one(slot: SlotRef) {
    if !slot.get().words().is_null() {
        let left = finalise_step(slot);
        debug_assert!(left == Ok(None), "cte_delete_one left {left:?}");
    }
}

/// [`cte_delete_one`] inlined whole: for the one caller that nearly
/// always finds a capability (the reply's deletion of its reply cap).
#[inline(always)]
pub fn cte_delete_one_in(slot: SlotRef) {
    // Read in place first: every reply deletes a reply cap, which
    // finalises to nothing (what `finalise_step` would conclude after
    // decoding it).
    let w = slot.get().words();
    if w.is_null() {
        return;
    }
    if w.reply().is_some() {
        empty_full_slot(slot);
        return;
    }
    // Only CNode and TCB capabilities leave a zombie to reduce, and only
    // the last endpoint, notification and IRQ handler capabilities can be
    // preempted; no caller passes a slot that can hold one.
    let left = finalise_step(slot);
    debug_assert!(left == Ok(None), "cte_delete_one left {left:?}");
}

/// One step of seL4's `finaliseSlot` loop on `slot`: `None` once the slot
/// is empty (it was, the capability finalised at once, or it became a
/// zombie with nothing left to empty but its own slot), else the zombie
/// whose slots must still be emptied (not yet stored in the slot).
/// `Err(Preempted)` leaves the capability in `slot` (see `finalise_cap`).
fn finalise_step(slot: SlotRef) -> Result<Option<Zombie>, Preempted> {
    if slot.get().words().is_null() {
        return Ok(None);
    }
    let cap = slot.get().cap();
    // Asking the neighbours is skipped where the answer changes nothing
    // (a reply cap, at every reply; a frame, at every revoke of one).
    let is_final = !finality_ignored(&cap) && is_final_capability(slot);
    let z = match finalise_cap(cap, is_final)? {
        Finalised::Done { irq } => {
            empty(slot, irq);
            return Ok(None);
        }
        Finalised::Zombie(z) => z,
    };
    if removable(&z, slot) {
        empty(slot, None);
        return Ok(None);
    }
    Ok(Some(z))
}

/// Empties the last remaining slot of the zombie `z` in `slot` and counts
/// it (seL4's `reduceZombie` with `immediate`).
fn reduce_zombie(slot: SlotRef, z: Zombie) -> Result<(), Preempted> {
    let Some(end) = z.last_slot() else {
        return Ok(());
    };
    delete_inner(end)?;
    // The inner delete may have emptied `slot` itself (it was the last
    // slot) or swapped another object's zombie into it; only an unchanged
    // zombie is counted down.
    if Zombie::from_cap(&slot.get().cap()) == Some(z) {
        debug_assert!(end.get().cap().is_null());
        let count = z.count.saturating_sub(1);
        slot.get().set_cap(Zombie { count, ..z }.to_cap());
    }
    Ok(())
}

/// seL4's `cteDelete(slot, exposed = false)` on a slot of an object being
/// destroyed: finalises the capability there; a new zombie is moved into
/// its own object's first slot rather than processed here (see the module
/// doc). Leaves `slot` empty, or holding a cyclic zombie.
fn delete_inner(slot: SlotRef) -> Result<(), Preempted> {
    while let Some(z) = finalise_step(slot)? {
        let zcap = z.to_cap();
        slot.get().set_cap(zcap);
        let first = z.slot(0);
        if first == slot {
            return Ok(()); // cyclic: it stays until its slot is deleted
        }
        // Move the zombie into its object's first slot; the capability that
        // was there comes here and is dealt with by the next iteration.
        cte_swap(zcap, slot, first.get().cap(), first);
        preemption_point()?;
    }
    Ok(())
}

/// seL4's `cteRevoke`: deletes every derivation descendant of the
/// capability in `slot` (the slots that follow it in the list while it is
/// their MDB parent), one per preemption point. Progress is the tree itself:
/// a restarted revoke finds the remaining descendants.
pub fn cte_revoke(slot: SlotRef) -> Result<(), Preempted> {
    while let Some(next) = slot.get().next() {
        if !is_mdb_parent_of(slot, next) {
            break;
        }
        cte_delete(next)?;
        preemption_point()?;
    }
    Ok(())
}

/// seL4's `slotCapLongRunningDelete`: whether deleting the capability in
/// `slot` may take many preemptible steps (the last capability to a CNode
/// or TCB, or a zombie).
pub fn slot_cap_long_running_delete(slot: SlotRef) -> bool {
    let cap = slot.get().cap();
    matches!(
        cap,
        Cap::Thread { .. } | Cap::CNode { .. } | Cap::Zombie { .. }
    ) && is_final_capability(slot)
}
