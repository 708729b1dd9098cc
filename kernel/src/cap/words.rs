//! A capability read in place from its two words, without decoding the
//! whole [`Cap`](super::Cap): the fastpath's view of the few capabilities
//! it looks at (seL4's fastpath reads `cap_t` fields the same way). The
//! layout is `cap::cap`'s (its table); each accessor answers `None` for
//! any other type, and the tests check every one against `Cap::decode`.

use super::cap::{bit, field, FrameSize, Mapping, PTR_MASK};
use crate::types::{PAddr, VmRights};
use cairn_abi::cap::{tag, CapRights};

/// A capability's two words, as a slot holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapWords(pub [u64; 2]);

impl CapWords {
    /// seL4's type tag.
    #[inline]
    pub const fn tag(self) -> u64 {
        self.0[0] >> 59
    }

    /// Whether the slot is empty (the kernel writes no unknown tags, which
    /// `Cap::decode` would also call null).
    #[inline]
    pub const fn is_null(self) -> bool {
        self.tag() == tag::NULL
    }

    /// An endpoint capability's object, badge and rights.
    #[inline]
    pub fn endpoint(self) -> Option<(PAddr, u64, CapRights)> {
        let [w0, w1] = self.0;
        (self.tag() == tag::ENDPOINT)
            .then(|| (PAddr(w0 & PTR_MASK), w1, CapRights(field(w0, 55, 4))))
    }

    /// A CNode capability's object, radix, guard size and guard.
    #[inline]
    pub fn cnode(self) -> Option<(PAddr, u32, u32, u64)> {
        let [w0, w1] = self.0;
        (self.tag() == tag::CNODE).then(|| {
            (
                PAddr(field(w0, 0, 46)),
                field(w0, 52, 6) as u32,
                field(w0, 46, 6) as u32,
                w1,
            )
        })
    }

    /// A (classic) reply capability's thread, whether it is the master
    /// one, and whether it can grant.
    #[inline]
    pub fn reply(self) -> Option<(PAddr, bool, bool)> {
        let w0 = self.0[0];
        // An MCS reply object's cap shares the tag (only the MCS build
        // and the host tests have one).
        #[cfg(any(feature = "mcs", test))]
        if bit(w0, super::cap::REPLY_OBJECT_BIT) {
            return None;
        }
        (self.tag() == tag::REPLY).then(|| (PAddr(w0 & PTR_MASK), bit(w0, 58), bit(w0, 57)))
    }

    /// An MCS reply object's capability: the object (the MCS fastpath's
    /// ReplyRecv reads it from the reply register's slot).
    #[cfg(any(feature = "mcs", test))]
    #[inline]
    pub fn reply_object(self) -> Option<PAddr> {
        let w0 = self.0[0];
        (self.tag() == tag::REPLY && bit(w0, super::cap::REPLY_OBJECT_BIT))
            .then_some(PAddr(w0 & PTR_MASK))
    }

    /// A frame capability's base, size (log2 of its bytes), VM rights and
    /// whether it is device memory: what finding a thread's IPC buffer
    /// asks at every invocation and IPC.
    #[inline]
    pub fn frame(self) -> Option<(PAddr, u32, VmRights, bool)> {
        let [w0, w1] = self.0;
        (self.tag() == tag::FRAME).then(|| {
            (
                PAddr((w1 >> 32) << 12),
                FrameSize::from_bits2(field(w0, 57, 2)).bits(),
                VmRights::from_bits2(field(w0, 55, 2)),
                bit(w0, 54),
            )
        })
    }

    /// Where a frame or page-table capability is mapped (its ASID and
    /// virtual address); `None` when it is not, or for any other
    /// capability. `Page_Map` reads the invoked frame's and the VSpace's
    /// this way.
    #[inline]
    pub fn mapping(self) -> Option<Mapping> {
        let [w0, w1] = self.0;
        let tag = self.tag();
        ((tag == tag::FRAME || tag == tag::PAGE_TABLE) && bit(w0, 53)).then_some(Mapping {
            asid: (w0 & 0xFFFF) as u16,
            vaddr: (w1 & 0xFFFF_FFFF) << 12,
        })
    }

    /// A page-table capability's table and mapping.
    #[inline]
    pub fn page_table(self) -> Option<(PAddr, Option<Mapping>)> {
        (self.tag() == tag::PAGE_TABLE).then(|| (PAddr((self.0[1] >> 32) << 12), self.mapping()))
    }

    /// An untyped capability's object and size (log2 of its bytes).
    #[inline]
    pub fn untyped(self) -> Option<(PAddr, u32)> {
        let [w0, w1] = self.0;
        (self.tag() == tag::UNTYPED).then(|| (PAddr(w1), field(w0, 52, 6) as u32))
    }

    /// This untyped capability with its free index (in bytes, a multiple
    /// of 16 within the untyped) set to `free_index`; any other
    /// capability unchanged. A Retype moves the watermark this way,
    /// without decoding and encoding the whole capability.
    #[inline]
    pub fn with_free_index(self, free_index: u64) -> CapWords {
        let [w0, w1] = self.0;
        if self.tag() != tag::UNTYPED {
            return self;
        }
        let mask = (1u64 << 48) - 1;
        CapWords([(w0 & !mask) | ((free_index >> 4) & mask), w1])
    }

