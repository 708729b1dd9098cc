//! CNode invocations (ch. 3 Capability Spaces, *CNode Methods*; ABI ref
//! §7.4). Slots are named by (index, depth) relative to the invoked CNode
//! or to an extra-cap root; depths are `seL4_Uint8`.

use super::invoke;
use crate::cap::CNode;
use crate::error::Error;
use crate::message::Message;
use cairn_abi::cap::CapRights;
use cairn_abi::invocation::label;
use cairn_abi::Word;

/// Marshals the one-slot methods (Revoke, Delete, CancelBadgedSends,
/// SaveCaller): MR0 index, MR1 depth.
pub fn slot_msg(label: Word, index: Word, depth: u8) -> Message {
    Message::new(label, &[index, Word::from(depth)], &[])
}

/// Marshals `seL4_CNode_Copy`.
pub fn copy_msg(
    dest_index: Word,
    dest_depth: u8,
    src_root: CNode,
    src_index: Word,
    src_depth: u8,
    rights: CapRights,
) -> Message {
    Message::new(
        label::CNODE_COPY,
        &[
            dest_index,
            Word::from(dest_depth),
            src_index,
            Word::from(src_depth),
            rights.0,
        ],
        &[src_root.cptr()],
    )
}

/// Marshals `seL4_CNode_Mint`: as Copy plus MR5 badge (cap data).
#[allow(clippy::too_many_arguments)] // Mirrors seL4_CNode_Mint argument for argument.
pub fn mint_msg(
    dest_index: Word,
    dest_depth: u8,
    src_root: CNode,
    src_index: Word,
    src_depth: u8,
    rights: CapRights,
    badge: Word,
) -> Message {
    Message::new(
        label::CNODE_MINT,
        &[
            dest_index,
            Word::from(dest_depth),
            src_index,
            Word::from(src_depth),
            rights.0,
            badge,
        ],
        &[src_root.cptr()],
    )
}

/// Marshals `seL4_CNode_Move`.
pub fn move_msg(
    dest_index: Word,
    dest_depth: u8,
    src_root: CNode,
    src_index: Word,
    src_depth: u8,
) -> Message {
    Message::new(
        label::CNODE_MOVE,
        &[
            dest_index,
            Word::from(dest_depth),
            src_index,
            Word::from(src_depth),
        ],
        &[src_root.cptr()],
    )
}

/// Marshals `seL4_CNode_Mutate`: as Move plus MR4 cap data.
pub fn mutate_msg(
    dest_index: Word,
    dest_depth: u8,
    src_root: CNode,
    src_index: Word,
    src_depth: u8,
    badge: Word,
) -> Message {
    Message::new(
        label::CNODE_MUTATE,
        &[
            dest_index,
            Word::from(dest_depth),
            src_index,
            Word::from(src_depth),
            badge,
        ],
        &[src_root.cptr()],
    )
}

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

/// Marshals `seL4_CNode_Rotate`: MR0..7 = dest index, depth, badge, pivot
/// index, depth, badge, src index, depth; extra caps pivot root, src root.
pub fn rotate_msg(
    dest: RotateSlot,
    pivot_root: CNode,
    pivot: RotateSlot,
    src_root: CNode,
    src: RotateSlot,
) -> Message {
    Message::new(
        label::CNODE_ROTATE,
        &[
            dest.index,
            Word::from(dest.depth),
            dest.badge,
            pivot.index,
            Word::from(pivot.depth),
            pivot.badge,
            src.index,
            Word::from(src.depth),
        ],
        &[pivot_root.cptr(), src_root.cptr()],
    )
}

impl CNode {
    fn slot_op(self, label: Word, index: Word, depth: u8) -> Result<(), Error> {
        invoke(self.cptr(), &slot_msg(label, index, depth)).map(drop)
    }

    /// `seL4_CNode_Revoke`: deletes every cap derived from the one in the slot.
    pub fn revoke(self, index: Word, depth: u8) -> Result<(), Error> {
        self.slot_op(label::CNODE_REVOKE, index, depth)
    }

    /// `seL4_CNode_Delete`: empties the slot.
    pub fn delete(self, index: Word, depth: u8) -> Result<(), Error> {
        self.slot_op(label::CNODE_DELETE, index, depth)
    }

    /// `seL4_CNode_CancelBadgedSends`: aborts sends with the slot's badge.
    pub fn cancel_badged_sends(self, index: Word, depth: u8) -> Result<(), Error> {
        self.slot_op(label::CNODE_CANCEL_BADGED_SENDS, index, depth)
    }

    /// `seL4_CNode_SaveCaller` (classic): moves the reply cap into the slot.
    pub fn save_caller(self, index: Word, depth: u8) -> Result<(), Error> {
        self.slot_op(label::CNODE_SAVE_CALLER, index, depth)
    }

    /// `seL4_CNode_Copy`: a child copy of the source cap with `rights` masked.
    pub fn copy(
        self,
        dest_index: Word,
        dest_depth: u8,
        src_root: CNode,
        src_index: Word,
        src_depth: u8,
        rights: CapRights,
    ) -> Result<(), Error> {
        let msg = copy_msg(
            dest_index, dest_depth, src_root, src_index, src_depth, rights,
        );
        invoke(self.cptr(), &msg).map(drop)
    }

