//! Host tests of the MCS TCB forms (the MCS build only): SetSpace with a
//! fault handler cap, SetSchedParams with a SchedContext and a fault
//! handler, SetTimeoutEndpoint, each error with seL4's data in seL4's
//! order and the state after; the handler slots deleted and revoked with
//! the TCB; fault delivery to the fault-handler slot's endpoint (no
//! lookup) and timeout faults to the timeout-handler slot's. Configure's
//! MCS form runs through the shared tests in `tests_control.rs`.

use super::tests::{free, new_tcb, thread_with_cap, ILLEGAL, INVALID_CAP, RANGE, TRUNCATED};
use super::{Tcb, TcbRef, ThreadState, TCB_CTABLE};
use super::{TCB_FAULT_HANDLER, TCB_TIMEOUT_HANDLER};
use crate::arch::{BADGE_REGISTER, MSG_INFO_REGISTER};
use crate::cap::Cap;
use crate::ipc::endpoint::receive_ipc;
use crate::ipc::fault::{handle_fault, send_timeout_fault};
use crate::ipc::mcs_reply::do_reply_transfer;
use crate::ipc::message::MessageRegs;
use crate::object::reply::ReplyRef;
use crate::object::sched_context::SchedContextRef;
use crate::testutil::{boot, err, ok, Outcome, TestKernel};
use crate::types::{Fault, PAddr};
use cairn_abi::cap::{cnode_cap_data, init};
use cairn_abi::invocation::label as l;
use cairn_abi::message::MessageInfo;
use cairn_abi::object::ObjectType as T;

/// The reply object named by `t`'s reply register (each test thread has
/// one, `TestKernel::thread_in`).
fn reply_of(t: TcbRef) -> ReplyRef {
    let slot = t.get().reg(crate::arch::REPLY_REGISTER);
    let root = Tcb::slot(t, TCB_CTABLE).get().words();
    match crate::cap::lookup::lookup_cap(root, slot) {
        Ok((_, Cap::ReplyObject { ptr, .. })) => ReplyRef::new(ptr),
        other => panic!("no reply cap at {slot}: {other:?}"),
    }
}

/// Cap rights words (`seL4_CapRights_t`): Write (= Send), Read, Grant,
/// GrantReply.
const W: u64 = 1;
const R: u64 = 2;
const G: u64 = 4;
const GR: u64 = 8;

fn slot_cap(t: TcbRef, i: usize) -> Cap {
    Tcb::slot(t, i).get().cap()
}

/// Root slot `src` minted with `rights` and `badge` into a free slot.
fn mint(k: &TestKernel, src: u64, rights: u64, badge: u64) -> u64 {
    let d = free(k);
    let r = k.call(
        init::CNODE,
        l::CNODE_MINT,
        &[d, 64, src, 64, rights, badge],
        &[init::CNODE],
    );
    assert_eq!(r, ok(), "mint");
    d
}

/// An endpoint and handler caps to it: (Send+Grant badge 0x55,
/// Send+GrantReply badge 0x66, Send only, everything but Send).
fn handlers(k: &TestKernel) -> (PAddr, [u64; 4]) {
    let ep = k.make(T::Endpoint, 0, 1)[0];
    let Cap::Endpoint { ptr, .. } = k.cap(ep) else {
        panic!()
    };
    let caps = [
        mint(k, ep, W | G, 0x55),
        mint(k, ep, W | GR, 0x66),
        mint(k, ep, W, 0x77),
        mint(k, ep, R | G | GR, 0x88),
    ];
    (ptr, caps)
}

/// `SchedControl_ConfigureFlags(sc, budget, period, 0 extra, badge, 0)`.
fn configure_sc(k: &TestKernel, sc: u64, budget: u64, period: u64, badge: u64) {
    let ctl = (0..1 << k.radix)
        .find(|&i| matches!(k.cap(i), Cap::SchedControl { .. }))
        .expect("a SchedControl cap");
    let r = k.call(
        ctl,
        l::SCHED_CONTROL_CONFIGURE_FLAGS,
        &[budget, period, 0, badge, 0],
        &[sc],
    );
    assert_eq!(r, ok(), "configure");
}

