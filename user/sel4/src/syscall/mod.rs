//! The system calls (ABI ref §1, §2) on top of one register-level primitive,
//! `raw`: `a0` = cap or badge, `a1` = MessageInfo, `a2..a5` = MR0..MR3,
//! `a7` = number. MRs from 4 on and the extra-cap cptrs go through the IPC
//! buffer ([`crate::ipc_buffer`]), where [`Message`] keeps them: the calls
//! taking a [`Message`] move only its five register words, so they cost
//! what the register-only calls ([`call_regs`], …) cost.
//!
//! `raw` is an `ecall` on `riscv64` (`riscv.rs`, the crate's only assembly)
//! and a scripted fake kernel in host unit tests (`host.rs`).

use crate::cap::CPtr;
#[cfg(feature = "mcs")]
use crate::cap::Reply;
use crate::message::Message;
use cairn_abi::message::{MessageInfo, N_MSG_REGISTERS};
use cairn_abi::syscall as nr;
use cairn_abi::Word;

#[cfg(not(target_arch = "riscv64"))]
mod host;
#[cfg(target_arch = "riscv64")]
mod riscv;

#[cfg(not(target_arch = "riscv64"))]
pub(crate) use host::raw;
#[cfg(all(feature = "mcs", not(target_arch = "riscv64")))]
pub(crate) use host::raw_mcs;
#[cfg(all(test, not(target_arch = "riscv64")))]
pub(crate) use host::testing;
#[cfg(target_arch = "riscv64")]
pub(crate) use riscv::raw;
#[cfg(all(feature = "mcs", target_arch = "riscv64"))]
pub(crate) use riscv::raw_mcs;

/// The registers a system call reads and writes: `a0`, `a1`, `a2..a5`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Regs {
    /// Cap register (in) / badge register (out).
    pub a0: Word,
    /// MessageInfo.
    pub a1: Word,
    /// MR0..MR3.
    pub mr: [Word; N_MSG_REGISTERS],
}

/// The registers that send `msg` to (or through) `a0`: its MessageInfo
/// and MR0..MR3. The rest of the message is already in the IPC buffer
/// ([`Message::new`]), where the kernel reads it.
#[inline(always)]
fn load(a0: Word, msg: &Message) -> Regs {
    Regs {
        a0,
        a1: msg.info().0,
        mr: msg.regs(),
    }
}

/// The message a system call returned: MessageInfo and MR0..MR3 from the
/// registers, the rest left in the IPC buffer where the kernel wrote it.
#[inline(always)]
fn unload(r: &Regs) -> Message {
    Message::from_parts(MessageInfo(r.a1), r.mr)
}

/// `seL4_Call`: send `msg` to `dest` and wait for the reply. Returns the
/// badge register and the reply.
#[inline]
pub fn call(dest: CPtr, msg: &Message) -> (Word, Message) {
    let r = raw(nr::SYS_CALL, load(dest.0, msg));
    (r.a0, unload(&r))
}

/// `seL4_Send`: blocking send.
#[inline]
pub fn send(dest: CPtr, msg: &Message) {
    raw(nr::SYS_SEND, load(dest.0, msg));
}

/// `seL4_NBSend`: send if a receiver waits, else drop the message.
#[inline]
pub fn nb_send(dest: CPtr, msg: &Message) {
    raw(nr::SYS_NB_SEND, load(dest.0, msg));
}

/// `seL4_Recv` (classic): blocking receive on `src`. Returns the badge
/// and message; a Call received leaves its reply cap in the caller's TCB.
/// (MCS: `recv(src, reply)`.)
#[cfg(not(feature = "mcs"))]
#[inline]
pub fn recv(src: CPtr) -> (Word, Message) {
    let r = raw(
        nr::SYS_RECV,
        Regs {
            a0: src.0,
            ..Regs::default()
        },
    );
    (r.a0, unload(&r))
}

/// `seL4_NBRecv` (classic): receive if a message is pending (badge 0 and
/// an empty message otherwise).
#[cfg(not(feature = "mcs"))]
#[inline]
pub fn nb_recv(src: CPtr) -> (Word, Message) {
    let r = raw(
        nr::SYS_NB_RECV,
        Regs {
            a0: src.0,
            ..Regs::default()
        },
    );
    (r.a0, unload(&r))
}

