//! Which fault each RISC-V synchronous exception raises (ABI ref §9).

use crate::types::Fault;

/// The fault for a synchronous exception `scause` with `stval` (ABI ref §9:
/// VM faults carry the normalised cause 1, 5 or 7).
pub fn exception_fault(scause: u64, stval: u64) -> Fault {
    match scause {
        1 | 12 => Fault::VmFault {
            addr: stval,
            fsr: 1,
            instruction: true,
        },
        5 | 13 => Fault::VmFault {
            addr: stval,
            fsr: 5,
            instruction: false,
        },
        7 | 15 => Fault::VmFault {
            addr: stval,
            fsr: 7,
            instruction: false,
        },
        _ => Fault::UserException {
            number: scause,
            code: 0,
        },
    }
}
