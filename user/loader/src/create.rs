//! Carrying out a checked spec: objects, address spaces, CNodes, IRQs,
//! threads, then the loader's own caps deleted.
//!
//! Slots of the loader's CNode: object `i` is at `base + i` (base = the
//! first empty slot), then one slot per frame mapping (seL4 maps a frame
//! cap once, so each mapping is a copy), then a scratch slot.

use core::fmt;

use cairn_loader::{Kind, Spec, Step, TcbStep, NONE};
use cairn_rt::println;
use sel4::abi::vm::EXECUTE_NEVER;
use sel4::{
    init, AsidPool, BootInfo, CNode, CPtr, CapRights, Error, Frame, IrqControl, IrqHandler,
    Notification, ObjectType, PageTable, Tcb, UserContext,
};

use crate::untyped::{DeviceError, Pool};

/// Cptrs of the loader's CNode are resolved with all 64 bits.
const FULL: u8 = 64;
/// Where the loader maps a frame to fill it: a 2 MiB block of its own
/// address space above its image, with a page table of its own.
const WINDOW: u64 = 0x2000_0000;
/// The index of `a0` in `seL4_UserContext`, and so the register count
/// that `TCB_WriteRegisters` needs to set pc, sp and a0.
const REGS_TO_A0: u64 = 17;
/// How many VSpace roots the loader can keep track of (ASID assigned).
const MAX_VSPACES: usize = 256;

/// Why loading stopped.
pub enum LoadError {
    /// Object `index` (a kind, `2^bits` bytes) fits in no untyped.
    DoesNotFit {
        index: usize,
        kind: Kind,
        bits: u64,
        largest: u64,
    },
    /// More slots needed than the loader's CNode has empty.
    Slots { needed: u64, empty: u64 },
    /// More VSpaces than [`MAX_VSPACES`].
    TooManyVSpaces,
    /// After clean-up the loader still holds a cap it should not (slot,
    /// `seL4_DebugCapIdentify` type).
    Kept { slot: u64, tag: u64 },
    /// Device frame `index`: no unused device untyped holds `paddr` (it is
    /// RAM, not on this machine, or taken twice), or too many splits.
    NoDevice { index: usize, paddr: u64 },
    /// A scheduling context or reply object in the input of a loader
    /// built for the classic kernel.
    #[cfg_attr(sel4_mcs, allow(dead_code))]
    NeedsMcs { index: usize },
    /// An invocation failed.
    Kernel {
        what: &'static str,
        index: u64,
        err: Error,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::DoesNotFit { index, kind, bits, largest } => write!(
                f,
                "object {index} ({kind:?}, {} bytes) does not fit: the largest free block of untyped memory left is {largest} bytes",
                1u64 << bits
            ),
            LoadError::Slots { needed, empty } => {
                write!(f, "{needed} slots needed, the root CNode has {empty} empty")
            }
            LoadError::Kept { slot, tag } => write!(
                f,
                "after clean-up the loader still holds a cap of type {tag} in slot {slot}"
            ),
            LoadError::NoDevice { index, paddr } => write!(
                f,
                "object {index} (device frame at {paddr:#x}): no unused device untyped holds it"
            ),
            LoadError::TooManyVSpaces => write!(f, "more than {MAX_VSPACES} address spaces"),
            LoadError::NeedsMcs { index } => write!(
                f,
                "object {index}: scheduling contexts, reply objects and timeout handlers need the MCS kernel (--config mcs=on)"
            ),
            LoadError::Kernel { what, index, err } => write!(f, "{what} (object {index}): {err}"),
        }
    }
}

fn kernel(what: &'static str, index: u64) -> impl FnOnce(Error) -> LoadError {
    move |err| LoadError::Kernel { what, index, err }
}

