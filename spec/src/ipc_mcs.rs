//! MCS message passing (manual ch. 4 *Message Passing*, the MCS reply
//! objects; §6.1.2 *Scheduling contexts*, passive threads and donation):
//! what differs from the classic rendezvous of `ipc`.
//!
//! A receiver names a reply object on Recv (not on Wait); a Call (or a
//! fault) it receives links the caller to that object, and the caller
//! waits on it for the reply (`reply_push`). A receiver with no
//! scheduling context (a passive server) runs on the caller's: the
//! context is lent along the Call and pushed on its *call stack*: the
//! context names the newest reply object (`SchedContext::reply`), each
//! reply object the one of the Call below (`prev`). Replying through
//! the object pops it and the context goes back to the caller (unless the
//! caller was given another meanwhile). Taking a reply object out of the
//! middle of a stack (its last cap deleted, the caller's IPC cancelled)
//! breaks the stack there. A reply object still linked when a Recv names
//! it again is taken back: the thread linked to it loses its IPC.
//!
//! Also MCS: cancelling forgets any fault; a thread that was sending a
//! fault and is taken out of a queue stops instead of restarting; a
//! passive thread woken by a notification bound to a context runs on it,
//! and gives it back when it waits again. What time decides (budgets,
//! who runs) stays out, as in `sched_context`; timeout faults, once told
//! a budget ran out, are `timeout.rs`.

use crate::cap::{Cap, ObjId};
use crate::error::LookupFault;
use crate::fault::Fault;
use crate::state::{Object, State};
use crate::thread::{ThreadState, A6};

impl State {
    /// Reply object `r`'s links: (the thread it links, the reply below).
    fn reply_links(&mut self, r: ObjId) -> Option<(&mut Option<ObjId>, &mut Option<ObjId>)> {
        match self.objects.get_mut(&r)? {
            Object::Reply { caller, prev } => Some((caller, prev)),
            _ => None,
        }
    }

    /// The thread reply object `r` links (seL4's `replyTCB`).
    pub fn reply_tcb(&self, r: ObjId) -> Option<ObjId> {
        match self.objects.get(&r)? {
            Object::Reply { caller, .. } => *caller,
            _ => None,
        }
    }

    /// The reply object linked to thread `t` (a receiver blocked with it,
    /// or a caller waiting on it).
    pub fn reply_of(&self, t: ObjId) -> Option<ObjId> {
        self.objects.iter().find_map(|(&o, ob)| match ob {
            Object::Reply { caller, .. } if *caller == Some(t) => Some(o),
            _ => None,
        })
    }

    /// The scheduling context whose call stack `r` heads.
    fn stack_of(&self, r: ObjId) -> Option<ObjId> {
        self.objects.iter().find_map(|(&o, ob)| match ob {
            Object::SchedContext(s) if s.reply == Some(r) => Some(o),
            _ => None,
        })
    }

    fn set_sc_reply(&mut self, sc: ObjId, r: Option<ObjId>) {
        if let Some(Object::SchedContext(s)) = self.objects.get_mut(&sc) {
            s.reply = r;
        }
    }

    /// seL4's `schedContext_donate`: thread `to` runs on `sc` now (its
    /// holder, if any, loses it).
    pub(crate) fn donate(&mut self, sc: ObjId, to: ObjId) {
        self.bind_sc(sc, to);
    }

    /// seL4's `reply_unlink`: `r` and `t` let go of each other; `t` stops.
    pub(crate) fn reply_unlink(&mut self, r: ObjId, t: ObjId) {
        if let Some((caller, _)) = self.reply_links(r) {
            *caller = None;
        }
        self.set_state(t, ThreadState::Inactive);
    }

    /// seL4's `reply_push`: `caller`'s Call (or fault) was received by
    /// `callee` with `r`: the caller waits on `r`; a passive callee runs
    /// on the caller's context if `can_donate`, `r` on top of its stack.
    fn reply_push(&mut self, caller: ObjId, callee: ObjId, r: ObjId, can_donate: bool) {
        if let Some((c, _)) = self.reply_links(r) {
            *c = Some(caller);
        }
        self.set_state(caller, ThreadState::BlockedOnReply);
        let Some(sc) = self.sc_of_tcb(caller) else {
            return;
        };
        if can_donate && self.sc_of_tcb(callee).is_none() {
            let below = self.sc(sc).and_then(|s| s.reply);
            if let Some((_, prev)) = self.reply_links(r) {
                *prev = below;
            }
            self.set_sc_reply(sc, Some(r));
            self.donate(sc, callee);
        }
    }

