//! IPC between the root thread and a worker in a second address space
//! (`cairn_rt::space`): a VSpace of its own, from the fixture's pool, that
//! maps the image's frames at their own addresses (shared CSpace, separate
//! VSpace). Calls and replies, capability transfer, what the second space
//! cannot see, its read-only text, and what revoking it leaves (ch. 4
//! Message Passing, ch. 7 Address Spaces and Virtual Memory).
//!
//! The image's data is shared by the two spaces (same frames), so workers
//! report through the board as in the other IPC tests. A worker of the
//! second space must touch only the image: the BootInfo (and so `Ctx`) is
//! not mapped there.

use super::worker::{clear, get, set, start, start_in};
use crate::fixture::{delete, expect_eq, expect_ok, expect_tag, failure, mint, revoke, Env, ROOT};
use crate::framework::{Ctx, Failure, TestResult};
use crate::{check, check_eq};
use cairn_rt::space::{ImageSpace, ROOT_SLOTS};
use sel4::abi::vm::EXECUTE_NEVER;
use sel4::cap::init_caps;
use sel4::ipc_buffer::set_cap_receive_path;
use sel4::{
    tag, CPtr, CapRights, Endpoint, Frame, Message, Notification, ObjectType, PageTable, Tcb, Word,
};

/// The root thread's priority, and that of the workers here.
const PRIO: Word = 255;
/// seL4_Fault_VMFault (5 classic, 6 MCS).
const VM_FAULT: Word = sel4::abi::fault::VM_FAULT;
/// The label of a worker's "finished" message on the fault endpoint.
const DONE: Word = 0x600D;
/// The label of a worker's "running" message (see [`start_ready`]).
const READY: Word = 0x4EAD;
/// A page mapped only in the root task's VSpace (the second GiB, which
/// the image does not reach).
const ROOT_ONLY: Word = 0x6000_0000;
/// Where a worker of the second space maps a frame it was sent.
const OTHER_VA: Word = 0x7000_0000;

/// A second address space made from the pool, with fresh root slots.
fn second_space(env: &Env<'_>) -> Result<ImageSpace, Failure> {
    let first = env.slots(ROOT_SLOTS)?;
    ImageSpace::new(env.ctx.bi, env.pool(), first)
        .map_err(|e| failure!("making the second address space: {e}"))
}

/// New level-1 and leaf tables for the 2 MiB at `va` in `vspace`.
fn tables(env: &Env<'_>, vspace: PageTable, va: Word) -> Result<(), Failure> {
    for level in ["level-1", "leaf"] {
        let t = PageTable::from_bits(env.create(ObjectType::PageTable, 0)?);
        t.map(vspace, va, 0)
            .map_err(|e| failure!("PageTable_Map of the {level} table at {va:#x}: {e}"))?;
    }
    Ok(())
}

/// A new frame mapped read-write at [`ROOT_ONLY`] in the root VSpace,
/// holding `value` in its first word.
fn root_only_page(env: &Env<'_>, value: Word) -> Result<Frame, Failure> {
    tables(env, init_caps::VSPACE, ROOT_ONLY)?;
    let f = Frame::from_bits(env.create(ObjectType::SmallPage, 0)?);
    expect_ok(
        f.map(
            init_caps::VSPACE,
            ROOT_ONLY,
            CapRights::READ_WRITE,
            EXECUTE_NEVER,
        ),
        "Page_Map at ROOT_ONLY in the root VSpace",
    )?;
    // SAFETY: the frame is mapped read-write at ROOT_ONLY in this VSpace
    // (the kernel said so), and nothing of the program lives there.
    unsafe { (ROOT_ONLY as *mut Word).write_volatile(value) };
    // SAFETY: as above.
    let got = unsafe { (ROOT_ONLY as *const Word).read_volatile() };
    check_eq!(got, value, "ROOT_ONLY read back");
    Ok(f)
}

