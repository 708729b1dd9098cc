//! The hostile thread: attempt after attempt, every invocation label on
//! every cptr it can name, with varied arguments, then memory and mapping
//! probes, fault-handler and reply tricks, random invocations and stale
//! caps. Attempt `i` is a pure function of `i` (and a hash of it), so the
//! monitor can restart the thread at [`entry`] after any fault or block
//! and it carries on with the next attempt: its only state is [`NEXT`] and
//! its counters, statics in its own (private) copy of the image's data.
//!
//! It reports to the monitor (a Call on [`CPTR_REPORT`]) at the start of
//! every batch of [`BATCH`] attempts: the monitor checks and restarts it.

use crate::proto::*;
use crate::space::{FRAME_VA, SCRATCH_VA};
use cairn_rt::thread::{IpcPage, Stack};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use sel4::abi::invocation::label as L;
use sel4::abi::vm::{EXECUTE_NEVER, USER_TOP};
use sel4::syscall::{self, RegMessage};
use sel4::{tag, CPtr, Message, MessageInfo, UserContext, Word};

pub static STACK: Stack<16384> = Stack::new();
pub static PAGE: IpcPage = IpcPage::new();
/// The next attempt (the hostile's copy is the one that counts).
pub static NEXT: AtomicU64 = AtomicU64::new(0);
/// The attempt whose report was sent (so a restart does not repeat it).
static REPORTED: AtomicU64 = AtomicU64::new(Word::MAX);
static FORBIDDEN: AtomicU64 = AtomicU64::new(0);
static MEMORY_ESCAPES: AtomicU64 = AtomicU64::new(0);
static SEEN_SECRET: AtomicU64 = AtomicU64::new(0);
static OK: AtomicU64 = AtomicU64::new(0);
static ERR: AtomicU64 = AtomicU64::new(0);
/// Set by the monitor after the hostile's data was copied: the hostile's
/// copy keeps 0, and it reports what it reads there.
pub static SECRET: AtomicU64 = AtomicU64::new(0);
/// Monitor addresses the hostile aims at (set before the copy).
pub static BOOTINFO_VA: AtomicU64 = AtomicU64::new(0);
pub static MONITOR_IPC_VA: AtomicU64 = AtomicU64::new(0);

/// Memory and mapping probes ([`memory`]), fault-handler tricks ([`trick`]).
pub const N_MEMORY: Word = 8 + 2 * PROBES.len() as Word + 2;
pub const N_TRICKS: Word = 12;

/// What the thread runs (through `cairn_rt::thread`'s trampoline), from
/// the start and after every restart.
pub fn entry(_: usize) {
    // SAFETY: tp is this thread's own slot in its own page, and no code of
    // this thread is using the buffer (it was just (re)started).
    unsafe { PAGE.slot().reset(PAGE.buffer()) };
    loop {
        let i = NEXT.load(Relaxed);
        if i >= END {
            report(DONE, i);
        }
        if i.is_multiple_of(BATCH) && REPORTED.load(Relaxed) != i {
            REPORTED.store(i, Relaxed);
            report(REPORT, i); // the monitor restarts us here
        }
        NEXT.store(i + 1, Relaxed);
        attempt(i);
    }
}

fn report(label: Word, i: Word) {
    let mut mrs = [0; REPORT_MRS + 8];
    mrs[MR_ATTEMPT] = i;
    mrs[MR_FORBIDDEN] = FORBIDDEN.load(Relaxed);
    mrs[MR_MEMORY] = MEMORY_ESCAPES.load(Relaxed);
    mrs[MR_SECRET] = SEEN_SECRET.load(Relaxed);
    mrs[MR_OK] = OK.load(Relaxed);
    mrs[MR_ERR] = ERR.load(Relaxed);
    #[cfg(sel4_mcs)]
    {
        use crate::attacks::{WRONG, WRONG_AT, WRONG_WHAT};
        mrs[MR_WRONG] = WRONG.load(Relaxed);
        mrs[MR_WRONG_AT] = WRONG_AT.load(Relaxed);
        mrs[MR_WRONG_WHAT] = WRONG_WHAT.load(Relaxed);
        for (k, l) in crate::attacks::WRONG_LOG.iter().enumerate() {
            mrs[REPORT_MRS + k] = l.load(Relaxed);
        }
    }
    syscall::call(CPtr(CPTR_REPORT), &Message::new(label, &mrs, &[]));
    // Only reached if the monitor replied instead of restarting us.
    loop {
        syscall::yield_now();
    }
}

