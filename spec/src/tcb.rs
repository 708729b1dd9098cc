//! The TCB methods that change what the rest of this specification
//! models (manual §6.1 *Threads*, §5.3 *Binding Notifications*, ch. 10
//! `seL4_TCB_*`): Suspend, Resume, SetPriority, SetMCPriority,
//! SetSchedParams, BindNotification, UnbindNotification. The others
//! (registers, Configure, SetSpace, SetIPCBuffer, TLS base, flags) are not
//! specified yet; `specified` says which labels are.
//!
//! Each checks its arguments in seL4's order (`tcb_invoke`, changing
//! nothing), then is performed (`tcb_perform`). A priority may not exceed
//! the maximum controlled priority of the thread given as authority
//! (§6.1.3).

use crate::cap::{Cap, ObjId};
use crate::error::SyscallError;
use crate::invoke::Invocation;
use crate::state::{Object, State};

/// The labels of the specified TCB methods (seL4 16.0.0, classic).
pub const SET_PRIORITY: u64 = 6;
pub const SET_MC_PRIORITY: u64 = 7;
pub const SET_SCHED_PARAMS: u64 = 8;
pub const SUSPEND: u64 = 11;
pub const RESUME: u64 = 12;
pub const BIND_NOTIFICATION: u64 = 13;
pub const UNBIND_NOTIFICATION: u64 = 14;

/// Whether the TCB method `label` is specified.
pub fn specified(label: u64) -> bool {
    matches!(label, SET_PRIORITY..=SET_SCHED_PARAMS | SUSPEND..=UNBIND_NOTIFICATION)
}

fn need(ok: bool) -> Result<(), SyscallError> {
    ok.then_some(()).ok_or(SyscallError::TruncatedMessage)
}

fn illegal_unless(ok: bool) -> Result<(), SyscallError> {
    ok.then_some(()).ok_or(SyscallError::IllegalOperation)
}

impl State {
    /// The checks of TCB method `inv.label` on thread `target` by `_caller`
    /// (extra caps `extra`, looked up).
    pub(crate) fn tcb_invoke(
        &self,
        _caller: ObjId,
        target: ObjId,
        inv: &Invocation,
        extra: &[Option<Cap>],
    ) -> Result<(), SyscallError> {
        let word = |i: usize| inv.words.get(i).copied().unwrap_or(0);
        // Extra cap 0 (TruncatedMessage if none was sent).
        let extra0 = || extra.first().copied().ok_or(SyscallError::TruncatedMessage);
        // The authority for a priority: a TCB cap, its MCP the bound.
        let check_prio = |prio: u64, auth: Option<Cap>| -> Result<(), SyscallError> {
            let Some(Cap::Thread { obj }) = auth else {
                return Err(SyscallError::InvalidCapability { index: 1 });
            };
            let mcp = self.thread(obj).map_or(0, |t| t.mcp);
            match prio <= mcp {
                true => Ok(()),
                false => Err(SyscallError::RangeError { min: 0, max: mcp }),
            }
        };
        let bound = self.thread(target).and_then(|t| t.bound);
        match inv.label {
            SUSPEND | RESUME => Ok(()),
            SET_PRIORITY | SET_MC_PRIORITY => {
                need(!inv.words.is_empty())?;
                check_prio(word(0), extra0()?)
            }
            SET_SCHED_PARAMS => {
                need(inv.words.len() >= 2)?;
                let auth = extra0()?;
                check_prio(word(0), auth)?;
                check_prio(word(1), auth)
            }
            BIND_NOTIFICATION => {
                let cap = extra0()?;
                illegal_unless(bound.is_none())?;
                let Some(Cap::Notification { obj, rights, .. }) = cap else {
                    return Err(SyscallError::IllegalOperation);
                };
                illegal_unless(rights.read)?;
                let free = matches!(self.objects.get(&obj),
                    Some(Object::Notification { waiting, bound: None, .. }) if waiting.is_empty());
                illegal_unless(free)
            }
            UNBIND_NOTIFICATION => illegal_unless(bound.is_some()),
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    /// Performs the TCB method `tcb_invoke` accepted.
    pub(crate) fn tcb_perform(
        &mut self,
        _caller: ObjId,
        target: ObjId,
        inv: &Invocation,
        extra: &[Option<Cap>],
    ) {
        let word = |i: usize| inv.words.get(i).copied().unwrap_or(0);
        match inv.label {
            SUSPEND => self.suspend(target),
            RESUME => self.restart(target),
            SET_PRIORITY => self.thread_mut(target).map_or((), |t| t.priority = word(0)),
            SET_MC_PRIORITY => self.thread_mut(target).map_or((), |t| t.mcp = word(0)),
            SET_SCHED_PARAMS => {
                if let Some(t) = self.thread_mut(target) {
                    (t.mcp, t.priority) = (word(0), word(1));
                }
            }
            BIND_NOTIFICATION => {
                if let Some(Some(Cap::Notification { obj, .. })) = extra.first() {
                    self.bind(target, *obj);
                }
            }
            UNBIND_NOTIFICATION => self.unbind_notification(target),
            _ => {}
        }
    }
}
