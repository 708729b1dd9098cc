//! Endpoints and notifications (ch. 4 Message Passing (IPC), ch. 5
//! Notifications): typed wrappers over the IPC system calls.

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

    /// `seL4_Recv`: returns the sender's badge and the message.
    pub fn recv(self) -> (Word, Message) {
        syscall::recv(self.cptr())
    }

    /// `seL4_NBRecv`.
    pub fn nb_recv(self) -> (Word, Message) {
        syscall::nb_recv(self.cptr())
    }

    /// `seL4_ReplyRecv` (classic).
    pub fn reply_recv(self, reply: &Message) -> (Word, Message) {
        syscall::reply_recv(self.cptr(), reply)
    }
}

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
    /// (which the kernel then clears).
    pub fn wait(self) -> Word {
        raw(
            nr::SYS_RECV,
            Regs {
                a0: self.bits(),
                ..Regs::default()
            },
        )
        .a0
    }

    /// `seL4_Poll`: the notification word, or 0 if nothing was signalled.
    pub fn poll(self) -> Word {
        raw(
            nr::SYS_NB_RECV,
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
            [
                (nr::SYS_SEND, 40, 0),
                (nr::SYS_RECV, 40, 0),
                (nr::SYS_NB_RECV, 40, 0)
            ]
        );
    }
}
