//! Address spaces on RISC-V 64 with Sv39 (manual ch. 7 *Address Spaces
//! and Virtual Memory*, ch. 10 `seL4_RISCV_PageTable_*`, `seL4_RISCV_Page_*`,
//! `seL4_RISCV_ASIDControl_MakePool`, `seL4_RISCV_ASIDPool_Assign`).
//!
//! A VSpace is a tree of page tables three levels deep: a root table
//! (level 0, 1 GiB a slot), level-1 tables (2 MiB a slot) and leaf tables
//! (4 KiB a slot). A table's slot is empty, holds another table, or maps a
//! frame with its rights and whether it is executable; a frame maps at the
//! level of its size (4 KiB, 2 MiB, 1 GiB). Nothing here is an encoding:
//! a table is a map from slot index to [`Pte`], and the kernel's own
//! mappings in the upper half of every root (which user space can neither
//! see nor change) are not part of the state.
//!
//! A root table becomes a VSpace when an ASID pool assigns it an ASID:
//! 16 bits, a pool number (the ASID table's index, 7 bits) and an index in
//! that pool (9 bits); ASID 0 is never handed out. Caps to frames and
//! tables record where they are mapped (ASID, address), which is how the
//! kernel finds the mapping again to remove it; the mapping itself may
//! have gone meanwhile (its table unmapped, its ASID deleted), and then
//! removing it does nothing.
//!
//! The checks of each method, in seL4's order (the manual lists the
//! errors, not their order; seL4's `decodeRISCVMMUInvocation` decides which
//! one a call with several faults gets):
//!
//! * **PageTable_Unmap**: the cap must be the last to its table
//!   (RevokeFirst), and not the registered root of its ASID (RevokeFirst).
//!   The table leaves the slot that holds it and is emptied.
//! * **PageTable_Map** (vaddr): two words and a VSpace cap
//!   (TruncatedMessage); the table not mapped (InvalidCapability 0); the
//!   VSpace cap an assigned table (InvalidCapability 1); vaddr below
//!   `USER_TOP` (InvalidArgument 0); the ASID still registered
//!   (FailedLookup, InvalidRoot) to that root (InvalidCapability 1); the
//!   walk towards vaddr must stop at an empty slot above the leaf level
//!   (DeleteFirst). The cap records vaddr rounded down to that slot's
//!   region.
//! * **Page_Map** (vaddr, rights, attributes): three words and a VSpace
//!   cap (TruncatedMessage); the VSpace checks as above (the cap, then the
//!   ASID); the frame's last byte below `USER_TOP` (InvalidArgument 0);
//!   vaddr aligned to the frame (AlignmentError); the walk must reach the
//!   frame's level (FailedLookup, MissingCapability with the bits left:
//!   30 no level-1 table, 21 no leaf table, 12 a leaf table where a larger
//!   frame should go). A mapped frame cap maps again only in the same ASID
//!   (InvalidCapability 1) at the same address (InvalidArgument 0): a
//!   *remap* with new rights and attributes, over whatever the slot holds.
//!   An unmapped one needs an empty slot (DeleteFirst). The mapping's
//!   rights are the cap's masked by the rights word (§7.1.3: read and write
//!   give read-write, read read-only, else kernel-only); executable unless
//!   attribute bit 0 (ExecuteNever). Kernel-only and not executable gives
//!   no access at all: seL4 writes an invalid (empty) slot, and the cap is
//!   still marked mapped.
//! * **Page_Unmap**: removes the cap's mapping if the slot still maps this
//!   frame; the cap is unmapped. **Page_GetAddress**: the frame's physical
//!   address, answered by the method itself.
//! * **ASIDControl_MakePool** (index, depth; the untyped and the CSpace
//!   root as extra caps): two words and two extra caps (TruncatedMessage);
//!   a free pool number, the first (DeleteFirst if all 128 are used); a
//!   non-device untyped of exactly 4 KiB (InvalidCapability 1) without
//!   children (RevokeFirst); the destination slot as a CNode method finds
//!   it (FailedLookup etc., not the source), empty (DeleteFirst). The
//!   untyped becomes full, the pool cap its child (not original, as every
//!   VSpace cap), and the pool is registered.
//! * **ASIDPool_Assign** (the table as extra cap): an extra cap
//!   (TruncatedMessage); an unmapped table (InvalidCapability 1); the pool
//!   still registered (FailedLookup, InvalidRoot) as this pool
//!   (InvalidCapability 0); a free ASID, the first (DeleteFirst). The
//!   table's cap is marked mapped at (ASID, 0).
//!
//! Deleting caps (seL4's `Arch_finaliseCap`, [`State::finalise_vm`]):
//! every deleted frame cap that is mapped removes its mapping, whether or
//! not it is the last cap to the frame; the last cap to a mapped table
//! removes its ASID if it is the ASID's root, else unmaps the table (its
//! own slots are left as they are: the table is gone); the last cap to a
//! pool unregisters it, and every VSpace in it loses its ASID.

