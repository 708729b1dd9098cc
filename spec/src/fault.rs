//! Faults (manual §6.2 *Faults*; the message layouts: ABI ref §9): what
//! a thread that faults sends its fault handler, and what the handler's
//! reply does to it.
//!
//! A fault (a cap lookup that failed in a system call, an unknown system
//! call number, an exception, a page fault) is sent as a Call on the
//! endpoint that the thread's fault-handler cptr names *in the thread's
//! own CSpace* (§6.2.1), looked up when the fault happens. That cap must
//! be an endpoint cap with Write and Grant or GrantReply; the thread then
//! waits as a caller (it always grants the handler a reply cap) with the
//! fault remembered, and the handler receives the fault message with the
//! cap's badge. Without a valid handler the thread stops (Inactive).
//! The handler's reply restarts the thread, or, for an unknown system call
//! or a user exception with a label other than 0, stops it; the reply's
//! first words are written back into the registers the message carried.

use crate::cap::{Cap, ObjId};
use crate::error::LookupFault;
use crate::state::State;
use crate::thread::{Thread, ThreadState, A0, A6, MSG_REGISTERS, PC, RA, SP};

/// A fault (the message's label is [`Fault::label`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A capability lookup failed: `addr` the cptr, `in_recv_phase` if
    /// the receive of a system call looked it up (§6.2.1).
    Cap {
        addr: u64,
        in_recv_phase: bool,
        lookup: LookupFault,
    },
    /// A system call number the kernel does not know (§6.2.2).
    UnknownSyscall { number: u64 },
    /// An exception other than a system call or a page fault: its cause
    /// (RISC-V `scause`) and code (0 on RISC-V) (§6.2.3).
    UserException { number: u64, code: u64 },
    /// A page fault (§6.2.4): the address, the cause (1 fetch, 5 load,
    /// 7 store; ABI ref §9) and whether it was an instruction fetch.
    VmFault {
        addr: u64,
        fsr: u64,
        instruction: bool,
    },
    /// MCS: the thread's scheduling context ran out of budget and the
    /// thread has a timeout handler (`crate::timeout`): the context's
    /// badge (§6.2.5 *Timeout faults*).
    Timeout { badge: u64 },
}

/// The registers an unknown system call's message carries, and its reply
/// writes back, in message order: pc, sp, ra, a0..a6 (ABI ref §9).
const SYSCALL_MESSAGE: [usize; 10] = [PC, SP, RA, A0, 17, 18, 19, 20, 21, A6];
/// A user exception's: pc, sp.
const EXCEPTION_MESSAGE: [usize; 2] = [PC, SP];
/// A timeout fault's reply writes back the whole `seL4_UserContext`, in
/// its order (`seL4_TimeoutReply_*`, ABI ref §9), the thread's register
/// numbering.
const TIMEOUT_REPLY: [usize; crate::thread::CONTEXT_WORDS] = {
    let mut r = [0; crate::thread::CONTEXT_WORDS];
    let mut i = 0;
    while i < r.len() {
        r[i] = i;
        i += 1;
    }
    r
};

impl Fault {
    /// The fault message's label (`seL4_Fault_*`, classic numbering).
    pub fn label(&self) -> u64 {
        match self {
            Fault::Cap { .. } => 1,
            Fault::UnknownSyscall { .. } => 2,
            Fault::UserException { .. } => 3,
            // MCS: 6, after the Timeout fault's 5 (RISC-V
            // `shared_types.bf`).
            Fault::VmFault { .. } => match crate::MCS {
                true => 6,
                false => 5,
            },
            Fault::Timeout { .. } => 5,
        }
    }

    /// The fault an exception raises (RISC-V: `scause`, `stval`): page
    /// faults (causes 1, 5, 7 access faults and 12, 13, 15 page faults)
    /// are VM faults, the rest user exceptions (ABI ref §9).
    pub fn of_exception(scause: u64, stval: u64) -> Fault {
        let vm = |fsr, instruction| Fault::VmFault {
            addr: stval,
            fsr,
            instruction,
        };
        match scause {
            1 | 12 => vm(1, true),
            5 | 13 => vm(5, false),
            7 | 15 => vm(7, false),
            _ => Fault::UserException {
                number: scause,
                code: 0,
            },
        }
    }

