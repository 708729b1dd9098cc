//! System calls (manual §2.2 *System Calls*, ch. 4, ch. 5, §6.2
//! *Faults*): a thread's Send, NBSend, Call (which invoke the cap named:
//! a CNode method, Retype, a send on an endpoint, a signal, a reply, a TCB
//! method), Recv, NBRecv (Wait and Poll on a notification), Reply,
//! ReplyRecv and Yield.
//!
//! An invocation looks up the invoked cap and the extra caps (64-bit
//! walks in the caller's CSpace); a lookup that fails is a cap fault
//! (§6.2.1), which a thread without a valid fault handler meets by
//! stopping. The method then checks its arguments (an error is the
//! answer, for a Call) and, if they are good, is performed; a Call that
//! did not block gets the answer.

use crate::cap::{Cap, ObjId};
use crate::cnode::Args;
use crate::error::SyscallError;
use crate::state::{SlotId, State, TCB_CALLER};
use crate::thread::{MsgInfo, ThreadState, MSG_REGISTERS};

/// A message as the caller makes it: the cap pointer (or the cap register
/// of Recv), the label, the message words and the extra caps' pointers.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub cptr: u64,
    pub label: u64,
    pub words: Vec<u64>,
    pub extra: Vec<u64>,
}

/// The system calls (§2.2); Wait and Poll are Recv and NBRecv on a
/// notification, Signal is Send on one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syscall {
    Call,
    Send,
    NBSend,
    Recv,
    NBRecv,
    Reply,
    ReplyRecv,
    Yield,
}

/// What an invocation answered (`None`: the system call was no
/// invocation, or it blocked, faulted or had no answer to give).
pub type Answer = Option<Result<(), SyscallError>>;

/// Where this specification says nothing yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unspecified {
    /// Known before anything changed: the state is unchanged.
    Skip,
    /// Met after the state changed (a fault sent to a handler after a
    /// reply): the state no longer means anything.
    Abandon,
}

impl State {
    /// Thread `t` (runnable) makes `sys` with the message `inv`; its IPC
    /// buffer's receive path is set to `receive` first, if given.
    pub fn syscall(
        &mut self,
        t: ObjId,
        sys: Syscall,
        inv: &Invocation,
        receive: Option<[u64; 3]>,
    ) -> Result<Answer, Unspecified> {
        self.covers(t, sys, inv)?;
        self.load(t, inv, receive);
        let answer = match sys {
            Syscall::Call => self.handle_invocation(t, true, true, inv)?,
            Syscall::Send => self.handle_invocation(t, false, true, inv)?,
            Syscall::NBSend => self.handle_invocation(t, false, false, inv)?,
            Syscall::Recv | Syscall::NBRecv => {
                self.handle_recv(t, inv.cptr, sys == Syscall::Recv)?;
                None
            }
            Syscall::Reply => {
                self.handle_reply(t);
                None
            }
            Syscall::ReplyRecv => {
                self.handle_reply(t);
                self.handle_recv(t, inv.cptr, true)
                    .map_err(|_| Unspecified::Abandon)?;
                None
            }
            Syscall::Yield => None,
        };
        Ok(answer)
    }

    /// The call made by the root thread `caller` of the CNode and Retype
    /// tests: a Call.
    pub fn invoke(&mut self, caller: ObjId, inv: &Invocation) -> Option<Answer> {
        self.syscall(caller, Syscall::Call, inv, None).ok()
    }

