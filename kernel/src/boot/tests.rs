//! Host tests of root-task creation: the initial CSpace, VSpace, bootinfo
//! and untypeds as seL4 lays them out, and the refusal to boot.

use super::*;
use crate::arch::host::SimMachine;
use crate::arch::vspace as pt;
use crate::cap::lookup::lookup_cap;
use crate::object::access::{copy_in, copy_out, read_word};
use crate::object::tcb::{Tcb, TcbRef, ThreadState, TCB_CTABLE};
use crate::types::PAddr;
use cairn_abi::cap::init;

use crate::testutil::{image_header as header, KERNEL_END, RAM, RAM_SIZE, USER_PA};

const DTB_PA: u64 = 0x8038_0000;
const DTB_LEN: u64 = 0x1155;

/// The simulated DTB's bytes: no two neighbours alike, so that a copy
/// out of order or shifted shows.
fn dtb_bytes() -> [u8; DTB_LEN as usize] {
    core::array::from_fn(|i| (i * 7 + 3) as u8)
}

const PLIC: Region = Region::new(0xC00_0000, 0xC60_0000);

fn boot_sim() -> Result<(), BootError> {
    boot_sim_reusing(Region::default())
}

/// Boots the simulated machine with `boot_reuse` as the boot code's region.
fn boot_sim_reusing(boot_reuse: Region) -> Result<(), BootError> {
    crate::state::reset();
    SimMachine::install(RAM, RAM_SIZE);
    copy_in(PAddr(USER_PA), &[0xAB; 0x3000]);
    copy_in(PAddr(DTB_PA), &dtb_bytes());
    let ram = [Region::new(RAM, RAM + RAM_SIZE)];
    let reserved = [
        Region::new(0x8020_0000, KERNEL_END),
        Region::new(DTB_PA, DTB_PA + DTB_LEN),
    ];
    boot_root_task(&BootParams {
        ram: &ram,
        reserved: &reserved,
        kernel_devices: &[PLIC],
        header: &header(),
        user_image_paddr: USER_PA,
        dtb: Some(Region::new(DTB_PA, DTB_PA + DTB_LEN)),
        boot_reuse,
    })
}

fn root_cnode() -> Cap {
    let tcb = crate::state::kernel()
        .current_tcb()
        .or_else(crate::sched::schedule)
        .expect("root thread");
    Tcb::slot(tcb, TCB_CTABLE).get().cap()
}

fn tag_of(cptr: u64) -> u64 {
    lookup_cap(root_cnode(), cptr).map_or(0, |(_, c)| c.tag())
}

struct Bi(PAddr);
impl Bi {
    fn word(&self, off: u64) -> u64 {
        read_word(self.0.add(off))
    }
    fn region(&self, off: u64) -> (u64, u64) {
        (self.word(off), self.word(off + 8))
    }
}

/// How far MCS moves `untyped` and `untypedList` on: `schedcontrol`
/// comes before them (ABI ref §6.4).
const MCS_SHIFT: u64 = if crate::config::KERNEL_MCS { 0x10 } else { 0 };

fn bootinfo() -> Bi {
    let Ok((_, Cap::Frame { base, .. })) = lookup_cap(root_cnode(), init::BOOT_INFO_FRAME) else {
        panic!("no bootinfo cap")
    };
    Bi(base)
}

#[test]
fn initial_caps_have_sel4s_types() {
    boot_sim().unwrap();
    let tags: Vec<u64> = (0..16).map(tag_of).collect();
    // MCS: seL4_CapInitThreadSC (14) holds the root's SchedContext.
    let sc = if crate::config::KERNEL_MCS { 22 } else { 0 };
    assert_eq!(
        tags,
        [0, 12, 10, 3, 14, 11, 13, 0, 0, 1, 1, 20, 0, 0, sc, 0]
    );
}

