//! The hostile's MCS attacks (`--config mcs=on` only; docs/isolation.md,
//! "The MCS suite"): attempt `MCS + j` is [`attack`]`(j)`. It runs on a
//! SchedContext with a small budget that it holds no cap to, and holds
//! its minion's SchedContext (`H_MINION_SC`) and a reply object
//! (`H_REPLY`). It tries to run longer than its budget (spinning, Yield
//! storms), to configure a SchedContext without SchedControl, to Bind,
//! Unbind, UnbindObject and YieldTo what it holds or forges, to read
//! `Consumed` of contexts it cannot name, to give its minion more than it
//! has through SetSchedParams and SetTimeoutEndpoint, the combined system
//! calls with caps of the wrong type, and donation: a Call to its minion
//! made a passive server, its own time lent away for good by
//! NBSendWait, a reply object reused.
//!
//! Every invocation whose answer seL4 16.0.0 fixes is checked against it
//! ([`expect`]): the error code and, where seL4 gives one, the index or
//! range; a difference is counted and the first is reported to the
//! monitor (`MR_WRONG*`). Invocations that must fault or block (a cap
//! fault, an IPC to the monitor) are followed by [`must_not_return`].

use crate::proto::*;
use crate::space::FRAME_VA;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use sel4::abi::invocation::label as L;
use sel4::syscall::{self, mcs, RegMessage};
use sel4::{CPtr, Message, MessageInfo, UserContext, Word};

/// Answers that differed from seL4's; the last one's attempt and
/// `(answer << 16) | expected`.
pub static WRONG: AtomicU64 = AtomicU64::new(0);
/// The first 8: attempt << 32 | (answer & 0xFFFF) << 16 | expected.
pub static WRONG_LOG: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
pub static WRONG_AT: AtomicU64 = AtomicU64::new(0);
pub static WRONG_WHAT: AtomicU64 = AtomicU64::new(0);
/// The attempt being made (for [`expect`]'s report).
static CURRENT: AtomicU64 = AtomicU64::new(0);

/// seL4's error codes (`seL4_Error`).
const OK: Word = 0;
const INVALID_CAPABILITY: Word = 2;
const ILLEGAL_OPERATION: Word = 3;
const RANGE_ERROR: Word = 4;
const TRUNCATED_MESSAGE: Word = 7;

/// The classes of attack, for the monitor's summary (one per attempt).
pub const CLASSES: [&str; 6] = [
    "budget",
    "configure",
    "sched-context",
    "thread",
    "combined-syscalls",
    "donation",
];

/// What each attempt does, by class: `PLAN[j]` is attempt `MCS + j`'s.
const PLAN: [u8; 40] = [
    0, 0, 0, 0, // spins and Yield storms
    1, 1, 1, 1, 1, 1, 1, 1, // ConfigureFlags without SchedControl
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, // Bind, Unbind, YieldTo, Consumed
    3, 3, 3, 3, 3, // SetSchedParams, SetTimeoutEndpoint of the minion
    4, 4, 4, 4, // NBSendRecv, NBSendWait of the wrong types
    5, 5, 5, 5, 5, 5, 5, 5, // donation and reply objects
];
pub const N_MCS: Word = PLAN.len() as Word;

/// The class of attack `j` (an index into [`CLASSES`]).
pub fn class(j: Word) -> usize {
    PLAN.get(j as usize).map_or(0, |c| usize::from(*c))
}

/// The hostile's SchedContext: 0.5 ms every 2 ms, in µs (`setup`).
pub const HOSTILE_BUDGET_US: Word = 500;
pub const HOSTILE_PERIOD_US: Word = 2_000;

