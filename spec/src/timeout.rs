//! MCS: timeout faults (manual §6.2.5 *Timeout faults*, §6.1.2
//! *Scheduling contexts*; the message: ABI ref §9, `seL4_Timeout_*`).
//!
//! When does a budget run out is time, which the spec leaves to whoever
//! drives it (the refinement test reads it off the kernel's clock and
//! refills). What follows is state, and specified here, after seL4
//! 16.0.0's `checkBudget` → `chargeBudget` → `endTimeslice`: the running
//! thread `t` ran `ticks` on its scheduling context, which are charged to
//! it, and its budget is gone. If the context is not round robin and `t`
//! has a timeout handler (an endpoint cap in its TCB's timeout-handler
//! slot, checked when `SetTimeoutEndpoint` or `Configure` installed it),
//! `t` sends a timeout fault there (seL4's `handleTimeout`): a blocking
//! send that the fault makes a call, with the cap's badge and rights,
//! never lending the context (the handler runs on its own time); the
//! message is the context's badge and the µs it consumed, taken out of
//! it (`State::fault_message`), and the handler's reply writes back the
//! whole register context (`fault.rs`). Otherwise `t` stays runnable and
//! waits for its next refill (time again: who runs is not specified). If
//! the budget ran out at `t`'s own system call or exception, that is not
//! served: a `t` still runnable makes it again (Restart, seL4's
//! `checkBudgetRestart`).

use crate::cap::{Cap, ObjId};
use crate::fault::Fault;
use crate::invoke::Unspecified;
use crate::state::{SlotId, State, TCB_TIMEOUT_HANDLER};
use crate::thread::ThreadState;

impl State {
    /// Thread `t`, running, ran `ticks` more on its scheduling context
    /// and its budget ran out, at a kernel entry that was its own system
    /// call or exception (`restart`) or not (the timer's interrupt).
    /// `Skip` if `t` cannot run (then nothing changed).
    pub fn budget_expired(
        &mut self,
        t: ObjId,
        ticks: u64,
        restart: bool,
    ) -> Result<(), Unspecified> {
        // `t` runs (a thread in Restart from its pc again).
        self.covers_running(t)?;
        let Some(sc) = self
            .sc_of_tcb(t)
            .filter(|&sc| self.sc(sc).is_some_and(|s| s.configured()))
        else {
            return Err(Unspecified::Skip);
        };
        self.charge(sc, ticks);
        let round_robin = self.sc(sc).is_some_and(|s| s.round_robin);
        if !round_robin && self.timeout_handler(t).is_some() {
            self.handle_timeout(t, sc);
        }
        if restart && self.state_of(t).runnable() {
            self.set_state(t, ThreadState::Restart);
        }
        Ok(())
    }

    /// `t`'s timeout handler: the endpoint cap in its TCB's slot
    /// (seL4's `validTimeoutHandler`).
    pub fn timeout_handler(&self, t: ObjId) -> Option<Cap> {
        let slot = SlotId {
            obj: t,
            index: TCB_TIMEOUT_HANDLER,
        };
        self.cap(slot).filter(|c| matches!(c, Cap::Endpoint { .. }))
    }

    /// seL4's `handleTimeout`: `t`, on scheduling context `sc`, sends its
    /// timeout handler a timeout fault with `sc`'s badge.
    pub(crate) fn handle_timeout(&mut self, t: ObjId, sc: ObjId) {
        let Some(Cap::Endpoint { obj, badge, rights }) = self.timeout_handler(t) else {
            return;
        };
        let fault = Fault::Timeout {
            badge: self.sc(sc).map_or(0, |s| s.badge),
        };
        if let Some(x) = self.thread_mut(t) {
            x.fault = Some(fault);
        }
        let rights = (rights.grant, rights.grant_reply);
        self.send_ipc(t, obj, true, false, badge, rights, false);
    }
}