/// `seL4_Reply` (classic): reply to the thread in the caller slot. MCS
/// has none: a receiver replies through its reply object.
#[cfg(not(feature = "mcs"))]
#[inline]
pub fn reply(msg: &Message) {
    raw(nr::SYS_REPLY, load(0, msg));
}

/// `seL4_ReplyRecv` (classic): reply with `msg`, then receive on `src`.
#[cfg(not(feature = "mcs"))]
#[inline]
pub fn reply_recv(src: CPtr, msg: &Message) -> (Word, Message) {
    let r = raw(nr::SYS_REPLY_RECV, load(src.0, msg));
    (r.a0, unload(&r))
}

/// MCS `seL4_Recv(src, &badge, reply)`: blocking receive on `src`; a Call
/// received is answered through the reply object `reply` (a6). Same
/// [`Message`] path as the classic form: only the five register words
/// move.
#[cfg(feature = "mcs")]
#[inline]
pub fn recv(src: CPtr, reply: Reply) -> (Word, Message) {
    mcs::recv_msg(src, reply.cptr())
}

/// MCS `seL4_NBRecv(src, &badge, reply)`: receive if a message is
/// pending.
#[cfg(feature = "mcs")]
#[inline]
pub fn nb_recv(src: CPtr, reply: Reply) -> (Word, Message) {
    mcs::nb_recv_msg(src, reply.cptr())
}

/// MCS `seL4_ReplyRecv(src, msg, &badge, reply)`: reply with `msg`
/// through `reply`, then receive on `src` with it.
#[cfg(feature = "mcs")]
#[inline]
pub fn reply_recv(src: CPtr, msg: &Message, reply: Reply) -> (Word, Message) {
    mcs::reply_recv_msg(src, msg, reply.cptr())
}

/// MCS `seL4_Wait(src, &badge)`: blocking receive without a reply object
/// (a Call received has no one to answer it).
#[cfg(feature = "mcs")]
#[inline]
pub fn wait(src: CPtr) -> (Word, Message) {
    mcs::msg_go(nr::SYS_WAIT, src.0, &Message::empty(0), 0, 0)
}

/// MCS `seL4_NBWait(src, &badge)`.
#[cfg(feature = "mcs")]
#[inline]
pub fn nb_wait(src: CPtr) -> (Word, Message) {
    mcs::msg_go(nr::SYS_NB_WAIT, src.0, &Message::empty(0), 0, 0)
}

/// MCS `seL4_NBSendRecv(dest, msg, src, &badge, reply)`: send `msg` to
/// `dest` without blocking, then receive on `src` with `reply`.
#[cfg(feature = "mcs")]
#[inline]
pub fn nb_send_recv(dest: CPtr, msg: &Message, src: CPtr, reply: Reply) -> (Word, Message) {
    mcs::nb_send_recv_msg(dest, msg, src, reply.cptr())
}

/// MCS `seL4_NBSendWait(dest, msg, src, &badge)`: send `msg` to `dest`
/// without blocking, then wait on `src` without a reply object.
#[cfg(feature = "mcs")]
#[inline]
pub fn nb_send_wait(dest: CPtr, msg: &Message, src: CPtr) -> (Word, Message) {
    mcs::msg_go(nr::SYS_NB_SEND_WAIT, src.0, msg, dest.0, 0)
}

/// A message that fits in registers: MessageInfo and MR0..MR3 (what
/// libsel4's `seL4_CallWithMRs` and friends pass). The IPC buffer is not
/// touched, so these calls cost only the kernel's work: what the IPC
/// benchmarks measure, and the yardstick of the [`Message`] calls
/// (`bench ipc op=lib-*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegMessage {
    /// The MessageInfo (label, caps, length ≤ 4).
    pub info: MessageInfo,
    /// MR0..MR3.
    pub mrs: [Word; N_MSG_REGISTERS],
}

fn reg_call(sys: nr::SyscallNo, a0: Word, m: RegMessage) -> (Word, RegMessage) {
    let r = raw(
        sys,
        Regs {
            a0,
            a1: m.info.0,
            mr: m.mrs,
        },
    );
    (
        r.a0,
        RegMessage {
            info: MessageInfo(r.a1),
            mrs: r.mr,
        },
    )
}