struct Loader<'s> {
    spec: &'s Spec<'s>,
    root: CNode,
    base: u64,
    /// The next free slot after the objects'.
    next: u64,
    end: u64,
    scratch: u64,
    vspaces: [u64; MAX_VSPACES],
    n_vspaces: usize,
    /// MCS: the boot's SchedControl cap (0 on the classic kernel).
    #[cfg_attr(not(sel4_mcs), allow(dead_code))]
    sched_control: u64,
}

impl Loader<'_> {
    fn slot(&self, object: u64) -> u64 {
        self.base + object
    }

    fn fresh(&mut self) -> Result<u64, LoadError> {
        if self.next >= self.end {
            return Err(LoadError::Slots {
                needed: self.next + 1 - self.base,
                empty: self.end - self.base,
            });
        }
        self.next += 1;
        Ok(self.next - 1)
    }

    /// Gives `vspace` an ASID from the initial pool, once.
    fn asid(&mut self, vspace: u64) -> Result<(), LoadError> {
        if self
            .vspaces
            .iter()
            .take(self.n_vspaces)
            .any(|&v| v == vspace)
        {
            return Ok(());
        }
        let entry = self
            .vspaces
            .get_mut(self.n_vspaces)
            .ok_or(LoadError::TooManyVSpaces)?;
        *entry = vspace;
        self.n_vspaces += 1;
        AsidPool(CPtr(init::ASID_POOL))
            .assign(PageTable(CPtr(self.slot(vspace))))
            .map_err(kernel("ASIDPool_Assign", vspace))
    }
}

/// Builds the system of `spec`.
pub fn create(spec: &Spec, bootinfo: &BootInfo) -> Result<(), LoadError> {
    let empty = bootinfo.empty();
    let n = spec.n_objects() as u64;
    let mut l = Loader {
        spec,
        root: CNode(CPtr(init::CNODE)),
        base: empty.start,
        next: empty.start + n,
        end: empty.end,
        scratch: 0,
        vspaces: [0; MAX_VSPACES],
        n_vspaces: 0,
        sched_control: 0,
    };
    #[cfg(sel4_mcs)]
    {
        l.sched_control = bootinfo.sched_control().start;
    }
    if l.next > l.end {
        return Err(LoadError::Slots {
            needed: n,
            empty: empty.end - empty.start,
        });
    }
    l.scratch = l.fresh()?;
    let mut pool = Pool::new(bootinfo);
    objects(&mut l, &mut pool)?;
    let window = l.fresh()?;
    let ut = pool.take(12).ok_or(LoadError::DoesNotFit {
        index: spec.n_objects(),
        kind: Kind::PageTable,
        bits: 12,
        largest: pool.largest_free(),
    })?;
    ut.retype(ObjectType::PageTable, 0, l.root, 0, 0, window, 1)
        .map_err(kernel("Untyped_Retype (fill window)", 0))?;
    PageTable(CPtr(window))
        .map(PageTable(CPtr(init::VSPACE)), WINDOW, 0)
        .map_err(kernel("PageTable_Map (fill window)", 0))?;
    let mut starts = 0;
    for step in spec.steps().flatten() {
        match step {
            Step::Start(t) => {
                if starts == 0 && spec.verbose {
                    println!("cairn-loader: starting the threads");
                }
                starts += 1;
                Tcb(CPtr(l.slot(t)))
                    .resume()
                    .map_err(kernel("TCB_Resume", t))?;
            }
            Step::Drop(_) => {}
            other => one(&mut l, other)?,
        }
    }
    cleanup(&l, &pool, bootinfo);
    if !spec.debug {
        // No seL4_DebugCapIdentify to audit with (debug=off).
        return Ok(());
    }
    audit(&l, bootinfo.cnode_size_bits())
}

