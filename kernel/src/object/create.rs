//! Creating objects in retyped memory (ch. 2 Kernel Services and Objects,
//! *Kernel Memory Allocation* and *Summary of Object Sizes*; ABI ref §5):
//! the size of each object type and its capability and initial state.
//! Called only by `Untyped_Retype` (`object::untyped`), after decoding.
//!
//! # Zeroed memory
//!
//! New kernel objects and non-device frames must read as zero. As in seL4,
//! that is guaranteed by the untyped watermark, not by zeroing here: an
//! untyped is reset (zeroed, preemptibly) before its first use and whenever
//! it has no children left, and its free index only grows between resets,
//! so the memory at or above the watermark of a non-device untyped is
//! always zero. (Boot untypeds start full, so they are reset before first
//! use.) This keeps a Retype of 256 GiB pages from zeroing 256 GiB without
//! a preemption point. Creation therefore writes only an object's non-zero
//! fields.

use crate::cap::{Cap, FrameSize, VmRights};
use crate::object::tcb::{TcbRef, NAME_LEN};
use crate::types::PAddr;
use cairn_abi::cap::CapRights;
use cairn_abi::object::{self as o, ObjectType};

/// log2 of the memory an object of type `t` occupies, given the user's
/// size argument (seL4's `getObjectSize`). The caller has checked
/// `user_size < 64`, so the result is below 70.
pub fn object_size_bits(t: ObjectType, user_size: u32) -> u32 {
    match t {
        ObjectType::Untyped => user_size,
        ObjectType::Tcb => crate::config::TCB_BITS,
        ObjectType::Endpoint => o::ENDPOINT_BITS,
        ObjectType::Notification => o::NOTIFICATION_BITS,
        ObjectType::CapTable => o::SLOT_BITS + user_size,
        // A SchedContext's size is the caller's choice (it sets how many
        // refills it holds); a reply object's is fixed.
        #[cfg(feature = "mcs")]
        ObjectType::SchedContext => user_size,
        #[cfg(feature = "mcs")]
        ObjectType::Reply => o::REPLY_BITS,
        ObjectType::GigaPage => o::HUGE_PAGE_BITS,
        ObjectType::SmallPage => o::PAGE_BITS,
        ObjectType::MegaPage => o::LARGE_PAGE_BITS,
        ObjectType::PageTable => o::PAGE_TABLE_BITS,
    }
}

/// Whether a device untyped may be retyped into `t` (frames and untypeds
/// only: the kernel never keeps its own objects in device memory).
pub fn allowed_in_device_memory(t: ObjectType) -> bool {
    match t {
        ObjectType::Untyped
        | ObjectType::GigaPage
        | ObjectType::SmallPage
        | ObjectType::MegaPage => true,
        ObjectType::Tcb
        | ObjectType::Endpoint
        | ObjectType::Notification
        | ObjectType::CapTable
        | ObjectType::PageTable => false,
        #[cfg(feature = "mcs")]
        ObjectType::SchedContext | ObjectType::Reply => false,
    }
}

/// The frame size of a frame type; `None` for every other type. A Retype
/// into frames writes the new capabilities' words directly
/// ([`CapWords::new_frame`](crate::cap::CapWords::new_frame)): a frame
/// needs no initialisation, so [`create_object`] has nothing else to do.
pub fn frame_size(t: ObjectType) -> Option<FrameSize> {
    match t {
        ObjectType::GigaPage => Some(FrameSize::Giga),
        ObjectType::SmallPage => Some(FrameSize::Small),
        ObjectType::MegaPage => Some(FrameSize::Mega),
        ObjectType::Untyped
        | ObjectType::Tcb
        | ObjectType::Endpoint
        | ObjectType::Notification
        | ObjectType::CapTable
        | ObjectType::PageTable => None,
        #[cfg(feature = "mcs")]
        ObjectType::SchedContext | ObjectType::Reply => None,
    }
}

