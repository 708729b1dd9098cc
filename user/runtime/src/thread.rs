//! Starting threads in the root task's own address space (ch. 6 Threads
//! and Execution; ABI ref §7.3, §10).
//!
//! A new thread needs a TCB (retyped by the caller), a stack, and an IPC
//! buffer of its own. This module provides the two memory pieces as types
//! meant for `static`s in the root task's image, and [`spawn`], which does
//! what seL4's own test harness does for a local thread:
//!
//! 1. `TCB_Configure(fault_ep, root CNode, 0, root VSpace, 0, buffer vaddr,
//!    buffer frame)`. The buffer frame is the root task's own image frame
//!    for the [`IpcPage`]: BootInfo's `userImageFrames` slot
//!    `start + (vaddr − image page) / 4096` ([`image_frame_slot`]). In
//!    the MCS configuration Configure takes no fault endpoint and a
//!    non-null one is installed by `TCB_SetSpace` as a cap
//!    (`sel4::Tcb::configure_with_fault_ep`).
//! 2. `TCB_WriteRegisters` (no resume): pc = a trampoline, sp = the stack
//!    top, gp = the caller's gp (the runtime's `_start` sets it once; code is
//!    linked with gp-relative accesses), tp = the page's
//!    [`ThreadSlot`] (so that `sel4::ipc_buffer` finds this thread's own
//!    buffer), a0 = the argument, a1 = the entry function, a2 = the TCB cptr.
//! 3. `TCB_SetPriority(priority, authority = the root TCB)`.
//! 4. `TCB_Resume` ([`spawn`] only; [`prepare`] stops before it). A thread
//!    of higher priority than the caller runs at once.
//!
//! The trampoline calls `entry(arg)`; if that returns, the thread suspends
//! itself through the TCB cptr it was given (and yields forever should that
//! fail). A thread may also simply be suspended or deleted by its creator.
//!
//! [`prepare_in`] does the same with another VSpace root: see
//! `crate::space` for threads in a second address space.
//!
//! Limitations: the thread shares the root task's CSpace and VSpace, has no
//! Rust thread-local storage, and must not change its own `tp` (see
//! `sel4::ipc_buffer`). The stack and the page may be reused for another
//! thread only once the previous one is stopped (suspended or deleted): the
//! [`spawn`] contract.

use core::cell::UnsafeCell;
use sel4::abi::bootinfo::SlotRegion;
use sel4::abi::message::IpcBuffer;
use sel4::ipc_buffer::ThreadSlot;
#[cfg(target_os = "none")]
use sel4::{cap::init_caps, BootInfo, Frame, PageTable};
use sel4::{CPtr, Error, Tcb, UserContext, Word};

const PAGE: usize = 4096;

/// A thread stack of `N` bytes, 16-byte aligned (RISC-V psABI). Put it in a
/// `static`: it is zero-initialised, so it lands in `.bss`.
#[repr(C, align(16))]
pub struct Stack<const N: usize>(UnsafeCell<[u8; N]>);

// SAFETY: the stack's bytes are only used as a thread's stack, through `sp`;
// Rust code never forms a reference to them.
unsafe impl<const N: usize> Sync for Stack<N> {}

impl<const N: usize> Stack<N> {
    /// A zeroed stack.
    pub const fn new() -> Self {
        Stack(UnsafeCell::new([0; N]))
    }

    /// One past the highest byte: the initial `sp` (16-byte aligned if `N`
    /// is a multiple of 16).
    pub fn top(&self) -> usize {
        self.0.get() as usize + N
    }
}

impl<const N: usize> Default for Stack<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// One 4 KiB page of the image holding a thread's IPC buffer (at its
/// start, 1 KiB aligned as the kernel wants) and the thread's
/// [`ThreadSlot`]. Put it in a `static`: it lands in `.bss`, and being
/// page-aligned and page-sized it is one whole image frame.
#[repr(C, align(4096))]
pub struct IpcPage {
    buffer: UnsafeCell<IpcBuffer>,
    slot: ThreadSlot,
}

// SAFETY: the buffer is accessed only by the one thread registered to it
// (through `sel4::ipc_buffer`) and by the kernel; the slot is atomics.
unsafe impl Sync for IpcPage {}

impl IpcPage {
    /// A zeroed page.
    pub const fn new() -> Self {
        IpcPage {
            buffer: UnsafeCell::new(IpcBuffer::zeroed()),
            slot: ThreadSlot::new(),
        }
    }

