//! A message as seL4 carries it (ABI ref §3): a `MessageInfo`, MR0..MR3 in
//! registers, MR4.. and the extra caps in the calling thread's IPC buffer.
//!
//! [`Message`] is that split made a value: it holds the MessageInfo and the
//! four register words (five words, no more), and its other words are those
//! of the IPC buffer, written in place when it is built and read in place
//! when asked for, as libsel4's `seL4_SetMR`/`seL4_GetMR` do. So a message
//! costs only the words it uses: sending one of four words touches no
//! memory, and no 120-word copy is ever made.

use crate::cap::CPtr;
use crate::ipc_buffer::BufferRef;
use cairn_abi::message::{MessageInfo, MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH, N_MSG_REGISTERS};
use cairn_abi::Word;

/// A message: its `MessageInfo` and MR0..MR3; MR4.. and the extra caps are
/// in the calling thread's IPC buffer.
///
/// **Valid until the next message.** As with libsel4's `seL4_GetMR`, the
/// words from MR4 on and the caps belong to the IPC buffer: building
/// another message with more than four words or with caps, or any system
/// call that receives, replaces them. Build a message right before sending
/// it, and read what you need of a received one before the next call. A
/// message of at most four words and no caps is a plain value.
///
/// For an outgoing message the caps are extra-cap cptrs; for a received one
/// they are `caps_or_badges` (unwrapped badges, ABI ref §3). Without a
/// registered IPC buffer only the register part exists (the kernel would
/// truncate the rest too) and the other words read as 0.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message {
    info: MessageInfo,
    regs: [Word; N_MSG_REGISTERS],
}

impl Message {
    /// An empty message with `label`.
    #[inline(always)]
    pub const fn empty(label: Word) -> Self {
        Message {
            info: MessageInfo::new(label, 0, 0, 0),
            regs: [0; N_MSG_REGISTERS],
        }
    }

    /// A message with `label`, message registers `mrs` (MR0 first) and extra
    /// caps `caps`: MR0..MR3 are kept here, the rest and the caps written to
    /// the IPC buffer now. Words beyond seL4's limits (120 MRs, 3 caps) are
    /// dropped, as the kernel would drop them.
    #[inline]
    pub fn new(label: Word, mrs: &[Word], caps: &[CPtr]) -> Self {
        let len = mrs.len().min(MSG_MAX_LENGTH);
        let n_caps = caps.len().min(MSG_MAX_EXTRA_CAPS);
        // Word by word rather than a slice copy: no `memcpy` call for at
        // most four words.
        let regs: [Word; N_MSG_REGISTERS] = core::array::from_fn(|i| match mrs.get(i) {
            Some(w) => *w,
            None => 0,
        });
        if len > N_MSG_REGISTERS || n_caps > 0 {
            if let Some(mut b) = BufferRef::acquire() {
                for i in N_MSG_REGISTERS..len {
                    if let Some(w) = mrs.get(i) {
                        b.set_mr(i, *w);
                    }
                }
                for (i, c) in caps.iter().enumerate().take(n_caps) {
                    b.set_cap(i, c.0);
                }
            }
        }
        Message {
            info: MessageInfo::new(label, 0, n_caps as Word, len as Word),
            regs,
        }
    }

    /// The message whose MessageInfo is `info` and whose MR0..MR3 are
    /// `regs` (the rest being in the IPC buffer): what a system call
    /// returns, or what the invocation stubs have written.
    #[inline(always)]
    pub(crate) const fn from_parts(info: MessageInfo, regs: [Word; N_MSG_REGISTERS]) -> Self {
        Message { info, regs }
    }

    /// MR0..MR3, as they travel in registers.
    #[inline(always)]
    pub(crate) const fn regs(&self) -> [Word; N_MSG_REGISTERS] {
        self.regs
    }

    /// The `seL4_MessageInfo` describing this message.
    #[inline(always)]
    pub const fn info(&self) -> MessageInfo {
        self.info
    }

    /// The label (an invocation label, an error code or a fault type).
    #[inline(always)]
    pub const fn label(&self) -> Word {
        self.info.label()
    }