/// A 64-bit mix of `x` (splitmix64's finaliser).
fn hash(mut x: Word) -> Word {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn cptr_at(k: Word) -> Word {
    CPTRS[(k % CPTRS.len() as Word) as usize]
}

fn attempt(i: Word) {
    if i < MEMORY {
        let labels = N_LABELS;
        let label = i % labels;
        let cptr = cptr_at(i / labels);
        let pattern = (i / labels / CPTRS.len() as Word) % N_PATTERNS;
        invoke(i, cptr, label, pattern);
    } else if i < TRICKS {
        memory(i - MEMORY);
    } else if i < RANDOM {
        #[cfg(sel4_mcs)]
        if i >= MCS {
            crate::attacks::attack(i, i - MCS);
            return;
        }
        trick(i - TRICKS);
    } else if i < STALE {
        // MCS: the last one leaves a reply object linked to the minion,
        // which the monitor then deletes (a stale reply).
        #[cfg(sel4_mcs)]
        if i == STALE - 1 {
            crate::attacks::link_reply();
            return;
        }
        let h = hash(i);
        // Mostly the caps it holds (slots 1..=8), then any listed cptr,
        // then any word at all.
        let cptr = match h & 3 {
            0 => hash(h),
            1 => cptr_at(h >> 8),
            _ => GIVEN[((h >> 8) % GIVEN.len() as Word) as usize],
        };
        invoke(i, cptr, (h >> 16) % 64, 4);
    } else {
        let k = i - STALE;
        let label = k % N_LABELS;
        let n = STALE_CPTRS.len() as Word;
        let cptr = STALE_CPTRS[((k / N_LABELS) % n) as usize];
        if k >= N_LABELS * n * 2 {
            // Its frame was unmapped by the revoke: this load must fault.
            probe_load(FRAME_VA);
        } else {
            invoke(i, cptr, label, 2 + (k / N_LABELS / n) % 2);
        }
    }
}

/// The slots of the caps it was given.
#[cfg(not(sel4_mcs))]
const GIVEN: [Word; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
#[cfg(sel4_mcs)]
const GIVEN: [Word; 10] = [1, 2, 3, 4, 5, 6, 7, 8, H_MINION_SC, H_REPLY];

/// Labels whose success needs a cap the hostile was never given.
fn forbidden(label: Word) -> bool {
    matches!(
        label,
        L::UNTYPED_RETYPE
            | L::IRQ_ISSUE_IRQ_HANDLER
            | L::RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER
            | L::IRQ_ACK_IRQ
            | L::IRQ_SET_IRQ_HANDLER
            | L::IRQ_CLEAR_IRQ_HANDLER
            | L::DOMAIN_SET_SET
            | L::DOMAIN_SCHEDULE_CONFIGURE
            | L::DOMAIN_SCHEDULE_SET_START
            | L::RISCV_ASID_CONTROL_MAKE_POOL
            | L::RISCV_ASID_POOL_ASSIGN
    ) || mcs_forbidden(label)
}

/// MCS: ConfigureFlags needs SchedControl.
fn mcs_forbidden(_label: Word) -> bool {
    #[cfg(sel4_mcs)]
    return _label == L::SCHED_CONTROL_CONFIGURE_FLAGS;
    #[cfg(not(sel4_mcs))]
    false
}

/// One invocation of `cptr` with `label` and arguments of `pattern`.
fn invoke(i: Word, cptr: Word, label: Word, pattern: Word) {
    let h = hash(i ^ 0xA5A5);
    let (mrs, caps, len): ([Word; 8], [Word; 3], Word) = match pattern {
        0 => ([0; 8], [0; 3], 8),
        1 => ([Word::MAX; 8], [Word::MAX; 3], 8),
        // Small boundary values: slot 9 of H at depth 5, its own caps.
        2 => ([9, 5, 1, 3, 5, 0xF, 0x1234, 1], [1, 4, 5], 8),
        3 => ([10, 64, 3, 1 << 59, 64, 0x3, 0xBAD, 0], [1, 3, 6], 7),
        4 => (
            core::array::from_fn(|k| match hash(h + k as Word) % 4 {
                0 => 0,
                1 => Word::MAX,
                2 => hash(h ^ k as Word) % 128,
                _ => hash(h.wrapping_mul(k as Word + 3)),
            }),
            [cptr_at(h >> 3), cptr_at(h >> 9), hash(h >> 1)],
            (h >> 20) % 128,
        ),
        // Mapping-shaped: its frame address, kernel addresses, rights.
        _ => (
            [
                [FRAME_VA, USER_TOP, 0xFFFF_FFC0_0000_0000, 0][(i % 4) as usize],
                0x3,
                EXECUTE_NEVER,
                0,
                5,
                0,
                0,
                0,
            ],
            [H_VSPACE, H_FRAME, H_CNODE],
            3,
        ),
    };
    let n_caps = if pattern == 0 { 0 } else { (h >> 40) % 4 };
    for (k, w) in mrs.iter().enumerate().skip(4) {
        sel4::ipc_buffer::set_mr(k, *w);
    }
    let _ = sel4::ipc_buffer::with_ipc_buffer(|b| b.caps_or_badges = caps);
    let info = MessageInfo::new(label, (h >> 50) % 8, n_caps, len);
    let m = RegMessage {
        info,
        mrs: [mrs[0], mrs[1], mrs[2], mrs[3]],
    };
    let how = if pattern == 4 { (h >> 60) % HOW } else { 0 };
    match how {
        1 => syscall::send_regs(CPtr(cptr), m),
        2 => nb_recv(cptr, h),
        3 => syscall::nb_send(CPtr(cptr), &Message::new(label, &mrs, &[])),
        #[cfg(sel4_mcs)]
        4..=6 => mcs_send_recv(how, cptr, m, h),
        _ => {
            let (_, reply) = syscall::call_regs(CPtr(cptr), m);
            if reply.info.label() == 0 {
                OK.fetch_add(1, Relaxed);
                let t = sel4::debug::cap_identify(CPtr(cptr));
                // An endpoint or notification takes any label as a message;
                // a reply object replies with it (MCS).
                let ipc = t == tag::ENDPOINT || t == tag::NOTIFICATION || t == tag::REPLY;
                if forbidden(label) && !ipc {
                    FORBIDDEN.fetch_add(1, Relaxed);
                }
            } else {
                ERR.fetch_add(1, Relaxed);
            }
        }
    }
}

/// The ways a random invocation is made: Call, Send, NBRecv, NBSend;
/// MCS also NBSendRecv, NBSendWait and NBWait.
#[cfg(not(sel4_mcs))]
const HOW: Word = 4;
#[cfg(sel4_mcs)]
const HOW: Word = 8;

/// NBRecv on `cptr` (MCS: with a reply object, its own or any cptr).
fn nb_recv(cptr: Word, _h: Word) {
    #[cfg(not(sel4_mcs))]
    let _ = syscall::nb_recv(CPtr(cptr));
    #[cfg(sel4_mcs)]
    let _ = syscall::mcs::nb_recv(CPtr(cptr), CPtr(reply_cptr(_h)));
}

/// MCS: its reply object, or a cptr of the list (often of the wrong type).
#[cfg(sel4_mcs)]
fn reply_cptr(h: Word) -> Word {
    if h & (1 << 33) != 0 {
        H_REPLY
    } else {
        cptr_at(h >> 34)
    }
}

/// MCS: the combined system calls with random destinations, sources and
/// reply objects (mostly of the wrong type).
#[cfg(sel4_mcs)]
fn mcs_send_recv(how: Word, cptr: Word, m: RegMessage, h: Word) {
    use syscall::mcs;
    let src = CPtr(cptr_at(h >> 24));
    let _ = match how {
        4 => mcs::nb_send_recv(CPtr(cptr), m, src, CPtr(reply_cptr(h))),
        5 => mcs::nb_send_wait(CPtr(cptr), m, src),
        _ => mcs::nb_wait(CPtr(cptr)),
    };
}

/// Addresses outside the hostile's memory; each access must fault.
const PROBES: [Word; 11] = [
    0,
    0x1000,
    SCRATCH_VA,
    0x1000_0000,
    0x8000_0000,
    0x8020_0000,
    USER_TOP,
    0xFFFF_FFC0_0000_0000,
    0xFFFF_FFFF_8000_0000,
    0xFFFF_FFFF_FFFF_F000,
    FRAME_VA + 0x10_0000,
];

fn probe_load(va: Word) {
    // SAFETY: deliberately touches an address the hostile must not reach;
    // the load faults (to the monitor, which restarts this thread at
    // `entry`) unless isolation is broken, which is what is counted.
    let v = unsafe { (va as *const Word).read_volatile() };
    core::hint::black_box(v);
    MEMORY_ESCAPES.fetch_add(1, Relaxed);
}

fn probe_store(va: Word) {
    // SAFETY: as in `probe_load`: the store must fault.
    unsafe { (va as *mut Word).write_volatile(0xBAD0_BAD0) };
    MEMORY_ESCAPES.fetch_add(1, Relaxed);
}

fn ok(r: Result<impl Sized, sel4::Error>) {
    if r.is_ok() {
        OK.fetch_add(1, Relaxed);
    } else {
        ERR.fetch_add(1, Relaxed);
    }
}

/// Must fail: a success is a forbidden mapping.
fn must_fail(r: Result<impl Sized, sel4::Error>) {
    if r.is_ok() {
        FORBIDDEN.fetch_add(1, Relaxed);
    } else {
        ERR.fetch_add(1, Relaxed);
    }
}

fn memory(j: Word) {
    let frame = sel4::Frame::from_bits(H_FRAME);
    let vspace = sel4::PageTable::from_bits(H_VSPACE);
    let table = sel4::PageTable::from_bits(H_TABLE);
    let rw = sel4::CapRights::READ_WRITE;
    let n = PROBES.len() as Word;
    match j {
        // Its own frame: map it, use it, map it twice, at kernel addresses.
        0 => {
            ok(frame.map(vspace, FRAME_VA, rw, EXECUTE_NEVER));
            // SAFETY: its own frame, mapped read-write at FRAME_VA if the
            // map succeeded; if not, the store faults to the monitor.
            unsafe { (FRAME_VA as *mut Word).write_volatile(0x0123) };
        }
        1 => must_fail(frame.map(vspace, FRAME_VA + 0x1000, rw, EXECUTE_NEVER)),
        2 => must_fail(frame.map(vspace, USER_TOP, rw, 0)),
        3 => must_fail(frame.map(vspace, 0xFFFF_FFC0_0000_0000, rw, 0)),
        4 => must_fail(table.map(vspace, 0xFFFF_FFC0_0000_0000, 0)),
        5 => must_fail(table.map(vspace, USER_TOP, 0)),
        // Its copies of the monitor's statics: the secret was set after
        // the copy, so it must read the old value; writes stay private.
        6 => SEEN_SECRET.store(SECRET.load(Relaxed), Relaxed),
        7 => crate::check::scribble(),
        k if k < 8 + n => probe_load(PROBES[(k - 8) as usize]),
        k if k < 8 + 2 * n => probe_store(PROBES[(k - 8 - n) as usize]),
        k if k == 8 + 2 * n => probe_load(BOOTINFO_VA.load(Relaxed)),
        _ => probe_store(MONITOR_IPC_VA.load(Relaxed)),
    }
}

/// Fault-handler and reply tricks with its minion (whose fault endpoint
/// is its own endpoint H[8]): make it fault, take the fault and its reply
/// cap, answer with crafted registers, save the reply cap, and try to
/// give the minion more than the hostile has.
fn trick(j: Word) {
    let minion = sel4::Tcb::from_bits(H_MINION);
    let h = sel4::CNode::from_bits(H_CNODE);
    let ep = CPtr(H_EP);
    let ctx = |pc: Word| UserContext {
        pc,
        sp: FRAME_VA + 0x800,
        ..UserContext::default()
    };
    match j {
        0 => ok(minion.set_space(
            ep,
            h,
            sel4::abi::cap::cnode_cap_data(0, 64 - H_RADIX as Word),
            sel4::PageTable::from_bits(H_VSPACE),
            0,
        )),
        // It runs at 0x0 and faults to H[8].
        1 => {
            ok(minion.write_registers(true, 0, 32, &ctx(0)));
            syscall::yield_now(); // the minion (same priority) faults now
        }
        2 => {
            #[cfg(not(sel4_mcs))]
            {
                let _ = syscall::nb_recv(ep);
                ok(h.save_caller(20, H_RADIX));
            }
            // MCS: the fault's reply is its reply object; a copy of it.
            #[cfg(sel4_mcs)]
            {
                let _ = syscall::mcs::nb_recv(ep, CPtr(H_REPLY));
                ok(h.copy(20, H_RADIX, h, H_REPLY, H_RADIX, sel4::CapRights::ALL));
            }
        }
        // Reply through the saved cap: resume at a kernel address.
        3 => {
            let _ = syscall::call_regs(
                CPtr(20),
                RegMessage {
                    info: MessageInfo::new(0, 0, 0, 2),
                    mrs: [0xFFFF_FFFF_8000_0000, 0, 0, 0],
                },
            );
        }
        4 => {
            let answer = Message::new(0, &[SCRATCH_VA, 0], &[]);
            #[cfg(not(sel4_mcs))]
            {
                let _ = syscall::nb_recv(ep);
                syscall::reply(&answer);
            }
            #[cfg(sel4_mcs)]
            {
                let _ = syscall::mcs::nb_recv(ep, CPtr(H_REPLY));
                sel4::Reply::from_bits(H_REPLY).send(&answer);
            }
        }
        // More than it has: raise the minion's priority or MCP, give it
        // the CSpace root it does not hold, bind a notification.
        5 => must_fail(minion.set_priority(minion, 255)),
        6 => must_fail(minion.set_mc_priority(minion, 255)),
        7 => must_fail(minion.set_space(
            CPtr(CPTR_REPORT),
            sel4::CNode::from_bits(CPTR_FAULT_EP),
            0,
            sel4::PageTable::from_bits(H_VSPACE),
            0,
        )),
        8 => ok(minion.bind_notification(sel4::Notification::from_bits(H_NTFN))),
        // The minion's fault endpoint: the monitor's send-only cap
        // (no Grant: the fault cannot be delivered).
        9 => {
            ok(minion.set_space(
                CPtr(H_SEND),
                h,
                sel4::abi::cap::cnode_cap_data(0, 64 - H_RADIX as Word),
                sel4::PageTable::from_bits(H_VSPACE),
                0,
            ));
            ok(minion.write_registers(true, 0, 32, &ctx(8)));
        }
        10 => ok(minion.read_registers(false, 0, 32)),
        _ => ok(minion.suspend()),
    }
}
