//! Threads (manual ch. 6 *Threads and Execution*) and the user-visible
//! half of a message (§4.1 *Message Registers*, §4.2 *Endpoints*): a
//! thread's state, what it is blocked on, its priorities, its bound
//! notification, and the registers and IPC-buffer words the kernel reads
//! and writes on its behalf.
//!
//! No scheduler is modelled: which runnable thread runs next is the
//! refinement test's choice (docs/spec.md). The registers are all here
//! (seL4_UserContext, ABI ref §10): those that carry a message (a0 the
//! cap pointer or badge, a1 the tag, a2..a5 MR0..MR3) as fields of their
//! own, the others in [`Thread::context`]; the message words beyond MR3
//! live in the IPC buffer ([`Thread::buffer`]).

use crate::cap::ObjId;
use crate::fault::Fault;

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

impl MsgInfo {
    /// The tag as the register holds it (label in bits 63..12, unwrapped
    /// 11..9, extra caps 8..7, length 6..0; ABI ref §3). Every word is a
    /// tag, so a register written by WriteRegisters or a fault reply
    /// round-trips.
    pub fn to_word(self) -> u64 {
        self.label << 12 | (self.unwrapped & 7) << 9 | (self.extra & 3) << 7 | (self.length & 0x7F)
    }

    pub fn from_word(w: u64) -> MsgInfo {
        MsgInfo {
            label: w >> 12,
            unwrapped: (w >> 9) & 7,
            extra: (w >> 7) & 3,
            length: w & 0x7F,
        }
    }
}

/// The message registers passed in machine registers (RISC-V: four,
/// seL4's `n_msgRegisters`).
pub const MSG_REGISTERS: usize = 4;
/// The most message words a message carries (`seL4_MsgMaxLength`).
pub const MSG_MAX_LENGTH: usize = 120;
/// The words of `seL4_UserContext` (ABI ref §10).
pub const CONTEXT_WORDS: usize = 32;
/// Indices in `seL4_UserContext` order: pc (FaultIP), ra, sp, a0 (the
/// first of a0..a7), a6 (MCS: the reply register), t0, tp.
pub const PC: usize = 0;
pub const RA: usize = 1;
pub const SP: usize = 2;
pub const A0: usize = 16;
pub const A6: usize = 22;
/// t0: MCS NBSendRecv's destination cptr (seL4's `nbsendRecvDest`).
pub const T0: usize = 24;
pub const TP: usize = 31;

/// The message words MR4..MR119 in the IPC buffer (`msg[4..120]`), as
/// the kernel reads them through the buffer's frame cap (all 0 while the
/// thread has none). Boxed: a thread is small, its buffer is not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffer(pub Box<[u64; MSG_MAX_LENGTH - MSG_REGISTERS]>);

impl Default for Buffer {
    fn default() -> Buffer {
        Buffer(Box::new([0; MSG_MAX_LENGTH - MSG_REGISTERS]))
    }
}

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
    /// MR4.. in the IPC buffer.
    pub buffer: Buffer,
    /// The other user registers, in `seL4_UserContext` order; words
    /// `A0..A0 + 6` (a0..a5) are the fields above and stay 0 here.
    pub context: [u64; CONTEXT_WORDS],
    /// NextIP: where a running thread resumes after its system call; a
    /// suspended thread's pc becomes it (§6.1.5, ABI ref §10).
    pub next_ip: u64,
    /// The fault the thread's handler has been sent (or is to be sent)
    /// and has not answered yet (§6.2).
    pub fault: Option<Fault>,
    /// The TCB's flags (`seL4_TCBFlag_*`, TCB_SetFlags).
    pub flags: u64,
    /// The IPC buffer's virtual address (`tcbIPCBuffer`, §4.1): its
    /// offset in the frame of TCB slot 4 is where the buffer words are.
    pub ipc_buffer: u64,
    /// The scheduling domain (§6.3, DomainSet_Set).
    pub domain: u64,
    /// The timer ticks left of its time slice (classic, `tcbTimeSlice`:
    /// [`TIME_SLICE`] for a new thread; counted down while it runs,
    /// `crate::sched`).
    pub time_slice: u64,
}

/// A time slice in timer ticks (`CONFIG_TIME_SLICE` of the configuration
/// the refinement test builds, seL4's default).
pub const TIME_SLICE: u64 = 5;

impl Thread {
    /// The words kept in the IPC buffer set to 0: how a thread without a
    /// buffer is compared (its words stay in memory, unread, and are
    /// there again when the buffer is set back to the same place).
    pub fn forget_buffer(&mut self) {
        self.buffer = Buffer::default();
        self.caps_or_badges = [0; 3];
        self.receive = [0; 3];
    }

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
        for (i, w) in words.iter().take(length).enumerate() {
            self.set_mr(i, *w);
        }
    }

    /// MR `i` (the registers, then the IPC buffer).
    pub fn mr(&self, i: usize) -> u64 {
        match i.checked_sub(MSG_REGISTERS) {
            None => self.mrs[i],
            Some(j) => self.buffer.0.get(j).copied().unwrap_or(0),
        }
    }

    /// Sets MR `i` (the caller knows the buffer is there if `i` ≥ 4).
    pub fn set_mr(&mut self, i: usize, v: u64) {
        match i.checked_sub(MSG_REGISTERS) {
            None => self.mrs[i] = v,
            Some(j) => {
                if let Some(w) = self.buffer.0.get_mut(j) {
                    *w = v;
                }
            }
        }
    }

    /// User register `i` in `seL4_UserContext` order.
    pub fn reg(&self, i: usize) -> u64 {
        match i {
            A0 => self.badge,
            17 => self.info.to_word(),
            18..=21 => self.mrs[i - 18],
            _ => self.context.get(i).copied().unwrap_or(0),
        }
    }

    /// Sets user register `i` (`seL4_UserContext` order; pc is FaultIP,
    /// NextIP is not changed).
    pub fn set_reg(&mut self, i: usize, v: u64) {
        match i {
            A0 => self.badge = v,
            17 => self.info = MsgInfo::from_word(v),
            18..=21 => self.mrs[i - 18] = v,
            _ => {
                if let Some(r) = self.context.get_mut(i) {
                    *r = v;
                }
            }
        }
    }
}
