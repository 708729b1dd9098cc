//! MCS time and IPC (issue 12, docs/mcs.md): timeout faults raised when a
//! budget runs out (seL4's `endTimeslice` → `handleTimeout`) and when a
//! reply reaches a thread whose budget is gone (MCS `doReplyTransfer`),
//! never lending the SchedContext with one; and the refill checks seL4
//! makes on the threads IPC wakes (`refill_unblock_check`, `postpone`).
//! On simulated time, through the kernel's own entry points
//! (`sched::tests_mcs`'s helpers: the clock advanced to the deadline the
//! kernel programmed, the timer interrupt delivered there).

use super::*;
use crate::arch::Kernel;
use crate::object::sched_context::Configure;
use crate::object::tcb::{ThreadState, TCB_TIMEOUT_HANDLER};
use crate::sched::mcs::{release_queue, sc_of};
use crate::sched::tests_mcs::{run_until, MS, US};
use crate::testutil::boot;
use crate::types::Fault;
use cairn_abi::syscall::*;

type Api = crate::api::Api;

/// The root thread stops (out of its ready queue: `super::stop_root`),
/// and the kernel chooses whom to run.
fn stop_root(k: &TestKernel) {
    super::stop_root(k);
    Api::current_context();
}

/// The SchedContext badge the timeout faults carry.
const SC_BADGE: u64 = 0xBAD;
/// The badge of the timeout handler's endpoint cap.
const EP_BADGE: u64 = 0x77;

/// Gives `t`'s SchedContext `budget`/`period` (ticks), sporadic, with
/// [`SC_BADGE`] (`SchedControl_ConfigureFlags`'s perform step).
fn configure(t: TcbRef, budget: u64, period: u64) {
    let sc = sc_of(t).expect("a SchedContext");
    let c = Configure {
        budget,
        period,
        max_refills: 4,
        badge: SC_BADGE,
        sporadic: true,
    };
    crate::object::sched_control::perform(sc, &c);
}

/// A new thread at `prio` on a sporadic `budget`/`period` SchedContext,
/// in its ready queue.
fn sporadic(k: &TestKernel, prio: u64, budget: u64, period: u64) -> TcbRef {
    let t = k.threads(prio, 1)[0];
    configure(t, budget, period);
    crate::sched::reschedule_required();
    t
}

/// A new thread at `prio` on a round-robin 5 ms SchedContext, in its
/// ready queue.
fn round_robin(k: &TestKernel, prio: u64) -> TcbRef {
    let t = k.threads(prio, 1)[0];
    crate::sched::enqueue(t);
    t
}

/// A badged endpoint cap (all rights) to a new endpoint: (endpoint slot,
/// badged cap slot).
fn handler_endpoint(k: &TestKernel) -> (u64, u64) {
    let ep = object(k, ObjectType::Endpoint);
    (ep, mint(k, ep, 0xF, EP_BADGE))
}

/// Installs the cap in root slot `cptr` as `t`'s timeout handler, as
/// `TCB_SetTimeoutEndpoint` does.
fn set_timeout_handler(k: &TestKernel, t: TcbRef, cptr: u64) {
    cte_insert(k.cap(cptr), k.slot(cptr), Tcb::slot(t, TCB_TIMEOUT_HANDLER));
}

/// `h` waits on `ep` with its reply object, as the running thread.
fn wait_on(h: TcbRef, ep: u64) {
    syscall(h, SYS_RECV, ep, 0, &[], &[]);
    assert_eq!(h.get().state(), ThreadState::BlockedOnReceive);
}

/// The running thread `t` makes system call `no` (as [`syscall`], but
/// without making it current: a pending scheduler decision stays).
fn as_current(t: TcbRef, no: SyscallNo, a0: u64, label: u64, mrs: &[u64]) {
    assert_eq!(kernel().current_tcb(), Some(t), "it runs");
    let regs = MessageRegs::of(t, true);
    for (i, w) in mrs.iter().enumerate() {
        assert!(regs.set(i, *w));
    }
    let tcb = t.get();
    tcb.set_reg(crate::arch::CAP_REGISTER, a0);
    let info = MessageInfo::new(label, 0, 0, mrs.len() as u64);
    tcb.set_reg(crate::arch::MSG_INFO_REGISTER, info.0);
    crate::api::handle_syscall(no);
}

/// The timeout fault `h` received: (endpoint badge, label, length, MRs).
fn timeout_message(h: TcbRef) -> (u64, u64, u64, Vec<u64>) {
    let (badge, info, mrs) = received(h, 2);
    (badge, info.label(), info.length(), mrs)
}

