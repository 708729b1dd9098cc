//! Error codes of kernel replies and lookup failure kinds (ABI ref §8).

/// `seL4_Error`: the label of a kernel reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Error {
    /// `seL4_NoError`.
    NoError = 0,
    /// `seL4_InvalidArgument`: MR0 = argument number.
    InvalidArgument = 1,
    /// `seL4_InvalidCapability`: MR0 = cap number.
    InvalidCapability = 2,
    /// `seL4_IllegalOperation`.
    IllegalOperation = 3,
    /// `seL4_RangeError`: MR0 = min, MR1 = max.
    RangeError = 4,
    /// `seL4_AlignmentError`.
    AlignmentError = 5,
    /// `seL4_FailedLookup`: MR0 = source?, MR1.. = lookup failure.
    FailedLookup = 6,
    /// `seL4_TruncatedMessage`.
    TruncatedMessage = 7,
    /// `seL4_DeleteFirst`.
    DeleteFirst = 8,
    /// `seL4_RevokeFirst`.
    RevokeFirst = 9,
    /// `seL4_NotEnoughMemory`: MR0 = bytes available.
    NotEnoughMemory = 10,
}

impl Error {
    /// `seL4_NumErrors`.
    pub const COUNT: u64 = 11;

    /// Decodes a reply label.
    pub const fn from_word(w: u64) -> Option<Error> {
        Some(match w {
            0 => Error::NoError,
            1 => Error::InvalidArgument,
            2 => Error::InvalidCapability,
            3 => Error::IllegalOperation,
            4 => Error::RangeError,
            5 => Error::AlignmentError,
            6 => Error::FailedLookup,
            7 => Error::TruncatedMessage,
            8 => Error::DeleteFirst,
            9 => Error::RevokeFirst,
            10 => Error::NotEnoughMemory,
            _ => return None,
        })
    }
}

/// `seL4_LookupFailureType`.
pub mod lookup_failure {
    /// `seL4_NoFailure`.
    pub const NO_FAILURE: u64 = 0;
    /// `seL4_InvalidRoot`.
    pub const INVALID_ROOT: u64 = 1;
    /// `seL4_MissingCapability`: then bitsLeft.
    pub const MISSING_CAPABILITY: u64 = 2;
    /// `seL4_DepthMismatch`: then bitsLeft, bitsFound.
    pub const DEPTH_MISMATCH: u64 = 3;
    /// `seL4_GuardMismatch`: then bitsLeft, guardFound, bitsFound.
    pub const GUARD_MISMATCH: u64 = 4;
}