    /// Whether this specification covers `t` making `sys` with `inv`,
    /// decided before anything changes: `t` runs (a thread in Restart
    /// runs again: seL4's `activateThread`), has no valid fault handler
    /// (fault messages are not specified), has an IPC buffer if the
    /// message needs one, and invokes a cap whose methods are specified.
    fn covers(&mut self, t: ObjId, sys: Syscall, inv: &Invocation) -> Result<(), Unspecified> {
        let th = self.thread(t).ok_or(Unspecified::Skip)?;
        if !th.state.runnable() || self.has_fault_handler(t) {
            return Err(Unspecified::Skip);
        }
        let long = inv.words.len() > MSG_REGISTERS || !inv.extra.is_empty();
        if long && !self.has_buffer(t, true) {
            return Err(Unspecified::Skip);
        }
        if matches!(sys, Syscall::Call | Syscall::Send | Syscall::NBSend) {
            if let Ok((_, Some(cap))) = self.lookup_in(t, inv.cptr) {
                let specified = match cap {
                    Cap::CNode { .. }
                    | Cap::Untyped { .. }
                    | Cap::Endpoint { .. }
                    | Cap::Notification { .. }
                    | Cap::Reply { .. } => true,
                    Cap::Thread { .. } => crate::tcb::specified(inv.label),
                    _ => false,
                };
                if !specified {
                    return Err(Unspecified::Skip);
                }
            }
        }
        self.set_state(t, ThreadState::Running);
        Ok(())
    }

    /// Whether `t`'s fault handler cptr names an endpoint cap that could
    /// take a fault message (Write, and Grant or GrantReply).
    fn has_fault_handler(&self, t: ObjId) -> bool {
        let Some(fh) = self.thread(t).map(|x| x.fault_handler) else {
            return false;
        };
        matches!(self.lookup_in(t, fh), Ok((_, Some(Cap::Endpoint { rights, .. })))
            if rights.write && (rights.grant || rights.grant_reply))
    }

    /// The message into `t`'s registers and IPC buffer, as its code puts
    /// it there before the system call.
    fn load(&mut self, t: ObjId, inv: &Invocation, receive: Option<[u64; 3]>) {
        let buffer = self.has_buffer(t, true);
        let Some(x) = self.thread_mut(t) else {
            return;
        };
        x.badge = inv.cptr;
        x.info = MsgInfo {
            label: inv.label,
            unwrapped: 0,
            extra: inv.extra.len() as u64,
            length: inv.words.len() as u64,
        };
        for (m, w) in x.mrs.iter_mut().zip(&inv.words) {
            *m = *w;
        }
        if buffer {
            for (c, w) in x.caps_or_badges.iter_mut().zip(&inv.extra) {
                *c = *w;
            }
            if let Some(r) = receive {
                x.receive = r;
            }
        }
    }

    /// A fault of `t` (§6.2): without a fault handler the thread stops.
    /// (`covers` has checked there is none; a reply may have made one.)
    fn fault(&mut self, t: ObjId) -> Result<(), Unspecified> {
        if self.has_fault_handler(t) {
            return Err(Unspecified::Abandon);
        }
        self.set_state(t, ThreadState::Inactive);
        Ok(())
    }

    /// seL4's `handleInvocation` for Call (`call`), Send and NBSend
    /// (not `blocking`): look up, check, perform, answer.
    fn handle_invocation(
        &mut self,
        t: ObjId,
        call: bool,
        blocking: bool,
        inv: &Invocation,
    ) -> Result<Answer, Unspecified> {
        let buffer = self.has_buffer(t, false);
        let found = self.lookup_in(t, inv.cptr).and_then(|(slot, cap)| {
            let mut extra = Vec::new();
            if buffer {
                for &c in &inv.extra {
                    extra.push(self.lookup_in(t, c)?.1);
                }
            }
            Ok((slot, cap, extra))
        });
        let Ok((slot, cap, extra)) = found else {
            if blocking {
                self.fault(t)?;
            }
            return Ok(None);
        };
        let r = self.perform(t, slot, cap, inv, &extra, call, blocking);
        let write = self.has_buffer(t, true);
        // A thread that destroyed its own TCB is gone.
        let Some(th) = self.thread_mut(t) else {
            return Ok(None);
        };
        match &r {
            Err(e) if call => {
                let (code, words) = e.code_and_words();
                th.reply_from_kernel(code, &words, write);
            }
            Err(_) => {}
            // An operation that blocked or stopped the caller has no answer.
            Ok(()) if th.state == ThreadState::Restart => {
                if call {
                    th.reply_from_kernel(0, &[], write);
                }
                th.state = ThreadState::Running;
            }
            Ok(()) => return Ok(None),
        }
        Ok(Some(r))
    }

