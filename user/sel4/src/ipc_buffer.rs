//! The calling thread's IPC buffer (ABI ref §3): message registers 4..120,
//! extra-cap cptrs (`caps_or_badges`) and the receive slot.
//!
//! The runtime registers the buffer once with [`set_ipc_buffer`]; everything
//! else reaches it through [`with_ipc_buffer`], which hands out one `&mut`
//! at a time (a nested call gets `None` instead of an aliasing reference).
//!
//! **Which buffer is "the calling thread's".** Every thread of an address
//! space runs the same code, so the registration is found through the
//! thread pointer register `tp`:
//!
//! - `tp` = 0 (the root thread: the kernel starts it with every register
//!   but `a0` zero): one global registration, set by the runtime at start.
//! - `tp` ≠ 0: `tp` is the address of that thread's [`ThreadSlot`], which
//!   holds its buffer pointer and its own borrow flag. `cairn_rt::thread`
//!   sets this up for the threads it starts ([`ThreadSlot::reset`], then
//!   `tp` through WriteRegisters).
//!
//! Limitation: nothing else may use `tp` in a thread that uses this library.
//! Rust code here has no `#[thread_local]` data, so the compiler never
//! does; but a thread whose `tp` is changed (`seL4_TCB_SetTLSBase`,
//! WriteRegisters) to anything but 0 or a live `ThreadSlot` must not call
//! into this library afterwards, and a thread started with `tp` = 0 by other
//! means shares the root thread's buffer (and must not run while the root
//! thread uses it). Host unit tests keep one registration per test thread.

use cairn_abi::message::IpcBuffer;
use cairn_abi::Word;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

/// A thread's own IPC-buffer registration, found through its `tp`
/// register (see the module doc). Lives as long as the thread does,
/// typically next to the buffer in the thread's IPC buffer page.
#[repr(C)]
pub struct ThreadSlot {
    buffer: AtomicPtr<IpcBuffer>,
    busy: AtomicBool,
}

impl ThreadSlot {
    /// An empty registration (no buffer).
    pub const fn new() -> ThreadSlot {
        ThreadSlot {
            buffer: AtomicPtr::new(core::ptr::null_mut()),
            busy: AtomicBool::new(false),
        }
    }

    /// Registers `buffer` here and clears the borrow flag, for a thread
    /// about to start with `tp` = the address of `self`.
    ///
    /// # Safety
    /// No running thread may be using this slot (its `tp` pointing here);
    /// `buffer` must satisfy [`set_ipc_buffer`]'s contract for the thread
    /// that will use this slot.
    pub unsafe fn reset(&self, buffer: *mut IpcBuffer) {
        self.buffer.store(buffer, Ordering::Release);
        self.busy.store(false, Ordering::Release);
    }
}

impl Default for ThreadSlot {
    fn default() -> Self {
        ThreadSlot::new()
    }
}

/// The calling thread's `tp` register.
#[cfg(target_arch = "riscv64")]
#[inline(always)]
fn thread_pointer() -> usize {
    let tp: usize;
    // `pure`: the same value every time within a thread, so the compiler
    // may read it once for the several slot accesses of a borrow.
    // SAFETY: reads a register; no memory access, no side effect.
    unsafe {
        core::arch::asm!("mv {}, tp", out(reg) tp, options(pure, nomem, nostack, preserves_flags))
    };
    tp
}

/// Off RISC-V (host builds of the library) there is only the root thread.
#[cfg(all(not(target_arch = "riscv64"), not(test)))]
fn thread_pointer() -> usize {
    0
}

#[cfg(not(test))]
mod slot {
    use super::{IpcBuffer, ThreadSlot};
    use core::sync::atomic::Ordering;

    /// The root thread's registration (`tp` = 0).
    static ROOT: ThreadSlot = ThreadSlot::new();

    #[inline(always)]
    fn current() -> &'static ThreadSlot {
        match super::thread_pointer() {
            0 => &ROOT,
            // SAFETY: by this module's contract (module doc), a thread's
            // `tp` is 0 or the address of a `ThreadSlot` that outlives it;
            // `ThreadSlot` is made of atomics, so a shared reference is
            // enough for every access.
            tp => unsafe { &*(tp as *const ThreadSlot) },
        }
    }

    #[inline(always)]
    pub fn get() -> *mut IpcBuffer {
        current().buffer.load(Ordering::Acquire)
    }
    pub fn set(p: *mut IpcBuffer) {
        current().buffer.store(p, Ordering::Release)
    }
    #[inline(always)]
    pub fn try_borrow() -> bool {
        !current().busy.swap(true, Ordering::Acquire)
    }
    #[inline(always)]
    pub fn release() {
        current().busy.store(false, Ordering::Release)
    }
}

#[cfg(test)]
mod slot {
    use super::IpcBuffer;
    use std::cell::Cell;

    std::thread_local! {
        static PTR: Cell<*mut IpcBuffer> = const { Cell::new(core::ptr::null_mut()) };
        static BUSY: Cell<bool> = const { Cell::new(false) };
    }

    pub fn get() -> *mut IpcBuffer {
        PTR.with(|p| p.get())
    }
    pub fn set(p: *mut IpcBuffer) {
        PTR.with(|c| c.set(p))
    }
    pub fn try_borrow() -> bool {
        BUSY.with(|b| !b.replace(true))
    }
    pub fn release() {
        BUSY.with(|b| b.set(false))
    }
}