fn sc_at(k: &TestKernel, slot: u64) -> SchedContextRef {
    let Cap::SchedContext { ptr, size_bits } = k.cap(slot) else {
        panic!("no SchedContext in {slot}")
    };
    SchedContextRef::new(ptr, size_bits)
}

#[test]
fn valid_fault_handlers_are_null_or_endpoints_that_send_and_grant() {
    use super::mcs::valid_fault_handler as valid;
    use cairn_abi::cap::CapRights;
    let ep = |rights| Cap::Endpoint {
        ptr: PAddr(0x8000_0000),
        badge: 0,
        rights,
    };
    assert!(valid(&Cap::Null));
    assert!(valid(&ep(CapRights::new(false, true, false, true))));
    assert!(valid(&ep(CapRights::new(true, false, false, true))));
    assert!(
        !valid(&ep(CapRights::new(true, true, true, false))),
        "no Send"
    );
    assert!(
        !valid(&ep(CapRights::new(false, false, true, true))),
        "no Grant"
    );
    assert!(!valid(&Cap::Domain));
}

#[test]
fn set_space_installs_the_fault_handler_cap_after_the_roots_checks() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let (_, [sg, sgr, send_only, no_send]) = handlers(&k);
    let ntfn = k.make(T::Notification, 0, 1)[0];
    let (c, v) = (init::CNODE, init::VSPACE);
    let call = |mrs: &[u64], caps: &[u64]| k.call(slot, l::TCB_SET_SPACE, mrs, caps);
    assert_eq!(call(&[0], &[sg, c, v]), err(TRUNCATED, &[]));
    assert_eq!(call(&[0, 0], &[sg, c]), err(TRUNCATED, &[]));
    // The roots are checked first.
    assert_eq!(call(&[0, 0], &[send_only, v, v]), err(ILLEGAL, &[]));
    assert_eq!(call(&[0, 0], &[send_only, c, c]), err(ILLEGAL, &[]));
    for bad in [send_only, no_send, ntfn, init::CNODE] {
        assert_eq!(call(&[0, 0], &[bad, c, v]), err(INVALID_CAP, &[1]));
    }
    assert_eq!(
        slot_cap(t, TCB_CTABLE),
        Cap::Null,
        "failures change nothing"
    );
    assert_eq!(slot_cap(t, TCB_FAULT_HANDLER), Cap::Null);
    // The cap data is in MR0 now (no fault endpoint word).
    let cn = k.make(T::CapTable, 4, 1)[0];
    assert_eq!(call(&[cnode_cap_data(3, 2), 0], &[sg, cn, v]), ok());
    let Cap::CNode {
        radix,
        guard_size,
        guard,
        ..
    } = slot_cap(t, TCB_CTABLE)
    else {
        panic!("no CSpace root")
    };
    assert_eq!((radix, guard_size, guard), (4, 2, 3));
    assert_eq!(slot_cap(t, TCB_FAULT_HANDLER), k.cap(sg), "as it is");
    assert_eq!(call(&[0, 0], &[sgr, c, v]), ok());
    assert_eq!(slot_cap(t, TCB_FAULT_HANDLER), k.cap(sgr));
    // An empty slot: no handler.
    assert_eq!(call(&[0, 0], &[free(&k), c, v]), ok());
    assert_eq!(slot_cap(t, TCB_FAULT_HANDLER), Cap::Null);
}

