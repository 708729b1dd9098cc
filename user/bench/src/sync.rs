//! sel4bench's `sync` benchmarks: a condition variable and a binary
//! semaphore built on notifications (the scheme of seL4's user-level
//! `libsel4sync`, written here from its documented behaviour), timed as
//! sel4bench times them (docs/benchmarks.md).
//!
//! * **broadcast**: a waiter of priority 255 waits on the condition
//!   variable; the broadcaster (the root thread, priority 254) takes the
//!   lock, sets the condition and is timed from just before its broadcast
//!   to just after it returns: the Signal wakes the waiter, which runs at
//!   once, finds the lock taken and blocks on the lock's notification.
//!   sel4bench has 25 waiters, of which a broadcast wakes only the first
//!   (each woken waiter signals the next), so one waiter does the same
//!   kernel work.
//! * **producer → consumer**: producer (the root thread) and consumer at
//!   the same priority, a FIFO of one item. Timed from just before the
//!   producer signals "produced" to just after the consumer, woken, holds
//!   the lock again: a Signal that does not switch, the producer's Wait
//!   that blocks, and the consumer's return. Consumer → producer is the
//!   same the other way.
//!
//! Output: `bench sel4bench op=<case> iterations=N median=M min=m
//! overhead=o`, then the kernel's `cairn: bench:` line.

use crate::ipc::{report_sel4bench, wanted, ITERATIONS};
use crate::oneway::overhead;
use crate::threads::{start, Failed, Room};
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use sel4::cap::init_caps;
use sel4::{benchmark, BootInfo, Notification, ObjectType, Word};

/// A binary semaphore: a count in memory, and a notification to block on
/// only when the semaphore is contended.
struct BinSem {
    /// 1 free, 0 taken, below 0 taken with waiters.
    count: AtomicI64,
    ntfn: AtomicU64,
}

impl BinSem {
    const fn new() -> Self {
        Self {
            count: AtomicI64::new(1),
            ntfn: AtomicU64::new(0),
        }
    }

    fn init(&self, ntfn: Word) {
        self.count.store(1, Ordering::SeqCst);
        self.ntfn.store(ntfn, Ordering::SeqCst);
    }

    fn notification(&self) -> Notification {
        Notification::from_bits(self.ntfn.load(Ordering::Relaxed))
    }

    fn acquire(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) <= 0 {
            self.notification().wait();
        }
    }

    fn release(&self) {
        if self.count.fetch_add(1, Ordering::AcqRel) < 0 {
            self.notification().signal();
        }
    }
}

/// A condition variable over a [`BinSem`]; its fields change only with
/// the lock held.
struct CondVar {
    waiters: AtomicI64,
    /// A broadcast is under way: each woken waiter wakes the next.
    broadcasting: AtomicBool,
    ntfn: AtomicU64,
}

impl CondVar {
    const fn new() -> Self {
        Self {
            waiters: AtomicI64::new(0),
            broadcasting: AtomicBool::new(false),
            ntfn: AtomicU64::new(0),
        }
    }

    fn init(&self, ntfn: Word) {
        self.waiters.store(0, Ordering::SeqCst);
        self.broadcasting.store(false, Ordering::SeqCst);
        self.ntfn.store(ntfn, Ordering::SeqCst);
    }

    fn notification(&self) -> Notification {
        Notification::from_bits(self.ntfn.load(Ordering::Relaxed))
    }

    /// Releases `lock`, waits to be signalled, takes `lock` again.
    fn wait(&self, lock: &BinSem) {
        self.waiters.fetch_add(1, Ordering::Relaxed);
        self.broadcasting.store(false, Ordering::Relaxed);
        lock.release();
        self.notification().wait();
        lock.acquire();
        let left = self.waiters.fetch_sub(1, Ordering::Relaxed) - 1;
        if self.broadcasting.load(Ordering::Relaxed) {
            if left > 0 {
                self.notification().signal();
            } else {
                self.broadcasting.store(false, Ordering::Relaxed);
            }
        }
    }

    fn signal(&self) {
        if self.waiters.load(Ordering::Relaxed) > 0 {
            self.notification().signal();
        }
    }

    fn broadcast(&self) {
        if self.waiters.load(Ordering::Relaxed) > 0 {
            self.broadcasting.store(true, Ordering::Relaxed);
            self.notification().signal();
        }
    }
}

static LOCK: BinSem = BinSem::new();
/// Broadcast: the waiters' condition variable. Producer/consumer: the
/// consumer waits on it for an item.
static PRODUCED: CondVar = CondVar::new();
/// Producer/consumer: the producer waits on it for room.
static CONSUMED: CondVar = CondVar::new();
/// Broadcast: the condition the waiter waits for.
static READY: AtomicBool = AtomicBool::new(false);
/// Producer/consumer: items in the FIFO (0 or 1).
static FIFO: AtomicI64 = AtomicI64::new(0);
/// The producer's counter just before it signals an item.
static PRODUCED_AT: AtomicU64 = AtomicU64::new(0);
/// The consumer's counter just before it signals room.
static CONSUMED_AT: AtomicU64 = AtomicU64::new(0);
/// The consumer's latest producer → consumer time.
static LATENCY: AtomicU64 = AtomicU64::new(0);