/// `seL4_CallWithMRs`: [`call`] of a register-only message; returns the
/// badge register and the reply's registers.
pub fn call_regs(dest: CPtr, m: RegMessage) -> (Word, RegMessage) {
    reg_call(nr::SYS_CALL, dest.0, m)
}

/// `seL4_ReplyRecvWithMRs` (classic): [`reply_recv`] of register-only
/// messages.
#[cfg(not(feature = "mcs"))]
pub fn reply_recv_regs(src: CPtr, reply: RegMessage) -> (Word, RegMessage) {
    reg_call(nr::SYS_REPLY_RECV, src.0, reply)
}

/// MCS `seL4_ReplyRecvWithMRs`: [`reply_recv`] of register-only messages
/// through the reply object `reply`.
#[cfg(feature = "mcs")]
pub fn reply_recv_regs(src: CPtr, m: RegMessage, reply: Reply) -> (Word, RegMessage) {
    mcs::reply_recv(src, m, reply.cptr())
}

/// `seL4_SendWithMRs`: [`send`] of a register-only message.
pub fn send_regs(dest: CPtr, m: RegMessage) {
    reg_call(nr::SYS_SEND, dest.0, m);
}

/// `seL4_RecvWithMRs` (classic): [`recv`] returning only the registers.
#[cfg(not(feature = "mcs"))]
pub fn recv_regs(src: CPtr) -> (Word, RegMessage) {
    reg_call(nr::SYS_RECV, src.0, RegMessage::default())
}

/// MCS `seL4_RecvWithMRs`: [`recv`] with the reply object `reply`,
/// returning only the registers.
#[cfg(feature = "mcs")]
pub fn recv_regs(src: CPtr, reply: Reply) -> (Word, RegMessage) {
    mcs::recv(src, reply.cptr())
}

/// MCS system calls with a reply object or a second destination
/// (ABI ref §13) on raw cptrs, register-only messages first: the register
/// conventions of libsel4's MCS `seL4_Recv(src, &badge, reply)`,
/// `seL4_ReplyRecv`, `seL4_NBSendRecv`, `seL4_NBSendWait`, `seL4_Wait`
/// and `seL4_NBWait`. The typed forms are the crate's ordinary
/// [`recv`](super::recv), [`reply_recv`](super::reply_recv), … (and
/// [`Endpoint`](crate::Endpoint)'s methods), which under MCS take a
/// [`Reply`](crate::Reply).
#[cfg(feature = "mcs")]
pub mod mcs {
    use super::{nr, raw_mcs, RegMessage, Regs};
    use crate::cap::CPtr;
    use crate::message::Message;
    use cairn_abi::message::MessageInfo;
    use cairn_abi::Word;

    fn go(sys: nr::SyscallNo, a0: Word, m: RegMessage, a6: Word, t0: Word) -> (Word, RegMessage) {
        let regs = Regs {
            a0,
            a1: m.info.0,
            mr: m.mrs,
        };
        let r = raw_mcs(sys, regs, a6, t0);
        (
            r.a0,
            RegMessage {
                info: MessageInfo(r.a1),
                mrs: r.mr,
            },
        )
    }

    /// `seL4_Recv(src, &badge, reply)`: receive on `src`; a Call received
    /// is answered through the reply object `reply`.
    pub fn recv(src: CPtr, reply: CPtr) -> (Word, RegMessage) {
        go(nr::SYS_RECV, src.0, RegMessage::default(), reply.0, 0)
    }

    /// `seL4_NBRecv(src, &badge, reply)`.
    pub fn nb_recv(src: CPtr, reply: CPtr) -> (Word, RegMessage) {
        go(nr::SYS_NB_RECV, src.0, RegMessage::default(), reply.0, 0)
    }

    /// `seL4_Wait(src, &badge)`: receive without a reply object.
    pub fn wait(src: CPtr) -> (Word, RegMessage) {
        go(nr::SYS_WAIT, src.0, RegMessage::default(), 0, 0)
    }

    /// `seL4_NBWait(src, &badge)`.
    pub fn nb_wait(src: CPtr) -> (Word, RegMessage) {
        go(nr::SYS_NB_WAIT, src.0, RegMessage::default(), 0, 0)
    }

