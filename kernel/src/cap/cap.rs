//! The capability type and its two-word encoding.
//!
//! A capability is stored in a slot (CTE) as two words; this module is the
//! only place that knows the bit layout. Everywhere else the kernel works
//! with the [`Cap`] enum. The type tag values are seL4's (ABI ref §4), so
//! `seL4_DebugCapIdentify` reports [`Cap::tag`] directly. The rest of the
//! layout is Cairn's own (user space never sees it). `cap::words` reads
//! the few fields the fastpath needs in place, from the same layout.
//!
//! Layout (w0 bits 63..59 hold the tag in every case):
//!
//! | cap | w0 (below the tag) | w1 |
//! |---|---|---|
//! | Untyped | 58 device, 57..52 size_bits, 47..0 free_index/16 | ptr |
//! | Endpoint, Notification | 58..55 rights, 54..0 ptr | badge |
//! | Reply | 58 master, 57 can_grant, 54..0 tcb | 0 |
//! | CNode | 57..52 radix, 51..46 guard_size, 45..0 ptr | guard |
//! | Thread | 54..0 tcb | 0 |
//! | IrqHandler | 15..0 irq | 0 |
//! | Frame | 58..57 size, 56..55 rights, 54 device, 53 mapped, 15..0 asid | base>>12 << 32 \| vaddr>>12 |
//! | PageTable | 53 mapped, 15..0 asid | base>>12 << 32 \| vaddr>>12 |
//! | AsidPool | 15..0 asid_base | ptr |
//! | Zombie | 54..0 ptr | number of slots |
//! | SchedContext (MCS) | 5..0 size_bits | ptr |
//! | SchedControl (MCS) | 15..0 core | 0 |
//! | ReplyObject (MCS) | 57 can_grant, 56 set (1), 54..0 ptr | 0 |
//!
//! The MCS capability types exist in the MCS kernel, and in the classic
//! build's host tests too, so that their rules are tested in both host
//! runs (docs/mcs.md). A reply object's cap has
//! seL4's reply tag, like the classic reply cap; bit 56 tells them apart
//! while the MCS kernel still keeps the classic one for its classic Call
//! path (until MCS IPC replaces it; docs/mcs.md).

pub use crate::types::VmRights;
use crate::types::{PAddr, VSpaceWord};
use cairn_abi::cap::{tag, CapRights};

/// Frame sizes of Sv39 (ABI ref §11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameSize {
    /// 4 KiB.
    Small = 0,
    /// 2 MiB.
    Mega = 1,
    /// 1 GiB.
    Giga = 2,
}

impl FrameSize {
    /// log2 of the frame size in bytes.
    pub const fn bits(self) -> u32 {
        match self {
            FrameSize::Small => 12,
            FrameSize::Mega => 21,
            FrameSize::Giga => 30,
        }
    }
    pub(super) const fn from_bits2(v: u64) -> FrameSize {
        match v {
            1 => FrameSize::Mega,
            2 => FrameSize::Giga,
            _ => FrameSize::Small,
        }
    }
}

/// Where a frame or page table is mapped: ASID and virtual address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Address space identifier.
    pub asid: u16,
    /// Virtual address (page aligned).
    pub vaddr: u64,
}

/// A capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    /// The empty slot.
    Null,
    /// Untyped memory `[ptr, ptr + 2^size_bits)`; `free_index` bytes are used.
    Untyped {
        ptr: PAddr,
        size_bits: u8,
        free_index: u64,
        is_device: bool,
    },
    /// An endpoint with a badge and rights (Write = send, Read = receive).
    Endpoint {
        ptr: PAddr,
        badge: u64,
        rights: CapRights,
    },
    /// A notification with a badge and rights (Write = send, Read = receive).
    Notification {
        ptr: PAddr,
        badge: u64,
        rights: CapRights,
    },
    /// A reply capability to `tcb` (classic configuration).
    Reply {
        tcb: PAddr,
        master: bool,
        can_grant: bool,
    },
    /// A CNode of `2^radix` slots with a guard.
    CNode {
        ptr: PAddr,
        radix: u8,
        guard_size: u8,
        guard: u64,
    },
    /// A thread control block.
    Thread { tcb: PAddr },
    /// The authority to create IRQ handler caps.
    IrqControl,
    /// The authority over one interrupt line.
    IrqHandler { irq: u16 },
    /// An object whose deletion is in progress.
    Zombie { ptr: PAddr, number: u64 },
    /// The authority to set thread domains.
    Domain,
    /// A frame of physical memory.
    Frame {
        base: PAddr,
        size: FrameSize,
        rights: VmRights,
        is_device: bool,
        mapping: Option<Mapping>,
    },
    /// A page table (also a VSpace root once assigned an ASID).
    PageTable {
        base: PAddr,
        mapping: Option<Mapping>,
    },
    /// The authority to create ASID pools.
    AsidControl,
    /// A pool of 512 ASIDs starting at `asid_base`.
    AsidPool { ptr: PAddr, asid_base: u16 },
    /// MCS: a scheduling context of `2^size_bits` bytes (its header and
    /// refill array; the size is the creator's choice).
    #[cfg(any(feature = "mcs", test))]
    SchedContext { ptr: PAddr, size_bits: u8 },
    /// MCS: the authority to configure scheduling contexts on `core`.
    #[cfg(any(feature = "mcs", test))]
    SchedControl { core: u16 },
    /// MCS: a reply object (seL4's MCS `cap_reply_cap`: the object, and
    /// whether a reply through it may grant).
    #[cfg(any(feature = "mcs", test))]
    ReplyObject { ptr: PAddr, can_grant: bool },
}

