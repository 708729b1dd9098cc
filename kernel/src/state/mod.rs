//! The kernel's global state (seL4's `ks*` variables): one struct behind
//! one accessor, [`kernel`]. This is the layer just above the object
//! layouts: it is made of TCB references, the ready queues and the domain
//! schedule ([`ready_queues`], [`domain_schedule`]), and imports nothing
//! else of the kernel. Everything above it (scheduler, IPC, objects, the
//! fastpath) reads and changes the state through the methods here.
//!
//! The fields are private. Each method keeps one invariant:
//!
//! * the current domain is always the domain of the schedule entry in
//!   force ([`KernelState::next_domain`] changes both together);
//! * an ASID-table entry and the IRQ node are addresses or "none", never a
//!   half-written value; indices out of range read as "none" and are
//!   ignored on write;
//! * the ready queues and the domain schedule keep their own shapes (see
//!   their modules);
//! * the FPU owner is a live TCB or none (`crate::fpu` releases it
//!   before a TCB is deleted).
//!
//! The kernel is single-core and runs with interrupts disabled, so there is
//! exactly one flow of control inside it; state lives in `Cell`s so that it
//! can be read and changed through shared references. On the host each test
//! thread has its own state ([`reset`] starts afresh).

pub mod domain_schedule;
#[cfg(feature = "mcs")]
pub mod mcs;
pub mod ready_queues;

use crate::object::tcb::{tcb_at, Tcb, TcbRef};
use crate::types::{PAddr, VSpaceWord};
use core::cell::Cell;
use domain_schedule::DomainSchedule;
use ready_queues::ReadyQueues;

/// Number of ASID pools (`2^seL4_NumASIDPoolsBits`).
pub const NUM_ASID_POOLS: usize = 1 << cairn_abi::object::NUM_ASID_POOLS_BITS;

/// `maxIRQ` on qemu-riscv-virt (non-SMP): the highest IRQ number, which
/// is the kernel timer's.
pub const MAX_IRQ: u16 = 96;
/// The kernel's timer interrupt number.
pub const KERNEL_TIMER_IRQ: u16 = 96;
/// Slots of the IRQ node (a power of two above `MAX_IRQ`; 4 KiB).
pub const IRQ_SLOTS: usize = 128;

/// What the scheduler does at kernel exit (seL4's `ksSchedulerAction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Keep running the current thread.
    ResumeCurrent,
    /// Choose the best queued thread.
    ChooseNew,
    /// Switch to this thread if nothing better is queued.
    SwitchTo(TcbRef),
}

impl Action {
    fn to_word(self) -> u64 {
        match self {
            Action::ResumeCurrent => 0,
            Action::ChooseNew => 1,
            Action::SwitchTo(t) => t.paddr().0,
        }
    }
    fn from_word(w: u64) -> Action {
        match w {
            0 => Action::ResumeCurrent,
            1 => Action::ChooseNew,
            pa => Action::SwitchTo(TcbRef::new(PAddr(pa))),
        }
    }
}

/// The state of an IRQ line (seL4's `irq_state_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqState {
    /// No handler cap: masked.
    Inactive,
    /// A handler cap exists: interrupts signal its notification.
    Signal,
    /// The kernel's own timer.
    Timer,
}

fn paddr_at(pa: u64) -> Option<PAddr> {
    (pa != 0).then_some(PAddr(pa))
}