/// MCS: the root thread runs on a round-robin SchedContext of the
/// smallest size, budget = period = 5 ms (seL4's boot thread), bound to
/// it both ways; deleting its last cap unbinds and unconfigures it.
#[cfg(feature = "mcs")]
#[test]
fn root_thread_is_bound_to_its_sched_context() {
    use crate::object::sched_context::SchedContextRef;
    boot_sim().unwrap();
    let Ok((slot, Cap::SchedContext { ptr, size_bits })) = lookup_cap(root_cnode(), init::SC)
    else {
        panic!("no SchedContext in slot 14")
    };
    assert_eq!(size_bits as u32, cairn_abi::object::MIN_SCHED_CONTEXT_BITS);
    let sc = SchedContextRef::new(ptr, size_bits);
    let Ok((_, Cap::Thread { tcb })) = lookup_cap(root_cnode(), init::TCB) else {
        panic!("no TCB cap")
    };
    assert_eq!(sc.tcb(), Some(tcb));
    assert_eq!(TcbRef::new(tcb).get().sched_context(), Some(ptr));
    let st = sc.refill_state();
    let slice = 5_000 * crate::arch::timebase_hz() / 1_000_000;
    assert_eq!((st.budget, st.period, st.max), (slice, slice, 2));
    assert!(sc.is_configured() && !st.sporadic);
    let head = sc.refill(st.head).unwrap();
    assert_eq!((head.time, head.amount), (0, slice));
    crate::cap::delete::cte_delete_one(slot);
    assert_eq!(TcbRef::new(tcb).get().sched_context(), None);
    assert!(!sc.is_configured() && sc.tcb().is_none());
}

#[test]
fn bootinfo_fields_and_slot_regions() {
    boot_sim().unwrap();
    let bi = bootinfo();
    assert_eq!(bi.word(0x00), 16 + DTB_LEN, "extraLen");
    assert_eq!((bi.word(0x08), bi.word(0x10), bi.word(0x18)), (0, 1, 0));
    assert_eq!(bi.word(0x20), 0x13000, "ipcBuffer = v_end");
    assert_eq!(bi.region(0x38), (0, 0));
    assert_eq!(bi.region(0x68), (0, 0));
    let cnode_bits = crate::config::ROOT_CNODE_SIZE_BITS as u64;
    assert_eq!(bi.word(0x88), cnode_bits);
    assert_eq!(bi.word(0x90), 0);
    // userImagePaging -> extraBIPages -> userImageFrames -> untyped -> empty.
    let paging = bi.region(0x58);
    let extra = bi.region(0x78);
    let frames = bi.region(0x48);
    let untyped = bi.region(0x98 + MCS_SHIFT);
    let empty = bi.region(0x28);
    assert_eq!(paging, (16, 18), "one level-1 and one leaf table");
    assert_eq!(extra, (18, 20), "16 + 0x1155 bytes round to 8 KiB");
    // MCS: the SchedControl cap comes between the extra pages and the image.
    let sc = MCS_SHIFT / 16;
    #[cfg(feature = "mcs")]
    {
        assert_eq!(bi.region(0x98), (20, 21), "schedcontrol");
        assert_eq!(tag_of(20), cairn_abi::cap::tag::SCHED_CONTROL);
    }
    assert_eq!(frames, (20 + sc, 23 + sc), "three image pages");
    assert_eq!(untyped.0, 23 + sc);
    assert_eq!(empty, (untyped.1, 1 << cnode_bits));
    for s in paging.0..paging.1 {
        assert_eq!(tag_of(s), 3);
    }
    for s in (extra.0..frames.1).filter(|&s| s < extra.1 || s >= frames.0) {
        assert_eq!(tag_of(s), 1);
    }
    for s in untyped.0..untyped.1 {
        assert_eq!(tag_of(s), 2);
    }
    assert_eq!(tag_of(empty.0), 0);
}

