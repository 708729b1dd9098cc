//! Preemption of cancellation (issue 12 item 7: "show in the benchmarks
//! that the worst interrupt latency during such a delete is the same with
//! 10, 1 000 and 10 000 queued threads").
//!
//! For each size `n`, `n` threads block sending on one endpoint, then one
//! `seL4_CNode_Delete` of the endpoint's only cap restarts them all. The
//! kernel reports (`cairn: bench:` line) the longest stretch the delete
//! ran without polling for interrupts (`stretch-max`, instructions): the
//! worst latency an interrupt arriving at the worst moment would see,
//! whatever moment the 2 ms tick happens to hit. It must not grow with
//! `n`. The timer latency of ticks that did land in the delete is
//! reported as for the revoke benchmark.
//!
//! The threads run at a higher priority than the root thread, so each
//! one, once resumed, runs at once into its Send and blocks; its TCB cap
//! then moves into a big CNode (the root CNode is too small for 10 000).
//! They share one stack and IPC page: each uses them until its Send
//! blocks, and again once restarted by the delete (its Send returns, it
//! parks on a notification); restarted threads run only when the root
//! thread lowers itself for the next size, one after the other, each
//! blocking for good before the next runs, and before any new thread
//! starts.
//! The root thread runs above them again during the delete, so the
//! figure is the delete's own: at equal priority a tick landing in the
//! delete let the restarted threads run, Send again on the endpoint whose
//! cap was not yet gone and queue again (docs/benchmarks.md).

use cairn_rt::println;
use cairn_rt::thread::{IpcPage, Stack, ThreadSpec};
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::cap::init_caps;
use sel4::syscall::{send_regs, RegMessage};
use sel4::{
    benchmark, BootInfo, CNode, CPtr, Error, MessageInfo, Notification, ObjectType, Tcb, Untyped,
    Word,
};

/// Queue lengths measured.
const SIZES: [Word; 3] = [10, 1_000, 10_000];
/// Radix of the CNode that keeps the threads' caps: 16 384 slots.
const CNODE_RADIX: Word = 14;
/// The threads' memory: 32 MiB holds the 11 010 TCBs (up to 2 KiB each)
/// and the CNode.
const POOL_BITS: Word = 25;

const ROOT: CNode = init_caps::CNODE;
/// The queued threads' priority: above the root thread's while they
/// start, below it (255) during the delete, so that threads the delete
/// has restarted do not run (and queue again) before it completes.
const THREADS_PRIO: Word = 254;

static STACK: Stack<4096> = Stack::new();
static PAGE: IpcPage = IpcPage::new();
/// The endpoint the threads send on.
static ENDPOINT: AtomicU64 = AtomicU64::new(0);
/// A notification nobody signals, where restarted threads park.
static PARK: AtomicU64 = AtomicU64::new(0);

/// Why the benchmark could not run.
pub struct Failed(&'static str, Error);

impl core::fmt::Display for Failed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

/// A queued thread: sends on the endpoint. Restarted by the delete, its
/// Send finds the slot empty (an error a Send does not report) and
/// returns; it then waits for good on a notification nobody signals (its
/// own TCB cap has moved, so it cannot suspend itself, and at its
/// priority a yielding loop would starve the root thread).
fn sender(_: usize) {
    let msg = RegMessage {
        info: MessageInfo::new(0, 0, 0, 0),
        mrs: [0; 4],
    };
    send_regs(CPtr(ENDPOINT.load(Ordering::SeqCst)), msg);
    let park = Notification::from_bits(PARK.load(Ordering::SeqCst));
    loop {
        park.wait();
    }
}

/// Runs the benchmark for every size in [`SIZES`], with slots from
/// `slot` on (the CNode, the pool, a TCB's, the park notification, then
/// one endpoint per size).
pub fn run(bi: &BootInfo, slot: Word) -> Result<(), Failed> {
    let big = bi
        .untypeds()
        .filter(|u| !u.is_device)
        .max_by_key(|u| u.size_bits)
        .filter(|u| Word::from(u.size_bits) > POOL_BITS)
        .ok_or(Failed(
            "no untyped",
            Error::NotEnoughMemory { available: 0 },
        ))?;
    let (cnode, pool, tcb_slot) = (slot, slot + 1, slot + 2);
    big.cap
        .retype(ObjectType::Untyped, POOL_BITS, ROOT, 0, 0, pool, 1)
        .map_err(|e| Failed("retyping the pool", e))?;
    let pool = Untyped::from_bits(pool);
    pool.retype(ObjectType::CapTable, CNODE_RADIX, ROOT, 0, 0, cnode, 1)
        .map_err(|e| Failed("retyping the CNode", e))?;
    let keep = CNode::from_bits(cnode);
    let park = slot + 3;
    pool.retype(ObjectType::Notification, 0, ROOT, 0, 0, park, 1)
        .map_err(|e| Failed("retyping the park notification", e))?;
    PARK.store(park, Ordering::SeqCst);
    let mut kept = 0;
    for (i, n) in SIZES.into_iter().enumerate() {
        let ep = slot + 4 + i as Word;
        pool.retype(ObjectType::Endpoint, 0, ROOT, 0, 0, ep, 1)
            .map_err(|e| Failed("retyping the endpoint", e))?;
        ENDPOINT.store(ep, Ordering::SeqCst);
        init_caps::TCB
            .set_priority(init_caps::TCB, THREADS_PRIO - 1)
            .map_err(|e| Failed("lowering the root thread", e))?;
        for _ in 0..n {
            pool.retype(ObjectType::Tcb, 0, ROOT, 0, 0, tcb_slot, 1)
                .map_err(|e| Failed("retyping a TCB", e))?;
            let spec = ThreadSpec {
                tcb: Tcb::from_bits(tcb_slot),
                entry: sender,
                arg: 0,
                stack_top: STACK.top(),
                priority: THREADS_PRIO,
                fault_ep: CPtr::NULL,
            };
            // SAFETY: each thread uses STACK and PAGE only while it runs,
            // from its start to its blocking Send (at once, above this
            // thread, before the next starts) and, restarted, to its
            // blocking Wait; threads at one priority run one at a time and
            // each blocks before the next runs (module doc).
            unsafe { cairn_rt::thread::spawn(bi, &spec, &PAGE) }
                .map_err(|_| Failed("starting a thread", Error::IllegalOperation))?;
            keep.move_(kept, CNODE_RADIX as u8, ROOT, tcb_slot, 64)
                .map_err(|e| Failed("keeping a TCB cap", e))?;
            kept += 1;
        }
        init_caps::TCB
            .set_priority(init_caps::TCB, 255)
            .map_err(|e| Failed("restoring the root thread", e))?;
        benchmark::reset_log();
        let start = benchmark::cycles();
        let r = ROOT.delete(ep, 64);
        let instructions = benchmark::cycles().wrapping_sub(start);
        r.map_err(|e| Failed("deleting the endpoint", e))?;
        println!("bench cancel threads={n} instructions={instructions}");
        benchmark::finalize_log();
    }
    Ok(())
}
