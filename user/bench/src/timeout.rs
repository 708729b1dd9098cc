//! MCS: the timeout-fault round trip (issue 12, "Figures"). A thread on
//! a sporadic SchedContext (a budget of [`BUDGET_US`] every
//! [`PERIOD_US`]) with a timeout handler spins; when its budget runs out
//! the kernel's timer interrupt finds it and sends a timeout fault to the
//! handler, the root thread (above it), which waits on the timeout
//! endpoint with a reply object. The handler gives the thread a fresh
//! budget (`SchedControl_ConfigureFlags` of its SchedContext, as a
//! handler that grants an overrun would) and answers with `ReplyRecv`
//! (label 0: the thread resumes where it was), then waits for the next
//! fault; the thread runs again at once.
//!
//! The thread stores its `rdcycle` at every turn of its loop, so the
//! moment of the overrun is known to within one turn (a few
//! instructions): its last stored count before the fault. Two records,
//! both from there: `timeout-fault` to the thread running again (its
//! first count after the reply: the timer interrupt, the fault's
//! delivery, the handler's ConfigureFlags and ReplyRecv, the switch back)
//! and `timeout-fault-delivery` to the handler's Recv returning with the
//! fault.

use crate::ipc::{report, wanted, ITERATIONS};
use crate::server;
use crate::threads::{start, Failed, Room};
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::syscall::{mcs, RegMessage};
use sel4::{benchmark, BootInfo, CPtr, MessageInfo, ObjectType};

/// The spinning thread's budget and period (µs; under `-icount shift=0`
/// a microsecond is 1 000 instructions). The period is long enough that
/// no release comes between two faults: each budget is the handler's.
const BUDGET_US: u64 = 50;
const PERIOD_US: u64 = 10_000;

/// The spinner's `rdcycle` at its latest turn.
static LAST: AtomicU64 = AtomicU64::new(0);
/// Its first `rdcycle` after the handler's latest reply.
static FIRST: AtomicU64 = AtomicU64::new(0);
/// How many replies the handler has sent (the spinner notes a change).
static REPLIES: AtomicU64 = AtomicU64::new(0);

/// Partner: spins, storing the count at each turn and the first count
/// after each reply. The reply count is read before the cycle count: the
/// other way round, an overrun falling between the two reads made the
/// count read before the fault the "first after the reply" (a round trip
/// of 4 instructions, where the timer lands in the loop depending on the
/// kernel's own instruction counts).
fn spinner(_: usize) {
    let mut seen = REPLIES.load(Ordering::SeqCst);
    loop {
        let r = REPLIES.load(Ordering::Relaxed);
        let c = benchmark::cycles();
        if r != seen {
            FIRST.store(c, Ordering::Relaxed);
            seen = r;
        }
        LAST.store(c, Ordering::Relaxed);
    }
}

/// Runs the timeout-fault round trips with objects from `room`.
pub fn run(bi: &BootInfo, room: &mut Room) -> Result<(), Failed> {
    if !wanted("timeout-fault") {
        return Ok(());
    }
    let ep = CPtr(room.create(ObjectType::Endpoint)?);
    let reply = CPtr(room.create(ObjectType::Reply)?);
    // Below the root (255): it runs only while the root waits.
    let partner = start(bi, room, None, spinner, 254)?;
    let sc = server::sched_context();
    let ctl = server::sched_control(bi);
    let refill = || {
        ctl.configure_flags(sc, BUDGET_US, PERIOD_US, 0, 0, 0)
            .map_err(|e| Failed("SchedControl_ConfigureFlags", e))
    };
    refill()?;
    partner
        .set_timeout_endpoint(ep)
        .map_err(|e| Failed("TCB_SetTimeoutEndpoint", e))?;
    let restart = RegMessage {
        info: MessageInfo::new(0, 0, 0, 0),
        mrs: [0; 4],
    };
    let mut round = [0u64; ITERATIONS];
    let mut delivery = [0u64; ITERATIONS];
    benchmark::reset_log();
    // The first fault (the spinner's first budget) only starts the count.
    let (_, mut m) = mcs::recv(ep, reply);
    let mut fault_at = LAST.load(Ordering::SeqCst);
    for (r, d) in round.iter_mut().zip(delivery.iter_mut()) {
        if m.info.label() != sel4::abi::fault::TIMEOUT {
            return Err(Failed("not a timeout fault", sel4::Error::IllegalOperation));
        }
        refill()?;
        REPLIES.fetch_add(1, Ordering::SeqCst);
        let (_, next) = mcs::reply_recv(ep, restart, reply);
        let received = benchmark::cycles();
        m = next;
        let last = LAST.load(Ordering::SeqCst);
        *r = FIRST.load(Ordering::SeqCst).wrapping_sub(fault_at);
        *d = received.wrapping_sub(last);
        fault_at = last;
    }
    report("timeout-fault", &mut round);
    benchmark::reset_log();
    report("timeout-fault-delivery", &mut delivery);
    partner
        .suspend()
        .map_err(|e| Failed("suspending the partner", e))
}
