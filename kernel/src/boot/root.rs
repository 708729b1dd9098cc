//! The root task's objects and address space (ABI ref §6.3, §6.5).
//!
//! [`RootLayout`] computes where everything goes (virtual layout, page
//! tables needed, one contiguous physical block for all root objects,
//! largest first so that each is naturally aligned); [`create`] builds the
//! objects, the initial CSpace and the VSpace.

use super::bootinfo::{write_extra_fdt, BootInfoValues};
use super::BootError;
use crate::arch::vspace as pt;
use crate::arch::CAP_REGISTER;
use crate::cap::cte::{cnode_slot, insert_child, insert_original};
use crate::cap::{Cap, FrameSize, Mapping, VmRights};
#[cfg(not(feature = "mcs"))]
use crate::object::tcb::TCB_REPLY;
use crate::object::tcb::{Tcb, TcbRef, ThreadState, TCB_BUFFER, TCB_CTABLE, TCB_VTABLE};
use crate::object::vspace::AsidPoolRef;
use crate::types::PAddr;
use cairn_abi::bootinfo::SlotRegion;
use cairn_abi::cap::init;
use cairn_abi::image::ImageHeader;

const PAGE: u64 = 4096;

/// MCS: the root thread's SchedContext, of the smallest size (seL4 gives
/// it `seL4_MinSchedContextBits`); none in the classic configuration.
#[cfg(feature = "mcs")]
const ROOT_SC_BITS: u32 = cairn_abi::object::MIN_SCHED_CONTEXT_BITS;
#[cfg(feature = "mcs")]
const ROOT_SC_BYTES: u64 = 1 << ROOT_SC_BITS;
#[cfg(not(feature = "mcs"))]
const ROOT_SC_BYTES: u64 = 0;

/// MCS: the root thread's budget and period, seL4's default
/// `CONFIG_BOOT_THREAD_TIME_SLICE` (5 ms): a round-robin context.
#[cfg(feature = "mcs")]
use crate::sched::ticks::BOOT_THREAD_TIME_SLICE_US;

/// The root task's virtual layout and its objects' physical placement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootLayout {
    /// Lowest image address.
    pub v_start: u64,
    /// End of the image (page aligned) = the IPC buffer's address.
    pub v_end: u64,
    /// The bootinfo frame's address.
    pub bootinfo_va: u64,
    /// The extra bootinfo's address (if any).
    pub extra_va: u64,
    /// log2 of the extra bootinfo size (0 = none).
    pub extra_bits: u32,
    /// End of everything mapped for the root task.
    pub it_v_end: u64,
    /// Level-1 tables (one per GiB touched), then leaf tables (one per 2 MiB).
    pub n_l1: u64,
    /// Leaf tables.
    pub n_l2: u64,
    /// Radix of the root CNode.
    pub cnode_bits: u32,
    /// Bytes of the root-object block.
    pub block_size: u64,
    /// Alignment (log2) of the block.
    pub block_align: u32,
}

fn count_spans(start: u64, end: u64, bits: u32) -> u64 {
    ((end - 1) >> bits) - (start >> bits) + 1
}

