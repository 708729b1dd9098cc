//! What an object's decoder is given: the invoked capability and its slot,
//! the message (label, length, registers), the extra capabilities, and how
//! the system call was made; and what a performed operation gives back
//! ([`Reply`]). Built by `api::invoke` after the lookups; each object's
//! decoder reads it and changes nothing.

use crate::cap::{Cap, SlotRef};
use crate::ipc::message::MessageRegs;
use crate::object::tcb::TcbRef;
use crate::types::SyscallError;
use cairn_abi::message::MSG_MAX_EXTRA_CAPS;

/// Everything an object's decoder may look at.
pub struct Invocation {
    /// The invoking thread.
    pub caller: TcbRef,
    /// The MessageInfo label (the method).
    pub label: u64,
    /// Number of message registers sent (clamped as seL4 does).
    pub length: usize,
    /// The caller's message registers.
    pub msg: MessageRegs,
    /// The slot of the invoked capability.
    pub slot: SlotRef,
    /// The invoked capability.
    pub cap: Cap,
    /// The extra capabilities (slot and capability), in order.
    pub extra: [Option<(SlotRef, Cap)>; MSG_MAX_EXTRA_CAPS],
    /// The system call blocks (Call, Send; not NBSend).
    pub blocking: bool,
    /// The system call is a Call.
    pub call: bool,
}

impl Invocation {
    /// Message register `i` (the caller checks `length` first).
    pub fn arg(&self, i: usize) -> u64 {
        self.msg.get(i)
    }
    /// Extra capability `i`, if it was sent.
    pub fn extra_cap(&self, i: usize) -> Option<(SlotRef, Cap)> {
        self.extra.get(i).copied().flatten()
    }
    /// Extra capability `i`, or TruncatedMessage if it was not sent.
    pub fn need_extra(&self, i: usize) -> Result<(SlotRef, Cap), SyscallError> {
        self.extra_cap(i).ok_or(SyscallError::TruncatedMessage)
    }
}

/// TruncatedMessage unless `cond` (a check of the message's length).
pub fn need(cond: bool) -> Result<(), SyscallError> {
    match cond {
        true => Ok(()),
        false => Err(SyscallError::TruncatedMessage),
    }
}

/// What a performed operation gives its caller: the message words of a
/// successful reply. Only a Call gets them; `api::invoke` writes them. Kept
/// small (no word array) because it is returned on every invocation's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Reply {
    /// An empty reply (most operations).
    Empty,
    /// One word (`Page_GetAddress`, `TCB_SetFlags`).
    Word(u64),
    /// The first `count` registers of `tcb` in `seL4_UserContext` order
    /// (`TCB_ReadRegisters`), read as the reply is written: `tcb` is not the
    /// caller, and nothing runs between the perform and the reply.
    Registers { tcb: TcbRef, count: usize },
}

impl Reply {
    pub fn len(&self) -> usize {
        match *self {
            Reply::Empty => 0,
            Reply::Word(_) => 1,
            Reply::Registers { count, .. } => count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Word `i` (`i` < [`Reply::len`]).
    pub fn word(&self, i: usize) -> u64 {
        match *self {
            Reply::Empty => 0,
            Reply::Word(w) => w,
            Reply::Registers { tcb, .. } => tcb.get().user_register(i),
        }
    }
}
