//! The refinement test's summary: what a run compared, counted per
//! thread (`tally`), added up over the chunks (`run.rs`); and how a
//! system call and the spec's answer are written for the kernel.

use crate::testutil::Outcome;
use cairn_spec::{Syscall, SyscallError};

/// seL4's reply to an invocation: the label and the message words (ABI
/// ref §8).
pub(super) fn encode(r: &Result<(), SyscallError>) -> Outcome {
    let (label, mrs) = match r {
        Ok(()) => (0, vec![]),
        Err(e) => e.code_and_words(),
    };
    Outcome::Reply { label, mrs }
}

/// What the run did, for its summary: calls compared (by reply label:
/// 0 success, else the error code), system calls other than those
/// (by kind), steps skipped (outside the spec or touching boot caps),
/// restarts after preemption, threads resumed because none could run,
/// sequences abandoned where the spec stops (a fault handler).
#[derive(Default)]
pub(super) struct Tally {
    pub(super) replies: [u64; 11],
    pub(super) syscalls: [u64; 13],
    /// Exceptions taken (user exceptions and VM faults).
    pub(super) exceptions: u64,
    /// Faults sent to a handler, and the handlers' replies that ended them.
    pub(super) faults_sent: u64,
    pub(super) fault_replies: u64,
    pub(super) skipped: u64,
    pub(super) preempted: u64,
    pub(super) kicks: u64,
    pub(super) abandoned: u64,
    pub(super) cancelled: u64,
    pub(super) caps_transferred: u64,
    pub(super) caps_unwrapped: u64,
    /// VSpace invocations that succeeded: PageTable Map, Unmap, Page Map,
    /// Unmap, GetAddress, MakePool, Assign (Calls answered with label 0).
    pub(super) vm_done: [u64; 7],
    /// Interrupts delivered (a notification signalled or none bound).
    pub(super) interrupts: u64,
    /// Thread control (Configure, SetSpace, SetIPCBuffer) and interrupt or
    /// domain invocations answered, and how many succeeded.
    pub(super) control: [u64; 2],
    pub(super) irq: [u64; 2],
    /// MCS: SchedControl and SchedContext invocations (and their
    /// Retypes) answered, and how many succeeded.
    pub(super) sched: [u64; 2],
    /// Page Maps and Unmaps of 1 GiB frames that succeeded.
    pub(super) giga: [u64; 2],
    /// Thread control calls that left the thread's buffer in the same
    /// memory as another thread's.
    pub(super) shared_buffers: u64,
    /// ScheduleConfigure and ScheduleSetStart calls that succeeded.
    pub(super) schedule: u64,
    /// TCB methods other than thread control (registers, Suspend, Resume,
    /// priorities, binding, TLS base, flags) answered, and succeeded.
    pub(super) tcb: [u64; 2],
    /// Steps made by a thread other than the root thread.
    pub(super) others: u64,
    /// MCS: idle stretches, budget overruns, and the overruns that sent
    /// a timeout fault (`time.rs`).
    pub(super) time: [u64; 3],
    /// Classic: steps made by the thread the scheduler chose (the others
    /// by the test's choice), and the steps after which the scheduler
    /// ran another thread than the one that acted (or idle).
    pub(super) chosen: [u64; 2],
    /// Classic: timer ticks.
    pub(super) ticks: u64,
    /// MCS: threads found, over all steps, in a ready queue, in the
    /// release queue, and not schedulable (in neither) by the queue check
    /// (`queues_mcs.rs`).
    pub(super) queues: [u64; 3],
    /// MCS: YieldTo on the context of a runnable thread answered at once
    /// (not the scheduler's), and how many succeeded.
    pub(super) yield_to: [u64; 2],
}

impl Tally {
    pub(super) fn add(&mut self, o: &Tally) {
        self.replies
            .iter_mut()
            .zip(o.replies)
            .for_each(|(a, b)| *a += b);
        self.syscalls
            .iter_mut()
            .zip(o.syscalls)
            .for_each(|(a, b)| *a += b);
        self.exceptions += o.exceptions;
        self.faults_sent += o.faults_sent;
        self.fault_replies += o.fault_replies;
        self.skipped += o.skipped;
        self.preempted += o.preempted;
        self.kicks += o.kicks;
        self.abandoned += o.abandoned;
        self.cancelled += o.cancelled;
        self.caps_transferred += o.caps_transferred;
        self.caps_unwrapped += o.caps_unwrapped;
        self.vm_done
            .iter_mut()
            .zip(o.vm_done)
            .for_each(|(a, b)| *a += b);
        self.interrupts += o.interrupts;
        for i in 0..2 {
            self.control[i] += o.control[i];
            self.irq[i] += o.irq[i];
            self.sched[i] += o.sched[i];
            self.giga[i] += o.giga[i];
            self.tcb[i] += o.tcb[i];
        }
        self.others += o.others;
        for i in 0..3 {
            self.time[i] += o.time[i];
        }
        for i in 0..2 {
            self.chosen[i] += o.chosen[i];
        }
        self.ticks += o.ticks;
        for i in 0..3 {
            self.queues[i] += o.queues[i];
        }
        for i in 0..2 {
            self.yield_to[i] += o.yield_to[i];
        }
        self.shared_buffers += o.shared_buffers;
        self.schedule += o.schedule;
    }
}

thread_local! {
    pub(super) static TALLY: core::cell::RefCell<Tally> = core::cell::RefCell::new(Tally::default());
}

pub(super) fn tally(f: impl FnOnce(&mut Tally)) {
    TALLY.with(|t| f(&mut t.borrow_mut()));
}

/// The system call number of `s`.
pub(super) fn number(s: Syscall) -> i64 {
    use cairn_abi::syscall::*;
    match s {
        Syscall::Call => SYS_CALL,
        Syscall::Send => SYS_SEND,
        Syscall::NBSend => SYS_NB_SEND,
        Syscall::Recv => SYS_RECV,
        Syscall::NBRecv => SYS_NB_RECV,
        #[cfg(not(feature = "mcs"))]
        Syscall::Reply => SYS_REPLY,
        // MCS has no Reply system call (the generator makes none): a
        // number no system call has.
        #[cfg(feature = "mcs")]
        Syscall::Reply => -1000,
        Syscall::ReplyRecv => SYS_REPLY_RECV,
        Syscall::Yield => SYS_YIELD,
        #[cfg(feature = "mcs")]
        Syscall::NBSendRecv => SYS_NB_SEND_RECV,
        #[cfg(feature = "mcs")]
        Syscall::NBSendWait => SYS_NB_SEND_WAIT,
        #[cfg(feature = "mcs")]
        Syscall::Wait => SYS_WAIT,
        #[cfg(feature = "mcs")]
        Syscall::NBWait => SYS_NB_WAIT,
        // Classic has none of these (the generator makes none).
        #[cfg(not(feature = "mcs"))]
        Syscall::NBSendRecv | Syscall::NBSendWait | Syscall::Wait | Syscall::NBWait => -1000,
        Syscall::Unknown(n) => n,
    }
}

/// The index of `s` in the summary's counts.
pub(super) fn index(s: Syscall) -> usize {
    match s {
        Syscall::Call => 0,
        Syscall::Send => 1,
        Syscall::NBSend => 2,
        Syscall::Recv => 3,
        Syscall::NBRecv => 4,
        Syscall::Reply => 5,
        Syscall::ReplyRecv => 6,
        Syscall::Yield => 7,
        Syscall::Unknown(_) => 8,
        Syscall::NBSendRecv => 9,
        Syscall::NBSendWait => 10,
        Syscall::Wait => 11,
        Syscall::NBWait => 12,
    }
}
