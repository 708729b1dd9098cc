//! Message passing (manual ch. 4 *Message Passing (IPC)*) and
//! notifications (ch. 5 *Notifications*): what Send, Call, Recv, Reply,
//! Signal, Wait and Poll do to threads, queues, reply caps and messages,
//! and what deleting an endpoint, a notification or a thread does to the
//! threads waiting on it.
//!
//! An endpoint is a queue of threads that all wait to send or all wait to
//! receive (§4.2); a sender meeting a waiting receiver (or the reverse)
//! hands its message over at once. A Call's sender then waits for the
//! reply, and the receiver gets a one-shot reply cap in its caller slot
//! (§4.2.4), derived from the caller's master reply cap, provided the
//! endpoint cap had Grant or GrantReply; without either the caller can
//! never be replied to and stops. A notification (§5) is a word of badge
//! bits and a queue of waiters; its bound TCB (§5.3) also receives its
//! signals while waiting in an endpoint Recv.

use crate::cap::{Cap, ObjId, VmRights};
use crate::state::{Object, SlotId, State, TCB_BUFFER, TCB_CALLER, TCB_CTABLE, TCB_REPLY};
use crate::thread::{MsgInfo, Thread, ThreadState, MSG_MAX_LENGTH, MSG_REGISTERS, PC};

impl State {
    /// Thread `t`, if `t` is a TCB.
    pub fn thread(&self, t: ObjId) -> Option<&Thread> {
        match self.objects.get(&t)? {
            Object::Tcb { thread, .. } => Some(thread),
            _ => None,
        }
    }

    pub fn thread_mut(&mut self, t: ObjId) -> Option<&mut Thread> {
        match self.objects.get_mut(&t)? {
            Object::Tcb { thread, .. } => Some(thread),
            _ => None,
        }
    }

    /// `t`'s state (Inactive if `t` is no thread).
    pub fn state_of(&self, t: ObjId) -> ThreadState {
        self.thread(t).map(|x| x.state).unwrap_or_default()
    }

    pub(crate) fn set_state(&mut self, t: ObjId, s: ThreadState) {
        if let Some(x) = self.thread_mut(t) {
            x.state = s;
        }
        self.schedule_tcb(t);
    }

    fn ep_queue(&mut self, ep: ObjId) -> Option<&mut Vec<ObjId>> {
        match self.objects.get_mut(&ep)? {
            Object::Endpoint { queue } => Some(queue),
            _ => None,
        }
    }

    fn ntfn(
        &mut self,
        n: ObjId,
    ) -> Option<(&mut Vec<ObjId>, &mut Option<u64>, &mut Option<ObjId>)> {
        match self.objects.get_mut(&n)? {
            Object::Notification {
                waiting,
                pending,
                bound,
            } => Some((waiting, pending, bound)),
            _ => None,
        }
    }

    /// The queue of endpoint or notification `obj`.
    fn waiters(&mut self, obj: ObjId) -> Option<&mut Vec<ObjId>> {
        match self.objects.get_mut(&obj)? {
            Object::Endpoint { queue } => Some(queue),
            Object::Notification { waiting, .. } => Some(waiting),
            _ => None,
        }
    }

    /// `t` joins the queue of `obj` (an endpoint or a notification): at
    /// its end; MCS: after the last thread of equal or higher priority
    /// (seL4's MCS `tcbAppend`: the queues are ordered by priority, FIFO
    /// among equals).
    fn queue_waiter(&mut self, obj: ObjId, t: ObjId) {
        let prio = |s: &State, x: ObjId| s.thread(x).map_or(0, |th| th.priority);
        let p = prio(self, t);
        let Some(q) = self.waiters(obj).map(|q| q.clone()) else {
            return;
        };
        let at = match crate::MCS {
            true => q
                .iter()
                .rposition(|&x| prio(self, x) >= p)
                .map_or(0, |i| i + 1),
            false => q.len(),
        };
        if let Some(q) = self.waiters(obj) {
            q.insert(at, t);
        }
    }

