//! Bump allocators for a root task: CSpace slots from BootInfo's `empty`
//! region ([`SlotAllocator`]) and objects from its non-device untypeds
//! ([`UntypedAllocator`]), plus [`create_object`], which uses both to retype
//! one object into the root CNode. Nothing is ever freed.

mod slots;
mod untyped;

pub use slots::SlotAllocator;
pub use untyped::{align_up, place, Allocation, UntypedAllocator, MAX_UNTYPEDS};

use sel4::cap::init_caps;
use sel4::{CPtr, Error, ObjectType, Word};

/// Why [`create_object`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocError {
    /// No untyped has room for the object.
    OutOfMemory,
    /// The root CNode has no free slot left.
    OutOfSlots,
    /// The size is not valid for the object type.
    BadSize,
    /// The kernel refused the retype.
    Kernel(Error),
}

/// Retypes one object of `object_type` (`size_bits` for Untyped and
/// CapTable) from `untypeds` into a fresh slot of the root CNode, whose
/// cptr it returns.
pub fn create_object(
    untypeds: &mut UntypedAllocator,
    slots: &mut SlotAllocator,
    object_type: ObjectType,
    size_bits: u32,
) -> Result<CPtr, AllocError> {
    let slot = slots.alloc().ok_or(AllocError::OutOfSlots)?;
    let a = untypeds.alloc(object_type, size_bits, 1)?;
    a.untyped
        .retype(
            object_type,
            Word::from(size_bits),
            init_caps::CNODE,
            0,
            0,
            slot.0,
            1,
        )
        .map_err(AllocError::Kernel)?;
    Ok(slot)
}
