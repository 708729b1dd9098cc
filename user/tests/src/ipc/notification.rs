//! Notifications between the root thread and workers.

use super::worker::{clear, get, set, start};
use crate::fixture::{expect_eq, expect_ok, mint, Env};
use crate::framework::{Ctx, TestResult};
use sel4::{CPtr, CapRights, Endpoint, Notification, ObjectType, Tcb, Word};

const PRIO: Word = 255;

/// Worker: Wait on board[0], record the word, signal board[10].
fn waiter(_: usize) {
    let w = Notification::from_bits(get(0)).wait();
    set(1, w);
    Notification::from_bits(get(10)).signal();
}

fn badged(env: &Env<'_>, n: Word, badge: Word) -> Result<Word, crate::framework::Failure> {
    let d = env.slot()?;
    expect_ok(mint(d, n, CapRights::ALL, badge), "Mint")?;
    Ok(d)
}

pub(super) fn signal_wakes(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let n = env.create(ObjectType::Notification, 0)?;
    set(0, n);
    set(10, env.create(ObjectType::Notification, 0)?);
    start(&env, 0, waiter, 0, PRIO, CPtr::NULL)?;
    sel4::syscall::yield_now(); // the worker waits
    Notification::from_bits(badged(&env, n, 0x8)?).signal();
    Notification::from_bits(get(10)).wait();
    expect_eq(get(1), 0x8, "the waiter's word")
}

pub(super) fn badges_or(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let n = env.create(ObjectType::Notification, 0)?;
    for b in [0x1, 0x4, 0x10, 0x4] {
        Notification::from_bits(badged(&env, n, b)?).signal();
    }
    set(0, n);
    set(10, env.create(ObjectType::Notification, 0)?);
    start(&env, 0, waiter, 0, PRIO, CPtr::NULL)?;
    Notification::from_bits(get(10)).wait();
    expect_eq(get(1), 0x15, "the OR of the badges")?;
    expect_eq(Notification::from_bits(n).poll(), 0, "the word is cleared")
}

/// Worker: Recv on the endpoint board[0] (its bound notification may end
/// it), record the badge, signal board[10].
fn bound_receiver(_: usize) {
    let (badge, _) = crate::forms::recv(Endpoint::from_bits(get(0)));
    set(1, badge);
    Notification::from_bits(get(10)).signal();
}

pub(super) fn bound_recv(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    let n = env.create(ObjectType::Notification, 0)?;
    set(0, ep);
    set(10, env.create(ObjectType::Notification, 0)?);
    let t = start(&env, 0, bound_receiver, 0, PRIO, CPtr::NULL)?;
    expect_ok(
        Tcb::from_bits(t).bind_notification(Notification::from_bits(n)),
        "BindNotification",
    )?;
    sel4::syscall::yield_now(); // the worker waits in its endpoint Recv
    Notification::from_bits(badged(&env, n, 0x40)?).signal();
    Notification::from_bits(get(10)).wait();
    expect_eq(
        get(1),
        0x40,
        "the endpoint Recv returned the signal's badge",
    )
}
