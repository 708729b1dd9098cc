//! Memory-management costs as sel4bench's page-mapping benchmarks measure
//! them: retyping 4 KiB frames out of an untyped one `Untyped_Retype` at a
//! time, mapping them with `Page_Map`, then remapping them read-only
//! ("protect") and read-write again ("unprotect"). Each call is timed on
//! its own with the cycle counter (overhead subtracted); a case reports
//! the cost of one page (median and minimum over 2048 pages) and the total
//! for the first 512 and for all 2048 pages.
//!
//! Before them, "prepare page tables" as sel4bench times it for 2048
//! pages: one level-1 and four level-0 tables retyped and mapped, the
//! first Retype resetting the (boot) untyped, which clears all of it.
//!
//! The frames go to a region of the root task's VSpace that nothing else
//! uses (64 GiB), under one level-1 and four level-0 page tables mapped
//! beforehand. Every object comes from one untyped of at least 16 MiB,
//! revoked at the end so that later benchmarks find the memory free.
//!
//! Output: `bench sel4bench op=<what>-<pages> iterations=... median=...
//! min=... total=... overhead=...`, each followed by the kernel's line.

use crate::ipc::{median_min, wanted, ITERATIONS};
use crate::name::Name;
use crate::oneway::overhead;
use crate::threads::Failed;
use cairn_rt::println;
use sel4::cap::init_caps;
use sel4::{benchmark, BootInfo, CapRights, Error, Frame, ObjectType, PageTable, Untyped, Word};

/// Built for `cargo xtask bench --profile`, which sets the iteration
/// count.
const PROFILED: bool = option_env!("CAIRN_BENCH_ITERATIONS").is_some();
/// Pages per run: 2048, or the profile's iteration count (at most 500, so
/// that they fit a 2 MiB untyped whose reset costs little to log).
const PAGES: usize = if PROFILED {
    if ITERATIONS < 500 {
        ITERATIONS
    } else {
        500
    }
} else {
    2048
};
/// The smallest untyped the run takes memory from (frames, tables).
const UNTYPED_BITS: u8 = if PROFILED { 21 } else { 24 };
/// The totals reported besides the per-page figures.
const TOTALS: [usize; 2] = [512, PAGES];
/// Where the frames are mapped: an otherwise unused 1 GiB of the VSpace.
const BASE: Word = 0x10_0000_0000;
/// sel4bench's "prepare page tables" for 2048 pages.
const PREPARE: &str = "prepare-page-tables-2048";
/// Bytes a level-0 page table covers.
const TABLE_SPAN: Word = 1 << 21;

/// Case `op`: times `f` once per page in one kernel interval and reports
/// the figures; `Err` (with `what` failed) at the first failure.
fn per_page(
    op: &str,
    samples: &mut [u64; PAGES],
    overhead: u64,
    mut f: impl FnMut(usize) -> Result<(), Error>,
    what: &'static str,
) -> Result<(), Failed> {
    benchmark::reset_log();
    for (i, s) in samples.iter_mut().enumerate() {
        let start = benchmark::cycles();
        let r = f(i);
        *s = benchmark::cycles().wrapping_sub(start);
        r.map_err(|e| Failed(what, e))?;
    }
    report(op, samples, overhead);
    Ok(())
}

/// Prints the per-page and total figures of one operation (`what`),
/// closing the kernel's interval after each line.
fn report(what: &str, samples: &mut [u64; PAGES], overhead: u64) {
    for s in samples.iter_mut() {
        *s = s.saturating_sub(overhead);
    }
    for n in TOTALS {
        let total: u64 = samples.iter().take(n).sum();
        println!(
            "bench {}sel4bench op={what}-{n} iterations=1 total={total} overhead={overhead}",
            crate::server::PREFIX
        );
        benchmark::finalize_log();
        benchmark::reset_log();
    }
    let (median, min) = median_min(samples);
    println!(
        "bench {}sel4bench op={what}-1 iterations={PAGES} median={median} min={min} overhead={overhead}",
        crate::server::PREFIX
    );
    benchmark::finalize_log();
}

