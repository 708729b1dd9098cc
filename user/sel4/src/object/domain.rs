//! Scheduling domains (ch. 6 Threads and Execution, *Domains*; ABI ref
//! §7.6): the DomainSet cap.

use super::invoke;
use crate::cap::{DomainSet, Tcb};
use crate::error::Error;
use crate::message::Message;
use cairn_abi::invocation::label;
use cairn_abi::Word;

impl DomainSet {
    /// `seL4_DomainSet_Set`: MR0 domain; extra cap 0 the thread.
    pub fn set(self, domain: u8, thread: Tcb) -> Result<(), Error> {
        let msg = Message::new(
            label::DOMAIN_SET_SET,
            &[Word::from(domain)],
            &[thread.cptr()],
        );
        invoke(self.cptr(), &msg).map(drop)
    }

    /// `seL4_DomainSet_ScheduleConfigure`: MR0 index, MR1 domain, MR2
    /// duration (kernel ticks).
    pub fn schedule_configure(self, index: Word, domain: u8, duration: Word) -> Result<(), Error> {
        let msg = Message::new(
            label::DOMAIN_SCHEDULE_CONFIGURE,
            &[index, Word::from(domain), duration],
            &[],
        );
        invoke(self.cptr(), &msg).map(drop)
    }

    /// `seL4_DomainSet_ScheduleSetStart`: MR0 index.
    pub fn schedule_set_start(self, index: Word) -> Result<(), Error> {
        invoke(
            self.cptr(),
            &Message::new(label::DOMAIN_SCHEDULE_SET_START, &[index], &[]),
        )
        .map(drop)
    }
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::object::testing::{ok, one_call};

    #[test]
    fn domain_methods() {
        let d = DomainSet::from_bits(11);
        let (_, dest, m) = one_call(ok(), || d.set(0, Tcb::from_bits(1)));
        assert_eq!(
            (dest, m.label(), m.mrs(), m.caps()),
            (11, 30, &[0][..], &[1][..])
        );
        let (_, _, m) = one_call(ok(), || d.schedule_configure(0, 0, 100));
        assert_eq!((m.label(), m.mrs()), (31, &[0, 0, 100][..]));
        let (r, _, m) = one_call(Message::new(1, &[0], &[]), || d.schedule_set_start(5));
        assert_eq!(
            (r, m.label(), m.mrs()),
            (Err(Error::InvalidArgument { index: 0 }), 32, &[5][..])
        );
    }
}