/// Checks, with `seL4_DebugCapIdentify` over every slot of its CNode,
/// that the loader kept only what `cleanup` says: frames, page tables,
/// threads and the ASID pool (and its own CNode). Anything else (an
/// untyped, IRQ or ASID control, the domain cap, an endpoint, a
/// notification, an IRQ handler, another CNode) is authority that should
/// have gone: loading fails.
fn audit(l: &Loader, cnode_bits: u64) -> Result<(), LoadError> {
    use sel4::tag;
    let mut kept = [0u64; 6];
    for slot in 0..1u64 << cnode_bits {
        let t = sel4::debug::cap_identify(CPtr(slot));
        let i = match t {
            tag::NULL => continue,
            tag::FRAME => 0,
            tag::PAGE_TABLE => 1,
            tag::THREAD => 2,
            tag::ASID_POOL => 3,
            tag::CNODE if slot == init::CNODE => 4,
            // MCS: the loader's own and those of the PDs that run on one
            // of their own (deleting the last cap would unbind it).
            #[cfg(sel4_mcs)]
            tag::SCHED_CONTEXT => 5,
            _ => return Err(LoadError::Kept { slot, tag: t }),
        };
        kept[i] += 1;
    }
    if l.spec.verbose {
        println!(
            "cairn-loader: keeps {} frames, {} page tables, {} threads, {} ASID pool, its CNode, {} scheduling contexts; nothing else",
            kept[0], kept[1], kept[2], kept[3], kept[5]
        );
    }
    Ok(())
}

/// Creates every object, in the spec's order (largest first).
fn objects(l: &mut Loader, pool: &mut Pool) -> Result<(), LoadError> {
    for i in 0..l.spec.n_objects() {
        let Some(o) = l.spec.object(i) else { continue };
        let slot = l.slot(i as u64);
        if o.kind == Kind::Irq {
            IrqControl(CPtr(init::IRQ_CONTROL))
                .get(o.extra, l.root, slot, FULL)
                .map_err(kernel("IRQControl_Get", i as u64))?;
            continue;
        }
        let (ty, size) = match o.kind {
            Kind::Endpoint => (ObjectType::Endpoint, 0),
            Kind::Notification => (ObjectType::Notification, 0),
            Kind::Tcb => (ObjectType::Tcb, 0),
            Kind::CNode => (ObjectType::CapTable, o.size_bits),
            Kind::PageTable => (ObjectType::PageTable, 0),
            Kind::Frame if o.size_bits == 21 => (ObjectType::MegaPage, 0),
            Kind::Frame => (ObjectType::SmallPage, 0),
            #[cfg(sel4_mcs)]
            Kind::SchedContext => (ObjectType::SchedContext, o.size_bits),
            #[cfg(sel4_mcs)]
            Kind::Reply => (ObjectType::Reply, 0),
            #[cfg(not(sel4_mcs))]
            Kind::SchedContext | Kind::Reply => return Err(LoadError::NeedsMcs { index: i }),
            Kind::Irq => continue,
        };
        let ut = if let Some(paddr) = o.device_paddr() {
            let (root, next, end) = (l.root, &mut l.next, l.end);
            let fresh = || {
                (*next < end).then(|| {
                    *next += 1;
                    *next - 1
                })
            };
            pool.device(paddr, o.size_bits as u8, root, fresh)
                .map_err(|e| match e {
                    DeviceError::Kernel(err) => LoadError::Kernel {
                        what: "Untyped_Retype (device untyped)",
                        index: i as u64,
                        err,
                    },
                    _ => LoadError::NoDevice { index: i, paddr },
                })?
        } else {
            pool.take(o.mem_bits()).ok_or(LoadError::DoesNotFit {
                index: i,
                kind: o.kind,
                bits: o.mem_bits(),
                largest: pool.largest_free(),
            })?
        };
        ut.retype(ty, size, l.root, 0, 0, slot, 1)
            .map_err(kernel("Untyped_Retype", i as u64))?;
        if l.spec.verbose {
            println!(
                "cairn-loader: object {i}: {:?} of 2^{} bytes",
                o.kind,
                o.mem_bits()
            );
        }
    }
    Ok(())
}

