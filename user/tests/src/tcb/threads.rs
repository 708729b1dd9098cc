//! Threads for the TCB tests: static stacks and IPC pages, starting a
//! thread with `cairn_rt::thread`, and a guard that stops every thread a
//! test made (and gives the root thread its priority back) however the
//! test ends, so that no runnable thread outlives its test.
//!
//! The root thread runs at priority 255. A thread started at 255 too runs
//! when the root thread yields (it goes behind it in the queue); to be
//! preempted by a thread, the root thread first lowers its own priority
//! ([`Threads::lower_root`]).

use crate::fixture::{failure, Env};
use crate::framework::Failure;
use cairn_rt::thread::{self, IpcPage, Stack, ThreadSpec};
use sel4::cap::init_caps;
use sel4::{CPtr, ObjectType, Tcb, Word};

/// Threads one test may run at once.
pub const MAX_THREADS: usize = 3;
/// Bytes of each thread stack.
pub const STACK_SIZE: usize = 16 * 1024;

static STACKS: [Stack<STACK_SIZE>; MAX_THREADS] = [const { Stack::new() }; MAX_THREADS];
static PAGES: [IpcPage; MAX_THREADS] = [const { IpcPage::new() }; MAX_THREADS];

/// The root thread's priority (ABI ref §6.3).
pub const ROOT_PRIO: Word = 255;

/// The threads of one test (see the module doc).
pub struct Threads<'a> {
    env: &'a Env<'a>,
    tcbs: [Option<Tcb>; MAX_THREADS],
}

/// What the root thread knows about a thread it started.
#[derive(Clone, Copy)]
pub struct Started {
    /// Its TCB.
    pub tcb: Tcb,
    /// Its stack: [low, top).
    pub stack: (Word, Word),
    /// Its thread slot (its `tp`).
    pub tp: Word,
    /// Its IPC buffer's address.
    pub buffer: Word,
}

impl<'a> Threads<'a> {
    /// No threads yet.
    pub fn new(env: &'a Env<'a>) -> Self {
        Threads {
            env,
            tcbs: [None; MAX_THREADS],
        }
    }

    /// A fresh TCB from the pool (not configured, Inactive).
    pub fn tcb(&self) -> Result<Tcb, Failure> {
        self.env.create(ObjectType::Tcb, 0).map(Tcb::from_bits)
    }

    /// Makes a TCB and configures it to run `entry(arg)` at `priority`,
    /// with fault endpoint `fault_ep`; resumes it if `resume`.
    pub fn start(
        &mut self,
        entry: fn(usize),
        arg: usize,
        priority: Word,
        fault_ep: CPtr,
        resume: bool,
    ) -> Result<Started, Failure> {
        let Some(i) = self.tcbs.iter().position(Option::is_none) else {
            return Err(failure!("more than {MAX_THREADS} threads in one test"));
        };
        let (Some(stack), Some(page)) = (STACKS.get(i), PAGES.get(i)) else {
            return Err(failure!("no stack {i}"));
        };
        let tcb = self.tcb()?;
        self.tcbs[i] = Some(tcb);
        let spec = ThreadSpec {
            tcb,
            entry,
            arg,
            stack_top: stack.top(),
            priority,
            fault_ep,
        };
        let bi = self.env.ctx.bi;
        // SAFETY: stack and page `i` belong to slot `i` of this guard, whose
        // earlier thread (if any, in an earlier test) was suspended by its
        // guard's drop; they stay reserved until this guard suspends `tcb`.
        let r = unsafe {
            match resume {
                true => thread::spawn(bi, &spec, page),
                false => thread::prepare(bi, &spec, page),
            }
        };
        r.map_err(|e| failure!("starting thread {i}: {e}"))?;
        Ok(Started {
            tcb,
            stack: ((stack.top() - STACK_SIZE) as Word, stack.top() as Word),
            tp: page.slot() as *const _ as Word,
            buffer: page.buffer() as Word,
        })
    }

    /// Lowers the root thread's priority to `prio` (until the guard drops).
    pub fn lower_root(&self, prio: Word) -> Result<(), Failure> {
        init_caps::TCB
            .set_priority(init_caps::TCB, prio)
            .map_err(|e| failure!("lowering the root thread to {prio}: {e}"))
    }
}

impl Drop for Threads<'_> {
    fn drop(&mut self) {
        for tcb in self.tcbs.iter().flatten() {
            let _ = tcb.suspend();
        }
        let _ = init_caps::TCB.set_priority(init_caps::TCB, ROOT_PRIO);
    }
}

/// Lets threads of the root thread's priority run: yields `n` times.
pub fn yield_n(n: usize) {
    for _ in 0..n {
        sel4::syscall::yield_now();
    }
}

/// The calling thread's `tp`.
pub fn read_tp() -> Word {
    let tp: Word;
    // SAFETY: reads a register; no memory access.
    unsafe { core::arch::asm!("mv {}, tp", out(reg) tp, options(nomem, nostack, preserves_flags)) };
    tp
}

/// The calling thread's `gp`.
pub fn read_gp() -> Word {
    let gp: Word;
    // SAFETY: reads a register; no memory access.
    unsafe { core::arch::asm!("mv {}, gp", out(reg) gp, options(nomem, nostack, preserves_flags)) };
    gp
}
