//! The untyped list: one descriptor per untyped cap, sized and aligned as
//! the kernel cuts them, disjoint, device memory outside RAM and RAM inside
//! it, where RAM comes from the device tree in the extra bootinfo
//! (ch. 9 System Bootstrapping; ABI ref §6.4, §6.6).

use crate::fixture::{expect_ok, retype, revoke, Env};
use crate::framework::{Ctx, Test, TestResult};
use crate::ram::{ram_from_fdt, Ranges};
use crate::{check, check_eq, fail};
use sel4::bootinfo::region_len;
use sel4::{Frame, ObjectType, UntypedInfo};

/// The tests of this module.
pub const TESTS: &[Test] = &[
    Test {
        name: "untyped_one_descriptor_per_slot",
        run: one_descriptor_per_slot,
    },
    Test {
        name: "untyped_size_bits_in_range",
        run: size_bits_in_range,
    },
    Test {
        name: "untyped_paddr_aligned",
        run: paddr_aligned,
    },
    Test {
        name: "untyped_no_overlap",
        run: no_overlap,
    },
    Test {
        name: "untyped_fdt_describes_ram",
        run: fdt_describes_ram,
    },
    Test {
        name: "untyped_device_outside_ram",
        run: device_outside_ram,
    },
    Test {
        name: "untyped_ram_inside_ram",
        run: ram_inside_ram,
    },
    Test {
        name: "untyped_ram_total_bounded",
        run: ram_total_bounded,
    },
    Test {
        name: "untyped_device_covers_the_rest",
        run: device_covers_the_rest,
    },
    Test {
        name: "untyped_boot_code_recycled",
        run: boot_code_recycled,
    },
];

fn bounds(u: &UntypedInfo) -> (u64, u64) {
    (u.paddr, u.end().unwrap_or(u64::MAX))
}

fn ram(ctx: &Ctx<'_>) -> Result<Ranges, crate::framework::Failure> {
    let Some(dtb) = ctx.bi.fdt() else {
        fail!("no FDT chunk in the extra bootinfo");
    };
    match ram_from_fdt(dtb) {
        Ok(r) => Ok(r),
        Err(e) => fail!("{e}"),
    }
}

fn one_descriptor_per_slot(ctx: &Ctx<'_>) -> TestResult {
    let slots = region_len(ctx.bi.untyped());
    check!(
        (1..=230).contains(&slots),
        "{slots} untyped slots, expected 1..=230"
    );
    let listed = ctx.bi.untypeds().count() as u64;
    check!(
        listed == slots,
        "{listed} descriptors for {slots} untyped slots"
    );
    Ok(())
}

fn size_bits_in_range(ctx: &Ctx<'_>) -> TestResult {
    for u in ctx.bi.untypeds() {
        check!(
            (4..=38).contains(&u.size_bits),
            "untyped {:#x}: sizeBits {}",
            u.cap.bits(),
            u.size_bits
        );
    }
    Ok(())
}

fn paddr_aligned(ctx: &Ctx<'_>) -> TestResult {
    for u in ctx.bi.untypeds() {
        let size = u.size().unwrap_or(0);
        check!(
            size != 0 && u.paddr % size == 0,
            "untyped {:#x}: paddr {:#x} not aligned to 2^{}",
            u.cap.bits(),
            u.paddr,
            u.size_bits
        );
    }
    Ok(())
}

fn no_overlap(ctx: &Ctx<'_>) -> TestResult {
    for (i, a) in ctx.bi.untypeds().enumerate() {
        for b in ctx.bi.untypeds().skip(i + 1) {
            let ((s1, e1), (s2, e2)) = (bounds(&a), bounds(&b));
            check!(
                e1 <= s2 || e2 <= s1,
                "untypeds {:#x} [{s1:#x}, {e1:#x}) and {:#x} [{s2:#x}, {e2:#x}) overlap",
                a.cap.bits(),
                b.cap.bits()
            );
        }
    }
    Ok(())
}

fn fdt_describes_ram(ctx: &Ctx<'_>) -> TestResult {
    let ram = ram(ctx)?;
    check!(ram.total() > 0, "the FDT describes no RAM");
    Ok(())
}

fn device_outside_ram(ctx: &Ctx<'_>) -> TestResult {
    let ram = ram(ctx)?;
    for u in ctx.bi.untypeds().filter(|u| u.is_device) {
        let (s, e) = bounds(&u);
        check!(
            !ram.overlaps(s, e),
            "device untyped {:#x} [{s:#x}, {e:#x}) overlaps RAM",
            u.cap.bits()
        );
    }
    Ok(())
}