    /// `t`'s priority becomes `p` (seL4's `setPriority`); MCS: a thread
    /// waiting in an endpoint's or notification's queue moves to its
    /// place for the new priority (`reorderEP`, `reorderNTFN`).
    pub(crate) fn set_priority(&mut self, t: ObjId, p: u64) {
        if !crate::MCS {
            return self.sched_set_priority(t, p);
        }
        if let Some(x) = self.thread_mut(t) {
            x.priority = p;
        }
        let obj = match self.state_of(t) {
            ThreadState::BlockedOnSend { ep, .. } | ThreadState::BlockedOnReceive { ep, .. } => ep,
            ThreadState::BlockedOnNotification { ntfn } => ntfn,
            _ => return,
        };
        if crate::MCS {
            if let Some(q) = self.waiters(obj) {
                q.retain(|&x| x != t);
            }
            self.queue_waiter(obj, t);
        }
    }

    /// Whether `t` has an IPC buffer the kernel may read (or, `write`,
    /// write): a frame cap in its buffer slot, not a device frame, with
    /// read (write) rights (§4.1, seL4's `lookupIPCBuffer`).
    pub fn has_buffer(&self, t: ObjId, write: bool) -> bool {
        let slot = SlotId {
            obj: t,
            index: TCB_BUFFER,
        };
        match self.cap(slot) {
            Some(Cap::Frame {
                rights,
                device: false,
                ..
            }) => match rights {
                VmRights::ReadWrite => true,
                VmRights::ReadOnly => !write,
                VmRights::KernelOnly => false,
            },
            _ => false,
        }
    }

    /// Looks `cptr` up in `t`'s CSpace (a full-depth walk; the slot may
    /// be empty).
    pub fn lookup_in(
        &self,
        t: ObjId,
        cptr: u64,
    ) -> Result<(SlotId, Option<Cap>), crate::LookupFault> {
        let root = SlotId {
            obj: t,
            index: TCB_CTABLE,
        };
        match self.cap(root) {
            Some(cspace) => self.lookup_cap(&cspace, cptr),
            None => Err(crate::LookupFault::InvalidRoot),
        }
    }

    /// seL4's `sendIPC`: `t` sends on `ep` through a cap with `badge`
    /// and the rights `grant`, `grant_reply`; `call` for a Call; MCS:
    /// `can_donate` if it may lend its context (`ipc_mcs`).
    #[allow(clippy::too_many_arguments)]
    pub fn send_ipc(
        &mut self,
        t: ObjId,
        ep: ObjId,
        blocking: bool,
        call: bool,
        badge: u64,
        (grant, grant_reply): (bool, bool),
        can_donate: bool,
    ) {
        let receiver = self.ep_queue(ep).and_then(|q| q.first().copied());
        let receiver =
            receiver.filter(|&r| matches!(self.state_of(r), ThreadState::BlockedOnReceive { .. }));
        let Some(dest) = receiver else {
            if blocking {
                let s = ThreadState::BlockedOnSend {
                    ep,
                    badge,
                    grant,
                    grant_reply,
                    call,
                };
                self.set_state(t, s);
                self.queue_waiter(ep, t);
            }
            return;
        };
        if let Some(q) = self.ep_queue(ep) {
            q.remove(0);
        }
        let reply_grant = match self.state_of(dest) {
            ThreadState::BlockedOnReceive { grant, .. } => grant,
            _ => false,
        };
        // (A fault IPC is a Call. A fault left behind by a cancelled fault
        // IPC, seL4's classic `cancelIPC` keeps it, turns a later send's
        // message into the fault message, but not the send into a call.)
        self.do_ipc_transfer(t, Some(ep), badge, grant, dest);
        if crate::MCS {
            return self.complete_send_mcs(t, dest, call, grant || grant_reply, can_donate);
        }
        self.set_state(dest, ThreadState::Running);
        self.possible_switch_to(dest);
        if call {
            match grant || grant_reply {
                true => self.setup_caller_cap(t, dest, reply_grant),
                false => self.set_state(t, ThreadState::Inactive),
            }
        }
    }

