//! Off-target stand-in for the `ecall` stub. In unit tests a scripted fake
//! kernel (see [`testing`]) answers; in any other host build a system call
//! is a bug and panics.

use super::Regs;
use cairn_abi::syscall::SyscallNo;

/// The host's `raw`: answered by the test's fake kernel.
pub(crate) fn raw(sys: SyscallNo, r: Regs) -> Regs {
    #[cfg(test)]
    {
        testing::dispatch(sys, r)
    }
    #[cfg(not(test))]
    {
        let _ = (sys, r);
        panic!("seL4 system calls are only available on riscv64")
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A fake kernel for host tests: it decodes each system call back into a
    //! [`Message`] (registers plus IPC buffer, as the real kernel reads it),
    //! records it, and answers with the next scripted reply, written as the
    //! kernel writes a reply (a0 = 0, a1 = info, MR0..3 in registers, the
    //! rest in the IPC buffer).
    use super::*;
    use crate::ipc_buffer::with_ipc_buffer;
    use crate::message::Message;
    use cairn_abi::message::MessageInfo;
    use cairn_abi::Word;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    /// One recorded system call: number, a0, message.
    pub type Record = (SyscallNo, Word, Message);

    std::thread_local! {
        static REPLIES: RefCell<VecDeque<Message>> = const { RefCell::new(VecDeque::new()) };
        static LOG: RefCell<Vec<Record>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn dispatch(sys: SyscallNo, r: Regs) -> Regs {
        let info = MessageInfo(r.a1);
        let sent = with_ipc_buffer(|b| {
            Message::received(
                info,
                |i| r.mr.get(i).copied().unwrap_or_else(|| b.msg[i]),
                |i| b.caps_or_badges[i],
            )
        })
        .unwrap_or_else(|| Message::received(info, |i| r.mr.get(i).copied().unwrap_or(0), |_| 0));
        LOG.with(|l| l.borrow_mut().push((sys, r.a0, sent)));
        let Some(reply) = REPLIES.with(|q| q.borrow_mut().pop_front()) else {
            return r;
        };
        with_ipc_buffer(|b| {
            for (i, w) in reply.mrs().iter().enumerate().skip(4) {
                b.msg[i] = *w;
            }
        });
        let mut mr = [0; 4];
        for (d, s) in mr.iter_mut().zip(reply.mrs()) {
            *d = *s;
        }
        Regs {
            a0: 0,
            a1: reply.info().0,
            mr,
        }
    }

    /// Runs `f` against a fake kernel that answers with `replies` in order;
    /// returns `f`'s result and the system calls it made.
    pub fn with_fake_kernel<R>(replies: &[Message], f: impl FnOnce() -> R) -> (R, Vec<Record>) {
        REPLIES.with(|q| *q.borrow_mut() = replies.iter().copied().collect());
        LOG.with(|l| l.borrow_mut().clear());
        let out = f();
        (out, LOG.with(|l| l.take()))
    }
}
