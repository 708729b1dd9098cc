//! A timeout fault on QEMU (issue 12, docs/mcs.md): a thread on a small
//! budget with a timeout handler spins; when its budget runs out the
//! root task receives the timeout fault on the handler endpoint (label,
//! the endpoint cap's badge, the SchedContext's badge and the time it
//! consumed), replies, and the thread runs again at its next release,
//! until its budget runs out again.

use crate::ctx::{expect, prepare_thread, Ctx, Outcome, ROOT_PRIO, THREAD_PRIO};
use cairn_rt::println;
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::cap::init_caps;
use sel4::syscall::{recv_regs, send_regs, RegMessage};
use sel4::{CPtr, CapRights, ObjectType, Reply, SchedContext, Tcb, Word};

/// How far the thread has spun.
static SPINS: AtomicU64 = AtomicU64::new(0);

const BUDGET_US: Word = 1_000;
const PERIOD_US: Word = 10_000;
const SC_BADGE: Word = 0x5C;
const EP_BADGE: Word = 0x7E;

fn spin(_: usize) {
    loop {
        SPINS.fetch_add(1, Ordering::Relaxed);
    }
}

/// One timeout fault: (badge, message), checked; the time it reports.
fn check_fault(badge: Word, m: &RegMessage) -> Result<Word, &'static str> {
    let (label, len) = (m.info.label(), m.info.length());
    let consumed = m.mrs[1];
    println!("  timeout fault: label {label}, badge {badge:#x}, data {:#x}, {consumed} µs consumed", m.mrs[0]);
    if label != sel4::abi::fault::TIMEOUT || len != 2 {
        return Err("not a timeout fault message");
    }
    if badge != EP_BADGE || m.mrs[0] != SC_BADGE {
        return Err("wrong badges");
    }
    Ok(consumed)
}

pub(crate) fn timeout_fault(ctx: &mut Ctx) -> Outcome {
    let tcb = Tcb::from(ctx.make(ObjectType::Tcb, 0)?);
    let sc = SchedContext::from(ctx.make(ObjectType::SchedContext, 8)?);
    let ep = ctx.make(ObjectType::Endpoint, 0)?;
    let reply = Reply::from(ctx.make(ObjectType::Reply, 0)?);
    let handler = ctx.mint(ep, CapRights::new(false, true, false, true), EP_BADGE)?;
    let ctl = ctx.sched_control();
    let r = ctl.configure_flags(sc, BUDGET_US, PERIOD_US, 0, SC_BADGE, 0);
    expect(r, Ok(()), "configure")?;
    let auth = init_caps::TCB;
    expect(auth.set_priority(auth, ROOT_PRIO), Ok(()), "root priority")?;
    prepare_thread(ctx, tcb, spin, 0)?;
    expect(tcb.set_timeout_endpoint(handler), Ok(()), "SetTimeoutEndpoint")?;
    let r = tcb.set_sched_params(auth, THREAD_PRIO, THREAD_PRIO, sc.cptr(), CPtr::NULL);
    expect(r, Ok(()), "SetSchedParams")?;
    // It runs at once (above the root) until its budget is gone, then
    // faults; each reply (label 0) restarts it at its next release, and it
    // spins into the next fault. Passed once it was seen to spin before
    // two faults: a host that stalls QEMU can use up a whole budget before
    // the thread's first instruction (the image runs without -icount), so
    // a few more rounds are allowed.
    expect(tcb.resume(), Ok(()), "Resume")?;
    let (mut seen, mut rounds_run) = (0, 0);
    let (mut faults, mut consumed) = (0, 0);
    for round in 0..6 {
        if round > 0 {
            send_regs(reply.cptr(), RegMessage::default());
        }
        let (badge, m) = recv_regs(ep, reply);
        // The faults come only once the budget is used up: in all, at
        // least a budget per fault. One fault may report less: the
        // timer's lateness (unbounded here: the image runs without
        // -icount) overruns a budget, and as in seL4 the overrun comes
        // out of the next release.
        consumed += check_fault(badge, &m)?;
        faults += 1;
        if consumed < faults * BUDGET_US {
            return Err("a timeout fault before the budget was used");
        }
        let spins = SPINS.load(Ordering::Relaxed);
        if spins > seen {
            println!("  round {round}: the thread spun {} times", spins - seen);
            (seen, rounds_run) = (spins, rounds_run + 1);
        }
        if rounds_run == 2 {
            break;
        }
    }
    if rounds_run < 2 {
        return Err("the thread did not run again after a reply");
    }
    expect(tcb.suspend(), Ok(()), "Suspend")
}