fn head(t: TcbRef) -> (u64, u64) {
    let h = sc_of(t).unwrap().head_refill().unwrap();
    (h.time, h.amount)
}

#[test]
fn a_thread_out_of_budget_with_a_timeout_handler_takes_a_timeout_fault() {
    let k = boot();
    let (ep, cap) = handler_endpoint(&k);
    let t = sporadic(&k, 200, 2 * MS, 10 * MS);
    set_timeout_handler(&k, t, cap);
    let h = k.threads(250, 1)[0];
    wait_on(h, ep);
    stop_root(&k);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(t));
    // It spins; its budget ends at 2 ms: the timer's entry charges it and
    // sends the fault to the waiting handler, which runs.
    run_until(2 * MS + 1);
    assert_eq!(kernel().current_tcb(), Some(h));
    let timeout = cairn_abi::fault::TIMEOUT;
    assert_eq!(
        timeout_message(h),
        (EP_BADGE, timeout, 2, vec![SC_BADGE, 2_000]),
        "badge, the SchedContext's badge and the µs it consumed"
    );
    let tt = t.get();
    assert_eq!(tt.state(), ThreadState::BlockedOnReply);
    assert_eq!(tt.fault(), Some(Fault::Timeout { badge: SC_BADGE }));
    assert!(!tt.in_release_queue() && !tt.in_ready_queue());
    assert_eq!(sc_of(t).unwrap().consumed(), 0, "the message took it");
    // No lending with a timeout fault: the handler runs on its own.
    assert_ne!(h.get().sched_context(), tt.sched_context());
    // A reply with label 0 restarts it, but its budget is still gone: it
    // waits for its release (no second timeout fault for a timeout
    // fault's reply).
    reply(h, 0, &[]);
    assert_eq!(tt.state(), ThreadState::Restart);
    assert_eq!(tt.fault(), None);
    assert_eq!(release_queue().collect::<Vec<_>>(), vec![t]);
    wait_on(h, ep);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), None, "idle until its release");
    // One idle timeslice (5 ms) from this entry first, then the release.
    assert_eq!(
        crate::arch::host::SimMachine::deadline(),
        Some(crate::sched::mcs::cur_time() + 5 * MS)
    );
    run_until(crate::sched::mcs::cur_time() + 5 * MS);
    assert_eq!(crate::arch::host::SimMachine::deadline(), Some(10 * MS));
    run_until(10 * MS + 1);
    assert_eq!(kernel().current_tcb(), Some(t));
    assert_eq!(tt.next_ip(), tt.fault_ip(), "resumes where it was stopped");
    // Out again at 12 ms. This time the handler gives it a new budget
    // before replying: it runs at once.
    run_until(12 * MS + 1);
    assert_eq!(kernel().current_tcb(), Some(h));
    assert_eq!(timeout_message(h).3, vec![SC_BADGE, 2_000]);
    configure(t, 3 * MS, 10 * MS);
    reply(h, 0, &[]);
    assert!(!tt.in_release_queue());
    as_current(h, SYS_RECV, ep, 0, &[]);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(t));
    let now = crate::arch::now();
    assert_eq!(head(t), (now, 3 * MS));
    assert_eq!(
        crate::arch::host::SimMachine::deadline(),
        Some(now + 3 * MS)
    );
}

#[test]
fn a_system_call_on_an_exhausted_budget_becomes_a_timeout_fault() {
    let k = boot();
    let (ep, cap) = handler_endpoint(&k);
    let t = sporadic(&k, 200, 2 * MS, 10 * MS);
    set_timeout_handler(&k, t, cap);
    let h = k.threads(250, 1)[0];
    wait_on(h, ep);
    stop_root(&k);
    Api::current_context();
    // The timer is late: the thread has run 3 ms when it calls.
    crate::testutil::set_time(3 * MS);
    let tt = t.get();
    tt.set_reg(crate::arch::CAP_REGISTER, cairn_abi::cap::init::CNODE);
    tt.set_fault_ip(0x1000);
    tt.set_next_ip(0x1004);
    crate::sched::tests_mcs::syscall(SYS_DEBUG_CAP_IDENTIFY);
    assert_eq!(
        tt.reg(crate::arch::CAP_REGISTER),
        cairn_abi::cap::init::CNODE,
        "not performed"
    );
    assert_eq!(tt.state(), ThreadState::BlockedOnReply);
    assert_eq!(timeout_message(h).3, vec![SC_BADGE, 3_000]);
    // The handler's reply sets its pc (seL4_TimeoutReply: the user
    // context, pc first): it resumes there at its release.
    reply(h, 0, &[0x2000]);
    wait_on(h, ep);
    // Released 11 ms (it ran 3 ms from 0: a period after it began plus
    // the overrun).
    run_until(11 * MS + 1);
    assert_eq!(kernel().current_tcb(), Some(t));
    assert_eq!(tt.next_ip(), 0x2000);
}

