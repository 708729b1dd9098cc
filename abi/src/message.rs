//! Message info, message registers and the IPC buffer (ABI ref §3).

use crate::Word;

/// `seL4_MsgLengthBits`.
pub const MSG_LENGTH_BITS: u32 = 7;
/// `seL4_MsgExtraCapBits`.
pub const MSG_EXTRA_CAP_BITS: u32 = 2;
/// `seL4_MsgMaxLength`: message registers in a message.
pub const MSG_MAX_LENGTH: usize = 120;
/// `seL4_MsgMaxExtraCaps`.
pub const MSG_MAX_EXTRA_CAPS: usize = 3;
/// Message registers passed in CPU registers (`a2..a5`).
pub const N_MSG_REGISTERS: usize = 4;
/// `seL4_IPCBufferSizeBits`: the IPC buffer is 1 KiB, 1 KiB aligned.
pub const IPC_BUFFER_SIZE_BITS: u32 = 10;

/// `seL4_MessageInfo_t`: label (52 bits), capsUnwrapped (3), extraCaps (2),
/// length (7), packed in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct MessageInfo(pub Word);

impl MessageInfo {
    /// `seL4_MessageInfo_new(label, capsUnwrapped, extraCaps, length)`; each
    /// field is truncated to its width, as the C constructor does.
    pub const fn new(label: Word, caps_unwrapped: Word, extra_caps: Word, length: Word) -> Self {
        MessageInfo(
            (label << 12)
                | ((caps_unwrapped & 0x7) << 9)
                | ((extra_caps & 0x3) << 7)
                | (length & 0x7f),
        )
    }
    /// The label (bits 63..12).
    pub const fn label(self) -> Word {
        self.0 >> 12
    }
    /// Bit *i* set: extra cap *i* was unwrapped to a badge.
    pub const fn caps_unwrapped(self) -> Word {
        (self.0 >> 9) & 0x7
    }
    /// Number of extra caps (0..3).
    pub const fn extra_caps(self) -> Word {
        (self.0 >> 7) & 0x3
    }
    /// Number of message registers (0..127 as encoded; the kernel clamps to 120).
    pub const fn length(self) -> Word {
        self.0 & 0x7f
    }
}

/// `seL4_IPCBuffer`: 128 words, 1 KiB (ABI ref §3).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(1024))]
pub struct IpcBuffer {
    /// Word 0: tag (not read by the kernel).
    pub tag: Word,
    /// Words 1..=120: `msg[0..120]`; MR *i* is `msg[i]`.
    pub msg: [Word; MSG_MAX_LENGTH],
    /// Word 121: user data (libsel4's, never touched by the kernel).
    pub user_data: Word,
    /// Words 122..=124: outgoing extra-cap cptrs / incoming unwrapped badges.
    pub caps_or_badges: [Word; MSG_MAX_EXTRA_CAPS],
    /// Word 125: receive CNode cptr.
    pub receive_cnode: Word,
    /// Word 126: receive slot index.
    pub receive_index: Word,
    /// Word 127: receive slot depth.
    pub receive_depth: Word,
}

impl IpcBuffer {
    /// An all-zero buffer.
    pub const fn zeroed() -> Self {
        IpcBuffer {
            tag: 0,
            msg: [0; MSG_MAX_LENGTH],
            user_data: 0,
            caps_or_badges: [0; MSG_MAX_EXTRA_CAPS],
            receive_cnode: 0,
            receive_index: 0,
            receive_depth: 0,
        }
    }
}

/// Byte offsets of the IPC buffer fields (ABI ref §3).
pub mod ipc_buffer_offset {
    /// `msg[0]`.
    pub const MSG: usize = 0x008;
    /// `userData`.
    pub const USER_DATA: usize = 0x3C8;
    /// `caps_or_badges[0]`.
    pub const CAPS_OR_BADGES: usize = 0x3D0;
    /// `receiveCNode`.
    pub const RECEIVE_CNODE: usize = 0x3E8;
    /// `receiveIndex`.
    pub const RECEIVE_INDEX: usize = 0x3F0;
    /// `receiveDepth`.
    pub const RECEIVE_DEPTH: usize = 0x3F8;
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn message_info_fields() {
        let m = MessageInfo::new(0xABCDE, 5, 3, 120);
        assert_eq!(
            (m.label(), m.caps_unwrapped(), m.extra_caps(), m.length()),
            (0xABCDE, 5, 3, 120)
        );
        assert_eq!(MessageInfo::new(1, 0, 0, 1).0, 0x1001);
    }

    #[test]
    fn ipc_buffer_layout() {
        assert_eq!(size_of::<IpcBuffer>(), 1 << IPC_BUFFER_SIZE_BITS);
        assert_eq!(offset_of!(IpcBuffer, msg), ipc_buffer_offset::MSG);
        assert_eq!(
            offset_of!(IpcBuffer, user_data),
            ipc_buffer_offset::USER_DATA
        );
        assert_eq!(
            offset_of!(IpcBuffer, caps_or_badges),
            ipc_buffer_offset::CAPS_OR_BADGES
        );
        assert_eq!(
            offset_of!(IpcBuffer, receive_cnode),
            ipc_buffer_offset::RECEIVE_CNODE
        );
        assert_eq!(
            offset_of!(IpcBuffer, receive_index),
            ipc_buffer_offset::RECEIVE_INDEX
        );
        assert_eq!(
            offset_of!(IpcBuffer, receive_depth),
            ipc_buffer_offset::RECEIVE_DEPTH
        );
    }
}
