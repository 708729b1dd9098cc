//! Why a capability lookup failed (seL4's lookup failure kinds, ABI ref §8):
//! part of cap faults and of `FailedLookup` errors.

use cairn_abi::error::lookup_failure as lf;

/// Why a lookup failed (seL4's lookup failure kinds, ABI ref §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupFault {
    /// The root is not a CNode capability.
    InvalidRoot,
    /// The slot reached holds no capability; `bits_left` were unresolved.
    MissingCapability { bits_left: u32 },
    /// A CNode needed more bits than were left.
    DepthMismatch { bits_left: u32, bits_found: u32 },
    /// The guard did not match.
    GuardMismatch {
        bits_left: u32,
        guard_found: u64,
        bits_found: u32,
    },
}

impl LookupFault {
    /// The failure as message words (type first), ABI ref §8.
    pub fn words(&self) -> ([u64; 4], usize) {
        match *self {
            LookupFault::InvalidRoot => ([lf::INVALID_ROOT, 0, 0, 0], 1),
            LookupFault::MissingCapability { bits_left } => {
                ([lf::MISSING_CAPABILITY, bits_left as u64, 0, 0], 2)
            }
            LookupFault::DepthMismatch {
                bits_left,
                bits_found,
            } => (
                [lf::DEPTH_MISMATCH, bits_left as u64, bits_found as u64, 0],
                3,
            ),
            LookupFault::GuardMismatch {
                bits_left,
                guard_found,
                bits_found,
            } => (
                [
                    lf::GUARD_MISMATCH,
                    bits_left as u64,
                    guard_found,
                    bits_found as u64,
                ],
                4,
            ),
        }
    }

    /// The inverse of [`LookupFault::words`] (`None` for a bad type).
    pub fn from_words(w: [u64; 4]) -> Option<LookupFault> {
        Some(match w[0] {
            lf::INVALID_ROOT => LookupFault::InvalidRoot,
            lf::MISSING_CAPABILITY => LookupFault::MissingCapability {
                bits_left: w[1] as u32,
            },
            lf::DEPTH_MISMATCH => LookupFault::DepthMismatch {
                bits_left: w[1] as u32,
                bits_found: w[2] as u32,
            },
            lf::GUARD_MISMATCH => LookupFault::GuardMismatch {
                bits_left: w[1] as u32,
                guard_found: w[2],
                bits_found: w[3] as u32,
            },
            _ => return None,
        })
    }
}