/// Creates one object of type `t` at `base` (aligned to its size, zeroed
/// unless device memory; see the module doc) and returns its original
/// capability (seL4's `createObject`).
pub fn create_object(t: ObjectType, base: PAddr, user_size: u32, is_device: bool) -> Cap {
    let frame = |size| Cap::Frame {
        base,
        size,
        rights: VmRights::ReadWrite,
        is_device,
        mapping: None,
    };
    match t {
        ObjectType::Untyped => Cap::Untyped {
            ptr: base,
            size_bits: user_size as u8,
            free_index: 0,
            is_device,
        },
        ObjectType::Tcb => {
            init_tcb(TcbRef::new(base));
            Cap::Thread { tcb: base }
        }
        ObjectType::Endpoint => Cap::Endpoint {
            ptr: base,
            badge: 0,
            rights: CapRights::ALL,
        },
        ObjectType::Notification => Cap::Notification {
            ptr: base,
            badge: 0,
            rights: CapRights::READ_WRITE,
        },
        ObjectType::CapTable => Cap::CNode {
            ptr: base,
            radix: user_size as u8,
            guard_size: 0,
            guard: 0,
        },
        ObjectType::GigaPage => frame(FrameSize::Giga),
        ObjectType::SmallPage => frame(FrameSize::Small),
        ObjectType::MegaPage => frame(FrameSize::Mega),
        ObjectType::PageTable => Cap::PageTable {
            base,
            mapping: None,
        },
        // Zeroed, the header says "not configured" (no refills, budget
        // and period 0), as seL4's new SchedContext does; the refill array
        // follows it in the same object (docs/mcs.md).
        #[cfg(feature = "mcs")]
        ObjectType::SchedContext => Cap::SchedContext {
            ptr: base,
            size_bits: user_size as u8,
        },
        // Zeroed: no thread waits on it; its cap may grant, as seL4's
        // first reply cap does.
        #[cfg(feature = "mcs")]
        ObjectType::Reply => Cap::ReplyObject {
            ptr: base,
            can_grant: true,
        },
    }
}

/// The non-zero fields of a new TCB (ABI ref §5 *New-object state*):
/// Inactive, priority and MCP 0, all registers 0 except the status word, the
/// current domain, a full time slice.
fn init_tcb(tcb: TcbRef) {
    let t = tcb.get();
    t.init_context();
    t.set_time_slice(crate::config::TIME_SLICE);
    t.set_domain(crate::state::kernel().cur_domain());
    if crate::config::DEBUG_BUILD {
        set_child_name(t);
    }
}

/// Debug builds name a new thread "child of: '<creator>'" as seL4 does.
fn set_child_name(t: &crate::object::tcb::Tcb) {
    let mut parent = [0u8; NAME_LEN];
    let n = crate::state::kernel()
        .current()
        .map_or(0, |c| c.name(&mut parent));
    let mut name = [0u8; NAME_LEN];
    let parts: [&[u8]; 3] = [b"child of: '", parent.get(..n).unwrap_or(&[]), b"'"];
    let mut len = 0;
    for b in parts.iter().flat_map(|p| p.iter()) {
        if let Some(slot) = name.get_mut(len) {
            *slot = *b;
            len += 1;
        }
    }
    t.set_name(name.get(..len).unwrap_or(&[]));
}

#[cfg(test)]
mod tests {
    use crate::arch::{fpu_enabled, INITIAL_STATUS, STATUS_REGISTER};
    use crate::cap::cte::cnode_slot;
    use crate::cap::derive::{ensure_no_children, is_mdb_parent_of};
    use crate::cap::{Cap, FrameSize, VmRights};
    use crate::object::endpoint::{EndpointRef, EndpointState};
    use crate::object::notification::{NotificationRef, NotificationState};
    use crate::object::tcb::{Tcb, TcbRef, ThreadState, NAME_LEN, TCB_CNODE_ENTRIES};
    use crate::testutil::{self, ok, TestKernel};
    use crate::types::PAddr;
    use cairn_abi::cap::CapRights;
    use cairn_abi::object::ObjectType as T;

