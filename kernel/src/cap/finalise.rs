//! Finalisation: what happens to an object when a capability to it is
//! deleted (ch. 3 Capability Spaces, *Deleting Capabilities*; ch. 7 for
//! mappings; ABI ref §11 "Deleting the final cap ..."). seL4's
//! `finaliseCap`, one exhaustive `match` on the capability.
//!
//! Most capabilities finalise at once. The last capability to a CNode or a
//! TCB becomes a [`Zombie`] instead: the object's own slots must be emptied
//! first, one by one, which `cap::delete` does preemptibly.
//!
//! The IPC parts are `ipc::cancel`'s, the interrupt part the function at
//! the end of this file; the VSpace parts (unmapping, ASID
//! deletion) are `object::vspace`'s.
//!
//! With `cap::delete` and `ipc::cancel` this file forms the one import
//! cycle seL4's semantics force: finalising may cancel IPC or drop an IRQ
//! handler's notification, and both delete a capability (a reply cap, the
//! IRQ node slot), which may finalise again. Nothing else belongs here.

use super::cap::Cap;
use super::zombie::Zombie;
use crate::ipc::cancel::{
    cancel_all_ipc, cancel_all_signals, forget_badged_cancel, suspend, unbind_maybe_notification,
    unbind_notification,
};
use crate::object::irq::table::irq_slot;
use crate::object::tcb::TcbRef;
use crate::object::vspace::{
    delete_asid, delete_asid_pool, find_vspace_for_asid, unmap_page, unmap_page_table,
};
use crate::types::Preempted;

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

/// seL4's `finaliseCap`: finalises `cap`; `is_final` says whether it is the
/// last capability to its object. Only a frame's mapping and a zombie are
/// dealt with whether or not the capability is final.
///
/// `Err(Preempted)` while the last capability to an endpoint or
/// notification (or IRQ handler, whose notification goes) still has
/// threads to restart: the capability stays where it is, the queue holds
/// the threads left, and finalising it again continues.
pub fn finalise_cap(cap: Cap, is_final: bool) -> Result<Finalised, Preempted> {
    match cap {
        // First, so that the copies a revoke deletes leave at once.
        _ if !is_final && !matches!(cap, Cap::Frame { .. } | Cap::Zombie { .. }) => {}
        // Every frame capability holds its own mapping.
        Cap::Frame {
            base,
            size,
            mapping: Some(m),
            ..
        } => unmap_page(base, size, m),
        Cap::Zombie { .. } => {
            if let Some(z) = Zombie::from_cap(&cap) {
                return Ok(Finalised::Zombie(z));
            }
        }
        Cap::Endpoint { ptr, .. } => cancel_all_ipc(ptr)?,
        Cap::Notification { ptr, .. } => {
            // MCS: its SchedContext no longer names it (seL4's
            // schedContextMaybeUnbindNtfn).
            #[cfg(feature = "mcs")]
            if let Some(sc) = crate::object::notification::NotificationRef::new(ptr)
                .get()
                .sched_context()
            {
                crate::object::sched_context::unbind_notification(sc);
            }
            unbind_maybe_notification(ptr);
            cancel_all_signals(ptr)?;
        }
        Cap::CNode { ptr, radix, .. } => {
            return Ok(Finalised::Zombie(Zombie::of_cnode(ptr, radix)))
        }
        Cap::Thread { tcb } => {
            // seL4's `suspend`: the thread leaves its IPC and the ready
            // queues (if it runs, the scheduler chooses another at exit).
            unbind_notification(TcbRef::new(tcb));
            // MCS: its SchedContext (its own or lent) no longer names it,
            // first, as in seL4; the call stack it was on keeps the
            // SchedContext's place (cancelling its Call breaks the stack).
            // A thread that yielded to that SchedContext is answered
            // (seL4's finaliseCap); suspending this one breaks its own
            // YieldTo link.
            #[cfg(feature = "mcs")]
            if let Some(sc) = TcbRef::new(tcb).get().sched_context() {
                crate::sched::mcs::unbind_tcb(sc);
                if let Some(y) = crate::object::sched_context::yield_from(sc) {
                    crate::object::sched_context::complete_yield_to(y);
                }
            }
            suspend(TcbRef::new(tcb));
            // A preempted CancelBadgedSends of its own leaves no mark
            // naming it (the mark would outlive the TCB).
            forget_badged_cancel(TcbRef::new(tcb));
            return Ok(Finalised::Zombie(Zombie::of_tcb(tcb)));
        }
        Cap::IrqHandler { irq } => {
            deleting_irq_handler(irq)?;
            return Ok(Finalised::Done { irq: Some(irq) });
        }
        Cap::PageTable {
            base,
            mapping: Some(m),
        } => {
            if find_vspace_for_asid(m.asid) == Some(base) {
                delete_asid(m.asid, base);
            } else {
                unmap_page_table(base, m);
            }
        }
        Cap::AsidPool { ptr, asid_base } => delete_asid_pool(asid_base, ptr),
        Cap::Null
        | Cap::Domain
        | Cap::Reply { .. }
        | Cap::Untyped { .. }
        | Cap::IrqControl
        | Cap::AsidControl
        | Cap::Frame { mapping: None, .. }
        | Cap::PageTable { mapping: None, .. } => {}
        // The last capability leaves at once, as seL4's does (no
        // zombie): the bound thread (only the boot thread can be, until
        // the binding invocations: docs/mcs.md) loses it, and the object
        // becomes unconfigured.
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedContext { ptr, size_bits } => {
            #[cfg(feature = "mcs")]
            {
                crate::sched::mcs::unbind_tcb(ptr);
                crate::object::sched_context::unbind_notification(ptr);
                crate::ipc::call_stack::unbind_sched_context(ptr);
                // A thread that yielded to it is answered now.
                if let Some(y) = crate::object::sched_context::yield_from(ptr) {
                    crate::object::sched_context::complete_yield_to(y);
                }
            }
            crate::object::sched_context::SchedContextRef::new(ptr, size_bits).mark_unconfigured()
        }
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedControl { .. } => {}
        // seL4 detaches the thread a final reply cap's object still
        // serves (reply_remove, or cancelIPC of its receiver); no zombie.
        #[cfg(feature = "mcs")]
        Cap::ReplyObject { ptr, .. } => {
            crate::ipc::call_stack::finalise(crate::object::reply::ReplyRef::new(ptr))
        }
        #[cfg(all(test, not(feature = "mcs")))]
        Cap::ReplyObject { .. } => {}
    }
    Ok(Finalised::Done { irq: None })
}

