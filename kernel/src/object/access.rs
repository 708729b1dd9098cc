//! Typed access to kernel object memory: the one place outside `arch/`
//! where the generic kernel uses `unsafe`.
//!
//! # The invariant
//!
//! *A capability (or kernel-internal reference) of type T names a live,
//! aligned object of type T; retype and boot create it, finalisation ends
//! it.* [`ObjPtr::get`] relies on that invariant and on two properties of
//! every [`KernelObject`]:
//!
//! * all of its fields are `Cell`s of plain integers (or arrays of them), so
//!   every bit pattern is a valid value and shared references may alias
//!   while the kernel mutates through them (no `&mut` to object memory is
//!   ever created);
//! * its size and alignment fit within `2^SIZE_BITS` bytes, which is how
//!   much memory retype gives it.
//!
//! The kernel is single-core and not re-entrant, so no other flow of control
//! observes an object while it is being changed. A stale reference (to an
//! object whose memory has been retyped) still points to mapped kernel
//! memory holding integers: a logic error the tests look for, not undefined
//! behaviour.
//!
//! The object types themselves make their promise in `object::kernel_objects`,
//! so that this module imports nothing but `arch` and the kernel's types.
//!
//! Raw physical-memory helpers (zeroing, copying bytes in) are here too
//! (single words are `arch::read_word`/`write_word`, re-exported here):
//! they are used on memory the kernel owns (fresh objects, frames it
//! creates) and check that the range lies inside the physical window.
#![allow(unsafe_code)]

use crate::arch;
use crate::types::PAddr;
use core::marker::PhantomData;

pub use crate::arch::{read_word, write_word};

/// An object type that lives in retyped memory.
///
/// # Safety
/// Implementors guarantee that the type consists only of `Cell`s of plain
/// integers (or arrays/structs of such), so that any bit pattern is valid
/// and aliasing shared references are sound, and that
/// `size_of::<Self>() <= 1 << SIZE_BITS` and `align_of::<Self>() <= 1 << SIZE_BITS`.
pub unsafe trait KernelObject: Sized {
    /// log2 of the memory the object occupies.
    const SIZE_BITS: u32;
}

/// A typed physical pointer to a kernel object.
pub struct ObjPtr<T> {
    pa: PAddr,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for ObjPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for ObjPtr<T> {}
impl<T> PartialEq for ObjPtr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.pa == other.pa
    }
}
impl<T> Eq for ObjPtr<T> {}
impl<T> core::fmt::Debug for ObjPtr<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ObjPtr({:#x})", self.pa.0)
    }
}

impl<T: KernelObject> ObjPtr<T> {
    /// Names the object of type T at `pa`. Callers uphold the module
    /// invariant: only retype, boot and decoded capabilities create these.
    pub(crate) const fn new(pa: PAddr) -> Self {
        ObjPtr {
            pa,
            _t: PhantomData,
        }
    }

    /// The object's physical address.
    pub const fn paddr(self) -> PAddr {
        self.pa
    }

    /// A shared reference to the object.
    pub fn get(self) -> &'static T {
        let p = arch::paddr_range_to_kptr(self.pa, size_of::<T>() as u64) as *const T;
        debug_assert!(p.is_aligned());
        // SAFETY: by the module invariant `pa` holds a live, aligned T inside
        // the physical window; T is all-Cell integers (KernelObject), so a
        // shared reference is valid whatever the bytes and however aliased.
        unsafe { &*p }
    }
}

/// Bytes [`zero`] clears per step of its fast loop: eight words.
const ZERO_STEP: usize = 64;

/// Zeroes `len` bytes of physical memory at `pa` (memory the kernel owns:
/// fresh objects or frames).
///
/// Untyped resets clear whole untypeds through this (16 MiB: two million
/// words), so the common case, a range aligned to [`ZERO_STEP`], is a
/// loop of eight word stores per step: 1.25 instructions a word, where
/// `memset` takes 3 (one store, one add, one branch) plus its alignment
/// prologue. The stores are volatile only so that the compiler does not
/// turn the loop back into a `memset` call.
pub fn zero(pa: PAddr, len: u64) {
    if len == 0 {
        return;
    }
    let p = arch::paddr_range_to_kptr(pa, len) as *mut u8;
    let len = len as usize;
    // SAFETY: `[pa, pa + len)` is RAM inside the physical window that the
    // caller owns (a new object or frame); nothing holds a reference into it
    // except through Cells (see module doc), so writing bytes is sound. In
    // the fast loop `p` and `len` are multiples of ZERO_STEP (so of the
    // word size), and every word written lies in `[p, p + len)`.
    unsafe {
        if (p as usize | len).is_multiple_of(ZERO_STEP) {
            let mut w = p as *mut u64;
            let end = p.add(len) as *mut u64;
            while w < end {
                for i in 0..ZERO_STEP / 8 {
                    w.add(i).write_volatile(0);
                }
                w = w.add(ZERO_STEP / 8);
            }
        } else {
            core::ptr::write_bytes(p, 0, len)
        }
    }
}

/// Copies `bytes` into physical memory at `pa` (memory the kernel owns).
pub fn copy_in(pa: PAddr, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let p = arch::paddr_range_to_kptr(pa, bytes.len() as u64) as *mut u8;
    // SAFETY: as in `zero`; `bytes` is kernel memory that cannot overlap the
    // destination frame (frames given to user space are never kernel data).
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) }
}

/// Reads `out.len()` bytes of physical memory at `pa` (e.g. the DTB).
pub fn copy_out(pa: PAddr, out: &mut [u8]) {
    if out.is_empty() {
        return;
    }
    let p = arch::paddr_range_to_kptr(pa, out.len() as u64) as *const u8;
    // SAFETY: `[pa, pa + len)` is RAM inside the physical window; reading
    // plain bytes from it is always valid.
    unsafe { core::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) }
}
