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