/// Everything the kernel keeps outside kernel objects.
///
/// `repr(C)`, the fields the fastpath reads first: their offsets fit a
/// load's 12-bit immediate, so each is one instruction from the state's
/// address (in the compiler's order they came after the ready queues, at
/// 5 KiB, and each cost two more). MCS: the time bookkeeping, which every
/// kernel entry reads and writes, comes next, for the same reason
/// (docs/benchmarks.md, "The MCS entry"). The large arrays come last (the
/// ready queues, whose bitmap is at their start, then the ASID table): the
/// rest, the bitmap and the queues' start are then within 2 KiB of the
/// kernel's gp (kernel.ld), each one load from it (docs/benchmarks.md,
/// "gp-relative addressing").
#[derive(Debug)]
#[repr(C)]
pub struct KernelState {
    /// The running thread's TCB (physical address; 0 = the idle thread).
    current: Cell<u64>,
    cur_domain: Cell<u64>,
    /// The address spaces last installed ([`VSpaceWord`]s): `[0]` the one
    /// in the MMU, `[1]` the one installed before it (0: none; recorded
    /// only if the MMU tags TLB entries with ASIDs, so that switching back
    /// to it needs no flush). Each is the kernel's own table or a root
    /// still registered for its ASID: deleting an ASID or a pool forgets
    /// both ([`KernelState::forget_active_vspace`]), so a thread whose
    /// VTable cap names either needs no ASID lookup to be switched to.
    vspaces: [Cell<u64>; 2],
    /// The scheduler's pending action ([`Action`], encoded).
    action: Cell<u64>,
    /// The thread whose FP state is in the FPU registers (physical
    /// address; 0 = none; seL4's `ksActiveFPUState`).
    fpu_owner: Cell<u64>,
    /// MCS: time, the running SchedContext and the release queue.
    #[cfg(feature = "mcs")]
    mcs: mcs::McsState,
    domains: DomainSchedule,
    ticks: Cell<u64>,
    /// The IRQ node: one kernel-owned capability slot per IRQ, holding the
    /// notification cap it signals (physical address; seL4's
    /// `intStateIRQNode`). Allocated at boot with the root task's objects.
    irq_node: Cell<u64>,
    /// Each IRQ's state (the timer's entry is unused: its state is fixed).
    irq_state: [Cell<IrqState>; IRQ_SLOTS],
    /// Work done since the last preemption check (`preempt`).
    work_units: Cell<u64>,
    /// Number of times an operation was preempted (for tests and benchmarks).
    preemptions: Cell<u64>,
    /// Benchmark measurements (`bench`): timer interrupts handled, their
    /// maximum and summed latency, and the preemption count when the
    /// measurement started.
    bench: Cell<(u64, u64, u64, u64)>,
    /// The longest stretch a preemptible operation ran without polling for
    /// interrupts (`preempt`): the cycle count at its last poll (or start)
    /// and the maximum since the measurement started.
    stretch: Cell<(u64, u64)>,
    ready: ReadyQueues,
    /// ASID pools by pool number (physical address; 0 = none).
    asid_table: [Cell<u64>; NUM_ASID_POOLS],
}

impl KernelState {
    const fn new() -> KernelState {
        KernelState {
            current: Cell::new(0),
            action: Cell::new(0),
            ready: ReadyQueues::new(),
            cur_domain: Cell::new(0),
            domains: DomainSchedule::new(),
            ticks: Cell::new(0),
            asid_table: [const { Cell::new(0) }; NUM_ASID_POOLS],
            vspaces: [Cell::new(0), Cell::new(0)],
            fpu_owner: Cell::new(0),
            irq_node: Cell::new(0),
            irq_state: [const { Cell::new(IrqState::Inactive) }; IRQ_SLOTS],
            work_units: Cell::new(0),
            preemptions: Cell::new(0),
            bench: Cell::new((0, 0, 0, 0)),
            stretch: Cell::new((0, 0)),
            #[cfg(feature = "mcs")]
            mcs: mcs::McsState::new(),
        }
    }

    /// Makes this state a copy of `o`, field by field (host only: the
    /// state is Cells, so it is overwritten in place through the shared
    /// reference every caller holds). The destructuring names every field,
    /// so that a field added later cannot be forgotten here.
    #[cfg(not(target_os = "none"))]
    fn copy_from(&self, o: &KernelState) {
        let KernelState {
            current,
            action,
            ready,
            cur_domain,
            domains,
            ticks,
            asid_table,
            vspaces,
            fpu_owner,
            irq_node,
            irq_state,
            work_units,
            preemptions,
            bench,
            stretch,
            #[cfg(feature = "mcs")]
            mcs,
        } = self;
        let words = [
            (current, &o.current),
            (action, &o.action),
            (cur_domain, &o.cur_domain),
            (ticks, &o.ticks),
            (fpu_owner, &o.fpu_owner),
            (irq_node, &o.irq_node),
            (work_units, &o.work_units),
            (preemptions, &o.preemptions),
        ];
        for (a, b) in words
            .into_iter()
            .chain(asid_table.iter().zip(&o.asid_table))
        {
            a.set(b.get());
        }
        for (a, b) in irq_state.iter().zip(&o.irq_state) {
            a.set(b.get());
        }
        ready.copy_from(&o.ready);
        domains.copy_from(&o.domains);
        for (a, b) in vspaces.iter().zip(&o.vspaces) {
            a.set(b.get());
        }
        bench.set(o.bench.get());
        stretch.set(o.stretch.get());
        #[cfg(feature = "mcs")]
        mcs.copy_from(&o.mcs);
    }

