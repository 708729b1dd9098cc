//! Invocations of the domain capability (ch. 6 Threads and Execution,
//! *Domains*; ABI ref §7.6): DomainSet_Set, DomainSet_ScheduleConfigure and
//! DomainSet_ScheduleSetStart, with seL4 16's checks in its order. The
//! schedule itself is `sched::domain`. [`decode`] and [`perform`] are
//! called by the syscall layer (`api`) for the domain cap.
//!
//! - Set: length ≥ 1 (TruncatedMessage); MR0 (the whole word) <
//!   `NUM_DOMAINS` (InvalidArgument(0)); extra cap 0 present
//!   (TruncatedMessage) and a TCB (InvalidArgument(1)).
//! - ScheduleConfigure: length ≥ 3; index < entries − 1 (the last entry
//!   stays an end marker: RangeError(0, entries − 2)); domain <
//!   `NUM_DOMAINS` (RangeError(0, domains − 1)); duration < 2^56
//!   (InvalidArgument(2)); duration 0 only with domain 0
//!   (InvalidArgument(1)); the start entry may not become an end marker
//!   (InvalidArgument(2)).
//! - ScheduleSetStart: length ≥ 1; index < entries (RangeError(0,
//!   entries − 1)); not an end marker (InvalidArgument(0)).

use crate::cap::Cap;
use crate::object::invocation::{need, Invocation};
use crate::object::tcb::TcbRef;
use crate::sched::domain::{self, MAX_DURATION, NUM_DOMAIN_SCHEDULES};
use crate::state::kernel;
use crate::types::SyscallError;
use cairn_abi::invocation::label;

const NUM_DOMAINS: u64 = crate::config::NUM_DOMAINS as u64;
const ENTRIES: u64 = NUM_DOMAIN_SCHEDULES as u64;

/// A decoded domain operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainOp {
    /// Move the thread to the domain.
    Set { tcb: TcbRef, domain: u64 },
    /// Write a schedule entry.
    Configure {
        index: u64,
        domain: u64,
        duration: u64,
    },
    /// Restart the schedule at an entry.
    SetStart(u64),
}

fn check(cond: bool, e: SyscallError) -> Result<(), SyscallError> {
    match cond {
        true => Ok(()),
        false => Err(e),
    }
}

/// Decodes a domain-cap invocation without changing anything.
#[inline(always)]
pub fn decode(inv: &Invocation) -> Result<DomainOp, SyscallError> {
    let invalid = |index| SyscallError::InvalidArgument { index };
    let range = |max| SyscallError::RangeError { min: 0, max };
    match inv.label {
        label::DOMAIN_SET_SET => {
            need(inv.length >= 1)?;
            let domain = inv.arg(0);
            check(domain < NUM_DOMAINS, invalid(0))?;
            let (_, cap) = inv.need_extra(0)?;
            let Cap::Thread { tcb } = cap else {
                return Err(invalid(1));
            };
            Ok(DomainOp::Set {
                tcb: TcbRef::new(tcb),
                domain,
            })
        }
        label::DOMAIN_SCHEDULE_CONFIGURE => {
            need(inv.length >= 3)?;
            let (index, domain, duration) = (inv.arg(0), inv.arg(1), inv.arg(2));
            check(index < ENTRIES - 1, range(ENTRIES - 2))?;
            check(domain < NUM_DOMAINS, range(NUM_DOMAINS - 1))?;
            check(duration <= MAX_DURATION, invalid(2))?;
            check(duration != 0 || domain == 0, invalid(1))?;
            check(
                index != kernel().domains().start() || duration != 0,
                invalid(2),
            )?;
            Ok(DomainOp::Configure {
                index,
                domain,
                duration,
            })
        }
        label::DOMAIN_SCHEDULE_SET_START => {
            need(inv.length >= 1)?;
            let index = inv.arg(0);
            check(index < ENTRIES, range(ENTRIES - 1))?;
            check(!kernel().domains().is_end_marker(index), invalid(0))?;
            Ok(DomainOp::SetStart(index))
        }
        _ => Err(SyscallError::IllegalOperation),
    }
}

/// Performs a decoded domain operation (it cannot fail).
pub fn perform(op: &DomainOp) {
    match *op {
        // As seL4's prepareSetDomain: a thread leaving for another domain
        // gives up the FPU, so that no domain's FP state stays in the
        // registers while another domain's threads run.
        DomainOp::Set { tcb, domain } => {
            crate::fpu::release(tcb);
            domain::set_domain(tcb, domain)
        }
        DomainOp::Configure {
            index,
            domain,
            duration,
        } => kernel().domains().configure(index, domain, duration),
        DomainOp::SetStart(index) => domain::set_start(index),
    }
}

#[cfg(test)]
mod tests;
