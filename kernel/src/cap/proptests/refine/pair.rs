//! The kernel and the specification side by side (`Pair`): the booted
//! world with its setup threads, and who runs (the scheduler's choice,
//! the test's).

use super::super::abstraction::abstract_state;
use super::super::world::World;
use super::super::Loc;
#[cfg(feature = "mcs")]
use super::{ipc_mcs, time};
use super::{Target, WIN};
use crate::object::tcb::TcbRef;
use cairn_abi::cap::init;
use cairn_spec::State;

/// The kernel and the specification side by side.
pub(super) struct Pair {
    pub(super) w: World,
    pub(super) spec: State,
    pub(super) root_tcb: u64,
    /// Root slots of the setup threads' caps.
    pub(super) thread_caps: Vec<u64>,
    /// The spec met something it does not specify after changing its
    /// state: the rest of the sequence is not compared.
    pub(super) abandoned: bool,
    /// Each thread's *home*: the virtual address of the IPC buffer it
    /// started with, a quarter of the root thread's buffer frame (where
    /// the thread control steps put buffers mostly).
    pub(super) homes: Vec<(u64, u64)>,
}

/// Makes window slot `i` (an endpoint at first) `t`'s fault handler, or
/// none: classic keeps the cptr, MCS a copy of the cap in the TCB's
/// fault-handler slot.
pub(super) fn set_fault_handler(w: &World, t: TcbRef, i: Option<u64>) {
    #[cfg(not(feature = "mcs"))]
    t.get().set_fault_handler(i.map_or(0, |i| w.win + i));
    #[cfg(feature = "mcs")]
    if let Some(i) = i {
        use crate::object::tcb::{Tcb, TCB_FAULT_HANDLER};
        let src = w.k.slot(w.win + i);
        crate::cap::derive::cte_insert(src.get().cap(), src, Tcb::slot(t, TCB_FAULT_HANDLER));
    }
}

/// The priorities of the threads the random runs add to the root thread
/// (255).
pub(super) const THREADS: [u64; 3] = [100, 200, 255];
/// Their fault handlers: the window slot (an endpoint at first, until the
/// steps change it) or none. The root thread's is window slot 1.
pub(super) const HANDLERS: [Option<u64>; 3] = [Some(0), Some(1), None];

impl Pair {
    /// The booted system alone (the root thread).
    pub(super) fn new() -> Pair {
        let mut w = World::new();
        w.snapshots = false;
        let spec = Self::spec_of(&w);
        let root_tcb = w.k.tcb.paddr().0;
        let homes = Self::homes(&w, &[]);
        Pair {
            w,
            spec,
            root_tcb,
            thread_caps: Vec::new(),
            abandoned: false,
            homes,
        }
    }

    /// The booted system with two endpoints and a notification in window
    /// slots 0..3 (from the first pool, so that revoking it destroys them
    /// under their waiters) and three more threads (`THREADS`) sharing
    /// the root thread's CSpace and VSpace, each with its own IPC buffer
    /// (a quarter of the root thread's buffer frame), ready to run.
    pub(super) fn with_threads() -> Pair {
        use cairn_abi::object::ObjectType as T;
        let mut w = World::new();
        w.snapshots = false;
        let pool = w.cptr(Loc::Boot(0));
        let ok = crate::testutil::ok();
        assert_eq!(w.k.retype(pool, T::Endpoint as u64, 0, w.win, 2), ok);
        assert_eq!(
            w.k.retype(pool, T::Notification as u64, 0, w.win + 2, 1),
            ok
        );
        let buffer = w.k.tcb.get().ipc_buffer();
        let quarters = (0..4u64)
            .map(|i| (buffer & !0xFFF) | i << 10)
            .filter(|&b| b != buffer);
        let slots = w.k.make(T::Tcb, 0, THREADS.len() as u64);
        for (((&slot, prio), buf), fh) in slots.iter().zip(THREADS).zip(quarters).zip(HANDLERS) {
            let t = w.k.thread_in(slot, prio);
            t.get().set_ipc_buffer(buf);
            set_fault_handler(&w, t, fh);
            crate::sched::enqueue(t);
            w.protect(slot);
        }
        set_fault_handler(&w, w.k.tcb, Some(1));
        // MCS: reply objects in the window, and a passive server.
        #[cfg(feature = "mcs")]
        {
            ipc_mcs::setup(&mut w, &slots);
            time::setup(&w, &slots);
        }
        // A fault handler cptr 0 names the empty slot 0: no handler.
        w.protect(0);
        w.check();
        let spec = Self::spec_of(&w);
        let root_tcb = w.k.tcb.paddr().0;
        let homes = Self::homes(&w, &slots);
        Pair {
            w,
            spec,
            root_tcb,
            thread_caps: slots,
            abandoned: false,
            homes,
        }
    }

