//! RISC-V VSpace objects (ch. 7 Address Spaces and Virtual Memory; ABI ref
//! §7.8, §11): page tables, frames, the ASID control and ASID pools.

use super::invoke;
use crate::cap::{AsidControl, AsidPool, CNode, Frame, PageTable, Untyped};
use crate::error::Error;
use crate::message::Message;
use cairn_abi::cap::CapRights;
use cairn_abi::invocation::label;
use cairn_abi::Word;

/// Marshals `seL4_RISCV_PageTable_Map`: MR0 vaddr, MR1 attr; extra cap 0
/// the VSpace root.
pub fn page_table_map_msg(vspace: PageTable, vaddr: Word, attr: Word) -> Message {
    Message::new(
        label::RISCV_PAGE_TABLE_MAP,
        &[vaddr, attr],
        &[vspace.cptr()],
    )
}

/// Marshals `seL4_RISCV_Page_Map`: MR0 vaddr, MR1 rights, MR2 attr; extra
/// cap 0 the VSpace root.
pub fn page_map_msg(vspace: PageTable, vaddr: Word, rights: CapRights, attr: Word) -> Message {
    Message::new(
        label::RISCV_PAGE_MAP,
        &[vaddr, rights.0, attr],
        &[vspace.cptr()],
    )
}

/// Marshals `seL4_RISCV_ASIDControl_MakePool`: MR0 index, MR1 depth; extra
/// caps the 4 KiB untyped and the destination root.
pub fn make_pool_msg(untyped: Untyped, root: CNode, index: Word, depth: u8) -> Message {
    Message::new(
        label::RISCV_ASID_CONTROL_MAKE_POOL,
        &[index, Word::from(depth)],
        &[untyped.cptr(), root.cptr()],
    )
}

impl PageTable {
    /// `seL4_RISCV_PageTable_Map`: installs this table in `vspace` at the
    /// first missing level covering `vaddr`.
    pub fn map(self, vspace: PageTable, vaddr: Word, attr: Word) -> Result<(), Error> {
        invoke(self.cptr(), &page_table_map_msg(vspace, vaddr, attr)).map(drop)
    }

    /// `seL4_RISCV_PageTable_Unmap`.
    pub fn unmap(self) -> Result<(), Error> {
        invoke(self.cptr(), &Message::empty(label::RISCV_PAGE_TABLE_UNMAP)).map(drop)
    }
}

impl Frame {
    /// `seL4_RISCV_Page_Map`.
    pub fn map(
        self,
        vspace: PageTable,
        vaddr: Word,
        rights: CapRights,
        attr: Word,
    ) -> Result<(), Error> {
        invoke(self.cptr(), &page_map_msg(vspace, vaddr, rights, attr)).map(drop)
    }

    /// `seL4_RISCV_Page_Unmap`.
    pub fn unmap(self) -> Result<(), Error> {
        invoke(self.cptr(), &Message::empty(label::RISCV_PAGE_UNMAP)).map(drop)
    }

    /// `seL4_RISCV_Page_GetAddress`: the frame's physical address (MR0).
    pub fn get_address(self) -> Result<Word, Error> {
        Ok(invoke(self.cptr(), &Message::empty(label::RISCV_PAGE_GET_ADDRESS))?.mr(0))
    }
}

impl AsidControl {
    /// `seL4_RISCV_ASIDControl_MakePool`: turns a 4 KiB untyped into an ASID
    /// pool whose cap goes to (`index`, `depth`) from `root`.
    pub fn make_pool(
        self,
        untyped: Untyped,
        root: CNode,
        index: Word,
        depth: u8,
    ) -> Result<(), Error> {
        invoke(self.cptr(), &make_pool_msg(untyped, root, index, depth)).map(drop)
    }
}