    /// seL4's `receiveIPC`: `t` receives on `ep` through a cap with Grant
    /// `grant` (MCS: with the reply object `reply`, taken back first if
    /// still linked). A signal pending on its bound notification comes
    /// first; MCS: else, about to wait, it gives back a context that
    /// notification lent it.
    pub fn receive_ipc(
        &mut self,
        t: ObjId,
        ep: ObjId,
        grant: bool,
        blocking: bool,
        reply: Option<ObjId>,
    ) {
        self.reclaim_reply(reply, t);
        if let Some(n) = self.thread(t).and_then(|x| x.bound) {
            if self.ntfn(n).is_some_and(|(_, p, _)| p.is_some()) {
                self.complete_signal(n, t);
                return;
            }
            if crate::MCS && blocking {
                self.maybe_return_sc(n, t);
            }
        }
        let sender = self.ep_queue(ep).and_then(|q| q.first().copied());
        let sender = sender.and_then(|s| match self.state_of(s) {
            ThreadState::BlockedOnSend {
                badge,
                grant,
                grant_reply,
                call,
                ..
            } => Some((s, badge, grant, grant_reply, call)),
            _ => None,
        });
        let Some((s, badge, s_grant, s_grant_reply, call)) = sender else {
            match blocking {
                true => {
                    self.set_state(t, ThreadState::BlockedOnReceive { ep, grant });
                    self.queue_waiter(ep, t);
                    if let Some(Object::Reply { caller, .. }) =
                        reply.and_then(|r| self.objects.get_mut(&r))
                    {
                        *caller = Some(t);
                    }
                }
                false => self.thread_mut(t).map_or((), |x| x.badge = 0),
            }
            return;
        };
        if let Some(q) = self.ep_queue(ep) {
            q.remove(0);
        }
        self.do_ipc_transfer(s, Some(ep), badge, s_grant, t);
        if crate::MCS {
            return self.complete_receive_mcs(s, t, call, s_grant || s_grant_reply, reply);
        }
        match (call, s_grant || s_grant_reply) {
            (true, true) => self.setup_caller_cap(s, t, grant),
            (true, false) => self.set_state(s, ThreadState::Inactive),
            (false, _) => {
                self.set_state(s, ThreadState::Running);
                self.possible_switch_to(s);
            }
        }
    }

    /// seL4's `doIPCTransfer` (§4.1, §4.2.2): `sender`'s message goes to
    /// `receiver` with `badge`: the message words (beyond the registers
    /// only if both have IPC buffers), and with `grant` the extra caps:
    /// each cap to `ep` itself arrives as its badge, the first other one
    /// is copied (derived) into the receiver's receive slot; transfer
    /// stops at the first cap that cannot go. A sender with a fault sends
    /// its fault message instead (§6.2).
    pub(crate) fn do_ipc_transfer(
        &mut self,
        sender: ObjId,
        ep: Option<ObjId>,
        badge: u64,
        grant: bool,
        receiver: ObjId,
    ) {
        let Some(s) = self.thread(sender).cloned() else {
            return;
        };
        let recv_buffer = self.has_buffer(receiver, true);
        let (info, words) = match s.fault {
            Some(f) => {
                let mut words = self.fault_message(sender, f);
                if !recv_buffer {
                    words.truncate(MSG_REGISTERS);
                }
                let info = MsgInfo {
                    label: f.label(),
                    unwrapped: 0,
                    extra: 0,
                    length: words.len() as u64,
                };
                (info, words)
            }
            None => {
                let both = self.has_buffer(sender, false) && recv_buffer;
                let length = s.info.length.min(MSG_MAX_LENGTH as u64) as usize;
                let sent = match both {
                    true => length,
                    false => length.min(MSG_REGISTERS),
                };
                let (extra, unwrapped) = match grant && s.info.extra != 0 {
                    true => self.transfer_caps(sender, &s, ep, receiver),
                    false => (0, 0),
                };
                let info = MsgInfo {
                    label: s.info.label,
                    unwrapped,
                    extra,
                    length: sent as u64,
                };
                (info, (0..sent).map(|i| s.mr(i)).collect())
            }
        };
        if let Some(r) = self.thread_mut(receiver) {
            for (i, w) in words.into_iter().enumerate() {
                r.set_mr(i, w);
            }
            r.info = info;
            r.badge = badge;
        }
        if recv_buffer {
            self.store_buffer(receiver);
        }
    }

