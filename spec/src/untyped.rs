//! `seL4_Untyped_Retype` (manual §2.4 *Kernel Memory Allocation*, §10 API
//! reference): carves `count` objects of one type and size out of an
//! untyped region, at the watermark aligned up to the object size, and
//! puts caps to them into `count` consecutive empty slots of a CNode.
//! With no children left, an untyped starts again from its beginning.
//!
//! Arguments: 0 type, 1 size (bits, where the type takes one), 2 node
//! index, 3 node depth (0: extra cap 0 itself is the CNode), 4 offset in
//! it, 5 count; extra cap 0 the CSpace root for the node lookup.

use crate::cap::{Cap, EpRights, VmRights};
use crate::error::{LookupFault, SyscallError};
use crate::state::{Object, SlotId, State};

/// The invocation label of `seL4_Untyped_Retype`.
pub const RETYPE: u64 = 1;

/// Object sizes (log2 bytes) of RISC-V 64 (seL4 16.0.0); a TCB's is the
/// configuration's (`State::tcb_bits`).
pub const SLOT_BITS: u32 = 5;
pub const ENDPOINT_BITS: u32 = 4;
/// (MCS: 6, the notification names its scheduling context too.)
pub const NOTIFICATION_BITS: u32 = if crate::MCS { 6 } else { 5 };
pub const PAGE_TABLE_BITS: u32 = 12;
pub const MIN_UNTYPED_BITS: u32 = 4;
pub const MAX_UNTYPED_BITS: u32 = 38;
/// The most objects one Retype makes (`CONFIG_RETYPE_FAN_OUT_LIMIT`).
pub const MAX_OBJECTS: u64 = 256;

/// The object types of RISC-V 64, in the order of their numbers
/// (MCS: SchedContext and Reply after CapTable, the frames and page
/// table two further on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectType {
    Untyped,
    Tcb,
    Endpoint,
    Notification,
    CapTable,
    /// MCS only.
    SchedContext,
    /// MCS only.
    Reply,
    GigaPage,
    SmallPage,
    MegaPage,
    PageTable,
}

impl ObjectType {
    pub fn from_word(w: u64) -> Option<ObjectType> {
        use ObjectType::*;
        let generic = [Untyped, Tcb, Endpoint, Notification, CapTable];
        let mcs = [SchedContext, Reply];
        let arch = [GigaPage, SmallPage, MegaPage, PageTable];
        let mcs: &[ObjectType] = if crate::MCS { &mcs } else { &[] };
        generic
            .iter()
            .chain(mcs)
            .chain(&arch)
            .nth(usize::try_from(w).ok()?)
            .copied()
    }

    /// Frames and untyped memory may come from device untypeds; kernel
    /// objects may not.
    fn allowed_in_device_memory(self) -> bool {
        matches!(
            self,
            ObjectType::Untyped
                | ObjectType::GigaPage
                | ObjectType::SmallPage
                | ObjectType::MegaPage
        )
    }
}

impl State {
    /// log2 of the size of an object of type `t` with user size `size`.
    fn object_bits(&self, t: ObjectType, size: u32) -> u32 {
        match t {
            ObjectType::Untyped => size,
            ObjectType::Tcb => self.tcb_bits,
            ObjectType::Endpoint => ENDPOINT_BITS,
            ObjectType::Notification => NOTIFICATION_BITS,
            ObjectType::CapTable => SLOT_BITS + size,
            ObjectType::GigaPage => 30,
            ObjectType::SmallPage => 12,
            ObjectType::MegaPage => 21,
            ObjectType::PageTable => PAGE_TABLE_BITS,
            ObjectType::SchedContext => size,
            ObjectType::Reply => crate::sched_context::REPLY_BITS,
        }
    }

