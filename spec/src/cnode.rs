//! The CNode methods (manual §3.2 *Capability Management*, §10 API
//! reference `seL4_CNode_*`). Each checks its arguments in seL4's order
//! and either fails with nothing changed or does all of its work.
//!
//! Every method names a destination slot `(index, depth)` relative to the
//! invoked CNode (args 0 and 1), looked up first; Copy, Mint, Move and
//! Mutate name a source `(index, depth)` (args 2, 3) relative to extra
//! cap 0; Rotate a pivot (args 3, 4; extra cap 0) and a source (args 6,
//! 7; extra cap 1).

use crate::cap::{mask_rights, update_data, Cap};
use crate::error::{LookupFault, SyscallError};
use crate::state::{SlotId, State, TCB_CALLER};

/// The CNode methods, by their invocation labels (seL4 16.0.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Revoke = 17,
    Delete = 18,
    CancelBadgedSends = 19,
    Copy = 20,
    Mint = 21,
    Move = 22,
    Mutate = 23,
    Rotate = 24,
    SaveCaller = 25,
}

impl Method {
    /// The method of label `l` (MCS: one more than classic's, and no
    /// SaveCaller).
    pub fn from_label(l: u64) -> Option<Method> {
        use Method::*;
        let l = match crate::MCS {
            true => l.checked_sub(1).filter(|&l| l != SaveCaller as u64)?,
            false => l,
        };
        [
            Revoke,
            Delete,
            CancelBadgedSends,
            Copy,
            Mint,
            Move,
            Mutate,
            Rotate,
            SaveCaller,
        ]
        .into_iter()
        .find(|m| *m as u64 == l)
    }
}

/// A CNode invocation's arguments: the message words and the extra caps
/// (`None`: an empty slot was named).
pub struct Args<'a> {
    pub words: &'a [u64],
    pub extra: &'a [Option<Cap>],
}

impl Args<'_> {
    fn word(&self, i: usize) -> u64 {
        self.words.get(i).copied().unwrap_or(0)
    }
    /// At least `words` message words and `caps` extra caps, else
    /// TruncatedMessage.
    fn need(&self, words: usize, caps: usize) -> Result<(), SyscallError> {
        match self.words.len() >= words && self.extra.len() >= caps {
            true => Ok(()),
            false => Err(SyscallError::TruncatedMessage),
        }
    }
    /// Extra cap `i` (a null one if the slot was empty).
    fn root(&self, i: usize) -> Option<Cap> {
        self.extra.get(i).copied().flatten()
    }
}

/// "The slot is empty" as a lookup failure of the `source` (or not).
fn missing(source: bool, depth: u64) -> SyscallError {
    SyscallError::FailedLookup {
        source,
        fault: LookupFault::MissingCapability {
            bits_left: depth as u32,
        },
    }
}

/// Lookup relative to a possibly null root (a null root is no CNode).
fn lookup(
    s: &State,
    source: bool,
    root: Option<Cap>,
    index: u64,
    depth: u64,
) -> Result<SlotId, SyscallError> {
    match root {
        Some(r) => s.lookup_slot_for_cnode_op(source, &r, index, depth),
        None => Err(SyscallError::FailedLookup {
            source,
            fault: LookupFault::InvalidRoot,
        }),
    }
}

impl State {
    /// `seL4_CNode_<method>` on the CNode cap `cnode` by thread `caller`.
    pub fn cnode_invoke(
        &mut self,
        caller: u64,
        cnode: &Cap,
        label: u64,
        a: &Args,
    ) -> Result<(), SyscallError> {
        let m = Method::from_label(label).ok_or(SyscallError::IllegalOperation)?;
        a.need(2, 0)?;
        let dest = self.lookup_slot_for_cnode_op(false, cnode, a.word(0), a.word(1))?;
        match m {
            Method::Revoke => {
                self.revoke(dest);
                Ok(())
            }
            Method::Delete => {
                self.delete(dest, true);
                Ok(())
            }
            Method::SaveCaller => self.save_caller(caller, dest),
            Method::CancelBadgedSends => self.cancel_badged(dest),
            Method::Copy | Method::Mint | Method::Move | Method::Mutate => {
                self.transfer(m, dest, a)
            }
            Method::Rotate => self.rotate(dest, a),
        }
    }