/// Compares an invocation's answer with seL4's; counts a difference.
fn expect(reply: &Message, code: Word, data: Option<(Word, Word)>) {
    let got = reply.label();
    let same_data = match data {
        Some((a, b)) => reply.mr(0) == a && reply.mr(1) == b,
        None => true,
    };
    if got != code || !same_data {
        let n = WRONG.fetch_add(1, Relaxed) as usize;
        if let Some(l) = WRONG_LOG.get(n) {
            l.store(
                (CURRENT.load(Relaxed) << 32) | ((got & 0xFFFF) << 16) | code,
                Relaxed,
            );
        }
        WRONG_AT.store(CURRENT.load(Relaxed), Relaxed);
        WRONG_WHAT.store((got << 16) | code, Relaxed);
    }
}

/// An invocation with its answer checked: `code`, and for
/// InvalidCapability the index (in MR0).
fn check(cptr: Word, label: Word, mrs: &[Word], caps: &[Word], code: Word) -> Message {
    let mut c = [CPtr(0); 3];
    for (d, s) in c.iter_mut().zip(caps) {
        *d = CPtr(*s);
    }
    let n = caps.len().min(3);
    let (_, reply) = syscall::call(CPtr(cptr), &Message::new(label, mrs, &c[..n]));
    expect(&reply, code, None);
    reply
}

fn check_index(cptr: Word, label: Word, mrs: &[Word], caps: &[Word], index: Word) {
    let reply = check(cptr, label, mrs, caps, INVALID_CAPABILITY);
    if reply.label() == INVALID_CAPABILITY {
        expect(&reply, INVALID_CAPABILITY, Some((index, reply.mr(1))));
    }
}

/// After an invocation that must fault or block (the monitor restarts
/// the hostile then): reaching this line is a wrong answer.
fn must_not_return() {
    expect(&Message::empty(Word::MAX), 0xFFFF, None);
}

/// Spins for about `n` million instructions.
fn spin(n: Word) {
    let mut x: Word = 0;
    for k in 0..n * 250_000 {
        x = core::hint::black_box(x.wrapping_add(k));
    }
}

/// The minion as a server: receives on H_EP with H_REPLY and answers
/// MR0 + 1 (register-only system calls: the minion has no IPC buffer).
fn minion_server(_: usize) {
    let (ep, reply) = (CPtr(H_EP), CPtr(H_REPLY));
    let (_, mut m) = mcs::recv(ep, reply);
    loop {
        let answer = RegMessage {
            info: MessageInfo::new(0, 0, 0, 1),
            mrs: [m.mrs[0].wrapping_add(1), 0, 0, 0],
        };
        m = mcs::reply_recv(ep, answer, reply).1;
    }
}

/// The minion as a client: Calls H_EP for ever.
fn minion_client(_: usize) {
    loop {
        let _ = syscall::call_regs(CPtr(H_EP), RegMessage::default());
    }
}

/// Starts the minion at `f` (its stack in the hostile's frame): OK, or
/// the error of TCB_WriteRegisters.
fn run_minion(f: fn(usize)) -> Message {
    let ctx = UserContext {
        pc: f as usize as Word,
        sp: FRAME_VA + 0x800,
        ..UserContext::default()
    };
    match sel4::Tcb::from_bits(H_MINION).write_registers(true, 0, 32, &ctx) {
        Ok(()) => Message::empty(OK),
        Err(_) => Message::empty(ILLEGAL_OPERATION),
    }
}