    // ---- The running thread (seL4's `ksCurThread`) -------------------

    /// The running thread, if any (none while idle).
    #[inline]
    pub fn current_tcb(&self) -> Option<TcbRef> {
        tcb_at(self.current.get())
    }

    #[inline]
    pub fn current(&self) -> Option<&'static Tcb> {
        self.current_tcb().map(|t| t.get())
    }

    #[inline]
    pub fn is_current(&self, t: TcbRef) -> bool {
        self.current.get() == t.paddr().0
    }

    /// Makes `t` the running thread (`None`: idle). The scheduler and the
    /// fastpath call it on a thread they have just taken out of a ready
    /// queue or an endpoint: the running thread is never queued.
    #[inline]
    pub fn set_current(&self, t: Option<TcbRef>) {
        debug_assert!(t.is_none_or(|t| !t.get().in_ready_queue()));
        self.current.set(t.map_or(0, |t| t.paddr().0));
    }

    // ---- Scheduling ------------------------------------------------------

    #[inline]
    pub fn action(&self) -> Action {
        Action::from_word(self.action.get())
    }

    /// Records the scheduler action to carry out at kernel exit.
    #[inline]
    pub fn set_action(&self, a: Action) {
        self.action.set(a.to_word());
    }

    #[inline]
    pub fn ready(&self) -> &ReadyQueues {
        &self.ready
    }

    /// The current domain (seL4's `ksCurDomain`).
    #[inline]
    pub fn cur_domain(&self) -> u64 {
        self.cur_domain.get()
    }

    #[inline]
    pub fn domains(&self) -> &DomainSchedule {
        &self.domains
    }

    /// seL4's `nextDomain`: the next entry of the domain schedule takes
    /// effect, its domain becomes current with its full time, and the work
    /// count of preemption points starts afresh.
    pub fn next_domain(&self) {
        self.cur_domain.set(self.domains.advance());
        self.work_units.set(0);
    }

    /// Timer ticks since boot.
    pub fn ticks(&self) -> u64 {
        self.ticks.get()
    }

    #[inline]
    pub fn count_tick(&self) {
        self.ticks.set(self.ticks.get().wrapping_add(1));
    }

    /// MCS: the scheduler's time bookkeeping and release queue.
    #[cfg(feature = "mcs")]
    #[inline]
    pub fn mcs(&self) -> &mcs::McsState {
        &self.mcs
    }

    // ---- Address spaces --------------------------------------------------

    /// The ASID pool registered as pool `index`, if any.
    #[inline]
    pub fn asid_pool(&self, index: usize) -> Option<PAddr> {
        paddr_at(self.asid_table.get(index)?.get())
    }

    /// Registers `pool` as pool `index` (`None` removes it).
    pub fn set_asid_pool(&self, index: usize, pool: Option<PAddr>) {
        if let Some(c) = self.asid_table.get(index) {
            c.set(pool.map_or(0, |p| p.0));
        }
    }

    /// The first pool number with no pool registered.
    pub fn free_asid_pool_index(&self) -> Option<usize> {
        self.asid_table.iter().position(|p| p.get() == 0)
    }

    /// The address space last installed in the MMU (root, ASID); (0, 0)
    /// after [`KernelState::forget_active_vspace`].
    #[inline]
    pub fn active_vspace(&self) -> (PAddr, u16) {
        let w = self.active_vspace_word();
        (w.root(), w.asid())
    }

    /// The address space last installed in the MMU, as its word.
    #[inline]
    pub fn active_vspace_word(&self) -> VSpaceWord {
        VSpaceWord(self.vspaces[0].get())
    }

    /// Whether `w` is the address space installed in the MMU or the one
    /// installed before it: either is the kernel's own table or a root
    /// still registered for its ASID.
    #[inline]
    pub fn is_recent_vspace(&self, w: VSpaceWord) -> bool {
        w.0 == self.vspaces[0].get() || w.0 == self.vspaces[1].get()
    }

    /// The address space installed before the active one (0 if none, or
    /// if ASIDs are not tagged).
    #[inline]
    pub fn previous_vspace_word(&self) -> VSpaceWord {
        VSpaceWord(self.vspaces[1].get())
    }

    /// Records `w` as just installed in the MMU (the caller checked it is
    /// the kernel's table or registered for its ASID); with tagged ASIDs
    /// the one it replaces becomes the previous one.
    #[inline]
    pub fn set_active_vspace(&self, w: VSpaceWord) {
        if crate::arch::asids_tagged() {
            self.vspaces[1].set(self.vspaces[0].get());
        }
        self.vspaces[0].set(w.0);
    }

    /// Exchanges the active address space (`active`, as just read) and the
    /// previous one, which is `w` (the fastpath's switch back).
    #[inline]
    pub fn swap_active_vspace(&self, active: VSpaceWord, w: VSpaceWord) {
        debug_assert_eq!(self.vspaces, [Cell::new(active.0), Cell::new(w.0)]);
        self.vspaces[0].set(w.0);
        self.vspaces[1].set(active.0);
    }

    /// Forgets which address spaces were installed (an ASID or a pool is
    /// gone), so that the next activation looks its ASID up and installs
    /// whatever it finds.
    pub fn forget_active_vspace(&self) {
        self.vspaces[0].set(0);
        self.vspaces[1].set(0);
    }

    // ---- The FPU ---------------------------------------------------------

    /// The thread whose FP state the FPU registers hold, if any.
    #[inline]
    pub fn fpu_owner(&self) -> Option<TcbRef> {
        tcb_at(self.fpu_owner.get())
    }

    /// Records the FPU's new owner (`crate::fpu` moves the registers).
    pub fn set_fpu_owner(&self, t: Option<TcbRef>) {
        self.fpu_owner.set(t.map_or(0, |t| t.paddr().0));
    }

    // ---- Interrupts -----------------------------------------------------

    /// The IRQ node's address, once boot has made it.
    pub fn irq_node(&self) -> Option<PAddr> {
        paddr_at(self.irq_node.get())
    }

    pub fn set_irq_node(&self, node: PAddr) {
        self.irq_node.set(node.0);
    }

    /// The state of `irq` (the timer's is fixed).
    pub fn irq_state(&self, irq: u16) -> IrqState {
        if irq == KERNEL_TIMER_IRQ {
            return IrqState::Timer;
        }
        self.irq_state
            .get(irq as usize)
            .map_or(IrqState::Inactive, Cell::get)
    }

    /// Records the state of `irq` (the line's mask is the caller's).
    pub fn set_irq_state(&self, irq: u16, s: IrqState) {
        if let Some(c) = self.irq_state.get(irq as usize) {
            c.set(s);
        }
    }

    // ---- Preemption and measurements ------------------------------------

    /// Counts one unit of work; true (and the count restarts) when
    /// `limit` units have been done since the last restart.
    #[inline]
    pub fn count_work_unit(&self, limit: u64) -> bool {
        let n = self.work_units.get() + 1;
        if n < limit {
            self.work_units.set(n);
            return false;
        }
        self.work_units.set(0);
        true
    }

    /// A preemptible operation starts with `units` of work counted
    /// (`preempt::operation_start`: 0, so that its first check comes after
    /// a full interval).
    #[inline]
    pub fn start_work_count(&self, units: u64) {
        self.work_units.set(units);
    }

    /// Counts an operation stopped at a preemption point.
    pub fn count_preemption(&self) {
        self.preemptions.set(self.preemptions.get() + 1);
    }

    /// Operations preempted since boot.
    pub fn preemptions(&self) -> u64 {
        self.preemptions.get()
    }

    /// Counts a timer interrupt handled `late` timebase units after its
    /// deadline.
    #[inline]
    pub fn record_timer_latency(&self, late: u64) {
        let (irqs, max, sum, base) = self.bench.get();
        let sum = sum.saturating_add(late);
        self.bench
            .set((irqs.wrapping_add(1), max.max(late), sum, base));
    }

    /// Starts a new measurement.
    pub fn reset_bench(&self) {
        self.bench.set((0, 0, 0, self.preemptions.get()));
        self.stretch.set((0, 0));
    }

    /// A preemptible operation starts (at cycle `now`) or polls for
    /// interrupts (`end` = false), or ends (`end` = true): the stretch
    /// since its start or last poll counts towards the maximum, except at
    /// the start.
    #[inline]
    pub fn record_stretch(&self, now: u64, start: bool) {
        let (last, max) = self.stretch.get();
        let max = match start {
            true => max,
            false => max.max(now.wrapping_sub(last)),
        };
        self.stretch.set((now, max));
    }

    /// The longest stretch without an interrupt poll since the last
    /// [`KernelState::reset_bench`], in cycles.
    pub fn stretch_max(&self) -> u64 {
        self.stretch.get().1
    }

    /// The figures since the last [`KernelState::reset_bench`]: (timer
    /// interrupts, max latency, latency sum, preemptions).
    pub fn bench_figures(&self) -> (u64, u64, u64, u64) {
        let (irqs, max, sum, base) = self.bench.get();
        (irqs, max, sum, self.preemptions.get().wrapping_sub(base))
    }
}

