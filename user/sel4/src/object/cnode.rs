//! CNode argument types (ch. 3 Capability Spaces, *CNode Methods*; ABI ref
//! §7.4). The CNode methods themselves are generated from the object-API
//! table (`api.rs`).

use cairn_abi::Word;

/// One end of a Rotate: a slot (index, depth) and the badge its new cap gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotateSlot {
    /// Slot index.
    pub index: Word,
    /// Resolution depth.
    pub depth: u8,
    /// Cap data for the cap moved into this slot (unused for the source).
    pub badge: Word,
}
