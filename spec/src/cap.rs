//! Capabilities (manual §2.1, §3.1) and what derivation does to them:
//! rights masking (§3.1.3 *Capability Rights*), badges and guards
//! (§4.2.1 *Endpoint Badges*, §3.3.1 *CNode Guards*), and the rules of the
//! derivation tree (§3.1.4 *Capability Derivation Tree*).

/// An object's identity (Cairn uses its physical address).
pub type ObjId = u64;

/// Endpoint and notification rights (§3.1.3): a notification has only
/// `write` (Signal) and `read` (Wait); `grant`/`grant_reply` are ignored
/// for it and kept `false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EpRights {
    pub write: bool,
    pub read: bool,
    pub grant: bool,
    pub grant_reply: bool,
}

impl EpRights {
    /// From a `seL4_CapRights_t` word: bit 0 write, 1 read, 2 grant,
    /// 3 grant-reply.
    pub fn from_word(w: u64) -> EpRights {
        EpRights {
            write: w & 1 != 0,
            read: w & 2 != 0,
            grant: w & 4 != 0,
            grant_reply: w & 8 != 0,
        }
    }
    fn and(self, m: EpRights) -> EpRights {
        EpRights {
            write: self.write && m.write,
            read: self.read && m.read,
            grant: self.grant && m.grant,
            grant_reply: self.grant_reply && m.grant_reply,
        }
    }
    /// All four rights (CancelBadgedSends needs them, §4.2.1).
    pub fn all(self) -> bool {
        self.write && self.read && self.grant && self.grant_reply
    }
}

/// Frame rights (§7.1.3): a frame cap's rights are one of three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum VmRights {
    KernelOnly,
    ReadOnly,
    ReadWrite,
}

/// An abstract capability: which object, and the cap's own data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cap {
    /// Untyped memory `[obj, obj + 2^size_bits)`; `watermark` bytes from
    /// the start are allocated (§2.4).
    Untyped {
        obj: ObjId,
        size_bits: u32,
        device: bool,
        watermark: u64,
    },
    Endpoint {
        obj: ObjId,
        badge: u64,
        rights: EpRights,
    },
    Notification {
        obj: ObjId,
        badge: u64,
        rights: EpRights,
    },
    /// A reply capability to thread `tcb` (the master one lives in the TCB).
    Reply {
        tcb: ObjId,
        master: bool,
        grant: bool,
    },
    /// A CNode of `2^radix` slots with a guard of `guard_size` bits.
    CNode {
        obj: ObjId,
        radix: u32,
        guard_size: u32,
        guard: u64,
    },
    Thread {
        obj: ObjId,
    },
    IrqControl,
    IrqHandler {
        irq: u64,
    },
    Domain,
    /// A frame; `mapped` is (ASID, virtual address).
    Frame {
        obj: ObjId,
        size_bits: u32,
        rights: VmRights,
        device: bool,
        mapped: Option<(u64, u64)>,
    },
    PageTable {
        obj: ObjId,
        mapped: Option<(u64, u64)>,
    },
    AsidControl,
    AsidPool {
        obj: ObjId,
        base: u64,
    },
    /// MCS: a scheduling context of `2^size_bits` bytes (`crate::sched_context`).
    SchedContext {
        obj: ObjId,
        size_bits: u32,
    },
    /// MCS: the authority to configure scheduling contexts.
    SchedControl,
    /// MCS: a reply object (`crate::sched_context`); Grant its only right.
    ReplyObject {
        obj: ObjId,
        grant: bool,
    },
    /// The remains of a CNode or TCB whose last cap was deleted while
    /// another object was being destroyed: it sits in the object's own
    /// first slot until a Revoke or Delete reaches it (see
    /// [`crate::delete`]). `count`: the object's slots not yet emptied
    /// (slots `0..count`; seL4's zombie number).
    Zombie {
        obj: ObjId,
        kind: Kind,
        count: u64,
    },
}

/// What kind of object a capability names, and its size where the type
/// does not fix it; `None` for caps that name no object of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    CNode {
        radix: u32,
    },
    Tcb,
    Endpoint,
    Notification,
    Frame {
        size_bits: u32,
        device: bool,
    },
    PageTable,
    AsidPool,
    /// MCS objects.
    SchedContext {
        size_bits: u32,
    },
    Reply,
}

impl Cap {
    /// The object a capability names and its kind (untyped memory is not
    /// an object: its caps are final and finalising them does nothing).
    pub fn object(&self) -> Option<(ObjId, Kind)> {
        Some(match *self {
            Cap::CNode { obj, radix, .. } => (obj, Kind::CNode { radix }),
            Cap::Thread { obj } => (obj, Kind::Tcb),
            Cap::Endpoint { obj, .. } => (obj, Kind::Endpoint),
            Cap::Notification { obj, .. } => (obj, Kind::Notification),
            Cap::Frame {
                obj,
                size_bits,
                device,
                ..
            } => (obj, Kind::Frame { size_bits, device }),
            Cap::PageTable { obj, .. } => (obj, Kind::PageTable),
            Cap::AsidPool { obj, .. } => (obj, Kind::AsidPool),
            Cap::SchedContext { obj, size_bits } => (obj, Kind::SchedContext { size_bits }),
            Cap::ReplyObject { obj, .. } => (obj, Kind::Reply),
            Cap::Zombie { obj, kind, .. } => (obj, kind),
            _ => return None,
        })
    }