#[test]
fn handler_slots_are_revoked_and_deleted_with_the_tcb() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let (_, [sg, sgr, ..]) = handlers(&k);
    let (c, v) = (init::CNODE, init::VSPACE);
    assert_eq!(k.call(slot, l::TCB_SET_SPACE, &[0, 0], &[sg, c, v]), ok());
    assert_eq!(k.call(slot, l::TCB_SET_TIMEOUT_ENDPOINT, &[], &[sgr]), ok());
    assert_eq!(
        k.slot(sg).get().next(),
        Some(Tcb::slot(t, TCB_FAULT_HANDLER))
    );
    // Revoking the source takes the handler away.
    assert_eq!(k.call(c, l::CNODE_REVOKE, &[sg, 64], &[]), ok());
    assert_eq!(slot_cap(t, TCB_FAULT_HANDLER), Cap::Null);
    assert_eq!(slot_cap(t, TCB_TIMEOUT_HANDLER), k.cap(sgr));
    // Deleting the last cap to the TCB empties all its slots.
    assert_eq!(k.call(c, l::CNODE_DELETE, &[slot, 64], &[]), ok());
    assert_eq!(slot_cap(t, TCB_TIMEOUT_HANDLER), Cap::Null);
    assert_eq!(slot_cap(t, TCB_CTABLE), Cap::Null);
    assert_ne!(
        k.slot(sgr).get().next(),
        Some(Tcb::slot(t, TCB_TIMEOUT_HANDLER)),
        "no copy left in the tree"
    );
}

#[test]
fn set_timeout_endpoint_installs_a_valid_handler() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let (_, [sg, sgr, send_only, _]) = handlers(&k);
    let call = |caps: &[u64]| k.call(slot, l::TCB_SET_TIMEOUT_ENDPOINT, &[], caps);
    assert_eq!(call(&[]), err(TRUNCATED, &[]));
    assert_eq!(call(&[init::TCB]), err(INVALID_CAP, &[1]));
    assert_eq!(call(&[send_only]), err(INVALID_CAP, &[1]));
    assert_eq!(slot_cap(t, TCB_TIMEOUT_HANDLER), Cap::Null);
    assert!(!Tcb::has_timeout_handler(t));
    assert_eq!(call(&[sgr]), ok());
    assert_eq!(slot_cap(t, TCB_TIMEOUT_HANDLER), k.cap(sgr));
    assert!(Tcb::has_timeout_handler(t), "read from the slot's tag");
    assert_eq!(slot_cap(t, TCB_FAULT_HANDLER), Cap::Null, "only its slot");
    assert_eq!(call(&[sg]), ok());
    assert_eq!(slot_cap(t, TCB_TIMEOUT_HANDLER), k.cap(sg));
    assert!(Tcb::has_timeout_handler(t));
    assert_eq!(call(&[free(&k)]), ok());
    assert_eq!(slot_cap(t, TCB_TIMEOUT_HANDLER), Cap::Null);
    assert!(!Tcb::has_timeout_handler(t));
    // Only an endpoint is a handler (the slot never holds another cap:
    // `valid_fault_handler`; written here by hand).
    Tcb::slot(t, TCB_TIMEOUT_HANDLER)
        .get()
        .set_cap(k.cap(init::TCB));
    assert!(!Tcb::has_timeout_handler(t));
    Tcb::slot(t, TCB_TIMEOUT_HANDLER).get().set_cap(Cap::Null);
}

