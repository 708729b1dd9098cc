//! Off-target stand-in for the `ecall` stub. In unit tests a scripted fake
//! kernel (see [`testing`]) answers; in any other host build a system call
//! is a bug and panics.

use super::Regs;
use cairn_abi::syscall::SyscallNo;

/// The host's `raw`: answered by the test's fake kernel.
pub(crate) fn raw(sys: SyscallNo, r: Regs) -> Regs {
    #[cfg(test)]
    {
        testing::dispatch(sys, r, None)
    }
    #[cfg(not(test))]
    {
        let _ = (sys, r);
        panic!("seL4 system calls are only available on riscv64")
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A fake kernel for host tests: it reads each system call as the
    //! kernel reads it (MessageInfo and MR0..3 from registers, MR4.. and
    //! the extra caps from the IPC buffer), records it as an owned [`Msg`],
    //! and answers with the next scripted reply, written as the kernel
    //! writes a reply (a0 = 0, a1 = info, MR0..3 in registers, the rest and
    //! the caps or badges in the IPC buffer).
    use super::*;
    use crate::ipc_buffer::{ipc_buffer_ptr, with_ipc_buffer};
    use cairn_abi::message::MessageInfo;
    use cairn_abi::Word;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    /// A whole message, owned: what the fake kernel saw or will answer.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Msg {
        info: MessageInfo,
        mrs: Vec<Word>,
        caps: Vec<Word>,
    }

    impl Msg {
        /// A message with `label`, words `mrs` and extra caps (or badges)
        /// `caps`.
        pub fn new(label: Word, mrs: &[Word], caps: &[Word]) -> Msg {
            let info = MessageInfo::new(label, 0, caps.len() as Word, mrs.len() as Word);
            Msg {
                info,
                mrs: mrs.to_vec(),
                caps: caps.to_vec(),
            }
        }

        /// The MessageInfo.
        pub fn info(&self) -> MessageInfo {
            self.info
        }

        /// The label.
        pub fn label(&self) -> Word {
            self.info.label()
        }

        /// The message words, MR0 first.
        pub fn mrs(&self) -> &[Word] {
            &self.mrs
        }

        /// The number of message words.
        pub fn len(&self) -> usize {
            self.mrs.len()
        }

        /// The extra-cap words.
        pub fn caps(&self) -> &[Word] {
            &self.caps
        }
    }

    /// One recorded system call: number, a0, message.
    pub type Record = (SyscallNo, Word, Msg);

    std::thread_local! {
        static REPLIES: RefCell<VecDeque<Msg>> = const { RefCell::new(VecDeque::new()) };
        static LOG: RefCell<Vec<Record>> = const { RefCell::new(Vec::new()) };
        /// MCS: `a6` and `t0` of each system call made through `raw_mcs`
        /// (`None`: through `raw`, which sets neither), in step with `LOG`.
        static A6_T0: RefCell<Vec<Option<(Word, Word)>>> = const { RefCell::new(Vec::new()) };
    }

    /// What the kernel reads of a system call with registers `r`.
    fn read_sent(r: &Regs) -> Msg {
        let info = MessageInfo(r.a1);
        let len = info.length() as usize;
        let n_caps = info.extra_caps() as usize;
        let regs = r.mr.iter().copied().take(len);
        let read = with_ipc_buffer(|b| {
            let mrs = regs.clone().chain(b.msg[4..len.max(4)].iter().copied());
            (mrs.collect(), b.caps_or_badges[..n_caps].to_vec())
        });
        let (mrs, caps) = match read {
            Some(words) => words,
            // The library must not hold its IPC buffer across a system
            // call: the kernel writes it.
            None if !ipc_buffer_ptr().is_null() => panic!("IPC buffer borrowed across a syscall"),
            // No buffer: the kernel sees the registers only.
            None => (regs.collect(), Vec::new()),
        };
        Msg { info, mrs, caps }
    }

    pub(super) fn dispatch(sys: SyscallNo, r: Regs, a6_t0: Option<(Word, Word)>) -> Regs {
        LOG.with(|l| l.borrow_mut().push((sys, r.a0, read_sent(&r))));
        A6_T0.with(|l| l.borrow_mut().push(a6_t0));
        let Some(reply) = REPLIES.with(|q| q.borrow_mut().pop_front()) else {
            return r;
        };
        with_ipc_buffer(|b| {
            for (i, w) in reply.mrs().iter().enumerate().skip(4) {
                b.msg[i] = *w;
            }
            for (i, w) in reply.caps().iter().enumerate() {
                b.caps_or_badges[i] = *w;
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
    pub fn with_fake_kernel<R>(replies: &[Msg], f: impl FnOnce() -> R) -> (R, Vec<Record>) {
        REPLIES.with(|q| *q.borrow_mut() = replies.iter().cloned().collect());
        LOG.with(|l| l.borrow_mut().clear());
        A6_T0.with(|l| l.borrow_mut().clear());
        let out = f();
        (out, LOG.with(|l| l.take()))
    }

    /// MCS: `a6` and `t0` of each system call of the last
    /// [`with_fake_kernel`] run, in order (`None` for a call that passes
    /// neither).
    #[cfg(feature = "mcs")]
    pub fn a6_t0() -> Vec<Option<(Word, Word)>> {
        A6_T0.with(|l| l.borrow().clone())
    }
}

/// MCS: the host's `raw_mcs`: the fake kernel records `a6` (the reply
/// object, or NBSendWait's destination) and `t0` (NBSendRecv's
/// destination) too (`testing::a6_t0`).
#[cfg(feature = "mcs")]
pub(crate) fn raw_mcs(sys: SyscallNo, r: Regs, a6: u64, t0: u64) -> Regs {
    #[cfg(test)]
    {
        testing::dispatch(sys, r, Some((a6, t0)))
    }
    #[cfg(not(test))]
    {
        let _ = (a6, t0);
        raw(sys, r)
    }
}
