//! The initial CSpace: the type of every initial cap, as reported by
//! `seL4_DebugCapIdentify` (ch. 9 System Bootstrapping; ABI ref §4, §6.5,
//! §14).

use crate::framework::{Ctx, Test, TestResult};
use crate::{check, check_eq};
use sel4::abi::bootinfo::SlotRegion;
use sel4::debug::cap_identify;
use sel4::{tag, CPtr};

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "caps_initial_slots",
        run: initial_slots,
    },
    Test {
        name: "caps_user_image_paging_are_page_tables",
        run: user_image_paging,
    },
    Test {
        name: "caps_extra_bi_pages_are_frames",
        run: extra_bi_pages,
    },
    Test {
        name: "caps_user_image_frames_are_frames",
        run: user_image_frames,
    },
    Test {
        name: "caps_untyped_slots_are_untyped",
        run: untyped_slots,
    },
    Test {
        name: "caps_empty_slots_are_null",
        run: empty_slots,
    },
    Test {
        name: "caps_cptr_beyond_radix_is_null",
        run: beyond_radix,
    },
];

/// Slot 14: the root thread's SchedContext (MCS), else empty.
#[cfg(sel4_mcs)]
const SLOT_14: u64 = tag::SCHED_CONTEXT;
#[cfg(not(sel4_mcs))]
const SLOT_14: u64 = tag::NULL;

/// Slots 0..15 of the riscv64 root CNode (ABI ref §6.5, §6.7); slot 14
/// holds the root thread's SchedContext under MCS.
const INITIAL: [u64; 16] = [
    tag::NULL,         // 0 seL4_CapNull
    tag::THREAD,       // 1 InitThreadTCB
    tag::CNODE,        // 2 InitThreadCNode
    tag::PAGE_TABLE,   // 3 InitThreadVSpace
    tag::IRQ_CONTROL,  // 4 IRQControl
    tag::ASID_CONTROL, // 5 ASIDControl
    tag::ASID_POOL,    // 6 InitThreadASIDPool
    tag::NULL,         // 7 IOPortControl (x86)
    tag::NULL,         // 8 IOSpace
    tag::FRAME,        // 9 BootInfoFrame
    tag::FRAME,        // 10 InitThreadIPCBuffer
    tag::DOMAIN,       // 11 Domain
    tag::NULL,         // 12 SMMUSIDControl
    tag::NULL,         // 13 SMMUCBControl
    SLOT_14,           // 14 InitThreadSC (MCS only)
    tag::NULL,         // 15 SMC
];

fn initial_slots(_: &Ctx<'_>) -> TestResult {
    for (slot, want) in INITIAL.iter().enumerate() {
        let got = cap_identify(CPtr(slot as u64));
        check!(got == *want, "slot {slot}: cap type {got}, expected {want}");
    }
    Ok(())
}

fn all_of_type(region: SlotRegion, name: &str, want: u64) -> TestResult {
    for slot in region.start..region.end {
        let got = cap_identify(CPtr(slot));
        check!(
            got == want,
            "{name} slot {slot:#x}: cap type {got}, expected {want}"
        );
    }
    Ok(())
}

fn user_image_paging(ctx: &Ctx<'_>) -> TestResult {
    all_of_type(
        ctx.bi.user_image_paging(),
        "userImagePaging",
        tag::PAGE_TABLE,
    )
}

fn extra_bi_pages(ctx: &Ctx<'_>) -> TestResult {
    all_of_type(ctx.bi.extra_bi_pages(), "extraBIPages", tag::FRAME)
}

fn user_image_frames(ctx: &Ctx<'_>) -> TestResult {
    all_of_type(ctx.bi.user_image_frames(), "userImageFrames", tag::FRAME)
}

fn untyped_slots(ctx: &Ctx<'_>) -> TestResult {
    all_of_type(ctx.bi.untyped(), "untyped", tag::UNTYPED)
}

fn empty_slots(ctx: &Ctx<'_>) -> TestResult {
    let e = ctx.bi.empty();
    check!(
        e.start < e.end,
        "empty region [{:#x}, {:#x}) has no slot",
        e.start,
        e.end
    );
    for slot in [
        e.start,
        e.start + 1,
        e.start + (e.end - e.start) / 2,
        e.end - 1,
    ] {
        check_eq!(
            cap_identify(CPtr(slot)),
            tag::NULL,
            "DebugCapIdentify of an empty slot"
        );
    }
    Ok(())
}

fn beyond_radix(ctx: &Ctx<'_>) -> TestResult {
    // The root CNode's guard is 64 - R zero bits, so any cptr >= 2^R fails
    // its lookup (GuardMismatch), which DebugCapIdentify reports as 0.
    let slots = 1u64 << ctx.bi.cnode_size_bits();
    for cptr in [slots, slots + 1, slots + 2, 1 << 63, u64::MAX] {
        let got = cap_identify(CPtr(cptr));
        check!(
            got == tag::NULL,
            "cptr {cptr:#x}: cap type {got}, expected 0 (lookup failure)"
        );
    }
    Ok(())
}
