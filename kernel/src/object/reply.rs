//! MCS reply objects in memory (ch. 4 Message Passing, *Reply objects*
//! in the MCS manual; ABI ref §13): `2^seL4_ReplyBits` = 32 bytes that
//! link a caller waiting for its reply to the receiver's reply cap, and
//! that chain the Calls of one scheduling context's call stack (seL4's
//! `reply_t`). Words are read and written in place
//! (`access::read_word`/`write_word`): no `unsafe`, no `KernelObject`
//! promise. The layout is Cairn's own, of seL4's size:
//!
//! | offset | field | seL4 |
//! |---|---|---|
//! | 0x00 | the thread it links (0 = none): a receiver blocked on Recv with it, or the caller blocked on it for its reply | `replyTCB` |
//! | 0x08 | the reply object of the Call below on the call stack (0 = none) | `replyPrev` |
//! | 0x10 | the reply object of the Call above, or, with bit 0 set, the SchedContext whose stack this reply heads (0 = none) | `replyNext` |
//!
//! A zeroed object (a new one) links nothing. What the links mean and who
//! changes them is `ipc::call_stack`'s; this module only stores them.

use crate::object::access::{read_word, write_word};
use crate::types::PAddr;

const TCB: u64 = 0x00;
const PREV: u64 = 0x08;
const NEXT: u64 = 0x10;
/// Bit 0 of `NEXT`: it names a SchedContext (the reply heads its stack).
/// Objects are at least 16-byte aligned, so the bit is free.
const HEAD: u64 = 1;

/// What a reply's `next` link names (seL4's `call_stack_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing: the reply is on no stack, or at its broken top.
    None,
    /// The reply object of the Call made above this one.
    Reply(ReplyRef),
    /// The SchedContext lent along the stack: this reply is its head.
    Head(PAddr),
}

/// A reply object at a physical address (what a `Cap::ReplyObject` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyRef(PAddr);

impl ReplyRef {
    pub const fn new(ptr: PAddr) -> ReplyRef {
        ReplyRef(ptr)
    }

    /// The reply object at `pa` as a link stores it (0: none).
    pub fn at(pa: u64) -> Option<ReplyRef> {
        (pa != 0).then_some(ReplyRef(PAddr(pa)))
    }

    pub const fn paddr(self) -> PAddr {
        self.0
    }

    /// The thread it links (`replyTCB`).
    pub fn tcb(self) -> u64 {
        read_word(self.0.add(TCB))
    }

    pub fn set_tcb(self, tcb: u64) {
        write_word(self.0.add(TCB), tcb)
    }

    /// The reply below it on the call stack (`replyPrev`).
    pub fn prev(self) -> Option<ReplyRef> {
        ReplyRef::at(read_word(self.0.add(PREV)))
    }

    pub fn set_prev(self, prev: Option<ReplyRef>) {
        write_word(self.0.add(PREV), prev.map_or(0, |r| r.0 .0))
    }

    /// What is above it on the call stack (`replyNext`).
    pub fn next(self) -> Next {
        let w = read_word(self.0.add(NEXT));
        match (w & !HEAD, w & HEAD != 0) {
            (0, _) => Next::None,
            (p, true) => Next::Head(PAddr(p)),
            (p, false) => Next::Reply(ReplyRef(PAddr(p))),
        }
    }

    pub fn set_next(self, next: Next) {
        let w = match next {
            Next::None => 0,
            Next::Reply(r) => r.0 .0,
            Next::Head(sc) => sc.0 | HEAD,
        };
        write_word(self.0.add(NEXT), w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::host::SimMachine;

    #[test]
    fn a_zeroed_reply_links_nothing_and_links_round_trip() {
        SimMachine::install(0x8000_0000, 1 << 16);
        let r = ReplyRef::new(PAddr(0x8000_0020));
        assert_eq!((r.tcb(), r.prev(), r.next()), (0, None, Next::None));
        let other = ReplyRef::new(PAddr(0x8000_0040));
        r.set_tcb(0x8000_0400);
        r.set_prev(Some(other));
        r.set_next(Next::Head(PAddr(0x8000_0800)));
        assert_eq!(r.tcb(), 0x8000_0400);
        assert_eq!(r.prev(), Some(other));
        assert_eq!(r.next(), Next::Head(PAddr(0x8000_0800)));
        r.set_next(Next::Reply(other));
        assert_eq!(r.next(), Next::Reply(other));
        r.set_next(Next::None);
        r.set_prev(None);
        assert_eq!((r.prev(), r.next()), (None, Next::None));
        // The fourth word is not used.
        assert_eq!(read_word(PAddr(0x8000_0038)), 0);
    }
}
