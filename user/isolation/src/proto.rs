//! What the monitor and the hostile agree on: the hostile's CSpace as it
//! names it, the badges the monitor tells senders apart by, the report
//! message, and the attempt plan (its phases, as ranges of attempt
//! numbers).

use sel4::Word;

/// Hostile CSpace, two levels: the root R (4 slots, guard 57 bits of 0)
/// and H (32 slots, no guard) in R's slot 0, so a cptr is
/// `[57 zero bits][2 bits of R][5 bits of H]`. The hostile holds a CNode
/// cap to H only, so it can rearrange H but never R's slots 1..3.
pub const H_RADIX: u8 = 5;
pub const R_RADIX: u8 = 2;
pub const H_SLOTS: Word = 1 << H_RADIX;
/// R[1]: its fault endpoint (the monitor's endpoint, Write + GrantReply).
pub const CPTR_FAULT_EP: Word = 1 << H_RADIX;
/// R[2]: its report endpoint (the same endpoint, another badge).
pub const CPTR_REPORT: Word = 2 << H_RADIX;

/// H[1]: a CNode cap to H itself (radix 5, no guard: depth 5).
pub const H_CNODE: Word = 1;
/// H[2]: Send-only, badged cap to the monitor's endpoint.
pub const H_SEND: Word = 2;
/// H[3]: a badged notification of its own.
pub const H_NTFN: Word = 3;
/// H[4]: a frame of its own (unmapped at start).
pub const H_FRAME: Word = 4;
/// H[5]: its VSpace root.
pub const H_VSPACE: Word = 5;
/// H[6]: the TCB of its minion (a thread it controls, MCP 0).
pub const H_MINION: Word = 6;
/// H[7]: a spare page table.
pub const H_TABLE: Word = 7;
/// H[8]: an endpoint of its own (all rights; the minion's fault endpoint).
pub const H_EP: Word = 8;
/// MCS, H[13]: the minion's SchedContext (the hostile holds no cap to its
/// own, so it cannot clear the counter the monitor measures it by).
#[cfg(sel4_mcs)]
pub const H_MINION_SC: Word = 13;
/// MCS, H[14]: a reply object of its own.
#[cfg(sel4_mcs)]
pub const H_REPLY: Word = 14;

/// Badges of the monitor's endpoint caps.
pub const FAULT_BADGE: Word = 0xFA;
pub const REPORT_BADGE: Word = 0x4E;
pub const SEND_BADGE: Word = 0x5E;
pub const WATCHDOG_BADGE: Word = 0xD0;
/// The badge of the hostile's notification.
pub const NTFN_BADGE: Word = 0x77;

/// Report labels: a checkpoint, and the end.
pub const REPORT: Word = 0x1000;
pub const DONE: Word = 0x1001;
/// Report MRs: attempt number, then the hostile's own findings.
pub const MR_ATTEMPT: usize = 0;
/// Invocations that succeeded although they need a cap it never had.
pub const MR_FORBIDDEN: usize = 1;
/// Loads or stores outside its own memory that did not fault.
pub const MR_MEMORY: usize = 2;
/// The value it read at the monitor's secret (its own copy).
pub const MR_SECRET: usize = 3;
/// Invocations answered with success / with an error.
pub const MR_OK: usize = 4;
pub const MR_ERR: usize = 5;
/// MCS attacks whose answer differed from seL4's, and the last one:
/// its attempt number and (answer << 16 | expected answer).
pub const MR_WRONG: usize = 6;
pub const MR_WRONG_AT: usize = 7;
pub const MR_WRONG_WHAT: usize = 8;
pub const REPORT_MRS: usize = 9;

/// A report every this many attempts.
pub const BATCH: Word = 32;

/// Labels tried: every classic label, 0 (invalid) and a few beyond.
pub const N_LABELS: Word = sel4::abi::invocation::N_ARCH_INVOCATION_LABELS + 4;
#[cfg(not(sel4_mcs))]
const N_CPTRS: usize = 24;
#[cfg(sel4_mcs)]
const N_CPTRS: usize = 26;
/// Cptrs tried: every slot it was given, empty ones, R's slots, cptrs
/// with bits in the guard, past R, all ones.
pub const CPTRS: [Word; N_CPTRS] = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    16,
    31,
    CPTR_FAULT_EP,
    CPTR_FAULT_EP + 1,
    CPTR_REPORT,
    CPTR_REPORT + 3,
    3 << H_RADIX,
    127,
    128,
    1 << 20,
    #[cfg(sel4_mcs)]
    H_MINION_SC,
    #[cfg(sel4_mcs)]
    H_REPLY,
    1 << 63,
    (1 << 63) | 1,
    Word::MAX,
];
/// Argument patterns per (label, cptr).
pub const N_PATTERNS: Word = 6;

const fn round(n: Word) -> Word {
    n.div_ceil(BATCH) * BATCH
}

/// Phase starts (each a multiple of [`BATCH`], so each begins with a
/// report): the label × cptr × pattern matrix, hand-made memory and
/// mapping probes, fault-handler and reply tricks, random invocations,
/// then stale caps (after the monitor revoked the notification, the frame
/// and the minion).
pub const MATRIX: Word = 0;
pub const MEMORY: Word = round(MATRIX + N_LABELS * CPTRS.len() as Word * N_PATTERNS);
pub const TRICKS: Word = round(MEMORY + crate::hostile::N_MEMORY);
#[cfg(not(sel4_mcs))]
pub const RANDOM: Word = round(TRICKS + crate::hostile::N_TRICKS);
/// MCS: the attacks on budgets, SchedContexts, reply objects and
/// donation (`attacks`), after the tricks.
#[cfg(sel4_mcs)]
pub const MCS: Word = round(TRICKS + crate::hostile::N_TRICKS);
#[cfg(sel4_mcs)]
pub const RANDOM: Word = round(MCS + crate::attacks::N_MCS);
pub const N_RANDOM: Word = 20_000;
pub const STALE: Word = round(RANDOM + N_RANDOM);
/// Stale phase: every label on the revoked caps' slots, two patterns.
#[cfg(not(sel4_mcs))]
pub const STALE_CPTRS: [Word; 4] = [H_NTFN, H_FRAME, H_MINION, 12];
/// MCS: also the reply object (its caller, the minion, deleted) and the
/// minion's SchedContext (its thread deleted).
#[cfg(sel4_mcs)]
pub const STALE_CPTRS: [Word; 6] = [H_NTFN, H_FRAME, H_MINION, 12, H_REPLY, H_MINION_SC];
pub const END: Word = round(STALE + N_LABELS * STALE_CPTRS.len() as Word * 2 + 8);