    /// The spec's state to start from: the kernel's, with the contents of
    /// its frames.
    pub(super) fn spec_of(w: &World) -> cairn_spec::State {
        let mut spec = abstract_state(w);
        spec.memory = super::super::abstraction::abs_memory(&spec);
        spec
    }

    /// The root thread's and the threads' (caps in root slots `threads`)
    /// buffer addresses.
    pub(super) fn homes(w: &World, threads: &[u64]) -> Vec<(u64, u64)> {
        let tcbs = threads.iter().filter_map(|&s| match w.k.cap(s) {
            crate::cap::Cap::Thread { tcb } => Some(TcbRef::new(tcb)),
            _ => None,
        });
        core::iter::once(w.k.tcb)
            .chain(tcbs)
            .map(|t| (t.paddr().0, t.get().ipc_buffer()))
            .collect()
    }

    /// Whether `t`'s CSpace root is the root thread's (the generator's
    /// CNode steps address slots through it, and keep off the boot caps
    /// by those addresses).
    pub(super) fn shares_cspace(&self, t: u64) -> bool {
        let root = |o| {
            self.spec.cap(cairn_spec::SlotId {
                obj: o,
                index: cairn_spec::state::TCB_CTABLE,
            })
        };
        root(t) == root(self.root_tcb)
    }

    /// The cptr `x` names now.
    pub(super) fn target(&self, x: Target) -> u64 {
        let k = &self.w.k;
        let win = self.w.win;
        let pick = |v: Vec<u64>, i: u8| {
            v.get(i as usize % v.len().max(1))
                .copied()
                .unwrap_or(win + i as u64 % WIN)
        };
        let window = |f: &dyn Fn(&crate::cap::Cap) -> bool| -> Vec<u64> {
            (win..win + WIN).filter(|&j| f(&k.cap(j))).collect()
        };
        use crate::cap::Cap as C;
        match x {
            Target::Ep(i) => pick(window(&|c| matches!(c, C::Endpoint { .. })), i),
            Target::Ntfn(i) => pick(window(&|c| matches!(c, C::Notification { .. })), i),
            // (MCS: reply objects' caps.)
            Target::Reply(i) => pick(
                window(&|c| matches!(c, C::Reply { .. } | C::ReplyObject { .. })),
                i,
            ),
            Target::Irq(i) => pick(window(&|c| matches!(c, C::IrqHandler { .. })), i),
            Target::Sc(i) => pick(window(&|c| matches!(c, C::SchedContext { .. })), i),
            Target::Tcb(i) => {
                let mut v = vec![init::TCB];
                v.extend(&self.thread_caps);
                v.extend(window(&|c| matches!(c, C::Thread { .. })));
                pick(v, i)
            }
            Target::Win(i) => win + i as u64 % WIN,
            Target::Frame(i) => {
                let mut v = window(&|c| {
                    matches!(
                        c,
                        C::Frame {
                            is_device: false,
                            ..
                        }
                    )
                });
                v.extend([init::IPC_BUFFER, 18]);
                pick(v, i)
            }
            Target::Boot(b) => self.w.cptr(Loc::Boot(b)),
            Target::Raw(c) => c,
        }
    }