/// An endpoint (board[0]) and a copy with badge 0x99, all rights, for
/// workers to use as fault endpoint and to report on.
fn fault_endpoint(env: &Env<'_>) -> Result<(Endpoint, CPtr), Failure> {
    let ep = env.endpoint()?;
    let fep = env.slot()?;
    expect_ok(
        mint(fep, ep, CapRights::ALL, 0x99),
        "Mint of the fault endpoint",
    )?;
    set(0, fep);
    Ok((Endpoint::from_bits(ep), CPtr(fep)))
}

/// Starts worker `index` on `entry` in `space` with a fault endpoint
/// (board[11]) and waits until the worker reports [`READY`] on it (see
/// [`ready`]), so that a second space that cannot run the image fails the
/// test (a VMFault arrives instead) rather than leaving the root thread
/// waiting for a partner that never comes. Returns the TCB's slot.
fn start_ready(
    env: &Env<'_>,
    space: &ImageSpace,
    index: usize,
    entry: fn(usize),
) -> Result<Word, Failure> {
    let ready_ep = env.endpoint()?;
    set(11, ready_ep);
    let tcb = start_in(env, space, index, entry, 0, PRIO, CPtr(ready_ep))?;
    let (_, m) = crate::forms::recv(Endpoint::from_bits(ready_ep));
    match m.label() {
        READY => Ok(tcb),
        VM_FAULT => Err(failure!(
            "the second-space worker faulted: VMFault at pc {:#x}, address {:#x}",
            m.mr(0),
            m.mr(1)
        )),
        l => Err(failure!(
            "the second-space worker's first message has label {l}"
        )),
    }
}

/// A worker's first act under [`start_ready`].
fn ready() {
    Endpoint::from_bits(get(11)).send(&Message::new(READY, &[], &[]));
}

/// Worker (either space): a server answering each Call with label + 1 and
/// each MR xor 0xA5A5, counting calls in board[1].
fn pong_server(_: usize) {
    ready();
    let ep = Endpoint::from_bits(get(0));
    let (_, mut m) = crate::forms::recv(ep);
    loop {
        set(1, get(1) + 1);
        let mut out = [0; 8];
        let n = m.len().min(out.len());
        for (i, o) in out.iter_mut().enumerate().take(n) {
            *o = m.mr(i) ^ 0xA5A5;
        }
        let (_, next) = crate::forms::reply_recv(
            ep,
            &Message::new(m.label() + 1, out.get(..n).unwrap_or(&[]), &[]),
        );
        m = next;
    }
}

pub(super) fn ping_pong(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    let space = second_space(&env)?;
    start_ready(&env, &space, 0, pong_server)?;
    // 0 to 8 words: MRs 4.. go through both IPC buffers, which live in
    // different VSpaces.
    const CALLS: Word = 40;
    for n in 0..CALLS {
        let len = (n % 9) as usize;
        let mrs: [Word; 8] = core::array::from_fn(|i| n * 100 + i as Word);
        let msg = Message::new(n, mrs.get(..len).unwrap_or(&[]), &[]);
        let reply = Endpoint::from_bits(ep).call(&msg);
        check_eq!(
            (reply.label(), reply.len()),
            (n + 1, len),
            "reply label and length"
        );
        for (i, &w) in reply.copy_mrs(&mut [0; 8]).iter().enumerate() {
            check_eq!(w, (n * 100 + i as Word) ^ 0xA5A5, "reply MR");
        }
    }
    expect_eq(get(1), CALLS, "calls the server answered")
}