#[test]
fn set_sched_params_checks_in_sel4s_order() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let (weak, weak_tcb) = new_tcb(&k);
    weak_tcb.get().set_mcp(10);
    let [sc, sc2] = k.make(T::SchedContext, 8, 2)[..] else {
        panic!()
    };
    let (_, [sg, _, send_only, _]) = handlers(&k);
    let null = free(&k);
    let a = init::TCB;
    let call = |mrs: &[u64], caps: &[u64]| k.call(slot, l::TCB_SET_SCHED_PARAMS, mrs, caps);
    let cases: [(&[u64], [u64; 3], Outcome, &str); 10] = [
        (&[1], [a, sc, sg], err(TRUNCATED, &[]), "one word"),
        (
            &[1, 1],
            [init::VSPACE, sc, sg],
            err(INVALID_CAP, &[1]),
            "authority",
        ),
        (&[11, 1], [weak, sc, sg], err(RANGE, &[0, 10]), "MCP first"),
        (
            &[1, 11],
            [weak, sc, sg],
            err(RANGE, &[0, 10]),
            "then priority",
        ),
        (
            &[1, 1],
            [a, init::CNODE, send_only],
            err(INVALID_CAP, &[2]),
            "sc",
        ),
        (
            &[1, 1],
            [a, init::SC, send_only],
            err(ILLEGAL, &[]),
            "sc bound",
        ),
        (
            &[1, 1],
            [a, sc, send_only],
            err(INVALID_CAP, &[3]),
            "handler last",
        ),
        (
            &[1, 1],
            [a, sc, init::CNODE],
            err(INVALID_CAP, &[3]),
            "handler",
        ),
        (
            &[1, 1],
            [a, null, send_only],
            err(INVALID_CAP, &[3]),
            "null sc",
        ),
        (&[1, 1], [a, sc2, null], ok(), "binds sc2"),
    ];
    for (mrs, caps, want, what) in cases {
        assert_eq!(call(mrs, &caps), want, "{what}");
    }
    assert_eq!(call(&[1, 1], &[a, sc]), err(TRUNCATED, &[]), "two caps");
    assert_eq!((t.get().mcp(), t.get().priority()), (1, 1));
    assert_eq!(t.get().sched_context(), Some(sc_at(&k, sc2).paddr()));
    // A thread with a SchedContext cannot take another.
    assert_eq!(call(&[1, 1], &[a, sc, null]), err(ILLEGAL, &[]));
    // The running thread cannot lose its own.
    let r = k.call(
        init::TCB,
        l::TCB_SET_SCHED_PARAMS,
        &[255, 255],
        &[a, null, null],
    );
    assert_eq!(r, err(ILLEGAL, &[]));
    assert!(k.tcb.get().sched_context().is_some());
    // A blocked thread needs a context whose budget is released.
    let (_, blocked) = new_tcb(&k);
    block_in_recv(&k, blocked);
    let bslot = super::tests::put(
        &k,
        Cap::Thread {
            tcb: blocked.paddr(),
        },
    );
    let null = free(&k);
    crate::testutil::set_time(1_000);
    configure_sc(&k, sc, 1_000, 4_000, 0);
    crate::testutil::set_time(999);
    let r = k.call(bslot, l::TCB_SET_SCHED_PARAMS, &[0, 0], &[a, sc, null]);
    assert_eq!(r, err(ILLEGAL, &[]));
    assert_eq!(blocked.get().sched_context(), None);
    crate::testutil::set_time(1_000);
    let r = k.call(bslot, l::TCB_SET_SCHED_PARAMS, &[0, 0], &[a, sc, null]);
    assert_eq!(r, ok());
    assert_eq!(blocked.get().sched_context(), Some(sc_at(&k, sc).paddr()));
}

#[test]
fn set_sched_params_binds_unbinds_and_installs_the_fault_handler() {
    let k = boot();
    let (slot, t) = thread_with_cap(&k, 10);
    // It binds a SchedContext of its own.
    k.without_sched_context(t);
    let sc = k.make(T::SchedContext, 8, 1)[0];
    let r = sc_at(&k, sc);
    configure_sc(&k, sc, 1_000, 4_000, 0);
    let (_, [sg, ..]) = handlers(&k);
    let null = free(&k);
    let call = |mrs: &[u64], caps: &[u64]| k.call(slot, l::TCB_SET_SCHED_PARAMS, mrs, caps);
    crate::state::kernel().set_action(crate::sched::Action::ResumeCurrent);
    assert_eq!(call(&[20, 30], &[init::TCB, sc, sg]), ok());
    let tcb = t.get();
    assert_eq!((tcb.mcp(), tcb.priority()), (20, 30));
    assert_eq!(
        (tcb.sched_context(), r.tcb()),
        (Some(r.paddr()), Some(t.paddr()))
    );
    assert!(tcb.in_ready_queue(), "runnable on a configured context");
    assert_eq!(slot_cap(t, TCB_FAULT_HANDLER), k.cap(sg));
    // The same context again changes nothing but what is asked.
    assert_eq!(call(&[20, 5], &[init::TCB, sc, null]), ok());
    assert_eq!((tcb.priority(), tcb.sched_context()), (5, Some(r.paddr())));
    assert_eq!(slot_cap(t, TCB_FAULT_HANDLER), Cap::Null);
    // A null cap unbinds it: off the ready queue.
    assert_eq!(call(&[20, 5], &[init::TCB, null, null]), ok());
    assert_eq!((tcb.sched_context(), r.tcb()), (None, None));
    assert!(!tcb.in_ready_queue());
    // Unbinding a thread that has none is no change.
    assert_eq!(call(&[20, 5], &[init::TCB, null, null]), ok());
}

