//! VM faults of a worker thread handled by the root thread: demand paging,
//! an access after Page_Unmap, a write through a read-only mapping, a fetch
//! from a never-execute page (ch. 6 Threads and Execution, *Faults*; ch. 7
//! Address Spaces and Virtual Memory, *Page Faults*; ABI ref §9, §7.8).
//!
//! The worker (`ipc::worker`, priority [`LOW`], below the root thread) runs
//! in the root task's VSpace with a badged endpoint cap with Grant as its
//! fault endpoint. Its faults arrive at the root thread as VMFault messages
//! (label 5 in the classic configuration: IP, Addr, PrefetchFault, FSR =
//! 1 fetch, 5 load, 7 store/AMO); the root thread changes the mappings and
//! replies with an empty message, which restarts the faulting instruction.
//! The worker also talks to the root thread on the same endpoint through a
//! second badge ([`WORKER_BADGE`]): a Call to wait for the root thread
//! ([`SYNC`]), a Send when it is done ([`DONE`]).
//!
//! The root thread touches a test address only through a mapping the
//! kernel reported as made; everything the worker touches is the worker's
//! business (a wrong kernel gives a fault message the test rejects, never a
//! fault of the root thread). Each test suspends its worker on the way out
//! (`Handler`'s `Drop`), and the next test's pool revoke deletes it.

use super::{frame, map_rw, peek, poke, table, tables_for, CODE, VA, VS};
use crate::fixture::{
    delete, expect_eq, expect_ok, failure, mint, retype, revoke, Env, FULL, ROOT,
};
use crate::framework::{Ctx, Failure, TestResult};
use crate::ipc::worker::{clear, get, set, start};
use crate::{check, check_eq};
use sel4::abi::fault::{vm_fault, VM_FAULT, VM_FAULT_LENGTH};
use sel4::abi::vm::EXECUTE_NEVER;
use sel4::{
    CNode, CPtr, CapRights, Endpoint, Error, Frame, LookupFailure, Message, ObjectType, Tcb,
    Untyped, Word,
};

/// The worker's priority: it runs only while the root thread waits.
const LOW: Word = 100;
/// Badge of the worker's fault endpoint.
const FAULT_BADGE: Word = 0xFA;
/// Badge of the cap the worker sends its own messages with.
const WORKER_BADGE: Word = 0x5E;
/// Label of the worker's Call: "reply when I may go on".
const SYNC: Word = 1;
/// Label of the worker's Send: "finished".
const DONE: Word = 2;
/// Board word holding the cptr of the worker's own endpoint cap.
const EP_WORD: usize = 0;

/// seL4's normalised fault status on RISC-V (ABI ref §9).
const FSR_FETCH: Word = 1;
const FSR_LOAD: Word = 5;
const FSR_STORE: Word = 7;

const PAGE: Word = 4096;

/// What arrived on the test endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    /// A VMFault of the worker (MR0..MR3).
    VmFault {
        ip: Word,
        addr: Word,
        prefetch: Word,
        fsr: Word,
    },
    /// The worker's [`SYNC`] Call.
    Sync,
    /// The worker's [`DONE`] Send.
    Done,
}

/// Decodes a received message; anything but the three expected kinds
/// (another fault type, a VMFault of the wrong length) fails.
fn event(badge: Word, m: &Message) -> Result<Event, Failure> {
    match (badge, m.label()) {
        (FAULT_BADGE, VM_FAULT) if m.len() == VM_FAULT_LENGTH as usize => Ok(Event::VmFault {
            ip: m.mr(vm_fault::IP),
            addr: m.mr(vm_fault::ADDR),
            prefetch: m.mr(vm_fault::PREFETCH_FAULT),
            fsr: m.mr(vm_fault::FSR),
        }),
        (WORKER_BADGE, SYNC) => Ok(Event::Sync),
        (WORKER_BADGE, DONE) => Ok(Event::Done),
        _ => Err(failure!(
            "unexpected message: badge {badge:#x}, label {}, MRs {:x?}",
            m.label(),
            m.copy_mrs(&mut [0; 8])
        )),
    }
}