    /// The page's (and the IPC buffer's) virtual address.
    pub fn vaddr(&self) -> usize {
        self as *const IpcPage as usize
    }

    /// The IPC buffer.
    pub fn buffer(&self) -> *mut IpcBuffer {
        self.buffer.get()
    }

    /// The thread slot (a thread's `tp`).
    pub fn slot(&self) -> &ThreadSlot {
        &self.slot
    }
}

impl Default for IpcPage {
    fn default() -> Self {
        Self::new()
    }
}

/// The root CNode slot of the frame cap that maps the image page at
/// `vaddr`: the image's frames are BootInfo's `userImageFrames`, one per
/// page from the page holding `image_start` up (ABI ref §6.4). `None` if
/// `vaddr` is not a page address of the image.
pub fn image_frame_slot(frames: SlotRegion, image_start: usize, vaddr: usize) -> Option<Word> {
    let first = image_start & !(PAGE - 1);
    if !vaddr.is_multiple_of(PAGE) {
        return None;
    }
    let index = Word::try_from(vaddr.checked_sub(first)? / PAGE).ok()?;
    let slot = frames.start.checked_add(index)?;
    (slot < frames.end).then_some(slot)
}

/// What a new thread is.
#[derive(Clone, Copy, Debug)]
pub struct ThreadSpec {
    /// Its TCB (retyped by the caller, not yet running).
    pub tcb: Tcb,
    /// The function it runs.
    pub entry: fn(usize),
    /// The argument `entry` gets.
    pub arg: usize,
    /// Its initial `sp` (see [`Stack::top`]).
    pub stack_top: usize,
    /// Its priority (at most the root thread's MCP).
    pub priority: Word,
    /// Its fault endpoint cptr, looked up in the root CNode at fault time
    /// (`CPtr::NULL`: none; a fault then just stops the thread).
    pub fault_ep: CPtr,
}

/// Which step of starting a thread failed, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// The IPC page is not a page of the image (no frame cap for it).
    NotInImage,
    /// `TCB_Configure` failed.
    Configure(Error),
    /// `TCB_WriteRegisters` failed.
    WriteRegisters(Error),
    /// `TCB_SetPriority` failed.
    SetPriority(Error),
    /// `TCB_Resume` failed.
    Resume(Error),
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::NotInImage => write!(f, "IPC page not in the image"),
            SpawnError::Configure(e) => write!(f, "TCB_Configure: {e}"),
            SpawnError::WriteRegisters(e) => write!(f, "TCB_WriteRegisters: {e}"),
            SpawnError::SetPriority(e) => write!(f, "TCB_SetPriority: {e}"),
            SpawnError::Resume(e) => write!(f, "TCB_Resume: {e}"),
        }
    }
}

/// The registers a new thread starts with (see the module doc).
pub fn initial_context(spec: &ThreadSpec, gp: Word, tp: Word, pc: Word) -> UserContext {
    let mut c = UserContext {
        pc,
        sp: spec.stack_top as Word,
        gp,
        tp,
        ..UserContext::default()
    };
    c.a[0] = spec.arg as Word;
    c.a[1] = spec.entry as usize as Word;
    c.a[2] = spec.tcb.bits();
    c
}

/// Configures `spec.tcb` as a thread of this address space that will run
/// `spec.entry(spec.arg)` on its stack with `page` as its IPC buffer, at
/// `spec.priority`, but does not start it (Resume it to start it).
///
/// # Safety
/// No running thread may be using `page` or the stack below
/// `spec.stack_top`, and both must stay reserved for this thread until it
/// is stopped (suspended or its TCB deleted). The stack must be large
/// enough for `entry`.
#[cfg(target_os = "none")]
pub unsafe fn prepare(
    bi: &BootInfo,
    spec: &ThreadSpec,
    page: &'static IpcPage,
) -> Result<(), SpawnError> {
    // SAFETY: the caller's guarantees are `prepare_in`'s.
    unsafe { prepare_in(bi, spec, page, init_caps::VSPACE) }
}