impl RootLayout {
    /// Computes the layout for a user image and optional DTB of `dtb_len`.
    /// Inlined into its one caller at boot: out of line, LLVM moved the
    /// returned `Result` through an unaligned copy and reassembled it
    /// halfword by halfword (0.35 KiB).
    #[inline(always)]
    pub fn compute(
        h: &ImageHeader,
        dtb_len: Option<u64>,
        cnode_bits: u32,
        tcb_bits: u32,
    ) -> Result<RootLayout, BootError> {
        let v_start = h.user_v_start;
        let v_end = h.user_v_end;
        let bootinfo_va = v_end + PAGE;
        let extra_va = bootinfo_va + PAGE;
        // The DTB with a 16-byte chunk header, in a power of two of pages.
        let extra_bits = dtb_len.map_or(0, |len| {
            (super::regions::floor_log2(len.saturating_add(15)) + 1).max(12)
        });
        let extra_size = if extra_bits == 0 {
            0
        } else {
            1u64 << extra_bits
        };
        let it_v_end = extra_va + extra_size;
        if it_v_end > cairn_abi::vm::USER_TOP {
            return Err(BootError::BadUserImage);
        }
        let n_l1 = count_spans(v_start, it_v_end, 30);
        let n_l2 = count_spans(v_start, it_v_end, 21);
        let cnode_size = 1u64 << (cnode_bits + cairn_abi::object::SLOT_BITS);
        // Root vspace + page tables + IPC buffer + bootinfo + ASID pool +
        // the IRQ node (the kernel's slots for IRQ notifications).
        let pages = 1 + n_l1 + n_l2 + 1 + 1 + 1 + 1;
        let block_size =
            cnode_size + extra_size + (1u64 << tcb_bits) + pages * PAGE + ROOT_SC_BYTES;
        let block_align = (cnode_bits + cairn_abi::object::SLOT_BITS).max(extra_bits);
        Ok(RootLayout {
            v_start,
            v_end,
            bootinfo_va,
            extra_va,
            extra_bits,
            it_v_end,
            n_l1,
            n_l2,
            cnode_bits,
            block_size,
            block_align,
        })
    }
}

/// Hands out consecutive slots of the root CNode.
struct SlotCursor {
    cnode: PAddr,
    next: u64,
}

impl SlotCursor {
    fn put(&mut self, cap: Cap) {
        put(self.cnode, self.next, cap);
        self.next += 1;
    }

    /// Maps the `n` frames from `pa` at `va` on in `vroot` and puts
    /// their caps, in order. Out of line: one copy for the extra
    /// bootinfo's frames and the user image's.
    #[inline(never)]
    fn map_frames(&mut self, vroot: PAddr, va: u64, pa: PAddr, n: u64) {
        for i in 0..n {
            let (va, pa) = (va + i * PAGE, pa.add(i * PAGE));
            map_frame(vroot, va, pa);
            self.put(frame_cap(pa, va));
        }
    }
}

/// Allocates from the root-object block, largest objects first.
struct Bump(u64);

impl Bump {
    fn take(&mut self, bits: u32) -> PAddr {
        let pa = self.0;
        self.0 += 1 << bits;
        PAddr(pa)
    }
}

/// The root task as created, for the caller to finish (untypeds, bootinfo).
pub struct RootTask {
    /// Root CNode.
    pub cnode: PAddr,
    /// Root TCB.
    pub tcb: TcbRef,
    /// Bootinfo frame.
    pub bootinfo: PAddr,
    /// The next free slot.
    pub next_slot: u64,
    /// Bootinfo values filled so far.
    pub values: BootInfoValues,
}

/// Puts the original `cap` into slot `index` of the root CNode. Out of
/// line: one copy of the cap's encoding and the slot's writes for every
/// cap boot makes, the untypeds' too (they were inlined a dozen times,
/// 40 bytes each).
#[inline(never)]
pub(super) fn put(cnode: PAddr, index: u64, cap: Cap) {
    insert_original(cnode_slot(cnode, index), cap);
}

/// Puts `cap`, derived from slot `from` of the root CNode, into slot `to`
/// of the root TCB (its CSpace, VSpace and IPC buffer caps). Out of line
/// as [`put`].
#[inline(never)]
fn derive(cnode: PAddr, from: u64, tcb: TcbRef, to: usize, cap: Cap) {
    insert_child(cnode_slot(cnode, from), Tcb::slot(tcb, to), cap, false);
}

/// Where the walk from `root` towards `va` stops ([`pt::lookup_pt_slot`],
/// which is inlined for `Page_Map`'s sake; boot needs one copy).
#[inline(never)]
fn pt_slot(root: PAddr, va: u64) -> (PAddr, u32) {
    pt::lookup_pt_slot(root, va)
}

#[inline(never)]
fn map_frame(root: PAddr, va: u64, pa: PAddr) {
    let (slot, bits) = pt_slot(root, va);
    debug_assert_eq!(bits, 12);
    pt::write_pte(slot, pt::pte_leaf(pa, VmRights::ReadWrite, true));
}