    /// Who makes the step: classic, for `sel` ≥ 128 (half the steps),
    /// the thread the kernel's scheduler chose after the last step (the
    /// same as the spec's: compared then), if it is not idle; else the
    /// test's choice: the `sel`-th runnable thread of the spec (modulo
    /// their number) that may run (MCS: always the test's;
    /// [`Self::may_run`]).
    pub(super) fn runner(&self, sel: u8) -> Option<u64> {
        #[cfg(not(feature = "mcs"))]
        {
            let current = crate::state::kernel().current_tcb();
            if let Some(c) = current.filter(|_| sel >= 128) {
                super::tally(|x| x.chosen[0] += 1);
                return Some(c.paddr().0);
            }
        }
        let ready: Vec<u64> = self
            .spec
            .objects
            .iter()
            .filter_map(|(&o, ob)| match ob {
                cairn_spec::Object::Tcb { thread, .. } if thread.state.runnable() => Some(o),
                _ => None,
            })
            .filter(|&o| self.may_run(o, true))
            .collect();
        ready.get(sel as usize % ready.len().max(1)).copied()
    }

    /// Classic: every runnable thread may run.
    #[cfg(not(feature = "mcs"))]
    pub(super) fn may_run(&self, _t: u64, _now: bool) -> bool {
        true
    }

    /// MCS: whether `t` may be chosen to run (`now`), or to be resumed
    /// when no thread can run (not `now`): it has a configured
    /// SchedContext (`now`: one the kernel schedules it on, seL4's
    /// `isSchedulable`, its head refill ready: a Yield gives it up until
    /// its period passes, and the test's clock stands still).
    #[cfg(feature = "mcs")]
    pub(super) fn may_run(&self, t: u64, now: bool) -> bool {
        use crate::sched::mcs;
        let tcb = TcbRef::new(crate::types::PAddr(t));
        match now {
            true => mcs::is_schedulable_by_state(tcb) && mcs::is_schedulable(tcb),
            false => mcs::sc_of(tcb).is_some_and(|sc| sc.is_configured()),
        }
    }

    /// Makes `t` the running thread, as the scheduler would (the one
    /// running before, if runnable, back to the head of its queue), and
    /// runs it (seL4's `activateThread`: Restart becomes Running).
    pub(super) fn run_as(&self, t: TcbRef) {
        self.switch_to(t);
        crate::sched::activate_thread(t);
    }

    /// Classic: the test's choice of `t` as the running thread, made on
    /// both before the spec decides whether it covers the step (the
    /// spec's `State::run_as`; a step skipped leaves `t` running on both,
    /// not activated); the scheduler's queues and current thread are
    /// compared after every step. MCS: nothing (the spec has no
    /// scheduler yet; [`Self::run_as`] switches the kernel alone).
    pub(super) fn test_switch(&mut self, t: u64) {
        #[cfg(not(feature = "mcs"))]
        {
            self.spec.run_as(t);
            self.switch_to(TcbRef::new(crate::types::PAddr(t)));
        }
        #[cfg(feature = "mcs")]
        let _ = t;
    }

    /// [`Self::run_as`] without the activation.
    pub(super) fn switch_to(&self, t: TcbRef) {
        let k = crate::state::kernel();
        crate::sched::dequeue(t);
        if k.current_tcb() != Some(t) {
            if let Some(c) = k.current_tcb().filter(|c| c.get().state().is_runnable()) {
                crate::sched::enqueue(c);
            }
            k.set_current(Some(t));
            // MCS: its SchedContext the running one.
            #[cfg(feature = "mcs")]
            crate::sched::mcs::switch_sched_context();
            crate::object::vspace::activate_thread_vspace(t);
        }
    }
}