/// Worker of the second space: receives a notification cap into root slot
/// board[2] and signals through it; then a frame cap into board[3], maps
/// it at OTHER_VA in its own VSpace (board[4]), records the first word in
/// board[5], writes 0xB0B at offset 8, and signals again. board[6], [7]:
/// the extraCaps of the two messages; board[8]: 1 if the map failed. On a
/// missing cap it signals board[10] (unbadged) instead, so the root thread
/// never waits for ever.
fn receive_and_use(_: usize) {
    ready();
    let ep = Endpoint::from_bits(get(0));
    let fallback = Notification::from_bits(get(10));
    set_cap_receive_path(ROOT.bits(), get(2), 64);
    let (_, m) = crate::forms::recv(ep);
    set(6, m.info().extra_caps());
    let got = Notification::from_bits(get(2));
    let signal = |ok: bool| if ok { got.signal() } else { fallback.signal() };
    let has_ntfn = sel4::debug::cap_identify(got.cptr()) == tag::NOTIFICATION;
    signal(has_ntfn);
    set_cap_receive_path(ROOT.bits(), get(3), 64);
    let (_, m) = crate::forms::recv(ep);
    set(7, m.info().extra_caps());
    let frame = Frame::from_bits(get(3));
    let vspace = PageTable::from_bits(get(4));
    if frame
        .map(vspace, OTHER_VA, CapRights::READ_WRITE, EXECUTE_NEVER)
        .is_err()
    {
        set(8, 1);
        signal(false);
        return;
    }
    // SAFETY: the kernel mapped the received frame read-write at OTHER_VA
    // in this thread's VSpace, where nothing else lives.
    unsafe {
        set(5, (OTHER_VA as *const Word).read_volatile());
        ((OTHER_VA + 8) as *mut Word).write_volatile(0xB0B);
    }
    signal(has_ntfn);
}

pub(super) fn cap_transfer(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    let ntfn = env.create(ObjectType::Notification, 0)?;
    set(10, ntfn);
    let (d1, d2) = (env.slot()?, env.slot()?);
    set(2, d1);
    set(3, d2);
    let space = second_space(&env)?;
    set(4, space.vspace_slot());
    tables(&env, PageTable::from_bits(space.vspace_slot()), OTHER_VA)?;
    let frame = root_only_page(&env, 0xF00D)?;
    start_ready(&env, &space, 0, receive_and_use)?;
    // A badged notification cap, sent with Grant (the endpoint cap has all
    // rights); the sender's copy is deleted before the worker uses its own.
    let gift = env.slot()?;
    expect_ok(
        mint(gift, ntfn, CapRights::ALL, 0x77),
        "Mint of the notification",
    )?;
    Endpoint::from_bits(ep).send(&Message::new(0, &[], &[CPtr(gift)]));
    expect_ok(delete(gift), "Delete of the sent cap")?;
    let badge = Notification::from_bits(ntfn).wait();
    expect_eq(get(6), 1, "extraCaps of the notification message")?;
    expect_tag(d1, tag::NOTIFICATION, "the received notification cap")?;
    check_eq!(badge, 0x77, "badge of the signal through the received cap");
    // The frame cap: mapped here, so the worker receives an unmapped copy.
    Endpoint::from_bits(ep).send(&Message::new(0, &[], &[frame.cptr()]));
    let badge = Notification::from_bits(ntfn).wait();
    expect_eq(get(7), 1, "extraCaps of the frame message")?;
    expect_tag(d2, tag::FRAME, "the received frame cap")?;
    check!(get(8) == 0, "the worker could not map the received frame");
    check_eq!(badge, 0x77, "badge of the second signal");
    expect_eq(
        get(5),
        0xF00D,
        "the word the worker read through its mapping",
    )?;
    // SAFETY: `frame` is still mapped read-write at ROOT_ONLY here.
    let back = unsafe { ((ROOT_ONLY + 8) as *const Word).read_volatile() };
    expect_eq(back, 0xB0B, "the word the worker wrote, read here")
}

/// Worker (either space): loads from ROOT_ONLY, records the value in
/// board[1] and reports DONE on board[0]. In a space without that page the
/// load is a VMFault for the root thread, and the worker is never resumed.
fn load_root_only(_: usize) {
    // SAFETY: ROOT_ONLY is mapped readable in the root VSpace, and in the
    // second space the load faults to the handler (the root thread), which
    // never resumes this thread.
    let v = unsafe { (ROOT_ONLY as *const Word).read_volatile() };
    set(1, v);
    Endpoint::from_bits(get(0)).send(&Message::new(DONE, &[], &[]));
}