/// A mapped frame's cap, as the root task gets its frames. Out of line:
/// built for the IPC buffer, bootinfo and every mapped frame.
#[inline(never)]
fn frame_cap(base: PAddr, va: u64) -> Cap {
    Cap::Frame {
        base,
        size: FrameSize::Small,
        rights: VmRights::ReadWrite,
        is_device: false,
        mapping: Some(Mapping {
            asid: cairn_abi::vm::ROOT_ASID as u16,
            vaddr: va,
        }),
    }
}

/// Creates the root task's objects in the zeroed block at `block`.
pub fn create(
    l: &RootLayout,
    block: u64,
    h: &ImageHeader,
    user_pa: u64,
    dtb: Option<(PAddr, u64)>,
    tcb_bits: u32,
) -> RootTask {
    let asid = cairn_abi::vm::ROOT_ASID as u16;
    let mut bump = Bump(block);
    let cnode = bump.take(l.cnode_bits + cairn_abi::object::SLOT_BITS);
    let extra = (l.extra_bits != 0).then(|| bump.take(l.extra_bits));
    let vroot = bump.take(12);
    // The level-1 tables, then the leaf tables right after them.
    let l1: PAddr = PAddr(bump.0);
    bump.0 += (l.n_l1 + l.n_l2) * PAGE;
    let ipc = bump.take(12);
    let bootinfo = bump.take(12);
    let pool = bump.take(12);
    let irq_node = bump.take(12);
    crate::state::kernel().set_irq_node(irq_node);
    // The TCB (2^10 or 2^11 bytes) is the smallest object: last keeps every
    // object aligned to its size.
    let tcb_pa = bump.take(tcb_bits);
    // MCS: the SchedContext (2^7 bytes) after it, aligned as the TCB is.
    #[cfg(feature = "mcs")]
    let sc_pa = bump.take(ROOT_SC_BITS);
    debug_assert_eq!(bump.0, block + l.block_size);

    // Fixed slots (ABI ref §6.5).
    let radix = l.cnode_bits as u8;
    let cnode_cap = Cap::CNode {
        ptr: cnode,
        radix,
        guard_size: 64 - radix,
        guard: 0,
    };
    let vspace_cap = Cap::PageTable {
        base: vroot,
        mapping: Some(Mapping { asid, vaddr: 0 }),
    };
    let ipc_cap = frame_cap(ipc, l.v_end);
    let put = |i: u64, c: Cap| put(cnode, i, c);
    put(init::TCB, Cap::Thread { tcb: tcb_pa });
    put(init::CNODE, cnode_cap);
    put(init::VSPACE, vspace_cap);
    put(init::IRQ_CONTROL, Cap::IrqControl);
    put(init::ASID_CONTROL, Cap::AsidControl);
    put(
        init::ASID_POOL,
        Cap::AsidPool {
            ptr: pool,
            asid_base: 0,
        },
    );
    put(init::BOOT_INFO_FRAME, frame_cap(bootinfo, l.bootinfo_va));
    put(init::IPC_BUFFER, ipc_cap);
    put(init::DOMAIN, Cap::Domain);
    #[cfg(feature = "mcs")]
    put(
        init::SC,
        Cap::SchedContext {
            ptr: sc_pa,
            size_bits: ROOT_SC_BITS as u8,
        },
    );

    // ASID 1 -> the root VSpace; the kernel half of every VSpace.
    crate::state::kernel().set_asid_pool(0, Some(pool));
    if let Some(e) = AsidPoolRef::new(pool).get().entries.get(asid as usize) {
        e.set(vroot.0);
    }
    pt::copy_global_mappings(vroot);

    // Page tables for [v_start, it_v_end): level-1 tables first, then leaves.
    let mut cur = SlotCursor {
        cnode,
        next: init::NUM_INITIAL_CAPS,
    };
    // Each table covers 2^span bytes; the walk stops at the entry for it.
    // The leaf tables follow the level-1 ones in the block: one loop.
    let paging_start = cur.next;
    for i in 0..l.n_l1 + l.n_l2 {
        let (span, j) = match i.checked_sub(l.n_l1) {
            None => (30, i),
            Some(j) => (21, j),
        };
        let va = ((l.v_start >> span) + j) << span;
        let table = l1.add(i * PAGE);
        let (slot, bits) = pt_slot(vroot, va);
        debug_assert_eq!(bits, span);
        pt::write_pte(slot, pt::pte_table(table));
        cur.put(Cap::PageTable {
            base: table,
            mapping: Some(Mapping { asid, vaddr: va }),
        });
    }
    let paging = SlotRegion {
        start: paging_start,
        end: cur.next,
    };

    // IPC buffer and bootinfo frames.
    map_frame(vroot, l.v_end, ipc);
    map_frame(vroot, l.bootinfo_va, bootinfo);

    // Extra bootinfo (the DTB as an FDT chunk).
    let mut values = BootInfoValues {
        ipc_buffer: l.v_end,
        cnode_size_bits: l.cnode_bits as u64,
        user_image_paging: paging,
        ..Default::default()
    };
    let extra_start = cur.next;
    if let (Some(frame), Some((dtb_pa, dtb_len))) = (extra, dtb) {
        values.extra_len = write_extra_fdt(frame, dtb_pa, dtb_len);
        cur.map_frames(vroot, l.extra_va, frame, (1u64 << l.extra_bits) / PAGE);
    }
    values.extra_bi_pages = SlotRegion {
        start: extra_start,
        end: cur.next,
    };

    // MCS: one SchedControl cap per core (Cairn runs one), where seL4
    // puts them: after the extra bootinfo frames.
    #[cfg(feature = "mcs")]
    {
        let start = cur.next;
        cur.put(Cap::SchedControl { core: 0 });
        values.schedcontrol = SlotRegion {
            start,
            end: cur.next,
        };
    }

    // The user image's frames.
    let frames_start = cur.next;
    cur.map_frames(vroot, l.v_start, PAddr(user_pa), h.user_size / PAGE);
    values.user_image_frames = SlotRegion {
        start: frames_start,
        end: cur.next,
    };

    // The root thread (ABI ref §6.3).
    let tcb = TcbRef::new(tcb_pa);
    let t = tcb.get();
    let derive = |from: u64, to: usize, cap: Cap| derive(cnode, from, tcb, to, cap);
    derive(init::CNODE, TCB_CTABLE, cnode_cap);
    derive(init::VSPACE, TCB_VTABLE, vspace_cap);
    derive(
        init::IPC_BUFFER,
        TCB_BUFFER,
        Cap::Frame {
            base: ipc,
            size: FrameSize::Small,
            rights: VmRights::ReadWrite,
            is_device: false,
            mapping: None,
        },
    );
    // seL4's `setupReplyMaster` at boot; MCS has no master reply cap.
    #[cfg(not(feature = "mcs"))]
    insert_original(
        Tcb::slot(tcb, TCB_REPLY),
        Cap::Reply {
            tcb: tcb_pa,
            master: true,
            can_grant: true,
        },
    );
    t.set_reg(CAP_REGISTER, l.bootinfo_va);
    t.set_pc(h.user_entry);
    t.init_context();
    t.set_priority(cairn_abi::object::MAX_PRIO);
    t.set_mcp(cairn_abi::object::MAX_PRIO);
    t.set_domain(0);
    t.set_ipc_buffer(l.v_end);
    t.set_time_slice(crate::config::TIME_SLICE);
    t.set_name(b"rootserver");
    t.set_state(ThreadState::Running);
    // MCS: budget = period, released at boot, bound to the root thread.
    #[cfg(feature = "mcs")]
    {
        use crate::object::sched_context::{bind_tcb, SchedContextRef};
        let clock = crate::sched::ticks::Clock::new(crate::arch::timebase_hz());
        let slice = clock
            .us_to_ticks(BOOT_THREAD_TIME_SLICE_US)
            .unwrap_or(u64::MAX);
        let sc = SchedContextRef::new(sc_pa, ROOT_SC_BITS as u8);
        // Released at the kernel's time, which starts here.
        let now = crate::sched::mcs::set_time_at_boot();
        sc.configure_min_refills(slice, slice, now, clock.min_budget());
        bind_tcb(sc, tcb);
    }

    RootTask {
        cnode,
        tcb,
        bootinfo,
        next_slot: cur.next,
        values,
    }
}
