//! Faults (ch. 6, *Faults*; ABI ref §9): the kinds of fault and how one is
//! stored in a TCB while its handler deals with it. Which exception raises
//! which fault is the architecture's (`arch::exception_fault`); delivery to
//! the handler is `ipc::fault`.

use super::LookupFault;

/// Words of a TCB's stored fault.
pub const FAULT_WORDS: usize = 6;

/// A fault raised by a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A capability lookup failed (`addr` is the cptr).
    Cap {
        addr: u64,
        in_recv_phase: bool,
        lookup: LookupFault,
    },
    /// An unknown or unimplemented syscall number.
    UnknownSyscall { number: u64 },
    /// A synchronous exception other than a VM fault.
    UserException { number: u64, code: u64 },
    /// A page fault.
    VmFault {
        addr: u64,
        fsr: u64,
        instruction: bool,
    },
    /// MCS: the thread's budget ran out and it has a timeout handler;
    /// `badge` is its SchedContext's (`seL4_Fault_Timeout`).
    #[cfg(feature = "mcs")]
    Timeout { badge: u64 },
}

impl Fault {
    /// The fault's label (`seL4_Fault_*`, ABI ref §9).
    pub fn label(&self) -> u64 {
        use cairn_abi::fault as f;
        match self {
            Fault::Cap { .. } => f::CAP_FAULT,
            Fault::UnknownSyscall { .. } => f::UNKNOWN_SYSCALL,
            Fault::UserException { .. } => f::USER_EXCEPTION,
            Fault::VmFault { .. } => f::VM_FAULT,
            #[cfg(feature = "mcs")]
            Fault::Timeout { .. } => f::TIMEOUT,
        }
    }

    /// The fault as stored in a TCB (word 0: label, plus the receive-phase
    /// flag of a cap fault in bit 8).
    pub fn to_words(&self) -> [u64; FAULT_WORDS] {
        match *self {
            Fault::Cap {
                addr,
                in_recv_phase,
                lookup,
            } => {
                let ([a, b, c, d], _) = lookup.words();
                [self.label() | (in_recv_phase as u64) << 8, addr, a, b, c, d]
            }
            Fault::UnknownSyscall { number } => [self.label(), number, 0, 0, 0, 0],
            Fault::UserException { number, code } => [self.label(), number, code, 0, 0, 0],
            Fault::VmFault {
                addr,
                fsr,
                instruction,
            } => [self.label(), addr, fsr, instruction as u64, 0, 0],
            #[cfg(feature = "mcs")]
            Fault::Timeout { badge } => [self.label(), badge, 0, 0, 0, 0],
        }
    }

    /// Decodes a TCB's stored fault; `None` for "no fault" (or anything
    /// unrecognised, which only a kernel bug could store).
    pub fn from_words(w: [u64; FAULT_WORDS]) -> Option<Fault> {
        use cairn_abi::fault as f;
        Some(match w[0] & 0xFF {
            f::CAP_FAULT => Fault::Cap {
                addr: w[1],
                in_recv_phase: w[0] & (1 << 8) != 0,
                lookup: LookupFault::from_words([w[2], w[3], w[4], w[5]])?,
            },
            f::UNKNOWN_SYSCALL => Fault::UnknownSyscall { number: w[1] },
            f::USER_EXCEPTION => Fault::UserException {
                number: w[1],
                code: w[2],
            },
            f::VM_FAULT => Fault::VmFault {
                addr: w[1],
                fsr: w[2],
                instruction: w[3] != 0,
            },
            #[cfg(feature = "mcs")]
            f::TIMEOUT => Fault::Timeout { badge: w[1] },
            _ => return None,
        })
    }
}
