//! Threads for the tests: the one pool of static stacks and IPC pages,
//! starting a thread on pool entry `i` ([`start_at`], in the root task's
//! address space or in a second one), and a guard that picks entries
//! itself and stops every thread a test made (and gives the root thread
//! its priority back) however the test ends, so that no runnable thread
//! outlives its test ([`Threads`], the TCB tests). The IPC and VM-fault
//! tests name entries themselves (`ipc::worker`) and rely on the pool
//! revoke of the next test's `Env::new` to delete their threads; a test
//! uses one of the two ways, never both.
//!
//! The root thread runs at priority 255. A thread started at 255 too runs
//! when the root thread yields (it goes behind it in the queue); to be
//! preempted by a thread, the root thread first lowers its own priority
//! ([`Threads::lower_root`]).

use crate::fixture::{failure, Env};
use crate::framework::Failure;
use cairn_rt::space::ImageSpace;
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
    /// MCS: the slot of its SchedContext (0 in the classic build).
    #[cfg_attr(not(sel4_mcs), allow(dead_code))]
    pub sc: Word,
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
        let spec = Spec {
            entry,
            arg,
            priority,
            fault_ep,
        };
        // SAFETY: entry `i` belongs to this guard, whose earlier thread on
        // it (if any, in an earlier test) was suspended by its guard's
        // drop; it stays reserved until this guard suspends the thread.
        let started = unsafe { start_at(self.env, i, &spec, None, resume)? };
        self.tcbs[i] = Some(started.tcb);
        Ok(started)
    }

    /// Lowers the root thread's priority to `prio` (until the guard drops).
    pub fn lower_root(&self, prio: Word) -> Result<(), Failure> {
        init_caps::TCB
            .set_priority(init_caps::TCB, prio)
            .map_err(|e| failure!("lowering the root thread to {prio}: {e}"))
    }
}

/// What a thread runs, at which priority, with which fault endpoint
/// (looked up in the root CNode at fault time; `CPtr::NULL`: none).
#[derive(Clone, Copy)]
pub struct Spec {
    pub entry: fn(usize),
    pub arg: usize,
    pub priority: Word,
    pub fault_ep: CPtr,
}

/// Makes a TCB from the pool and starts it as `spec` says on stack and
/// IPC page `i` of the pool, in `space` (a second address space mapping
/// the image) or the root task's own; resumes it if `resume`.
///
/// # Safety
/// No thread that may still run uses entry `i` (see the module doc for
/// the two ways tests keep to this).
pub unsafe fn start_at(
    env: &Env<'_>,
    i: usize,
    spec: &Spec,
    space: Option<&ImageSpace>,
    resume: bool,
) -> Result<Started, Failure> {
    let (Some(stack), Some(page)) = (STACKS.get(i), PAGES.get(i)) else {
        return Err(failure!("no stack {i}"));
    };
    let tcb = env.create(ObjectType::Tcb, 0).map(Tcb::from_bits)?;
    let ts = ThreadSpec {
        tcb,
        entry: spec.entry,
        arg: spec.arg,
        stack_top: stack.top(),
        priority: spec.priority,
        fault_ep: spec.fault_ep,
    };
    let bi = env.ctx.bi;
    // SAFETY: the caller guarantees that entry `i` (this stack and page)
    // is used by no running thread; a space maps the image at its own
    // addresses, so the page and stack are the same memory there.
    // The thread is prepared, given what the configuration needs to run
    // (MCS: a SchedContext and a reply object), then resumed.
    let r = unsafe {
        match space {
            Some(s) => s.prepare(bi, &ts, page),
            None => thread::prepare(bi, &ts, page),
        }
    };
    r.map_err(|e| failure!("starting thread {i}: {e}"))?;
    let sc = crate::forms::give_sched_context(env, i, tcb)?;
    if resume {
        tcb.resume()
            .map_err(|e| failure!("resuming thread {i}: {e}"))?;
    }
    Ok(Started {
        tcb,
        stack: ((stack.top() - STACK_SIZE) as Word, stack.top() as Word),
        tp: page.slot() as *const _ as Word,
        buffer: page.buffer() as Word,
        sc,
    })
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

/// The pool entry whose thread is calling (by its `tp`, which is the
/// entry's thread slot); `None` for the root thread. MCS: how a thread
/// finds its reply object (`forms::reply_cap`).
#[cfg(sel4_mcs)]
pub fn current_entry() -> Option<usize> {
    let tp = read_tp();
    PAGES
        .iter()
        .position(|p| p.slot() as *const _ as Word == tp)
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
