//! TCB Configure, SetSpace and SetIPCBuffer (manual §6.1 *Threads*, §4.1
//! *IPC buffer*, §6.2.1 the fault handler's cptr, ch. 10
//! `seL4_TCB_Configure`, `seL4_TCB_SetSpace`, `seL4_TCB_SetIPCBuffer`;
//! both configurations): a thread's fault handler (classic: a cptr; MCS
//! SetSpace: a cap in the TCB's fault-handler slot), CSpace and VSpace
//! roots and IPC buffer.
//!
//! The new caps are given as extra caps and installed in the TCB's slots
//! (0 CSpace root, 1 VSpace root, the buffer frame 4, MCS 2) as copies derived from
//! them, children of their slots; the caps there before are deleted first
//! (seL4's `invokeTCB_ThreadControl`). The checks, in seL4's order
//! (`decodeTCBConfigure`, `decodeSetSpace`, `decodeSetIPCBuffer`):
//!
//! 1. enough words and extra caps (TruncatedMessage): Configure 4 and 3
//!    (fault cptr, CSpace data, VSpace data, buffer address; CSpace root,
//!    VSpace root, buffer frame), SetSpace 3 and 2, SetIPCBuffer 1 and 1;
//!    MCS (no fault cptr): Configure 3 and 3 (the handler is not
//!    changed), SetSpace 2 and 3 (the fault handler cap first, then the
//!    roots);
//! 2. the buffer (Configure, SetIPCBuffer), unless its address is 0 (no
//!    buffer; the cap is not looked at): the frame cap derived (an untyped
//!    with children: RevokeFirst), a frame that is not device memory
//!    (IllegalOperation), the address aligned to the buffer's 1 KiB
//!    (AlignmentError);
//! 3. the roots (Configure, SetSpace): neither old root the last cap to a
//!    CNode or TCB, or a zombie, whose deletion would take long
//!    (IllegalOperation); the CSpace root with its data applied if the
//!    data is not 0 (a guard that does not fit makes it the null cap),
//!    derived, a CNode (IllegalOperation); the VSpace root likewise,
//!    derived (an unmapped page table: IllegalOperation), a mapped page
//!    table (IllegalOperation);
//! 4. MCS SetSpace: the fault handler cap valid (seL4's
//!    `validFaultHandler`: none, or an endpoint cap with Write and Grant
//!    or GrantReply), else InvalidCapability(1).
//!
//! MCS installs the fault handler first, as it is (not derived), after
//! deleting the old one (`installTCBCap`, `crate::tcb_mcs`).
//!
//! A new cap is installed only if its source slot still holds a cap to
//! the same object and the invoked slot still the thread's cap once the
//! old caps are gone (seL4 checks; the deletions here never reach them).

use crate::cap::{same_object, update_data, Cap, ObjId};
use crate::error::SyscallError;
use crate::invoke::Invocation;
use crate::state::{SlotId, State, TCB_BUFFER, TCB_CTABLE};
use crate::tcb::{CONFIGURE, SET_IPC_BUFFER, SET_SPACE};

/// The TCB slot of the VSpace root.
pub const TCB_VTABLE: u64 = 1;
/// log2 of the IPC buffer's size and alignment (`seL4_IPCBufferSizeBits`).
pub const IPC_BUFFER_BITS: u32 = 10;

/// A cap to install: where it comes from, and the derived cap.
type NewCap = (SlotId, Cap);

/// The fault handler Configure or SetSpace sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultHandler {
    /// Classic: the cptr looked up when the thread faults.
    Cptr(u64),
    /// MCS SetSpace: the cap for the TCB's fault-handler slot (none: the
    /// slot is emptied) and the slot it comes from.
    Cap(Option<Cap>, SlotId),
    /// MCS Configure: the handler stays.
    Keep,
}

/// What a thread control method changes (`None`: that part stays).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Control {
    /// The fault handler and the new CSpace and VSpace roots.
    pub space: Option<(FaultHandler, NewCap, NewCap)>,
    /// The buffer's address and its frame (none if the address is 0).
    pub buffer: Option<(u64, Option<NewCap>)>,
}

