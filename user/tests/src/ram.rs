//! Physical RAM as the device tree describes it: the `memory` nodes minus
//! the `/reserved-memory` children, the memory reservation block, and the
//! SBI firmware's region below the kernel's load address (seL4's
//! `qemu-riscv-virt` overlay reserves it; the DTB QEMU's OpenSBI passes on
//! only marks part of it, ABI ref §6.1). Used to check where the kernel's
//! untypeds lie (ABI ref §6.6).

use fdt::Fdt;

/// The kernel's physical load address (`PHYS_BASE`, ABI ref §6.1).
const KERNEL_PHYS_BASE: u64 = 0x8020_0000;

/// Most disjoint ranges tracked.
const MAX_RANGES: usize = 32;

/// A set of disjoint half-open physical ranges `[start, end)`.
#[derive(Clone, Copy, Debug)]
pub struct Ranges {
    r: [(u64, u64); MAX_RANGES],
    n: usize,
}

impl Ranges {
    const fn new() -> Self {
        Ranges {
            r: [(0, 0); MAX_RANGES],
            n: 0,
        }
    }

    /// The ranges.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.r.iter().take(self.n).copied()
    }

    fn push(&mut self, range: (u64, u64)) -> Result<(), &'static str> {
        if range.0 >= range.1 {
            return Ok(());
        }
        let slot = self.r.get_mut(self.n).ok_or("too many RAM ranges")?;
        *slot = range;
        self.n += 1;
        Ok(())
    }

    /// Removes `[start, end)` from every range.
    fn subtract(&mut self, start: u64, end: u64) -> Result<(), &'static str> {
        let old = *self;
        self.n = 0;
        for (s, e) in old.iter() {
            if end <= s || start >= e {
                self.push((s, e))?;
            } else {
                self.push((s, start.max(s)))?;
                self.push((end.min(e), e))?;
            }
        }
        Ok(())
    }

    /// Total bytes.
    pub fn total(&self) -> u64 {
        self.iter().map(|(s, e)| e - s).sum()
    }

    /// True if `[start, end)` lies inside the union of the ranges.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        // Walk forward through adjacent ranges from `start`.
        let mut at = start;
        while at < end {
            match self.iter().find(|&(s, e)| s <= at && at < e) {
                Some((_, e)) => at = e,
                None => return false,
            }
        }
        true
    }

    /// True if `[start, end)` shares a byte with any range.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.iter().any(|(s, e)| start < e && s < end)
    }
}

/// The RAM the device tree `dtb` describes, reservations removed.
pub fn ram_from_fdt(dtb: &[u8]) -> Result<Ranges, &'static str> {
    let fdt = Fdt::new(dtb).map_err(|_| "the FDT does not parse")?;
    let mut ram = Ranges::new();
    for node in fdt.all_nodes() {
        let is_memory = node.property("device_type").and_then(|p| p.as_str()) == Some("memory");
        if !is_memory {
            continue;
        }
        for reg in node.reg().into_iter().flatten() {
            let start = reg.starting_address as u64;
            let size = reg.size.unwrap_or(0) as u64;
            ram.push((
                start,
                start.checked_add(size).ok_or("memory reg overflows")?,
            ))?;
        }
    }
    if let Some(reserved) = fdt.find_node("/reserved-memory") {
        for child in reserved.children() {
            for reg in child.reg().into_iter().flatten() {
                let start = reg.starting_address as u64;
                ram.subtract(start, start.saturating_add(reg.size.unwrap_or(0) as u64))?;
            }
        }
    }
    // ABI ref §6.1: the firmware owns [RAM start, PHYS_BASE); seL4 reports it
    // as a device untyped.
    ram.subtract(0, KERNEL_PHYS_BASE)?;
    for r in fdt.memory_reservations() {
        let start = r.address() as u64;
        ram.subtract(start, start.saturating_add(r.size() as u64))?;
    }
    Ok(ram)
}
