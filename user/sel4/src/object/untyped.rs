//! Untyped memory (ch. 2 Objects, *Untyped Memory*; ABI ref §5, §7.2): the
//! object sizes `seL4_Untyped_Retype` uses. The method itself is generated
//! from the object-API table (`api.rs`).

use cairn_abi::object::{self as obj, ObjectType};

/// log2 of the size of one object of type `t`; `size_bits` is the retype
/// argument (used by Untyped, CapTable and, with MCS, SchedContext only). `None` if the kernel would
/// reject the size (Untyped outside 4..=38, CapTable radix 0 or too large).
pub fn object_size_bits(t: ObjectType, size_bits: u32) -> Option<u32> {
    let bits = match t {
        ObjectType::Untyped => {
            if !(obj::MIN_UNTYPED_BITS..=obj::MAX_UNTYPED_BITS).contains(&size_bits) {
                return None;
            }
            size_bits
        }
        ObjectType::Tcb => obj::TCB_BITS,
        ObjectType::Endpoint => obj::ENDPOINT_BITS,
        ObjectType::Notification => obj::NOTIFICATION_BITS,
        ObjectType::CapTable => {
            if size_bits == 0 {
                return None;
            }
            size_bits.checked_add(obj::SLOT_BITS)?
        }
        // A SchedContext's size (its number of refills) is the caller's
        // choice, from seL4_MinSchedContextBits up.
        #[cfg(feature = "mcs")]
        ObjectType::SchedContext => {
            if size_bits < obj::MIN_SCHED_CONTEXT_BITS {
                return None;
            }
            size_bits
        }
        #[cfg(feature = "mcs")]
        ObjectType::Reply => obj::REPLY_BITS,
        ObjectType::GigaPage => obj::HUGE_PAGE_BITS,
        ObjectType::SmallPage => obj::PAGE_BITS,
        ObjectType::MegaPage => obj::LARGE_PAGE_BITS,
        ObjectType::PageTable => obj::PAGE_TABLE_BITS,
    };
    (bits <= obj::MAX_UNTYPED_BITS).then_some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(object_size_bits(ObjectType::Tcb, 0), Some(11));
        assert_eq!(object_size_bits(ObjectType::CapTable, 12), Some(17));
        assert_eq!(object_size_bits(ObjectType::CapTable, 0), None);
        assert_eq!(object_size_bits(ObjectType::Untyped, 3), None);
        assert_eq!(object_size_bits(ObjectType::Untyped, 38), Some(38));
        assert_eq!(object_size_bits(ObjectType::Untyped, 39), None);
        assert_eq!(object_size_bits(ObjectType::CapTable, 34), None);
        assert_eq!(object_size_bits(ObjectType::MegaPage, 0), Some(21));
    }
}
