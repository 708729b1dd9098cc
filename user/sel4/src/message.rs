//! A message as a plain value: label, message registers and extra caps
//! (ABI ref §3). Invocations are marshalled into a [`Message`] by pure
//! functions; [`crate::syscall`] moves it into registers and the IPC buffer.

use crate::cap::CPtr;
use cairn_abi::message::{MessageInfo, MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH};
use cairn_abi::Word;

/// A message: what a `MessageInfo` describes plus the MR and cap words.
///
/// For an outgoing message `caps` holds the extra-cap cptrs; for a received
/// one it holds `caps_or_badges` (unwrapped badges, ABI ref §3).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message {
    label: Word,
    caps_unwrapped: Word,
    len: usize,
    n_caps: usize,
    mrs: [Word; MSG_MAX_LENGTH],
    caps: [Word; MSG_MAX_EXTRA_CAPS],
}

impl Message {
    /// An empty message with `label`.
    pub const fn empty(label: Word) -> Self {
        Message {
            label,
            caps_unwrapped: 0,
            len: 0,
            n_caps: 0,
            mrs: [0; MSG_MAX_LENGTH],
            caps: [0; MSG_MAX_EXTRA_CAPS],
        }
    }

    /// A message with `label`, message registers `mrs` (MR0 first) and extra
    /// caps `caps`. Words beyond seL4's limits (120 MRs, 3 caps) are dropped,
    /// as the kernel would drop them.
    pub fn new(label: Word, mrs: &[Word], caps: &[CPtr]) -> Self {
        let mut m = Message::empty(label);
        for (dst, src) in m.mrs.iter_mut().zip(mrs) {
            *dst = *src;
        }
        m.len = mrs.len().min(MSG_MAX_LENGTH);
        for (dst, src) in m.caps.iter_mut().zip(caps) {
            *dst = src.0;
        }
        m.n_caps = caps.len().min(MSG_MAX_EXTRA_CAPS);
        m
    }

    /// A received message: `info` from `a1`; `mr` yields MR *i* (only
    /// `0..info.length()` are asked for); `cap` yields `caps_or_badges[i]`.
    pub fn received(
        info: MessageInfo,
        mut mr: impl FnMut(usize) -> Word,
        mut cap: impl FnMut(usize) -> Word,
    ) -> Self {
        let mut m = Message::empty(info.label());
        m.caps_unwrapped = info.caps_unwrapped();
        m.len = (info.length() as usize).min(MSG_MAX_LENGTH);
        m.n_caps = (info.extra_caps() as usize).min(MSG_MAX_EXTRA_CAPS);
        for (i, w) in m.mrs.iter_mut().enumerate().take(m.len) {
            *w = mr(i);
        }
        for (i, w) in m.caps.iter_mut().enumerate().take(m.n_caps) {
            *w = cap(i);
        }
        m
    }

    /// ORs `bits` into MR *i* and lengthens the message to at least *i* + 1
    /// words; words beyond seL4's limit are dropped, as in [`Message::new`].
    /// Used by the generated invocation stubs ([`crate::object::stubs`]).
    #[inline(always)]
    pub(crate) fn or_mr(&mut self, i: usize, bits: Word) {
        if let Some(w) = self.mrs.get_mut(i) {
            *w |= bits;
            self.len = self.len.max(i + 1);
        }
    }

    /// Appends an extra cap; caps beyond seL4's limit are dropped.
    #[inline(always)]
    pub(crate) fn push_cap(&mut self, cap: CPtr) {
        if let Some(c) = self.caps.get_mut(self.n_caps) {
            *c = cap.0;
            self.n_caps += 1;
        }
    }

    /// The `seL4_MessageInfo` describing this message.
    pub fn info(&self) -> MessageInfo {
        MessageInfo::new(
            self.label,
            self.caps_unwrapped,
            self.n_caps as Word,
            self.len as Word,
        )
    }

    /// The label (an invocation label, an error code or a fault type).
    pub const fn label(&self) -> Word {
        self.label
    }

    /// Number of message registers.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// True if the message has no message registers.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The message registers, MR0 first.
    pub fn mrs(&self) -> &[Word] {
        self.mrs.get(..self.len).unwrap_or(&[])
    }

    /// MR *i*, or 0 if the message is shorter.
    pub fn mr(&self, i: usize) -> Word {
        self.mrs().get(i).copied().unwrap_or(0)
    }

    /// The extra-cap words (cptrs going out, badges coming in).
    pub fn caps(&self) -> &[Word] {
        self.caps.get(..self.n_caps).unwrap_or(&[])
    }

    /// Bit *i* set: extra cap *i* arrived unwrapped as a badge.
    pub const fn caps_unwrapped(&self) -> Word {
        self.caps_unwrapped
    }
}

impl core::fmt::Debug for Message {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Message")
            .field("label", &self.label)
            .field("mrs", &self.mrs())
            .field("caps", &self.caps())
            .field("caps_unwrapped", &self.caps_unwrapped)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sets_info() {
        let m = Message::new(21, &[1, 2, 3, 4, 5, 6], &[CPtr(2)]);
        let info = m.info();
        assert_eq!((info.label(), info.length(), info.extra_caps()), (21, 6, 1));
        assert_eq!(m.mrs(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(m.caps(), &[2]);
        assert_eq!(m.mr(6), 0);
    }

    #[test]
    fn limits_are_clamped() {
        let words = [7; 130];
        let caps = [CPtr(1); 5];
        let m = Message::new(0, &words, &caps);
        assert_eq!(m.len(), MSG_MAX_LENGTH);
        assert_eq!(m.caps().len(), MSG_MAX_EXTRA_CAPS);
    }

    #[test]
    fn received_reads_only_length() {
        let info = MessageInfo::new(6, 0b10, 2, 3);
        let m = Message::received(info, |i| 100 + i as Word, |i| 200 + i as Word);
        assert_eq!(m.mrs(), &[100, 101, 102]);
        assert_eq!(m.caps(), &[200, 201]);
        assert_eq!(m.caps_unwrapped(), 0b10);
        assert_eq!(m.info(), info);
    }
}
