//! Worker threads for the IPC tests and the VM-fault tests
//! (`vspace::faults`): up to [`WORKERS`] threads in the root task's own
//! address space or in a second one mapping the image ([`start_in`]),
//! each with a stack and an IPC page of its own
//! (`cairn_rt::thread`), and a board of shared words through which workers
//! report what they received.
//!
//! A worker's TCB is retyped from the fixture's pool, so the next test's
//! `Env::new` (which revokes the pool) deletes it, stopping the thread;
//! that is what makes a worker's stack and page free for the next test.
//! Within one test each worker index is used once.

use crate::fixture::{failure, Env};
use crate::framework::Failure;
use crate::threads::{start_at, Spec};
use cairn_rt::space::ImageSpace;
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::{CPtr, Word};

/// Workers one test may start (the thread pool's entries).
pub const WORKERS: usize = crate::threads::MAX_THREADS;
/// Words on the board.
pub const BOARD: usize = 24;

static WORDS: [AtomicU64; BOARD] = [const { AtomicU64::new(0) }; BOARD];

/// Board word `i` (0 beyond the board).
pub fn get(i: usize) -> Word {
    WORDS.get(i).map_or(0, |w| w.load(Ordering::SeqCst))
}

/// Sets board word `i`.
pub fn set(i: usize, v: Word) {
    if let Some(w) = WORDS.get(i) {
        w.store(v, Ordering::SeqCst);
    }
}

/// Clears the board.
pub fn clear() {
    for w in WORDS.iter() {
        w.store(0, Ordering::SeqCst);
    }
}

/// Starts worker `index` running `entry(arg)` at `priority` with fault
/// endpoint `fault_ep` (looked up in the root CNode; `CPtr::NULL`: none).
/// Returns its TCB's slot. A worker of lower priority than the root thread
/// runs only while the root thread blocks.
pub fn start(
    env: &Env<'_>,
    index: usize,
    entry: fn(usize),
    arg: usize,
    priority: Word,
    fault_ep: CPtr,
) -> Result<Word, Failure> {
    start_where(env, None, index, entry, arg, priority, fault_ep)
}

/// As [`start`], but the worker runs in `space`, a second address space
/// mapping the image (`cairn_rt::space`). Its stack, IPC page and the
/// board are the image's, so they are shared with the root task through
/// the image frames; `entry` must touch nothing else of the root task's
/// (the BootInfo, in particular, is not mapped there).
pub fn start_in(
    env: &Env<'_>,
    space: &ImageSpace,
    index: usize,
    entry: fn(usize),
    arg: usize,
    priority: Word,
    fault_ep: CPtr,
) -> Result<Word, Failure> {
    start_where(env, Some(space), index, entry, arg, priority, fault_ep)
}

fn start_where(
    env: &Env<'_>,
    space: Option<&ImageSpace>,
    index: usize,
    entry: fn(usize),
    arg: usize,
    priority: Word,
    fault_ep: CPtr,
) -> Result<Word, Failure> {
    if index >= WORKERS {
        return Err(failure!("no worker {index}"));
    }
    let spec = Spec {
        entry,
        arg,
        priority,
        fault_ep,
    };
    // SAFETY: each worker index is used by one thread per test, and the
    // previous test's worker of this index was deleted by the pool revoke
    // in `Env::new` (module doc), so nothing else runs on this entry.
    let started = unsafe { start_at(env, index, &spec, space, true)? };
    Ok(started.tcb.bits())
}
