//! Thread control blocks (ch. 6 Threads and Execution; ABI ref §7.3, §10).
//!
//! A TCB object is `2^seL4_TCBBits` bytes. Its first five words-quads are
//! capability slots the kernel owns (as in seL4: CSpace root, VSpace root,
//! reply, caller, IPC buffer frame; under MCS CSpace root, VSpace root,
//! IPC buffer frame and the fault and timeout handlers' endpoint caps);
//! then the saved registers in the layout
//! of [`crate::arch::Registers`], whose address the trap code uses; then the
//! scheduling and IPC fields.
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | the layout and its accessors |
//! | `registers` | the `seL4_UserContext` view of the saved registers |
//! | `control` | what thread control decodes into, and the checks both decoders share |
//! | `decode` | checking TCB invocations in seL4's order ([`decode::TcbOp`]) |
//! | `mcs` | MCS: the forms that take handler caps and a SchedContext |
//! | `perform` | carrying them out |
//!
//! [`decode::decode`] and [`perform::perform`] are called by the syscall
//! layer (`api`) for thread caps.

pub mod control;
pub mod decode;
#[cfg(feature = "mcs")]
pub mod mcs;
pub mod perform;
pub mod registers;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_control;
#[cfg(test)]
#[cfg(feature = "mcs")]
mod tests_mcs;

use crate::arch::{FAULT_IP, INITIAL_STATUS, NEXT_IP, STATUS_REGISTER};
use crate::cap::cte::{Cte, SlotRef};
use crate::object::access::ObjPtr;
use crate::types::{Fault, PAddr, FAULT_WORDS};
use core::cell::Cell;

/// Index of the CSpace root slot in [`Tcb::ctes`].
pub const TCB_CTABLE: usize = 0;
/// Index of the VSpace root slot.
pub const TCB_VTABLE: usize = 1;
/// Index of the reply slot (classic: the master reply cap).
#[cfg(not(feature = "mcs"))]
pub const TCB_REPLY: usize = 2;
/// Index of the caller slot (classic: the one-shot reply cap).
#[cfg(not(feature = "mcs"))]
pub const TCB_CALLER: usize = 3;
/// Index of the IPC buffer frame slot (seL4's `tcbBuffer`: 4 classic, 2
/// under MCS, which has no reply slots).
pub const TCB_BUFFER: usize = if crate::config::KERNEL_MCS { 2 } else { 4 };
/// MCS: the fault handler's endpoint cap (seL4's `tcbFaultHandler`; a
/// null cap is "no handler"). MCS keeps the handler as a capability, not
/// a cptr looked up at fault time.
#[cfg(feature = "mcs")]
pub const TCB_FAULT_HANDLER: usize = 3;
/// MCS: the timeout handler's endpoint cap (`tcbTimeoutHandler`).
#[cfg(feature = "mcs")]
pub const TCB_TIMEOUT_HANDLER: usize = 4;
/// Number of kernel-owned slots (deletion empties them all, last first:
/// `cap::zombie`): seL4's five in either configuration (`tcb_cnode_index`:
/// classic CTable, VTable, Reply, Caller, Buffer; MCS CTable, VTable,
/// Buffer, FaultHandler, TimeoutHandler).
pub const TCB_CNODE_ENTRIES: usize = 5;

const REG_WORDS: usize = crate::arch::REGISTER_WORDS;
/// Length of a thread's debug name, including the terminating NUL.
pub const NAME_LEN: usize = 64;

/// A thread's state (seL4's `_thread_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ThreadState {
    /// Not runnable; made by retype and by Suspend.
    Inactive = 0,
    /// Runnable; resumes at NextIP.
    Running = 1,
    /// Runnable; re-executes the syscall at FaultIP.
    Restart = 2,
    /// Blocked receiving on an endpoint.
    BlockedOnReceive = 3,
    /// Blocked sending on an endpoint.
    BlockedOnSend = 4,
    /// Blocked waiting for a reply.
    BlockedOnReply = 5,
    /// Blocked waiting on a notification.
    BlockedOnNotification = 6,
}