pub(super) fn root_page_invisible(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    root_only_page(&env, 0x5EE)?;
    let (ep, fep) = fault_endpoint(&env)?;
    // Control: a worker of the root task's own space reads the page.
    start(&env, 0, load_root_only, 0, PRIO, fep)?;
    let (badge, m) = crate::forms::recv(ep);
    expect_eq(
        (badge, m.label(), get(1)),
        (0x99, DONE, 0x5EE),
        "root-space worker",
    )?;
    // A worker of the second space faults on it.
    set(1, 0);
    let space = second_space(&env)?;
    start_in(&env, &space, 1, load_root_only, 0, PRIO, fep)?;
    let (badge, m) = crate::forms::recv(ep);
    expect_eq(
        (badge, m.label()),
        (0x99, VM_FAULT),
        "badge and label from the second space",
    )?;
    expect_eq(
        (m.mr(1), m.mr(2), m.mr(3)),
        (ROOT_ONLY, 0, 5),
        "Addr, PrefetchFault, FSR (load)",
    )?;
    expect_eq(get(1), 0, "the second-space worker read nothing")
}

/// Worker (second space): loads the word at `arg` (a text address) and
/// stores it back: harmless if the page were writable, a VMFault if not.
fn rewrite_text(arg: usize) {
    // SAFETY: `arg` is mapped readable (text) in this thread's VSpace; the
    // store writes back the value read, so it changes nothing even if the
    // page were writable, and faults otherwise (never resumed).
    unsafe {
        core::arch::asm!(
            "ld {t}, 0({a})",
            "sd {t}, 0({a})",
            a = in(reg) arg,
            t = out(reg) _,
            options(nostack)
        )
    };
    Endpoint::from_bits(get(0)).send(&Message::new(DONE, &[], &[]));
}

pub(super) fn text_read_only(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let (ep, fep) = fault_endpoint(&env)?;
    let space = second_space(&env)?;
    let target = (rewrite_text as fn(usize) as usize) & !7;
    start_in(&env, &space, 0, rewrite_text, target, PRIO, fep)?;
    let (_, m) = crate::forms::recv(ep);
    expect_eq(m.label(), VM_FAULT, "label (text must not be writable)")?;
    expect_eq(
        (m.mr(1), m.mr(2), m.mr(3)),
        (target as Word, 0, 7),
        "Addr, PrefetchFault, FSR (store)",
    )
}

/// Worker (root space): reads one word of every image page, then reports
/// DONE on board[0]; board[1..3] = the image bounds.
fn touch_image(_: usize) {
    let (mut va, end) = (get(1) & !0xFFF, get(2));
    while va < end {
        // SAFETY: every page of the image is mapped readable in the root
        // VSpace; if one is not, the load faults to the root thread.
        let _ = unsafe { (va as *const Word).read_volatile() };
        va += 0x1000;
    }
    Endpoint::from_bits(get(0)).send(&Message::new(DONE, &[], &[]));
}

pub(super) fn teardown_keeps_root_mappings(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    // The space from an untyped of its own, revoked below.
    let ut = env.untyped(20)?;
    let first = env.slots(ROOT_SLOTS)?;
    let space = ImageSpace::new(ctx.bi, ut, first)
        .map_err(|e| failure!("making the second address space: {e}"))?;
    check!(
        space.caps_held() > 2,
        "{} caps in the space's CNode",
        space.caps_held()
    );
    let server = start_ready(&env, &space, 0, pong_server)?;
    let reply = Endpoint::from_bits(ep).call(&Message::new(1, &[2], &[]));
    expect_eq(
        (reply.label(), reply.mr(0)),
        (2, 2 ^ 0xA5A5),
        "a round trip",
    )?;
    expect_ok(Tcb::from_bits(server).suspend(), "Suspend of the server")?;
    expect_ok(revoke(ut.bits()), "Revoke of the space's untyped")?;
    for (slot, what) in [
        (space.vspace_slot(), "the VSpace root slot"),
        (space.cnode().bits(), "the CNode slot"),
        (first + 2, "the scratch slot"),
    ] {
        expect_tag(slot, tag::NULL, what)?;
    }
    // Every page of the image is still mapped here: a worker of this space
    // reads them all (a fault would come to the root thread as a message).
    let (fault_ep, fep) = fault_endpoint(&env)?;
    set(1, ctx.image_start);
    set(2, ctx.image_end);
    start(&env, 1, touch_image, 0, PRIO, fep)?;
    let (_, m) = crate::forms::recv(fault_ep);
    check!(
        m.label() == DONE,
        "reading the image after the revoke: label {}, addr {:#x}",
        m.label(),
        m.mr(1)
    );
    // The untyped makes a new space, and its thread runs.
    set(0, ep);
    set(1, 0);
    let again = ImageSpace::new(ctx.bi, ut, env.slots(ROOT_SLOTS)?)
        .map_err(|e| failure!("the second space after the revoke: {e}"))?;
    start_ready(&env, &again, 2, pong_server)?;
    let reply = Endpoint::from_bits(ep).call(&Message::new(5, &[], &[]));
    expect_eq(reply.label(), 6, "a round trip with the new space")
}