    /// The caps of a transfer: (caps transferred, the unwrapped mask).
    fn transfer_caps(
        &mut self,
        sender: ObjId,
        s: &Thread,
        ep: Option<ObjId>,
        receiver: ObjId,
    ) -> (u64, u64) {
        if !self.has_buffer(sender, false) {
            return (0, 0);
        }
        // A cap that cannot be looked up: no caps at all (the message goes).
        let mut caps = Vec::new();
        for &c in s.caps_or_badges.iter().take(s.info.extra as usize) {
            match self.lookup_in(sender, c) {
                Ok(found) => caps.push(found),
                Err(_) => return (0, 0),
            }
        }
        if !self.has_buffer(receiver, true) {
            return (0, 0);
        }
        let mut dest = self.receive_slot(receiver);
        let (mut n, mut unwrapped) = (0, 0);
        for (i, (slot, cap)) in caps.into_iter().enumerate() {
            match cap {
                Some(Cap::Endpoint { obj, badge, .. }) if Some(obj) == ep => {
                    if let Some(r) = self.thread_mut(receiver) {
                        r.caps_or_badges[i] = badge;
                    }
                    unwrapped |= 1 << i;
                }
                _ => {
                    let Some(d) = dest.take() else { break };
                    match cap.map(|c| self.derive(slot, c)) {
                        Some(Ok(Some(c))) => self.insert_derived(slot, d, c),
                        _ => break,
                    }
                }
            }
            n += 1;
        }
        (n, unwrapped)
    }

    /// The receiver's receive slot (§4.2.2): the empty slot its IPC buffer
    /// names (a CNode cptr in its CSpace, then index and depth in it).
    fn receive_slot(&self, t: ObjId) -> Option<SlotId> {
        let [cnode, index, depth] = self.thread(t)?.receive;
        let (_, node) = self.lookup_in(t, cnode).ok()?;
        let slot = self
            .lookup_slot_for_cnode_op(false, &node?, index, depth)
            .ok()?;
        self.cap(slot).is_none().then_some(slot)
    }

    /// seL4's `setupReplyMaster`: `t`'s master reply cap, if it has none.
    pub fn setup_reply_master(&mut self, t: ObjId) {
        let slot = SlotId {
            obj: t,
            index: TCB_REPLY,
        };
        if self.thread(t).is_some() && self.cap(slot).is_none() {
            let cap = Cap::Reply {
                tcb: t,
                master: true,
                grant: true,
            };
            self.insert_original(slot, cap);
        }
    }

    /// seL4's `setupCallerCap`: `sender`'s Call was received by
    /// `receiver`: the sender waits for the reply, the receiver's caller
    /// slot holds a reply cap to it (with Grant `grant`), a child of the
    /// sender's master reply cap; an older one there is deleted.
    fn setup_caller_cap(&mut self, sender: ObjId, receiver: ObjId, grant: bool) {
        self.set_state(sender, ThreadState::BlockedOnReply);
        self.setup_reply_master(sender);
        let caller = SlotId {
            obj: receiver,
            index: TCB_CALLER,
        };
        self.delete(caller, true);
        let master = SlotId {
            obj: sender,
            index: TCB_REPLY,
        };
        let cap = Cap::Reply {
            tcb: sender,
            master: false,
            grant,
        };
        self.insert_derived(master, caller, cap);
    }

    /// seL4's `doReplyTransfer`: `t` replies through the reply cap in
    /// `slot` to `to`, with Grant `grant`; the reply cap is used up. A
    /// reply to a thread with a fault is the handler's verdict (§6.2):
    /// the thread restarts or stops, and its fault is forgotten.
    pub fn do_reply_transfer(&mut self, t: ObjId, to: ObjId, slot: SlotId, grant: bool) {
        if self.state_of(to) != ThreadState::BlockedOnReply {
            self.delete(slot, true);
            return;
        }
        match self.thread(to).and_then(|x| x.fault) {
            None => {
                self.do_ipc_transfer(t, None, 0, grant, to);
                self.delete(slot, true);
                self.set_state(to, ThreadState::Running);
                self.possible_switch_to(to);
            }
            Some(f) => {
                self.delete(slot, true);
                self.end_fault(to, t, f);
            }
        }
    }