/// The MCS capability tags: seL4 16.0.0's, from the ABI in the MCS build
/// and the same numbers in the classic build's host tests (whose ABI has
/// no MCS values).
#[cfg(any(feature = "mcs", test))]
pub(crate) mod mcs_tag {
    #[cfg(feature = "mcs")]
    pub use cairn_abi::cap::tag::{SCHED_CONTEXT, SCHED_CONTROL};
    #[cfg(not(feature = "mcs"))]
    pub const SCHED_CONTEXT: u64 = 22;
    #[cfg(not(feature = "mcs"))]
    pub const SCHED_CONTROL: u64 = 24;
}

/// `seL4_ReplyBits`: the ABI's in the MCS build, the same number in the
/// classic build's host tests.
#[cfg(feature = "mcs")]
pub use cairn_abi::object::REPLY_BITS;
#[cfg(all(test, not(feature = "mcs")))]
pub const REPLY_BITS: u32 = 5;

pub(super) const PTR_MASK: u64 = (1 << 55) - 1;
/// Set in a reply-tagged cap that names an MCS reply object.
#[cfg(any(feature = "mcs", test))]
pub(super) const REPLY_OBJECT_BIT: u32 = 56;
pub(super) const fn bit(w: u64, n: u32) -> bool {
    (w >> n) & 1 != 0
}
pub(super) const fn field(w: u64, lo: u32, bits: u32) -> u64 {
    (w >> lo) & ((1 << bits) - 1)
}

impl Cap {
    /// seL4's type tag (ABI ref §4).
    pub const fn tag(&self) -> u64 {
        match self {
            Cap::Null => tag::NULL,
            Cap::Untyped { .. } => tag::UNTYPED,
            Cap::Endpoint { .. } => tag::ENDPOINT,
            Cap::Notification { .. } => tag::NOTIFICATION,
            Cap::Reply { .. } => tag::REPLY,
            Cap::CNode { .. } => tag::CNODE,
            Cap::Thread { .. } => tag::THREAD,
            Cap::IrqControl => tag::IRQ_CONTROL,
            Cap::IrqHandler { .. } => tag::IRQ_HANDLER,
            Cap::Zombie { .. } => tag::ZOMBIE,
            Cap::Domain => tag::DOMAIN,
            Cap::Frame { .. } => tag::FRAME,
            Cap::PageTable { .. } => tag::PAGE_TABLE,
            Cap::AsidControl => tag::ASID_CONTROL,
            Cap::AsidPool { .. } => tag::ASID_POOL,
            #[cfg(any(feature = "mcs", test))]
            Cap::SchedContext { .. } => mcs_tag::SCHED_CONTEXT,
            #[cfg(any(feature = "mcs", test))]
            Cap::SchedControl { .. } => mcs_tag::SCHED_CONTROL,
            #[cfg(any(feature = "mcs", test))]
            Cap::ReplyObject { .. } => tag::REPLY,
        }
    }

    pub const fn is_null(&self) -> bool {
        matches!(self, Cap::Null)
    }

