//! The object types that live in retyped memory, each with its
//! [`KernelObject`] promise (see `object::access` for the invariant it
//! feeds). Nothing imports this module: the implementations are found by
//! type, so the layout files stay free of `unsafe` and `access` stays free
//! of the object types.
#![allow(unsafe_code)]

use crate::cap::Cte;
use crate::object::access::KernelObject;
use crate::object::endpoint::Endpoint;
use crate::object::notification::Notification;
use crate::object::tcb::Tcb;
use crate::object::vspace::AsidPool;

// The object types. Each implementation is a promise checked by reading the
// type: only `Cell`s of integers (or CTEs, themselves four `Cell<u64>`), and
// a size within `2^SIZE_BITS` (the asserts below).

// SAFETY: four `Cell<u64>`: 32 bytes, align 8, any bit pattern valid.
unsafe impl KernelObject for Cte {
    const SIZE_BITS: u32 = cairn_abi::object::SLOT_BITS;
}

// SAFETY: CTEs and Cells of integers only; 2^10 bytes is the smaller of the
// two TCB sizes (FPU off), so it fits both configurations.
unsafe impl KernelObject for Tcb {
    const SIZE_BITS: u32 = 10;
}

// SAFETY: 512 `Cell<u64>` = 4 KiB, align 8.
unsafe impl KernelObject for AsidPool {
    const SIZE_BITS: u32 = cairn_abi::object::ASID_POOL_BITS;
}

// SAFETY: a `WaitQueue`, two `Cell<u64>` (its marker is zero-sized): 16
// bytes = 2^seL4_EndpointBits, align 8, any bit pattern valid (the state
// decodes every value).
unsafe impl KernelObject for Endpoint {
    const SIZE_BITS: u32 = cairn_abi::object::ENDPOINT_BITS;
}

// SAFETY: four `Cell<u64>` (two in the `WaitQueue`, whose marker is
// zero-sized), five under MCS: 32 bytes = 2^seL4_NotificationBits
// (classic), 40 of MCS's 64, align 8, any bit pattern valid (the state
// decodes every value).
unsafe impl KernelObject for Notification {
    const SIZE_BITS: u32 = cairn_abi::object::NOTIFICATION_BITS;
}

const _: () = {
    use core::mem::size_of;
    assert!(size_of::<Endpoint>() == 1 << 4);
    assert!(
        size_of::<Notification>()
            == if crate::config::KERNEL_MCS {
                40
            } else {
                1 << 5
            }
    );
    assert!(size_of::<Cte>() == 1 << 5);
    assert!(size_of::<Tcb>() <= 1 << 10);
    assert!(size_of::<AsidPool>() == 1 << 12);
};
