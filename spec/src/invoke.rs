//! A thread's invocation of a capability (manual §2.2 *System Calls*,
//! §3.3 *CSpace Addressing*): the invoked cap and the extra caps are
//! looked up in the thread's CSpace (64-bit walks), then the method of the
//! cap's type runs.

use crate::cap::{Cap, ObjId};
use crate::cnode::Args;
use crate::error::SyscallError;
use crate::state::{SlotId, State};

/// An invocation as the caller makes it: the cap pointer, the label, the
/// message words and the extra caps' pointers.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub cptr: u64,
    pub label: u64,
    pub words: Vec<u64>,
    pub extra: Vec<u64>,
}

impl State {
    /// The result of `caller` making `inv`, or `None` where this
    /// specification says nothing yet (the state is then unchanged): a
    /// lookup of the invoked cap or an extra cap fails (a cap fault), or
    /// the cap is of a type whose methods are not specified.
    pub fn invoke(&mut self, caller: ObjId, inv: &Invocation) -> Option<Result<(), SyscallError>> {
        let cspace = self.cap(SlotId {
            obj: caller,
            index: 0,
        })?;
        let (slot, cap) = self.lookup_cap(&cspace, inv.cptr).ok()?;
        let mut extra = Vec::new();
        for &c in &inv.extra {
            extra.push(self.lookup_cap(&cspace, c).ok()?.1);
        }
        let Some(cap) = cap else {
            return Some(Err(SyscallError::InvalidCapability { index: 0 }));
        };
        Some(match cap {
            Cap::CNode { .. } => {
                let args = Args {
                    words: &inv.words,
                    extra: &extra,
                };
                self.cnode_invoke(caller, &cap, inv.label, &args)
            }
            Cap::Untyped { .. } if inv.label == crate::untyped::RETYPE => {
                self.retype(slot, &inv.words, extra.first().copied())
            }
            Cap::Untyped { .. } => Err(SyscallError::IllegalOperation),
            _ => return None,
        })
    }
}