/// One step other than starting threads.
fn one(l: &mut Loader, step: Step) -> Result<(), LoadError> {
    match step {
        Step::MapPt { pt, vspace, vaddr } => {
            l.asid(vspace)?;
            PageTable(CPtr(l.slot(pt)))
                .map(PageTable(CPtr(l.slot(vspace))), vaddr, 0)
                .map_err(kernel("PageTable_Map", pt))
        }
        Step::Fill {
            frame,
            offset,
            data_offset,
            len,
        } => fill(l, frame, offset, data_offset, len),
        Step::MapFrame {
            frame,
            vspace,
            vaddr,
            rights,
            ..
        } => {
            l.asid(vspace)?;
            let copy = l.fresh()?;
            l.root
                .copy(copy, FULL, l.root, l.slot(frame), FULL, CapRights::ALL)
                .map_err(kernel("CNode_Copy (frame)", frame))?;
            // The grant bit of a frame's rights stands for execute.
            let attr = if rights & CapRights::CAN_GRANT.0 != 0 {
                0
            } else {
                EXECUTE_NEVER
            };
            let r = CapRights(rights & CapRights::READ_WRITE.0);
            Frame(CPtr(copy))
                .map(PageTable(CPtr(l.slot(vspace))), vaddr, r, attr)
                .map_err(kernel("Page_Map", frame))
        }
        Step::Mint {
            cnode,
            slot,
            object,
            rights,
            data,
        } => {
            let bits = l.spec.object(cnode as usize).map_or(0, |o| o.size_bits) as u8;
            let dest = CNode(CPtr(l.slot(cnode)));
            let src = l.slot(object);
            let r = CapRights(rights & CapRights::ALL.0);
            if data == 0 {
                dest.copy(slot, bits, l.root, src, FULL, r)
            } else {
                dest.mint(slot, bits, l.root, src, FULL, r, data)
            }
            .map_err(kernel("CNode_Mint", object))
        }
        Step::BindIrq {
            irq,
            ntfn,
            rights,
            badge,
        } => {
            l.root
                .mint(
                    l.scratch,
                    FULL,
                    l.root,
                    l.slot(ntfn),
                    FULL,
                    CapRights(rights & 0xF),
                    badge,
                )
                .map_err(kernel("CNode_Mint (IRQ notification)", ntfn))?;
            let r = IrqHandler(CPtr(l.slot(irq))).set_notification(Notification(CPtr(l.scratch)));
            let _ = l.root.delete(l.scratch, FULL);
            r.map_err(kernel("IRQHandler_SetNotification", irq))
        }
        Step::Tcb(t) => thread(l, &t),
        Step::ScConfig {
            sc,
            budget,
            period,
            extra_refills,
            badge,
        } => configure_sc(l, sc, budget, period, extra_refills, badge),
        Step::TimeoutEp {
            tcb,
            ep,
            rights,
            badge,
        } => timeout_ep(l, tcb, ep, rights, badge),
        Step::Start(_) | Step::Drop(_) => Ok(()),
    }
}

/// Copies program bytes into a frame through the loader's window.
fn fill(
    l: &mut Loader,
    frame: u64,
    offset: u64,
    data_offset: u64,
    len: u64,
) -> Result<(), LoadError> {
    l.root
        .copy(l.scratch, FULL, l.root, l.slot(frame), FULL, CapRights::ALL)
        .map_err(kernel("CNode_Copy (fill)", frame))?;
    let page = Frame(CPtr(l.scratch));
    let mapped = page.map(
        PageTable(CPtr(init::VSPACE)),
        WINDOW,
        CapRights::READ_WRITE,
        EXECUTE_NEVER,
    );
    if let Err(err) = mapped {
        let _ = l.root.delete(l.scratch, FULL);
        return Err(LoadError::Kernel {
            what: "Page_Map (fill)",
            index: frame,
            err,
        });
    }
    // Checked by Spec::parse: inside the data and inside the frame.
    let src = l
        .spec
        .data
        .get(data_offset as usize..(data_offset + len) as usize)
        .unwrap_or(&[]);
    let dst = (WINDOW + offset) as *mut u8;
    // SAFETY: the frame is mapped read-write at WINDOW (just above), the
    // window is used by nothing else, and offset + len is within the frame
    // (checked by Spec::parse); src is the loader's own read-only data.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
    let _ = page.unmap();
    let _ = l.root.delete(l.scratch, FULL);
    Ok(())
}