    /// seL4's `reply_remove`: `r`, on which `t` waits, leaves its call
    /// stack: popped if it heads one (the context goes back to `t` if
    /// `t` has none), else the stack is broken at it; `t` stops.
    pub(crate) fn reply_remove(&mut self, r: ObjId, t: ObjId) {
        match self.stack_of(r) {
            Some(sc) => {
                let below = self.reply_links(r).and_then(|(_, p)| p.take());
                self.set_sc_reply(sc, below);
                if self.sc_of_tcb(t).is_none() {
                    self.donate(sc, t);
                }
                self.reply_unlink(r, t);
            }
            None => self.reply_cut_out(r, t),
        }
    }

    /// seL4's `reply_remove_tcb`: `t`, waiting for a reply, abandons it;
    /// the stack breaks at its reply object (the context stays where it
    /// is).
    pub(crate) fn reply_remove_tcb(&mut self, t: ObjId) {
        let Some(r) = self.reply_of(t) else {
            return self.set_state(t, ThreadState::Inactive);
        };
        if let Some(sc) = self.stack_of(r) {
            self.set_sc_reply(sc, None);
        }
        self.reply_cut_out(r, t);
    }

    /// Breaks the call stack at `r` (the reply above and the one below no
    /// longer name it) and unlinks it from `t`.
    fn reply_cut_out(&mut self, r: ObjId, t: ObjId) {
        for ob in self.objects.values_mut() {
            if let Object::Reply { prev, .. } = ob {
                if *prev == Some(r) {
                    *prev = None;
                }
            }
        }
        if let Some((_, prev)) = self.reply_links(r) {
            *prev = None;
        }
        self.reply_unlink(r, t);
    }

    /// What deleting the last cap to reply object `r` does (seL4's
    /// `finaliseCap`): a caller waiting on it leaves the call stack and
    /// stops; a receiver blocked with it loses its IPC.
    pub(crate) fn finalise_reply(&mut self, r: ObjId) {
        let Some(t) = self.reply_tcb(r) else {
            return;
        };
        match self.state_of(t) {
            ThreadState::BlockedOnReply => self.reply_remove(r, t),
            ThreadState::BlockedOnReceive { .. } => self.cancel_ipc(t),
            _ => {
                if let Some((c, _)) = self.reply_links(r) {
                    *c = None;
                }
            }
        }
    }

    /// seL4's MCS `doReplyTransfer`: `t` replies through `r` (Grant
    /// `grant`): if a caller waits on it, the caller leaves the call
    /// stack (its context back) and gets the message, or its handler's
    /// verdict on its fault. No caller: nothing happens. A caller that
    /// runs again on a context whose head refill is not ready
    /// ([`State::not_ready`], time) sends a timeout fault if it has a
    /// timeout handler, unless what was answered was a timeout fault;
    /// else it waits for its refill.
    pub(crate) fn do_reply_transfer_mcs(&mut self, t: ObjId, r: ObjId, grant: bool) {
        let Some(to) = self.reply_tcb(r) else {
            return;
        };
        if self.state_of(to) != ThreadState::BlockedOnReply {
            return;
        }
        self.reply_remove(r, to);
        let fault = self.thread(to).and_then(|x| x.fault);
        match fault {
            None => {
                self.do_ipc_transfer(t, None, 0, grant, to);
                self.set_state(to, ThreadState::Running);
            }
            Some(f) => {
                self.end_fault(to, t, f);
            }
        }
        let Some(sc) = self.sc_of_tcb(to) else {
            return;
        };
        let timeout = matches!(fault, Some(Fault::Timeout { .. }));
        if self.state_of(to).runnable()
            && self.not_ready.contains(&sc)
            && !timeout
            && self.timeout_handler(to).is_some()
        {
            self.handle_timeout(to, sc);
        }
    }

    /// The end of a send by `t` that found `dest` waiting (seL4's MCS
    /// `sendIPC`): `dest` lets go of its reply object; a Call or a fault
    /// is linked to it if the cap had Grant or GrantReply (`granted`),
    /// else the sender stops; a donating send lends a passive `dest` the
    /// sender's context. `dest` runs.
    pub(crate) fn complete_send_mcs(
        &mut self,
        t: ObjId,
        dest: ObjId,
        call: bool,
        granted: bool,
        can_donate: bool,
    ) {
        let reply = self.reply_of(dest);
        if let Some(r) = reply {
            self.reply_unlink(r, dest);
        }
        let fault = self.thread(t).is_some_and(|x| x.fault.is_some());
        if call || fault {
            match reply {
                Some(r) if granted => self.reply_push(t, dest, r, can_donate),
                _ => self.set_state(t, ThreadState::Inactive),
            }
        } else if can_donate && self.sc_of_tcb(dest).is_none() {
            if let Some(sc) = self.sc_of_tcb(t) {
                self.donate(sc, dest);
            }
        }
        self.set_state(dest, ThreadState::Running);
    }

