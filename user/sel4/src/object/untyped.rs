//! Untyped memory (ch. 2 Objects, *Untyped Memory*; ABI ref §5, §7.2):
//! `seL4_Untyped_Retype`, and the object sizes retype uses.

use super::invoke;
use crate::cap::{CNode, Untyped};
use crate::error::Error;
use crate::message::Message;
use cairn_abi::invocation::label;
use cairn_abi::object::{self as obj, ObjectType};
use cairn_abi::Word;

/// log2 of the size of one object of type `t`; `size_bits` is the retype
/// argument (used by Untyped and CapTable only). `None` if the kernel would
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
        ObjectType::GigaPage => obj::HUGE_PAGE_BITS,
        ObjectType::SmallPage => obj::PAGE_BITS,
        ObjectType::MegaPage => obj::LARGE_PAGE_BITS,
        ObjectType::PageTable => obj::PAGE_TABLE_BITS,
    };
    (bits <= obj::MAX_UNTYPED_BITS).then_some(bits)
}

/// Marshals `seL4_Untyped_Retype`: MR0 type, MR1 size_bits, MR2 node_index,
/// MR3 node_depth, MR4 node_offset, MR5 num_objects; extra cap 0 = root.
pub fn retype_msg(
    object_type: Word,
    size_bits: Word,
    root: CNode,
    node_index: Word,
    node_depth: Word,
    node_offset: Word,
    num_objects: Word,
) -> Message {
    Message::new(
        label::UNTYPED_RETYPE,
        &[
            object_type,
            size_bits,
            node_index,
            node_depth,
            node_offset,
            num_objects,
        ],
        &[root.cptr()],
    )
}

impl Untyped {
    /// `seL4_Untyped_Retype`: creates `num_objects` objects of `object_type`
    /// and puts their caps in consecutive slots from `node_offset` of the
    /// CNode found at (`node_index`, `node_depth`) from `root` (depth 0:
    /// `root` itself).
    #[allow(clippy::too_many_arguments)] // Mirrors seL4_Untyped_Retype argument for argument.
    pub fn retype(
        self,
        object_type: ObjectType,
        size_bits: Word,
        root: CNode,
        node_index: Word,
        node_depth: Word,
        node_offset: Word,
        num_objects: Word,
    ) -> Result<(), Error> {
        let msg = retype_msg(
            object_type as Word,
            size_bits,
            root,
            node_index,
            node_depth,
            node_offset,
            num_objects,
        );
        invoke(self.cptr(), &msg).map(drop)
    }
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::cap::CPtr;
    use crate::object::testing::{ok, one_call};

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

    #[test]
    fn retype_marshalling() {
        let root = CNode::from_bits(2);
        let (res, dest, msg) = one_call(ok(), || {
            Untyped::from_bits(30).retype(ObjectType::Endpoint, 0, root, 0, 0, 100, 3)
        });
        assert_eq!(res, Ok(()));
        assert_eq!(dest, 30);
        assert_eq!(msg.label(), 1);
        assert_eq!(msg.mrs(), &[2, 0, 0, 0, 100, 3]);
        assert_eq!(msg.caps(), &[2]);
    }

    #[test]
    fn retype_error_is_decoded() {
        // ABI ref §6.7: Retype with type 99 -> label 1, MR0 0.
        let (res, _, _) = one_call(Message::new(1, &[0], &[]), || {
            invoke(
                CPtr(30),
                &retype_msg(99, 0, CNode::from_bits(2), 0, 0, 16, 1),
            )
        });
        assert_eq!(res, Err(Error::InvalidArgument { index: 0 }));
    }
}
