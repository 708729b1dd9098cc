//! What an object's decoder is given: the invoked capability and its slot,
//! the message (label, length, registers), the extra capabilities, and how
//! the system call was made; and what a performed operation gives back
//! ([`Reply`]). Built by `api::invoke` after the lookups; each object's
//! decoder reads it and changes nothing.

use crate::cap::words::CapWords;
use crate::cap::{Cap, SlotRef};
use crate::ipc::message::MessageRegs;
use crate::ipc::transfer::ExtraCaps;
use crate::object::tcb::TcbRef;
use crate::types::SyscallError;

/// Everything an object's decoder may look at. The capabilities are
/// their two words as the lookups found them: a decoder reads the fields
/// it needs in place ([`CapWords`]) or decodes the capability
/// ([`Invocation::cap`], [`Invocation::need_extra`]).
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
    pub cap: CapWords,
    /// The extra capabilities (slot and capability), in order.
    pub extra: ExtraCaps,
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
    /// The invoked capability, decoded.
    pub fn cap(&self) -> Cap {
        Cap::decode(self.cap.0)
    }
    /// Extra capability `i` (decoded), if it was sent.
    pub fn extra_cap(&self, i: usize) -> Option<(SlotRef, Cap)> {
        self.extra_words(i)
            .map(|(slot, cap)| (slot, Cap::decode(cap.0)))
    }
    /// Extra capability `i` as its two words, if it was sent.
    pub fn extra_words(&self, i: usize) -> Option<(SlotRef, CapWords)> {
        self.extra.get(i).copied().flatten()
    }
    /// Extra capability `i` as its two words, or TruncatedMessage if it
    /// was not sent.
    pub fn need_extra_words(&self, i: usize) -> Result<(SlotRef, CapWords), SyscallError> {
        self.extra_words(i).ok_or(SyscallError::TruncatedMessage)
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