/// Fails unless `ev` is a VMFault at `addr` with `prefetch` and `fsr`; a
/// data fault's IP must lie in the program image, a fetch fault's equals
/// `addr`. Returns the IP.
fn expect_vm_fault(
    ctx: &Ctx<'_>,
    ev: Event,
    addr: Word,
    prefetch: Word,
    fsr: Word,
) -> Result<Word, Failure> {
    let Event::VmFault {
        ip,
        addr: a,
        prefetch: p,
        fsr: s,
    } = ev
    else {
        return Err(failure!("expected a VMFault at {addr:#x}, got {ev:?}"));
    };
    check!(
        (a, p, s) == (addr, prefetch, fsr),
        "VMFault Addr {a:#x}, PrefetchFault {p}, FSR {s}; expected {addr:#x}, {prefetch}, {fsr}"
    );
    if prefetch == 1 {
        expect_eq(ip, addr, "IP of a fetch fault")?;
    } else {
        check!(
            (ctx.image_start..ctx.image_end).contains(&ip),
            "IP {ip:#x} of a data fault outside the image"
        );
    }
    Ok(ip)
}

/// The root thread's side: the endpoint, and the worker, which is
/// suspended when this is dropped (also on a failure half-way).
struct Handler {
    ep: Endpoint,
    worker: Tcb,
}

impl Handler {
    /// Makes the endpoint and its two badged caps, and starts worker 0 on
    /// `entry` with the fault-badged one as its fault endpoint. Clears the
    /// board first.
    fn start(env: &Env<'_>, entry: fn(usize)) -> Result<Handler, Failure> {
        clear();
        let ep = env.endpoint()?;
        let (fep, own) = (env.slot()?, env.slot()?);
        expect_ok(
            mint(fep, ep, CapRights::ALL, FAULT_BADGE),
            "Mint of the fault endpoint",
        )?;
        expect_ok(
            mint(own, ep, CapRights::ALL, WORKER_BADGE),
            "Mint of the worker's endpoint",
        )?;
        set(EP_WORD, own);
        let worker = start(env, 0, entry, 0, LOW, CPtr(fep))?;
        Ok(Handler {
            ep: Endpoint::from_bits(ep),
            worker: Tcb::from_bits(worker),
        })
    }

    /// Waits for the worker's first event.
    fn first(&self) -> Result<Event, Failure> {
        let (badge, m) = crate::forms::recv(self.ep);
        event(badge, &m)
    }

    /// Replies with an empty message (a faulting worker restarts the
    /// instruction, a [`SYNC`] Call returns) and waits for the next event.
    fn resume(&self) -> Result<Event, Failure> {
        let (badge, m) = crate::forms::reply_recv(self.ep, &Message::empty(0));
        event(badge, &m)
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        // A worker that already finished suspended itself; this is for one
        // left waiting on a fault or a sync when a check failed.
        let _ = self.worker.suspend();
    }
}

/// Worker side: a [`SYNC`] Call; returns when the root thread replies.
fn sync() {
    Endpoint::from_bits(get(EP_WORD)).call(&Message::empty(SYNC));
}

/// Worker side: the [`DONE`] Send.
fn finish() {
    Endpoint::from_bits(get(EP_WORD)).send(&Message::empty(DONE));
}

// ---- Demand paging ------------------------------------------------------

/// The demand-paged region: 16 MiB at a free, 2 MiB-aligned address of the
/// GiB the other VSpace tests use (so the first fault also finds no level-1
/// table).
const REGION: Word = 0x5000_0000;
/// Its pages.
const PAGES: Word = 4096;
/// Leaf tables a 16 MiB region needs, plus one level-1 table.
const TABLES: Word = 8 + 1;

