//! Placing objects in the untyped memory of bootinfo. The loader mirrors
//! each untyped's free index as the kernel keeps it (an object goes at the
//! next multiple of its size), so that it knows before retyping whether an
//! object fits, and can say exactly what does not.

use sel4::{BootInfo, Untyped};

/// bootinfo's `untypedList` has at most this many entries.
const MAX: usize = 230;

#[derive(Clone, Copy, Default)]
struct Ut {
    cap: u64,
    size_bits: u8,
    /// Bytes used from the start.
    used: u64,
    usable: bool,
}

/// The RAM untypeds (device ones are not used: no frame at a physical
/// address is loaded yet).
pub struct Pool {
    uts: [Ut; MAX],
    n: usize,
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
                usable: !ut.is_device,
            };
            p.n += 1;
        }
        p
    }

    /// An untyped with room for an object of `2^bits` bytes, the first
    /// one that fits; its free index is moved past the object.
    pub fn take(&mut self, bits: u64) -> Option<Untyped> {
        let size = 1u64.checked_shl(u32::try_from(bits).ok()?)?;
        for ut in self.uts.iter_mut().take(self.n).filter(|u| u.usable) {
            let start = ut.used.checked_next_multiple_of(size)?;
            let cap_size = 1u64.checked_shl(u32::from(ut.size_bits))?;
            if start.checked_add(size).is_some_and(|end| end <= cap_size) {
                ut.used = start + size;
                return Some(Untyped(sel4::CPtr(ut.cap)));
            }
        }
        None
    }

    /// The largest block still free in one untyped (for the report of
    /// what does not fit).
    pub fn largest_free(&self) -> u64 {
        self.uts
            .iter()
            .take(self.n)
            .filter(|u| u.usable)
            .map(|u| (1u64 << u.size_bits).saturating_sub(u.used))
            .max()
            .unwrap_or(0)
    }

    /// The untyped caps, to delete at the end.
    pub fn caps(&self) -> impl Iterator<Item = u64> + '_ {
        self.uts.iter().take(self.n).map(|u| u.cap)
    }
}