/// A thread made by `k.threads` with a cap, whose fault handler is the
/// handler cap in root slot `fh` (installed by SetSpace).
fn faulting_thread(k: &TestKernel, fh: u64) -> TcbRef {
    let (slot, t) = thread_with_cap(k, 10);
    let r = k.call(
        slot,
        l::TCB_SET_SPACE,
        &[0, 0],
        &[fh, init::CNODE, init::VSPACE],
    );
    assert_eq!(r, ok());
    t
}

/// What `h` received: (badge, label, length, first `n` MRs).
fn received(h: TcbRef, n: usize) -> (u64, u64, u64, Vec<u64>) {
    let info = MessageInfo(h.get().reg(MSG_INFO_REGISTER));
    let regs = MessageRegs::of(h, false);
    (
        h.get().reg(BADGE_REGISTER),
        info.label(),
        info.length(),
        (0..n).map(|i| regs.get(i)).collect(),
    )
}

#[test]
fn a_fault_goes_to_the_handler_slots_endpoint_without_a_lookup() {
    let k = boot();
    let (ep, [sg, ..]) = handlers(&k);
    let t = faulting_thread(&k, sg);
    // The source cap goes; the TCB's copy is what counts.
    assert_eq!(k.call(init::CNODE, l::CNODE_DELETE, &[sg, 64], &[]), ok());
    t.get().set_pc(0x4000);
    let fault = Fault::VmFault {
        addr: 0x4008,
        fsr: 1,
        instruction: false,
    };
    handle_fault(t, fault);
    let tcb = t.get();
    assert_eq!(tcb.state(), ThreadState::BlockedOnSend);
    assert_eq!((tcb.blocking_object(), tcb.blocking_badge()), (ep.0, 0x55));
    // Sent, not called (seL4 16.0.0's MCS `sendFaultIPC`): the fault
    // itself makes the receiver take a reply (below).
    assert!(!tcb.blocking_ipc().is_call && tcb.blocking_ipc().can_grant);
    assert_eq!(tcb.fault(), Some(fault));
    // A handler receives the fault message with the badge.
    let h = k.threads(10, 1)[0];
    receive_ipc(h, ep, true, true, Some(reply_of(h)));
    let vm = cairn_abi::fault::VM_FAULT;
    assert_eq!(received(h, 4), (0x55, vm, 4, vec![0x4000, 0x4008, 0, 1]));
    assert_eq!(tcb.state(), ThreadState::BlockedOnReply);
}

#[test]
fn a_thread_without_a_fault_handler_becomes_inactive() {
    let k = boot();
    let t = k.threads(10, 1)[0];
    // The classic cptr field is not looked at under MCS.
    t.get().set_fault_handler(init::CNODE);
    handle_fault(t, Fault::UnknownSyscall { number: 99 });
    assert_eq!(t.get().state(), ThreadState::Inactive);
    assert_eq!(t.get().fault(), None, "nothing stored");
}