    /// Retypes one object of `ty` from `ut` into the first empty slot and
    /// checks that its cap is a revocable CDT child of the untyped.
    fn make(k: &TestKernel, ut: u64, ty: T, size: u64) -> Cap {
        let f = k.first_empty;
        assert_eq!(k.retype(ut, ty as u64, size, f, 1), ok());
        let (parent, child) = (k.slot(ut), k.slot(f));
        assert_eq!(parent.get().next(), Some(child));
        assert!(child.get().revocable());
        assert!(is_mdb_parent_of(parent, child));
        assert!(ensure_no_children(parent).is_err());
        k.cap(f)
    }

    fn ram_untyped(k: &TestKernel) -> (u64, PAddr) {
        let ut = k.find_untyped(16, false).unwrap();
        let Cap::Untyped { ptr, .. } = k.cap(ut) else {
            panic!()
        };
        (ut, ptr)
    }

    #[test]
    fn tcb_starts_inactive_in_the_current_domain() {
        let k = testutil::boot();
        let (ut, base) = ram_untyped(&k);
        crate::state::kernel().set_cur_domain(3);
        assert_eq!(make(&k, ut, T::Tcb, 0), Cap::Thread { tcb: base });
        let t = TcbRef::new(base).get();
        assert_eq!(t.state(), ThreadState::Inactive);
        assert_eq!((t.priority(), t.mcp(), t.domain()), (0, 0, 3));
        assert_eq!(t.reg(STATUS_REGISTER), INITIAL_STATUS);
        assert!(
            !fpu_enabled(INITIAL_STATUS),
            "no FPU until its first FP instruction"
        );
        assert_eq!(t.time_slice(), crate::config::TIME_SLICE);
        assert!((1..32).all(|r| t.reg(r) == 0));
        assert_eq!((t.fault_ip(), t.next_ip(), t.ipc_buffer()), (0, 0, 0));
        assert_eq!((t.fault_handler(), t.flags()), (0, 0));
        assert!(!t.in_ready_queue());
        let tcb = TcbRef::new(base);
        assert!((0..TCB_CNODE_ENTRIES).all(|i| Tcb::slot(tcb, i).get().cap().is_null()));
        let mut name = [0; NAME_LEN];
        let n = t.name(&mut name);
        if crate::config::DEBUG_BUILD {
            assert_eq!(&name[..n], b"child of: 'rootserver'");
        }
    }

    #[test]
    fn endpoint_and_notification_caps_and_state() {
        let k = testutil::boot();
        let (ut, base) = ram_untyped(&k);
        let cap = make(&k, ut, T::Endpoint, 0);
        assert_eq!(
            cap,
            Cap::Endpoint {
                ptr: base,
                badge: 0,
                rights: CapRights::ALL
            }
        );
        let ep = EndpointRef::new(base).get();
        assert_eq!(
            (ep.queue.state(), ep.queue.tcbs().head),
            (EndpointState::Idle, 0)
        );
        crate::cap::cte::empty_slot(k.slot(k.first_empty));
        let cap = make(&k, ut, T::Notification, 0);
        assert_eq!(
            cap,
            Cap::Notification {
                ptr: base,
                badge: 0,
                rights: CapRights::READ_WRITE
            }
        );
        let n = NotificationRef::new(base).get();
        assert_eq!(n.queue.state(), NotificationState::Idle);
        assert_eq!((n.msg_identifier(), n.bound_tcb()), (0, 0));
    }

    #[test]
    fn cnode_untyped_and_page_table() {
        let k = testutil::boot();
        let (ut, base) = ram_untyped(&k);
        let cap = make(&k, ut, T::CapTable, 3);
        assert_eq!(
            cap,
            Cap::CNode {
                ptr: base,
                radix: 3,
                guard_size: 0,
                guard: 0
            }
        );
        assert!((0..8).all(|i| cnode_slot(base, i).get().cap().is_null()));
        crate::cap::cte::empty_slot(k.slot(k.first_empty));
        let cap = make(&k, ut, T::Untyped, 8);
        assert_eq!(
            cap,
            Cap::Untyped {
                ptr: base,
                size_bits: 8,
                free_index: 0,
                is_device: false
            }
        );
        crate::cap::cte::empty_slot(k.slot(k.first_empty));
        let cap = make(&k, ut, T::PageTable, 0);
        assert_eq!(
            cap,
            Cap::PageTable {
                base,
                mapping: None
            }
        );
        assert!((0..512).all(|i| crate::arch::vspace::read_pte(PAddr(base.0 + 8 * i)) == 0));
    }

