//! The calling thread's IPC buffer (ABI ref §3): message registers 4..120,
//! extra-cap cptrs (`caps_or_badges`) and the receive slot.
//!
//! The runtime registers the buffer once with [`set_ipc_buffer`]; everything
//! else reaches it through [`with_ipc_buffer`], which hands out one `&mut`
//! at a time (a nested call gets `None` instead of an aliasing reference).
//! The root task is single-threaded, so one global pointer suffices for now;
//! host unit tests keep one per test thread.

use cairn_abi::message::IpcBuffer;
use cairn_abi::Word;

#[cfg(not(test))]
mod slot {
    use super::IpcBuffer;
    use core::ptr::null_mut;
    use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

    static PTR: AtomicPtr<IpcBuffer> = AtomicPtr::new(null_mut());
    static BUSY: AtomicBool = AtomicBool::new(false);

    pub fn get() -> *mut IpcBuffer {
        PTR.load(Ordering::Acquire)
    }
    pub fn set(p: *mut IpcBuffer) {
        PTR.store(p, Ordering::Release)
    }
    pub fn try_borrow() -> bool {
        !BUSY.swap(true, Ordering::Acquire)
    }
    pub fn release() {
        BUSY.store(false, Ordering::Release)
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

/// Registers the calling thread's IPC buffer.
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

struct Borrow;

impl Drop for Borrow {
    fn drop(&mut self) {
        slot::release();
    }
}

/// Runs `f` on the IPC buffer. `None` if no buffer is registered or if it is
/// already borrowed by an enclosing call.
pub fn with_ipc_buffer<R>(f: impl FnOnce(&mut IpcBuffer) -> R) -> Option<R> {
    let ptr = slot::get();
    if ptr.is_null() || !slot::try_borrow() {
        return None;
    }
    let _guard = Borrow;
    // SAFETY: `set_ipc_buffer`'s contract makes `ptr` a valid, exclusively
    // owned IPC buffer; the BUSY flag guarantees this is the only live
    // reference to it until `_guard` drops.
    let buffer = unsafe { &mut *ptr };
    Some(f(buffer))
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
        let inner = with_ipc_buffer(|_| with_ipc_buffer(|_| ()).is_none());
        assert_eq!(inner, Some(true));
        assert!(with_ipc_buffer(|_| ()).is_some());
    }
}
