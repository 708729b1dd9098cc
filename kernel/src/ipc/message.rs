//! A thread's message registers and the kernel's replies (ABI ref §2, §3).
//!
//! MR0..MR3 travel in the architecture's message registers
//! ([`MSG_REGISTERS`]); MR4 onwards in the IPC buffer's `msg[]`,
//! reached through the frame capability installed in the TCB (never
//! through the thread's page tables).

use crate::arch::{BADGE_REGISTER, MSG_INFO_REGISTER, MSG_REGISTERS};
use crate::cap::VmRights;
use crate::object::access::{read_word, write_word};
use crate::object::tcb::{Tcb, TcbRef, TCB_BUFFER};
use crate::types::{PAddr, SyscallError};
use cairn_abi::message::{MessageInfo, MSG_MAX_LENGTH, N_MSG_REGISTERS};

/// Physical address of a thread's IPC buffer (seL4's `lookupIPCBuffer`):
/// none if the frame cap is missing or a device frame, or, when the kernel
/// is to write into it (`for_write`), if the cap lacks ReadWrite.
pub fn ipc_buffer(tcb: TcbRef, for_write: bool) -> Option<PAddr> {
    // Read in place: this is on every invocation's and every IPC's path.
    let (base, size_bits, rights, is_device) = Tcb::slot(tcb, TCB_BUFFER).get().words().frame()?;
    // seL4: the kernel reads a ReadOnly or ReadWrite buffer and writes
    // only a ReadWrite one.
    let usable = match rights {
        VmRights::ReadWrite => true,
        VmRights::ReadOnly => !for_write,
        VmRights::KernelOnly => false,
    };
    if is_device || !usable {
        return None;
    }
    let off = tcb.get().ipc_buffer() & ((1u64 << size_bits) - 1);
    Some(base.add(off))
}

/// The message registers of one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageRegs {
    tcb: TcbRef,
    buffer: Option<PAddr>,
}

impl MessageRegs {
    /// The registers of `tcb`, with its IPC buffer looked up for reading
    /// (`for_write` = false) or writing.
    pub fn of(tcb: TcbRef, for_write: bool) -> MessageRegs {
        MessageRegs {
            tcb,
            buffer: ipc_buffer(tcb, for_write),
        }
    }

    /// Whether the thread has a usable IPC buffer.
    pub fn has_buffer(&self) -> bool {
        self.buffer.is_some()
    }

    /// Physical address of IPC buffer word `w`, if there is a buffer.
    pub fn buffer_word(&self, w: usize) -> Option<PAddr> {
        self.buffer.map(|b| b.add(8 * w as u64))
    }

    /// MR `i` (0 if it lives in an absent buffer).
    pub fn get(&self, i: usize) -> u64 {
        if let Some(&r) = MSG_REGISTERS.get(i) {
            self.tcb.get().reg(r)
        } else if i < MSG_MAX_LENGTH {
            self.buffer_word(i + 1).map_or(0, read_word)
        } else {
            0
        }
    }

    /// Sets MR `i`; false if it lives in an absent buffer.
    pub fn set(&self, i: usize, v: u64) -> bool {
        if let Some(&r) = MSG_REGISTERS.get(i) {
            self.tcb.get().set_reg(r, v);
            true
        } else if let (true, Some(at)) = (i < MSG_MAX_LENGTH, self.buffer_word(i + 1)) {
            write_word(at, v);
            true
        } else {
            false
        }
    }
}

impl MessageRegs {
    /// seL4's `copyMRs`: copies the first `n` MRs (at most 120) of `from`
    /// into these; those beyond the registers only if both threads have an
    /// IPC buffer. Returns how many were copied. Register to register, then
    /// buffer word to buffer word, without asking for each MR where it
    /// lives (a 10-word message used to cost twice as much).
    pub fn copy_from(&self, from: &MessageRegs, n: usize) -> usize {
        let n = n.min(MSG_MAX_LENGTH);
        let (s, d) = (from.tcb.get(), self.tcb.get());
        for &r in MSG_REGISTERS.iter().take(n) {
            d.set_reg(r, s.reg(r));
        }
        let (Some(src), Some(dst)) = (from.buffer, self.buffer) else {
            return n.min(N_MSG_REGISTERS);
        };
        // MR i is IPC buffer word i + 1 (word 0 is the tag).
        for i in N_MSG_REGISTERS..n {
            let off = 8 * (i as u64 + 1);
            write_word(dst.add(off), read_word(src.add(off)));
        }
        n
    }
}

/// Sends the kernel's reply to `tcb` (seL4's `replyFromKernel`): badge
/// 0, MessageInfo(label, 0, 0, n), MRs from `words`. The length
/// stops at the first MR that cannot be written (no IPC buffer).
pub fn reply(tcb: TcbRef, label: u64, words: &[u64]) {
    reply_with(tcb, label, words.len(), |i| {
        words.get(i).copied().unwrap_or(0)
    });
}

/// [`reply`] with the `len` words `word(0)`, `word(1)`, ...
#[inline]
pub fn reply_with(tcb: TcbRef, label: u64, len: usize, word: impl Fn(usize) -> u64) {
    // An empty reply needs no IPC buffer: skip looking it up.
    let n = match len {
        0 => 0,
        _ => {
            let mrs = MessageRegs::of(tcb, true);
            (0..len).take_while(|&i| mrs.set(i, word(i))).count()
        }
    };
    let t = tcb.get();
    t.set_reg(BADGE_REGISTER, 0);
    t.set_reg(MSG_INFO_REGISTER, MessageInfo::new(label, 0, 0, n as u64).0);
}

/// Replies with a syscall error's code and data.
pub fn reply_error(tcb: TcbRef, e: &SyscallError) {
    let (w, n) = e.words();
    reply(tcb, e.code() as u64, w.get(..n).unwrap_or(&[]));
}

/// seL4's `doNBRecvFailedTransfer`: a non-blocking receive found nothing;
/// the badge register says 0.
pub fn nb_recv_failed(thread: TcbRef) {
    thread.get().set_reg(BADGE_REGISTER, 0);
}
