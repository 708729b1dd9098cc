//! Boot: `_start` (assembly) and the first Rust function, `boot_main`.
//!
//! OpenSBI enters `_start` in S-mode at physical 0x80200000 with the MMU off,
//! a0 = hart id, a1 = DTB physical address. `_start` parks every hart but 0,
//! zeroes .bss, fills the kernel root page table (1 GiB leaves: identity for
//! the GiB holding 0x80000000, the physical-memory window, the kernel-ELF
//! window), enables Sv39, jumps to the kernel's link address, drops the
//! identity entry, loads the kernel's gp (`__global_pointer$`, kernel.ld)
//! and calls `boot_main` on the kernel stack. Before the jump only
//! PC-relative addressing (`lla`, not relaxed to gp) is used, which yields
//! physical addresses because the image is laid out by physical address
//! with the same offsets as its virtual layout.
#![allow(unsafe_code)]

use super::platform::{self, Platform};
use super::stack::{KERNEL_STACK, KERNEL_STACK_SIZE};
use super::{csr, kptr_to_paddr, paddr_to_kptr, plic, sbi, timer, trap, Machine, MACHINE};
use crate::arch::{BootParams, Kernel};
use crate::console::Hex;
use crate::types::{round_up, PAddr, Region};
use cairn_abi::image::{ImageHeader, KERNEL_PHYS_BASE};
use core::cell::UnsafeCell;

/// A page-table page written only by the boot assembly.
#[repr(C, align(4096))]
pub struct RootTable(UnsafeCell<[u64; 512]>);

// SAFETY: the table is written only by `_start` before any Rust code runs
// (and before a second hart could), and read-only afterwards.
unsafe impl Sync for RootTable {}

/// The kernel's root page table (entries 256..512 are every VSpace's).
pub static KERNEL_ROOT: RootTable = RootTable(UnsafeCell::new([0; 512]));

extern "C" {
    static __kernel_end: u8;
    /// The end of `.boot` (kernel.ld), page aligned: the kernel's boot-only
    /// code is `[KERNEL_PHYS_BASE, __boot_end)` physically.
    static __boot_end: u8;
}

core::arch::global_asm!(
    r#"
    .pushsection .text.boot, "ax"
    .globl _start
    // Nothing here is relaxed: gp is not set before `.Lhigh`, and an
    // address made an offset from it would be wrong (and virtual).
    .option push
    .option norelax
_start:
    csrci sstatus, 2
    csrw sie, zero
    csrw sscratch, zero
    bnez a0, .Lpark
    mv s0, a0
    mv s1, a1
    lla t0, __bss_start
    lla t1, __bss_end
.Lzero_bss:
    bgeu t0, t1, .Lbuild_pt
    sd zero, 0(t0)
    addi t0, t0, 8
    j .Lzero_bss
.Lbuild_pt:
    lla t0, {root}
    li t1, 0xEF
    li t2, 0x20000000
    or t2, t2, t1
    sd t2, 2*8(t0)
    li t3, 510*8
    add t3, t0, t3
    sd t2, 0(t3)
    li t3, 256*8
    add t3, t0, t3
    mv t2, t1
    li t4, 0x10000000
    li t5, 254
.Lwindow:
    sd t2, 0(t3)
    addi t3, t3, 8
    add t2, t2, t4
    addi t5, t5, -1
    bnez t5, .Lwindow
    srli t1, t0, 12
    li t2, 8
    slli t2, t2, 60
    or t1, t1, t2
    sfence.vma
    csrw satp, t1
    sfence.vma
    lla t0, .Lhigh_addr
    ld t0, 0(t0)
    jr t0
    .balign 8
.Lhigh_addr:
    .dword .Lhigh
.Lhigh:
    // The kernel's gp (kernel.ld), which its Rust code uses from here on.
    lui gp, %hi(__global_pointer$)
    lla t0, {root}
    sd zero, 2*8(t0)
    sfence.vma
    lla sp, {stack}
    li t0, {stack_size}
    add sp, sp, t0
    lla t0, {trap_entry}
    csrw stvec, t0
    mv a0, s0
    mv a1, s1
    call cairn_boot_main
.Lpark:
    wfi
    j .Lpark
    .option pop
    .popsection
"#,
    root = sym KERNEL_ROOT,
    stack = sym KERNEL_STACK,
    stack_size = const KERNEL_STACK_SIZE,
    trap_entry = sym trap::cairn_trap_entry,
);

