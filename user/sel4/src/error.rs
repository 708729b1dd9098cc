//! seL4's invocation errors with their data (ABI ref §8), decoded from the
//! kernel's reply: the reply label is the error code and the error data is
//! in the first message registers.

use crate::message::Message;
use cairn_abi::error::lookup_failure as lf;
use cairn_abi::Word;
use core::fmt;

/// Why a capability lookup failed (`seL4_LookupFailureType` and its data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupFailure {
    /// `seL4_NoFailure`.
    NoFailure,
    /// `seL4_InvalidRoot`: the root was not a CNode.
    InvalidRoot,
    /// `seL4_MissingCapability`: resolution ended at an empty or non-CNode slot.
    MissingCapability {
        /// Bits left unresolved.
        bits_left: Word,
    },
    /// `seL4_DepthMismatch`.
    DepthMismatch {
        /// Bits left unresolved.
        bits_left: Word,
        /// Guard plus radix bits of the CNode that did not fit.
        bits_found: Word,
    },
    /// `seL4_GuardMismatch`.
    GuardMismatch {
        /// Bits left unresolved.
        bits_left: Word,
        /// The CNode's guard.
        guard_found: Word,
        /// The CNode's guard size.
        bits_found: Word,
    },
    /// A failure type this library does not know.
    Unknown {
        /// The raw type word.
        kind: Word,
    },
}

impl LookupFailure {
    /// Decodes a lookup failure from `words` (type first, then its data), as
    /// it appears from MR1 of a FailedLookup error or MR3 of a cap fault.
    pub fn decode(words: &[Word]) -> Self {
        let w = |i: usize| words.get(i).copied().unwrap_or(0);
        match w(0) {
            lf::NO_FAILURE => LookupFailure::NoFailure,
            lf::INVALID_ROOT => LookupFailure::InvalidRoot,
            lf::MISSING_CAPABILITY => LookupFailure::MissingCapability { bits_left: w(1) },
            lf::DEPTH_MISMATCH => LookupFailure::DepthMismatch {
                bits_left: w(1),
                bits_found: w(2),
            },
            lf::GUARD_MISMATCH => LookupFailure::GuardMismatch {
                bits_left: w(1),
                guard_found: w(2),
                bits_found: w(3),
            },
            kind => LookupFailure::Unknown { kind },
        }
    }
}

/// A failed invocation: `seL4_Error` with its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// `seL4_InvalidArgument` (1).
    InvalidArgument {
        /// Which argument (0 = MR0).
        index: Word,
    },
    /// `seL4_InvalidCapability` (2).
    InvalidCapability {
        /// 0 = the invoked cap, N+1 = extra cap N.
        index: Word,
    },
    /// `seL4_IllegalOperation` (3).
    IllegalOperation,
    /// `seL4_RangeError` (4).
    RangeError {
        /// Smallest allowed value.
        min: Word,
        /// Largest allowed value.
        max: Word,
    },
    /// `seL4_AlignmentError` (5).
    AlignmentError,
    /// `seL4_FailedLookup` (6).
    FailedLookup {
        /// True if the source slot's lookup failed (else the destination's).
        source: bool,
        /// Why.
        failure: LookupFailure,
    },
    /// `seL4_TruncatedMessage` (7).
    TruncatedMessage,
    /// `seL4_DeleteFirst` (8).
    DeleteFirst,
    /// `seL4_RevokeFirst` (9).
    RevokeFirst,
    /// `seL4_NotEnoughMemory` (10).
    NotEnoughMemory {
        /// Bytes still available in the untyped.
        available: Word,
    },
    /// A reply label that is not an seL4 error code.
    Unknown {
        /// The label.
        label: Word,
    },
}

impl Error {
    /// The error in a kernel reply, or `None` if the label is 0 (success).
    /// Inline, so that a successful invocation tests one register; the
    /// error's decoding stays out of line.
    #[inline]
    pub fn from_reply(reply: &Message) -> Option<Error> {
        match reply.label() {
            0 => None,
            _ => Some(Error::decode(reply)),
        }
    }