/// Capabilities whose [`finalise_cap`] does not depend on its `is_final`
/// argument, so that a caller may skip working it out (seL4's
/// `isFinalCapability` looks at both neighbours in the derivation list):
/// a frame and a zombie are dealt with either way, a reply cap has nothing
/// to finalise. A predicate, not an exhaustive `match`: a type left out
/// only has its finality asked, which is always correct (and an
/// exhaustive match compiled to one more jump table).
pub fn finality_ignored(cap: &Cap) -> bool {
    matches!(
        cap,
        Cap::Frame { .. } | Cap::Zombie { .. } | Cap::Reply { .. }
    )
}

/// The last IRQ handler capability for `irq` is being deleted: drop its
/// notification (seL4's `deletingIRQHandler`). Preemptible: the IRQ node's
/// copy may be the notification's last capability, with waiters.
fn deleting_irq_handler(irq: u16) -> Result<(), Preempted> {
    match irq_slot(irq) {
        Some(s) => super::delete::cte_delete(s),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::PAddr;
    use cairn_abi::cap::CapRights;

    /// Where `finality_ignored` says so, `finalise_cap` gives the same
    /// answer whether or not the capability is final (capabilities whose
    /// finalisation touches no object; a mapped frame's unmapping is the
    /// VSpace tests' business).
    #[test]
    fn finality_ignored_only_where_it_changes_nothing() {
        let reply = Cap::Reply {
            tcb: PAddr(0x9000_0400),
            master: false,
            can_grant: true,
        };
        let frame = Cap::Frame {
            base: PAddr(0x9000_1000),
            size: crate::cap::FrameSize::Small,
            rights: crate::cap::VmRights::ReadWrite,
            is_device: false,
            mapping: None,
        };
        for cap in [reply, frame] {
            assert!(finality_ignored(&cap), "{cap:?}");
            assert_eq!(finalise_cap(cap, true), finalise_cap(cap, false));
        }
        let ep = Cap::Endpoint {
            ptr: PAddr(0x9000_0000),
            badge: 0,
            rights: CapRights::ALL,
        };
        assert!(!finality_ignored(&ep));
        assert!(!finality_ignored(&Cap::IrqHandler { irq: 1 }));
    }

    /// The last SchedContext, SchedControl or reply-object capability
    /// leaves at once: no zombie, no IRQ to release (seL4's finaliseCap);
    /// the last SchedContext cap leaves its object unconfigured.
    #[test]
    fn mcs_caps_finalise_at_once() {
        use crate::object::sched_context::SchedContextRef;
        use crate::sched::refill::RefillState;
        crate::arch::host::SimMachine::install(0x9000_0000, 1 << 12);
        let obj = SchedContextRef::new(PAddr(0x9000_0400), 10);
        let configured = RefillState {
            period: 10,
            budget: 10,
            max: 4,
            sporadic: true,
            ..RefillState::default()
        };
        obj.set_refill_state(&configured);
        let sc = Cap::SchedContext {
            ptr: PAddr(0x9000_0400),
            size_bits: 10,
        };
        let reply = Cap::ReplyObject {
            ptr: PAddr(0x9000_0020),
            can_grant: true,
        };
        for cap in [sc, Cap::SchedControl { core: 0 }, reply] {
            for is_final in [false, true] {
                assert_eq!(
                    finalise_cap(cap, is_final),
                    Ok(Finalised::Done { irq: None })
                );
                if cap == sc {
                    assert_eq!(obj.is_configured(), !is_final);
                }
            }
        }
        let after = obj.refill_state();
        assert!(!after.sporadic && after.max == 0);
    }
}