impl ThreadState {
    fn from_word(w: u64) -> ThreadState {
        match w {
            1 => ThreadState::Running,
            2 => ThreadState::Restart,
            3 => ThreadState::BlockedOnReceive,
            4 => ThreadState::BlockedOnSend,
            5 => ThreadState::BlockedOnReply,
            6 => ThreadState::BlockedOnNotification,
            _ => ThreadState::Inactive,
        }
    }
    /// Whether the scheduler may run a thread in this state.
    pub const fn is_runnable(self) -> bool {
        matches!(self, ThreadState::Running | ThreadState::Restart)
    }
}

/// A thread control block.
#[repr(C)]
pub struct Tcb {
    /// Kernel-owned capability slots (`TCB_CTABLE` ...).
    pub ctes: [Cte; TCB_CNODE_ENTRIES],
    regs: [Cell<u64>; REG_WORDS],
    state: Cell<u64>,
    priority: Cell<u64>,
    mcp: Cell<u64>,
    domain: Cell<u64>,
    ipc_buffer: Cell<u64>,
    fault_handler: Cell<u64>,
    time_slice: Cell<u64>,
    flags: Cell<u64>,
    /// Ready-queue links (TCB physical addresses, 0 = none); under MCS
    /// also the release queue's (a thread is on one queue at most).
    sched_next: Cell<u64>,
    sched_prev: Cell<u64>,
    /// Which of those queues the thread is on: 0 none, 1 a ready queue,
    /// 2 the MCS release queue.
    in_ready_queue: Cell<u64>,
    /// Endpoint or notification queue links (TCB physical addresses).
    ep_next: Cell<u64>,
    ep_prev: Cell<u64>,
    /// The endpoint or notification a blocked thread waits on.
    blocking_object: Cell<u64>,
    /// The badge of a blocked send.
    blocking_badge: Cell<u64>,
    /// [`BlockingIpc`] flags of a blocked send or receive.
    blocking_flags: Cell<u64>,
    /// The notification bound to the thread (0 = none).
    bound_notification: Cell<u64>,
    /// MCS: the SchedContext bound to the thread (`tcbSchedContext`; 0 =
    /// none).
    #[cfg(feature = "mcs")]
    sched_context: Cell<u64>,
    /// MCS: the reply object of a thread blocked on Recv with one, or of
    /// a thread blocked waiting for its reply (seL4's `tsReplyObject`;
    /// 0 = none). Meaningful only in those two states.
    #[cfg(feature = "mcs")]
    reply_object: Cell<u64>,
    /// MCS: the SchedContext yielded to (`tcbYieldTo`; 0 = none).
    #[cfg(feature = "mcs")]
    yield_to: Cell<u64>,
    /// A preempted CNode_CancelBadgedSends of this thread: the queued
    /// thread it continues after (0 = none) and the badge
    /// (`ipc::cancel::cancel_badged_sends`).
    badged_cancel: [Cell<u64>; 2],
    /// The fault being delivered (seL4's `tcbFault` and
    /// `tcbLookupFailure`), as encoded by `Fault::to_words`;
    /// word 0 = 0 is "no fault".
    fault: [Cell<u64>; FAULT_WORDS],
    name: [Cell<u8>; NAME_LEN],
}

/// The bits of the blocking-flags word [`BlockingIpc`] uses; the rest,
/// always zero in a TCB address's low bits (TCBs are 1 KiB aligned), holds
/// the CancelBadgedSends mark.
const BLOCKING_FLAGS_MASK: u64 = (1 << 10) - 1;

/// How a blocked thread takes part in IPC (seL4's `blockingIPC*` fields).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockingIpc {
    /// The endpoint cap used had Grant.
    pub can_grant: bool,
    /// The endpoint cap used had GrantReply (sends only).
    pub can_grant_reply: bool,
    /// The send is a Call (it waits for a reply).
    pub is_call: bool,
}

impl BlockingIpc {
    fn to_word(self) -> u64 {
        self.can_grant as u64 | (self.can_grant_reply as u64) << 1 | (self.is_call as u64) << 2
    }
    fn from_word(w: u64) -> BlockingIpc {
        BlockingIpc {
            can_grant: w & 1 != 0,
            can_grant_reply: w & 2 != 0,
            is_call: w & 4 != 0,
        }
    }
}