/// Worker of the second space: for each Call, reads the word at
/// [`OTHER_VA`] in its VSpace, writes MR0 there and replies with what it
/// read.
fn swap_word(_: usize) {
    ready();
    let ep = Endpoint::from_bits(get(0));
    let (_, mut m) = crate::forms::recv(ep);
    loop {
        let p = OTHER_VA as *mut Word;
        // SAFETY: the root thread maps a frame read-write at OTHER_VA in
        // this thread's VSpace before each Call; nothing else lives there.
        let old = unsafe { p.read_volatile() };
        // SAFETY: as above.
        unsafe { p.write_volatile(m.mr(0)) };
        let (_, next) = crate::forms::reply_recv(ep, &Message::new(0, &[old], &[]));
        m = next;
    }
}

/// With ASID-tagged TLB entries an address-space switch flushes nothing,
/// so the unmap and the map must: the second space's worker uses
/// OTHER_VA (its translation is now in the TLB under its ASID), the root
/// thread moves OTHER_VA to another frame there, and the worker must see
/// the new frame, never the old one, round after round.
pub(super) fn remap_is_seen_across_switches(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let ep = env.endpoint()?;
    set(0, ep);
    let space = second_space(&env)?;
    let vs = PageTable::from_bits(space.vspace_slot());
    tables(&env, vs, OTHER_VA)?;
    tables(&env, init_caps::VSPACE, ROOT_ONLY)?;
    // Two frames, each mapped here (to look at) and, by turns, there.
    let mut frames = [Frame::from_bits(0); 2];
    let mut theirs = [Frame::from_bits(0); 2];
    for (i, (f, t)) in frames.iter_mut().zip(theirs.iter_mut()).enumerate() {
        *f = Frame::from_bits(env.create(ObjectType::SmallPage, 0)?);
        let c = env.slot()?;
        expect_ok(
            crate::fixture::copy(c, f.bits(), CapRights::ALL),
            "Copy of a frame cap",
        )?;
        *t = Frame::from_bits(c);
        let va = ROOT_ONLY + 0x1000 * i as Word;
        expect_ok(
            f.map(init_caps::VSPACE, va, CapRights::READ_WRITE, EXECUTE_NEVER),
            "Page_Map here",
        )?;
    }
    let word = |i: usize| (ROOT_ONLY + 0x1000 * i as Word) as *mut Word;
    start_ready(&env, &space, 0, swap_word)?;
    for round in 0..8 {
        let i = round % 2;
        // SAFETY: frame i is mapped read-write at word(i) in this VSpace.
        unsafe { word(i).write_volatile(0x1000 + round as Word) };
        let t = theirs[i];
        expect_ok(
            t.map(vs, OTHER_VA, CapRights::READ_WRITE, EXECUTE_NEVER),
            "Page_Map there",
        )?;
        let reply = Endpoint::from_bits(ep).call(&Message::new(0, &[0x2000 + round as Word], &[]));
        check_eq!(reply.mr(0), 0x1000 + round as Word, "what the worker read");
        // SAFETY: as above.
        let got = unsafe { word(i).read_volatile() };
        check_eq!(got, 0x2000 + round as Word, "what the worker wrote");
        // SAFETY: the other frame is mapped at word(1 - i).
        let other = unsafe { word(1 - i).read_volatile() };
        check!(
            other != 0x2000 + round as Word,
            "round {round}: the write went to the old frame too"
        );
        expect_ok(t.unmap(), "Page_Unmap there")?;
    }
    Ok(())
}
