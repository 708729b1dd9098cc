//! Untyped memory and `Untyped_Retype` (ch. 2, *Kernel Memory Allocation*;
//! ABI ref §7.2).

use crate::api::error::SyscallError;
use crate::api::invoke::{Invocation, InvocationResult};

/// Decodes and performs an invocation of an untyped capability.
pub fn decode_invocation(_inv: &Invocation) -> InvocationResult {
    Err(SyscallError::IllegalOperation.into())
}