/// `SchedControl_ConfigureFlags` through the boot's SchedControl cap.
#[cfg(sel4_mcs)]
fn configure_sc(
    l: &mut Loader,
    sc: u64,
    budget: u64,
    period: u64,
    extra_refills: u64,
    badge: u64,
) -> Result<(), LoadError> {
    sel4::SchedControl(CPtr(l.sched_control))
        .configure_flags(
            sel4::SchedContext(CPtr(l.slot(sc))),
            budget,
            period,
            extra_refills,
            badge,
            0,
        )
        .map_err(kernel("SchedControl_ConfigureFlags", sc))
}

/// The classic kernel has no scheduling contexts (refused by `objects`
/// before any step runs).
#[cfg(not(sel4_mcs))]
fn configure_sc(l: &mut Loader, sc: u64, _: u64, _: u64, _: u64, _: u64) -> Result<(), LoadError> {
    let _ = l;
    Err(LoadError::NeedsMcs { index: sc as usize })
}

/// `TCB_SetTimeoutEndpoint` with a cap minted (badge, rights) into the
/// scratch slot, which the TCB's timeout-handler slot copies; the
/// scratch cap is deleted after.
#[cfg(sel4_mcs)]
fn timeout_ep(l: &mut Loader, tcb: u64, ep: u64, rights: u64, badge: u64) -> Result<(), LoadError> {
    l.root
        .mint(
            l.scratch,
            FULL,
            l.root,
            l.slot(ep),
            FULL,
            CapRights(rights & CapRights::ALL.0),
            badge,
        )
        .map_err(kernel("CNode_Mint (timeout handler)", ep))?;
    let r = Tcb(CPtr(l.slot(tcb))).set_timeout_endpoint(CPtr(l.scratch));
    let _ = l.root.delete(l.scratch, FULL);
    r.map_err(kernel("TCB_SetTimeoutEndpoint", tcb))
}

/// The classic kernel has no timeout handlers.
#[cfg(not(sel4_mcs))]
fn timeout_ep(l: &mut Loader, tcb: u64, _: u64, _: u64, _: u64) -> Result<(), LoadError> {
    let _ = l;
    Err(LoadError::NeedsMcs {
        index: tcb as usize,
    })
}

/// Configures one thread (not yet resumed).
fn thread(l: &mut Loader, t: &TcbStep) -> Result<(), LoadError> {
    let tcb = Tcb(CPtr(l.slot(t.tcb)));
    l.asid(t.vspace)?;
    spaces_and_priority(l, tcb, t)?;
    let mut regs = UserContext {
        pc: t.ip,
        sp: t.sp,
        ..UserContext::default()
    };
    regs.a[0] = t.ipc_addr;
    tcb.write_registers(false, 0, REGS_TO_A0, &regs)
        .map_err(kernel("TCB_WriteRegisters", t.tcb))?;
    if t.bound != NONE {
        tcb.bind_notification(Notification(CPtr(l.slot(t.bound))))
            .map_err(kernel("TCB_BindNotification", t.tcb))?;
    }
    if l.spec.verbose {
        println!(
            "cairn-loader: thread {} ip {:#x} sp {:#x} prio {}",
            t.tcb, t.ip, t.sp, t.prio
        );
    }
    Ok(())
}

