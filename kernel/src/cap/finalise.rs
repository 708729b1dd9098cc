//! Finalisation: what happens to an object when a capability to it is
//! deleted (ch. 3 Capability Spaces, *Deleting Capabilities*; ch. 7 for
//! mappings; ABI ref §11 "Deleting the final cap ..."). seL4's
//! `finaliseCap`, one exhaustive `match` on the capability.
//!
//! Most capabilities finalise at once. The last capability to a CNode or a
//! TCB becomes a [`Zombie`] instead: the object's own slots must be emptied
//! first, one by one, which `cap::delete` does preemptibly.
//!
//! The IPC parts are `ipc::cancel`'s, the interrupt parts the named
//! `pub fn`s at the end of this file; the VSpace parts (unmapping, ASID
//! deletion) are `object::vspace`'s.
//!
//! With `cap::delete` and `ipc::cancel` this file forms the one import
//! cycle seL4's semantics force: finalising may cancel IPC or drop an IRQ
//! handler's notification, and both delete a capability (a reply cap, the
//! IRQ node slot), which may finalise again. Nothing else belongs here.

use super::cap::Cap;
use super::zombie::Zombie;
use crate::ipc::cancel::{
    cancel_all_ipc, cancel_all_signals, suspend, unbind_maybe_notification, unbind_notification,
};
use crate::object::irq::table::irq_slot;
use crate::object::tcb::TcbRef;
use crate::object::vspace::{
    delete_asid, delete_asid_pool, find_vspace_for_asid, unmap_page, unmap_page_table,
};
use crate::types::PAddr;

/// The result of finalising one capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finalised {
    /// Nothing remains: the slot may be emptied. `irq` is an IRQ handler
    /// whose line must be released once the slot is empty (seL4's
    /// `cleanupInfo` / `postCapDeletion`).
    Done { irq: Option<u16> },
    /// The object's slots must be emptied first; the slot holds this zombie
    /// meanwhile.
    Zombie(Zombie),
}

const DONE: Finalised = Finalised::Done { irq: None };

/// seL4's `finaliseCap`: finalises `cap`; `is_final` says whether it is the
/// last capability to its object.
pub fn finalise_cap(cap: Cap, is_final: bool) -> Finalised {
    match cap {
        Cap::Null
        | Cap::Domain
        | Cap::Reply { .. }
        | Cap::Untyped { .. }
        | Cap::IrqControl
        | Cap::AsidControl => DONE,
        Cap::Endpoint { ptr, .. } => {
            if is_final {
                cancel_all_ipc(ptr);
            }
            DONE
        }
        Cap::Notification { ptr, .. } => {
            if is_final {
                finalise_notification(ptr);
            }
            DONE
        }
        Cap::CNode { ptr, radix, .. } => match is_final {
            true => Finalised::Zombie(Zombie::of_cnode(ptr, radix)),
            false => DONE,
        },
        Cap::Thread { tcb } => match is_final {
            true => {
                suspend_for_delete(TcbRef::new(tcb));
                Finalised::Zombie(Zombie::of_tcb(tcb))
            }
            false => DONE,
        },
        Cap::Zombie { .. } => match Zombie::from_cap(&cap) {
            Some(z) => Finalised::Zombie(z),
            None => DONE,
        },
        Cap::IrqHandler { irq } => match is_final {
            true => {
                deleting_irq_handler(irq);
                Finalised::Done { irq: Some(irq) }
            }
            false => DONE,
        },
        Cap::Frame {
            base,
            size,
            mapping,
            ..
        } => {
            // Every frame capability holds its own mapping.
            if let Some(m) = mapping {
                unmap_page(base, size, m);
            }
            DONE
        }
        Cap::PageTable { base, mapping } => {
            if let (true, Some(m)) = (is_final, mapping) {
                if find_vspace_for_asid(m.asid) == Some(base) {
                    delete_asid(m.asid, base);
                } else {
                    unmap_page_table(base, m);
                }
            }
            DONE
        }
        Cap::AsidPool { ptr, asid_base } => {
            if is_final {
                delete_asid_pool(asid_base, ptr);
            }
            DONE
        }
    }
}

/// The thread part of finalising a TCB: seL4's `suspend` (cancel its IPC,
/// leave the ready queues, become Inactive; if it is the running thread
/// the scheduler chooses another at kernel exit).
fn suspend_for_delete(t: TcbRef) {
    unbind_notification(t);
    suspend(t);
}

// ---- Notification and interrupt parts ---------------------------------

/// The last capability to the notification at `ntfn` is being deleted:
/// unbind its TCB and restart its waiters (seL4's
/// `unbindMaybeNotification`, `cancelAllSignals`).
pub fn finalise_notification(ntfn: PAddr) {
    unbind_maybe_notification(ntfn);
    cancel_all_signals(ntfn);
}

/// The last IRQ handler capability for `irq` is being deleted: drop its
/// notification (seL4's `deletingIRQHandler`).
pub fn deleting_irq_handler(irq: u16) {
    if let Some(s) = irq_slot(irq) {
        super::delete::cte_delete_one(s);
    }
}
