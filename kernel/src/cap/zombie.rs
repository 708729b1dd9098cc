//! Zombie capabilities (ch. 3 Capability Spaces, *Deleting Capabilities*):
//! what a CNode or TCB capability becomes while the object's own slots are
//! being emptied.
//!
//! A zombie names the object's first slot (`ptr`: the CNode's slot 0, or the
//! TCB's slot 0, which is the TCB's address) and the number of slots still
//! to empty. [`Cap::Zombie`] keeps two fields, so the object kind lives in
//! the top bits of its `number` word (user space never sees a zombie's
//! words; it only sees tag 18 from `seL4_DebugCapIdentify`):
//!
//! | number word bits | meaning |
//! |---|---|
//! | 63..57 | kind: CNode radix (1..=63), or [`TCB_KIND`] |
//! | 56..0 | slots left to empty (from the end: slot `count - 1` next) |
//!
//! Deleting the slots one at a time from the end, with the count kept in the
//! zombie itself, is what makes deletion restartable (`cap::delete`).

use super::cap::Cap;
use super::cte::SlotRef;
use crate::object::tcb::TCB_CNODE_ENTRIES;
use crate::types::PAddr;
use cairn_abi::object::SLOT_BITS;

/// The kind value of a TCB zombie (no CNode has radix 64).
pub const TCB_KIND: u64 = 64;
const KIND_SHIFT: u32 = 57;
const COUNT_MASK: u64 = (1 << KIND_SHIFT) - 1;

/// What object a zombie is the remains of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZombieKind {
    /// A CNode of `2^radix` slots.
    CNode { radix: u8 },
    /// A thread control block (its `TCB_CNODE_ENTRIES` slots).
    Tcb,
}

/// A decoded zombie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zombie {
    /// The object's first slot.
    pub ptr: PAddr,
    /// The object kind.
    pub kind: ZombieKind,
    /// Slots still to empty.
    pub count: u64,
}

impl Zombie {
    /// The zombie of a CNode about to be emptied: all `2^radix` slots left.
    pub fn of_cnode(ptr: PAddr, radix: u8) -> Zombie {
        Zombie {
            ptr,
            kind: ZombieKind::CNode { radix },
            count: 1u64.checked_shl(radix as u32).unwrap_or(0) & COUNT_MASK,
        }
    }

    /// The zombie of a TCB about to be emptied.
    pub fn of_tcb(tcb: PAddr) -> Zombie {
        Zombie {
            ptr: tcb,
            kind: ZombieKind::Tcb,
            count: TCB_CNODE_ENTRIES as u64,
        }
    }

    /// Decodes a zombie capability (`None` for any other capability).
    pub fn from_cap(cap: &Cap) -> Option<Zombie> {
        let Cap::Zombie { ptr, number } = *cap else {
            return None;
        };
        let kind = match number >> KIND_SHIFT {
            TCB_KIND => ZombieKind::Tcb,
            r => ZombieKind::CNode { radix: r as u8 },
        };
        Some(Zombie {
            ptr,
            kind,
            count: number & COUNT_MASK,
        })
    }

    /// The zombie as a capability.
    pub fn to_cap(self) -> Cap {
        let kind = match self.kind {
            ZombieKind::Tcb => TCB_KIND,
            ZombieKind::CNode { radix } => radix as u64,
        };
        Cap::Zombie {
            ptr: self.ptr,
            number: (kind << KIND_SHIFT) | (self.count & COUNT_MASK),
        }
    }

    /// log2 of the memory of the object the zombie stands for.
    pub fn size_bits(&self) -> u32 {
        match self.kind {
            ZombieKind::Tcb => crate::config::TCB_BITS,
            ZombieKind::CNode { radix } => radix as u32 + SLOT_BITS,
        }
    }

    /// Slot `i` of the object (`i < count`, so in bounds).
    pub fn slot(&self, i: u64) -> SlotRef {
        SlotRef::new(self.ptr.add(i << SLOT_BITS))
    }

    /// The next slot to empty (the last one left), if any.
    pub fn last_slot(&self) -> Option<SlotRef> {
        self.count.checked_sub(1).map(|i| self.slot(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zombies_round_trip_through_caps() {
        let z = Zombie::of_cnode(PAddr(0x8040_0000), 12);
        assert_eq!(z.count, 4096);
        assert_eq!(Zombie::from_cap(&z.to_cap()), Some(z));
        assert_eq!(z.to_cap().tag(), cairn_abi::cap::tag::ZOMBIE);
        assert_eq!(Cap::decode(z.to_cap().encode()), z.to_cap());
        let t = Zombie::of_tcb(PAddr(0x8040_0800));
        assert_eq!(t.count, TCB_CNODE_ENTRIES as u64);
        assert_eq!(Zombie::from_cap(&t.to_cap()), Some(t));
        assert_eq!(t.size_bits(), crate::config::TCB_BITS);
        assert_eq!(Zombie::from_cap(&Cap::Domain), None);
    }
}
