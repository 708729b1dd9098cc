//! The TCB methods that change what the rest of this specification
//! models (manual §6.1 *Threads*, §6.1.5 *Thread registers*, §5.3
//! *Binding Notifications*, ch. 10 `seL4_TCB_*`): ReadRegisters,
//! WriteRegisters, CopyRegisters, Suspend, Resume, SetPriority,
//! SetMCPriority, SetSchedParams, BindNotification, UnbindNotification,
//! SetTLSBase, SetFlags; Configure, SetSpace and SetIPCBuffer are
//! `tcb_control`'s.
//!
//! Each checks its arguments in seL4's order (`tcb_invoke`, changing
//! nothing), then is performed (`tcb_perform`). A priority may not exceed
//! the maximum controlled priority of the thread given as authority
//! (§6.1.3).

use crate::cap::{Cap, ObjId};
use crate::error::SyscallError;
use crate::invoke::Invocation;
use crate::state::{Object, State};
use crate::thread::{ThreadState, CONTEXT_WORDS, PC, TP};

/// The labels of the TCB methods (seL4 16.0.0; ABI ref §7.3, §13): MCS
/// inserts SetTimeoutEndpoint at 9 (`crate::tcb_mcs`), which moves the
/// labels after it one further on. SetSchedParams has the same label in
/// both, not the same form (MCS: `crate::tcb_mcs`).
pub const READ_REGISTERS: u64 = 2;
pub const WRITE_REGISTERS: u64 = 3;
pub const COPY_REGISTERS: u64 = 4;
pub const CONFIGURE: u64 = 5;
pub const SET_PRIORITY: u64 = 6;
pub const SET_MC_PRIORITY: u64 = 7;
pub const SET_SCHED_PARAMS: u64 = 8;
pub const SET_IPC_BUFFER: u64 = 9 + mcs_shift();
pub const SET_SPACE: u64 = 10 + mcs_shift();
pub const SUSPEND: u64 = 11 + mcs_shift();
pub const RESUME: u64 = 12 + mcs_shift();
pub const BIND_NOTIFICATION: u64 = 13 + mcs_shift();
pub const UNBIND_NOTIFICATION: u64 = 14 + mcs_shift();
pub const SET_TLS_BASE: u64 = 15 + mcs_shift();
pub const SET_FLAGS: u64 = 16 + mcs_shift();

/// How far MCS moves the labels after SetSchedParams (its
/// SetTimeoutEndpoint comes first).
const fn mcs_shift() -> u64 {
    if crate::MCS {
        1
    } else {
        0
    }
}

/// The flags SetFlags can set (`seL4_TCBFlag_MASK`): FPU disabled (the
/// FPU is configured, ABI ref §7.3).
pub const FLAG_MASK: u64 = 1;

/// Whether the TCB method `label` is specified (all of them, in both
/// configurations).
pub fn specified(label: u64) -> bool {
    (READ_REGISTERS..=SET_FLAGS).contains(&label)
}

/// The registers of `seL4_UserContext` (§6.1.5): the first 16 (pc, ra,
/// sp, gp, s0..s11) are the *frame* registers, the other 16 (a0..a7,
/// t0..t6, tp) the *integer* ones of CopyRegisters.
const FRAME: std::ops::Range<usize> = 0..16;
const INTEGER: std::ops::Range<usize> = 16..32;

fn need(ok: bool) -> Result<(), SyscallError> {
    ok.then_some(()).ok_or(SyscallError::TruncatedMessage)
}

fn illegal_unless(ok: bool) -> Result<(), SyscallError> {
    ok.then_some(()).ok_or(SyscallError::IllegalOperation)
}

