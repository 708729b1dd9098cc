//! The boot protocol: every BootInfo field as the kernel must fill it in
//! (ch. 9 System Bootstrapping; ABI ref §6.3, §6.4, §6.5).

use crate::framework::{Ctx, Test, TestResult};
use crate::{check, check_eq, fail};
use sel4::abi::bootinfo::{SlotRegion, BOOTINFO_HEADER_FDT};
use sel4::bootinfo::{region_len, CHUNK_HEADER_SIZE};
use sel4::init;

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "boot_node_fields",
        run: node_fields,
    },
    Test {
        name: "boot_cnode_size_bits",
        run: cnode_size_bits,
    },
    Test {
        name: "boot_ipc_buffer_follows_image",
        run: ipc_buffer_follows_image,
    },
    Test {
        name: "boot_bootinfo_follows_ipc_buffer",
        run: bootinfo_follows_ipc_buffer,
    },
    Test {
        name: "boot_unused_regions_empty",
        run: unused_regions_empty,
    },
    Test {
        name: "boot_slot_regions_contiguous",
        run: slot_regions_contiguous,
    },
    Test {
        name: "boot_user_image_frames_count",
        run: user_image_frames_count,
    },
    Test {
        name: "boot_user_image_paging_count",
        run: user_image_paging_count,
    },
    Test {
        name: "boot_extra_bootinfo_fdt_chunk",
        run: extra_bootinfo_fdt_chunk,
    },
    Test {
        name: "boot_extra_bi_pages_count",
        run: extra_bi_pages_count,
    },
];

const PAGE: u64 = 4096;

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a).saturating_mul(a)
}

fn align_down(v: u64, a: u64) -> u64 {
    v - v % a
}

/// Size of the extra bootinfo mapping: 2^k bytes, k ≥ 12 the smallest with
/// 2^k ≥ extraLen (ABI ref §6.3); 0 without extra bootinfo.
fn extra_mapping_size(extra_len: u64) -> u64 {
    if extra_len == 0 {
        0
    } else {
        extra_len.next_power_of_two().max(PAGE)
    }
}

fn node_fields(ctx: &Ctx<'_>) -> TestResult {
    check_eq!(ctx.bi.node_id(), 0u64, "nodeID");
    check_eq!(ctx.bi.num_nodes(), 1u64, "numNodes");
    check_eq!(ctx.bi.num_io_pt_levels(), 0u64, "numIOPTLevels");
    check_eq!(ctx.bi.init_thread_domain(), 0u64, "initThreadDomain");
    Ok(())
}

fn cnode_size_bits(ctx: &Ctx<'_>) -> TestResult {
    let r = ctx.bi.cnode_size_bits();
    check!(
        r == 12 || r == 13,
        "initThreadCNodeSizeBits = {r}, expected 12 or 13"
    );
    Ok(())
}

fn ipc_buffer_follows_image(ctx: &Ctx<'_>) -> TestResult {
    check_eq!(
        ctx.bi.ipc_buffer_addr(),
        align_up(ctx.image_end, PAGE),
        "ipcBuffer vs _end rounded up"
    );
    Ok(())
}

fn bootinfo_follows_ipc_buffer(ctx: &Ctx<'_>) -> TestResult {
    check_eq!(
        ctx.bootinfo_addr,
        ctx.bi.ipc_buffer_addr() + PAGE,
        "a0 (BootInfo) vs ipcBuffer + 4 KiB"
    );
    Ok(())
}

fn unused_regions_empty(ctx: &Ctx<'_>) -> TestResult {
    let none = SlotRegion { start: 0, end: 0 };
    check_eq!(ctx.bi.shared_frames(), none, "sharedFrames");
    check_eq!(ctx.bi.io_space_caps(), none, "ioSpaceCaps");
    Ok(())
}

fn slot_regions_contiguous(ctx: &Ctx<'_>) -> TestResult {
    let bi = ctx.bi;
    // MCS: the SchedControl caps come after the extra bootinfo frames
    // (classic: an empty region there, which changes nothing).
    #[cfg(sel4_mcs)]
    let sched_control = bi.sched_control();
    #[cfg(not(sel4_mcs))]
    let sched_control = {
        let after = bi.extra_bi_pages().end;
        SlotRegion {
            start: after,
            end: after,
        }
    };
    let order = [
        ("userImagePaging", bi.user_image_paging()),
        ("extraBIPages", bi.extra_bi_pages()),
        ("schedcontrol", sched_control),
        ("userImageFrames", bi.user_image_frames()),
        ("untyped", bi.untyped()),
        ("empty", bi.empty()),
    ];
    let mut expected_start = init::NUM_INITIAL_CAPS;
    for (name, r) in order {
        check!(
            r.start == expected_start && r.start <= r.end,
            "{name} = [{:#x}, {:#x}), expected to start at {expected_start:#x}",
            r.start,
            r.end
        );
        expected_start = r.end;
    }
    let slots = 1u64.checked_shl(bi.cnode_size_bits() as u32).unwrap_or(0);
    check_eq!(
        bi.empty().end,
        slots,
        "empty.end vs 2^initThreadCNodeSizeBits"
    );
    Ok(())
}

fn user_image_frames_count(ctx: &Ctx<'_>) -> TestResult {
    let image_pages = (ctx.bi.ipc_buffer_addr() - align_down(ctx.image_start, PAGE)) / PAGE;
    check_eq!(
        region_len(ctx.bi.user_image_frames()),
        image_pages,
        "userImageFrames slots vs image pages"
    );
    Ok(())
}

/// Number of `2^bits`-byte aligned blocks that `[start, end)` touches.
fn blocks_touched(start: u64, end: u64, bits: u32) -> u64 {
    if end <= start {
        return 0;
    }
    ((end - 1) >> bits) - (start >> bits) + 1
}

fn user_image_paging_count(ctx: &Ctx<'_>) -> TestResult {
    // One level-1 table per 1 GiB and one leaf table per 2 MiB touched by
    // the whole root task range: image, IPC buffer, BootInfo, extra bootinfo.
    let start = align_down(ctx.image_start, PAGE);
    let end = ctx.bootinfo_addr + PAGE + extra_mapping_size(ctx.bi.extra_len());
    let expected = blocks_touched(start, end, 30) + blocks_touched(start, end, 21);
    check_eq!(
        region_len(ctx.bi.user_image_paging()),
        expected,
        "userImagePaging slots"
    );
    Ok(())
}

fn extra_bootinfo_fdt_chunk(ctx: &Ctx<'_>) -> TestResult {
    let len = ctx.bi.extra_len();
    check!(
        len > CHUNK_HEADER_SIZE as u64,
        "extraLen = {len}, expected an FDT chunk"
    );
    let Some(chunk) = ctx.bi.extra_chunks().next() else {
        fail!("no chunk header in the extra bootinfo");
    };
    check_eq!(chunk.id, BOOTINFO_HEADER_FDT, "first chunk id");
    check_eq!(chunk.len, len, "FDT chunk len vs extraLen");
    let magic = chunk
        .payload
        .get(..4)
        .map(|m| u32::from_be_bytes([m[0], m[1], m[2], m[3]]));
    check_eq!(magic, Some(0xd00d_feed_u32), "FDT magic");
    Ok(())
}

fn extra_bi_pages_count(ctx: &Ctx<'_>) -> TestResult {
    let pages = extra_mapping_size(ctx.bi.extra_len()) / PAGE;
    check_eq!(
        region_len(ctx.bi.extra_bi_pages()),
        pages,
        "extraBIPages slots"
    );
    Ok(())
}