/// Registers the calling thread's IPC buffer (in its [`ThreadSlot`], or
/// the root thread's registration if its `tp` is 0).
///
/// # Safety
/// `buffer` must be null or point to a 1 KiB-aligned `seL4_IPCBuffer` that
/// stays mapped read-write for the rest of the program and that nothing else
/// accesses except through this module (and the kernel, during syscalls).
pub unsafe fn set_ipc_buffer(buffer: *mut IpcBuffer) {
    slot::set(buffer)
}

/// The registered IPC buffer's address (null if none).
pub fn ipc_buffer_ptr() -> *mut IpcBuffer {
    slot::get()
}

/// The calling thread's IPC buffer, borrowed: holds the borrow flag (so no
/// other access of this thread aliases it) and reaches the buffer through a
/// raw pointer, making references only inside its methods. The message
/// paths of [`crate::syscall`], [`crate::Message`] and the invocation stubs
/// use it to write and read the words in use in place, as libsel4's
/// `seL4_SetMR`/`seL4_GetMR` do, without copying a whole message.
pub(crate) struct BufferRef {
    ptr: core::ptr::NonNull<IpcBuffer>,
}

impl BufferRef {
    /// Borrows the buffer; `None` if none is registered or it is already
    /// borrowed (by an enclosing [`with_ipc_buffer`] or `BufferRef`).
    #[inline(always)]
    pub(crate) fn acquire() -> Option<BufferRef> {
        let ptr = core::ptr::NonNull::new(slot::get())?;
        // Not `then_some`: a `BufferRef` made and dropped on refusal would
        // release the enclosing borrow.
        if slot::try_borrow() {
            Some(BufferRef { ptr })
        } else {
            None
        }
    }

    /// The buffer, for one access.
    #[inline(always)]
    fn get(&mut self) -> &mut IpcBuffer {
        // SAFETY: `set_ipc_buffer`'s contract makes `ptr` a valid buffer
        // that only this module accesses; the borrow flag we hold makes this
        // reference the only one, and it lives no longer than `&mut self`.
        unsafe { &mut *self.ptr.as_ptr() }
    }

    /// Writes MR *i* (ignored past MR119).
    #[inline(always)]
    pub(crate) fn set_mr(&mut self, i: usize, w: Word) {
        if let Some(slot) = self.get().msg.get_mut(i) {
            *slot = w;
        }
    }

    /// MR *i* (0 past MR119).
    #[inline(always)]
    pub(crate) fn mr(&mut self, i: usize) -> Word {
        self.get().msg.get(i).copied().unwrap_or(0)
    }

    /// Writes `caps_or_badges[i]` (ignored past the third).
    #[inline(always)]
    pub(crate) fn set_cap(&mut self, i: usize, w: Word) {
        if let Some(slot) = self.get().caps_or_badges.get_mut(i) {
            *slot = w;
        }
    }

    /// `caps_or_badges[i]` (0 past the third).
    #[inline(always)]
    pub(crate) fn cap(&mut self, i: usize) -> Word {
        self.get().caps_or_badges.get(i).copied().unwrap_or(0)
    }
}

impl Drop for BufferRef {
    #[inline(always)]
    fn drop(&mut self) {
        slot::release();
    }
}

/// Runs `f` on the IPC buffer. `None` if no buffer is registered or if it is
/// already borrowed by an enclosing call.
pub fn with_ipc_buffer<R>(f: impl FnOnce(&mut IpcBuffer) -> R) -> Option<R> {
    let mut b = BufferRef::acquire()?;
    Some(f(b.get()))
}

/// `seL4_GetMR(i)`: MR *i* from the IPC buffer (0 if out of range or no
/// buffer). MRs 0..3 travel in registers; see [`crate::Message`].
pub fn get_mr(i: usize) -> Word {
    with_ipc_buffer(|b| b.msg.get(i).copied().unwrap_or(0)).unwrap_or(0)
}

/// `seL4_SetMR(i, w)`: writes MR *i* in the IPC buffer (ignored if out of
/// range or no buffer).
pub fn set_mr(i: usize, w: Word) {
    with_ipc_buffer(|b| {
        if let Some(slot) = b.msg.get_mut(i) {
            *slot = w;
        }
    });
}

/// `seL4_SetCapReceivePath`: where the next received cap goes.
pub fn set_cap_receive_path(cnode: Word, index: Word, depth: Word) {
    with_ipc_buffer(|b| {
        b.receive_cnode = cnode;
        b.receive_index = index;
        b.receive_depth = depth;
    });
}

#[cfg(test)]
pub(crate) mod testing {
    //! A heap IPC buffer for the current test thread.
    use super::*;

    /// Installs a fresh zeroed buffer for this test thread and returns it.
    pub fn install() -> *mut IpcBuffer {
        let b = Box::into_raw(Box::new(IpcBuffer::zeroed()));
        // SAFETY: leaked, aligned, owned by this thread only.
        unsafe { set_ipc_buffer(b) };
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_buffer_reads_zero() {
        // SAFETY: null is allowed.
        unsafe { set_ipc_buffer(core::ptr::null_mut()) };
        assert_eq!(get_mr(5), 0);
        assert!(with_ipc_buffer(|_| ()).is_none());
    }

    #[test]
    fn set_and_get() {
        testing::install();
        set_mr(7, 42);
        assert_eq!(get_mr(7), 42);
        set_mr(500, 1); // ignored
        assert_eq!(get_mr(500), 0);
    }

    #[test]
    fn nested_borrow_refused() {
        testing::install();
        let inner = with_ipc_buffer(|_| {
            // Refused twice: a refusal leaves the enclosing borrow alone.
            [with_ipc_buffer(|_| ()), with_ipc_buffer(|_| ())]
        });
        assert_eq!(inner, Some([None, None]));
        assert!(with_ipc_buffer(|_| ()).is_some());
    }
}
