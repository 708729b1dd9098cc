//! Endpoint IPC between the root thread and workers.

use super::worker::{clear, get, set, start};
use crate::fixture::{expect_eq, expect_ok, expect_tag, failure, mint, Env, ROOT};
use crate::framework::{Ctx, TestResult};
use sel4::ipc_buffer::{set_cap_receive_path, with_ipc_buffer};
use sel4::{tag, CPtr, CapRights, Endpoint, Message, Notification, ObjectType, Word};

/// Priority of the root thread, and of workers that run on its yields.
const PRIO: Word = 255;

/// A minted copy of `src` with `rights` and `badge`.
fn minted(
    env: &Env<'_>,
    src: Word,
    rights: CapRights,
    badge: Word,
) -> Result<Word, crate::framework::Failure> {
    let d = env.slot()?;
    expect_ok(mint(d, src, rights, badge), "Mint")?;
    Ok(d)
}

fn done(env: &Env<'_>) -> Result<Word, crate::framework::Failure> {
    env.create(ObjectType::Notification, 0)
}

/// Worker: Recv on board[0], record badge, label, length and six MRs in
/// board[1..10], signal board[10].
fn record_one(_: usize) {
    let (badge, m) = crate::forms::recv(Endpoint::from_bits(get(0)));
    set(1, badge);
    set(2, m.label());
    set(3, m.len() as Word);
    for i in 0..6 {
        set(4 + i, m.mr(i));
    }
    Notification::from_bits(get(10)).signal();
}

pub(super) fn send_then_recv(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    let b = minted(&env, ep, CapRights::ALL, 0x51)?;
    set(0, ep);
    set(10, done(&env)?);
    start(&env, 0, record_one, 0, PRIO, CPtr::NULL)?;
    // No receiver yet: the Send blocks until the worker's Recv.
    Endpoint::from_bits(b).send(&Message::new(7, &[1, 2, 3, 4, 5, 6], &[]));
    Notification::from_bits(get(10)).wait();
    expect_eq(
        (get(1), get(2), get(3)),
        (0x51, 7, 6),
        "badge, label, length",
    )?;
    let mrs: [Word; 6] = core::array::from_fn(|i| get(4 + i));
    expect_eq(
        mrs,
        [1, 2, 3, 4, 5, 6],
        "MRs (4 and 5 through the IPC buffers)",
    )
}

fn send_one(_: usize) {
    Endpoint::from_bits(get(0)).send(&Message::new(3, &[0xAB, 0xCD], &[]));
}

pub(super) fn recv_then_send(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, minted(&env, ep, CapRights::ALL, 0x52)?);
    start(&env, 0, send_one, 0, PRIO, CPtr::NULL)?;
    let (badge, m) = crate::forms::recv(Endpoint::from_bits(ep));
    expect_eq(
        (badge, m.label(), m.copy_mrs(&mut [0; 8])),
        (0x52, 3, &[0xAB, 0xCD][..]),
        "received",
    )
}

/// Worker: a server answering each Call with MR0 + 1 (label MR0 too).
fn server(_: usize) {
    let ep = Endpoint::from_bits(get(0));
    let (_, mut m) = crate::forms::recv(ep);
    loop {
        let v = m.mr(0);
        let (_, next) = crate::forms::reply_recv(ep, &Message::new(v, &[v + 1], &[]));
        m = next;
    }
}

pub(super) fn call_reply_recv(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    start(&env, 0, server, 0, PRIO, CPtr::NULL)?;
    for v in [10, 20, 30, 40] {
        let reply = Endpoint::from_bits(ep).call(&Message::new(1, &[v], &[]));
        expect_eq(
            (reply.label(), reply.copy_mrs(&mut [0; 8])),
            (v, &[v + 1][..]),
            "reply",
        )?;
    }
    Ok(())
}

/// Worker: Call board[0], then set board[1] (only if ever replied to).
fn caller(_: usize) {
    Endpoint::from_bits(get(0)).call(&Message::new(5, &[0x5A], &[]));
    set(1, 1);
    Notification::from_bits(get(10)).signal();
}

pub(super) fn call_without_grant(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, minted(&env, ep, CapRights::READ_WRITE, 0)?);
    set(10, done(&env)?);
    start(&env, 0, caller, 0, PRIO, CPtr::NULL)?;
    let (_, m) = crate::forms::recv(Endpoint::from_bits(ep));
    expect_eq(m.copy_mrs(&mut [0; 8]), &[0x5A][..], "the Call's message")?;
    // Without Grant or GrantReply there is no reply cap to save (MCS: the
    // reply object is not linked to the caller, which stays Inactive).
    #[cfg(not(sel4_mcs))]
    {
        let s = env.slot()?;
        expect_ok(ROOT.save_caller(s, 64), "SaveCaller")?;
        expect_tag(s, tag::NULL, "saved caller")?;
    }
    crate::forms::reply(&Message::new(0, &[], &[]));
    sel4::syscall::yield_now();
    expect_eq(get(1), 0, "the caller was never replied to")
}

#[cfg(not(sel4_mcs))]
pub(super) fn save_caller_reply(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    set(10, done(&env)?);
    start(&env, 0, caller, 0, PRIO, CPtr::NULL)?;
    let _ = crate::forms::recv(Endpoint::from_bits(ep));
    let s = env.slot()?;
    expect_ok(ROOT.save_caller(s, 64), "SaveCaller")?;
    expect_tag(s, tag::REPLY, "saved reply cap")?;
    // Another Recv would have deleted an unsaved reply cap; the saved one
    // still replies.
    let _ = crate::forms::nb_recv(Endpoint::from_bits(ep));
    sel4::syscall::send(CPtr(s), &Message::new(0, &[], &[]));
    expect_tag(s, tag::NULL, "a reply cap is used up")?;
    Notification::from_bits(get(10)).wait();
    expect_eq(get(1), 1, "the caller was replied to")
}