use crate::cap::{mask_rights, Cap, ObjId, VmRights};
use crate::error::{LookupFault, SyscallError};
use crate::invoke::Invocation;
use crate::state::{Object, SlotId, State};
use crate::thread::ThreadState;

/// The invocation labels (RISC-V's, after the generic ones: 33 on,
/// MCS 39 on, after its six scheduling-context labels).
pub const PAGE_TABLE_MAP: u64 = if crate::MCS { 39 } else { 33 };
pub const PAGE_TABLE_UNMAP: u64 = PAGE_TABLE_MAP + 1;
pub const PAGE_MAP: u64 = PAGE_TABLE_MAP + 2;
pub const PAGE_UNMAP: u64 = PAGE_TABLE_MAP + 3;
pub const PAGE_GET_ADDRESS: u64 = PAGE_TABLE_MAP + 4;
pub const ASID_CONTROL_MAKE_POOL: u64 = PAGE_TABLE_MAP + 5;
pub const ASID_POOL_ASSIGN: u64 = PAGE_TABLE_MAP + 6;

/// The first address no user mapping may reach (`seL4_UserTop`).
pub const USER_TOP: u64 = 0x0000_003F_FFFF_F000;
/// Page-map attribute bit 0: not executable.
pub const EXECUTE_NEVER: u64 = 1;
/// ASIDs in a pool, pools in the ASID table, and a pool's size (log2).
pub const ASIDS_PER_POOL: u64 = 512;
pub const ASID_POOLS: u64 = 128;
pub const ASID_POOL_BITS: u32 = 12;
/// Levels of an Sv39 walk; slots in a table.
pub const LEVELS: u32 = 3;
pub const PT_ENTRIES: u64 = 512;

/// What a page-table slot holds (an empty slot is absent from its table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pte {
    /// The next level's table.
    Table(ObjId),
    /// A frame mapped with these rights.
    Page {
        frame: ObjId,
        rights: VmRights,
        exec: bool,
    },
}

/// A page-table slot: (table, index).
pub type PtSlot = (ObjId, u64);

/// The bits of address a slot of a level-`level` table covers.
pub const fn level_bits(level: u32) -> u32 {
    12 + 9 * (LEVELS - 1 - level)
}

fn index(vaddr: u64, level: u32) -> u64 {
    (vaddr >> level_bits(level)) & (PT_ENTRIES - 1)
}

fn invalid_root() -> SyscallError {
    SyscallError::FailedLookup {
        source: false,
        fault: LookupFault::InvalidRoot,
    }
}

impl State {
    /// The root table registered for `asid` (seL4's `findVSpaceForASID`).
    pub fn find_vspace(&self, asid: u64) -> Option<ObjId> {
        let pool = self.asid_table.get(&(asid / ASIDS_PER_POOL))?;
        match self.objects.get(pool) {
            Some(Object::AsidPool { roots }) => roots.get(&(asid % ASIDS_PER_POOL)).copied(),
            _ => None,
        }
    }

    /// What slot `at` holds (a missing table reads empty).
    pub fn pte(&self, at: PtSlot) -> Option<Pte> {
        match self.objects.get(&at.0) {
            Some(Object::PageTable { entries }) => entries.get(&at.1).copied(),
            _ => None,
        }
    }

    fn set_pte(&mut self, at: PtSlot, pte: Option<Pte>) {
        if let Some(Object::PageTable { entries }) = self.objects.get_mut(&at.0) {
            match pte {
                Some(p) => entries.insert(at.1, p),
                None => entries.remove(&at.1),
            };
        }
    }