#[test]
fn untypeds_cover_free_memory_without_overlap() {
    boot_sim().unwrap();
    let bi = bootinfo();
    let (start, end) = bi.region(0x98 + MCS_SHIFT);
    let mut descs = Vec::new();
    for i in 0..end - start {
        let at = 0xA8 + MCS_SHIFT + 16 * i;
        let w = bi.word(at + 8);
        descs.push((bi.word(at), (w & 0xFF) as u32, (w >> 8) & 0xFF == 1));
        let Ok((
            _,
            Cap::Untyped {
                ptr,
                size_bits,
                is_device,
                free_index,
            },
        )) = lookup_cap(root_cnode(), start + i)
        else {
            panic!("slot {} is not untyped", start + i)
        };
        assert_eq!((ptr.0, size_bits as u32, is_device), *descs.last().unwrap());
        assert_eq!(
            free_index,
            1 << size_bits,
            "boot untypeds start full (reset on first use)"
        );
    }
    // Device untypeds first, then RAM.
    let first_ram = descs.iter().position(|d| !d.2).unwrap();
    assert!(descs[first_ram..].iter().all(|d| !d.2));
    assert_eq!(
        descs[0],
        (0, 27, true),
        "[0, PLIC) starts with 128 MiB of device memory"
    );
    let ram = Region::new(RAM, RAM + RAM_SIZE);
    let mut sorted: Vec<Region> = descs
        .iter()
        .map(|d| Region::new(d.0, d.0 + (1 << d.1)))
        .collect();
    for (d, r) in descs.iter().zip(&sorted) {
        assert!((4..=38).contains(&d.1));
        assert_eq!(d.0 % (1 << d.1), 0, "aligned to its size");
        assert_eq!(d.2, !r.overlaps(&ram), "device iff outside RAM");
        assert!(!r.overlaps(&PLIC), "the PLIC stays the kernel's");
        assert!(
            !r.overlaps(&Region::new(0x8020_0000, KERNEL_END)),
            "kernel, image and DTB reserved"
        );
    }
    sorted.sort_by_key(|r| r.start);
    for w in sorted.windows(2) {
        assert!(w[0].end <= w[1].start, "{:x?} overlaps {:x?}", w[0], w[1]);
    }
    // All RAM is accounted for: free untypeds + reserved + root objects.
    let layout = root::RootLayout::compute(
        &header(),
        Some(DTB_LEN),
        crate::config::ROOT_CNODE_SIZE_BITS,
        crate::config::TCB_BITS,
    )
    .unwrap();
    let free: u64 = descs.iter().filter(|d| !d.2).map(|d| 1u64 << d.1).sum();
    assert_eq!(
        free + (KERNEL_END - 0x8020_0000) + layout.block_size,
        RAM_SIZE,
        "RAM accounting"
    );
}

/// The untypeds as bootinfo lists them: (paddr, size bits, is device).
fn untyped_descs() -> Vec<(u64, u32, bool)> {
    let bi = bootinfo();
    let (start, end) = bi.region(0x98 + MCS_SHIFT);
    (0..end - start)
        .map(|i| {
            let at = 0xA8 + MCS_SHIFT + 16 * i;
            let w = bi.word(at + 8);
            (bi.word(at), (w & 0xFF) as u32, (w >> 8) & 0xFF == 1)
        })
        .collect()
}

#[test]
fn boot_code_region_becomes_untyped_after_the_devices() {
    boot_sim().unwrap();
    let without = untyped_descs();
    // Five pages of boot code at the kernel's base (inside its reserved
    // image): a 16 KiB and a 4 KiB block, right after the device
    // untypeds and before free RAM, as seL4 recycles its boot code.
    let reuse = Region::new(0x8020_0000, 0x8020_5000);
    boot_sim_reusing(reuse).unwrap();
    let with = untyped_descs();
    let devices = without.iter().take_while(|d| d.2).count();
    assert_eq!(
        with[..devices],
        without[..devices],
        "device untypeds unchanged"
    );
    assert_eq!(
        with[devices..devices + 2],
        [(0x8020_0000, 14, false), (0x8020_4000, 12, false)]
    );
    assert_eq!(
        with[devices + 2..],
        without[devices..],
        "free RAM unchanged"
    );
    let first = bootinfo().region(0x98 + MCS_SHIFT).0;
    for (i, d) in with.iter().enumerate() {
        let Ok((
            _,
            Cap::Untyped {
                ptr,
                size_bits,
                is_device,
                ..
            },
        )) = lookup_cap(root_cnode(), first + i as u64)
        else {
            panic!("untyped {i} has no cap")
        };
        assert_eq!((ptr.0, size_bits as u32, is_device), *d);
    }
    // The root task's objects were not put in the boot code's region.
    let Cap::CNode { ptr, .. } = root_cnode() else {
        panic!("no root CNode")
    };
    assert!(!reuse.overlaps(&Region::new(ptr.0, ptr.0 + 1)));

    // A region that is not RAM, or that holds the user image or the DTB,
    // stays reserved: the untypeds are those of a boot without one.
    for bad in [
        Region::new(0x7000_0000, 0x7000_4000),
        Region::new(USER_PA, USER_PA + 0x1000),
        Region::new(DTB_PA & !0xFFF, (DTB_PA & !0xFFF) + 0x2000),
    ] {
        boot_sim_reusing(bad).unwrap();
        assert_eq!(untyped_descs(), without, "{bad:x?}");
    }
}

