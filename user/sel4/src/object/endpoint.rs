//! Endpoints and notifications (ch. 4 Message Passing (IPC), ch. 5
//! Notifications): typed wrappers over the IPC system calls.

#[cfg(feature = "mcs")]
use crate::cap::Reply;
use crate::cap::{Endpoint, Notification};
use crate::message::Message;
use crate::syscall::{self, raw, Regs};
use cairn_abi::syscall as nr;
use cairn_abi::Word;

impl Endpoint {
    /// `seL4_Send`.
    pub fn send(self, msg: &Message) {
        syscall::send(self.cptr(), msg)
    }

    /// `seL4_NBSend`.
    pub fn nb_send(self, msg: &Message) {
        syscall::nb_send(self.cptr(), msg)
    }

    /// `seL4_Call`: returns the reply (its label is not interpreted).
    pub fn call(self, msg: &Message) -> Message {
        syscall::call(self.cptr(), msg).1
    }

    /// `seL4_Recv` (classic): returns the sender's badge and the message.
    #[cfg(not(feature = "mcs"))]
    pub fn recv(self) -> (Word, Message) {
        syscall::recv(self.cptr())
    }

    /// `seL4_NBRecv` (classic).
    #[cfg(not(feature = "mcs"))]
    pub fn nb_recv(self) -> (Word, Message) {
        syscall::nb_recv(self.cptr())
    }

    /// `seL4_ReplyRecv` (classic).
    #[cfg(not(feature = "mcs"))]
    pub fn reply_recv(self, reply: &Message) -> (Word, Message) {
        syscall::reply_recv(self.cptr(), reply)
    }

    /// MCS `seL4_Recv`: returns the sender's badge and the message; a Call
    /// received is answered through `reply` ([`Reply::send`] or
    /// [`Endpoint::reply_recv`]).
    #[cfg(feature = "mcs")]
    pub fn recv(self, reply: Reply) -> (Word, Message) {
        syscall::recv(self.cptr(), reply)
    }

    /// MCS `seL4_NBRecv`.
    #[cfg(feature = "mcs")]
    pub fn nb_recv(self, reply: Reply) -> (Word, Message) {
        syscall::nb_recv(self.cptr(), reply)
    }

    /// MCS `seL4_ReplyRecv`: answers the Call linked to `reply` with `msg`,
    /// then receives with `reply` again.
    #[cfg(feature = "mcs")]
    pub fn reply_recv(self, msg: &Message, reply: Reply) -> (Word, Message) {
        syscall::reply_recv(self.cptr(), msg, reply)
    }

    /// MCS `seL4_Wait`: receive without a reply object.
    #[cfg(feature = "mcs")]
    pub fn wait(self) -> (Word, Message) {
        syscall::wait(self.cptr())
    }

    /// MCS `seL4_NBWait`.
    #[cfg(feature = "mcs")]
    pub fn nb_wait(self) -> (Word, Message) {
        syscall::nb_wait(self.cptr())
    }

    /// MCS `seL4_NBSendRecv`: `msg` to this endpoint if a receiver waits,
    /// then receive on `src` with `reply`.
    #[cfg(feature = "mcs")]
    pub fn nb_send_recv(self, msg: &Message, src: Endpoint, reply: Reply) -> (Word, Message) {
        syscall::nb_send_recv(self.cptr(), msg, src.cptr(), reply)
    }

    /// MCS `seL4_NBSendWait`: `msg` to this endpoint if a receiver waits,
    /// then wait on `src` without a reply object.
    #[cfg(feature = "mcs")]
    pub fn nb_send_wait(self, msg: &Message, src: Endpoint) -> (Word, Message) {
        syscall::nb_send_wait(self.cptr(), msg, src.cptr())
    }
}

#[cfg(feature = "mcs")]
impl Reply {
    /// Answers the Call this reply object links to with `msg` (a Send on
    /// the reply object; MCS has no `seL4_Reply`). Nothing happens if it
    /// links none.
    pub fn send(self, msg: &Message) {
        syscall::send(self.cptr(), msg)
    }
}

/// The system calls of a notification's `seL4_Wait` and `seL4_Poll`.
#[cfg(not(feature = "mcs"))]
const RECV: nr::SyscallNo = nr::SYS_RECV;
#[cfg(not(feature = "mcs"))]
const NB_RECV: nr::SyscallNo = nr::SYS_NB_RECV;
#[cfg(feature = "mcs")]
const RECV: nr::SyscallNo = nr::SYS_WAIT;
#[cfg(feature = "mcs")]
const NB_RECV: nr::SyscallNo = nr::SYS_NB_WAIT;

impl Notification {
    /// `seL4_Signal`: Send with an empty MessageInfo; the notification word
    /// becomes `word | badge`.
    pub fn signal(self) {
        raw(
            nr::SYS_SEND,
            Regs {
                a0: self.bits(),
                ..Regs::default()
            },
        );
    }

    /// `seL4_Wait`: blocks until signalled; returns the notification word
    /// (which the kernel then clears). Classic: a Recv; MCS: a Wait (no
    /// reply object), as libsel4's.
    pub fn wait(self) -> Word {
        raw(
            RECV,
            Regs {
                a0: self.bits(),
                ..Regs::default()
            },
        )
        .a0
    }

    /// `seL4_Poll`: the notification word, or 0 if nothing was signalled
    /// (classic: NBRecv; MCS: NBWait).
    pub fn poll(self) -> Word {
        raw(
            NB_RECV,
            Regs {
                a0: self.bits(),
                ..Regs::default()
            },
        )
        .a0
    }
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::syscall::testing::with_fake_kernel;

    #[test]
    fn signal_wait_poll() {
        let n = Notification::from_bits(40);
        let ((), log) = with_fake_kernel(&[], || {
            n.signal();
            n.wait();
            n.poll();
        });
        let calls: Vec<_> = log.iter().map(|(s, a0, m)| (*s, *a0, m.info().0)).collect();
        assert_eq!(
            calls,
            [(nr::SYS_SEND, 40, 0), (RECV, 40, 0), (NB_RECV, 40, 0)]
        );
    }

    /// MCS: the endpoint's receive forms name the reply object, `Wait`
    /// none, and [`Reply::send`] is a Send on the reply object itself.
    #[cfg(feature = "mcs")]
    #[test]
    fn mcs_endpoint_and_reply() {
        use crate::syscall::testing::a6_t0;
        crate::ipc_buffer::testing::install();
        let (ep, src, r) = (
            Endpoint::from_bits(30),
            Endpoint::from_bits(31),
            Reply::from_bits(9),
        );
        let m = Message::new(2, &[7], &[]);
        let ((), log) = with_fake_kernel(&[], || {
            ep.recv(r);
            ep.reply_recv(&m, r);
            ep.wait();
            ep.nb_send_recv(&m, src, r);
            r.send(&m);
        });
        let calls: Vec<_> = log.iter().map(|(s, a0, m)| (*s, *a0, m.label())).collect();
        assert_eq!(
            calls,
            [
                (nr::SYS_RECV, 30, 0),
                (nr::SYS_REPLY_RECV, 30, 2),
                (nr::SYS_WAIT, 30, 0),
                (nr::SYS_NB_SEND_RECV, 31, 2),
                (nr::SYS_SEND, 9, 2),
            ]
        );
        let want = [
            Some((9, 0)),
            Some((9, 0)),
            Some((0, 0)),
            Some((9, 30)),
            None,
        ];
        assert_eq!(a6_t0(), want);
    }
}
