//! seL4's object invocations (ABI ref §7), one module per object type.
//!
//! Each method has two halves: a pure `*_msg` function that marshals its
//! arguments into a [`Message`] exactly as libsel4's generated stubs do
//! (ABI ref §7.1: words to MR0.. in declaration order, cap arguments to extra
//! caps), and the method on the typed cap, which sends it with `seL4_Call`
//! and decodes the reply into `Result<_, Error>` ([`invoke`]).

use crate::cap::CPtr;
use crate::error::Error;
use crate::message::Message;
use crate::syscall;

pub mod cnode;
pub mod domain;
pub mod endpoint;
pub mod irq;
pub mod tcb;
pub mod untyped;
pub mod vspace;

/// Calls the object `cap` with `msg` and returns the reply, or the error the
/// kernel answered with (a non-zero reply label, ABI ref §8).
pub fn invoke(cap: CPtr, msg: &Message) -> Result<Message, Error> {
    let (_badge, reply) = syscall::call(cap, msg);
    match Error::from_reply(&reply) {
        Some(e) => Err(e),
        None => Ok(reply),
    }
}

#[cfg(all(test, not(target_arch = "riscv64")))]
pub(crate) mod testing {
    //! Runs one invocation against the fake kernel.
    use super::*;
    use crate::ipc_buffer::testing::install;
    use crate::syscall::testing::with_fake_kernel;
    use cairn_abi::syscall::SYS_CALL;

    /// Runs `f` (which must make exactly one Call) with `reply` scripted;
    /// returns its result and the (invoked cptr, message) it sent.
    pub fn one_call<R>(reply: Message, f: impl FnOnce() -> R) -> (R, u64, Message) {
        install();
        let (out, log) = with_fake_kernel(&[reply], f);
        assert_eq!(log.len(), 1, "exactly one system call");
        let (sys, a0, msg) = log[0];
        assert_eq!(sys, SYS_CALL);
        (out, a0, msg)
    }

    /// The empty success reply.
    pub fn ok() -> Message {
        Message::empty(0)
    }
}