/// The broadcast waiter: waits for [`READY`], clears it, waits again.
fn waiter(_: usize) {
    loop {
        LOCK.acquire();
        while !READY.load(Ordering::Relaxed) {
            PRODUCED.wait(&LOCK);
        }
        READY.store(false, Ordering::Relaxed);
        LOCK.release();
    }
}

fn broadcast(bi: &BootInfo, room: &mut Room) -> Result<(), Failed> {
    const OP: &str = "broadcast";
    if !wanted(OP) {
        return Ok(());
    }
    LOCK.init(room.create(ObjectType::Notification)?);
    PRODUCED.init(room.create(ObjectType::Notification)?);
    READY.store(false, Ordering::SeqCst);
    // The waiter runs at once (above the root thread) and waits.
    init_caps::TCB
        .set_priority(init_caps::TCB, 254)
        .map_err(|e| Failed("lowering the root thread", e))?;
    let partner = start(bi, room, None, waiter, 255)?;
    let overhead = overhead();
    let mut samples = [0u64; ITERATIONS];
    benchmark::reset_log();
    for s in samples.iter_mut() {
        LOCK.acquire();
        READY.store(true, Ordering::Relaxed);
        let start = benchmark::cycles();
        PRODUCED.broadcast();
        *s = benchmark::cycles().wrapping_sub(start);
        // The waiter takes the lock, finds READY and waits again.
        LOCK.release();
    }
    report_sel4bench(OP, &mut samples, overhead);
    partner
        .suspend()
        .map_err(|e| Failed("suspending the waiter", e))?;
    init_caps::TCB
        .set_priority(init_caps::TCB, 255)
        .map_err(|e| Failed("restoring the root thread", e))
}

/// The consumer: takes each item, noting how long after its signal it
/// woke, and signals room.
fn consumer(_: usize) {
    loop {
        LOCK.acquire();
        while FIFO.load(Ordering::Relaxed) == 0 {
            PRODUCED.wait(&LOCK);
        }
        let end = benchmark::cycles();
        LATENCY.store(
            end.wrapping_sub(PRODUCED_AT.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        FIFO.fetch_sub(1, Ordering::Relaxed);
        CONSUMED_AT.store(benchmark::cycles(), Ordering::Relaxed);
        CONSUMED.signal();
        LOCK.release();
    }
}

fn producer_consumer(bi: &BootInfo, room: &mut Room) -> Result<(), Failed> {
    const TO_CONSUMER: &str = "producer-to-consumer";
    const TO_PRODUCER: &str = "consumer-to-producer";
    if !wanted(TO_CONSUMER) && !wanted(TO_PRODUCER) {
        return Ok(());
    }
    LOCK.init(room.create(ObjectType::Notification)?);
    PRODUCED.init(room.create(ObjectType::Notification)?);
    CONSUMED.init(room.create(ObjectType::Notification)?);
    FIFO.store(0, Ordering::SeqCst);
    let partner = start(bi, room, None, consumer, 255)?;
    let overhead = overhead();
    let mut to_consumer = [0u64; ITERATIONS];
    let mut to_producer = [0u64; ITERATIONS];
    // The first two items start the consumer; from the third on every
    // hand-over is the steady one.
    const WARM_UP: usize = 2;
    benchmark::reset_log();
    for i in 0..ITERATIONS + WARM_UP + 1 {
        LOCK.acquire();
        while FIFO.load(Ordering::Relaxed) != 0 {
            CONSUMED.wait(&LOCK);
        }
        let end = benchmark::cycles();
        if let Some(k) = i.checked_sub(WARM_UP + 1) {
            if let (Some(c), Some(p)) = (to_consumer.get_mut(k), to_producer.get_mut(k)) {
                *c = LATENCY.load(Ordering::Relaxed);
                *p = end.wrapping_sub(CONSUMED_AT.load(Ordering::Relaxed));
            }
        }
        if i == ITERATIONS + WARM_UP {
            LOCK.release();
            break;
        }
        FIFO.fetch_add(1, Ordering::Relaxed);
        PRODUCED_AT.store(benchmark::cycles(), Ordering::Relaxed);
        PRODUCED.signal();
        LOCK.release();
    }
    report_sel4bench(TO_CONSUMER, &mut to_consumer, overhead);
    benchmark::reset_log();
    report_sel4bench(TO_PRODUCER, &mut to_producer, overhead);
    partner
        .suspend()
        .map_err(|e| Failed("suspending the consumer", e))
}

/// Runs the broadcast and producer/consumer cases.
pub fn run(bi: &BootInfo, room: &mut Room) -> Result<(), Failed> {
    broadcast(bi, room)?;
    producer_consumer(bi, room)
}
