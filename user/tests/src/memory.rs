//! The root task's memory as the kernel maps it: image sections, IPC buffer,
//! BootInfo and extra bootinfo frames (ch. 9 System Bootstrapping; ABI ref
//! §6.3).

use crate::framework::{Ctx, Test, TestResult};
use crate::{check, check_eq, fail};
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::abi::message::IpcBuffer;
use sel4::ipc_buffer::with_ipc_buffer;

/// The tests of this module. `mem_bss_zeroed` must run before anything else.
pub const TESTS: &[Test] = &[
    Test {
        name: "mem_bss_zeroed",
        run: bss_zeroed,
    },
    Test {
        name: "mem_data_initialised_and_writable",
        run: data_writable,
    },
    Test {
        name: "mem_bootinfo_frame_readable",
        run: bootinfo_readable,
    },
    Test {
        name: "mem_extra_bootinfo_readable",
        run: extra_readable,
    },
    Test {
        name: "mem_ipc_buffer_read_write",
        run: ipc_buffer_read_write,
    },
];

/// 8 KiB of `.bss`, never written.
static ZEROS: [AtomicU64; 1024] = [const { AtomicU64::new(0) }; 1024];
/// An initialised `.data` word.
static DATA: AtomicU64 = AtomicU64::new(0x0123_4567_89ab_cdef);

fn in_image(ctx: &Ctx<'_>, addr: u64) -> bool {
    (ctx.image_start..ctx.image_end).contains(&addr)
}

fn bss_zeroed(ctx: &Ctx<'_>) -> TestResult {
    check!(
        in_image(ctx, ZEROS.as_ptr() as u64),
        "the .bss array lies outside the image"
    );
    for (i, w) in ZEROS.iter().enumerate() {
        let v = w.load(Ordering::Relaxed);
        check!(v == 0, ".bss word {i} reads {v:#x}, expected 0");
    }
    Ok(())
}

fn data_writable(ctx: &Ctx<'_>) -> TestResult {
    check!(
        in_image(ctx, DATA.as_ptr() as u64),
        "the .data word lies outside the image"
    );
    check_eq!(
        DATA.load(Ordering::Relaxed),
        0x0123_4567_89ab_cdef_u64,
        ".data initial value"
    );
    DATA.store(0xfeed_f00d, Ordering::Relaxed);
    check_eq!(
        DATA.load(Ordering::Relaxed),
        0xfeed_f00d_u64,
        ".data after a write"
    );
    DATA.store(0x0123_4567_89ab_cdef, Ordering::Relaxed);
    Ok(())
}

fn bootinfo_readable(ctx: &Ctx<'_>) -> TestResult {
    let frame = ctx.bootinfo_addr as *const u64;
    // SAFETY: the kernel maps the 4 KiB BootInfo frame at a0 (ABI ref
    // §6.3); word 4 (ipcBuffer) and word 511 (the frame's last) lie in it.
    let (ipc, last) = unsafe { (frame.add(4).read_volatile(), frame.add(511).read_volatile()) };
    check_eq!(ipc, ctx.bi.ipc_buffer_addr(), "ipcBuffer read through a0");
    core::hint::black_box(last);
    Ok(())
}

fn extra_readable(ctx: &Ctx<'_>) -> TestResult {
    let extra = ctx.bi.extra();
    check!(!extra.is_empty(), "no extra bootinfo");
    let base = ctx.bootinfo_addr + 4096;
    check_eq!(extra.as_ptr() as u64, base, "extra bootinfo address");
    let sum = extra.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    core::hint::black_box(sum);
    Ok(())
}

fn ipc_buffer_read_write(ctx: &Ctx<'_>) -> TestResult {
    let addr = ctx.bi.ipc_buffer_addr();
    let Some(result) = with_ipc_buffer(|b: &mut IpcBuffer| {
        let p = (b as *mut IpcBuffer).cast::<u8>();
        let pattern = |i: usize| (i as u8).wrapping_mul(37).wrapping_add(11);
        for i in 0..1024 {
            // SAFETY: `p` points to the 1 KiB IPC buffer we borrow exclusively.
            unsafe { p.add(i).write_volatile(pattern(i)) };
        }
        let mut bad = None;
        for i in 0..1024 {
            // SAFETY: as above.
            let v = unsafe { p.add(i).read_volatile() };
            if v != pattern(i) && bad.is_none() {
                bad = Some((i, v));
            }
        }
        *b = IpcBuffer::zeroed();
        (p as u64, bad)
    }) else {
        fail!("no IPC buffer registered");
    };
    check_eq!(result.0, addr, "IPC buffer address");
    if let Some((i, v)) = result.1 {
        fail!("IPC buffer byte {i} reads {v:#x} after writing the pattern");
    }
    Ok(())
}