impl State {
    /// The checks of Configure, SetSpace and SetIPCBuffer on `target`
    /// (extra caps `extra` from the slots `slots`), and what they will do.
    pub(crate) fn thread_control_check(
        &self,
        target: ObjId,
        inv: &Invocation,
        extra: &[Option<Cap>],
        slots: &[SlotId],
    ) -> Result<Control, SyscallError> {
        let word = |i: usize| inv.words.get(i).copied().unwrap_or(0);
        // MCS: no fault cptr word; SetSpace's fault handler is extra cap 0.
        let mcs = crate::MCS as usize;
        let (words, caps) = match inv.label {
            CONFIGURE => (4 - mcs, 3),
            SET_SPACE => (3 - mcs, 2 + mcs),
            _ => (1, 1),
        };
        if inv.words.len() < words || extra.len() < caps || slots.len() < caps {
            return Err(SyscallError::TruncatedMessage);
        }
        let mut c = Control::default();
        if let Some((addr, i)) = match inv.label {
            CONFIGURE => Some((word(3 - mcs), 2)),
            SET_IPC_BUFFER => Some((word(0), 0)),
            _ => None,
        } {
            let frame = match addr {
                0 => None,
                _ => Some((slots[i], self.check_buffer(addr, slots[i], extra[i])?)),
            };
            c.buffer = Some((addr, frame));
        }
        if matches!(inv.label, CONFIGURE | SET_SPACE) {
            for index in [TCB_CTABLE, TCB_VTABLE] {
                if self.long_running_delete(SlotId { obj: target, index }) {
                    return Err(SyscallError::IllegalOperation);
                }
            }
            // The first root cap and the first cap data word.
            let r = usize::from(crate::MCS && inv.label == SET_SPACE);
            let d = 1 - mcs;
            let croot = self.new_root(slots[r], extra[r], word(d))?;
            if !matches!(croot, Some(Cap::CNode { .. })) {
                return Err(SyscallError::IllegalOperation);
            }
            let vroot = self.new_root(slots[r + 1], extra[r + 1], word(d + 1))?;
            let (
                Some(croot),
                Some(
                    vroot @ Cap::PageTable {
                        mapped: Some(_), ..
                    },
                ),
            ) = (croot, vroot)
            else {
                return Err(SyscallError::IllegalOperation);
            };
            let handler = match (crate::MCS, inv.label) {
                (false, _) => FaultHandler::Cptr(word(0)),
                (true, SET_SPACE) if crate::tcb_mcs::valid_fault_handler(extra[0]) => {
                    FaultHandler::Cap(extra[0], slots[0])
                }
                (true, SET_SPACE) => return Err(SyscallError::InvalidCapability { index: 1 }),
                (true, _) => FaultHandler::Keep,
            };
            c.space = Some((handler, (slots[r], croot), (slots[r + 1], vroot)));
        }
        Ok(c)
    }

    /// The buffer frame (checks 2 above): the derived cap.
    fn check_buffer(&self, addr: u64, src: SlotId, cap: Option<Cap>) -> Result<Cap, SyscallError> {
        let derived = match cap {
            Some(cap) => self.derive(src, cap)?,
            None => None,
        };
        let Some(frame @ Cap::Frame { device: false, .. }) = derived else {
            return Err(SyscallError::IllegalOperation);
        };
        match addr & ((1 << IPC_BUFFER_BITS) - 1) {
            0 => Ok(frame),
            _ => Err(SyscallError::AlignmentError),
        }
    }

    /// A new root: the cap with `data` applied (if not 0), derived.
    fn new_root(
        &self,
        src: SlotId,
        cap: Option<Cap>,
        data: u64,
    ) -> Result<Option<Cap>, SyscallError> {
        let cap = match data {
            0 => cap,
            d => cap.and_then(|c| update_data(false, d, c)),
        };
        match cap {
            Some(cap) => self.derive(src, cap),
            None => Ok(None),
        }
    }

    /// seL4's `slotCapLongRunningDelete`: the slot holds the last cap to a
    /// CNode or TCB, or a zombie.
    fn long_running_delete(&self, slot: SlotId) -> bool {
        match self.cap(slot) {
            Some(cap @ (Cap::CNode { .. } | Cap::Thread { .. } | Cap::Zombie { .. })) => {
                self.is_final(slot, &cap)
            }
            _ => false,
        }
    }

    /// Performs what `thread_control_check` accepted, on `target` invoked
    /// through `invoked`: the fault handler (classic: the cptr; MCS: the
    /// cap installed in its slot); each root slot emptied, then given its
    /// new cap; the buffer slot emptied, the address set, the frame
    /// installed.
    pub(crate) fn thread_control(&mut self, target: ObjId, invoked: SlotId, c: &Control) {
        let install = |s: &mut State, index: u64, (src, cap): NewCap| {
            let ok = |slot: SlotId, want: &Cap| s.cap(slot).is_some_and(|c| same_object(want, &c));
            if ok(src, &cap) && ok(invoked, &Cap::Thread { obj: target }) {
                s.insert_derived(src, SlotId { obj: target, index }, cap);
            }
        };
        if let Some((fault, croot, vroot)) = c.space {
            match fault {
                FaultHandler::Cptr(cptr) => {
                    if let Some(t) = self.thread_mut(target) {
                        t.fault_handler = cptr;
                    }
                }
                FaultHandler::Cap(cap, src) => self.install_handler(
                    target,
                    invoked,
                    crate::state::TCB_FAULT_HANDLER,
                    cap,
                    Some(src),
                ),
                FaultHandler::Keep => {}
            }
            for (index, new) in [(TCB_CTABLE, croot), (TCB_VTABLE, vroot)] {
                self.delete(SlotId { obj: target, index }, true);
                install(self, index, new);
            }
        }
        if let Some((addr, frame)) = c.buffer {
            self.delete(
                SlotId {
                    obj: target,
                    index: TCB_BUFFER,
                },
                true,
            );
            if let Some(t) = self.thread_mut(target) {
                t.ipc_buffer = addr;
            }
            if let Some(new) = frame {
                install(self, TCB_BUFFER, new);
            }
            // The buffer's words are those of the memory it is now in.
            self.load_buffer(target);
            self.reschedule_if_current(target);
        }
    }
}
