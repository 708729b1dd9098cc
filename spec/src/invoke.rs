//! System calls (manual §2.2 *System Calls*, ch. 4, ch. 5, §6.2
//! *Faults*): a thread's Send, NBSend, Call (which invoke the cap named:
//! a CNode method, Retype, a send on an endpoint, a signal, a reply, a TCB
//! method), Recv, NBRecv (Wait and Poll on a notification), Reply,
//! ReplyRecv and Yield.
//!
//! An invocation looks up the invoked cap and the extra caps (64-bit
//! walks in the caller's CSpace); a lookup that fails is a cap fault
//! (§6.2.1), sent to the thread's fault handler (`fault`), or, without a
//! valid one, the thread stops. The method then checks its arguments (an
//! error is the answer, for a Call) and, if they are good, is performed;
//! a Call that did not block gets the answer. An unknown system call
//! number and an exception are faults too.

use crate::cap::{Cap, ObjId};
use crate::cnode::Args;
use crate::error::{LookupFault, SyscallError};
use crate::fault::Fault;
use crate::state::{SlotId, State, TCB_CALLER};
use crate::thread::{MsgInfo, ThreadState, MSG_REGISTERS, PC};

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
/// notification, Signal is Send on one. MCS (no Reply): Recv and NBRecv
/// take a reply object (its cptr in a6), Wait and NBWait none;
/// ReplyRecv, NBSendRecv and NBSendWait send (to the cap in a6, t0, a6)
/// before they receive. `Unknown`: a number that is none of them (an
/// UnknownSyscall fault, §6.2.2).
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
    NBSendRecv,
    NBSendWait,
    Wait,
    NBWait,
    Unknown(i64),
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
        let inv = &self.as_read(t, inv);
        let answer = match sys {
            Syscall::Call => self.handle_invocation(t, Phase::CALL, inv)?,
            Syscall::Send => self.handle_invocation(t, Phase::SEND, inv)?,
            Syscall::NBSend => self.handle_invocation(t, Phase::NB_SEND, inv)?,
            Syscall::Recv | Syscall::NBRecv => {
                self.handle_recv(t, inv.cptr, sys == Syscall::Recv, crate::MCS);
                None
            }
            Syscall::Wait | Syscall::NBWait => {
                self.handle_recv(t, inv.cptr, sys == Syscall::Wait, false);
                None
            }
            Syscall::Reply => {
                self.handle_reply(t);
                None
            }
            Syscall::ReplyRecv if !crate::MCS => {
                self.handle_reply(t);
                self.handle_recv(t, inv.cptr, true, false);
                None
            }
            // MCS: the send phase (a non-blocking send that may lend the
            // caller's context), then the receive.
            Syscall::ReplyRecv | Syscall::NBSendRecv | Syscall::NBSendWait => {
                let send = Invocation {
                    cptr: self.send_phase_cptr(t, sys),
                    ..inv.clone()
                };
                self.handle_invocation(t, Phase::FIRST, &send)?;
                let can_reply = sys != Syscall::NBSendWait;
                self.handle_recv(t, inv.cptr, true, can_reply);
                None
            }
            Syscall::Yield => {
                self.yield_current();
                None
            }
            Syscall::Unknown(n) => {
                self.handle_fault(t, Fault::UnknownSyscall { number: n as u64 });
                None
            }
        };
        Ok(answer)
    }

    /// Thread `t` (runnable) takes an exception other than a system call
    /// (RISC-V `scause`, `stval`): a user exception or a VM fault (§6.2).
    pub fn exception(&mut self, t: ObjId, scause: u64, stval: u64) -> Result<(), Unspecified> {
        self.covers_running(t)?;
        self.handle_fault(t, Fault::of_exception(scause, stval));
        Ok(())
    }

    /// [`Self::covers`] for thread `t` entering the kernel without a
    /// message of its own (an exception, its budget's end): whether the
    /// spec covers `t` running at all.
    pub(crate) fn covers_running(&mut self, t: ObjId) -> Result<(), Unspecified> {
        let nothing = Invocation {
            cptr: 0,
            label: 0,
            words: vec![],
            extra: vec![],
        };
        self.covers(t, Syscall::Yield, &nothing)
    }

    /// The call made by the root thread `caller` of the CNode and Retype
    /// tests: a Call.
    pub fn invoke(&mut self, caller: ObjId, inv: &Invocation) -> Option<Answer> {
        self.syscall(caller, Syscall::Call, inv, None).ok()
    }

    /// Whether this specification covers `t` making `sys` with `inv`,
    /// decided before anything changes: `t` runs (a thread in Restart
    /// runs again from its pc: seL4's `activateThread`) and invokes a cap
    /// whose methods are specified. (A message longer than the registers
    /// from a thread without an IPC buffer is cut to them, as seL4 does.)
    pub(crate) fn covers(
        &mut self,
        t: ObjId,
        sys: Syscall,
        inv: &Invocation,
    ) -> Result<(), Unspecified> {
        let th = self.thread(t).ok_or(Unspecified::Skip)?;
        if !th.state.runnable() {
            return Err(Unspecified::Skip);
        }
        let send = match sys {
            Syscall::Call | Syscall::Send | Syscall::NBSend => Some((inv.cptr, false)),
            Syscall::ReplyRecv | Syscall::NBSendRecv | Syscall::NBSendWait if crate::MCS => {
                Some((self.send_phase_cptr(t, sys), true))
            }
            _ => None,
        };
        if let Some((cptr, first)) = send {
            if let Ok((_, Some(cap))) = self.lookup_in(t, cptr) {
                let specified = match cap {
                    // MCS: what the send phase of a combined system call
                    // may not invoke fails before its method is read.
                    _ if first && !crate::ipc_mcs::invocable_in_first_phase(&cap) => true,
                    // MCS: the methods specified in that configuration
                    // (all but YieldTo to a thread that would run
                    // first).
                    _ if crate::MCS => match cap {
                        Cap::CNode { .. }
                        | Cap::Untyped { .. }
                        | Cap::SchedControl
                        | Cap::Frame { .. }
                        | Cap::PageTable { .. }
                        | Cap::AsidControl
                        | Cap::AsidPool { .. }
                        | Cap::Domain => true,
                        Cap::Endpoint { .. } | Cap::Notification { .. } => true,
                        Cap::ReplyObject { .. } => true,
                        Cap::Thread { .. } => crate::tcb::specified(inv.label),
                        Cap::IrqControl | Cap::IrqHandler { .. } => self.irqs.node.is_some(),
                        Cap::SchedContext { obj, .. } => {
                            inv.label != crate::sched_context::YIELD_TO
                                || !self.yield_to_schedules(obj, t)
                        }
                        _ => false,
                    },
                    Cap::CNode { .. }
                    | Cap::Untyped { .. }
                    | Cap::Endpoint { .. }
                    | Cap::Notification { .. }
                    | Cap::Reply { .. }
                    | Cap::Frame { .. }
                    | Cap::PageTable { .. }
                    | Cap::AsidControl
                    | Cap::AsidPool { .. }
                    | Cap::Domain => true,
                    Cap::Thread { .. } => crate::tcb::specified(inv.label),
                    Cap::IrqControl | Cap::IrqHandler { .. } => self.irqs.node.is_some(),
                    _ => false,
                };
                if !specified {
                    return Err(Unspecified::Skip);
                }
            }
        }
        if let Some(x) = self.thread_mut(t) {
            if x.state == ThreadState::Restart {
                x.next_ip = x.context[PC];
            }
            x.state = ThreadState::Running;
        }
        Ok(())
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
        for (i, w) in inv.words.iter().enumerate() {
            if i < MSG_REGISTERS || buffer {
                x.set_mr(i, *w);
            }
        }
        if buffer {
            for (c, w) in x.caps_or_badges.iter_mut().zip(&inv.extra) {
                *c = *w;
            }
            if let Some(r) = receive {
                x.receive = r;
            }
            self.store_buffer(t);
        }
    }

    /// The invocation as the kernel reads it from `t` after [`Self::load`]
    /// (seL4's `handleInvocation`): the words beyond the registers and the
    /// extra caps' cptrs from its IPC buffer, whatever the buffer holds
    /// (a buffer the thread may only read keeps the words it had); without
    /// a buffer, the words in registers alone and no extra caps.
    fn as_read(&self, t: ObjId, inv: &Invocation) -> Invocation {
        let buffer = self.has_buffer(t, false);
        let Some(x) = self.thread(t) else {
            return inv.clone();
        };
        let length = match buffer {
            true => inv.words.len(),
            false => inv.words.len().min(MSG_REGISTERS),
        };
        let extra = match buffer {
            true => x
                .caps_or_badges
                .iter()
                .take(inv.extra.len())
                .copied()
                .collect(),
            false => vec![],
        };
        Invocation {
            cptr: inv.cptr,
            label: inv.label,
            words: (0..length).map(|i| x.mr(i)).collect(),
            extra,
        }
    }

    /// A cap fault of `t` on `addr` (§6.2.1).
    fn cap_fault(&mut self, t: ObjId, addr: u64, in_recv_phase: bool, lookup: LookupFault) {
        let f = Fault::Cap {
            addr,
            in_recv_phase,
            lookup,
        };
        self.handle_fault(t, f);
    }

    /// MCS: the cap the send phase of `sys` invokes (a6, or t0 for
    /// NBSendRecv).
    fn send_phase_cptr(&self, t: ObjId, sys: Syscall) -> u64 {
        let r = match sys {
            Syscall::NBSendRecv => crate::thread::T0,
            _ => crate::thread::A6,
        };
        self.thread(t).map_or(0, |x| x.context[r])
    }

    /// seL4's `handleInvocation` for Call, Send and NBSend and (MCS) the
    /// send phase of the combined system calls (`phase`): look up,
    /// check, perform, answer.
    fn handle_invocation(
        &mut self,
        t: ObjId,
        phase: Phase,
        inv: &Invocation,
    ) -> Result<Answer, Unspecified> {
        let Phase {
            call,
            blocking,
            first,
            ..
        } = phase;
        let buffer = self.has_buffer(t, false);
        // The invoked cap, then the extra caps (read from the IPC buffer);
        // a failed lookup is a cap fault on the cptr that failed.
        let found = self
            .lookup_in(t, inv.cptr)
            .map_err(|f| (inv.cptr, f))
            .and_then(|(slot, cap)| {
                let (mut extra, mut slots) = (Vec::new(), Vec::new());
                if buffer {
                    for &c in &inv.extra {
                        let (s, cap) = self.lookup_in(t, c).map_err(|f| (c, f))?;
                        extra.push(cap);
                        slots.push(s);
                    }
                }
                Ok((slot, cap, extra, slots))
            });
        let (slot, cap, extra, slots) = match found {
            Ok(found) => found,
            Err((addr, lookup)) => {
                if blocking {
                    self.cap_fault(t, addr, false, lookup);
                }
                return Ok(None);
            }
        };
        let r = match cap {
            Some(c) if first && !crate::ipc_mcs::invocable_in_first_phase(&c) => {
                Err(SyscallError::InvalidCapability { index: 0 })
            }
            _ => self.perform(t, slot, cap, inv, (&extra, &slots), phase),
        };
        // A thread that destroyed its own TCB is gone.
        let Some(state) = self.thread(t).map(|th| th.state) else {
            return Ok(None);
        };
        match &r {
            Err(e) if call => {
                let (code, words) = e.code_and_words();
                self.reply_from_kernel(t, code, &words);
            }
            Err(_) => {}
            // An operation that blocked or stopped the caller has no answer.
            Ok(()) if state == ThreadState::Restart => {
                if call {
                    self.reply_from_kernel(t, 0, &[]);
                }
                self.set_state(t, ThreadState::Running);
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
        (extra, slots): (&[Option<Cap>], &[SlotId]),
        phase: Phase,
    ) -> Result<(), SyscallError> {
        let Phase {
            call,
            blocking,
            donate,
            ..
        } = phase;
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
            Some(
                cap @ (Cap::Frame { .. }
                | Cap::PageTable { .. }
                | Cap::AsidControl
                | Cap::AsidPool { .. }),
            ) => {
                let n = extra.len();
                checked(self, &|s| s.vspace_invoke(t, slot, cap, inv, n, call))?;
            }
            Some(Cap::Endpoint { obj, badge, rights }) => {
                if !rights.write {
                    return Err(no_write);
                }
                restart(self);
                let g = (rights.grant, rights.grant_reply);
                self.send_ipc(t, obj, blocking, call, badge, g, donate);
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
            Some(Cap::Thread { obj }) if crate::tcb_mcs::mcs_form(inv.label) => {
                self.tcb_mcs_check(t, obj, inv, extra)?;
                restart(self);
                self.tcb_mcs_perform(obj, slot, inv, extra, slots);
            }
            Some(Cap::Thread { obj }) => {
                self.tcb_invoke(t, obj, inv, extra, slots)?;
                restart(self);
                self.tcb_perform(t, obj, slot, inv, extra, slots, call);
            }
            Some(Cap::IrqControl) => {
                checked(self, &|s| s.irq_control(slot, inv, extra))?;
            }
            Some(Cap::IrqHandler { irq }) => {
                self.irq_handler_check(inv, extra)?;
                restart(self);
                let src = slots.first().copied().zip(extra.first().copied().flatten());
                self.irq_handler(irq, inv.label, src);
            }
            Some(Cap::Domain) => {
                checked(self, &|s| s.domain_invoke(inv, extra))?;
            }
            // MCS: a reply through a reply object (nothing if no caller
            // waits on it; a Call gets the empty answer).
            Some(Cap::ReplyObject { obj, grant }) => {
                restart(self);
                self.do_reply_transfer_mcs(t, obj, grant);
            }
            Some(Cap::SchedControl) => {
                checked(self, &|s| {
                    s.sched_control_invoke(inv.label, &inv.words, extra)
                })?;
            }
            Some(Cap::SchedContext { obj, .. }) => {
                self.sched_context_check(t, obj, inv.label, extra)?;
                restart(self);
                // Consumed and YieldTo answer a word themselves.
                if let Some(words) = self.sched_context_perform(obj, inv.label, extra) {
                    let buffer = self.has_buffer(t, true);
                    if let Some(th) = self.thread_mut(t) {
                        if call {
                            th.reply_from_kernel(0, &words, buffer);
                        }
                        th.state = ThreadState::Running;
                    }
                }
            }
            _ => return Err(SyscallError::InvalidCapability { index: 0 }),
        }
        Ok(())
    }

    /// seL4's `handleRecv`: Recv or NBRecv on an endpoint or notification
    /// cap with Read (a notification bound to another thread cannot be
    /// waited on); anything else is a cap fault in the receive phase
    /// (a cap that is there but will not do: MissingCapability, 0 bits
    /// left).
    /// MCS: `can_reply` (Recv, NBRecv, the receive phase of ReplyRecv
    /// and NBSendRecv): the reply object a6 names is looked up when the
    /// cap is an endpoint; a failed lookup is a cap fault on a6.
    fn handle_recv(&mut self, t: ObjId, cptr: u64, blocking: bool, can_reply: bool) {
        let missing = LookupFault::MissingCapability { bits_left: 0 };
        match self.lookup_in(t, cptr) {
            Ok((_, Some(Cap::Endpoint { obj, rights, .. }))) if rights.read => {
                let reply = match can_reply {
                    true => match self.lookup_reply(t) {
                        Ok(r) => Some(r),
                        Err(f) => return self.handle_fault(t, f),
                    },
                    false => None,
                };
                if !crate::MCS {
                    let caller = SlotId {
                        obj: t,
                        index: TCB_CALLER,
                    };
                    self.delete(caller, true);
                }
                self.receive_ipc(t, obj, rights.grant, blocking, reply);
            }
            Ok((_, Some(Cap::Notification { obj, rights, .. }))) if rights.read => {
                let bound = match self.objects.get(&obj) {
                    Some(crate::Object::Notification { bound, .. }) => *bound,
                    _ => None,
                };
                if bound.is_some_and(|b| b != t) {
                    return self.cap_fault(t, cptr, true, missing);
                }
                self.receive_signal(t, obj, blocking);
            }
            Ok(_) => self.cap_fault(t, cptr, true, missing),
            Err(lookup) => self.cap_fault(t, cptr, true, lookup),
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

/// How an invocation is made: a Call, a Send (`blocking`), an NBSend, or
/// (MCS) the send phase of ReplyRecv, NBSendRecv or NBSendWait (`first`);
/// `donate`: a passive receiver may run on the caller's context (MCS).
#[derive(Clone, Copy, Debug)]
struct Phase {
    call: bool,
    blocking: bool,
    donate: bool,
    first: bool,
}

impl Phase {
    const CALL: Phase = Phase {
        call: true,
        blocking: true,
        donate: true,
        first: false,
    };
    const SEND: Phase = Phase {
        call: false,
        blocking: true,
        donate: false,
        first: false,
    };
    const NB_SEND: Phase = Phase {
        blocking: false,
        ..Phase::SEND
    };
    const FIRST: Phase = Phase {
        call: false,
        blocking: false,
        donate: true,
        first: true,
    };
}