impl State {
    /// The checks of TCB method `inv.label` on thread `target` by `caller`
    /// (extra caps `extra`, looked up).
    pub(crate) fn tcb_invoke(
        &self,
        caller: ObjId,
        target: ObjId,
        inv: &Invocation,
        extra: &[Option<Cap>],
        slots: &[crate::state::SlotId],
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
            // Read or write another thread's registers: count 1..=32 to
            // read; as many register words as the count says to write.
            READ_REGISTERS => {
                need(inv.words.len() >= 2)?;
                if !(1..=CONTEXT_WORDS as u64).contains(&word(1)) {
                    let max = CONTEXT_WORDS as u64;
                    return Err(SyscallError::RangeError { min: 1, max });
                }
                illegal_unless(target != caller)
            }
            WRITE_REGISTERS => {
                need(inv.words.len() >= 2)?;
                need(inv.words.len() as u64 - 2 >= word(1))?;
                illegal_unless(target != caller)
            }
            COPY_REGISTERS => {
                need(!inv.words.is_empty() && !extra.is_empty())?;
                match extra0()? {
                    Some(Cap::Thread { .. }) => Ok(()),
                    _ => Err(SyscallError::InvalidCapability { index: 1 }),
                }
            }
            SET_TLS_BASE => need(!inv.words.is_empty()),
            SET_FLAGS => need(inv.words.len() >= 2),
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
            CONFIGURE | SET_SPACE | SET_IPC_BUFFER => self
                .thread_control_check(target, inv, extra, slots)
                .map(|_| ()),
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    /// Performs the TCB method `tcb_invoke` accepted (`call`: the caller
    /// made a Call, and waits for ReadRegisters' answer).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcb_perform(
        &mut self,
        caller: ObjId,
        target: ObjId,
        slot: crate::state::SlotId,
        inv: &Invocation,
        extra: &[Option<Cap>],
        slots: &[crate::state::SlotId],
        call: bool,
    ) {
        let word = |i: usize| inv.words.get(i).copied().unwrap_or(0);
        match inv.label {
            READ_REGISTERS => self.read_registers(caller, target, word(0) & 1 != 0, word(1), call),
            WRITE_REGISTERS => {
                let n = (word(1) as usize).min(CONTEXT_WORDS);
                if let Some(t) = self.thread_mut(target) {
                    for i in 0..n {
                        t.set_reg(i, word(i + 2));
                    }
                    t.next_ip = t.reg(PC);
                }
                if word(0) & 1 != 0 {
                    self.restart(target);
                }
                self.reschedule_if_current(target);
            }
            COPY_REGISTERS => {
                let Some(Some(Cap::Thread { obj: source })) = extra.first().copied() else {
                    return;
                };
                let flag = |b: u32| word(0) & (1 << b) != 0;
                if flag(0) {
                    self.suspend(source);
                }
                if flag(1) {
                    self.restart(target);
                }
                let Some(src) = self.thread(source).cloned() else {
                    return;
                };
                if let Some(t) = self.thread_mut(target) {
                    if flag(2) {
                        FRAME.for_each(|i| t.set_reg(i, src.reg(i)));
                        t.next_ip = t.reg(PC);
                    }
                    if flag(3) {
                        INTEGER.for_each(|i| t.set_reg(i, src.reg(i)));
                    }
                }
                self.reschedule_if_current(target);
            }
            SET_TLS_BASE => {
                if let Some(t) = self.thread_mut(target) {
                    t.set_reg(TP, word(0));
                }
                self.reschedule_if_current(target);
            }
            SET_FLAGS => {
                let Some(t) = self.thread_mut(target) else {
                    return;
                };
                t.flags = (t.flags & !word(0)) | (word(1) & FLAG_MASK);
                let flags = t.flags;
                // Answered here, as ReadRegisters is: the new flags.
                if call {
                    self.reply_from_kernel(caller, 0, &[flags]);
                }
                self.set_state(caller, ThreadState::Running);
            }
            SUSPEND => self.suspend(target),
            RESUME => self.restart(target),
            SET_PRIORITY => self.set_priority(target, word(0)),
            SET_MC_PRIORITY => self.thread_mut(target).map_or((), |t| t.mcp = word(0)),
            SET_SCHED_PARAMS => {
                if let Some(t) = self.thread_mut(target) {
                    t.mcp = word(0);
                }
                self.set_priority(target, word(1));
            }
            BIND_NOTIFICATION => {
                if let Some(Some(Cap::Notification { obj, .. })) = extra.first() {
                    self.bind(target, *obj);
                }
            }
            UNBIND_NOTIFICATION => self.unbind_notification(target),
            CONFIGURE | SET_SPACE | SET_IPC_BUFFER => {
                if let Ok(c) = self.thread_control_check(target, inv, extra, slots) {
                    self.thread_control(target, slot, &c);
                }
            }
            _ => {}
        }
    }
}

impl State {
    /// ReadRegisters: the first `n` registers of `source` (suspended
    /// first if `suspend`) are the answer to `caller`'s Call, in
    /// `seL4_UserContext` order (as many as fit without an IPC buffer);
    /// the caller runs on (seL4 answers here, not as other methods do).
    fn read_registers(&mut self, caller: ObjId, source: ObjId, suspend: bool, n: u64, call: bool) {
        if suspend {
            self.suspend(source);
        }
        let words: Vec<u64> = match self.thread(source) {
            Some(s) => (0..n as usize).map(|i| s.reg(i)).collect(),
            None => vec![],
        };
        if call {
            self.reply_from_kernel(caller, 0, &words);
        }
        self.set_state(caller, ThreadState::Running);
    }
}