    /// `seL4_ReplyRecv(src, msg, &badge, reply)`: reply with `msg` through
    /// `reply`, then receive on `src` with it.
    pub fn reply_recv(src: CPtr, msg: RegMessage, reply: CPtr) -> (Word, RegMessage) {
        go(nr::SYS_REPLY_RECV, src.0, msg, reply.0, 0)
    }

    /// `seL4_NBSendRecv(dest, msg, src, &badge, reply)`: send `msg` to
    /// `dest` without blocking, then receive on `src` with `reply`.
    pub fn nb_send_recv(dest: CPtr, msg: RegMessage, src: CPtr, reply: CPtr) -> (Word, RegMessage) {
        go(nr::SYS_NB_SEND_RECV, src.0, msg, reply.0, dest.0)
    }

    /// [`recv`] returning a [`Message`] (MRs from 4 on stay in the IPC
    /// buffer, as the classic `syscall::recv`'s).
    pub fn recv_msg(src: CPtr, reply: CPtr) -> (Word, Message) {
        msg_go(nr::SYS_RECV, src.0, &Message::empty(0), reply.0, 0)
    }

    /// [`nb_recv`] returning a [`Message`].
    pub fn nb_recv_msg(src: CPtr, reply: CPtr) -> (Word, Message) {
        msg_go(nr::SYS_NB_RECV, src.0, &Message::empty(0), reply.0, 0)
    }

    /// [`reply_recv`] of a [`Message`].
    pub fn reply_recv_msg(src: CPtr, msg: &Message, reply: CPtr) -> (Word, Message) {
        msg_go(nr::SYS_REPLY_RECV, src.0, msg, reply.0, 0)
    }

    /// [`nb_send_recv`] of a [`Message`].
    pub fn nb_send_recv_msg(dest: CPtr, msg: &Message, src: CPtr, reply: CPtr) -> (Word, Message) {
        msg_go(nr::SYS_NB_SEND_RECV, src.0, msg, reply.0, dest.0)
    }

    pub(super) fn msg_go(
        sys: nr::SyscallNo,
        a0: Word,
        m: &Message,
        a6: Word,
        t0: Word,
    ) -> (Word, Message) {
        let r = raw_mcs(sys, super::load(a0, m), a6, t0);
        (r.a0, super::unload(&r))
    }

    /// `seL4_NBSendWait(dest, msg, src, &badge)`: send `msg` to `dest`
    /// without blocking, then wait on `src` without a reply object.
    pub fn nb_send_wait(dest: CPtr, msg: RegMessage, src: CPtr) -> (Word, RegMessage) {
        go(nr::SYS_NB_SEND_WAIT, src.0, msg, dest.0, 0)
    }
}