#[cfg(target_os = "none")]
mod global {
    #![allow(unsafe_code)]
    use super::KernelState;

    struct Global(KernelState);
    // SAFETY: the kernel runs on one hart with interrupts disabled and is
    // never re-entered, so the Cells inside are never accessed concurrently.
    unsafe impl Sync for Global {}
    static STATE: Global = Global(KernelState::new());

    /// The kernel state.
    pub fn kernel() -> &'static KernelState {
        &STATE.0
    }
}

#[cfg(not(target_os = "none"))]
mod global {
    use super::KernelState;

    thread_local! {
        /// One state per test thread, leaked once when the thread first
        /// uses it ([`kernel`] hands out `'static` references) and reused
        /// from then on: [`reset`] and [`restore`] overwrite it.
        static STATE: &'static KernelState = Box::leak(Box::new(KernelState::new()));
    }

    /// The kernel state of this test thread.
    pub fn kernel() -> &'static KernelState {
        STATE.with(|s| *s)
    }

    /// Starts this thread's kernel state afresh (as at power-on). It
    /// overwrites the one state in place, so a thread may boot any number
    /// of times without its memory growing (the fuzzer boots once, but
    /// the host tests boot per test).
    pub fn reset() {
        kernel().copy_from(&KernelState::new());
    }

    /// A copy of this thread's kernel state, for [`restore`].
    pub fn snapshot() -> Box<KernelState> {
        let s = Box::new(KernelState::new());
        s.copy_from(kernel());
        s
    }

    /// Makes this thread's kernel state what it was at `snap`.
    pub fn restore(snap: &KernelState) {
        kernel().copy_from(snap);
    }
}