    #[test]
    fn frames_of_every_size() {
        let k = testutil::boot();
        let frame = |base, size, is_device| Cap::Frame {
            base,
            size,
            rights: VmRights::ReadWrite,
            is_device,
            mapping: None,
        };
        let (ut, base) = ram_untyped(&k);
        assert_eq!(
            make(&k, ut, T::SmallPage, 0),
            frame(base, FrameSize::Small, false)
        );
        let mega = k.find_untyped(21, false).unwrap();
        let Cap::Untyped { ptr, .. } = k.cap(mega) else {
            panic!()
        };
        crate::cap::cte::empty_slot(k.slot(k.first_empty));
        assert_eq!(
            make(&k, mega, T::MegaPage, 0),
            frame(ptr, FrameSize::Mega, false)
        );
        crate::cap::cte::empty_slot(k.slot(k.first_empty));
        let giga = k.find_untyped(30, true).unwrap();
        assert_eq!(
            make(&k, giga, T::GigaPage, 0),
            frame(PAddr(0x4000_0000), FrameSize::Giga, true)
        );
        crate::cap::cte::empty_slot(k.slot(k.first_empty));
        let dev = k.find_untyped(21, true).unwrap();
        let Cap::Untyped { ptr, .. } = k.cap(dev) else {
            panic!()
        };
        assert_eq!(
            make(&k, dev, T::SmallPage, 0),
            frame(ptr, FrameSize::Small, true)
        );
    }

    #[test]
    fn retype_inside_an_untyped_child() {
        let k = testutil::boot();
        let (ut, base) = ram_untyped(&k);
        let f = k.first_empty;
        assert_eq!(k.retype(ut, T::Untyped as u64, 12, f, 2), ok());
        let child = |i: u64| base.add(i << 12);
        for i in 0..2 {
            assert_eq!(
                k.cap(f + i),
                Cap::Untyped {
                    ptr: child(i),
                    size_bits: 12,
                    free_index: 0,
                    is_device: false
                }
            );
        }
        // Endpoints inside the second child: its watermark moves, the
        // parent's does not.
        assert_eq!(k.retype(f + 1, T::Endpoint as u64, 0, f + 2, 2), ok());
        assert_eq!(
            k.cap(f + 3),
            Cap::Endpoint {
                ptr: child(1).add(16),
                badge: 0,
                rights: CapRights::ALL
            }
        );
        let free = |s| match k.cap(s) {
            Cap::Untyped { free_index, .. } => free_index,
            c => panic!("{c:?}"),
        };
        assert_eq!((free(ut), free(f + 1)), (8192, 32));
        assert!(is_mdb_parent_of(k.slot(f + 1), k.slot(f + 3)));
        assert!(ensure_no_children(k.slot(f + 1)).is_err());
        assert!(ensure_no_children(k.slot(f)).is_ok());
        // The first child, split all the way down to 16-byte untypeds.
        assert_eq!(k.retype(f, T::Untyped as u64, 4, f + 4, 256), ok());
        assert_eq!(free(f), 4096);
        assert!(
            matches!(k.cap(f + 259), Cap::Untyped { ptr, size_bits: 4, .. } if ptr == child(0).add(255 * 16))
        );
        // The parent goes on from its own watermark.
        assert_eq!(k.retype(ut, T::SmallPage as u64, 0, f + 260, 1), ok());
        assert!(matches!(k.cap(f + 260), Cap::Frame { base: b, .. } if b == base.add(8192)));
    }
}
