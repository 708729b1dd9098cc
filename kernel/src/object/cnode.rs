//! CNode invocations (ch. 3; ABI ref §7.4).

use crate::api::error::SyscallError;
use crate::api::invoke::{Invocation, InvocationResult};

/// Decodes and performs an invocation of a CNode capability.
pub fn decode_invocation(_inv: &Invocation) -> InvocationResult {
    Err(SyscallError::IllegalOperation.into())
}