/// Entry `index` of the kernel root table (0 outside 256..512).
pub fn kernel_root_entry(index: usize) -> u64 {
    if !(256..512).contains(&index) {
        return 0;
    }
    // SAFETY: `index` < 512 is inside the table; after boot nothing writes
    // it, so a plain read cannot race.
    unsafe { KERNEL_ROOT.0.get().cast::<u64>().add(index).read_volatile() }
}

/// Physical address of the kernel root table.
pub fn kernel_root_paddr() -> PAddr {
    kptr_to_paddr(KERNEL_ROOT.0.get() as usize)
}

/// Reports why the kernel cannot boot and halts (QEMU exits non-zero if
/// the test finisher is known). Boot prints with `kput!`, never
/// `core::fmt`, so that a kernel without debug output links no
/// formatting code (console.rs).
fn cannot_boot(why: &str, finisher: Option<u64>) -> ! {
    kput!("cairn: cannot boot: ", why, "\n");
    super::power_off(false, finisher)
}

/// The header where the image holds it: read in place, not parsed into a
/// copy (`ImageHeader::from_bytes` and the copies were 0.15 KiB of boot
/// code).
fn read_header(pa: u64) -> &'static ImageHeader {
    let p = paddr_to_kptr(PAddr(pa)) as *const ImageHeader;
    // SAFETY: `pa` is the page after the kernel image in RAM (QEMU loaded
    // the image there), mapped by the physical-memory window and page
    // aligned; the header is `repr(C)` words, any bits of which are a
    // value, little-endian as the image builder writes them; nothing
    // writes that page (it stays reserved), and an image without a header
    // just fails validation.
    unsafe { &*p }
}

/// Checks that the image as loaded holds the user image the header names.
fn check_image(h: &ImageHeader, header_pa: u64) -> Result<(), &'static str> {
    h.validate()?;
    let image_end = KERNEL_PHYS_BASE.checked_add(h.image_size);
    let user_end = header_pa
        .checked_add(h.user_offset)
        .and_then(|a| a.checked_add(h.user_size));
    match (image_end, user_end) {
        (Some(i), Some(u)) if u <= i => Ok(()),
        _ => Err("image size does not cover the user image"),
    }
}

