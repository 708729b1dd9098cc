//! The user library's ordinary IPC calls on the MCS kernel: a server
//! receives with `Endpoint::recv(reply)`, answers and receives again with
//! `Endpoint::reply_recv(msg, reply)`, and answers the last Call with
//! `Reply::send`, all through one reply object; the client's Calls see
//! the answers, and the reply object is left linked to nobody.

use crate::ctx::{expect, prepare_thread, Ctx, Outcome, ROOT_PRIO, THREAD_PRIO};
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::cap::init_caps;
use sel4::{CPtr, CapRights, Endpoint, Message, Notification, ObjectType};
use sel4::{Reply, SchedContext, Tcb, Word};

/// The badge of the client's endpoint cap.
const BADGE: Word = 0x5EED;
/// The client's endpoint cap and done notification (set before Resume).
static CLIENT_EP: AtomicU64 = AtomicU64::new(0);
static DONE: AtomicU64 = AtomicU64::new(0);
/// What each of the client's two Calls got back: label and MR5 (a word
/// past the registers, read from the client's IPC buffer).
static ANSWERS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

fn client(_: usize) {
    let ep = Endpoint::from_bits(CLIENT_EP.load(Ordering::SeqCst));
    for k in 0..2u64 {
        let m = ep.call(&Message::new(10 + k, &[1, 2, 3, 4, 5, 6 + k], &[]));
        ANSWERS[2 * k as usize].store(m.label(), Ordering::SeqCst);
        ANSWERS[2 * k as usize + 1].store(m.mr(5), Ordering::SeqCst);
    }
    Notification::from_bits(DONE.load(Ordering::SeqCst)).signal();
}

/// The label and words 0 and 5 of a received message, and its badge.
fn seen(badge: Word, m: &Message) -> [Word; 4] {
    [badge, m.label(), m.mr(0), m.mr(5)]
}

pub(crate) fn recv_and_reply_through_the_library(ctx: &mut Ctx) -> Outcome {
    let tcb = Tcb::from(ctx.make(ObjectType::Tcb, 0)?);
    let sc = SchedContext::from(ctx.make(ObjectType::SchedContext, 8)?);
    let ep = Endpoint::from(ctx.make(ObjectType::Endpoint, 0)?);
    let reply = Reply::from(ctx.make(ObjectType::Reply, 0)?);
    let done = Notification::from(ctx.make(ObjectType::Notification, 0)?);
    let badged = ctx.mint(ep.cptr(), CapRights::ALL, BADGE)?;
    CLIENT_EP.store(badged.0, Ordering::SeqCst);
    // Badged, so that the wait's word shows the client signalled.
    let done_badged = ctx.mint(done.cptr(), CapRights::ALL, 1)?;
    DONE.store(done_badged.0, Ordering::SeqCst);
    let ctl = ctx.sched_control();
    expect(ctl.configure_flags(sc, 20_000, 40_000, 0, 0, 0), Ok(()), "configure")?;
    let auth = init_caps::TCB;
    expect(auth.set_priority(auth, ROOT_PRIO), Ok(()), "root priority")?;
    prepare_thread(ctx, tcb, client, 0)?;
    let r = tcb.set_sched_params(auth, THREAD_PRIO, THREAD_PRIO, sc.cptr(), CPtr::NULL);
    expect(r, Ok(()), "SetSchedParams")?;
    // The client (above the root) runs at once and blocks in its first
    // Call, queued on the endpoint.
    expect(tcb.resume(), Ok(()), "Resume")?;

    let (badge, m) = ep.recv(reply);
    if seen(badge, &m) != [BADGE, 10, 1, 6] {
        return Err("Recv: not the first Call's badge and message");
    }
    if sel4::debug::cap_identify(reply.cptr()) != sel4::tag::REPLY {
        return Err("the reply slot holds no reply object");
    }
    // Answers the first Call; the client runs, Calls again and blocks; the
    // receive half of ReplyRecv gets that Call.
    let (badge, m) = ep.reply_recv(&Message::new(20, &[0, 0, 0, 0, 0, 21], &[]), reply);
    if seen(badge, &m) != [BADGE, 11, 1, 7] {
        return Err("ReplyRecv: not the second Call's badge and message");
    }
    if ANSWERS[0].load(Ordering::SeqCst) != 20 || ANSWERS[1].load(Ordering::SeqCst) != 21 {
        return Err("the first Call did not get ReplyRecv's answer");
    }
    reply.send(&Message::new(30, &[0, 0, 0, 0, 0, 31], &[]));
    if done.wait() != 1 {
        return Err("the client did not signal after its second Call");
    }
    if ANSWERS[2].load(Ordering::SeqCst) != 30 || ANSWERS[3].load(Ordering::SeqCst) != 31 {
        return Err("the second Call did not get the reply object's answer");
    }
    // Used up: a second answer reaches nobody, and nothing is pending.
    reply.send(&Message::new(40, &[], &[]));
    if ANSWERS[2].load(Ordering::SeqCst) != 30 {
        return Err("a used-up reply object answered again");
    }
    let (badge, m) = ep.nb_recv(reply);
    if (badge, m.label(), m.len()) != (0, 0, 0) {
        return Err("NBRecv found a message on an idle endpoint");
    }
    expect(tcb.suspend(), Ok(()), "Suspend")?;
    expect(sc.unbind_object(tcb.cptr()), Ok(()), "UnbindObject")
}