/// Classic: Configure (with the fault endpoint's cptr) and SetSchedParams.
#[cfg(not(sel4_mcs))]
fn spaces_and_priority(l: &mut Loader, tcb: Tcb, t: &TcbStep) -> Result<(), LoadError> {
    tcb.configure(
        CPtr(t.fault_ep),
        CNode(CPtr(l.slot(t.cnode))),
        t.cspace_data,
        PageTable(CPtr(l.slot(t.vspace))),
        0,
        t.ipc_addr,
        Frame(CPtr(l.slot(t.ipc_frame))),
    )
    .map_err(kernel("TCB_Configure", t.tcb))?;
    tcb.set_sched_params(Tcb(CPtr(init::TCB)), t.mcp, t.prio)
        .map_err(kernel("TCB_SetSchedParams", t.tcb))
}

/// MCS: Configure (no fault endpoint), then SetSchedParams, which binds
/// the scheduling context and installs the fault handler: a cap minted
/// (badge, rights) into the scratch slot, which the TCB's handler slot
/// copies; the scratch cap is deleted after.
#[cfg(sel4_mcs)]
fn spaces_and_priority(l: &mut Loader, tcb: Tcb, t: &TcbStep) -> Result<(), LoadError> {
    tcb.configure(
        CNode(CPtr(l.slot(t.cnode))),
        t.cspace_data,
        PageTable(CPtr(l.slot(t.vspace))),
        0,
        t.ipc_addr,
        Frame(CPtr(l.slot(t.ipc_frame))),
    )
    .map_err(kernel("TCB_Configure", t.tcb))?;
    let fault = if t.fault_obj == NONE {
        CPtr::NULL
    } else {
        l.root
            .mint(
                l.scratch,
                FULL,
                l.root,
                l.slot(t.fault_obj),
                FULL,
                CapRights(t.fault_rights & CapRights::ALL.0),
                t.fault_badge,
            )
            .map_err(kernel("CNode_Mint (fault handler)", t.fault_obj))?;
        CPtr(l.scratch)
    };
    let sc = if t.sc == NONE {
        CPtr::NULL
    } else {
        CPtr(l.slot(t.sc))
    };
    let r = tcb.set_sched_params(Tcb(CPtr(init::TCB)), t.mcp, t.prio, sc, fault);
    if fault != CPtr::NULL {
        let _ = l.root.delete(l.scratch, FULL);
    }
    r.map_err(kernel("TCB_SetSchedParams", t.tcb))
}

/// Deletes what the loader no longer needs: its caps to objects the spec
/// holds elsewhere (the `Drop` steps), all untypeds, the IRQ and ASID
/// control caps and the domain cap. It keeps the caps that carry
/// mappings (frames, page tables: deleting them would unmap), the PDs'
/// TCBs (nobody else may hold a cap to them; deleting the last would
/// destroy the thread), the initial ASID pool (deleting it would take the
/// PDs' ASIDs), and its own TCB, CNode, VSpace and IPC buffer, to suspend.
fn cleanup(l: &Loader, pool: &Pool, bootinfo: &BootInfo) {
    let mut dropped = 0;
    for step in l.spec.steps().flatten() {
        if let Step::Drop(o) = step {
            if l.root.delete(l.slot(o), FULL).is_ok() {
                dropped += 1;
            }
        }
    }
    for cap in pool.caps() {
        let _ = l.root.delete(cap, FULL);
    }
    for cap in [init::IRQ_CONTROL, init::ASID_CONTROL, init::DOMAIN] {
        let _ = l.root.delete(cap, FULL);
    }
    #[cfg(sel4_mcs)]
    {
        let sc = bootinfo.sched_control();
        for cap in sc.start..sc.end {
            let _ = l.root.delete(cap, FULL);
        }
    }
    let _ = bootinfo;
    if l.spec.verbose {
        println!("cairn-loader: deleted {dropped} object caps, the untypeds, IRQ, ASID and domain control");
    }
}