impl AsidPool {
    /// `seL4_RISCV_ASIDPool_Assign`: gives `vspace` an ASID from this pool.
    pub fn assign(self, vspace: PageTable) -> Result<(), Error> {
        invoke(
            self.cptr(),
            &Message::new(label::RISCV_ASID_POOL_ASSIGN, &[], &[vspace.cptr()]),
        )
        .map(drop)
    }
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::object::testing::{ok, one_call};

    const VS: PageTable = PageTable::from_bits(3);

    #[test]
    fn maps() {
        let m = page_table_map_msg(VS, 0x4000_0000, 0);
        assert_eq!(
            (m.label(), m.mrs(), m.caps()),
            (33, &[0x4000_0000, 0][..], &[3][..])
        );
        let (r, dest, m) = one_call(ok(), || {
            Frame::from_bits(50).map(VS, 0x1000, CapRights::READ_WRITE, 1)
        });
        assert_eq!((r, dest), (Ok(()), 50));
        assert_eq!(
            (m.label(), m.mrs(), m.caps()),
            (35, &[0x1000, 3, 1][..], &[3][..])
        );
    }

    #[test]
    fn unmaps_and_address() {
        let (_, _, m) = one_call(ok(), || PageTable::from_bits(20).unmap());
        assert_eq!((m.label(), m.len()), (34, 0));
        let (_, _, m) = one_call(ok(), || Frame::from_bits(20).unmap());
        assert_eq!(m.label(), 36);
        let (r, _, m) = one_call(Message::new(0, &[0x8020_0000], &[]), || {
            Frame::from_bits(9).get_address()
        });
        assert_eq!((r, m.label()), (Ok(0x8020_0000), 37));
    }

    #[test]
    fn asids() {
        let m = make_pool_msg(Untyped::from_bits(30), CNode::from_bits(2), 77, 64);
        assert_eq!(
            (m.label(), m.mrs(), m.caps()),
            (38, &[77, 64][..], &[30, 2][..])
        );
        let (_, dest, m) = one_call(ok(), || {
            AsidPool::from_bits(6).assign(PageTable::from_bits(40))
        });
        assert_eq!((dest, m.label(), m.caps()), (6, 39, &[40][..]));
    }

    #[test]
    fn attributes_rights_and_error_replies() {
        // Rights and attributes are one word each (ABI ref §7.8):
        // read-only, execute-never.
        let m = page_map_msg(
            VS,
            0x2000,
            CapRights::CAN_READ,
            cairn_abi::vm::EXECUTE_NEVER,
        );
        assert_eq!(m.mrs(), &[0x2000, 2, 1][..]);
        let m = page_table_map_msg(VS, 0x3F_C000_0000, 0);
        assert_eq!(m.mrs(), &[0x3F_C000_0000, 0][..]);
        // An error reply to GetAddress is the error, not an address.
        let (r, _, _) = one_call(Message::new(3, &[], &[]), || {
            Frame::from_bits(9).get_address()
        });
        assert_eq!(r, Err(Error::IllegalOperation));
        // Assign's InvalidCapability(1) names the VSpace cap.
        let (r, _, _) = one_call(Message::new(2, &[1], &[]), || {
            AsidPool::from_bits(6).assign(PageTable::from_bits(40))
        });
        assert_eq!(r, Err(Error::InvalidCapability { index: 1 }));
        // MakePool's depth travels as a whole word.
        let m = make_pool_msg(Untyped::from_bits(30), CNode::from_bits(2), 5, 255);
        assert_eq!(m.mrs(), &[5, 255][..]);
    }

    #[test]
    fn map_failed_lookup_level() {
        // Page Map with no leaf table: FailedLookup, MissingCapability(21).
        let reply = Message::new(6, &[0, 2, 21], &[]);
        let (r, _, _) = one_call(reply, || {
            Frame::from_bits(50).map(VS, 0x1000, CapRights::ALL, 0)
        });
        assert_eq!(
            r,
            Err(Error::FailedLookup {
                source: false,
                failure: crate::error::LookupFailure::MissingCapability { bits_left: 21 }
            })
        );
    }
}