/// The word the worker writes in page `i`.
fn page_value(i: Word) -> Word {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD00D
}

/// Where in page `i` it writes it: a different word of each page, so that
/// the fault addresses are not all page-aligned.
fn page_offset(i: Word) -> Word {
    (i % 512) * 8
}

/// The worker: writes one word into every page (4096 store faults, each
/// answered with a new mapping), then reads them all back, summing them and
/// counting words that are wrong, including one never-written word of each
/// page that must still read 0 (a fresh frame). Board: 1 = sum, 2 = bad
/// words, 3 = 1 when done.
fn touch_region(_: usize) {
    for i in 0..PAGES {
        // SAFETY: nothing of the program lives in REGION; the store faults
        // and the handler maps a fresh frame there before resuming us.
        unsafe {
            ((REGION + i * PAGE + page_offset(i)) as *mut Word).write_volatile(page_value(i))
        };
    }
    let (mut sum, mut bad): (Word, Word) = (0, 0);
    for i in 0..PAGES {
        let page = REGION + i * PAGE;
        let (v, zero) = (
            (page + page_offset(i)) as *const Word,
            (page + page_offset(i + 256)) as *const Word,
        );
        // SAFETY: every page of REGION is mapped by now (a missing one
        // would fault, and the handler fails the test).
        let (v, zero) = unsafe { (v.read_volatile(), zero.read_volatile()) };
        sum = sum.wrapping_add(v);
        bad += Word::from(v != page_value(i)) + Word::from(zero != 0);
    }
    set(1, sum);
    set(2, bad);
    set(3, 1);
    finish();
}

/// The tables a fault at page `i` must find missing, as Page_Map's
/// FailedLookup bitsLeft in order (0: none): the level-1 table at the
/// first page, a leaf table at each 2 MiB boundary.
fn missing_levels(i: Word) -> [Word; 2] {
    match i {
        0 => [30, 21],
        _ if i.is_multiple_of(512) => [21, 0],
        _ => [0, 0],
    }
}

/// Maps `f` read-write at `va`, mapping new tables from the pool for as
/// long as Page_Map fails with FailedLookup (at most two: Sv39 has two
/// levels above the leaves). Returns the bitsLeft of each failure.
fn map_on_demand(env: &Env<'_>, f: Frame, va: Word) -> Result<[Word; 2], Failure> {
    let mut missing = [0; 2];
    for level in missing.iter_mut() {
        match f.map(VS, va, CapRights::READ_WRITE, 0) {
            Ok(()) => return Ok(missing),
            Err(Error::FailedLookup {
                source: false,
                failure: LookupFailure::MissingCapability { bits_left },
            }) => {
                *level = bits_left;
                expect_ok(
                    table(env)?.map(VS, va, 0),
                    "PageTable_Map of a missing table",
                )?;
            }
            Err(e) => return Err(failure!("Page_Map at {va:#x}: {e}")),
        }
    }
    expect_ok(
        f.map(VS, va, CapRights::READ_WRITE, 0),
        "Page_Map after mapping two tables",
    )?;
    Ok(missing)
}

/// A 16 MiB untyped for the region's frames, carved from the first RAM
/// untyped of BootInfo with that much free: the pool holds exactly 16 MiB
/// and also has to hold the tables, the worker and the endpoint.
fn frames_untyped(env: &Env<'_>) -> Result<Untyped, Failure> {
    let slot = env.slot()?;
    for u in env
        .ctx
        .bi
        .untypeds()
        .filter(|u| !u.is_device && u.size_bits >= 24)
    {
        if retype(u.cap, ObjectType::Untyped, 24, slot, 1).is_ok() {
            return Ok(Untyped::from_bits(slot));
        }
    }
    Err(failure!("no RAM untyped with 16 MiB free"))
}

