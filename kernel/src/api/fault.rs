//! Faults (ch. 6, *Faults*; ABI ref §9). Fault delivery to a handler
//! endpoint comes with the IPC issue; until then a faulting thread is
//! treated as seL4 treats a thread without a valid fault handler: the
//! kernel reports it and the thread becomes Inactive.

use crate::cap::LookupFault;
use crate::object::tcb::{TcbRef, ThreadState, NAME_LEN};
use crate::state::kernel;

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
}

/// Handles a fault of `tcb`. No fault handler can be reached yet (see the
/// module doc): the thread is suspended and the kernel says why.
pub fn handle_fault(tcb: TcbRef, fault: Fault) {
    let t = tcb.get();
    let mut name = [0u8; NAME_LEN];
    let len = t.name(&mut name);
    kprintln!(
        "cairn: thread {:#x} \"{}\" faulted at pc {:#x}: {:x?}; no fault handler, thread suspended",
        tcb.paddr().0,
        core::str::from_utf8(name.get(..len).unwrap_or(&[])).unwrap_or("?"),
        t.fault_ip(),
        fault
    );
    suspend(tcb);
}

/// Makes a thread Inactive and takes it off the ready queues.
pub fn suspend(tcb: TcbRef) {
    tcb.get().set_state(ThreadState::Inactive);
    kernel().ready.dequeue(tcb);
    kernel().reschedule.set(true);
}

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