fn ram_inside_ram(ctx: &Ctx<'_>) -> TestResult {
    let ram = ram(ctx)?;
    for u in ctx.bi.untypeds().filter(|u| !u.is_device) {
        let (s, e) = bounds(&u);
        check!(
            ram.covers(s, e),
            "RAM untyped {:#x} [{s:#x}, {e:#x}) is not inside RAM",
            u.cap.bits()
        );
    }
    Ok(())
}

fn ram_total_bounded(ctx: &Ctx<'_>) -> TestResult {
    let ram = ram(ctx)?;
    let total: u64 = ctx
        .bi
        .untypeds()
        .filter(|u| !u.is_device)
        .map(|u| u.size().unwrap_or(0))
        .sum();
    check!(total > 0, "no RAM untypeds");
    check!(
        total <= ram.total(),
        "{total:#x} bytes of RAM untypeds, but only {:#x} of RAM",
        ram.total()
    );
    Ok(())
}

/// The top of the physical address space device untypeds cover on Sv39
/// (seL4's `PADDR_USER_DEVICE_TOP`, ABI ref §6.6).
const DEVICE_TOP: u64 = 1 << 39;

/// The kernel's own devices, reserved (CLINT, PLIC; rounded to 2 MiB, ABI
/// ref §6.6).
const KERNEL_DEVICES: [(u64, u64); 2] = [(0x200_0000, 0x220_0000), (0xC00_0000, 0xC60_0000)];

/// The device untypeds tile [0, 2^39) except RAM and the kernel's devices:
/// sorted by address, each starts where the previous ended, or after a gap
/// that is exactly a kernel device or lies inside RAM's span.
fn device_covers_the_rest(ctx: &Ctx<'_>) -> TestResult {
    let ram = ram(ctx)?;
    let lo = ram.iter().map(|(s, _)| s).min().unwrap_or(0);
    let hi = ram.iter().map(|(_, e)| e).max().unwrap_or(0);
    let mut at = 0;
    let mut count = 0;
    // Ascending order without a heap: the lowest device untyped at `at` or
    // above, each time.
    while let Some(u) = ctx
        .bi
        .untypeds()
        .filter(|u| u.is_device && u.paddr >= at)
        .min_by_key(|u| u.paddr)
    {
        let (s, e) = bounds(&u);
        let gap_ok =
            s == at || KERNEL_DEVICES.contains(&(at, s)) || (lo <= at && s <= hi && lo < hi);
        check!(
            gap_ok,
            "nothing covers [{at:#x}, {s:#x}) before device untyped {:#x} at {s:#x}",
            u.cap.bits()
        );
        at = e;
        count += 1;
    }
    check!(count > 0, "no device untypeds");
    check_eq!(at, DEVICE_TOP, "end of the last device untyped");
    Ok(())
}

/// The kernel's load address (`PHYS_BASE`, ABI ref §6.1), where its boot
/// code lies.
const KERNEL_PHYS_BASE: u64 = 0x8020_0000;

/// The kernel's boot code is recycled as seL4 recycles it (ABI ref §6.6):
/// the first RAM untyped, right after the device untypeds, starts at the
/// kernel's load address, and it is memory like any other: a frame
/// retyped from it (which zeroes it, over the boot code) lies inside it.
fn boot_code_recycled(ctx: &Ctx<'_>) -> TestResult {
    let Some(first_ram) = ctx.bi.untypeds().position(|u| !u.is_device) else {
        fail!("no RAM untyped");
    };
    check!(
        ctx.bi.untypeds().skip(first_ram).all(|u| !u.is_device),
        "a device untyped after the first RAM one"
    );
    let Some(boot) = ctx.bi.untypeds().nth(first_ram) else {
        fail!("no RAM untyped");
    };
    check_eq!(
        boot.paddr,
        KERNEL_PHYS_BASE,
        "the first RAM untyped's paddr"
    );
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    let made = retype(boot.cap, ObjectType::SmallPage, 0, slot, 1);
    let pa = made.and_then(|()| Frame::from_bits(slot).get_address());
    let _ = revoke(boot.cap.bits());
    let pa = expect_ok(pa, "a frame from the recycled boot code")?;
    let (s, e) = bounds(&boot);
    check!(
        (s..e).contains(&pa),
        "frame at {pa:#x}, outside its untyped [{s:#x}, {e:#x})"
    );
    Ok(())
}