/// `seL4_Yield`: go to the back of this priority's ready queue.
pub fn yield_now() {
    raw(nr::SYS_YIELD, Regs::default());
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::testing::Msg;
    use super::*;
    use crate::ipc_buffer::testing::install;

    #[test]
    fn call_sends_words_and_caps_where_the_kernel_reads_them() {
        install();
        let reply = Msg::new(0, &[10, 11, 12, 13, 14, 15], &[]);
        let ((badge, got), log) = testing::with_fake_kernel(&[reply], || {
            call(
                CPtr(9),
                &Message::new(5, &[1, 2, 3, 4, 5, 6], &[CPtr(7), CPtr(8)]),
            )
        });
        assert_eq!(badge, 0);
        let mut out = [0; 8];
        assert_eq!(got.copy_mrs(&mut out), &[10, 11, 12, 13, 14, 15]);
        assert_eq!(log.len(), 1);
        let (sys, a0, sent) = &log[0];
        assert_eq!((*sys, *a0), (nr::SYS_CALL, 9));
        assert_eq!(*sent, Msg::new(5, &[1, 2, 3, 4, 5, 6], &[7, 8]));
    }

    #[test]
    fn received_words_are_read_in_place() {
        install();
        let sent = Msg::new(3, &[1, 2, 3, 4, 5], &[0xB0]);
        #[cfg(not(feature = "mcs"))]
        let receive = || recv(CPtr(2));
        #[cfg(feature = "mcs")]
        let receive = || recv(CPtr(2), Reply::from_bits(3));
        let ((badge, got), _) = testing::with_fake_kernel(&[sent], receive);
        assert_eq!((badge, got.label(), got.len(), got.n_caps()), (0, 3, 5, 1));
        assert_eq!(
            (got.mr(3), got.mr(4), got.mr(5), got.cap(0)),
            (4, 5, 0, 0xB0)
        );
    }

    #[test]
    fn register_messages_touch_only_registers() {
        let reply = Msg::new(3, &[9, 8], &[]);
        let m = RegMessage {
            info: MessageInfo::new(1, 0, 0, 2),
            mrs: [5, 6, 0, 0],
        };
        let ((badge, got), log) = testing::with_fake_kernel(&[reply], || call_regs(CPtr(4), m));
        assert_eq!(badge, 0);
        assert_eq!((got.info.label(), got.info.length()), (3, 2));
        assert_eq!(&got.mrs[..2], &[9, 8]);
        assert_eq!(log[0].0, nr::SYS_CALL);
        assert_eq!(log[0].2.mrs(), &[5, 6]);
    }

    /// MCS: every receive form passes its reply object in `a6`, NBSendRecv
    /// its destination in `t0` and NBSendWait its destination in `a6`, as
    /// libsel4's MCS stubs (ABI ref §13); Wait and NBWait pass no reply
    /// object (0), and the classic calls neither register.
    #[cfg(feature = "mcs")]
    #[test]
    fn mcs_calls_pass_the_reply_object_and_the_destination() {
        install();
        let (r, m, rm) = (
            Reply::from_bits(9),
            Message::new(1, &[5], &[]),
            RegMessage::default(),
        );
        let ((), log) = testing::with_fake_kernel(&[], || {
            recv(CPtr(2), r);
            nb_recv(CPtr(2), r);
            reply_recv(CPtr(2), &m, r);
            wait(CPtr(3));
            nb_wait(CPtr(3));
            nb_send_recv(CPtr(4), &m, CPtr(2), r);
            nb_send_wait(CPtr(4), &m, CPtr(2));
            recv_regs(CPtr(2), r);
            reply_recv_regs(CPtr(2), rm, r);
            mcs::nb_send_recv(CPtr(4), rm, CPtr(2), CPtr(9));
            mcs::nb_send_wait(CPtr(4), rm, CPtr(2));
            call(CPtr(5), &m);
        });
        let got: Vec<_> = log.iter().map(|(s, a0, _)| (*s, *a0)).collect();
        use nr::*;
        let want = [
            (SYS_RECV, 2),
            (SYS_NB_RECV, 2),
            (SYS_REPLY_RECV, 2),
            (SYS_WAIT, 3),
            (SYS_NB_WAIT, 3),
            (SYS_NB_SEND_RECV, 2),
            (SYS_NB_SEND_WAIT, 2),
            (SYS_RECV, 2),
            (SYS_REPLY_RECV, 2),
            (SYS_NB_SEND_RECV, 2),
            (SYS_NB_SEND_WAIT, 2),
            (SYS_CALL, 5),
        ];
        assert_eq!(got, want);
        let (reply, none) = (Some((9, 0)), Some((0, 0)));
        let want = [
            reply,
            reply,
            reply,
            none,
            none,
            Some((9, 4)),
            Some((4, 0)),
            reply,
            reply,
            Some((9, 4)),
            Some((4, 0)),
            None,
        ];
        assert_eq!(testing::a6_t0(), want);
        // The sent messages travel as the classic ones do.
        assert_eq!(log[2].2, testing::Msg::new(1, &[5], &[]));
        assert_eq!(log[5].2, testing::Msg::new(1, &[5], &[]));
    }

    #[test]
    fn without_buffer_only_registers_travel() {
        // SAFETY: null is allowed.
        unsafe { crate::ipc_buffer::set_ipc_buffer(core::ptr::null_mut()) };
        let r = load(3, &Message::new(1, &[1, 2, 3, 4, 5], &[CPtr(2)]));
        assert_eq!(r.mr, [1, 2, 3, 4]);
        assert_eq!(MessageInfo(r.a1).length(), 5);
        let back = unload(&Regs {
            a0: 0,
            a1: MessageInfo::new(0, 0, 0, 6).0,
            mr: [1, 2, 3, 4],
        });
        let mut out = [9; 8];
        assert_eq!(back.copy_mrs(&mut out), &[1, 2, 3, 4, 0, 0]);
    }
}