    /// seL4's `sendSignal` (§5.1): the first waiter gets the badge; with
    /// none, a bound thread waiting in an endpoint Recv is taken out of
    /// it and gets the badge; else the badge is ORed into the word.
    pub fn signal(&mut self, n: ObjId, badge: u64) {
        let Some((waiting, pending, bound)) = self.ntfn(n) else {
            return;
        };
        if let Some(w) = pending {
            *w |= badge;
            return;
        }
        if !waiting.is_empty() {
            let t = waiting.remove(0);
            return self.wake(t, badge, n);
        }
        let bound = *bound;
        match bound {
            Some(t) if matches!(self.state_of(t), ThreadState::BlockedOnReceive { .. }) => {
                self.cancel_ipc(t);
                self.wake(t, badge, n);
            }
            _ => {
                if let Some((_, p, _)) = self.ntfn(n) {
                    *p = Some(badge);
                }
            }
        }
    }

    /// `t` woken by a signal of `n` (MCS: a passive `t` runs on the
    /// context bound to `n`).
    fn wake(&mut self, t: ObjId, badge: u64, n: ObjId) {
        self.set_state(t, ThreadState::Running);
        if let Some(x) = self.thread_mut(t) {
            x.badge = badge;
        }
        self.possible_switch_to(t);
        if crate::MCS {
            self.maybe_donate_sc(t, n);
        }
    }

    /// seL4's `receiveSignal` (§5.1, Wait and Poll): takes the pending
    /// word, else waits (or, polling, gets badge 0).
    pub fn receive_signal(&mut self, t: ObjId, n: ObjId, blocking: bool) {
        if self.ntfn(n).is_some_and(|(_, p, _)| p.is_some()) {
            return self.complete_signal(n, t);
        }
        match blocking {
            true => {
                self.set_state(t, ThreadState::BlockedOnNotification { ntfn: n });
                self.queue_waiter(n, t);
                if crate::MCS {
                    self.maybe_return_sc(n, t);
                }
            }
            false => self.thread_mut(t).map_or((), |x| x.badge = 0),
        }
    }

    /// seL4's `completeSignal` (and `receiveSignal` finding a signal
    /// pending): `t` takes the pending word as its badge; MCS: a passive
    /// `t` runs on the context bound to `n`, if no thread has it (seL4
    /// 16.0.0 donates there too, not only when a signal wakes a waiter).
    fn complete_signal(&mut self, n: ObjId, t: ObjId) {
        let Some(word) = self.ntfn(n).and_then(|(_, p, _)| p.take()) else {
            return;
        };
        if let Some(x) = self.thread_mut(t) {
            x.badge = word;
        }
        if crate::MCS {
            self.maybe_donate_sc(t, n);
        }
    }

    /// seL4's `cancelIPC`: `t` abandons what it waits for: it leaves the
    /// queue it is in (and stops), or, waiting for a reply, loses the
    /// reply cap to it.
    /// MCS: any fault is forgotten, a receiver lets go of its reply
    /// object, a caller leaves its call stack (`ipc_mcs`).
    pub fn cancel_ipc(&mut self, t: ObjId) {
        if crate::MCS {
            if let Some(x) = self.thread_mut(t) {
                x.fault = None;
            }
        }
        match self.state_of(t) {
            ThreadState::BlockedOnSend { ep, .. } | ThreadState::BlockedOnReceive { ep, .. } => {
                if let Some(q) = self.ep_queue(ep) {
                    q.retain(|&x| x != t);
                }
                if let Some(r) = self.reply_of(t).filter(|_| crate::MCS) {
                    self.reply_unlink(r, t);
                }
                self.set_state(t, ThreadState::Inactive);
            }
            ThreadState::BlockedOnNotification { ntfn } => {
                if let Some((w, _, _)) = self.ntfn(ntfn) {
                    w.retain(|&x| x != t);
                }
                self.set_state(t, ThreadState::Inactive);
            }
            // The fault it waited on a verdict for is forgotten (a thread
            // that was still sending one keeps it: seL4).
            ThreadState::BlockedOnReply if crate::MCS => self.reply_remove_tcb(t),
            ThreadState::BlockedOnReply => {
                if let Some(x) = self.thread_mut(t) {
                    x.fault = None;
                }
                let master = SlotId {
                    obj: t,
                    index: TCB_REPLY,
                };
                let child = self.entry(master).and_then(|e| e.children.first().copied());
                if let Some(c) = child {
                    if matches!(self.cap(c), Some(Cap::Reply { tcb, master: false, .. }) if tcb == t)
                    {
                        self.delete(c, true);
                    }
                }
            }
            _ => {}
        }
    }

