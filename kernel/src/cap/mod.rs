//! Capabilities (ch. 3 Capability Spaces): the [`Cap`] type and its
//! encoding, slots (CTEs) and the derivation tree, CSpace lookup.

// `cap::cap` holds the `Cap` type itself: the module is the concept.
#[allow(clippy::module_inception)]
pub mod cap;
pub mod cte;
pub mod delete;
pub mod derive;
pub mod finalise;
pub mod lookup;
pub mod rights;
pub mod words;
pub mod zombie;

#[cfg(test)]
mod proptests;
#[cfg(any(test, feature = "fuzzing"))]
pub mod tree_check;

pub use cap::{Cap, FrameSize, Mapping, VmRights};
pub use cte::{Cte, SlotRef};
pub use lookup::LookupFault;
pub use words::CapWords;
