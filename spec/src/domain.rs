//! Domains (manual §6.3 *Domains*, ch. 10 `seL4_DomainSet_Set`,
//! `seL4_DomainSet_ScheduleConfigure`, `seL4_DomainSet_ScheduleSetStart`):
//! the Domain cap moves a thread into another scheduling domain and edits
//! the domain schedule, a table of (domain, duration) entries run in order
//! from a start index, back to the start at an end marker (domain 0,
//! duration 0). Which domain runs when (the schedule's current entry and
//! the time left in it) is the scheduler's business, not specified here:
//! the table and the start index are.

use crate::cap::Cap;
use crate::error::SyscallError;
use crate::invoke::Invocation;
use crate::state::State;

/// The labels (seL4 16.0.0).
pub const SET: u64 = 30;
pub const SCHEDULE_CONFIGURE: u64 = 31;
pub const SCHEDULE_SET_START: u64 = 32;

/// The longest duration of an entry (it must fit in 56 bits).
pub const MAX_DURATION: u64 = (1 << 56) - 1;

/// The domain schedule: its entries (domain, duration), the last one
/// always an end marker, and the start index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub entries: Vec<(u64, u64)>,
    pub start: u64,
}

impl Schedule {
    /// The schedule after boot with `domains` domains: its first entry
    /// domain 0 for the longest duration, the others end markers, start 0.
    /// (`CONFIG_NUM_DOMAIN_SCHEDULES`: 2 entries with one domain, else
    /// 100.)
    pub fn at_boot(domains: u64) -> Schedule {
        let n = if domains > 1 { 100 } else { 2 };
        let mut entries = vec![(0, 0); n];
        entries[0] = (0, MAX_DURATION);
        Schedule { entries, start: 0 }
    }

    fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    fn is_end_marker(&self, i: u64) -> bool {
        self.entries.get(i as usize).is_none_or(|&e| e == (0, 0))
    }
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule::at_boot(1)
    }
}

impl State {
    /// The Domain cap's methods, each checked in seL4's order (changing
    /// nothing when a check fails):
    /// - Set: a domain word (TruncatedMessage), below the number of
    ///   domains (InvalidArgument 0), a thread cap as extra cap 0
    ///   (TruncatedMessage if none, InvalidArgument 1 if another cap);
    ///   the thread's domain.
    /// - ScheduleConfigure: three words, index, domain, duration
    ///   (TruncatedMessage); the index below the last entry, which stays
    ///   an end marker (RangeError 0..entries − 2); the domain below the
    ///   number of domains (RangeError 0..domains − 1); the duration in 56
    ///   bits (InvalidArgument 2); duration 0 only with domain 0 (an end
    ///   marker, else InvalidArgument 1); the start entry never an end
    ///   marker (InvalidArgument 2). The entry is written.
    /// - ScheduleSetStart: an index word (TruncatedMessage) below the
    ///   number of entries (RangeError 0..entries − 1), not an end marker
    ///   (InvalidArgument 0). The start index is set (and the current
    ///   domain's time ends: the scheduler's business).
    pub(crate) fn domain_invoke(
        &mut self,
        inv: &Invocation,
        extra: &[Option<Cap>],
    ) -> Result<(), SyscallError> {
        let word = |i: usize| inv.words.get(i).copied();
        let range = |max| SyscallError::RangeError { min: 0, max };
        let invalid = |index| SyscallError::InvalidArgument { index };
        let check = |ok: bool, e| if ok { Ok(()) } else { Err(e) };
        let n = self.domain_schedule.len();
        match inv.label {
            SET => {
                let domain = word(0).ok_or(SyscallError::TruncatedMessage)?;
                check(domain < self.num_domains, invalid(0))?;
                let Some(Some(Cap::Thread { obj })) = extra.first().copied() else {
                    return match extra.first() {
                        None => Err(SyscallError::TruncatedMessage),
                        Some(_) => Err(invalid(1)),
                    };
                };
                self.set_domain(obj, domain);
            }
            SCHEDULE_CONFIGURE => {
                let (Some(index), Some(domain), Some(duration)) = (word(0), word(1), word(2))
                else {
                    return Err(SyscallError::TruncatedMessage);
                };
                check(index < n - 1, range(n - 2))?;
                check(domain < self.num_domains, range(self.num_domains - 1))?;
                check(duration <= MAX_DURATION, invalid(2))?;
                check(duration != 0 || domain == 0, invalid(1))?;
                check(
                    index != self.domain_schedule.start || duration != 0,
                    invalid(2),
                )?;
                if let Some(e) = self.domain_schedule.entries.get_mut(index as usize) {
                    *e = (domain, duration);
                }
            }
            SCHEDULE_SET_START => {
                let index = word(0).ok_or(SyscallError::TruncatedMessage)?;
                check(index < n, range(n - 1))?;
                check(!self.domain_schedule.is_end_marker(index), invalid(0))?;
                self.domain_schedule.start = index;
                self.end_domain_time();
            }
            _ => return Err(SyscallError::IllegalOperation),
        }
        Ok(())
    }
}
