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

/// A report every this many attempts.
pub const BATCH: Word = 32;

/// Labels tried: every classic label, 0 (invalid) and a few beyond.
pub const N_LABELS: Word = sel4::abi::invocation::N_ARCH_INVOCATION_LABELS + 4;
/// Cptrs tried: every slot it was given, empty ones, R's slots, cptrs
/// with bits in the guard, past R, all ones.
pub const CPTRS: [Word; 24] = [
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
pub const RANDOM: Word = round(TRICKS + crate::hostile::N_TRICKS);
pub const N_RANDOM: Word = 20_000;
pub const STALE: Word = round(RANDOM + N_RANDOM);
/// Stale phase: every label on the revoked caps' slots, two patterns.
pub const STALE_CPTRS: [Word; 4] = [H_NTFN, H_FRAME, H_MINION, 12];
pub const END: Word = round(STALE + N_LABELS * STALE_CPTRS.len() as Word * 2 + 8);