    /// The method of `cap` (in `slot`): checks its arguments, then (the
    /// caller in Restart meanwhile, as seL4 does) performs it.
    #[allow(clippy::too_many_arguments)]
    fn perform(
        &mut self,
        t: ObjId,
        slot: SlotId,
        cap: Option<Cap>,
        inv: &Invocation,
        extra: &[Option<Cap>],
        call: bool,
        blocking: bool,
    ) -> Result<(), SyscallError> {
        let restart = |s: &mut State| s.set_state(t, ThreadState::Restart);
        let no_write = SyscallError::InvalidCapability { index: 0 };
        // The CNode methods and Retype check and perform in one function
        // that changes nothing when it fails: the caller is in Restart
        // while it performs (a Delete may suspend it), Running again if
        // it failed.
        let checked = |s: &mut State, f: &dyn Fn(&mut State) -> Result<(), SyscallError>| {
            restart(s);
            let r = f(s);
            if r.is_err() {
                s.set_state(t, ThreadState::Running);
            }
            r
        };
        match cap {
            Some(cap @ Cap::CNode { .. }) => {
                let args = Args {
                    words: &inv.words,
                    extra,
                };
                checked(self, &|s| s.cnode_invoke(t, &cap, inv.label, &args))?;
            }
            Some(Cap::Untyped { .. }) if inv.label == crate::untyped::RETYPE => {
                checked(self, &|s| {
                    s.retype(slot, &inv.words, extra.first().copied())
                })?;
            }
            Some(Cap::Untyped { .. }) => return Err(SyscallError::IllegalOperation),
            Some(Cap::Endpoint { obj, badge, rights }) => {
                if !rights.write {
                    return Err(no_write);
                }
                restart(self);
                let (g, gr) = (rights.grant, rights.grant_reply);
                self.send_ipc(t, obj, blocking, call, badge, g, gr);
            }
            Some(Cap::Notification { obj, badge, rights }) => {
                if !rights.write {
                    return Err(no_write);
                }
                restart(self);
                self.signal(obj, badge);
            }
            Some(Cap::Reply { tcb, master, grant }) => {
                if master {
                    return Err(no_write);
                }
                restart(self);
                self.do_reply_transfer(t, tcb, slot, grant);
            }
            Some(Cap::Thread { obj }) => {
                self.tcb_invoke(t, obj, inv, extra)?;
                restart(self);
                self.tcb_perform(t, obj, inv, extra);
            }
            _ => return Err(SyscallError::InvalidCapability { index: 0 }),
        }
        Ok(())
    }

    /// seL4's `handleRecv`: Recv or NBRecv on an endpoint or notification
    /// cap with Read (a notification bound to another thread cannot be
    /// waited on); anything else is a cap fault.
    fn handle_recv(&mut self, t: ObjId, cptr: u64, blocking: bool) -> Result<(), Unspecified> {
        match self.lookup_in(t, cptr) {
            Ok((_, Some(Cap::Endpoint { obj, rights, .. }))) if rights.read => {
                let caller = SlotId {
                    obj: t,
                    index: TCB_CALLER,
                };
                self.delete(caller, true);
                self.receive_ipc(t, obj, rights.grant, blocking);
                Ok(())
            }
            Ok((_, Some(Cap::Notification { obj, rights, .. }))) if rights.read => {
                let bound = match self.objects.get(&obj) {
                    Some(crate::Object::Notification { bound, .. }) => *bound,
                    _ => None,
                };
                if bound.is_some_and(|b| b != t) {
                    return self.fault(t);
                }
                self.receive_signal(t, obj, blocking);
                Ok(())
            }
            _ => self.fault(t),
        }
    }

    /// seL4's `handleReply`: replies through the reply cap in the caller
    /// slot, if there is one.
    fn handle_reply(&mut self, t: ObjId) {
        let slot = SlotId {
            obj: t,
            index: TCB_CALLER,
        };
        if let Some(Cap::Reply {
            tcb,
            master: false,
            grant,
        }) = self.cap(slot)
        {
            self.do_reply_transfer(t, tcb, slot, grant);
        }
    }
}
