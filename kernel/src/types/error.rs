//! Errors of kernel operations, with seL4's data (ABI ref §8).
//!
//! `SyscallError` is what an invocation's decode returns; it becomes the
//! label and message registers of the kernel's reply. [`Preempted`] is
//! the one way a decoded operation can stop short.

use super::LookupFault;
use cairn_abi::error::Error;

/// A system call error, with the data seL4 reports for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallError {
    /// `seL4_InvalidArgument`: argument `index` is bad.
    InvalidArgument { index: u64 },
    /// `seL4_InvalidCapability`: capability `index` (0 = the invoked one,
    /// N+1 = extra cap N) is bad.
    InvalidCapability { index: u64 },
    /// `seL4_IllegalOperation`.
    IllegalOperation,
    /// `seL4_RangeError`: a value outside `[min, max]`.
    RangeError { min: u64, max: u64 },
    /// `seL4_AlignmentError`.
    AlignmentError,
    /// `seL4_FailedLookup`: `source` is true if the source lookup failed.
    FailedLookup { source: bool, fault: LookupFault },
    /// `seL4_TruncatedMessage`.
    TruncatedMessage,
    /// `seL4_DeleteFirst`.
    DeleteFirst,
    /// `seL4_RevokeFirst`.
    RevokeFirst,
    /// `seL4_NotEnoughMemory`: `available` bytes are left.
    NotEnoughMemory { available: u64 },
}

impl SyscallError {
    /// The error code (the reply's label).
    pub fn code(&self) -> Error {
        match self {
            SyscallError::InvalidArgument { .. } => Error::InvalidArgument,
            SyscallError::InvalidCapability { .. } => Error::InvalidCapability,
            SyscallError::IllegalOperation => Error::IllegalOperation,
            SyscallError::RangeError { .. } => Error::RangeError,
            SyscallError::AlignmentError => Error::AlignmentError,
            SyscallError::FailedLookup { .. } => Error::FailedLookup,
            SyscallError::TruncatedMessage => Error::TruncatedMessage,
            SyscallError::DeleteFirst => Error::DeleteFirst,
            SyscallError::RevokeFirst => Error::RevokeFirst,
            SyscallError::NotEnoughMemory { .. } => Error::NotEnoughMemory,
        }
    }

    /// The error message registers and how many there are.
    pub fn words(&self) -> ([u64; 5], usize) {
        match *self {
            SyscallError::InvalidArgument { index } | SyscallError::InvalidCapability { index } => {
                ([index, 0, 0, 0, 0], 1)
            }
            SyscallError::RangeError { min, max } => ([min, max, 0, 0, 0], 2),
            SyscallError::FailedLookup { source, fault } => {
                let (w, n) = fault.words();
                ([source as u64, w[0], w[1], w[2], w[3]], 1 + n)
            }
            SyscallError::NotEnoughMemory { available } => ([available, 0, 0, 0, 0], 1),
            SyscallError::IllegalOperation
            | SyscallError::AlignmentError
            | SyscallError::TruncatedMessage
            | SyscallError::DeleteFirst
            | SyscallError::RevokeFirst => ([0; 5], 0),
        }
    }
}

/// Why a performed operation stopped early: a preemption point found an
/// interrupt pending (seL4's `EXCEPTION_PREEMPTED`). The operation left its
/// objects consistent, with its progress recorded in them, and the system
/// call is restarted once the interrupt is handled. It is the only way an
/// operation can fail once decoded: every other failure is a
/// [`SyscallError`] found by decoding, before anything changed. (Lookup
/// faults of the invoked and extra capabilities are raised before decoding,
/// by `api::invoke`; lookups inside decoding are `FailedLookup` errors.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct Preempted;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_words_match_the_abi() {
        // ABI ref §6.7: copy from an empty slot: label 6, MR0 1, MR1 2, MR2 64.
        let e = SyscallError::FailedLookup {
            source: true,
            fault: LookupFault::MissingCapability { bits_left: 64 },
        };
        assert_eq!(e.code() as u64, 6);
        assert_eq!(e.words(), ([1, 2, 64, 0, 0], 3));
        let e = SyscallError::FailedLookup {
            source: false,
            fault: LookupFault::GuardMismatch {
                bits_left: 13,
                guard_found: 0,
                bits_found: 51,
            },
        };
        assert_eq!(e.words(), ([0, 4, 13, 0, 51], 5));
        assert_eq!(
            SyscallError::RangeError { min: 1, max: 32 }.words(),
            ([1, 32, 0, 0, 0], 2)
        );
        assert_eq!(SyscallError::DeleteFirst.code() as u64, 8);
        assert_eq!(SyscallError::DeleteFirst.words().1, 0);
    }
}