    /// Copy (rights mask in arg 4), Mint (rights arg 4, badge or guard arg
    /// 5), Move, Mutate (guard arg 4): the destination must be empty and
    /// the source full; Copy and Mint derive a new cap (§3.1.4), Move and
    /// Mutate move the cap with its place in the tree.
    fn transfer(&mut self, m: Method, dest: SlotId, a: &Args) -> Result<(), SyscallError> {
        a.need(4, 1)?;
        let (src_index, src_depth) = (a.word(2), a.word(3));
        if self.cap(dest).is_some() {
            return Err(SyscallError::DeleteFirst);
        }
        let src = lookup(self, true, a.root(0), src_index, src_depth)?;
        let src_cap = self.cap(src).ok_or(missing(true, src_depth))?;
        let (new, is_move) = match m {
            Method::Copy => {
                a.need(5, 1)?;
                (self.derive(src, mask_rights(a.word(4), src_cap))?, false)
            }
            Method::Mint => {
                a.need(6, 1)?;
                let masked = mask_rights(a.word(4), src_cap);
                let badged = update_data(false, a.word(5), masked);
                (
                    badged.map(|c| self.derive(src, c)).transpose()?.flatten(),
                    false,
                )
            }
            Method::Mutate => {
                a.need(5, 1)?;
                (update_data(true, a.word(4), src_cap), true)
            }
            _ => (Some(src_cap), true),
        };
        let new = new.ok_or(SyscallError::IllegalOperation)?;
        match is_move {
            true => self.move_cap(src, dest, new),
            false => self.insert_derived(src, dest, new),
        }
        Ok(())
    }

    /// Deriving a cap for Copy and Mint (§3.1.4): reply caps, IrqControl
    /// and zombies cannot be copied (null); an untyped cap only while it has no
    /// children (RevokeFirst); a page table cap only while mapped
    /// (IllegalOperation); a frame cap's copy is unmapped.
    pub(crate) fn derive(&self, src: SlotId, cap: Cap) -> Result<Option<Cap>, SyscallError> {
        Ok(match cap {
            Cap::Reply { .. } | Cap::IrqControl | Cap::Zombie { .. } => None,
            Cap::Untyped { .. } => {
                if self.entry(src).is_some_and(|e| !e.children.is_empty()) {
                    return Err(SyscallError::RevokeFirst);
                }
                Some(cap)
            }
            Cap::PageTable { mapped: None, .. } => return Err(SyscallError::IllegalOperation),
            Cap::Frame {
                obj,
                size_bits,
                rights,
                device,
                ..
            } => Some(Cap::Frame {
                obj,
                size_bits,
                rights,
                device,
                mapped: None,
            }),
            other => Some(other),
        })
    }

    /// Rotate: the pivot's cap moves to the destination (with the data of
    /// arg 2 applied), the source's to the pivot (data of arg 5); with
    /// source = destination the two caps swap. The pivot must differ from
    /// both, the destination be empty unless it is the source.
    fn rotate(&mut self, dest: SlotId, a: &Args) -> Result<(), SyscallError> {
        a.need(8, 2)?;
        let (pivot_data, pivot_index, pivot_depth) = (a.word(2), a.word(3), a.word(4));
        let (src_data, src_index, src_depth) = (a.word(5), a.word(6), a.word(7));
        let src = lookup(self, true, a.root(1), src_index, src_depth)?;
        // seL4 reports a failed pivot lookup as the source's.
        let pivot = lookup(self, true, a.root(0), pivot_index, pivot_depth)?;
        if pivot == src || pivot == dest {
            return Err(SyscallError::IllegalOperation);
        }
        if src != dest && self.cap(dest).is_some() {
            return Err(SyscallError::DeleteFirst);
        }
        let src_cap = self.cap(src).ok_or(missing(true, src_depth))?;
        let pivot_cap = self.cap(pivot).ok_or(missing(false, pivot_depth))?;
        let new_src = update_data(true, src_data, src_cap);
        let new_pivot = update_data(true, pivot_data, pivot_cap);
        let (Some(new_src), Some(new_pivot)) = (new_src, new_pivot) else {
            return Err(SyscallError::IllegalOperation);
        };
        if src == dest {
            self.swap_caps(src, new_src, pivot, new_pivot);
        } else {
            self.move_cap(pivot, dest, new_pivot);
            self.move_cap(src, pivot, new_src);
        }
        Ok(())
    }

    /// SaveCaller: moves the reply cap in the caller's TCB caller slot to
    /// the empty destination; nothing to do without one.
    fn save_caller(&mut self, caller: u64, dest: SlotId) -> Result<(), SyscallError> {
        if self.cap(dest).is_some() {
            return Err(SyscallError::DeleteFirst);
        }
        let src = SlotId {
            obj: caller,
            index: TCB_CALLER,
        };
        if let Some(cap @ Cap::Reply { master: false, .. }) = self.cap(src) {
            self.move_cap(src, dest, cap);
        }
        Ok(())
    }

    /// CancelBadgedSends (§4.2.1): needs an endpoint cap with all rights;
    /// a badged one cancels the sends queued with its badge.
    fn cancel_badged(&mut self, dest: SlotId) -> Result<(), SyscallError> {
        match self.cap(dest) {
            Some(Cap::Endpoint { obj, badge, rights }) if rights.all() => {
                if badge != 0 {
                    self.cancel_badged_sends(obj, badge);
                }
                Ok(())
            }
            _ => Err(SyscallError::IllegalOperation),
        }
    }
}