    /// The walk from `root` towards `vaddr` (seL4's `lookupPTSlot`): the
    /// slot where it stops (the first that holds no table, or the leaf
    /// level's) and the bits of address that slot covers.
    pub fn lookup_pt_slot(&self, root: ObjId, vaddr: u64) -> (PtSlot, u32) {
        let mut table = root;
        let mut level = 0;
        loop {
            let at = (table, index(vaddr, level));
            match self.pte(at) {
                Some(Pte::Table(next)) if level + 1 < LEVELS => {
                    table = next;
                    level += 1;
                }
                _ => return (at, level_bits(level)),
            }
        }
    }

    /// The VM methods: the cap invoked (in `slot`), the message, how many
    /// extra caps were read (each looked up again by `t` here, since
    /// MakePool and Assign change their slots), whether it is a Call.
    /// Checks in seL4's order, then performs; changes nothing on error.
    pub fn vspace_invoke(
        &mut self,
        t: ObjId,
        slot: SlotId,
        cap: Cap,
        inv: &Invocation,
        extra: usize,
        call: bool,
    ) -> Result<(), SyscallError> {
        let extra_cap = |s: &State, i: usize| -> Option<(SlotId, Option<Cap>)> {
            let cptr = *inv.extra.get(i).filter(|_| i < extra)?;
            s.lookup_in(t, cptr).ok()
        };
        let w = |i: usize| inv.words.get(i).copied().unwrap_or(0);
        let len = inv.words.len();
        match cap {
            Cap::PageTable { obj, mapped } => {
                if inv.label == PAGE_TABLE_UNMAP {
                    if !self.is_final(slot, &cap) {
                        return Err(SyscallError::RevokeFirst);
                    }
                    if let Some((asid, vaddr)) = mapped {
                        if self.find_vspace(asid) == Some(obj) {
                            return Err(SyscallError::RevokeFirst);
                        }
                        self.unmap_page_table(asid, vaddr, obj);
                        self.objects.insert(
                            obj,
                            Object::PageTable {
                                entries: Default::default(),
                            },
                        );
                    }
                    self.set_cap(slot, Cap::PageTable { obj, mapped: None });
                    return Ok(());
                }
                if inv.label != PAGE_TABLE_MAP {
                    return Err(SyscallError::IllegalOperation);
                }
                let vspace = extra_cap(self, 0).filter(|_| len >= 2);
                let Some((_, vspace)) = vspace else {
                    return Err(SyscallError::TruncatedMessage);
                };
                if mapped.is_some() {
                    return Err(SyscallError::InvalidCapability { index: 0 });
                }
                let vaddr = w(0);
                let Some(Cap::PageTable {
                    obj: root,
                    mapped: Some((asid, _)),
                }) = vspace
                else {
                    return Err(SyscallError::InvalidCapability { index: 1 });
                };
                if vaddr >= USER_TOP {
                    return Err(SyscallError::InvalidArgument { index: 0 });
                }
                self.check_vspace(root, asid)?;
                let (at, bits) = self.lookup_pt_slot(root, vaddr);
                if bits == level_bits(LEVELS - 1) || self.pte(at).is_some() {
                    return Err(SyscallError::DeleteFirst);
                }
                let region = vaddr & !((1u64 << bits) - 1);
                self.set_cap(
                    slot,
                    Cap::PageTable {
                        obj,
                        mapped: Some((asid, region)),
                    },
                );
                self.set_pte(at, Some(Pte::Table(obj)));
                Ok(())
            }
            Cap::Frame {
                obj,
                size_bits,
                mapped,
                ..
            } => match inv.label {
                PAGE_MAP => {
                    let vspace = extra_cap(self, 0).filter(|_| len >= 3);
                    let Some((_, vspace)) = vspace else {
                        return Err(SyscallError::TruncatedMessage);
                    };
                    let (vaddr, mask, attr) = (w(0), w(1), w(2));
                    let Some(Cap::PageTable {
                        obj: root,
                        mapped: Some((asid, _)),
                    }) = vspace
                    else {
                        return Err(SyscallError::InvalidCapability { index: 1 });
                    };
                    self.check_vspace(root, asid)?;
                    let size = 1u64 << size_bits;
                    if vaddr.wrapping_add(size - 1) >= USER_TOP {
                        return Err(SyscallError::InvalidArgument { index: 0 });
                    }
                    if vaddr & (size - 1) != 0 {
                        return Err(SyscallError::AlignmentError);
                    }
                    let (at, bits) = self.lookup_pt_slot(root, vaddr);
                    if bits != size_bits {
                        return Err(SyscallError::FailedLookup {
                            source: false,
                            fault: LookupFault::MissingCapability { bits_left: bits },
                        });
                    }
                    match mapped {
                        Some((a, _)) if a != asid => {
                            return Err(SyscallError::InvalidCapability { index: 1 })
                        }
                        Some((_, v)) if v != vaddr => {
                            return Err(SyscallError::InvalidArgument { index: 0 })
                        }
                        Some(_) if matches!(self.pte(at), Some(Pte::Table(_))) => {
                            return Err(SyscallError::DeleteFirst)
                        }
                        None if self.pte(at).is_some() => return Err(SyscallError::DeleteFirst),
                        _ => {}
                    }
                    let Cap::Frame { rights, .. } = mask_rights(mask, cap) else {
                        return Ok(());
                    };
                    let exec = attr & EXECUTE_NEVER == 0;
                    let pte = (rights != VmRights::KernelOnly || exec).then_some(Pte::Page {
                        frame: obj,
                        rights,
                        exec,
                    });
                    self.set_cap(slot, with_mapping(cap, Some((asid, vaddr))));
                    self.set_pte(at, pte);
                    Ok(())
                }
                PAGE_UNMAP => {
                    if let Some((asid, vaddr)) = mapped {
                        self.unmap_page(size_bits, asid, vaddr, obj);
                    }
                    self.set_cap(slot, with_mapping(cap, None));
                    Ok(())
                }
                PAGE_GET_ADDRESS => {
                    if call {
                        self.reply_from_kernel(t, 0, &[obj]);
                    }
                    self.set_state(t, ThreadState::Running);
                    Ok(())
                }
                _ => Err(SyscallError::IllegalOperation),
            },
            Cap::AsidControl => {
                if inv.label != ASID_CONTROL_MAKE_POOL {
                    return Err(SyscallError::IllegalOperation);
                }
                let (Some((ut_slot, untyped)), Some((_, root)), true) =
                    (extra_cap(self, 0), extra_cap(self, 1), len >= 2)
                else {
                    return Err(SyscallError::TruncatedMessage);
                };
                let pool = (0..ASID_POOLS)
                    .find(|i| !self.asid_table.contains_key(i))
                    .ok_or(SyscallError::DeleteFirst)?;
                let Some(Cap::Untyped {
                    obj,
                    size_bits: ASID_POOL_BITS,
                    device: false,
                    ..
                }) = untyped
                else {
                    return Err(SyscallError::InvalidCapability { index: 1 });
                };
                if self.entry(ut_slot).is_some_and(|e| !e.children.is_empty()) {
                    return Err(SyscallError::RevokeFirst);
                }
                let dest = match root {
                    Some(r) => self.lookup_slot_for_cnode_op(false, &r, w(0), w(1))?,
                    None => return Err(invalid_root()),
                };
                if self.cap(dest).is_some() {
                    return Err(SyscallError::DeleteFirst);
                }
                if let Some(Cap::Untyped { watermark, .. }) =
                    self.entry_mut(ut_slot).map(|e| &mut e.cap)
                {
                    *watermark = 1 << ASID_POOL_BITS;
                }
                let cap = Cap::AsidPool {
                    obj,
                    base: pool * ASIDS_PER_POOL,
                };
                self.objects.insert(
                    obj,
                    Object::AsidPool {
                        roots: Default::default(),
                    },
                );
                self.insert_derived(ut_slot, dest, cap);
                self.asid_table.insert(pool, obj);
                Ok(())
            }
            Cap::AsidPool { obj, base } => {
                if inv.label != ASID_POOL_ASSIGN {
                    return Err(SyscallError::IllegalOperation);
                }
                let Some((vslot, vcap)) = extra_cap(self, 0) else {
                    return Err(SyscallError::TruncatedMessage);
                };
                let Some(Cap::PageTable {
                    obj: root,
                    mapped: None,
                }) = vcap
                else {
                    return Err(SyscallError::InvalidCapability { index: 1 });
                };
                match self.asid_table.get(&(base / ASIDS_PER_POOL)) {
                    None => return Err(invalid_root()),
                    Some(&p) if p != obj => {
                        return Err(SyscallError::InvalidCapability { index: 0 })
                    }
                    Some(_) => {}
                }
                let Some(Object::AsidPool { roots }) = self.objects.get_mut(&obj) else {
                    return Err(invalid_root());
                };
                let first = base - base % ASIDS_PER_POOL;
                let free = (0..ASIDS_PER_POOL)
                    .find(|i| first + i != 0 && !roots.contains_key(i))
                    .ok_or(SyscallError::DeleteFirst)?;
                roots.insert(free, root);
                let mapped = Some((first + free, 0));
                self.set_cap(vslot, Cap::PageTable { obj: root, mapped });
                Ok(())
            }
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    /// That `asid` still names the root `root`.
    fn check_vspace(&self, root: ObjId, asid: u64) -> Result<(), SyscallError> {
        match self.find_vspace(asid) {
            None => Err(invalid_root()),
            Some(r) if r != root => Err(SyscallError::InvalidCapability { index: 1 }),
            Some(_) => Ok(()),
        }
    }

    /// Removes the mapping of `frame` at `vaddr` in `asid` if the walk
    /// still reaches a slot of the frame's size that maps this frame
    /// (seL4's `unmapPage`); anything else means it is gone already.
    pub fn unmap_page(&mut self, size_bits: u32, asid: u64, vaddr: u64, frame: ObjId) {
        let Some(root) = self.find_vspace(asid) else {
            return;
        };
        let (at, bits) = self.lookup_pt_slot(root, vaddr);
        if bits == size_bits
            && matches!(self.pte(at), Some(Pte::Page { frame: f, .. }) if f == frame)
        {
            self.set_pte(at, None);
        }
    }

    /// Removes `table` from the slot that holds it on the walk from
    /// `asid`'s root towards `vaddr`, if the walk reaches it through
    /// tables (seL4's `unmapPageTable`).
    pub fn unmap_page_table(&mut self, asid: u64, vaddr: u64, table: ObjId) {
        let Some(mut pt) = self.find_vspace(asid) else {
            return;
        };
        let mut holder = None;
        for level in 0..LEVELS - 1 {
            if pt == table {
                break;
            }
            let at = (pt, index(vaddr, level));
            match self.pte(at) {
                Some(Pte::Table(next)) => {
                    holder = Some(at);
                    pt = next;
                }
                _ => return,
            }
        }
        if let (true, Some(at)) = (pt == table, holder) {
            self.set_pte(at, None);
        }
    }

    /// What deleting the VM cap `cap` in `slot` does before the slot is
    /// emptied (seL4's `Arch_finaliseCap`; see the module doc).
    pub(crate) fn finalise_vm(&mut self, slot: SlotId, cap: &Cap) {
        match *cap {
            Cap::Frame {
                obj,
                size_bits,
                mapped: Some((asid, vaddr)),
                ..
            } => self.unmap_page(size_bits, asid, vaddr, obj),
            Cap::PageTable {
                obj,
                mapped: Some((asid, vaddr)),
            } if self.is_final(slot, cap) => {
                if self.find_vspace(asid) == Some(obj) {
                    self.delete_asid(asid);
                } else {
                    self.unmap_page_table(asid, vaddr, obj);
                }
            }
            Cap::AsidPool { obj, base } if self.is_final(slot, cap) => {
                let pool = base / ASIDS_PER_POOL;
                if self.asid_table.get(&pool) == Some(&obj) {
                    self.asid_table.remove(&pool);
                }
            }
            _ => {}
        }
    }

    /// Removes `asid` from its pool (seL4's `deleteASID`).
    fn delete_asid(&mut self, asid: u64) {
        let Some(&pool) = self.asid_table.get(&(asid / ASIDS_PER_POOL)) else {
            return;
        };
        if let Some(Object::AsidPool { roots }) = self.objects.get_mut(&pool) {
            roots.remove(&(asid % ASIDS_PER_POOL));
        }
    }
}

/// A frame cap with its mapping replaced.
fn with_mapping(cap: Cap, m: Option<(u64, u64)>) -> Cap {
    match cap {
        Cap::Frame {
            obj,
            size_bits,
            rights,
            device,
            ..
        } => Cap::Frame {
            obj,
            size_bits,
            rights,
            device,
            mapped: m,
        },
        other => other,
    }
}
