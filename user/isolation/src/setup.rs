//! Making the world: the monitor's endpoint, the hostile's CSpace (R and
//! H, `proto`), its address space (`space`), its minion, the victim and
//! the watchdog, and the master caps the monitor re-grants from.

use crate::alloc::Pool;
use crate::proto::*;
use crate::{check, hostile, space};
use cairn_rt::thread::{IpcPage, Stack, ThreadSpec};
use sel4::abi::cap::cnode_cap_data;
use sel4::abi::context::USER_CONTEXT_WORDS;
use sel4::cap::init_caps;
use sel4::{
    BootInfo, CNode, CPtr, CapRights, Endpoint, Frame, Message, Notification, ObjectType,
    PageTable, Tcb, UserContext, Word,
};

/// Priorities: the monitor (root thread) runs at 255.
const VICTIM_PRIO: Word = 150;
pub const HOSTILE_PRIO: Word = 100;
const WATCHDOG_PRIO: Word = 1;

static VICTIM_STACK: Stack<8192> = Stack::new();
static VICTIM_PAGE: IpcPage = IpcPage::new();
static WATCHDOG_STACK: Stack<4096> = Stack::new();
static WATCHDOG_PAGE: IpcPage = IpcPage::new();
#[cfg(sel4_mcs)]
static PULSE_STACK: Stack<4096> = Stack::new();
#[cfg(sel4_mcs)]
static PULSE_PAGE: IpcPage = IpcPage::new();
/// Cptrs (monitor CSpace) the victim and the watchdog use.
static VICTIM_NTFN: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
static WATCHDOG_EP: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// The caps the hostile is given in H (MCS: also its minion's
/// SchedContext and a reply object).
#[cfg(not(sel4_mcs))]
pub const N_GRANTS: usize = 8;
#[cfg(sel4_mcs)]
pub const N_GRANTS: usize = 10;

/// A cap the hostile was given in H: slot, type tag, and the monitor's
/// master cap it is a full-rights copy of (the master carries the rights
/// and badge the hostile gets).
#[derive(Clone, Copy)]
pub struct Grant {
    pub slot: Word,
    pub tag: Word,
    pub master: Word,
}

/// Everything the monitor needs.
pub struct World {
    pub ep: Endpoint,
    pub hostile: Tcb,
    pub hostile_ctx: UserContext,
    pub minion: Tcb,
    pub victim_ntfn: Notification,
    /// CNode caps (monitor CSpace) to H and R, unguarded.
    pub h: CNode,
    pub r: CNode,
    pub grants: [Grant; N_GRANTS],
    /// The physical address of the hostile's frame.
    pub frame_paddr: Word,
    /// An empty monitor slot for inspecting caps.
    pub scratch: Word,
    /// The value of `hostile::SECRET` (set after the copy).
    pub secret: Word,
    /// For the monitor's self-test: an untyped, and a frame of the image.
    pub untyped: Word,
    pub image_frame: Word,
    /// MCS: the SchedContexts and reply object the monitor keeps.
    #[cfg(sel4_mcs)]
    pub sched: crate::mcs::Sched,
}

/// A thread's SchedContext (MCS; nothing in the classic build).
#[cfg(sel4_mcs)]
type Budget = crate::mcs::Budget;
#[cfg(not(sel4_mcs))]
type Budget = ();
#[cfg(sel4_mcs)]
use crate::mcs::{VICTIM as VICTIM_SC, WATCHDOG as WATCHDOG_SC};
#[cfg(not(sel4_mcs))]
const VICTIM_SC: Budget = ();
#[cfg(not(sel4_mcs))]
const WATCHDOG_SC: Budget = ();