#[test]
fn round_robin_threads_and_threads_without_a_handler_take_no_timeout_fault() {
    let k = boot();
    let (ep, cap) = handler_endpoint(&k);
    // Round robin (budget = period) with a handler: end of timeslice.
    let rr = round_robin(&k, 100);
    set_timeout_handler(&k, rr, cap);
    // Sporadic without a handler: it waits for its release.
    let sp = sporadic(&k, 200, 2 * MS, 10 * MS);
    let h = k.threads(250, 1)[0];
    wait_on(h, ep);
    stop_root(&k);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(sp));
    run_until(2 * MS + 1);
    assert!(sp.get().in_release_queue());
    assert_eq!(sp.get().state(), ThreadState::Running);
    assert_eq!(kernel().current_tcb(), Some(rr));
    run_until(9 * MS);
    assert_eq!(
        kernel().current_tcb(),
        Some(rr),
        "a fresh timeslice at 7 ms"
    );
    assert_eq!(h.get().state(), ThreadState::BlockedOnReceive, "no fault");
    assert_eq!((rr.get().fault(), sp.get().fault()), (None, None));
}

#[test]
fn a_timeout_fault_never_lends_the_scheduling_context() {
    let k = boot();
    let (ep, cap) = handler_endpoint(&k);
    let t = sporadic(&k, 200, 2 * MS, 10 * MS);
    set_timeout_handler(&k, t, cap);
    // A passive handler waiting: it is woken but not lent the context.
    let p = k.passive_threads(250, 1)[0];
    wait_on(p, ep);
    stop_root(&k);
    Api::current_context();
    run_until(2 * MS + 1);
    let sc = sc_of(t).unwrap().paddr();
    assert_eq!(t.get().state(), ThreadState::BlockedOnReply);
    assert_eq!(p.get().state(), ThreadState::Running);
    assert_eq!(p.get().sched_context(), None);
    assert_eq!(t.get().sched_context(), Some(sc));
    assert_eq!(kernel().current_tcb(), None, "nobody can run");
    // The other way round: the fault waits on the endpoint until the
    // passive handler receives it (on a context of its own that it then
    // gives back, as a notification's lent one would be).
    let k2 = boot();
    let (ep, cap) = handler_endpoint(&k2);
    let t = sporadic(&k2, 200, 2 * MS, 10 * MS);
    set_timeout_handler(&k2, t, cap);
    let p = k2.threads(250, 1)[0];
    let psc = sc_of(p).unwrap().paddr();
    crate::sched::mcs::unbind_tcb(psc);
    stop_root(&k2);
    Api::current_context();
    run_until(2 * MS + 1);
    assert_eq!(t.get().state(), ThreadState::BlockedOnSend);
    syscall(p, SYS_RECV, ep, 0, &[], &[]);
    assert_eq!(t.get().state(), ThreadState::BlockedOnReply);
    assert_eq!(p.get().sched_context(), None, "not lent on receipt either");
    assert_eq!(timeout_message(p).3, vec![SC_BADGE, 2_000]);
}