    /// The error of a reply whose label is not 0.
    #[inline(never)]
    fn decode(reply: &Message) -> Error {
        let mr = |i| reply.mr(i);
        match reply.label() {
            1 => Error::InvalidArgument { index: mr(0) },
            2 => Error::InvalidCapability { index: mr(0) },
            3 => Error::IllegalOperation,
            4 => Error::RangeError {
                min: mr(0),
                max: mr(1),
            },
            5 => Error::AlignmentError,
            6 => Error::FailedLookup {
                source: mr(0) != 0,
                // MR1.. (at most four words; `mr` is 0 past the length).
                failure: LookupFailure::decode(&[mr(1), mr(2), mr(3), mr(4)]),
            },
            7 => Error::TruncatedMessage,
            8 => Error::DeleteFirst,
            9 => Error::RevokeFirst,
            10 => Error::NotEnoughMemory { available: mr(0) },
            label => Error::Unknown { label },
        }
    }

    /// The `seL4_Error` code.
    pub const fn code(&self) -> Word {
        match self {
            Error::InvalidArgument { .. } => 1,
            Error::InvalidCapability { .. } => 2,
            Error::IllegalOperation => 3,
            Error::RangeError { .. } => 4,
            Error::AlignmentError => 5,
            Error::FailedLookup { .. } => 6,
            Error::TruncatedMessage => 7,
            Error::DeleteFirst => 8,
            Error::RevokeFirst => 9,
            Error::NotEnoughMemory { .. } => 10,
            Error::Unknown { label } => *label,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument { index } => write!(f, "InvalidArgument({index})"),
            Error::InvalidCapability { index } => write!(f, "InvalidCapability({index})"),
            Error::IllegalOperation => f.write_str("IllegalOperation"),
            Error::RangeError { min, max } => write!(f, "RangeError({min}, {max})"),
            Error::AlignmentError => f.write_str("AlignmentError"),
            Error::FailedLookup { source, failure } => {
                write!(f, "FailedLookup(source={source}, {failure:?})")
            }
            Error::TruncatedMessage => f.write_str("TruncatedMessage"),
            Error::DeleteFirst => f.write_str("DeleteFirst"),
            Error::RevokeFirst => f.write_str("RevokeFirst"),
            Error::NotEnoughMemory { available } => write!(f, "NotEnoughMemory({available})"),
            Error::Unknown { label } => write!(f, "unknown error label {label}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(label: Word, mrs: &[Word]) -> Message {
        crate::ipc_buffer::testing::install();
        Message::new(label, mrs, &[])
    }

    #[test]
    fn success_is_none() {
        assert_eq!(Error::from_reply(&reply(0, &[5])), None);
    }

    #[test]
    fn observed_replies_decode() {
        // The replies observed on seL4 (ABI ref §6.7).
        assert_eq!(
            Error::from_reply(&reply(1, &[0])),
            Some(Error::InvalidArgument { index: 0 })
        );
        assert_eq!(
            Error::from_reply(&reply(4, &[1, 32])),
            Some(Error::RangeError { min: 1, max: 32 })
        );
        assert_eq!(
            Error::from_reply(&reply(3, &[])),
            Some(Error::IllegalOperation)
        );
        assert_eq!(Error::from_reply(&reply(8, &[])), Some(Error::DeleteFirst));
        assert_eq!(
            Error::from_reply(&reply(6, &[1, 2, 64])),
            Some(Error::FailedLookup {
                source: true,
                failure: LookupFailure::MissingCapability { bits_left: 64 }
            })
        );
        assert_eq!(
            Error::from_reply(&reply(6, &[0, 4, 13, 0, 51])),
            Some(Error::FailedLookup {
                source: false,
                failure: LookupFailure::GuardMismatch {
                    bits_left: 13,
                    guard_found: 0,
                    bits_found: 51
                }
            })
        );
        assert_eq!(
            Error::from_reply(&reply(10, &[4096])),
            Some(Error::NotEnoughMemory { available: 4096 })
        );
    }

    #[test]
    fn codes_round_trip() {
        for label in 1..=12 {
            let e = Error::from_reply(&reply(label, &[1, 2, 3])).unwrap();
            assert_eq!(e.code(), label);
        }
    }

    #[test]
    fn lookup_failures() {
        assert_eq!(LookupFailure::decode(&[1]), LookupFailure::InvalidRoot);
        assert_eq!(
            LookupFailure::decode(&[3, 10, 20]),
            LookupFailure::DepthMismatch {
                bits_left: 10,
                bits_found: 20
            }
        );
        assert_eq!(
            LookupFailure::decode(&[9]),
            LookupFailure::Unknown { kind: 9 }
        );
        assert_eq!(LookupFailure::decode(&[]), LookupFailure::NoFailure);
    }
}