    /// `seL4_Untyped_Retype` on the untyped cap in `slot`; `extra` is
    /// extra cap 0 (`None`: none sent; `Some(None)`: an empty slot).
    pub fn retype(
        &mut self,
        slot: SlotId,
        words: &[u64],
        extra: Option<Option<Cap>>,
    ) -> Result<(), SyscallError> {
        let Some(Cap::Untyped {
            obj: base,
            size_bits,
            device,
            watermark,
        }) = self.cap(slot)
        else {
            return Err(SyscallError::IllegalOperation);
        };
        let (Some(root), true) = (extra, words.len() >= 6) else {
            return Err(SyscallError::TruncatedMessage);
        };
        let w = |i: usize| words.get(i).copied().unwrap_or(0);
        let (ty, user_size, node_index, node_depth, offset, count) =
            (w(0), w(1), w(2), w(3), w(4), w(5));
        let ty = ObjectType::from_word(ty).ok_or(SyscallError::InvalidArgument { index: 0 })?;
        let size_error = SyscallError::RangeError {
            min: 0,
            max: MAX_UNTYPED_BITS as u64,
        };
        if user_size >= 64 {
            return Err(size_error);
        }
        let bits = self.object_bits(ty, user_size as u32);
        if bits > MAX_UNTYPED_BITS {
            return Err(size_error);
        }
        let too_small = match ty {
            ObjectType::CapTable => user_size == 0,
            ObjectType::Untyped => user_size < MIN_UNTYPED_BITS as u64,
            ObjectType::SchedContext => {
                user_size < crate::sched_context::MIN_SCHED_CONTEXT_BITS as u64
            }
            _ => false,
        };
        if too_small {
            return Err(SyscallError::InvalidArgument { index: 1 });
        }
        // The destination CNode: the root itself at depth 0, else the cap
        // at (index, depth) from it, which must be a CNode.
        let node = match (node_depth, root) {
            (0, r) => r,
            (_, Some(r)) => {
                let s = self.lookup_slot_for_cnode_op(false, &r, node_index, node_depth)?;
                self.cap(s)
            }
            (_, None) => {
                return Err(SyscallError::FailedLookup {
                    source: false,
                    fault: LookupFault::InvalidRoot,
                })
            }
        };
        let Some(Cap::CNode {
            obj: cnode, radix, ..
        }) = node
        else {
            return Err(SyscallError::FailedLookup {
                source: false,
                fault: LookupFault::MissingCapability {
                    bits_left: node_depth as u32,
                },
            });
        };
        let node_size = 1u64 << radix;
        if offset > node_size - 1 {
            return Err(SyscallError::RangeError {
                min: 0,
                max: node_size - 1,
            });
        }
        if !(1..=MAX_OBJECTS).contains(&count) {
            return Err(SyscallError::RangeError {
                min: 1,
                max: MAX_OBJECTS,
            });
        }
        if count > node_size - offset {
            return Err(SyscallError::RangeError {
                min: 1,
                max: node_size - offset,
            });
        }
        let dest = |i: u64| SlotId {
            obj: cnode,
            index: offset + i,
        };
        if (0..count).any(|i| self.cap(dest(i)).is_some()) {
            return Err(SyscallError::DeleteFirst);
        }
        // With no children the untyped is reused from its start.
        let has_children = self.entry(slot).is_some_and(|e| !e.children.is_empty());
        let used = if has_children { watermark } else { 0 };
        let free = (1u64 << size_bits) - used;
        if (free >> bits) < count {
            return Err(SyscallError::NotEnoughMemory { available: free });
        }
        if device && !ty.allowed_in_device_memory() {
            return Err(SyscallError::InvalidArgument { index: 1 });
        }
        // Allocate: aligned up from the watermark, one after the other.
        let first = (base + used).next_multiple_of(1 << bits);
        for i in 0..count {
            let obj = first + (i << bits);
            let cap = self.new_cap(ty, obj, user_size as u32, device);
            if let Some((o, kind)) = cap.object() {
                self.objects.insert(o, Object::new(kind));
            }
            // A new frame of memory (not of a device) is zeroed.
            if let Cap::Frame { device: false, .. } = cap {
                self.memory.zero(obj, 1 << bits);
            }
            self.insert_new(slot, dest(i), cap);
        }
        if let Some(e) = self.entry_mut(slot) {
            if let Cap::Untyped { watermark, .. } = &mut e.cap {
                *watermark = first + (count << bits) - base;
            }
        }
        Ok(())
    }

    /// The cap to a new object of type `t` at `obj`.
    fn new_cap(&self, t: ObjectType, obj: u64, size: u32, device: bool) -> Cap {
        let all = EpRights::from_word(0xF);
        let frame = |size_bits| Cap::Frame {
            obj,
            size_bits,
            rights: VmRights::ReadWrite,
            device,
            mapped: None,
        };
        match t {
            ObjectType::Untyped => Cap::Untyped {
                obj,
                size_bits: size,
                device,
                watermark: 0,
            },
            ObjectType::Tcb => Cap::Thread { obj },
            ObjectType::Endpoint => Cap::Endpoint {
                obj,
                badge: 0,
                rights: all,
            },
            ObjectType::Notification => Cap::Notification {
                obj,
                badge: 0,
                rights: EpRights {
                    grant: false,
                    grant_reply: false,
                    ..all
                },
            },
            ObjectType::CapTable => Cap::CNode {
                obj,
                radix: size,
                guard_size: 0,
                guard: 0,
            },
            ObjectType::GigaPage => frame(30),
            ObjectType::SmallPage => frame(12),
            ObjectType::MegaPage => frame(21),
            ObjectType::PageTable => Cap::PageTable { obj, mapped: None },
            ObjectType::SchedContext => Cap::SchedContext {
                obj,
                size_bits: size,
            },
            ObjectType::Reply => Cap::ReplyObject { obj, grant: true },
        }
    }
}