    /// The badge of an endpoint or notification capability; `None` for
    /// every other type (they carry none).
    pub const fn badge(&self) -> Option<u64> {
        match *self {
            Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } => Some(badge),
            _ => None,
        }
    }

    /// The two-word encoding.
    pub fn encode(&self) -> [u64; 2] {
        let t = self.tag() << 59;
        let va_pair = |base: PAddr, m: &Option<Mapping>| -> (u64, u64) {
            let (mapped, asid, vaddr) = match m {
                Some(m) => (1u64, m.asid as u64, m.vaddr),
                None => (0, 0, 0),
            };
            (
                (mapped << 53) | asid,
                ((base.0 >> 12) << 32) | ((vaddr >> 12) & 0xFFFF_FFFF),
            )
        };
        match *self {
            Cap::Null | Cap::IrqControl | Cap::Domain | Cap::AsidControl => [t, 0],
            Cap::Untyped {
                ptr,
                size_bits,
                free_index,
                is_device,
            } => [
                t | ((is_device as u64) << 58)
                    | (((size_bits as u64) & 0x3F) << 52)
                    | ((free_index >> 4) & ((1 << 48) - 1)),
                ptr.0,
            ],
            Cap::Endpoint { ptr, badge, rights } | Cap::Notification { ptr, badge, rights } => {
                [t | ((rights.0 & 0xF) << 55) | (ptr.0 & PTR_MASK), badge]
            }
            Cap::Reply {
                tcb,
                master,
                can_grant,
            } => [
                t | ((master as u64) << 58) | ((can_grant as u64) << 57) | (tcb.0 & PTR_MASK),
                0,
            ],
            Cap::CNode {
                ptr,
                radix,
                guard_size,
                guard,
            } => [
                t | (((radix as u64) & 0x3F) << 52)
                    | (((guard_size as u64) & 0x3F) << 46)
                    | (ptr.0 & ((1 << 46) - 1)),
                guard,
            ],
            Cap::Thread { tcb } => [t | (tcb.0 & PTR_MASK), 0],
            Cap::IrqHandler { irq } => [t | irq as u64, 0],
            Cap::Zombie { ptr, number } => [t | (ptr.0 & PTR_MASK), number],
            Cap::Frame {
                base,
                size,
                rights,
                is_device,
                mapping,
            } => {
                let (lo, w1) = va_pair(base, &mapping);
                [
                    t | ((size as u64) << 57)
                        | ((rights as u64) << 55)
                        | ((is_device as u64) << 54)
                        | lo,
                    w1,
                ]
            }
            Cap::PageTable { base, mapping } => {
                let (lo, w1) = va_pair(base, &mapping);
                [t | lo, w1]
            }
            Cap::AsidPool { ptr, asid_base } => [t | asid_base as u64, ptr.0],
            #[cfg(any(feature = "mcs", test))]
            Cap::SchedContext { ptr, size_bits } => [t | ((size_bits as u64) & 0x3F), ptr.0],
            #[cfg(any(feature = "mcs", test))]
            Cap::SchedControl { core } => [t | core as u64, 0],
            #[cfg(any(feature = "mcs", test))]
            Cap::ReplyObject { ptr, can_grant } => [
                t | ((can_grant as u64) << 57) | (1 << REPLY_OBJECT_BIT) | (ptr.0 & PTR_MASK),
                0,
            ],
        }
    }

    /// The root and ASID of an assigned VSpace, i.e. what [`Cap::decode`]
    /// gives as `PageTable { base, mapping: Some(m) }` → `(base, m.asid)`,
    /// read straight from the two words: the address-space switch asks
    /// this at every thread switch, and a whole decode cost it most of
    /// its instructions.
    #[inline]
    pub fn assigned_vspace(w: [u64; 2]) -> Option<(PAddr, u16)> {
        let [w0, w1] = w;
        // Tag and mapped bit in one comparison: a page table cap's bits
        // 54..58 are always 0 (`encode`), so only a mapped one matches.
        (w0 >> 53 == (tag::PAGE_TABLE << 6 | 1))
            .then_some((PAddr((w1 >> 32) << 12), (w0 & 0xFFFF) as u16))
    }

    /// [`Cap::assigned_vspace`] as a [`VSpaceWord`], in three
    /// instructions: the ASID is the low 16 bits of `w0` and bits 16..52
    /// are 0 (`encode`), so `w0 << 44` is the ASID in place; `w1 >> 32` is
    /// the root's page number.
    #[inline]
    pub fn assigned_vspace_word(w: [u64; 2]) -> Option<VSpaceWord> {
        let [w0, w1] = w;
        (w0 >> 53 == (tag::PAGE_TABLE << 6 | 1)).then_some(VSpaceWord((w0 << 44) | (w1 >> 32)))
    }

    /// Decodes two words written by [`Cap::encode`]. Words with an unknown
    /// tag decode as `Null` (they cannot occur in a kernel-written slot).
    pub fn decode(w: [u64; 2]) -> Cap {
        Cap::decode_inline(w)
    }

    /// [`Cap::decode`], always inlined: where the decoded capability is
    /// matched at once (the invocation dispatch), the match becomes one
    /// on the tag and only the fields of the arm taken are read.
    #[inline(always)]
    pub fn decode_inline(w: [u64; 2]) -> Cap {
        let [w0, w1] = w;
        let mapping = |w0: u64, w1: u64| -> Option<Mapping> {
            if bit(w0, 53) {
                Some(Mapping {
                    asid: (w0 & 0xFFFF) as u16,
                    vaddr: (w1 & 0xFFFF_FFFF) << 12,
                })
            } else {
                None
            }
        };
        let base = PAddr((w1 >> 32) << 12);
        match w0 >> 59 {
            tag::UNTYPED => Cap::Untyped {
                ptr: PAddr(w1),
                size_bits: field(w0, 52, 6) as u8,
                free_index: field(w0, 0, 48) << 4,
                is_device: bit(w0, 58),
            },
            tag::ENDPOINT => Cap::Endpoint {
                ptr: PAddr(w0 & PTR_MASK),
                badge: w1,
                rights: CapRights(field(w0, 55, 4)),
            },
            tag::NOTIFICATION => Cap::Notification {
                ptr: PAddr(w0 & PTR_MASK),
                badge: w1,
                rights: CapRights(field(w0, 55, 4)),
            },
            #[cfg(any(feature = "mcs", test))]
            tag::REPLY if bit(w0, REPLY_OBJECT_BIT) => Cap::ReplyObject {
                ptr: PAddr(w0 & PTR_MASK),
                can_grant: bit(w0, 57),
            },
            tag::REPLY => Cap::Reply {
                tcb: PAddr(w0 & PTR_MASK),
                master: bit(w0, 58),
                can_grant: bit(w0, 57),
            },
            tag::CNODE => Cap::CNode {
                ptr: PAddr(field(w0, 0, 46)),
                radix: field(w0, 52, 6) as u8,
                guard_size: field(w0, 46, 6) as u8,
                guard: w1,
            },
            tag::THREAD => Cap::Thread {
                tcb: PAddr(w0 & PTR_MASK),
            },
            tag::IRQ_CONTROL => Cap::IrqControl,
            tag::IRQ_HANDLER => Cap::IrqHandler {
                irq: (w0 & 0xFFFF) as u16,
            },
            tag::ZOMBIE => Cap::Zombie {
                ptr: PAddr(w0 & PTR_MASK),
                number: w1,
            },
            tag::DOMAIN => Cap::Domain,
            tag::FRAME => Cap::Frame {
                base,
                size: FrameSize::from_bits2(field(w0, 57, 2)),
                rights: VmRights::from_bits2(field(w0, 55, 2)),
                is_device: bit(w0, 54),
                mapping: mapping(w0, w1),
            },
            tag::PAGE_TABLE => Cap::PageTable {
                base,
                mapping: mapping(w0, w1),
            },
            tag::ASID_CONTROL => Cap::AsidControl,
            tag::ASID_POOL => Cap::AsidPool {
                ptr: PAddr(w1),
                asid_base: (w0 & 0xFFFF) as u16,
            },
            #[cfg(any(feature = "mcs", test))]
            mcs_tag::SCHED_CONTEXT => Cap::SchedContext {
                ptr: PAddr(w1),
                size_bits: field(w0, 0, 6) as u8,
            },
            #[cfg(any(feature = "mcs", test))]
            mcs_tag::SCHED_CONTROL => Cap::SchedControl {
                core: (w0 & 0xFFFF) as u16,
            },
            _ => Cap::Null,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every capability type with random fields, as the kernel writes them.
    pub(crate) fn caps() -> impl Strategy<Value = Cap> {
        // Physical addresses below 2^39 (Sv39's PADDR_TOP), aligned as objects are.
        let pa = |align: u32| (0u64..(1 << 39) >> align).prop_map(move |x| PAddr(x << align));
        let mapping =
            proptest::option::of((any::<u16>(), 0u64..(1 << 38) >> 12).prop_map(|(asid, v)| {
                Mapping {
                    asid,
                    vaddr: v << 12,
                }
            }));
        let size = prop_oneof![
            Just(FrameSize::Small),
            Just(FrameSize::Mega),
            Just(FrameSize::Giga)
        ];
        let vmr = prop_oneof![
            Just(VmRights::KernelOnly),
            Just(VmRights::ReadOnly),
            Just(VmRights::ReadWrite)
        ];
        prop_oneof![
            Just(Cap::Null),
            Just(Cap::IrqControl),
            Just(Cap::Domain),
            Just(Cap::AsidControl),
            (pa(4), 4u8..=38, any::<bool>(), any::<u64>()).prop_map(
                |(ptr, size_bits, is_device, f)| {
                    let free_index = (f % ((1u64 << size_bits) + 1)) & !0xF;
                    Cap::Untyped {
                        ptr,
                        size_bits,
                        free_index,
                        is_device,
                    }
                }
            ),
            (pa(4), any::<u64>(), 0u64..16).prop_map(|(ptr, badge, r)| Cap::Endpoint {
                ptr,
                badge,
                rights: CapRights(r)
            }),
            (pa(5), any::<u64>(), 0u64..16).prop_map(|(ptr, badge, r)| Cap::Notification {
                ptr,
                badge,
                rights: CapRights(r)
            }),
            (pa(10), any::<bool>(), any::<bool>()).prop_map(|(tcb, master, can_grant)| {
                Cap::Reply {
                    tcb,
                    master,
                    can_grant,
                }
            }),
            (pa(5), 1u8..=63, 0u8..=63, any::<u64>()).prop_map(
                |(ptr, radix, guard_size, guard)| Cap::CNode {
                    ptr,
                    radix,
                    guard_size,
                    guard
                }
            ),
            pa(10).prop_map(|tcb| Cap::Thread { tcb }),
            any::<u16>().prop_map(|irq| Cap::IrqHandler { irq }),
            (pa(5), any::<u64>()).prop_map(|(ptr, number)| Cap::Zombie { ptr, number }),
            (pa(12), size, vmr, any::<bool>(), mapping.clone()).prop_map(
                |(base, size, rights, is_device, mapping)| Cap::Frame {
                    base,
                    size,
                    rights,
                    is_device,
                    mapping
                }
            ),
            (pa(12), mapping).prop_map(|(base, mapping)| Cap::PageTable { base, mapping }),
            (pa(12), any::<u16>()).prop_map(|(ptr, asid_base)| Cap::AsidPool { ptr, asid_base }),
            (8u32..=38)
                .prop_flat_map(move |b| (pa(b), Just(b as u8)))
                .prop_map(|(ptr, size_bits)| Cap::SchedContext { ptr, size_bits }),
            any::<u16>().prop_map(|core| Cap::SchedControl { core }),
            (pa(5), any::<bool>()).prop_map(|(ptr, can_grant)| Cap::ReplyObject { ptr, can_grant }),
        ]
    }

    proptest! {
        #[test]
        fn encoding_round_trips(cap in caps()) {
            prop_assert_eq!(Cap::decode(cap.encode()), cap);
            prop_assert_eq!(cap.encode()[0] >> 59, cap.tag());
        }

        #[test]
        fn assigned_vspace_agrees_with_decode(cap in caps()) {
            let want = match cap {
                Cap::PageTable { base, mapping: Some(m) } => Some((base, m.asid)),
                _ => None,
            };
            prop_assert_eq!(Cap::assigned_vspace(cap.encode()), want);
            prop_assert_eq!(
                Cap::assigned_vspace_word(cap.encode()),
                want.map(|(root, asid)| VSpaceWord::new(root, asid))
            );
        }
    }

    #[test]
    fn null_is_all_zero() {
        assert_eq!(Cap::Null.encode(), [0, 0]);
        assert_eq!(Cap::decode([0, 0]), Cap::Null);
    }

    #[test]
    fn unknown_tags_decode_as_null() {
        assert_eq!(Cap::decode([5 << 59, 7]), Cap::Null);
        assert_eq!(Cap::decode([31 << 59, 7]), Cap::Null);
    }

    #[test]
    fn mcs_caps_carry_sel4s_tags() {
        let sc = Cap::SchedContext {
            ptr: PAddr(0x8040_0000),
            size_bits: 10,
        };
        assert_eq!(sc.encode(), [(22 << 59) | 10, 0x8040_0000]);
        assert_eq!(Cap::SchedControl { core: 3 }.encode(), [(24 << 59) | 3, 0]);
    }
}
