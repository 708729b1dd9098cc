//! seL4's object invocations (ABI ref §7): the methods on the typed caps.
//!
//! As in libsel4, the stubs are generated from one description of the
//! object API: `api.rs` is the table (one entry per invocation: cap type,
//! method, parameters in seL4's order, result, label), and `stubs.rs` the
//! `invocations!` macro that expands it, packing parameters into message
//! words and extra caps as seL4's stub generator does (ABI ref §7.1). Each
//! generated method sends its message with `seL4_Call` ([`invoke`]) and
//! decodes the reply into `Result<_, Error>`.
//!
//! **Adding an invocation:** its label goes in `cairn_abi::invocation::label`
//! (shared with the kernel's decode); then one entry in `api.rs`, e.g.
//!
//! ```text
//! /// `seL4_TCB_SetFlags`: returns the thread's new flags.
//! Tcb::set_flags(clear: Word, set: Word) -> Word = TCB_SET_FLAGS;
//! ```
//!
//! (a cap-typed parameter becomes an extra cap, any other parameter
//! message words; a type that no entry used before needs an `InParam` or
//! `OutParam` impl in `stubs.rs`), and a case in `tests.rs` checking its
//! label against seL4's number and its words and caps where seL4 puts them.
//!
//! The other modules hold the argument types and helpers of one object
//! type: [`cnode::RotateSlot`], [`tcb::CopyFlags`] and the
//! `seL4_UserContext` word order, [`untyped::object_size_bits`].
//! Endpoints and notifications are used through system calls, not
//! invocations ([`endpoint`]).

use crate::cap::CPtr;
use crate::error::Error;
use crate::message::Message;
use crate::syscall;

mod api;
pub mod cnode;
pub mod endpoint;
mod stubs;
pub mod tcb;
#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests;
pub mod untyped;

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
    use crate::ipc_buffer::testing::install;
    use crate::syscall::testing::{with_fake_kernel, Msg};
    use cairn_abi::syscall::SYS_CALL;

    /// Runs `f` (which must make exactly one Call) with `reply` scripted;
    /// returns its result and the (invoked cptr, message) it sent.
    pub fn one_call<R>(reply: Msg, f: impl FnOnce() -> R) -> (R, u64, Msg) {
        install();
        let (out, log) = with_fake_kernel(&[reply], f);
        assert_eq!(log.len(), 1, "exactly one system call");
        let (sys, a0, msg) = log.into_iter().next().unwrap();
        assert_eq!(sys, SYS_CALL);
        (out, a0, msg)
    }

    /// The empty success reply.
    pub fn ok() -> Msg {
        Msg::new(0, &[], &[])
    }
}
