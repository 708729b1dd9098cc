//! MCS: the refinement test's IPC steps (docs/spec.md, "The MCS
//! configuration"): Call, Send, NBSend, Recv and NBRecv with a reply
//! object, ReplyRecv, NBSendRecv, NBSendWait, Wait, NBWait and Yield by
//! any thread that can run (a runnable thread on a configured
//! SchedContext of its own or lent to it), with the reply register (a6:
//! a window reply object mostly, else any cap) and NBSendRecv's
//! destination (t0) set first; invocations of reply objects (the reply
//! to a Call) by Send, Call and the send phases. The world (`setup`):
//! three reply objects in the window, the setup threads on round-robin
//! SchedContexts of their own, except the one of priority 200, a
//! passive server blocked on Recv on the first endpoint with the first
//! reply object (it runs only on a caller's context).

use super::{ipc, Ipc, Pair, Target};
use crate::object::tcb::TcbRef;
use crate::types::PAddr;
use cairn_spec::thread::{A6, T0};
use cairn_spec::Syscall;
use proptest::prelude::*;

/// An IPC step with the registers the MCS system calls read besides the
/// message: the reply object's cptr (a6) and NBSendRecv's destination
/// (t0).
#[derive(Clone, Debug)]
pub(in crate::cap::proptests) struct McsIpc {
    ipc: Ipc,
    reply: Target,
    dest: Target,
}

pub(super) fn mcs_ipc() -> impl Strategy<Value = McsIpc> {
    use Syscall::*;
    let sys = prop_oneof![
        4 => Just(Call),
        3 => Just(Send),
        1 => Just(NBSend),
        5 => Just(Recv),
        1 => Just(NBRecv),
        4 => Just(ReplyRecv),
        2 => Just(NBSendRecv),
        1 => Just(NBSendWait),
        2 => Just(Wait),
        1 => Just(NBWait),
        1 => Just(Yield),
    ];
    // The send phase's cap: a reply object mostly (ReplyRecv answers a
    // Call), an endpoint or notification, anything.
    let reply = prop_oneof![
        8 => any::<u8>().prop_map(Target::Reply),
        1 => any::<u8>().prop_map(Target::Ep),
        1 => (0..super::WIN as u8).prop_map(Target::Win),
        1 => prop_oneof![Just(0u64), any::<u64>()].prop_map(Target::Raw),
    ];
    let dest = prop_oneof![
        4 => any::<u8>().prop_map(Target::Ep),
        2 => any::<u8>().prop_map(Target::Reply),
        1 => any::<u8>().prop_map(Target::Ntfn),
        1 => (0..super::WIN as u8).prop_map(Target::Win),
    ];
    (sys, ipc(), reply, dest).prop_map(|(sys, mut ipc, reply, dest)| {
        // The classic generator's Reply and unknown numbers become one of
        // these; its caps, words and extra caps stay.
        ipc.sys = sys;
        McsIpc { ipc, reply, dest }
    })
}

/// Three reply objects in window slots 3..6 (from the first pool); the
/// thread of priority 200 (`thread_caps[1]`) made passive: blocked on
/// Recv on the first endpoint with the first reply object, without a
/// SchedContext.
pub(super) fn setup(w: &mut super::World, thread_caps: &[u64]) {
    use cairn_abi::object::ObjectType as T;
    let pool = w.cptr(super::Loc::Boot(0));
    let r = w.k.retype(pool, T::Reply as u64, 0, w.win + 3, 3);
    assert_eq!(r, crate::testutil::ok());
    let Some(&slot) = thread_caps.get(1) else {
        return;
    };
    let crate::cap::Cap::Thread { tcb } = w.k.cap(slot) else {
        return;
    };
    let (crate::cap::Cap::Endpoint { ptr: ep, .. }, crate::cap::Cap::ReplyObject { ptr, .. }) =
        (w.k.cap(w.win), w.k.cap(w.win + 3))
    else {
        return;
    };
    let t = TcbRef::new(tcb);
    crate::sched::dequeue(t);
    let reply = crate::object::reply::ReplyRef::new(ptr);
    crate::ipc::endpoint::receive_ipc(t, ep, true, true, Some(reply));
    w.k.without_sched_context(t);
}

impl Pair {
    /// `t` makes the MCS IPC step `i`: its a6 and t0 are set on both,
    /// then the call is made as the classic IPC steps make theirs.
    pub(super) fn mcs_ipc(&mut self, t: u64, i: &McsIpc) {
        let regs = [(A6, self.target(i.reply)), (T0, self.target(i.dest))];
        let tcb = TcbRef::new(PAddr(t));
        for (r, v) in regs {
            tcb.get().set_user_register(r, v);
            if let Some(x) = self.spec.thread_mut(t) {
                x.context[r] = v;
            }
        }
        self.ipc(t, &i.ipc);
    }
}