#[test]
fn vspace_maps_image_ipc_buffer_bootinfo_and_dtb() {
    boot_sim().unwrap();
    let Ok((
        _,
        Cap::PageTable {
            base: root,
            mapping: Some(m),
        },
    )) = lookup_cap(root_cnode(), init::VSPACE)
    else {
        panic!()
    };
    assert_eq!(m.asid, 1);
    assert_eq!(crate::object::vspace::find_vspace_for_asid(1), Some(root));
    let translate = |va: u64| {
        let (slot, bits) = pt::lookup_pt_slot(root, va);
        assert_eq!(bits, 12, "va {va:#x} has a leaf table");
        let pte = pt::read_pte(slot);
        assert!(pt::is_valid(pte) && pt::is_leaf(pte));
        assert_eq!(pte & 0xFF, 0xDF, "V R W X U A D, not G");
        pt::pte_paddr(pte)
    };
    for i in 0..3 {
        assert_eq!(translate(0x10000 + i * 0x1000), PAddr(USER_PA + i * 0x1000));
    }
    let bi = bootinfo();
    assert_eq!(translate(0x14000), bi.0);
    let Ok((_, Cap::Frame { base: ipc, .. })) = lookup_cap(root_cnode(), init::IPC_BUFFER) else {
        panic!()
    };
    assert_eq!(translate(0x13000), ipc);
    // The extra bootinfo holds the FDT chunk header then the DTB bytes.
    let extra = translate(0x15000);
    assert_eq!(read_word(extra), 6);
    assert_eq!(read_word(extra.add(8)), 16 + DTB_LEN);
    let mut copied = [0u8; DTB_LEN as usize + 8];
    copy_out(extra.add(16), &mut copied);
    assert_eq!(copied[..DTB_LEN as usize], dtb_bytes(), "the DTB, in order");
    assert_eq!(copied[DTB_LEN as usize..], [0; 8], "nothing past it");
    translate(0x16000);
    // Nothing mapped past the extra bootinfo.
    let (slot, _) = pt::lookup_pt_slot(root, 0x17000);
    assert_eq!(pt::read_pte(slot), 0);
}

#[test]
fn root_thread_starts_as_sel4_starts_it() {
    boot_sim().unwrap();
    let tcb: TcbRef = crate::sched::schedule().expect("root thread scheduled");
    let t = tcb.get();
    assert_eq!(t.state(), ThreadState::Running);
    assert_eq!(t.reg(crate::arch::CAP_REGISTER), 0x14000, "a0 = bootinfo");
    assert_eq!(t.next_ip(), 0x10040, "entry point");
    assert_eq!((t.priority(), t.mcp(), t.domain()), (255, 255, 0));
    assert_eq!(t.ipc_buffer(), 0x13000);
    let mut name = [0; crate::object::tcb::NAME_LEN];
    let n = t.name(&mut name);
    assert_eq!(&name[..n], b"rootserver");
    assert_eq!(
        crate::arch::host::SimMachine::vspace().map(|v| v.1),
        Some(1),
        "ASID 1 installed"
    );
}

#[test]
fn refuses_to_boot_without_memory_or_room() {
    crate::state::reset();
    SimMachine::install(RAM, RAM_SIZE);
    let h = header();
    let params = |ram: &'static [Region], reserved: &'static [Region]| BootParams {
        ram,
        reserved,
        kernel_devices: &[],
        header: &h,
        user_image_paddr: USER_PA,
        dtb: None,
        boot_reuse: Region::default(),
    };
    assert_eq!(boot_root_task(&params(&[], &[])), Err(BootError::NoMemory));
    // RAM holding the image but nothing else.
    static SMALL: [Region; 1] = [Region::new(0x8020_0000, 0x8040_0000)];
    static ALL: [Region; 1] = [Region::new(0x8020_0000, 0x8040_0000)];
    assert_eq!(
        boot_root_task(&params(&SMALL, &ALL)),
        Err(BootError::RootTaskDoesNotFit)
    );
    // A user image outside RAM.
    static ELSEWHERE: [Region; 1] = [Region::new(0x9000_0000, 0x9400_0000)];
    assert_eq!(
        boot_root_task(&params(&ELSEWHERE, &[])),
        Err(BootError::BadUserImage)
    );
}