    /// Number of message registers.
    #[inline(always)]
    pub const fn len(&self) -> usize {
        self.info.length() as usize
    }

    /// True if the message has no message registers.
    #[inline(always)]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// MR *i*, or 0 if the message is shorter (from the IPC buffer from
    /// MR4 on).
    #[inline]
    pub fn mr(&self, i: usize) -> Word {
        if i >= self.len() {
            return 0;
        }
        match self.regs.get(i) {
            Some(w) => *w,
            None => BufferRef::acquire().map_or(0, |mut b| b.mr(i)),
        }
    }

    /// The message registers, MR0 first, copied into `out` (as many as fit);
    /// returns the part of `out` written.
    pub fn copy_mrs<'a>(&self, out: &'a mut [Word]) -> &'a [Word] {
        let n = self.len().min(out.len());
        let mut b = None;
        for (i, w) in out.iter_mut().enumerate().take(n) {
            *w = match self.regs.get(i) {
                Some(r) => *r,
                None => b
                    .get_or_insert_with(BufferRef::acquire)
                    .as_mut()
                    .map_or(0, |b| b.mr(i)),
            };
        }
        out.get(..n).unwrap_or(&[])
    }

    /// Number of extra caps (outgoing) or of `caps_or_badges` (received).
    #[inline(always)]
    pub const fn n_caps(&self) -> usize {
        self.info.extra_caps() as usize
    }

    /// Extra cap *i*: a cptr going out, a badge or cap coming in (0 past
    /// [`Message::n_caps`]).
    pub fn cap(&self, i: usize) -> Word {
        if i >= self.n_caps() {
            return 0;
        }
        BufferRef::acquire().map_or(0, |mut b| b.cap(i))
    }

    /// Bit *i* set: extra cap *i* arrived unwrapped as a badge.
    #[inline(always)]
    pub const fn caps_unwrapped(&self) -> Word {
        self.info.caps_unwrapped()
    }
}

impl core::fmt::Debug for Message {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut mrs = [0; MSG_MAX_LENGTH];
        f.debug_struct("Message")
            .field("label", &self.label())
            .field("mrs", &self.copy_mrs(&mut mrs))
            .field("n_caps", &self.n_caps())
            .field("caps_unwrapped", &self.caps_unwrapped())
            .finish()
    }
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::ipc_buffer::testing::install;
    use crate::ipc_buffer::with_ipc_buffer;

    #[test]
    fn new_keeps_four_words_and_writes_the_rest_in_place() {
        install();
        let m = Message::new(21, &[1, 2, 3, 4, 5, 6], &[CPtr(2)]);
        let info = m.info();
        assert_eq!((info.label(), info.length(), info.extra_caps()), (21, 6, 1));
        assert_eq!(m.regs(), [1, 2, 3, 4]);
        let in_buffer = with_ipc_buffer(|b| (b.msg[4..6].to_vec(), b.caps_or_badges[0]));
        assert_eq!(in_buffer, Some((vec![5, 6], 2)));
        let mut out = [0; 8];
        assert_eq!(m.copy_mrs(&mut out), &[1, 2, 3, 4, 5, 6]);
        assert_eq!((m.mr(5), m.mr(6), m.cap(0), m.cap(1)), (6, 0, 2, 0));
    }

    #[test]
    fn limits_are_clamped() {
        install();
        let words = [7; 130];
        let caps = [CPtr(1); 5];
        let m = Message::new(0, &words, &caps);
        assert_eq!(m.len(), MSG_MAX_LENGTH);
        assert_eq!(m.n_caps(), MSG_MAX_EXTRA_CAPS);
        assert_eq!(m.mr(119), 7);
    }

    #[test]
    fn without_buffer_only_registers_exist() {
        // SAFETY: null is allowed.
        unsafe { crate::ipc_buffer::set_ipc_buffer(core::ptr::null_mut()) };
        let m = Message::new(1, &[1, 2, 3, 4, 5], &[CPtr(2)]);
        assert_eq!(m.info().length(), 5);
        let mut out = [9; 6];
        assert_eq!(m.copy_mrs(&mut out), &[1, 2, 3, 4, 0]);
        assert_eq!(m.cap(0), 0);
    }
}