pub use global::*;

#[cfg(all(test, not(target_os = "none")))]
mod reset_tests {
    use super::{kernel, reset, restore, snapshot};

    /// A reset overwrites the thread's one state instead of leaking a new
    /// one (a thread may boot millions of times), and a restore brings
    /// back exactly what a snapshot saw.
    #[test]
    fn reset_and_restore_overwrite_the_one_state() {
        let at = core::ptr::from_ref(kernel());
        kernel().count_tick();
        kernel().count_preemption();
        let snap = snapshot();
        reset();
        assert_eq!(core::ptr::from_ref(kernel()), at);
        assert_eq!((kernel().ticks(), kernel().preemptions()), (0, 0));
        restore(&snap);
        assert_eq!((kernel().ticks(), kernel().preemptions()), (1, 1));
        assert_eq!(format!("{:?}", kernel()), format!("{snap:?}"));
    }
}

// Also built for the fuzzer (feature `fuzzing`), whose test kernel
// (`testutil`) starts every call's work count afresh.
#[cfg(any(test, feature = "fuzzing"))]
mod tests {
    use super::KernelState;

    /// Test support: setting fields the kernel only changes through its
    /// own steps.
    impl KernelState {
        /// Makes `d` the current domain without touching the schedule.
        pub fn set_cur_domain(&self, d: u64) {
            self.cur_domain.set(d);
        }

        /// Starts the work count afresh.
        pub fn reset_work_units(&self) {
            self.work_units.set(0);
        }

        /// Sets the preemption count.
        pub fn set_preemptions(&self, n: u64) {
            self.preemptions.set(n);
        }
    }
}
