//! Domains (manual §6.3 *Domains*, ch. 10 `seL4_DomainSet_Set`): the
//! Domain cap moves a thread into another scheduling domain. Which domain
//! runs when (the domain schedule, its Configure and SetStart methods) is
//! the scheduler's business, not specified here.

use crate::cap::Cap;
use crate::error::SyscallError;
use crate::invoke::Invocation;
use crate::state::State;

/// The labels (seL4 16.0.0).
pub const SET: u64 = 30;
pub const SCHEDULE_CONFIGURE: u64 = 31;
pub const SCHEDULE_SET_START: u64 = 32;

/// Whether the Domain cap's method `label` is specified (the schedule's
/// are not; any other label is, as IllegalOperation).
pub fn specified(label: u64) -> bool {
    !matches!(label, SCHEDULE_CONFIGURE | SCHEDULE_SET_START)
}

impl State {
    /// DomainSet_Set, checked in seL4's order: a domain word
    /// (TruncatedMessage), below the number of domains (InvalidArgument
    /// 0), a thread cap as extra cap 0 (TruncatedMessage if none,
    /// InvalidArgument 1 if another cap). Performed: the thread's domain.
    pub(crate) fn domain_invoke(
        &mut self,
        inv: &Invocation,
        extra: &[Option<Cap>],
    ) -> Result<(), SyscallError> {
        if inv.label != SET {
            return Err(SyscallError::IllegalOperation);
        }
        let domain = *inv.words.first().ok_or(SyscallError::TruncatedMessage)?;
        if domain >= self.num_domains {
            return Err(SyscallError::InvalidArgument { index: 0 });
        }
        let Some(Some(Cap::Thread { obj })) = extra.first().copied() else {
            return match extra.first() {
                None => Err(SyscallError::TruncatedMessage),
                Some(_) => Err(SyscallError::InvalidArgument { index: 1 }),
            };
        };
        if let Some(t) = self.thread_mut(obj) {
            t.domain = domain;
        }
        Ok(())
    }
}