    /// seL4's `suspend` (TCB_Suspend, deleting a thread): `t` stops; a
    /// running thread's pc moves past its system call (to NextIP), so that
    /// a Resume does not repeat it.
    pub fn suspend(&mut self, t: ObjId) {
        self.cancel_ipc(t);
        if let Some(x) = self.thread_mut(t) {
            if x.state == ThreadState::Running {
                x.context[PC] = x.next_ip;
            }
        }
        self.sched_dequeue(t);
        self.set_state(t, ThreadState::Inactive);
    }

    /// seL4's `restart` (TCB_Resume): a thread that is not runnable
    /// abandons what it waits for and runs its system call again.
    pub fn restart(&mut self, t: ObjId) {
        if !self.state_of(t).runnable() {
            self.cancel_ipc(t);
            // MCS: no master reply caps (reply objects instead).
            if !crate::MCS {
                self.setup_reply_master(t);
            }
            self.set_state(t, ThreadState::Restart);
            // Classic: queued at the head and woken (MCS: `ipc_mcs`).
            self.sched_enqueue(t);
            self.possible_switch_to(t);
        }
    }

    /// seL4's `cancelAllIPC`, `cancelAllSignals`: the endpoint's or
    /// notification's last cap is gone: every waiter runs its system call
    /// again (and will find the cap missing).
    pub fn cancel_all(&mut self, obj: ObjId) {
        let waiting = match self.objects.get_mut(&obj) {
            Some(Object::Endpoint { queue }) => std::mem::take(queue),
            Some(Object::Notification { waiting, .. }) => std::mem::take(waiting),
            _ => return,
        };
        let any = !waiting.is_empty();
        for t in waiting {
            match crate::MCS {
                true => self.restart_if_no_fault(t),
                false => {
                    self.set_state(t, ThreadState::Restart);
                    self.sched_enqueue(t);
                }
            }
        }
        if any {
            self.reschedule_required();
        }
    }

    /// seL4's `cancelBadgedSends` (§4.2.1): the threads waiting to send
    /// on `ep` with `badge` run their system calls again; the others keep
    /// their places.
    pub fn cancel_badged_sends(&mut self, ep: ObjId, badge: u64) {
        let Some(queue) = self.ep_queue(ep).map(std::mem::take) else {
            return;
        };
        // seL4 chooses afresh after looking at a queue of senders, even
        // if none had the badge.
        let senders = queue
            .first()
            .is_some_and(|&t| matches!(self.state_of(t), ThreadState::BlockedOnSend { .. }));
        let mut kept = Vec::new();
        for t in queue {
            match self.state_of(t) {
                ThreadState::BlockedOnSend { badge: b, .. } if b == badge => match crate::MCS {
                    true => self.restart_if_no_fault(t),
                    false => {
                        self.set_state(t, ThreadState::Restart);
                        self.sched_enqueue(t);
                    }
                },
                _ => kept.push(t),
            }
        }
        if let Some(q) = self.ep_queue(ep) {
            *q = kept;
        }
        if senders {
            self.reschedule_required();
        }
    }

    /// seL4's `bindNotification` (§5.3).
    pub fn bind(&mut self, t: ObjId, n: ObjId) {
        if let Some((_, _, b)) = self.ntfn(n) {
            *b = Some(t);
        }
        if let Some(x) = self.thread_mut(t) {
            x.bound = Some(n);
        }
    }

    /// seL4's `unbindNotification`: `t` loses its bound notification.
    pub fn unbind_notification(&mut self, t: ObjId) {
        if let Some(n) = self.thread_mut(t).and_then(|x| x.bound.take()) {
            if let Some((_, _, b)) = self.ntfn(n) {
                *b = None;
            }
        }
    }

    /// seL4's `unbindMaybeNotification`: `n` loses its bound TCB.
    pub fn unbind_maybe_notification(&mut self, n: ObjId) {
        if let Some(t) = self.ntfn(n).and_then(|(_, _, b)| b.take()) {
            if let Some(x) = self.thread_mut(t) {
                x.bound = None;
            }
        }
    }
}
