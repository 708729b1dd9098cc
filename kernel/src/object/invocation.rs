//! What an object's decoder is given: the invoked capability and its slot,
//! the message (label, length, registers), the extra capabilities, and how
//! the system call was made. Built by `api::invoke` after the lookups.

use crate::cap::{Cap, SlotRef};
use crate::ipc::message::MessageRegs;
use crate::object::tcb::{Tcb, TcbRef, TCB_CTABLE};
use crate::types::KernelError;
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
    /// The caller's CSpace root capability.
    pub fn caller_cspace(&self) -> Cap {
        Tcb::slot(self.caller, TCB_CTABLE).get().cap()
    }
}

/// The outcome of a successful invocation: the number of reply message
/// registers the operation wrote (0 for an empty reply).
pub type InvocationResult = Result<usize, KernelError>;

/// Replies to the caller with `words` (used by operations that return data).
pub fn write_reply_words(inv: &Invocation, words: &[u64]) -> usize {
    let mrs = MessageRegs::of(inv.caller, true);
    words
        .iter()
        .enumerate()
        .take_while(|(i, w)| mrs.set(*i, **w))
        .count()
}