fn e(what: &'static str) -> impl Fn(sel4::Error) -> &'static str {
    move |_| what
}

/// The victim: beats once per notification.
fn victim(_: usize) {
    check::fill_victim();
    let n = Notification::from_bits(VICTIM_NTFN.load(core::sync::atomic::Ordering::Relaxed));
    loop {
        n.wait();
        check::HEARTBEAT.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    }
}

/// The watchdog: only runs when every other thread is blocked (MCS: or
/// out of budget; it then speaks once per period of its own, the Yield
/// waiting for its next release).
fn watchdog(_: usize) {
    let ep = Endpoint::from_bits(WATCHDOG_EP.load(core::sync::atomic::Ordering::Relaxed));
    loop {
        ep.send(&Message::empty(0));
        #[cfg(sel4_mcs)]
        sel4::syscall::yield_now();
    }
}

fn mint(pool: &mut Pool, src: Word, rights: CapRights, badge: Word) -> Result<Word, &'static str> {
    let dst = pool.slot()?;
    let root = init_caps::CNODE;
    root.mint(dst, 64, root, src, 64, rights, badge)
        .map_err(e("CNode_Mint"))?;
    Ok(dst)
}

fn start(
    bi: &BootInfo,
    pool: &mut Pool,
    entry: fn(usize),
    top: usize,
    page: &'static IpcPage,
    prio: Word,
    _budget: Budget,
) -> Result<(), &'static str> {
    let tcb = Tcb::from_bits(pool.create(ObjectType::Tcb, 0)?);
    let spec = ThreadSpec {
        tcb,
        entry,
        arg: 0,
        stack_top: top,
        priority: prio,
        fault_ep: CPtr::NULL,
    };
    // SAFETY: each of the victim, the watchdog (and under MCS the
    // periodic victim) has its own stack and page, used by no other
    // thread, for the whole run.
    unsafe { cairn_rt::thread::prepare(bi, &spec, page) }.map_err(|_| "preparing a thread")?;
    // MCS: a thread runs only on a SchedContext.
    #[cfg(sel4_mcs)]
    crate::mcs::give(bi, pool, tcb, _budget)?;
    tcb.resume().map_err(|_| "resuming a thread")
}