/// A client out of budget gets its server's reply: a timeout fault
/// instead if it has a handler, else it waits for its release.
fn reply_to_a_client_out_of_budget(with_handler: bool) {
    let k = boot();
    let (cep, ccap) = handler_endpoint(&k);
    let (sep, scap) = handler_endpoint(&k);
    let service = object(&k, ObjectType::Endpoint);
    // A client on 2 ms / 10 ms calls a passive server, which runs on the
    // client's context and uses it up; the server's timeout handler (the
    // manager, `m`) answers the client through the server's reply object.
    let c = sporadic(&k, 100, 2 * MS, 10 * MS);
    if with_handler {
        set_timeout_handler(&k, c, ccap);
    }
    let s = k.passive_threads(150, 1)[0];
    set_timeout_handler(&k, s, scap);
    let m = k.threads(250, 1)[0];
    wait_on(m, sep);
    wait_on(s, service);
    stop_root(&k);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(c));
    let sc = sc_of(c).unwrap();
    crate::testutil::set_time(500 * US);
    as_current(c, SYS_CALL, service, 1, &[]);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(s), "on the client's context");
    assert_eq!(s.get().sched_context(), Some(sc.paddr()));
    run_until(2 * MS + 1);
    assert_eq!(s.get().state(), ThreadState::BlockedOnReply, "its fault");
    assert_eq!(kernel().current_tcb(), Some(m));
    // The manager replies to the client in the server's place.
    let server_reply = s.get().reg(crate::arch::REPLY_REGISTER);
    syscall(m, SYS_SEND, server_reply, 7, &[], &[]);
    assert_eq!(c.get().sched_context(), Some(sc.paddr()), "back");
    let ct = c.get();
    if with_handler {
        assert_eq!(ct.state(), ThreadState::BlockedOnSend, "nobody waits");
        assert_eq!(ct.fault(), Some(Fault::Timeout { badge: SC_BADGE }));
        syscall(m, SYS_RECV, cep, 0, &[], &[]);
        assert_eq!(ct.state(), ThreadState::BlockedOnReply);
        let timeout = cairn_abi::fault::TIMEOUT;
        // The µs the server used on the context were reported in its own
        // timeout fault: none since.
        assert_eq!(
            timeout_message(m),
            (EP_BADGE, timeout, 2, vec![SC_BADGE, 0])
        );
    } else {
        assert_eq!(ct.state(), ThreadState::Running);
        assert_eq!(received(c, 0).1.label(), 7, "the reply arrived");
        assert_eq!(release_queue().collect::<Vec<_>>(), vec![c]);
    }
    assert!(!ct.in_ready_queue());
}

#[test]
fn a_reply_to_a_client_out_of_budget_becomes_a_timeout_fault() {
    reply_to_a_client_out_of_budget(true);
}

#[test]
fn a_reply_to_a_client_out_of_budget_without_a_handler_is_postponed() {
    reply_to_a_client_out_of_budget(false);
}

#[test]
fn a_sporadic_thread_woken_by_a_send_starts_its_refill_then() {
    let k = boot();
    let ep = object(&k, ObjectType::Endpoint);
    let r = sporadic(&k, 200, 2 * MS, 10 * MS);
    let s = round_robin(&k, 100);
    wait_on(r, ep);
    stop_root(&k);
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(s));
    // 50 ms later the spinner sends; the receiver's head refill, released
    // at 0, starts now (seL4's refill_unblock_check), so its next period
    // counts from now.
    run_until(50 * MS);
    assert_eq!(head(r), (0, 2 * MS));
    as_current(s, SYS_SEND, ep, 3, &[]);
    assert_eq!(head(r), (50 * MS, 2 * MS));
    Api::current_context();
    assert_eq!(kernel().current_tcb(), Some(r));
    run_until(52 * MS + 1);
    assert_eq!(release_queue().collect::<Vec<_>>(), vec![r]);
    assert_eq!(head(r), (60 * MS, 2 * MS), "a period after it began");
}

#[test]
fn a_sporadic_caller_lent_on_receipt_starts_its_refill_then() {
    let k = boot();
    let ep = object(&k, ObjectType::Endpoint);
    // A passive server busy with a round-robin client's call while a
    // sporadic client's call waits; 50 ms later the server's ReplyRecv
    // answers the first and takes the second, on its context, whose
    // refill starts then.
    let a = k.threads(100, 1)[0];
    let b = sporadic(&k, 100, 2 * MS, 10 * MS);
    let s = k.passive_threads(150, 1)[0];
    wait_on(s, ep);
    // The two Calls are made by threads `syscall` makes current in turn
    // (a's may switch straight to the server, which b's then queues).
    syscall(a, SYS_CALL, ep, 1, &[], &[]);
    syscall(b, SYS_CALL, ep, 2, &[], &[]);
    assert_eq!(b.get().state(), ThreadState::BlockedOnSend);
    let bsc = sc_of(b).unwrap().paddr();
    assert_eq!(head(b), (0, 2 * MS));
    // The server works on a's (round-robin) context for 50 ms.
    stop_root(&k);
    assert_eq!(kernel().current_tcb(), Some(s));
    run_until(50 * MS);
    as_current(s, SYS_REPLY_RECV, ep, 0, &[]);
    assert_eq!(received(s, 0).1.label(), 2, "b's call");
    assert_eq!(a.get().state(), ThreadState::Running, "answered");
    assert_eq!(s.get().sched_context(), Some(bsc), "lent");
    assert_eq!(b.get().sched_context(), None);
    assert_eq!(head(s), (50 * MS, 2 * MS));
}