    /// The end of a receive by `t` (with reply object `reply`) that found
    /// `sender` waiting (seL4's MCS `receiveIPC`): a Call or a fault is
    /// linked to `reply` (the sender's context lent to a passive `t`),
    /// or, without one or without Grant or GrantReply, the sender stops;
    /// a send runs on.
    pub(crate) fn complete_receive_mcs(
        &mut self,
        sender: ObjId,
        t: ObjId,
        call: bool,
        granted: bool,
        reply: Option<ObjId>,
    ) {
        let fault = self.thread(sender).and_then(|x| x.fault);
        if !call && fault.is_none() {
            return self.set_state(sender, ThreadState::Running);
        }
        match reply {
            Some(r) if granted => {
                // Never lent with a timeout fault: the handler runs on
                // its own time (seL4's MCS `receiveIPC`).
                let timeout = matches!(fault, Some(Fault::Timeout { .. }));
                let can_donate = self.sc_of_tcb(sender).is_some() && !timeout;
                self.reply_push(sender, t, r, can_donate);
            }
            _ => self.set_state(sender, ThreadState::Inactive),
        }
    }

    /// A Recv with reply object `reply`: one still linked to another
    /// thread is taken back first (that thread's IPC is cancelled).
    pub(crate) fn reclaim_reply(&mut self, reply: Option<ObjId>, t: ObjId) {
        if let Some(x) = reply.and_then(|r| self.reply_tcb(r)) {
            if x != t {
                self.cancel_ipc(x);
            }
        }
    }

    /// A thread taken out of a queue whose object goes or whose badge is
    /// cancelled (seL4's `restart_thread_if_no_fault`): one that was
    /// sending a fault stops, any other runs its system call again.
    pub(crate) fn restart_if_no_fault(&mut self, t: ObjId) {
        if let Some(r) = self.reply_of(t) {
            if matches!(self.state_of(t), ThreadState::BlockedOnReceive { .. }) {
                self.reply_unlink(r, t);
            }
        }
        let state = match self.thread(t).is_some_and(|x| x.fault.is_some()) {
            true => ThreadState::Inactive,
            false => ThreadState::Restart,
        };
        self.set_state(t, state);
    }

    /// seL4's `maybeDonateSchedContext`: a passive `t` woken by `n` runs
    /// on the context bound to `n`, if no thread has it.
    pub(crate) fn maybe_donate_sc(&mut self, t: ObjId, n: ObjId) {
        if self.sc_of_tcb(t).is_some() {
            return;
        }
        if let Some(sc) = self.sc_of_ntfn(n) {
            if self.sc(sc).is_some_and(|s| s.tcb.is_none()) {
                self.donate(sc, t);
            }
        }
    }

    /// seL4's `maybeReturnSchedContext`: `t`, about to wait, gives back
    /// the context notification `n` lent it.
    pub(crate) fn maybe_return_sc(&mut self, n: ObjId, t: ObjId) {
        if let Some(sc) = self.sc_of_ntfn(n) {
            if self.sc(sc).is_some_and(|s| s.tcb == Some(t)) {
                self.unbind_sc_of_tcb(t);
            }
        }
    }

    /// seL4's MCS `lookupReply`: the reply object the reply register
    /// (a6) names; anything else is a cap fault in the receive phase on
    /// that cptr.
    pub(crate) fn lookup_reply(&self, t: ObjId) -> Result<ObjId, Fault> {
        let cptr = self.thread(t).map_or(0, |x| x.context[A6]);
        let fault = |lookup| Fault::Cap {
            addr: cptr,
            in_recv_phase: true,
            lookup,
        };
        match self.lookup_in(t, cptr) {
            Ok((_, Some(Cap::ReplyObject { obj, .. }))) => Ok(obj),
            Ok(_) => Err(fault(LookupFault::MissingCapability { bits_left: 0 })),
            Err(l) => Err(fault(l)),
        }
    }
}

/// MCS: whether a cap may be invoked in the send phase of ReplyRecv,
/// NBSendRecv or NBSendWait (seL4's `decodeInvocation` with
/// `firstPhase`: not a thread, domain, CNode, SchedControl or
/// SchedContext cap; those answer InvalidCapability 0, which no one
/// hears).
pub fn invocable_in_first_phase(cap: &Cap) -> bool {
    !matches!(
        cap,
        Cap::Thread { .. }
            | Cap::Domain
            | Cap::CNode { .. }
            | Cap::SchedControl
            | Cap::SchedContext { .. }
    )
}