/// Runs the retype, map, protect and unprotect cases with the root
/// CNode's slots from `first_slot` on (2048 + 5 of them).
pub fn run(bi: &BootInfo, first_slot: Word) -> Result<(), Failed> {
    let cases = [
        "retype-frames",
        "map-pages",
        "protect-pages",
        "unprotect-pages",
    ];
    // The phases up to the last one wanted run (each needs the one
    // before).
    let Some(phases) = cases
        .iter()
        .rposition(|c| {
            [1, 512, 2048]
                .iter()
                .any(|&n| wanted(&Name::new().str(c).str("-").num(n)))
        })
        .map(|last| last + 1)
        .or(wanted(PREPARE).then_some(0))
    else {
        return Ok(());
    };
    let untyped = bi
        .untypeds()
        .filter(|u| !u.is_device && u.size_bits >= UNTYPED_BITS)
        .min_by_key(|u| u.size_bits)
        .ok_or(Failed(
            "no untyped of 16 MiB",
            Error::NotEnoughMemory { available: 0 },
        ))?;
    let result = measure(untyped.cap, untyped.size_bits, first_slot, phases);
    // Delete every frame and table: the later benchmarks retype from the
    // same memory.
    let cleanup = init_caps::CNODE
        .revoke(untyped.cap.bits(), 64)
        .map_err(|e| Failed("revoking the untyped", e));
    result.and(cleanup)
}

fn measure(
    untyped: Untyped,
    untyped_bits: u8,
    first_slot: Word,
    phases: usize,
) -> Result<(), Failed> {
    let root = init_caps::CNODE;
    let retype = |t: ObjectType, slot: Word| untyped.retype(t, 0, root, 0, 0, slot, 1);
    // The tables: one level-1 table for the 1 GiB at BASE, four level-0
    // tables for its first 8 MiB.
    // Timed as sel4bench's "prepare page tables" for 2048 pages: the
    // first Retype from the untyped resets it (clears the memory a boot
    // untyped may hold), as in sel4bench's runs after the first.
    let tables = first_slot + PAGES as Word;
    let overhead = overhead();
    benchmark::reset_log();
    let start = benchmark::cycles();
    for i in 0..5 {
        retype(ObjectType::PageTable, tables + i).map_err(|e| Failed("retyping a table", e))?;
        let vaddr = BASE + i.saturating_sub(1) * TABLE_SPAN;
        PageTable::from_bits(tables + i)
            .map(init_caps::VSPACE, vaddr, 0)
            .map_err(|e| Failed("mapping a table", e))?;
    }
    let total = benchmark::cycles()
        .wrapping_sub(start)
        .saturating_sub(overhead);
    if wanted(PREPARE) {
        println!(
            "bench {}sel4bench op={PREPARE} iterations=1 total={total} untyped-bits={untyped_bits} overhead={overhead}",
            crate::server::PREFIX
        );
    }
    benchmark::finalize_log();
    let frame = |i: usize| Frame::from_bits(first_slot + i as Word);
    let vaddr = |i: usize| BASE + (i as Word) * 4096;
    let mut samples = [0u64; PAGES];

    if phases > 0 {
        per_page(
            "retype-frames",
            &mut samples,
            overhead,
            |i| retype(ObjectType::SmallPage, first_slot + i as Word),
            "retyping a frame",
        )?;
    }
    if phases > 1 {
        per_page(
            "map-pages",
            &mut samples,
            overhead,
            |i| frame(i).map(init_caps::VSPACE, vaddr(i), CapRights::READ_WRITE, 0),
            "mapping a frame",
        )?;
    }
    if phases > 2 {
        per_page(
            "protect-pages",
            &mut samples,
            overhead,
            |i| frame(i).map(init_caps::VSPACE, vaddr(i), CapRights::CAN_READ, 0),
            "remapping a frame read-only",
        )?;
    }
    if phases > 3 {
        per_page(
            "unprotect-pages",
            &mut samples,
            overhead,
            |i| frame(i).map(init_caps::VSPACE, vaddr(i), CapRights::READ_WRITE, 0),
            "remapping a frame read-write",
        )?;
    }
    Ok(())
}
