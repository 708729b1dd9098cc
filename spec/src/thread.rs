//! Threads (manual ch. 6 *Threads and Execution*) and the user-visible
//! half of a message (§4.1 *Message Registers*, §4.2 *Endpoints*): a
//! thread's state, what it is blocked on, its priorities, its bound
//! notification, and the registers and IPC-buffer words the kernel reads
//! and writes on its behalf.
//!
//! No scheduler is modelled: which runnable thread runs next is the
//! refinement test's choice (docs/spec.md). Message registers beyond the
//! first four (those in the IPC buffer) are not modelled either: the
//! generator's IPC messages are at most four words long.

use crate::cap::ObjId;

/// A thread's state (§6.1), with what a blocked thread waits for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThreadState {
    /// Not runnable: never started, suspended, or stopped by a fault
    /// without a handler.
    #[default]
    Inactive,
    Running,
    /// Runnable; will run its system call again (after Resume, or when
    /// the object it waited on went away).
    Restart,
    /// Waiting in `ep`'s queue to receive, through a cap with Grant
    /// `grant` (which the reply cap of a Call it receives will carry).
    BlockedOnReceive {
        ep: ObjId,
        grant: bool,
    },
    /// Waiting in `ep`'s queue to send with the badge and rights of the
    /// cap it sent through; `call`: a Call, which waits for a reply next.
    BlockedOnSend {
        ep: ObjId,
        badge: u64,
        grant: bool,
        grant_reply: bool,
        call: bool,
    },
    /// A Call was received; waiting for the reply.
    BlockedOnReply,
    /// Waiting in `ntfn`'s queue for a signal.
    BlockedOnNotification {
        ntfn: ObjId,
    },
}

impl ThreadState {
    /// Whether the thread may run (seL4's `isRunnable`).
    pub fn runnable(&self) -> bool {
        matches!(self, ThreadState::Running | ThreadState::Restart)
    }
}

/// A message's tag (`seL4_MessageInfo_t`, §4.1): label, which extra caps
/// arrived as badges, how many extra caps, how many message words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MsgInfo {
    pub label: u64,
    pub unwrapped: u64,
    pub extra: u64,
    pub length: u64,
}

/// The message registers passed in machine registers (RISC-V: four,
/// seL4's `n_msgRegisters`).
pub const MSG_REGISTERS: usize = 4;

/// A thread: its control block's state and the words of its registers and
/// IPC buffer that system calls pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Thread {
    pub state: ThreadState,
    pub priority: u64,
    /// Maximum controlled priority (§6.1.3).
    pub mcp: u64,
    /// The notification bound to the thread (§5.3).
    pub bound: Option<ObjId>,
    /// The fault handler's cptr in the thread's CSpace (§6.2.1).
    pub fault_handler: u64,
    /// The register that holds the cap pointer on entry and the badge on
    /// return (one register on RISC-V, ABI ref §5).
    pub badge: u64,
    /// The message tag register.
    pub info: MsgInfo,
    /// Message registers 0..4.
    pub mrs: [u64; MSG_REGISTERS],
    /// IPC buffer `caps_or_badges`: the extra caps' cptrs of a message
    /// sent, the badges of caps unwrapped in a message received.
    pub caps_or_badges: [u64; 3],
    /// IPC buffer receive path: CNode cptr, index, depth (§4.2.2).
    pub receive: [u64; 3],
}

impl Thread {
    /// seL4's `replyFromKernel`: the kernel's answer to an invocation (a
    /// label, 0 for success, and words), no badge. Without an IPC buffer
    /// (`buffer`) only the words that fit in registers arrive.
    pub fn reply_from_kernel(&mut self, label: u64, words: &[u64], buffer: bool) {
        let length = match buffer {
            true => words.len(),
            false => words.len().min(MSG_REGISTERS),
        };
        self.badge = 0;
        self.info = MsgInfo {
            label,
            unwrapped: 0,
            extra: 0,
            length: length as u64,
        };
        for (m, w) in self.mrs.iter_mut().zip(words) {
            *m = *w;
        }
    }
}