/// A Call to the passive server lends it the caller's SchedContext
/// (pushed on the context's call stack with the server's reply object);
/// the server's ReplyRecv answers through that object and gives the
/// context back, and the server waits again without one. Kernel and
/// spec compared after each step, and the links checked.
#[test]
fn a_call_lends_the_context_to_a_passive_server_and_the_reply_returns_it() {
    use cairn_spec::{Invocation, ThreadState as S};
    let mut p = Pair::with_threads();
    let (root, win) = (p.root_tcb, p.w.win);
    let server = match p.w.k.cap(p.thread_caps[1]) {
        crate::cap::Cap::Thread { tcb } => tcb.0,
        _ => panic!("no server"),
    };
    let reply = match p.w.k.cap(win + 3) {
        crate::cap::Cap::ReplyObject { ptr, .. } => ptr.0,
        _ => panic!("no reply object"),
    };
    let root_sc = p.spec.sc_of_tcb(root).expect("the root thread's context");
    assert_eq!(p.spec.sc_of_tcb(server), None);
    let inv = |words: Vec<u64>| Invocation {
        cptr: win,
        label: 5,
        words,
        extra: vec![],
    };
    p.syscall(root, Syscall::Call, &inv(vec![7, 8]), None, None, &"call");
    p.compare(&"call");
    assert_eq!(p.spec.state_of(root), S::BlockedOnReply);
    assert_eq!(p.spec.sc_of_tcb(server), Some(root_sc));
    assert_eq!(p.spec.reply_tcb(reply), Some(root));
    assert_eq!(p.spec.sc(root_sc).and_then(|s| s.reply), Some(reply));
    assert_eq!(
        p.spec.thread(server).map(|t| t.mrs[..2].to_vec()),
        Some(vec![7, 8])
    );
    TcbRef::new(PAddr(server))
        .get()
        .set_user_register(A6, win + 3);
    if let Some(x) = p.spec.thread_mut(server) {
        x.context[A6] = win + 3;
    }
    p.syscall(
        server,
        Syscall::ReplyRecv,
        &inv(vec![9]),
        None,
        None,
        &"reply",
    );
    p.compare(&"reply");
    assert_eq!(p.spec.state_of(root), S::Running);
    assert_eq!(p.spec.thread(root).map(|t| t.mrs[0]), Some(9));
    assert_eq!(p.spec.sc_of_tcb(root), Some(root_sc));
    assert_eq!(p.spec.sc_of_tcb(server), None);
    assert_eq!(p.spec.sc(root_sc).and_then(|s| s.reply), None);
    assert!(matches!(
        p.spec.state_of(server),
        S::BlockedOnReceive { .. }
    ));
    assert_eq!(p.spec.reply_tcb(reply), Some(server));
}

/// Found by the 1 000 000-step MCS run (`cargo xtask spec --config
/// mcs=on --steps 1000000 --seed 9101`, seed 9102, shrunk to eleven
/// steps; the spec was wrong): a passive thread that waits on a
/// notification with a signal pending runs on the context bound to the
/// notification, as when a signal wakes it (seL4 16.0.0's
/// `receiveSignal` and `completeSignal` call `maybeDonateSchedContext`
/// too). Here the passive server, answering the root thread's Call on
/// its lent context, replies and waits on the notification the root
/// thread signalled: it gets the notification's (unconfigured) context.
#[test]
fn a_passive_thread_taking_a_pending_signal_runs_on_the_notifications_context() {
    use cairn_spec::Invocation;
    let mut p = Pair::with_threads();
    let (root, win) = (p.root_tcb, p.w.win);
    let server = match p.w.k.cap(p.thread_caps[1]) {
        crate::cap::Cap::Thread { tcb } => tcb.0,
        _ => panic!("no server"),
    };
    let pool = p.w.cptr(super::Loc::Boot(0));
    let sc_type = cairn_abi::object::ObjectType::SchedContext as u64;
    assert_eq!(
        p.w.k.retype(pool, sc_type, 7, win + 6, 1),
        crate::testutil::ok()
    );
    p.w.check();
    p.spec = Pair::spec_of(&p.w);
    let inv = |cptr: u64, label: u64, extra: Vec<u64>| Invocation {
        cptr,
        label,
        words: vec![],
        extra,
    };
    let bind = inv(win + 6, cairn_spec::sched_context::BIND, vec![win + 2]);
    p.syscall(root, Syscall::Call, &bind, None, None, &"bind");
    p.syscall(
        root,
        Syscall::Send,
        &inv(win + 2, 0, vec![]),
        None,
        None,
        &"signal",
    );
    p.syscall(
        root,
        Syscall::Call,
        &inv(win, 0, vec![]),
        None,
        None,
        &"call",
    );
    p.compare(&"call");
    let sc = match p.w.k.cap(win + 6) {
        crate::cap::Cap::SchedContext { ptr, .. } => ptr.0,
        _ => panic!("no SchedContext"),
    };
    assert_eq!(
        p.spec.sc(sc).and_then(|s| s.ntfn),
        Some(ntfn_of(&p, win + 2))
    );
    TcbRef::new(PAddr(server))
        .get()
        .set_user_register(A6, win + 3);
    if let Some(x) = p.spec.thread_mut(server) {
        x.context[A6] = win + 3;
    }
    let wait = inv(win + 2, 0, vec![]);
    p.syscall(
        server,
        Syscall::ReplyRecv,
        &wait,
        None,
        None,
        &"reply, wait",
    );
    p.compare(&"reply, wait");
    assert_eq!(p.spec.sc_of_tcb(server), Some(sc));
}

/// The notification the cap in root slot `cptr` names.
fn ntfn_of(p: &Pair, cptr: u64) -> u64 {
    match p.w.k.cap(cptr) {
        crate::cap::Cap::Notification { ptr, .. } => ptr.0,
        c => panic!("no notification: {c:?}"),
    }
}