/// [`prepare`] with `vspace` as the thread's VSpace root instead of the
/// root task's. `vspace` must map the root task's image at its own
/// addresses (as `crate::space::ImageSpace` does), so that the code, the
/// stack and `page` are where the thread expects them.
///
/// # Safety
/// As for [`prepare`].
#[cfg(target_os = "none")]
pub unsafe fn prepare_in(
    bi: &BootInfo,
    spec: &ThreadSpec,
    page: &'static IpcPage,
    vspace: PageTable,
) -> Result<(), SpawnError> {
    let vaddr = page.vaddr();
    let frame = image_frame_slot(bi.user_image_frames(), crate::image::start(), vaddr)
        .ok_or(SpawnError::NotInImage)?;
    // SAFETY: the caller reserves `page` for this thread; its buffer is
    // page-aligned and mapped read-write for the life of the root task.
    unsafe { page.slot().reset(page.buffer()) };
    spec.tcb
        .configure_with_fault_ep(
            spec.fault_ep,
            init_caps::CNODE,
            0,
            vspace,
            0,
            vaddr as Word,
            Frame::from_bits(frame),
        )
        .map_err(SpawnError::Configure)?;
    let ctx = initial_context(
        spec,
        global_pointer(),
        page.slot() as *const ThreadSlot as Word,
        trampoline as extern "C" fn(usize, fn(usize), Word) -> ! as usize as Word,
    );
    spec.tcb
        .write_registers(
            false,
            0,
            sel4::abi::context::USER_CONTEXT_WORDS as Word,
            &ctx,
        )
        .map_err(SpawnError::WriteRegisters)?;
    spec.tcb
        .set_priority(init_caps::TCB, spec.priority)
        .map_err(SpawnError::SetPriority)
}

/// [`prepare`], then Resume: the thread runs (at once if its priority is
/// higher than the caller's).
///
/// # Safety
/// As for [`prepare`].
#[cfg(target_os = "none")]
pub unsafe fn spawn(
    bi: &BootInfo,
    spec: &ThreadSpec,
    page: &'static IpcPage,
) -> Result<(), SpawnError> {
    // SAFETY: the caller's guarantees are `prepare`'s.
    unsafe { prepare(bi, spec, page)? };
    spec.tcb.resume().map_err(SpawnError::Resume)
}

/// The caller's `gp`.
#[cfg(target_os = "none")]
fn global_pointer() -> Word {
    let gp: Word;
    // SAFETY: reads a register; no memory access, no side effect.
    unsafe { core::arch::asm!("mv {}, gp", out(reg) gp, options(nomem, nostack, preserves_flags)) };
    gp
}

/// Where a thread made by [`prepare`] starts: a0 = arg, a1 = entry, a2 =
/// its own TCB cptr (as [`initial_context`] sets them).
#[cfg(target_os = "none")]
// `entry` is only ever called from Rust, here; it merely travels through a1
// as the pointer-sized code address WriteRegisters put there.
#[allow(improper_ctypes_definitions)]
extern "C" fn trampoline(arg: usize, entry: fn(usize), tcb: Word) -> ! {
    entry(arg);
    let _ = Tcb::from_bits(tcb).suspend();
    loop {
        sel4::syscall::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_slot_of_an_image_page() {
        let frames = SlotRegion {
            start: 100,
            end: 110,
        };
        assert_eq!(image_frame_slot(frames, 0x10000, 0x10000), Some(100));
        assert_eq!(image_frame_slot(frames, 0x10000, 0x13000), Some(103));
        assert_eq!(image_frame_slot(frames, 0x10000, 0x19000), Some(109));
        assert_eq!(
            image_frame_slot(frames, 0x10000, 0x1a000),
            None,
            "past the image"
        );
        assert_eq!(image_frame_slot(frames, 0x10000, 0xf000), None, "before it");
        assert_eq!(
            image_frame_slot(frames, 0x10000, 0x10400),
            None,
            "not a page"
        );
        assert_eq!(
            image_frame_slot(frames, 0x10040, 0x11000),
            Some(101),
            "start rounded down"
        );
    }

    #[test]
    fn initial_registers() {
        fn f(_: usize) {}
        let spec = ThreadSpec {
            tcb: Tcb::from_bits(77),
            entry: f,
            arg: 5,
            stack_top: 0x8000,
            priority: 10,
            fault_ep: CPtr::NULL,
        };
        let c = initial_context(&spec, 0x1800, 0x2000, 0x3000);
        assert_eq!((c.pc, c.sp, c.gp, c.tp), (0x3000, 0x8000, 0x1800, 0x2000));
        assert_eq!(
            (c.a[0], c.a[1], c.a[2]),
            (5, f as fn(usize) as usize as Word, 77)
        );
        assert_eq!(c.ra, 0);
    }
}