/// Attempt `MCS + j`.
pub fn attack(i: Word, j: Word) {
    CURRENT.store(i, Relaxed);
    let sc = H_MINION_SC;
    match j {
        // Budget: spin past the budget (10 ms of work on 0.5 ms every
        // 2 ms), Yield storms, spins broken by Yields.
        0 => spin(10),
        1 => (0..20).for_each(|_| syscall::yield_now()),
        2 => (0..5).for_each(|_| {
            spin(1);
            syscall::yield_now()
        }),
        3 => spin(3),
        // ConfigureFlags (budget = period = 1 ms, so a valid request) on
        // every cap it holds: none is SchedControl. A SchedContext, CNode,
        // TCB, frame and VSpace refuse the label; a notification is
        // signalled and a reply object replies to nobody (success).
        4..=11 => {
            let cptr = [
                sc, H_CNODE, H_MINION, H_FRAME, H_VSPACE, H_TABLE, H_NTFN, H_REPLY,
            ][(j - 4) as usize];
            let code = if cptr == H_NTFN || cptr == H_REPLY {
                OK
            } else {
                ILLEGAL_OPERATION
            };
            check(
                cptr,
                L::SCHED_CONTROL_CONFIGURE_FLAGS,
                &[1_000, 1_000, 0, 0, 0],
                &[sc],
                code,
            );
        }
        // The minion's SchedContext: bound already; no cap; not a thread
        // or notification; a notification (allowed, then undone).
        12 => {
            check(
                sc,
                L::SCHED_CONTEXT_BIND,
                &[],
                &[H_MINION],
                ILLEGAL_OPERATION,
            );
            check(sc, L::SCHED_CONTEXT_BIND, &[], &[], TRUNCATED_MESSAGE);
            check_index(sc, L::SCHED_CONTEXT_BIND, &[], &[H_CNODE], 1);
        }
        13 => {
            check(sc, L::SCHED_CONTEXT_BIND, &[], &[H_NTFN], OK);
            check(sc, L::SCHED_CONTEXT_BIND, &[], &[H_NTFN], ILLEGAL_OPERATION);
            check(sc, L::SCHED_CONTEXT_UNBIND_OBJECT, &[], &[H_NTFN], OK);
            check(
                sc,
                L::SCHED_CONTEXT_UNBIND_OBJECT,
                &[],
                &[H_NTFN],
                ILLEGAL_OPERATION,
            );
        }
        14 => {
            check(
                sc,
                L::SCHED_CONTEXT_UNBIND_OBJECT,
                &[],
                &[],
                TRUNCATED_MESSAGE,
            );
            check_index(sc, L::SCHED_CONTEXT_UNBIND_OBJECT, &[], &[H_EP], 1);
        }
        // Unbinding and binding it back (its minion is not running).
        15 => {
            check(sc, L::SCHED_CONTEXT_UNBIND_OBJECT, &[], &[H_MINION], OK);
            check(
                sc,
                L::SCHED_CONTEXT_UNBIND_OBJECT,
                &[],
                &[H_MINION],
                ILLEGAL_OPERATION,
            );
            check(sc, L::SCHED_CONTEXT_YIELD_TO, &[], &[], ILLEGAL_OPERATION);
            check(sc, L::SCHED_CONTEXT_BIND, &[], &[H_MINION], OK);
        }
        16 => {
            check(sc, L::SCHED_CONTEXT_UNBIND, &[], &[], OK);
            check(sc, L::SCHED_CONTEXT_UNBIND, &[], &[], OK);
            check(sc, L::SCHED_CONTEXT_BIND, &[], &[H_MINION], OK);
        }
        // YieldTo its stopped minion: answered at once.
        17 => {
            check(sc, L::SCHED_CONTEXT_YIELD_TO, &[], &[], OK);
            check(sc, L::SCHED_CONTEXT_CONSUMED, &[], &[], OK);
        }
        // The SchedContext labels on everything else it holds.
        18 => {
            for cptr in [H_CNODE, H_MINION, H_FRAME, H_VSPACE, H_TABLE] {
                for label in [
                    L::SCHED_CONTEXT_CONSUMED,
                    L::SCHED_CONTEXT_YIELD_TO,
                    L::SCHED_CONTEXT_UNBIND,
                ] {
                    check(cptr, label, &[], &[], ILLEGAL_OPERATION);
                }
            }
        }
        // Consumed of contexts it cannot name: an empty slot (a null cap:
        // InvalidCapability(0); emptied first, the phases before may have
        // filled it), the monitor's endpoint (an IPC the monitor takes), a
        // cptr through R's empty slot (seL4's lookup stops at a cap that
        // is not a CNode and ignores the bits left: the null cap again),
        // a cptr with guard bits set (a cap fault).
        19 => {
            let _ = sel4::CNode::from_bits(H_CNODE).delete(12, H_RADIX);
            check_index(12, L::SCHED_CONTEXT_CONSUMED, &[], &[], 0);
        }
        20 => {
            check(CPTR_FAULT_EP, L::SCHED_CONTEXT_CONSUMED, &[], &[], OK);
            must_not_return();
        }
        21 => {
            check_index((3 << H_RADIX) | 1, L::SCHED_CONTEXT_YIELD_TO, &[], &[], 0);
            check(1 << 20, L::SCHED_CONTEXT_YIELD_TO, &[], &[], OK);
            must_not_return();
        }
        22 => {
            check(H_NTFN, L::SCHED_CONTEXT_CONSUMED, &[], &[], OK);
            check(H_REPLY, L::SCHED_CONTEXT_CONSUMED, &[], &[], OK);
        }
        // The minion's TCB: more MCP or priority than its authority's,
        // a SchedContext or handler of the wrong type, too few caps, its
        // own context unbound (a null cap) and bound again.
        23 => {
            let p = L::TCB_SET_SCHED_PARAMS;
            let m = H_MINION;
            check(m, p, &[255, 100], &[m, sc, H_EP], RANGE_ERROR);
            check(m, p, &[100, 101], &[m, sc, H_EP], RANGE_ERROR);
            check_index(m, p, &[100, 100], &[H_CNODE, sc, H_EP], 1);
            check_index(m, p, &[100, 100], &[m, H_CNODE, H_EP], 2);
            check_index(m, p, &[100, 100], &[m, sc, H_SEND], 3);
            check(m, p, &[100, 100], &[m, sc], TRUNCATED_MESSAGE);
            check(m, p, &[100], &[m, sc, H_EP], TRUNCATED_MESSAGE);
        }
        24 => {
            let p = L::TCB_SET_SCHED_PARAMS;
            let m = H_MINION;
            check(m, p, &[100, 100], &[m, sc, H_EP], OK);
            check(m, p, &[100, 100], &[m, 0, H_EP], OK);
            check(m, p, &[100, 100], &[m, sc, H_EP], OK);
            check(m, p, &[100, 100], &[m, sc, 0], OK);
            check(m, p, &[100, 100], &[m, sc, H_EP], OK);
        }
        25 => {
            let t = L::TCB_SET_TIMEOUT_ENDPOINT;
            check(H_MINION, t, &[], &[], TRUNCATED_MESSAGE);
            check_index(H_MINION, t, &[], &[H_SEND], 1);
            check_index(H_MINION, t, &[], &[H_CNODE], 1);
            check(H_MINION, t, &[], &[H_EP], OK);
            check(H_MINION, t, &[], &[0], OK);
        }
        // The monitor's endpoint (through R[1], which it can name) as
        // the minion's timeout handler: allowed; taken back.
        26 => {
            let t = L::TCB_SET_TIMEOUT_ENDPOINT;
            check(H_MINION, t, &[], &[CPTR_FAULT_EP], OK);
            check(H_MINION, t, &[], &[0], OK);
        }
        27 => {
            // MCS TCB_Configure of the minion with its own CNode and VSpace.
            let c = L::TCB_CONFIGURE;
            let data = sel4::abi::cap::cnode_cap_data(0, 64 - Word::from(H_RADIX));
            check(H_MINION, c, &[data, 0, 0], &[H_CNODE, H_VSPACE, 0], OK);
            check(
                H_MINION,
                c,
                &[data, 0],
                &[H_CNODE, H_VSPACE, 0],
                TRUNCATED_MESSAGE,
            );
        }
        // NBSendWait / NBSendRecv whose send phase names a cap of the
        // wrong type (not invoked, no error: not a Call), then a wait on
        // its notification, signalled first so that it returns.
        28..=30 => {
            let dest = [H_CNODE, H_MINION, sc][(j - 28) as usize];
            sel4::Notification::from_bits(H_NTFN).signal();
            let (badge, _) = if j == 29 {
                mcs::nb_send_recv(
                    CPtr(dest),
                    RegMessage::default(),
                    CPtr(H_NTFN),
                    CPtr(H_REPLY),
                )
            } else {
                mcs::nb_send_wait(CPtr(dest), RegMessage::default(), CPtr(H_NTFN))
            };
            let got = Message::empty(if badge == NTFN_BADGE { OK } else { badge });
            expect(&got, OK, None);
        }
        // A receive phase on its endpoint naming a reply "object" that is
        // a CNode: a cap fault (MissingCapability), before any wait.
        31 => {
            let _ = mcs::nb_send_recv(
                CPtr(H_FRAME),
                RegMessage::default(),
                CPtr(H_EP),
                CPtr(H_CNODE),
            );
            must_not_return();
        }
        // Donation. The minion becomes a server blocked in Recv on H_EP,
        // then passive (its SchedContext unbound); a Call runs it on the
        // hostile's SchedContext, whose reply comes back from it.
        32 => {
            expect(&run_minion(minion_server), OK, None);
            syscall::yield_now(); // the minion runs to its Recv
            check(sc, L::SCHED_CONTEXT_UNBIND_OBJECT, &[], &[H_MINION], OK);
        }
        33 | 34 => {
            let m = RegMessage {
                info: MessageInfo::new(0, 0, 0, 1),
                mrs: [40 + j, 0, 0, 0],
            };
            let (_, r) = syscall::call_regs(CPtr(H_EP), m);
            let got = Message::empty(if r.mrs[0] == 41 + j { OK } else { r.mrs[0] });
            expect(&got, OK, None);
        }
        // Its reply object, linked to nobody, reused: a Call on it is
        // answered empty; receiving with it again changes nothing.
        35 => {
            check(H_REPLY, 0, &[], &[], OK);
            let _ = mcs::nb_recv(CPtr(H_NTFN), CPtr(H_REPLY));
            check(H_REPLY, 0, &[], &[], OK);
        }
        // Its own time lent away for good: NBSendWait to the passive
        // minion lends without a reply, and the hostile waits with no
        // SchedContext (the monitor gives it back at the restart).
        36 => {
            let _ = mcs::nb_send_wait(CPtr(H_EP), RegMessage::default(), CPtr(H_NTFN));
            must_not_return();
        }
        // The minion gets its own context back (the monitor took the
        // hostile's back from it), then calls the hostile, which takes
        // the call on H_REPLY and never answers.
        37 => {
            check(sc, L::SCHED_CONTEXT_BIND, &[], &[H_MINION], OK);
        }
        38 => {
            expect(&run_minion(minion_client), OK, None);
            let _ = mcs::nb_recv(CPtr(H_EP), CPtr(H_REPLY));
            syscall::yield_now();
            let _ = mcs::nb_recv(CPtr(H_EP), CPtr(H_REPLY));
        }
        // Receiving with the reply object still linked to the minion
        // cancels the minion's call.
        _ => {
            let _ = mcs::nb_recv(CPtr(H_EP), CPtr(H_REPLY));
            let _ = mcs::nb_recv(CPtr(H_EP), CPtr(H_REPLY));
        }
    }
}

/// The last attempt before the stale phase: the minion calls, the
/// hostile takes the call on H_REPLY, and the monitor then deletes the
/// minion: a stale reply.
pub fn link_reply() {
    let _ = run_minion(minion_client);
    syscall::yield_now();
    let _ = mcs::nb_recv(CPtr(H_EP), CPtr(H_REPLY));
}