/// The first Rust code (called by `_start` through `cairn_boot_main`, see
/// [`crate::machine_entry_points`]): parse the platform, print the banner,
/// create the root task with `K`, start the timer, run it.
pub fn boot_main<K: Kernel>(_hart: u64, dtb_pa: u64) -> ! {
    // Under `qemu -icount shift=0` the cycle counter counts instructions:
    // the boot-time figure printed before entering the root task.
    let boot_start = csr::read_cycle();
    // The boot messages are debug output: a kernel built with `debug=off`
    // prints nothing but why it cannot boot (as seL4 without
    // `CONFIG_PRINTING`), and carries no code for them in `.boot`.
    let say = crate::config::DEBUG_BUILD;
    if say {
        kput!(
            "Cairn ",
            env!("CARGO_PKG_VERSION"),
            ": seL4 16.0.0 user ABI, riscv64 Sv39, ",
            if crate::config::KERNEL_MCS {
                "MCS"
            } else {
                "classic"
            },
            " configuration\n",
            "config: ",
            crate::config::CONFIG_TEXT,
            "\n"
        );
    }
    let mut platform = match platform::parse(dtb_pa) {
        Ok(p) => p,
        Err(e) => cannot_boot(e, None),
    };
    let kernel_end = kptr_to_paddr(core::ptr::addr_of!(__kernel_end) as usize).0;
    let header_pa = round_up(kernel_end, 12);
    let header = read_header(header_pa);
    let image = check_image(header, header_pa);
    if image.is_ok() {
        let pushed = platform
            .reserved
            .add(Region::new(
                KERNEL_PHYS_BASE,
                KERNEL_PHYS_BASE + header.image_size,
            ))
            .and_then(|()| platform.reserved.add(platform.dtb));
        if let Err(e) = pushed {
            cannot_boot(e.into(), platform.test_finisher);
        }
    }
    let asid_bits = super::probe_asid_bits();
    if say {
        print_platform(&platform);
        kput!("MMU: ", asid_bits, " ASID bits\n");
    }
    let finisher = platform.test_finisher;
    let tick = timer::tick_length(platform.timebase);
    if MACHINE
        .set(Machine {
            platform,
            tick,
            sbi_time: sbi::has_time_extension(),
        })
        .is_err()
    {
        cannot_boot("boot_main entered twice", finisher);
    }
    let Some(m) = super::machine() else {
        cannot_boot("machine state missing", finisher)
    };
    if m.platform.ram.as_slice().is_empty() {
        cannot_boot("no memory described by the device tree", finisher);
    }
    if let Err(e) = image {
        cannot_boot(e, finisher);
    }
    let user_image_paddr = header_pa + header.user_offset;
    if say {
        print_image(kernel_end, header_pa, header);
    }
    plic::init();
    let params = BootParams {
        ram: m.platform.ram.as_slice(),
        reserved: m.platform.reserved.as_slice(),
        kernel_devices: m.platform.kernel_devices.as_slice(),
        header,
        user_image_paddr,
        dtb: Some(m.platform.dtb),
        boot_reuse: Region::new(
            KERNEL_PHYS_BASE,
            kptr_to_paddr(core::ptr::addr_of!(__boot_end) as usize).0,
        ),
    };
    if let Err(e) = K::boot(&params) {
        cannot_boot(e.into(), finisher);
    }
    timer::start();
    let boot_cycles = csr::read_cycle().wrapping_sub(boot_start);
    if say {
        kput!(
            "boot: ",
            boot_cycles,
            " cycles from kernel entry to the root task\n"
        );
    }
    trap::exit_to_user::<K>()
}

fn print_image(kernel_end: u64, header_pa: u64, header: &ImageHeader) {
    let user_image_paddr = header_pa + header.user_offset;
    put_region("kernel image: ", Region::new(KERNEL_PHYS_BASE, kernel_end));
    kput!(", header at ", Hex(header_pa), "\n");
    put_region(
        "user image: ",
        Region::new(user_image_paddr, user_image_paddr + header.user_size),
    );
    put_region(
        " -> vaddr ",
        Region::new(header.user_v_start, header.user_v_end),
    );
    kput!(", entry ", Hex(header.user_entry), "\n");
}

fn print_platform(p: &Platform) {
    for r in p.ram.as_slice() {
        put_region("ram: ", *r);
        kput!(" ", r.len() >> 20, " MiB\n");
    }
    for r in p.reserved.as_slice() {
        put_region("reserved: ", *r);
        kput!("\n");
    }
    kput!(
        "timebase: ",
        p.timebase,
        " Hz, tick ",
        crate::config::TIMER_TICK_MS,
        " ms\n"
    );
    if let Some(plic) = p.plic {
        kput!(
            "plic: ",
            Hex(plic.reg.start),
            " (",
            plic.ndev,
            " sources, context ",
            plic.context,
            ")\n"
        );
    }
    if let Some(u) = p.uart {
        kput!("uart: ", Hex(u.start), "\n");
    }
    for r in p.kernel_devices.as_slice() {
        put_region("kernel device: ", *r);
        kput!("\n");
    }
    put_region("dtb: ", p.dtb);
    kput!("\n");
}

/// `what` then `[start, end)`, as the boot messages print regions. Out of
/// line: one copy for every region boot prints.
#[inline(never)]
fn put_region(what: &str, r: Region) {
    kput!(what, "[", Hex(r.start), ", ", Hex(r.end), ")");
}
