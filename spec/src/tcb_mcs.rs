//! MCS: the TCB methods of MCS form (`TCB_SetSchedParams`,
//! `TCB_SetTimeoutEndpoint`; manual ch. 10; SetSpace's MCS form is
//! `crate::tcb_control`'s), and
//! the MCS TCB's handler slots (§6.2.1 *Fault handlers*: under MCS the
//! fault handler is an endpoint cap in the TCB, not a cptr looked up at
//! fault time; the timeout handler likewise).
//!
//! Checks in seL4 16.0.0's order (`decodeSetSchedParams`,
//! `decodeSetTimeoutEndpoint`); a handler cap is installed as it is (not
//! derived) after the old one is deleted, as its source's child
//! (`installTCBCap`). The other TCB methods have the classic form
//! (`crate::tcb`, in MCS numbering: the labels after SetSchedParams one
//! further on), Configure, SetSpace and SetIPCBuffer
//! `crate::tcb_control`'s with `if MCS` where their words and caps
//! differ.

use crate::cap::{Cap, ObjId};
use crate::error::SyscallError;
use crate::invoke::Invocation;
use crate::state::{SlotId, State, TCB_FAULT_HANDLER, TCB_TIMEOUT_HANDLER};
use crate::thread::ThreadState;

/// MCS labels: SetPriority and SetMCPriority as classic, then these.
pub const SET_SCHED_PARAMS: u64 = 8;
pub const SET_TIMEOUT_ENDPOINT: u64 = 9;

/// Whether the TCB method `label` has a form of its own in MCS (this
/// file's).
pub fn mcs_form(label: u64) -> bool {
    crate::MCS && matches!(label, SET_SCHED_PARAMS | SET_TIMEOUT_ENDPOINT)
}

/// seL4's `validFaultHandler`: no cap, or an endpoint cap with Write and
/// Grant or GrantReply.
pub fn valid_fault_handler(cap: Option<Cap>) -> bool {
    match cap {
        None => true,
        Some(Cap::Endpoint { rights, .. }) => rights.write && (rights.grant || rights.grant_reply),
        Some(_) => false,
    }
}

impl State {
    /// The checks of SetSchedParams (MR0 MCP, MR1 priority; extra caps
    /// authority, SchedContext or none, fault handler) and
    /// SetTimeoutEndpoint (extra cap the handler) on `target` by
    /// `caller`, changing nothing.
    pub(crate) fn tcb_mcs_check(
        &self,
        caller: ObjId,
        target: ObjId,
        inv: &Invocation,
        extra: &[Option<Cap>],
    ) -> Result<(), SyscallError> {
        match inv.label {
            SET_TIMEOUT_ENDPOINT => {
                let th = extra.first().ok_or(SyscallError::TruncatedMessage)?;
                match valid_fault_handler(*th) {
                    true => Ok(()),
                    false => Err(SyscallError::InvalidCapability { index: 1 }),
                }
            }
            SET_SCHED_PARAMS => {
                let ([auth, sc, fh, ..], true) = (extra, inv.words.len() >= 2) else {
                    return Err(SyscallError::TruncatedMessage);
                };
                let Some(Cap::Thread { obj: auth }) = *auth else {
                    return Err(SyscallError::InvalidCapability { index: 1 });
                };
                let mcp = self.thread(auth).map_or(0, |t| t.mcp);
                for &p in &inv.words[..2] {
                    if p > mcp {
                        return Err(SyscallError::RangeError { min: 0, max: mcp });
                    }
                }
                match *sc {
                    Some(Cap::SchedContext { obj, .. }) => {
                        let own = self.sc_of_tcb(target);
                        let s = self.sc(obj).ok_or(SyscallError::IllegalOperation)?;
                        if own != Some(obj) && (own.is_some() || s.tcb.is_some()) {
                            return Err(SyscallError::IllegalOperation);
                        }
                        let blocked = !matches!(
                            self.state_of(target),
                            ThreadState::Inactive | ThreadState::Running | ThreadState::Restart
                        );
                        if blocked && !s.configured() {
                            return Err(SyscallError::IllegalOperation);
                        }
                    }
                    None if target == caller => return Err(SyscallError::IllegalOperation),
                    None => {}
                    Some(_) => return Err(SyscallError::InvalidCapability { index: 2 }),
                }
                match valid_fault_handler(*fh) {
                    true => Ok(()),
                    false => Err(SyscallError::InvalidCapability { index: 3 }),
                }
            }
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    /// Performs what [`State::tcb_mcs_check`] accepted on `target`,
    /// invoked through `invoked` (`slots`: the extra caps' slots).
    pub(crate) fn tcb_mcs_perform(
        &mut self,
        target: ObjId,
        invoked: SlotId,
        inv: &Invocation,
        extra: &[Option<Cap>],
        slots: &[SlotId],
    ) {
        match inv.label {
            SET_TIMEOUT_ENDPOINT => {
                let src = slots.first().copied();
                self.install_handler(
                    target,
                    invoked,
                    TCB_TIMEOUT_HANDLER,
                    extra.first().copied().flatten(),
                    src,
                );
            }
            SET_SCHED_PARAMS => {
                let fh = extra.get(2).copied().flatten();
                let src = slots.get(2).copied();
                self.install_handler(target, invoked, TCB_FAULT_HANDLER, fh, src);
                let w = |i: usize| inv.words.get(i).copied().unwrap_or(0);
                if let Some(t) = self.thread_mut(target) {
                    t.mcp = w(0);
                }
                self.set_priority(target, w(1));
                let own = self.sc_of_tcb(target);
                let sc = match extra.get(1).copied().flatten() {
                    Some(Cap::SchedContext { obj, .. }) => Some(obj),
                    _ => None,
                };
                if own != sc {
                    self.unbind_sc_of_tcb(target);
                    if let Some(sc) = sc {
                        self.bind_sc(sc, target);
                    }
                }
            }
            _ => {}
        }
    }

    /// seL4's `installTCBCap`: the handler slot `index` of `target`
    /// emptied (the old cap deleted), then `cap` from `src` put there as
    /// it is, as `src`'s child, if `src` still holds a cap to its object
    /// and `invoked` the thread's cap (the deletion may have taken
    /// either).
    pub(crate) fn install_handler(
        &mut self,
        target: ObjId,
        invoked: SlotId,
        index: u64,
        cap: Option<Cap>,
        src: Option<SlotId>,
    ) {
        let slot = SlotId { obj: target, index };
        self.delete(slot, true);
        let (Some(cap), Some(src)) = (cap, src) else {
            return;
        };
        let same = |s: &State, at: SlotId, want: &Cap| {
            s.cap(at).is_some_and(|c| crate::cap::same_object(want, &c))
        };
        let tcb = Cap::Thread { obj: target };
        if same(self, src, &cap) && same(self, invoked, &tcb) {
            self.insert_derived(src, slot, cap);
        }
    }
}