    /// The badge of an endpoint or notification cap.
    pub fn badge(&self) -> Option<u64> {
        match *self {
            Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } => Some(badge),
            _ => None,
        }
    }
}

/// Rights masking (§3.1.3, `seL4_CNode_Copy`/`Mint`): the new cap has the
/// intersection of the source's rights and the mask; caps without rights
/// are unchanged. A frame keeps ReadWrite only with read and write in the
/// mask, ReadOnly with read, else it becomes KernelOnly; a reply cap keeps
/// grant only with grant.
pub fn mask_rights(mask: u64, cap: Cap) -> Cap {
    let m = EpRights::from_word(mask);
    match cap {
        Cap::Endpoint { obj, badge, rights } => Cap::Endpoint {
            obj,
            badge,
            rights: rights.and(m),
        },
        Cap::Notification { obj, badge, rights } => Cap::Notification {
            obj,
            badge,
            rights: EpRights {
                write: rights.write && m.write,
                read: rights.read && m.read,
                grant: false,
                grant_reply: false,
            },
        },
        Cap::Reply { tcb, master, grant } => Cap::Reply {
            tcb,
            master,
            grant: grant && m.grant,
        },
        Cap::ReplyObject { obj, grant } => Cap::ReplyObject {
            obj,
            grant: grant && m.grant,
        },
        Cap::Frame {
            obj,
            size_bits,
            rights,
            device,
            mapped,
        } => {
            let rights = match rights {
                VmRights::ReadWrite if m.read && m.write => VmRights::ReadWrite,
                VmRights::ReadWrite | VmRights::ReadOnly if m.read => VmRights::ReadOnly,
                _ => VmRights::KernelOnly,
            };
            Cap::Frame {
                obj,
                size_bits,
                rights,
                device,
                mapped,
            }
        }
        other => other,
    }
}

/// The guard-size field of a CNode's cap data (`seL4_CNode_CapData`):
/// bits 5..0 the guard size, the guard above.
const GUARD_SIZE_BITS: u32 = 6;

/// Changing a cap's data (Mint's badge or guard, Mutate's and Rotate's
/// data; manual §3.1.2, §3.3.1, §4.2.1). `None` is the null cap: a badge
/// can be set only on an unbadged endpoint or notification and never by
/// Mutate/Rotate (`preserve`); a CNode guard must fit in the word with the
/// radix. Other caps are unchanged.
pub fn update_data(preserve: bool, data: u64, cap: Cap) -> Option<Cap> {
    match cap {
        Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } => {
            if preserve || badge != 0 {
                return None;
            }
            Some(match cap {
                Cap::Endpoint { obj, rights, .. } => Cap::Endpoint {
                    obj,
                    badge: data,
                    rights,
                },
                Cap::Notification { obj, rights, .. } => Cap::Notification {
                    obj,
                    badge: data,
                    rights,
                },
                other => other,
            })
        }
        Cap::CNode { obj, radix, .. } => {
            let guard_size = (data & ((1 << GUARD_SIZE_BITS) - 1)) as u32;
            if guard_size + radix > 64 {
                return None;
            }
            let mask = if guard_size == 64 {
                u64::MAX
            } else {
                (1u64 << guard_size) - 1
            };
            Some(Cap::CNode {
                obj,
                radix,
                guard_size,
                guard: (data >> GUARD_SIZE_BITS) & mask,
            })
        }
        other => Some(other),
    }
}

/// Whether two caps name the same kernel object, so that deleting one is
/// not deleting the last (§3.1.5 "the last capability to an object").
/// Untyped caps and IrqControl never count as the same object.
pub fn same_object(a: &Cap, b: &Cap) -> bool {
    match (a, b) {
        (Cap::Untyped { .. } | Cap::IrqControl | Cap::Zombie { .. }, _) => false,
        (_, Cap::Zombie { .. }) => false,
        (Cap::Reply { tcb: x, .. }, Cap::Reply { tcb: y, .. }) => x == y,
        (Cap::IrqHandler { irq: x }, Cap::IrqHandler { irq: y }) => x == y,
        (Cap::Domain, Cap::Domain)
        | (Cap::AsidControl, Cap::AsidControl)
        | (Cap::SchedControl, Cap::SchedControl) => true,
        _ => matches!((a.object(), b.object()), (Some(x), Some(y)) if x == y),
    }
}

/// Whether a cap derived from `src` starts a new derivation subtree of its
/// own (seL4 calls such a cap *original*, or revocable): an untyped cap, an
/// IRQ handler cap made from IrqControl, an endpoint or notification cap
/// whose badge differs from the source's (Mint of an unbadged cap).
pub fn is_original(new: &Cap, src: &Cap) -> bool {
    match new {
        Cap::Untyped { .. } => true,
        Cap::IrqHandler { .. } => matches!(src, Cap::IrqControl),
        Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } => {
            Some(*badge) != src.badge()
        }
        _ => false,
    }
}

/// Whether a cap `new` derived from `src` (Copy, Mint: the same object or
/// memory) becomes `src`'s child in the CDT, else its sibling: `src` must
/// be original; a badged endpoint or notification is the parent only of
/// copies with its badge (which are not original).
pub fn is_child_of(src: &Cap, src_original: bool, new: &Cap, new_original: bool) -> bool {
    if !src_original {
        return false;
    }
    match src.badge() {
        Some(b) if b != 0 => new.badge() == Some(b) && !new_original,
        _ => true,
    }
}