/// `vspace_demand_paging_16_mib`. Memory: the 4096 frames come from a
/// 16 MiB untyped carved for this test from a BootInfo RAM untyped (not
/// the pool, which is exactly 16 MiB); the tables, the worker and a
/// 4096-slot CNode for the frame caps come from the pool. Each new frame
/// is retyped into one scratch root slot, mapped, then moved into the
/// CNode (the mapping moves with the cap), since the root CNode has too
/// few free slots. At the end the untyped is revoked (deleting the frame
/// caps, which unmaps them: checked by mapping new frames there) and
/// deleted; its 16 MiB stay used in its parent until the parent's other
/// children go (as ever with untyped memory). The pool revoke of the next
/// test deletes the tables.
pub(super) fn demand_paging(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let frames = frames_untyped(&env)?;
    let r = page_in(&env, frames);
    let released = expect_ok(revoke(frames.bits()), "Revoke of the frames' untyped")
        .and_then(|()| expect_ok(delete(frames.bits()), "Delete of the frames' untyped"));
    r?;
    released?;
    // The region's frames are unmapped (the tables are still there): new
    // frames map at its first and last page.
    for va in [REGION, REGION + (PAGES - 1) * PAGE] {
        expect_ok(
            frame(&env)?.map(VS, va, CapRights::READ_WRITE, 0),
            "Page_Map where a revoked frame was",
        )?;
    }
    Ok(())
}

fn page_in(env: &Env<'_>, frames: Untyped) -> TestResult {
    let store = CNode::from_bits(env.cnode(12)?);
    let scratch = env.slot()?;
    let h = Handler::start(env, touch_region)?;
    let (mut faults, mut tables, mut first_ip) = (0, 0, None);
    let mut ev = h.first()?;
    while ev != Event::Done {
        check!(
            faults < PAGES,
            "a fault after all {PAGES} pages were mapped: {ev:?}"
        );
        let page = REGION + faults * PAGE;
        let ip = expect_vm_fault(env.ctx, ev, page + page_offset(faults), 0, FSR_STORE)?;
        check_eq!(ip, *first_ip.get_or_insert(ip), "IP: always the same store");
        expect_ok(
            retype(frames, ObjectType::SmallPage, 0, scratch, 1),
            "Retype of a frame",
        )?;
        let missing = map_on_demand(env, Frame::from_bits(scratch), page)?;
        expect_eq(
            missing,
            missing_levels(faults),
            "tables missing at this page",
        )?;
        tables += missing.iter().filter(|&&b| b != 0).count() as Word;
        expect_ok(
            store.move_(faults, 12, ROOT, scratch, FULL),
            "Move of the mapped frame's cap",
        )?;
        faults += 1;
        ev = h.resume()?;
    }
    expect_eq((faults, tables), (PAGES, TABLES), "(faults, tables mapped)")?;
    let sum = (0..PAGES).map(page_value).fold(0, Word::wrapping_add);
    expect_eq(
        (get(1), get(2), get(3)),
        (sum, 0, 1),
        "the worker's (sum, bad words, done)",
    )
}

// ---- Unmap, read-only, never-execute ------------------------------------

/// The word the small tests use, and what is first in it.
const OFF: Word = 0x188;
const OLD: Word = 0x00DD_BA11;
const NEW: Word = 0xC0DE_F00D;

/// Board: 1 = first read, 2 = second read.
fn read_twice(_: usize) {
    // SAFETY: the root thread mapped a frame at VA before starting us.
    set(1, unsafe { peek(VA + OFF) });
    sync();
    // SAFETY: the root thread unmapped it meanwhile: the load faults and
    // the handler maps the frame again before resuming us.
    set(2, unsafe { peek(VA + OFF) });
    finish();
}