#[test]
fn timeout_faults_go_to_the_timeout_handler_with_badge_and_consumed_time() {
    let k = boot();
    let (ep, [_, sgr, ..]) = handlers(&k);
    let (slot, t) = thread_with_cap(&k, 10);
    // It binds a SchedContext of its own.
    k.without_sched_context(t);
    let sc = k.make(T::SchedContext, 8, 1)[0];
    configure_sc(&k, sc, 1_000, 4_000, 0xBAD);
    let null = free(&k);
    let r = k.call(
        slot,
        l::TCB_SET_SCHED_PARAMS,
        &[0, 10],
        &[init::TCB, sc, null],
    );
    assert_eq!(r, ok());
    // No timeout handler: nothing happens.
    assert!(!send_timeout_fault(t));
    assert_eq!(
        (t.get().state(), t.get().fault()),
        (ThreadState::Running, None)
    );
    assert_eq!(k.call(slot, l::TCB_SET_TIMEOUT_ENDPOINT, &[], &[sgr]), ok());
    sc_at(&k, sc).set_consumed(12_345); // 10 ticks a µs
    crate::sched::dequeue(t);
    assert!(send_timeout_fault(t));
    assert_eq!(t.get().state(), ThreadState::BlockedOnSend);
    assert_eq!(t.get().fault(), Some(Fault::Timeout { badge: 0xBAD }));
    let h = k.threads(10, 1)[0];
    receive_ipc(h, ep, true, true, Some(reply_of(h)));
    let timeout = cairn_abi::fault::TIMEOUT;
    assert_eq!(received(h, 2), (0x66, timeout, 2, vec![0xBAD, 1_234]));
    assert_eq!(
        sc_at(&k, sc).consumed(),
        0,
        "taken (the rest of a µs dropped)"
    );
    // The reply carries seL4_UserContext: pc, ra; label 0 restarts.
    let reply = |label, words: &[u64]| {
        let regs = MessageRegs::of(h, true);
        for (i, w) in words.iter().enumerate() {
            regs.set(i, *w);
        }
        let info = MessageInfo::new(label, 0, 0, words.len() as u64);
        h.get().set_reg(MSG_INFO_REGISTER, info.0);
        do_reply_transfer(h, reply_of(h), false);
    };
    reply(0, &[0x9000, 0x1234]);
    assert_eq!(t.get().state(), ThreadState::Restart);
    assert_eq!(
        (t.get().fault_ip(), t.get().user_register(1)),
        (0x9000, 0x1234)
    );
    assert_eq!(t.get().fault(), None);
    // A non-zero label stops it; a thread with no SchedContext sends only
    // the badge (0).
    let null = free(&k);
    assert_eq!(
        k.call(
            slot,
            l::TCB_SET_SCHED_PARAMS,
            &[0, 10],
            &[init::TCB, null, null]
        ),
        ok()
    );
    crate::sched::dequeue(t);
    assert!(send_timeout_fault(t));
    receive_ipc(h, ep, true, true, Some(reply_of(h)));
    assert_eq!(received(h, 1), (0x66, timeout, 1, vec![0]));
    reply(1, &[]);
    assert_eq!(t.get().state(), ThreadState::Inactive);
}

/// Makes `t` wait in an endpoint's receive queue (as its Recv would),
/// so that what the kernel does to a blocked thread (MCS: move it in the
/// queue when its priority changes) finds a queue.
fn block_in_recv(k: &crate::testutil::TestKernel, t: crate::object::tcb::TcbRef) {
    use crate::object::endpoint::{EndpointRef, EndpointState};
    let Cap::Endpoint { ptr, .. } = k.cap(k.make(T::Endpoint, 0, 1)[0]) else {
        panic!("no endpoint")
    };
    t.get().set_blocking(ptr.0, 0, Default::default());
    t.get().set_state(ThreadState::BlockedOnReceive);
    let ep = &EndpointRef::new(ptr).get().queue;
    let mut q = ep.tcbs();
    q.append(t);
    ep.store(q, EndpointState::Recv);
}