    /// This frame capability recorded as mapped at `vaddr` in `asid`
    /// (`Cap::Frame` with `mapping: Some(..)` encoded); any other
    /// capability unchanged. `Page_Map` updates the mapping fields of the
    /// invoked cap this way instead of decoding and re-encoding it.
    #[inline]
    pub fn with_mapping(self, asid: u16, vaddr: u64) -> CapWords {
        let [w0, w1] = self.0;
        if self.tag() != tag::FRAME {
            return self;
        }
        CapWords([
            (w0 & !((1u64 << 54) - 1)) | (1 << 53) | asid as u64,
            (w1 & !0xFFFF_FFFF) | ((vaddr >> 12) & 0xFFFF_FFFF),
        ])
    }

    /// The original capability to a new, unmapped frame at `base`
    /// (`Cap::Frame` with read-write rights and no mapping, encoded): what
    /// a Retype into frames writes into each destination slot, without
    /// going through the generic encoder.
    #[inline]
    pub const fn new_frame(base: PAddr, size: FrameSize, is_device: bool) -> CapWords {
        CapWords([
            (tag::FRAME << 59)
                | ((size as u64) << 57)
                | ((VmRights::ReadWrite as u64) << 55)
                | ((is_device as u64) << 54),
            (base.0 >> 12) << 32,
        ])
    }

    /// The non-master reply capability to `tcb` (`Cap::Reply` encoded).
    /// A TCB's physical address fits the pointer field (RAM lies far below
    /// 2^55), so it is not masked (one instruction on the fastpath).
    #[inline]
    pub const fn new_reply(tcb: PAddr, can_grant: bool) -> CapWords {
        debug_assert!(tcb.0 & !PTR_MASK == 0);
        CapWords([(tag::REPLY << 59) | ((can_grant as u64) << 57) | tcb.0, 0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cap::cap::tests::caps;
    use crate::cap::{Cap, Mapping};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_accessor_agrees_with_decode(cap in caps()) {
            let w = CapWords(cap.encode());
            prop_assert_eq!(w.tag(), cap.tag());
            prop_assert_eq!(w.is_null(), cap.is_null());
            let ep = match cap {
                Cap::Endpoint { ptr, badge, rights } => Some((ptr, badge, rights)),
                _ => None,
            };
            prop_assert_eq!(w.endpoint(), ep);
            let cn = match cap {
                Cap::CNode { ptr, radix, guard_size, guard } => {
                    Some((ptr, radix as u32, guard_size as u32, guard))
                }
                _ => None,
            };
            prop_assert_eq!(w.cnode(), cn);
            let reply = match cap {
                Cap::Reply { tcb, master, can_grant } => Some((tcb, master, can_grant)),
                _ => None,
            };
            prop_assert_eq!(w.reply(), reply);
            let reply_object = match cap {
                Cap::ReplyObject { ptr, .. } => Some(ptr),
                _ => None,
            };
            prop_assert_eq!(w.reply_object(), reply_object);
            let frame = match cap {
                Cap::Frame { base, size, rights, is_device, .. } => {
                    Some((base, size.bits(), rights, is_device))
                }
                _ => None,
            };
            prop_assert_eq!(w.frame(), frame);
            let mapping = match cap {
                Cap::Frame { mapping, .. } | Cap::PageTable { mapping, .. } => mapping,
                _ => None,
            };
            prop_assert_eq!(w.mapping(), mapping);
            let table = match cap {
                Cap::PageTable { base, mapping } => Some((base, mapping)),
                _ => None,
            };
            prop_assert_eq!(w.page_table(), table);
            let untyped = match cap {
                Cap::Untyped { ptr, size_bits, .. } => Some((ptr, size_bits as u32)),
                _ => None,
            };
            prop_assert_eq!(w.untyped(), untyped);
            // Every free index the kernel writes, as `encode` would.
            let moved = match cap {
                Cap::Untyped { ptr, size_bits, is_device, free_index } => {
                    let to = (free_index / 2) & !0xF;
                    prop_assert_eq!(
                        w.with_free_index(to),
                        CapWords(Cap::Untyped { ptr, size_bits, is_device, free_index: to }.encode())
                    );
                    true
                }
                _ => false,
            };
            if !moved {
                prop_assert_eq!(w.with_free_index(0x40), w);
            }
            // Every mapping `Page_Map` records, as `encode` would.
            match cap {
                Cap::Frame { base, size, rights, is_device, mapping } => {
                    let m = Mapping {
                        asid: mapping.map_or(7, |m| m.asid ^ 0x5A5A),
                        vaddr: (base.0 ^ 0x7F_FFFF_F000) & 0x3F_FFFF_F000,
                    };
                    let mapped = Cap::Frame { base, size, rights, is_device, mapping: Some(m) };
                    prop_assert_eq!(w.with_mapping(m.asid, m.vaddr), CapWords(mapped.encode()));
                }
                _ => prop_assert_eq!(w.with_mapping(3, 0x1000), w),
            }
            if let Cap::Frame { base, size, is_device, .. } = cap {
                let new = Cap::Frame { base, size, rights: VmRights::ReadWrite, is_device, mapping: None };
                prop_assert_eq!(CapWords::new_frame(base, size, is_device), CapWords(new.encode()));
            }
            if let Cap::Reply { tcb, master: false, can_grant } = cap {
                prop_assert_eq!(CapWords::new_reply(tcb, can_grant), w);
            }
        }
    }
}