/// MCS: a Call received with the root's reply object is answered through
/// it even after an NBRecv with another reply object (what SaveCaller is
/// for in the classic configuration); the object then links no caller, so
/// a second reply through it reaches nobody.
#[cfg(sel4_mcs)]
pub(super) fn reply_object_outlives_recv(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    set(10, done(&env)?);
    start(&env, 0, caller, 0, PRIO, CPtr::NULL)?;
    let (_, m) = crate::forms::recv(Endpoint::from_bits(ep));
    expect_eq(m.copy_mrs(&mut [0; 8]), &[0x5A][..], "the Call's message")?;
    let other = env.create(ObjectType::Reply, 0)?;
    let (badge, _) = Endpoint::from_bits(ep).nb_recv(sel4::Reply::from_bits(other));
    expect_eq(badge, 0, "NBRecv with nothing to receive")?;
    expect_tag(other, tag::REPLY, "the other reply object")?;
    crate::forms::reply(&Message::new(0, &[], &[]));
    Notification::from_bits(get(10)).wait();
    expect_eq(get(1), 1, "the caller was replied to")?;
    // Used up: the worker is gone on; a second reply reaches nobody.
    crate::forms::reply(&Message::new(0, &[], &[]));
    expect_eq(get(1), 1, "nothing else changed")
}

/// Worker: receive into root slot board[2], record the MessageInfo's
/// extraCaps, capsUnwrapped and caps_or_badges[0], signal board[10].
fn receive_cap(_: usize) {
    set_cap_receive_path(ROOT.bits(), get(2), 64);
    let (_, m) = crate::forms::recv(Endpoint::from_bits(get(0)));
    set(3, m.info().extra_caps());
    set(4, m.info().caps_unwrapped());
    set(5, with_ipc_buffer(|b| b.caps_or_badges[0]).unwrap_or(0));
    Notification::from_bits(get(10)).signal();
}

fn one_cap_transfer(
    env: &Env<'_>,
    index: usize,
    send_cap: Word,
    gift: Word,
) -> Result<(Word, Word, Word, Word), crate::framework::Failure> {
    let dest = env.slot()?;
    set(2, dest);
    start(env, index, receive_cap, 0, PRIO, CPtr::NULL)?;
    sel4::syscall::yield_now(); // the worker waits in Recv
    Endpoint::from_bits(send_cap).send(&Message::new(0, &[], &[CPtr(gift)]));
    Notification::from_bits(get(10)).wait();
    Ok((dest, get(3), get(4), get(5)))
}

pub(super) fn cap_transfer(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    set(10, done(&env)?);
    let gift = env.create(ObjectType::Notification, 0)?;
    let (dest, extra, unwrapped, _) = one_cap_transfer(&env, 0, ep, gift)?;
    expect_eq((extra, unwrapped), (1, 0), "extraCaps, capsUnwrapped")?;
    expect_tag(dest, tag::NOTIFICATION, "the transferred cap")?;
    expect_tag(gift, tag::NOTIFICATION, "the sender keeps its cap")?;
    // Through a cap without Grant no cap travels.
    let no_grant = minted(&env, ep, CapRights::READ_WRITE, 0)?;
    let (dest, extra, _, _) = one_cap_transfer(&env, 1, no_grant, gift)?;
    expect_eq(extra, 0, "extraCaps without Grant")?;
    expect_tag(dest, tag::NULL, "receive slot without Grant")
}

pub(super) fn cap_unwrap(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    set(10, done(&env)?);
    let badged = minted(&env, ep, CapRights::ALL, 0x61)?;
    let (dest, extra, unwrapped, badge) = one_cap_transfer(&env, 0, ep, badged)?;
    expect_eq(
        (extra, unwrapped, badge),
        (1, 1, 0x61),
        "unwrapped to its badge",
    )?;
    expect_tag(dest, tag::NULL, "no cap is transferred")
}

pub(super) fn non_blocking(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    let b = minted(&env, ep, CapRights::ALL, 0x7)?;
    // Nothing to receive: badge 0, at once.
    let (badge, _) = crate::forms::nb_recv(Endpoint::from_bits(ep));
    expect_eq(badge, 0, "NBRecv with no sender")?;
    // No receiver: the message is dropped, the caller goes on.
    Endpoint::from_bits(b).nb_send(&Message::new(1, &[2], &[]));
    let (badge, _) = crate::forms::nb_recv(Endpoint::from_bits(ep));
    expect_eq(badge, 0, "nothing was queued by NBSend")
}

/// Worker: Recv a message, record its length and the sum of its MRs.
fn sum_message(_: usize) {
    let (_, m) = crate::forms::recv(Endpoint::from_bits(get(0)));
    set(1, m.len() as Word);
    set(2, m.copy_mrs(&mut [0; 120]).iter().sum());
    set(3, m.mr(119));
    Notification::from_bits(get(10)).signal();
}

pub(super) fn long_message(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    set(10, done(&env)?);
    start(&env, 0, sum_message, 0, PRIO, CPtr::NULL)?;
    let mrs: [Word; 120] = core::array::from_fn(|i| i as Word + 1);
    Endpoint::from_bits(ep).send(&Message::new(0, &mrs, &[]));
    Notification::from_bits(get(10)).wait();
    let want = (120, 120 * 121 / 2, 120);
    if (get(1), get(2), get(3)) != want {
        return Err(failure!(
            "length {}, sum {}, MR119 {}; wanted {want:?}",
            get(1),
            get(2),
            get(3)
        ));
    }
    Ok(())
}
