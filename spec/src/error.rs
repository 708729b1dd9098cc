//! seL4's system call errors and lookup faults (manual §10.1 *Errors*,
//! §3.4 *Lookup Failure Description*), in seL4's numbering order, with the
//! data each carries back to the caller.

/// Why a CSpace lookup failed (§3.4), with what the caller is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupFault {
    /// The root of the lookup is not a CNode cap.
    InvalidRoot,
    /// The slot reached holds no cap (or not the one needed); `bits_left`
    /// bits of the address were not resolved.
    MissingCapability { bits_left: u32 },
    /// The address had too few or too many bits for the CNodes on its path.
    DepthMismatch { bits_left: u32, bits_found: u32 },
    /// A CNode's guard did not match the address.
    GuardMismatch {
        bits_left: u32,
        guard_found: u64,
        bits_found: u32,
    },
}

impl LookupFault {
    /// The words that describe it to user space (§3.4, ABI ref §8): its
    /// type (1..=4), then its data.
    pub fn words(&self) -> Vec<u64> {
        match *self {
            LookupFault::InvalidRoot => vec![1],
            LookupFault::MissingCapability { bits_left } => vec![2, bits_left as u64],
            LookupFault::DepthMismatch {
                bits_left,
                bits_found,
            } => vec![3, bits_left as u64, bits_found as u64],
            LookupFault::GuardMismatch {
                bits_left,
                guard_found,
                bits_found,
            } => vec![4, bits_left as u64, guard_found, bits_found as u64],
        }
    }
}

/// A system call error (`seL4_Error`, numbered 1..=10 in this order), with
/// its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallError {
    /// 1: argument `index` is invalid.
    InvalidArgument { index: u64 },
    /// 2: the cap at `index` (0: the invoked one) is of the wrong kind.
    InvalidCapability { index: u64 },
    /// 3: the cap does not support the operation.
    IllegalOperation,
    /// 4: an argument is outside `min..=max`.
    RangeError { min: u64, max: u64 },
    /// 5
    AlignmentError,
    /// 6: a lookup failed; `source` says it was the source (or pivot) of
    /// a CNode method rather than its destination.
    FailedLookup { source: bool, fault: LookupFault },
    /// 7: too few message words or extra caps.
    TruncatedMessage,
    /// 8: the destination slot is not empty.
    DeleteFirst,
    /// 9: the cap has derivation children.
    RevokeFirst,
    /// 10: the untyped has only `available` bytes left.
    NotEnoughMemory { available: u64 },
}

impl SyscallError {
    /// The error's code (`seL4_Error`) and the words the caller gets
    /// (ABI ref §8: the lookup fault's type and data after the
    /// source flag for FailedLookup).
    pub fn code_and_words(&self) -> (u64, Vec<u64>) {
        use SyscallError as E;
        match *self {
            E::InvalidArgument { index } => (1, vec![index]),
            E::InvalidCapability { index } => (2, vec![index]),
            E::IllegalOperation => (3, vec![]),
            E::RangeError { min, max } => (4, vec![min, max]),
            E::AlignmentError => (5, vec![]),
            E::FailedLookup { source, fault } => {
                let mut v = vec![source as u64];
                v.extend(fault.words());
                (6, v)
            }
            E::TruncatedMessage => (7, vec![]),
            E::DeleteFirst => (8, vec![]),
            E::RevokeFirst => (9, vec![]),
            E::NotEnoughMemory { available } => (10, vec![available]),
        }
    }
}