/// Fields that are plain words, kept with no invariant: each has a getter
/// of its name and a setter.
macro_rules! word_fields {
    ($($(#[$doc:meta])* $get:ident, $set:ident;)*) => {
        impl Tcb {
            $(
                $(#[$doc])*
                pub fn $get(&self) -> u64 {
                    self.$get.get()
                }
                #[doc = concat!("Sets [`Tcb::", stringify!($get), "`].")]
                pub fn $set(&self, v: u64) {
                    self.$get.set(v)
                }
            )*
        }
    };
}

word_fields! {
    /// Priority (0..=255).
    priority, set_priority;
    /// Maximum controlled priority.
    mcp, set_mcp;
    /// Scheduling domain.
    domain, set_domain;
    /// IPC buffer virtual address (`tcbIPCBuffer`).
    ipc_buffer, set_ipc_buffer;
    /// Fault handler cptr (classic configuration).
    fault_handler, set_fault_handler;
    /// Remaining timeslice in ticks.
    time_slice, set_time_slice;
    /// TCB flags (`seL4_TCBFlag_*`).
    flags, set_flags;
    /// The bound notification's address (0: none).
    bound_notification, set_bound_notification;
}

#[cfg(feature = "mcs")]
impl Tcb {
    /// MCS: the bound SchedContext's address (`tcbSchedContext`).
    pub fn sched_context(&self) -> Option<PAddr> {
        let sc = self.sched_context.get();
        (sc != 0).then_some(PAddr(sc))
    }

    /// Sets [`Tcb::sched_context`]; `object::sched_context` keeps the
    /// link both ways.
    pub fn set_sched_context(&self, sc: Option<PAddr>) {
        self.sched_context.set(sc.map_or(0, |p| p.0));
    }

    /// MCS: the reply object of the receive or the Call the thread is
    /// blocked in (`tsReplyObject`); `ipc::call_stack` keeps the link
    /// both ways.
    pub fn reply_object(&self) -> Option<crate::object::reply::ReplyRef> {
        crate::object::reply::ReplyRef::at(self.reply_object.get())
    }

    /// Sets [`Tcb::reply_object`].
    pub fn set_reply_object(&self, r: Option<crate::object::reply::ReplyRef>) {
        self.reply_object.set(r.map_or(0, |r| r.paddr().0));
    }

    /// MCS: seL4's `validTimeoutHandler`: the timeout-handler slot holds
    /// an endpoint cap (checked by `mcs::valid_fault_handler` when it was
    /// installed; a null cap is "no handler"). The slot's type tag is read
    /// in place (`CapWords`), not the whole cap decoded: every reply and
    /// every exhausted budget asks.
    #[inline]
    pub fn has_timeout_handler(this: TcbRef) -> bool {
        Tcb::slot(this, TCB_TIMEOUT_HANDLER).get().words().tag() == cairn_abi::cap::tag::ENDPOINT
    }

    /// MCS: the SchedContext this thread yielded to with
    /// `SchedContext_YieldTo` and whose consumed time it has not been
    /// told yet (seL4's `tcbYieldTo`; its other side is the
    /// SchedContext's `scYieldFrom`: `object::sched_context` keeps both).
    pub fn yield_to(&self) -> Option<PAddr> {
        let sc = self.yield_to.get();
        (sc != 0).then_some(PAddr(sc))
    }

    /// Sets [`Tcb::yield_to`].
    pub fn set_yield_to(&self, sc: Option<PAddr>) {
        self.yield_to.set(sc.map_or(0, |p| p.0));
    }
}

/// A typed pointer to a TCB.
pub type TcbRef = ObjPtr<Tcb>;

/// The TCB at `pa` as a link field stores it (0: none).
#[inline]
pub fn tcb_at(pa: u64) -> Option<TcbRef> {
    (pa != 0).then(|| TcbRef::new(PAddr(pa)))
}

impl Tcb {
    /// Slot `i` of the TCB's own slots.
    pub fn slot(this: TcbRef, i: usize) -> SlotRef {
        SlotRef::new(PAddr(this.paddr().0 + (i as u64) * 32))
    }

    /// The saved registers as words (the FPU's are copied in and out by
    /// `arch::fpu_save`/`fpu_load`).
    #[inline]
    pub fn regs(&self) -> &[Cell<u64>; REG_WORDS] {
        &self.regs
    }

    /// Kernel pointer to the saved registers (for the trap code).
    #[inline]
    pub fn regs_kptr(&self) -> usize {
        self.regs.as_ptr() as usize
    }

    /// Saved register `r`: a word index into [`crate::arch::Registers`], named by its
    /// role (`arch::CAP_REGISTER`, `arch::FAULT_IP`, ...).
    #[inline]
    pub fn reg(&self, r: usize) -> u64 {
        self.regs.get(r).map_or(0, Cell::get)
    }
    /// Sets saved register `r` (word 0 is ignored: it stands for
    /// RISC-V's x0, which always reads 0).
    #[inline]
    pub fn set_reg(&self, r: usize, v: u64) {
        if r != 0 {
            if let Some(c) = self.regs.get(r) {
                c.set(v);
            }
        }
    }
    /// FaultIP: the instruction the thread trapped at.
    pub fn fault_ip(&self) -> u64 {
        self.reg(FAULT_IP)
    }
    /// NextIP: where the thread resumes.
    pub fn next_ip(&self) -> u64 {
        self.reg(NEXT_IP)
    }
    pub fn set_fault_ip(&self, v: u64) {
        self.set_reg(FAULT_IP, v)
    }
    pub fn set_next_ip(&self, v: u64) {
        self.set_reg(NEXT_IP, v)
    }
    /// Sets both FaultIP and NextIP (writing the pc, ABI ref §10).
    pub fn set_pc(&self, v: u64) {
        self.set_fault_ip(v);
        self.set_next_ip(v);
    }
    /// Gives a thread whose registers are all zero the status word every
    /// new thread starts with (seL4's `Arch_initContext`).
    pub fn init_context(&self) {
        self.set_reg(STATUS_REGISTER, INITIAL_STATUS)
    }

    pub fn state(&self) -> ThreadState {
        ThreadState::from_word(self.state.get())
    }
    pub fn set_state(&self, s: ThreadState) {
        self.state.set(s as u64)
    }

    pub fn sched_next(&self) -> u64 {
        self.sched_next.get()
    }
    pub fn sched_prev(&self) -> u64 {
        self.sched_prev.get()
    }
    pub fn set_sched_links(&self, prev: u64, next: u64) {
        self.sched_prev.set(prev);
        self.sched_next.set(next);
    }
    /// Whether the thread is in a ready queue (MCS: or deferred there,
    /// `state::ready_queues`, which counts as queued).
    pub fn in_ready_queue(&self) -> bool {
        // Classic: only 0 or 1 (the same test as before MCS, instruction
        // for instruction). MCS: 1 queued, 3 deferred, 2 release queue.
        if crate::config::KERNEL_MCS {
            self.in_ready_queue.get() & 1 != 0
        } else {
            self.in_ready_queue.get() != 0
        }
    }
    /// MCS: whether the thread is the ready queues' deferred one
    /// (`state::ready_queues`: at the head of its queue, not linked).
    #[cfg(feature = "mcs")]
    #[inline]
    pub fn is_deferred(&self) -> bool {
        self.in_ready_queue.get() == 3
    }
    /// MCS: marks the thread deferred (`state::ready_queues`).
    #[cfg(feature = "mcs")]
    #[inline]
    pub fn set_deferred(&self) {
        self.in_ready_queue.set(3)
    }
    /// MCS: whether the thread waits on the release queue
    /// (`tcbInReleaseQueue`; `sched::mcs` keeps it).
    #[cfg(feature = "mcs")]
    pub fn in_release_queue(&self) -> bool {
        self.in_ready_queue.get() == 2
    }
    /// MCS: whether the thread is on the ready or the release queue (one
    /// read of the word that says which).
    #[cfg(feature = "mcs")]
    #[inline]
    pub fn in_sched_queue(&self) -> bool {
        self.in_ready_queue.get() != 0
    }
    #[cfg(feature = "mcs")]
    pub fn set_in_release_queue(&self, v: bool) {
        self.in_ready_queue.set(if v { 2 } else { 0 })
    }
    pub fn set_in_ready_queue(&self, v: bool) {
        self.in_ready_queue.set(v as u64)
    }

    pub fn ep_next(&self) -> u64 {
        self.ep_next.get()
    }
    pub fn ep_prev(&self) -> u64 {
        self.ep_prev.get()
    }
    pub fn set_ep_links(&self, prev: u64, next: u64) {
        self.ep_prev.set(prev);
        self.ep_next.set(next);
    }
    /// The endpoint or notification the thread is blocked on.
    pub fn blocking_object(&self) -> u64 {
        self.blocking_object.get()
    }
    /// The badge of the blocked send.
    pub fn blocking_badge(&self) -> u64 {
        self.blocking_badge.get()
    }
    /// The blocked IPC's flags.
    pub fn blocking_ipc(&self) -> BlockingIpc {
        BlockingIpc::from_word(self.blocking_flags.get() & BLOCKING_FLAGS_MASK)
    }
    /// The TCB address whose preempted CancelBadgedSends walk has this
    /// blocked sender as its cursor (0: none). Kept above the flags in the
    /// blocking-flags word. The link is kept both ways
    /// (`ipc::cancel::cancel_badged_sends`): a mark names a live walker
    /// whose cursor names this thread, and the mark goes when the thread
    /// leaves its queue ([`Tcb::release_badged_cancel_mark`]).
    pub fn badged_cancel_mark(&self) -> u64 {
        self.blocking_flags.get() & !BLOCKING_FLAGS_MASK
    }
    /// Marks this blocked sender as passed by the CancelBadgedSends walk of
    /// the thread at `walker` (a TCB address, so its low bits are free).
    pub fn set_badged_cancel_mark(&self, walker: u64) {
        let flags = self.blocking_flags.get() & BLOCKING_FLAGS_MASK;
        self.blocking_flags
            .set(flags | (walker & !BLOCKING_FLAGS_MASK));
    }
    /// The thread leaves its send queue, or moves in it: if a preempted
    /// CancelBadgedSends walk has it as its cursor, that walk's cursor is
    /// cleared (the walk starts again from the head) and so is the mark.
    /// The walker is live: a walker's deletion clears its cursor's mark.
    pub fn release_badged_cancel_mark(&self) {
        let walker = self.badged_cancel_mark();
        if let Some(w) = tcb_at(walker) {
            w.get().set_badged_cancel_cursor(0, 0);
            self.set_badged_cancel_mark(0);
        }
    }
    /// This thread's preempted CancelBadgedSends: (cursor thread, badge).
    pub fn badged_cancel_cursor(&self) -> (u64, u64) {
        (self.badged_cancel[0].get(), self.badged_cancel[1].get())
    }
    /// Records (or clears, with 0) this thread's CancelBadgedSends cursor.
    pub fn set_badged_cancel_cursor(&self, cursor: u64, badge: u64) {
        self.badged_cancel[0].set(cursor);
        self.badged_cancel[1].set(badge);
    }
    /// Records what the thread blocks on (object, badge, flags).
    pub fn set_blocking(&self, object: u64, badge: u64, ipc: BlockingIpc) {
        self.blocking_object.set(object);
        self.blocking_badge.set(badge);
        self.blocking_flags.set(ipc.to_word());
    }
    /// The fault the thread is being handled for, if any (seL4's
    /// `tcbFault`).
    pub fn fault(&self) -> Option<Fault> {
        Fault::from_words(self.fault.each_ref().map(Cell::get))
    }
    /// The stored fault's words, undecoded ([`Fault::to_words`]'s layout;
    /// all 0 for none): the fault message is read from them in place.
    pub fn fault_words(&self) -> [u64; FAULT_WORDS] {
        self.fault.each_ref().map(Cell::get)
    }
    /// Whether a fault is stored (one word read: the fastpath's check).
    pub fn has_fault(&self) -> bool {
        self.fault[0].get() != 0
    }
    /// Records or clears (`None`) the thread's fault.
    pub fn set_fault(&self, f: Option<Fault>) {
        let w = f.map_or([0; FAULT_WORDS], |f| f.to_words());
        for (c, v) in self.fault.iter().zip(w) {
            c.set(v);
        }
    }

    /// Sets the debug name (truncated, NUL terminated).
    pub fn set_name(&self, name: &[u8]) {
        let bytes = name.iter().copied().take(NAME_LEN - 1);
        for (c, b) in self.name.iter().zip(bytes.chain(core::iter::repeat(0))) {
            c.set(b);
        }
    }
    /// Copies the debug name into `out`, returning its length.
    pub fn name(&self, out: &mut [u8; NAME_LEN]) -> usize {
        let mut len = 0;
        for (o, c) in out.iter_mut().zip(self.name.iter()) {
            *o = c.get();
            if *o != 0 {
                len += 1;
            } else {
                break;
            }
        }
        len
    }
}