/// `vspace_access_after_unmap_faults`.
pub(super) fn access_after_unmap(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    map_rw(f, VA)?;
    // SAFETY: `f` is mapped read-write at VA.
    unsafe { poke(VA + OFF, OLD) };
    let h = Handler::start(&env, read_twice)?;
    expect_eq(h.first()?, Event::Sync, "after the first read")?;
    check_eq!(get(1), OLD, "the first read");
    expect_ok(f.unmap(), "Page_Unmap")?;
    expect_vm_fault(ctx, h.resume()?, VA + OFF, 0, FSR_LOAD)?;
    check_eq!(get(2), 0, "the second read before the fault was handled");
    map_rw(f, VA)?;
    expect_eq(h.resume()?, Event::Done, "after the reply to the fault")?;
    check_eq!(get(2), OLD, "the second read: the frame's old contents");
    Ok(())
}

/// Board: 1 = the read, 2 = the word read back after the write.
fn read_then_write(_: usize) {
    // SAFETY: the root thread mapped a frame read-only at VA.
    set(1, unsafe { peek(VA + OFF) });
    // SAFETY: the store faults (read-only); the handler remaps the frame
    // read-write before resuming us.
    unsafe { poke(VA + OFF, NEW) };
    // SAFETY: mapped read-write now.
    set(2, unsafe { peek(VA + OFF) });
    finish();
}

/// `vspace_write_to_read_only_mapping_faults`.
pub(super) fn write_read_only(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    map_rw(f, VA)?;
    // SAFETY: `f` is mapped read-write at VA.
    unsafe { poke(VA + OFF, OLD) };
    expect_ok(
        f.map(VS, VA, CapRights::CAN_READ, 0),
        "remap read-only in place",
    )?;
    let h = Handler::start(&env, read_then_write)?;
    expect_vm_fault(ctx, h.first()?, VA + OFF, 0, FSR_STORE)?;
    expect_eq(
        (get(1), get(2)),
        (OLD, 0),
        "(the read, the read after the write) at the fault",
    )?;
    // Page_Map of the mapped frame at its own address: the remap path.
    expect_ok(
        f.map(VS, VA, CapRights::READ_WRITE, 0),
        "remap read-write in place",
    )?;
    expect_eq(h.resume()?, Event::Done, "after the reply to the fault")?;
    check_eq!(get(2), NEW, "the worker's read after its write");
    // SAFETY: `f` is mapped read-write at VA.
    check_eq!(unsafe { peek(VA + OFF) }, NEW, "the root thread's read");
    Ok(())
}

/// Board: 1 = what the code at VA returned.
fn call_va(_: usize) {
    // SAFETY: VA holds `CODE`, a complete C-ABI function; its page is
    // mapped never-execute, so the fetch faults, and the handler remaps it
    // executable before resuming us.
    let code: extern "C" fn() -> Word = unsafe { core::mem::transmute(VA as usize) };
    set(1, code());
    finish();
}

/// `vspace_fetch_from_non_executable_faults`.
pub(super) fn fetch_never_execute(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    tables_for(&env, VS, VA)?;
    let f = frame(&env)?;
    expect_ok(
        f.map(VS, VA, CapRights::READ_WRITE, EXECUTE_NEVER),
        "Page_Map read-write, ExecuteNever",
    )?;
    for (i, w) in CODE.iter().enumerate() {
        // SAFETY: mapped read-write; nothing else lives there.
        unsafe { ((VA + 4 * i as Word) as *mut u32).write_volatile(*w) };
    }
    // SAFETY: `fence.i` only orders instruction fetches after the stores.
    unsafe { core::arch::asm!("fence.i") };
    let h = Handler::start(&env, call_va)?;
    expect_vm_fault(ctx, h.first()?, VA, 1, FSR_FETCH)?;
    check_eq!(get(1), 0, "the result before the fault was handled");
    expect_ok(
        f.map(VS, VA, CapRights::CAN_READ, 0),
        "remap read-execute in place",
    )?;
    expect_eq(h.resume()?, Event::Done, "after the reply to the fault")?;
    check_eq!(get(1), 42, "the result of the code once executable");
    Ok(())
}
