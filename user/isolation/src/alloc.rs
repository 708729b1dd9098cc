//! The monitor's objects and slots: bump allocation from BootInfo's
//! untypeds and empty slots (`cairn_rt::alloc`), with errors as text.

use cairn_rt::alloc::{create_object, SlotAllocator, UntypedAllocator};
use sel4::{BootInfo, ObjectType, Word};

/// Untypeds and root CNode slots of the monitor.
pub struct Pool {
    untypeds: UntypedAllocator,
    slots: SlotAllocator,
}

impl Pool {
    pub fn new(bi: &BootInfo) -> Pool {
        Pool {
            untypeds: UntypedAllocator::new(bi.untypeds()),
            slots: SlotAllocator::new(bi.empty()),
        }
    }

    /// A new object in a fresh root CNode slot.
    pub fn create(&mut self, t: ObjectType, size_bits: u32) -> Result<Word, &'static str> {
        create_object(&mut self.untypeds, &mut self.slots, t, size_bits)
            .map(|c| c.bits())
            .map_err(|_| "Untyped_Retype")
    }

    /// An empty root CNode slot.
    pub fn slot(&mut self) -> Result<Word, &'static str> {
        self.slots.alloc().map(|c| c.bits()).ok_or("out of slots")
    }
}
