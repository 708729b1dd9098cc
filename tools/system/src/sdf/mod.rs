//! System descriptions in seL4 Microkit's format (the System Description
//! File of Microkit 2.3.0's manual): the types, the XML reader
//! ([`xml`]) and the checks across elements ([`check`]).
//!
//! [`parse`] is the entry point: text in, a validated [`System`] or every
//! problem with its position out.

pub mod check;
mod elements;
pub mod xml;

use crate::diag::{Diagnostic, Diagnostics, Pos};

/// Whether the kernel the system is built for is the MCS one. Budgets,
/// periods and passive PDs exist only there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The MCS configuration (`--config mcs=on`).
    pub mcs: bool,
}

/// A whole system: every PD (children after their parents, each with its
/// parent's index), memory region and channel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct System {
    /// Protection domains in document order (a child right after its
    /// parent's earlier children).
    pub pds: Vec<Pd>,
    /// Memory regions.
    pub mrs: Vec<Mr>,
    /// Channels.
    pub channels: Vec<Channel>,
}

/// A protection domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pd {
    /// Unique name.
    pub name: String,
    /// Where the element starts.
    pub pos: Pos,
    /// Priority, 0 to 254.
    pub priority: u64,
    /// MCS budget and period in µs (defaults filled in under MCS).
    pub sched: Option<Sched>,
    /// MCS: the PD runs on its callers' scheduling contexts after `init`.
    pub passive: bool,
    /// Stack size in bytes.
    pub stack_size: u64,
    /// Whether the PD may use the FPU.
    pub fpu: bool,
    /// The ELF file.
    pub program_image: String,
    /// An ELF for looking up symbols only (Microkit's `path_for_symbols`).
    pub path_for_symbols: Option<String>,
    /// Memory regions mapped in.
    pub maps: Vec<Map>,
    /// Interrupts delivered to it.
    pub irqs: Vec<Irq>,
    /// Symbols set to memory regions' physical addresses.
    pub setvars: Vec<Setvar>,
    /// Index of the parent PD in [`System::pds`], for a child.
    pub parent: Option<usize>,
    /// The child's id in its parent's view (children only).
    pub child_id: Option<u64>,
    /// Symbol in the parent's image set to `child_id`.
    pub setvar_id: Option<String>,
}

impl Pd {
    /// Whether the kernel can raise a timeout fault for this PD (MCS): its
    /// budget is less than its period (seL4 raises none on a round-robin
    /// context, budget = period), so it gets a timeout handler.
    pub fn can_time_out(&self) -> bool {
        self.sched.is_some_and(|s| s.budget < s.period)
    }
}

/// MCS scheduling parameters, in µs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sched {
    /// Time the PD may run per period.
    pub budget: u64,
    /// Replenishment period.
    pub period: u64,
}

/// Access rights of a mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Perms {
    /// `r`.
    pub read: bool,
    /// `w`.
    pub write: bool,
    /// `x`.
    pub execute: bool,
}

impl Perms {
    /// The letters, in `rwx` order.
    pub fn letters(self) -> String {
        let mut s = String::new();
        for (on, c) in [(self.read, 'r'), (self.write, 'w'), (self.execute, 'x')] {
            if on {
                s.push(c);
            }
        }
        s
    }
}

/// A memory region mapped into a PD.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Map {
    /// Where the element starts.
    pub pos: Pos,
    /// The memory region's name.
    pub mr: String,
    /// Virtual address of its first byte.
    pub vaddr: u64,
    /// Rights.
    pub perms: Perms,
    /// Cached (normal memory) or not (device memory).
    pub cached: bool,
    /// Symbol set to `vaddr`.
    pub setvar_vaddr: Option<String>,
    /// Symbol set to the region's size.
    pub setvar_size: Option<String>,
}

/// How an interrupt line signals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trigger {
    /// Level triggered (the default).
    #[default]
    Level,
    /// Edge triggered.
    Edge,
}

/// A hardware interrupt delivered to a PD on channel `id`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Irq {
    /// Where the element starts.
    pub pos: Pos,
    /// The interrupt number (PLIC source).
    pub irq: u64,
    /// The PD's channel id for it.
    pub id: u64,
    /// Level or edge.
    pub trigger: Trigger,
    /// Symbol set to `id`.
    pub setvar_id: Option<String>,
}

/// A symbol set to a memory region's physical address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Setvar {
    /// Where the element starts.
    pub pos: Pos,
    /// The symbol.
    pub symbol: String,
    /// The memory region.
    pub region_paddr: String,
}

/// A memory region.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mr {
    /// Unique name.
    pub name: String,
    /// Where the element starts.
    pub pos: Pos,
    /// Size in bytes, a multiple of `page_size`.
    pub size: u64,
    /// Page size in bytes (4 KiB or 2 MiB).
    pub page_size: u64,
    /// Whether `page_size` was written (else the tool chose it).
    pub page_size_given: bool,
    /// Fixed physical address (device memory, DMA).
    pub phys_addr: Option<u64>,
}

impl Mr {
    /// Number of pages.
    pub fn pages(&self) -> u64 {
        self.size.checked_div(self.page_size).unwrap_or(0)
    }
}

/// One end of a channel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct End {
    /// Where the element starts.
    pub pos: Pos,
    /// The PD's name.
    pub pd: String,
    /// The PD's channel id.
    pub id: u64,
    /// This end may call the other end's protected procedure.
    pub pp: bool,
    /// This end may notify the other end.
    pub notify: bool,
    /// Symbol set to `id`.
    pub setvar_id: Option<String>,
}

/// A channel between two PDs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Channel {
    /// Where the element starts.
    pub pos: Pos,
    /// The two ends.
    pub ends: [End; 2],
}

impl System {
    /// The index of the PD called `name`.
    pub fn pd_index(&self, name: &str) -> Option<usize> {
        self.pds.iter().position(|p| p.name == name)
    }

    /// The memory region called `name`.
    pub fn mr(&self, name: &str) -> Option<&Mr> {
        self.mrs.iter().find(|m| m.name == name)
    }

    /// Whether some channel lets another PD call `name`'s protected
    /// procedure.
    pub fn is_called(&self, name: &str) -> bool {
        self.channels.iter().any(|c| {
            let [a, b] = &c.ends;
            (b.pd == name && a.pp) || (a.pd == name && b.pp)
        })
    }

    /// Whether PD `index` needs an endpoint: it is called (a channel's
    /// other end has `pp`) or it has children (their faults come there).
    pub fn needs_endpoint(&self, index: usize) -> bool {
        let Some(pd) = self.pds.get(index) else {
            return false;
        };
        self.is_called(&pd.name) || self.pds.iter().any(|p| p.parent == Some(index))
    }
}

/// Reads and checks the system description `text` (from `file`, for the
/// messages) for the kernel configuration `config`.
pub fn parse(file: &str, text: &str, config: Config) -> Result<System, Vec<Diagnostic>> {
    let mut diags = Diagnostics::new(file);
    let system = xml::read(text, config, &mut diags);
    if let Some(system) = &system {
        check::check(system, config, &mut diags);
    }
    match system {
        Some(s) if diags.is_empty() => Ok(s),
        _ => Err(diags.into_sorted()),
    }
}