    /// `seL4_CNode_Mint`: as Copy, also setting a badge or CNode guard.
    #[allow(clippy::too_many_arguments)] // Mirrors seL4_CNode_Mint argument for argument.
    pub fn mint(
        self,
        dest_index: Word,
        dest_depth: u8,
        src_root: CNode,
        src_index: Word,
        src_depth: u8,
        rights: CapRights,
        badge: Word,
    ) -> Result<(), Error> {
        let msg = mint_msg(
            dest_index, dest_depth, src_root, src_index, src_depth, rights, badge,
        );
        invoke(self.cptr(), &msg).map(drop)
    }

    /// `seL4_CNode_Move`.
    pub fn move_(
        self,
        dest_index: Word,
        dest_depth: u8,
        src_root: CNode,
        src_index: Word,
        src_depth: u8,
    ) -> Result<(), Error> {
        invoke(
            self.cptr(),
            &move_msg(dest_index, dest_depth, src_root, src_index, src_depth),
        )
        .map(drop)
    }

    /// `seL4_CNode_Mutate`: move, setting a CNode guard.
    pub fn mutate(
        self,
        dest_index: Word,
        dest_depth: u8,
        src_root: CNode,
        src_index: Word,
        src_depth: u8,
        badge: Word,
    ) -> Result<(), Error> {
        let msg = mutate_msg(
            dest_index, dest_depth, src_root, src_index, src_depth, badge,
        );
        invoke(self.cptr(), &msg).map(drop)
    }

    /// `seL4_CNode_Rotate`: pivot → dest, src → pivot.
    pub fn rotate(
        self,
        dest: RotateSlot,
        pivot_root: CNode,
        pivot: RotateSlot,
        src_root: CNode,
        src: RotateSlot,
    ) -> Result<(), Error> {
        invoke(
            self.cptr(),
            &rotate_msg(dest, pivot_root, pivot, src_root, src),
        )
        .map(drop)
    }
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::error::LookupFailure;
    use crate::object::testing::{ok, one_call};

    const ROOT: CNode = CNode::from_bits(2);

    #[test]
    fn copy_marshalling() {
        let (r, dest, msg) = one_call(ok(), || {
            ROOT.copy(100, 64, ROOT, 1, 64, CapRights::READ_WRITE)
        });
        assert_eq!((r, dest), (Ok(()), 2));
        assert_eq!(msg.label(), 20);
        assert_eq!(msg.mrs(), &[100, 64, 1, 64, 3]);
        assert_eq!(msg.caps(), &[2]);
    }

    #[test]
    fn mint_mutate_move() {
        let m = mint_msg(5, 13, ROOT, 6, 12, CapRights::ALL, 0x55);
        assert_eq!((m.label(), m.mrs()), (21, &[5, 13, 6, 12, 0xF, 0x55][..]));
        let m = move_msg(5, 64, ROOT, 6, 64);
        assert_eq!(
            (m.label(), m.mrs(), m.caps()),
            (22, &[5, 64, 6, 64][..], &[2][..])
        );
        let m = mutate_msg(5, 64, ROOT, 6, 64, 7);
        assert_eq!((m.label(), m.mrs()), (23, &[5, 64, 6, 64, 7][..]));
    }

    #[test]
    fn rotate_marshalling() {
        let s = |index, badge| RotateSlot {
            index,
            depth: 64,
            badge,
        };
        let m = rotate_msg(
            s(1, 11),
            CNode::from_bits(3),
            s(2, 22),
            CNode::from_bits(4),
            s(5, 0),
        );
        assert_eq!(m.label(), 24);
        assert_eq!(m.mrs(), &[1, 64, 11, 2, 64, 22, 5, 64]);
        assert_eq!(m.caps(), &[3, 4]);
    }

    #[test]
    fn slot_ops_labels() {
        for (l, f) in [
            (
                17,
                CNode::revoke as fn(CNode, Word, u8) -> Result<(), Error>,
            ),
            (18, CNode::delete),
            (19, CNode::cancel_badged_sends),
            (25, CNode::save_caller),
        ] {
            let (_, _, msg) = one_call(ok(), || f(ROOT, 40, 64));
            assert_eq!((msg.label(), msg.mrs()), (l, &[40, 64][..]));
        }
    }

    #[test]
    fn copy_error_decoded() {
        // ABI ref §6.7: Copy to dest depth 13 -> GuardMismatch.
        let reply = Message::new(6, &[0, 4, 13, 0, 51], &[]);
        let (r, _, _) = one_call(reply, || ROOT.copy(100, 13, ROOT, 1, 64, CapRights::ALL));
        assert_eq!(
            r,
            Err(Error::FailedLookup {
                source: false,
                failure: LookupFailure::GuardMismatch {
                    bits_left: 13,
                    guard_found: 0,
                    bits_found: 51
                }
            })
        );
    }
}