pub fn run(bi: &BootInfo) -> Result<World, &'static str> {
    let mut pool = Pool::new(bi);
    let root = init_caps::CNODE;
    #[cfg(sel4_mcs)]
    let reply = crate::mcs::monitor(bi, &mut pool)?;
    check::fill_monitor();
    hostile::BOOTINFO_VA.store(
        cairn_rt::bootinfo_addr() as Word,
        core::sync::atomic::Ordering::Relaxed,
    );
    hostile::MONITOR_IPC_VA.store(bi.ipc_buffer_addr(), core::sync::atomic::Ordering::Relaxed);

    let ep_raw = pool.create(ObjectType::Endpoint, 0)?;
    let ntfn = pool.create(ObjectType::Notification, 0)?;
    let vn = pool.create(ObjectType::Notification, 0)?;
    let own_ep = pool.create(ObjectType::Endpoint, 0)?;
    let frame = pool.create(ObjectType::SmallPage, 0)?;
    let table = pool.create(ObjectType::PageTable, 0)?;
    let minion = Tcb::from_bits(pool.create(ObjectType::Tcb, 0)?);
    let hostile_tcb = Tcb::from_bits(pool.create(ObjectType::Tcb, 0)?);
    let h = pool.create(ObjectType::CapTable, H_RADIX.into())?;
    let r = pool.create(ObjectType::CapTable, R_RADIX.into())?;
    let scratch = pool.slot()?;
    let frame_paddr = Frame::from_bits(frame)
        .get_address()
        .map_err(e("Page_GetAddress"))?;

    // The victim and the watchdog (the monitor's space and CSpace).
    VICTIM_NTFN.store(vn, core::sync::atomic::Ordering::Relaxed);
    let wd = mint(&mut pool, ep_raw, CapRights::CAN_WRITE, WATCHDOG_BADGE)?;
    WATCHDOG_EP.store(wd, core::sync::atomic::Ordering::Relaxed);
    start(
        bi,
        &mut pool,
        victim,
        VICTIM_STACK.top(),
        &VICTIM_PAGE,
        VICTIM_PRIO,
        VICTIM_SC,
    )?;

    // The hostile's fault handler: classic, a cptr of its CSpace (R[1]);
    // MCS, a cap the kernel keeps in its TCB, minted from the monitor's.
    let fault_rights = CapRights::new(true, false, false, true);
    #[cfg(not(sel4_mcs))]
    let hostile_fault = CPtr(CPTR_FAULT_EP);
    #[cfg(sel4_mcs)]
    let hostile_fault = CPtr(mint(&mut pool, ep_raw, fault_rights, FAULT_BADGE)?);
    // The hostile's thread: registers and IPC page first (its page's
    // thread slot must be set before the data is copied).
    let spec = ThreadSpec {
        tcb: hostile_tcb,
        entry: hostile::entry,
        arg: 0,
        stack_top: hostile::STACK.top(),
        priority: HOSTILE_PRIO,
        fault_ep: hostile_fault,
    };
    // SAFETY: the hostile's stack and page are its own for the whole run
    // (in its space they are private copies; the monitor never uses them).
    unsafe { cairn_rt::thread::prepare(bi, &spec, &hostile::PAGE) }
        .map_err(|_| "preparing the hostile")?;
    let hostile_ctx = hostile_tcb
        .read_registers(false, 0, USER_CONTEXT_WORDS as Word)
        .map_err(e("ReadRegisters of the hostile"))?;
    let space = space::build(bi, &mut pool)?;
    #[cfg(sel4_mcs)]
    let (minion_sc, hostile_sc) = (
        crate::mcs::sched_context(bi, &mut pool, crate::mcs::MINION)?,
        crate::mcs::sched_context(bi, &mut pool, crate::mcs::HOSTILE)?,
    );
    let secret = 0x5EC2_E7ED_0000_0000 ^ frame_paddr;
    hostile::SECRET.store(secret, core::sync::atomic::Ordering::Relaxed);

    // H and R (module `proto`); masters for re-granting.
    let hcap = CNode::from_bits(h);
    let guarded = |bits: u8| cnode_cap_data(0, 64 - Word::from(bits));
    let send = mint(&mut pool, ep_raw, CapRights::CAN_WRITE, SEND_BADGE)?;
    let ntfn_b = mint(&mut pool, ntfn, CapRights::ALL, NTFN_BADGE)?;
    let vspace = space.vspace.bits();
    let grant = |slot, tag, master| Grant { slot, tag, master };
    use sel4::tag as t;
    let grants = [
        grant(H_CNODE, t::CNODE, h),
        grant(H_SEND, t::ENDPOINT, send),
        grant(H_NTFN, t::NOTIFICATION, ntfn_b),
        grant(H_FRAME, t::FRAME, frame),
        grant(H_VSPACE, t::PAGE_TABLE, vspace),
        grant(H_MINION, t::THREAD, minion.bits()),
        grant(H_TABLE, t::PAGE_TABLE, table),
        grant(H_EP, t::ENDPOINT, own_ep),
        #[cfg(sel4_mcs)]
        grant(H_MINION_SC, t::SCHED_CONTEXT, minion_sc.bits()),
        #[cfg(sel4_mcs)]
        grant(H_REPLY, t::REPLY, pool.create(ObjectType::Reply, 0)?),
    ];
    for g in &grants {
        if g.slot == H_TABLE {
            // An unmapped page table cap cannot be copied (seL4's
            // derivation rule): the hostile gets the only one.
            hcap.move_(g.slot, H_RADIX, root, g.master, 64)
                .map_err(e("CNode_Move of the table into H"))?;
        } else {
            hcap.copy(g.slot, H_RADIX, root, g.master, 64, CapRights::ALL)
                .map_err(e("CNode_Copy into H"))?;
        }
    }
    let rcap = CNode::from_bits(r);
    rcap.mint(0, R_RADIX, root, h, 64, CapRights::ALL, 0)
        .map_err(e("CNode_Mint of H into R"))?;
    rcap.mint(1, R_RADIX, root, ep_raw, 64, fault_rights, FAULT_BADGE)
        .map_err(e("CNode_Mint of the fault endpoint"))?;
    rcap.mint(2, R_RADIX, root, ep_raw, 64, fault_rights, REPORT_BADGE)
        .map_err(e("CNode_Mint of the report endpoint"))?;

    // The minion: the hostile's CSpace H and VSpace, MCP and priority
    // those of the hostile, not started.
    let buffer_frame = space
        .data_frame(hostile::PAGE.vaddr() as Word)
        .ok_or("the hostile's IPC page is not a data page")?;
    // Its fault handler: classic, H[8] (a cptr of H); MCS, the cap.
    #[cfg(not(sel4_mcs))]
    let minion_fault = CPtr(H_EP);
    #[cfg(sel4_mcs)]
    let minion_fault = CPtr(own_ep);
    minion
        .configure_with_fault_ep(
            minion_fault,
            hcap,
            guarded(H_RADIX),
            PageTable::from_bits(vspace),
            0,
            0,
            Frame::from_bits(frame),
        )
        .map_err(e("TCB_Configure of the minion"))?;
    #[cfg(not(sel4_mcs))]
    minion
        .set_sched_params(init_caps::TCB, HOSTILE_PRIO, HOSTILE_PRIO)
        .map_err(e("SetSchedParams of the minion"))?;
    #[cfg(sel4_mcs)]
    minion
        .set_sched_params(
            init_caps::TCB,
            HOSTILE_PRIO,
            HOSTILE_PRIO,
            minion_sc.cptr(),
            minion_fault,
        )
        .map_err(e("SetSchedParams of the minion"))?;
    hostile_tcb
        .set_space(
            hostile_fault,
            rcap,
            guarded(R_RADIX + H_RADIX),
            PageTable::from_bits(vspace),
            0,
        )
        .map_err(e("TCB_SetSpace of the hostile"))?;
    hostile_tcb
        .set_ipc_buffer(hostile::PAGE.vaddr() as Word, buffer_frame)
        .map_err(e("TCB_SetIPCBuffer of the hostile"))?;
    #[cfg(not(sel4_mcs))]
    hostile_tcb
        .set_sched_params(init_caps::TCB, HOSTILE_PRIO, HOSTILE_PRIO)
        .map_err(e("SetSchedParams of the hostile"))?;
    // MCS: its SchedContext (the hostile holds no cap to it), bound but
    // not yet running (the monitor's first restart resumes it).
    #[cfg(sel4_mcs)]
    hostile_tcb
        .set_sched_params(
            init_caps::TCB,
            HOSTILE_PRIO,
            HOSTILE_PRIO,
            hostile_sc.cptr(),
            hostile_fault,
        )
        .map_err(e("SetSchedParams of the hostile"))?;
    #[cfg(sel4_mcs)]
    {
        crate::mcs::watch(hostile_sc);
        start(
            bi,
            &mut pool,
            crate::mcs::pulse,
            PULSE_STACK.top(),
            &PULSE_PAGE,
            crate::mcs::PULSE_PRIO,
            crate::mcs::PULSE,
        )?;
    }
    start(
        bi,
        &mut pool,
        watchdog,
        WATCHDOG_STACK.top(),
        &WATCHDOG_PAGE,
        WATCHDOG_PRIO,
        WATCHDOG_SC,
    )?;
    #[cfg(sel4_mcs)]
    crate::mcs::DIAG[2].store(crate::mcs::rdtime(), core::sync::atomic::Ordering::Relaxed);
    Ok(World {
        ep: Endpoint::from_bits(ep_raw),
        hostile: hostile_tcb,
        hostile_ctx,
        minion,
        victim_ntfn: Notification::from_bits(vn),
        h: hcap,
        r: rcap,
        grants,
        frame_paddr,
        scratch,
        secret,
        untyped: bi.untypeds().next().map_or(0, |u| u.cap.bits()),
        image_frame: bi.user_image_frames().start,
        #[cfg(sel4_mcs)]
        sched: crate::mcs::Sched {
            reply,
            hostile_sc,
            minion_sc,
            hostile_fault,
            minion_fault,
            seen: 0,
            throttled: 0,
        },
    })
}
