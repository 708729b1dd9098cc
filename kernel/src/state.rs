//! The kernel's global state: one struct behind one accessor, [`kernel`].
//!
//! The kernel is single-core and runs with interrupts disabled, so there is
//! exactly one flow of control inside it; state lives in `Cell`s so that it
//! can be read and changed through shared references. On the host each test
//! thread has its own state ([`reset`] starts afresh).

use crate::object::tcb::{Tcb, TcbRef};
use crate::sched::ReadyQueues;
use crate::types::PAddr;
use core::cell::Cell;

/// Number of ASID pools (`2^seL4_NumASIDPoolsBits`).
pub const NUM_ASID_POOLS: usize = 1 << cairn_abi::object::NUM_ASID_POOLS_BITS;

/// Everything the kernel keeps outside kernel objects.
#[derive(Debug)]
pub struct KernelState {
    /// The running thread's TCB (physical address; 0 = the idle thread).
    pub current: Cell<u64>,
    /// The scheduler's pending action (`sched::Action`, encoded).
    pub action: Cell<u64>,
    /// ASID pools by pool number (physical address; 0 = none).
    pub asid_table: [Cell<u64>; NUM_ASID_POOLS],
    /// The ready queues.
    pub ready: ReadyQueues,
    /// The current domain.
    pub cur_domain: Cell<u64>,
    /// The domain schedule.
    pub domains: crate::sched::domain::DomainSchedule,
    /// Timer ticks since boot.
    pub ticks: Cell<u64>,
    /// The address space last installed (root page table paddr, ASID).
    pub active_vspace: Cell<(u64, u16)>,
    /// Work done since the last preemption check (`preempt`).
    pub work_units: Cell<u64>,
    /// Number of times an operation was preempted (for tests and benchmarks).
    pub preemptions: Cell<u64>,
    /// The IRQ node: one kernel-owned capability slot per IRQ, holding the
    /// notification cap it signals (physical address; seL4's
    /// `intStateIRQNode`). Allocated at boot with the root task's objects.
    pub irq_node: Cell<u64>,
    /// Each IRQ's state (`object::irq::IrqState`, encoded).
    pub irq_state: [Cell<u8>; crate::object::irq::IRQ_SLOTS],
    /// Benchmark measurements (`bench`).
    pub bench: crate::bench::BenchStats,
}

impl KernelState {
    /// The state at boot.
    pub const fn new() -> KernelState {
        KernelState {
            current: Cell::new(0),
            action: Cell::new(0),
            asid_table: [const { Cell::new(0) }; NUM_ASID_POOLS],
            ready: ReadyQueues::new(),
            cur_domain: Cell::new(0),
            domains: crate::sched::domain::DomainSchedule::new(),
            ticks: Cell::new(0),
            active_vspace: Cell::new((0, 0)),
            work_units: Cell::new(0),
            preemptions: Cell::new(0),
            irq_node: Cell::new(0),
            irq_state: [const { Cell::new(0) }; crate::object::irq::IRQ_SLOTS],
            bench: crate::bench::BenchStats::new(),
        }
    }

    /// The running thread, if any (none while idle).
    pub fn current_tcb(&self) -> Option<TcbRef> {
        match self.current.get() {
            0 => None,
            pa => Some(TcbRef::new(PAddr(pa))),
        }
    }
}

impl Default for KernelState {
    fn default() -> Self {
        Self::new()
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
    use std::cell::Cell;

    thread_local! {
        static STATE: Cell<&'static KernelState> = Cell::new(Box::leak(Box::new(KernelState::new())));
    }

    /// The kernel state of this test thread.
    pub fn kernel() -> &'static KernelState {
        STATE.with(Cell::get)
    }

    /// Starts this thread's kernel state afresh (the old one is leaked:
    /// tests are short-lived).
    pub fn reset() {
        STATE.with(|s| s.set(Box::leak(Box::new(KernelState::new()))));
    }
}

pub use global::*;

/// Convenience: the running thread's TCB object.
pub fn current() -> Option<&'static Tcb> {
    kernel().current_tcb().map(|t| t.get())
}
