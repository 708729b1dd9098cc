//! Placing objects in the untyped memory of bootinfo. The loader mirrors
//! each untyped's free index as the kernel keeps it (an object goes at the
//! next multiple of its size), so that it knows before retyping whether an
//! object fits, and can say exactly what does not.
//!
//! Device frames come from the device untypeds: the untyped that holds
//! the frame's physical address is split in halves (`Untyped_Retype` into
//! two untypeds), the half with the address again, until one is exactly
//! the frame's size. The halves are remembered, so that the next device
//! frame in the same untyped is cut from what is left.

use sel4::{BootInfo, CNode, CPtr, Error, ObjectType, Untyped};

/// bootinfo's `untypedList` has at most this many entries; each split
/// adds one more (two halves for their parent).
const MAX: usize = 230 + 256;

#[derive(Clone, Copy, Default)]
struct Ut {
    cap: u64,
    size_bits: u8,
    /// Bytes used from the start.
    used: u64,
    /// RAM (objects are placed by `take`), or device memory.
    ram: bool,
    paddr: u64,
}

/// The untypeds of bootinfo and the device halves split from them.
pub struct Pool {
    uts: [Ut; MAX],
    n: usize,
}

/// Why a device frame could not be made.
pub enum DeviceError {
    /// No device untyped holds the address, or it is used already.
    NoUntyped,
    /// More splits than the pool has room for.
    Full,
    /// A retype failed.
    Kernel(Error),
}

impl Pool {
    pub fn new(bootinfo: &BootInfo) -> Pool {
        let mut p = Pool {
            uts: [Ut::default(); MAX],
            n: 0,
        };
        for (slot, ut) in p.uts.iter_mut().zip(bootinfo.untypeds()) {
            *slot = Ut {
                cap: ut.cap.0 .0,
                size_bits: ut.size_bits,
                used: 0,
                ram: !ut.is_device,
                paddr: ut.paddr,
            };
            p.n += 1;
        }
        p
    }

    /// An untyped with room for an object of `2^bits` bytes, the first
    /// one that fits; its free index is moved past the object.
    pub fn take(&mut self, bits: u64) -> Option<Untyped> {
        let size = 1u64.checked_shl(u32::try_from(bits).ok()?)?;
        for ut in self.uts.iter_mut().take(self.n).filter(|u| u.ram) {
            let start = ut.used.checked_next_multiple_of(size)?;
            let cap_size = 1u64.checked_shl(u32::from(ut.size_bits))?;
            if start.checked_add(size).is_some_and(|end| end <= cap_size) {
                ut.used = start + size;
                return Some(Untyped(sel4::CPtr(ut.cap)));
            }
        }
        None
    }

    /// An unused device untyped of exactly `2^bits` bytes at `paddr`,
    /// split from the one that holds it; `fresh` gives two consecutive
    /// empty slots of `root` for each split.
    pub fn device(
        &mut self,
        paddr: u64,
        bits: u8,
        root: CNode,
        mut fresh: impl FnMut() -> Option<u64>,
    ) -> Result<Untyped, DeviceError> {
        loop {
            let i = (0..self.n)
                .find(|&i| {
                    let u = &self.uts[i];
                    let size = 1u64.checked_shl(u32::from(u.size_bits)).unwrap_or(0);
                    !u.ram && u.used == 0 && paddr >= u.paddr && paddr - u.paddr < size
                })
                .ok_or(DeviceError::NoUntyped)?;
            let u = self.uts[i];
            if u.size_bits == bits {
                self.uts[i].used = 1;
                return Ok(Untyped(CPtr(u.cap)));
            }
            if u.size_bits < bits || self.n + 2 > MAX {
                return Err(if u.size_bits < bits {
                    DeviceError::NoUntyped
                } else {
                    DeviceError::Full
                });
            }
            let slot = fresh().ok_or(DeviceError::Full)?;
            if fresh() != Some(slot + 1) {
                return Err(DeviceError::Full);
            }
            let half = u.size_bits - 1;
            Untyped(CPtr(u.cap))
                .retype(ObjectType::Untyped, u64::from(half), root, 0, 0, slot, 2)
                .map_err(DeviceError::Kernel)?;
            self.uts[i].used = 1;
            for k in 0..2 {
                self.uts[self.n] = Ut {
                    cap: slot + k,
                    size_bits: half,
                    used: 0,
                    ram: false,
                    paddr: u.paddr + (k << half),
                };
                self.n += 1;
            }
        }
    }

    /// The largest block still free in one untyped (for the report of
    /// what does not fit).
    pub fn largest_free(&self) -> u64 {
        self.uts
            .iter()
            .take(self.n)
            .filter(|u| u.ram)
            .map(|u| (1u64 << u.size_bits).saturating_sub(u.used))
            .max()
            .unwrap_or(0)
    }

    /// The untyped caps, to delete at the end.
    pub fn caps(&self) -> impl Iterator<Item = u64> + '_ {
        self.uts.iter().take(self.n).map(|u| u.cap)
    }
}