    /// The message words the handler receives from `t` (seL4's
    /// `setMRs_fault`).
    pub fn message(&self, t: &Thread) -> Vec<u64> {
        let regs = |r: &[usize]| r.iter().map(|&i| t.reg(i)).collect::<Vec<_>>();
        match *self {
            Fault::Cap {
                addr,
                in_recv_phase,
                lookup,
            } => {
                let mut v = vec![t.reg(PC), addr, in_recv_phase as u64];
                v.extend(lookup.words());
                v
            }
            Fault::UnknownSyscall { number } => {
                let mut v = regs(&SYSCALL_MESSAGE);
                v.push(number);
                v
            }
            Fault::UserException { number, code } => {
                let mut v = regs(&EXCEPTION_MESSAGE);
                v.extend([number, code]);
                v
            }
            Fault::VmFault {
                addr,
                fsr,
                instruction,
            } => vec![t.reg(PC), addr, instruction as u64, fsr],
            // The consumed time that follows is the scheduling context's
            // (`State::fault_message`).
            Fault::Timeout { badge } => vec![badge],
        }
    }
}

impl State {
    /// seL4's `handleFault`: thread `t` raised `f`. Sent to its handler as
    /// a Call with the handler cap's badge, or, with no valid handler,
    /// the thread stops.
    pub fn handle_fault(&mut self, t: ObjId, f: Fault) {
        let Some(cptr) = self.thread(t).map(|x| x.fault_handler) else {
            return;
        };
        // MCS: the handler is the cap in the TCB's fault-handler slot,
        // not looked up (its validity was checked when it was installed).
        let handler = match crate::MCS {
            true => {
                let slot = crate::state::SlotId {
                    obj: t,
                    index: crate::state::TCB_FAULT_HANDLER,
                };
                Ok((slot, self.cap(slot)))
            }
            false => self.lookup_in(t, cptr),
        };
        match handler {
            Ok((_, Some(Cap::Endpoint { obj, badge, rights })))
                if rights.write && (rights.grant || rights.grant_reply) =>
            {
                if let Some(x) = self.thread_mut(t) {
                    x.fault = Some(f);
                }
                // MCS: a send that is a call because of the fault, with
                // the cap's GrantReply, lending the thread's context.
                let (call, grant_reply) = match crate::MCS {
                    true => (false, rights.grant_reply),
                    false => (true, true),
                };
                let donate = self.sc_of_tcb(t).is_some();
                let rights = (rights.grant, grant_reply);
                self.send_ipc(t, obj, true, call, badge, rights, donate);
            }
            _ => self.set_state(t, ThreadState::Inactive),
        }
    }

    /// A reply by `handler` to `t`, which waited with fault `f`: the
    /// handler's verdict (§6.2), `t` restarts or stops, and its fault is
    /// forgotten. Both configurations' reply transfers end so.
    pub(crate) fn end_fault(&mut self, t: ObjId, handler: ObjId, f: Fault) {
        let restart = self.fault_reply(t, handler, f);
        if let Some(x) = self.thread_mut(t) {
            x.fault = None;
        }
        let state = match restart {
            true => ThreadState::Restart,
            false => ThreadState::Inactive,
        };
        self.set_state(t, state);
        if restart {
            self.possible_switch_to(t);
        }
    }

    /// The message `t` sends with fault `f` (seL4's `setMRs_fault`): a
    /// timeout fault's carries, after the badge, the µs the thread's
    /// scheduling context consumed, taken out of it, if it has one.
    pub(crate) fn fault_message(&mut self, t: ObjId, f: Fault) -> Vec<u64> {
        let Some(x) = self.thread(t) else {
            return vec![];
        };
        let mut words = f.message(x);
        if let (Fault::Timeout { .. }, Some(sc)) = (f, self.sc_of_tcb(t)) {
            words.push(self.take_consumed_us(sc));
        }
        words
    }

    /// seL4's `handleFaultReply`: `handler`'s reply to `t`, which waited
    /// for it with fault `f`. For an unknown system call, a user
    /// exception or a timeout fault the reply's first words (at most as
    /// many as the message carried registers, the whole context for a
    /// timeout) are written back into those registers; a reply to one of
    /// these with a label other than 0 stops the thread.
    /// Returns whether `t` restarts.
    pub(crate) fn fault_reply(&mut self, t: ObjId, handler: ObjId, f: Fault) -> bool {
        let regs: &[usize] = match f {
            Fault::Cap { .. } | Fault::VmFault { .. } => return true,
            Fault::UnknownSyscall { .. } => &SYSCALL_MESSAGE,
            Fault::UserException { .. } => &EXCEPTION_MESSAGE,
            Fault::Timeout { .. } => &TIMEOUT_REPLY,
        };
        let buffer = self.has_buffer(handler, false);
        let Some(h) = self.thread(handler).cloned() else {
            return false;
        };
        let length = (h.info.length as usize).min(crate::thread::MSG_MAX_LENGTH);
        let Some(x) = self.thread_mut(t) else {
            return false;
        };
        for (i, &r) in regs.iter().enumerate().take(length) {
            if i >= MSG_REGISTERS && !buffer {
                break;
            }
            x.set_reg(r, h.mr(i));
        }
        h.info.label == 0
    }
}
