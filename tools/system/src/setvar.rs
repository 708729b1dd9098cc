//! The `setvar_*` attributes of a description: which variable of which
//! PD's program each one sets, to what value, and the check that the
//! program has that variable, as a 64-bit data symbol, reported at the
//! element that asks for it.
//!
//! Microkit's tool patches the program's ELF file; Cairn's image builder
//! patches the bytes it loads ([`crate::boot`]). Either way the symbol
//! must be 8 bytes of data: a smaller one would have its neighbours
//! overwritten, a function its code.

use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::System;

/// One variable a PD's program gets from the description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The symbol in the program.
    pub symbol: String,
    /// The value it is set to.
    pub value: u64,
    /// The attribute that asks for it (`setvar_vaddr`, `symbol`, ...).
    pub attribute: &'static str,
    /// The element that holds the attribute.
    pub pos: Pos,
}

/// The `setvar_*` symbols of PD `pd` of `system`, their values and where
/// the description asks for them, as Microkit's tool sets them: a
/// mapping's `setvar_vaddr` (its address) and `setvar_size` (the region's
/// size), a `setvar`'s `region_paddr` (the region's physical address), a
/// channel end's or IRQ's `setvar_id` (the id) and a child's `setvar_id`
/// (its id, in the parent's program).
pub fn sites(system: &System, pd: usize) -> Vec<Site> {
    let Some(p) = system.pds.get(pd) else {
        return Vec::new();
    };
    let mut v = Vec::new();
    let mut add = |symbol: &String, value: u64, attribute: &'static str, pos: Pos| {
        v.push(Site {
            symbol: symbol.clone(),
            value,
            attribute,
            pos,
        })
    };
    for m in &p.maps {
        if let Some(s) = &m.setvar_vaddr {
            add(s, m.vaddr, "setvar_vaddr", m.pos);
        }
        if let (Some(s), Some(mr)) = (&m.setvar_size, system.mr(&m.mr)) {
            add(s, mr.size, "setvar_size", m.pos);
        }
    }
    for s in &p.setvars {
        if let Some(paddr) = system.mr(&s.region_paddr).and_then(|m| m.phys_addr) {
            add(&s.symbol, paddr, "symbol", s.pos);
        }
    }
    for i in &p.irqs {
        if let Some(s) = &i.setvar_id {
            add(s, i.id, "setvar_id", i.pos);
        }
    }
    for e in system.channels.iter().flat_map(|c| &c.ends) {
        if let (true, Some(s)) = (e.pd == p.name, &e.setvar_id) {
            add(s, e.id, "setvar_id", e.pos);
        }
    }
    for c in system.pds.iter().filter(|c| c.parent == Some(pd)) {
        if let (Some(s), Some(id)) = (&c.setvar_id, c.child_id) {
            add(s, id, "setvar_id", c.pos);
        }
    }
    // The SDK's own variables, for more than 62 channels (none otherwise).
    for (s, value) in crate::delivery::sdk_setvars(system, &p.name) {
        add(&s.to_string(), value, SDK, p.pos);
    }
    // A passive PD's SDK hands its scheduling context to the monitor
    // after `init`.
    if p.passive {
        add(&crate::layout::SDK_PASSIVE.to_string(), 1, PASSIVE, p.pos);
    }
    v
}

/// The [`Site::attribute`] of the SDK's variables, which no attribute of
/// the description names: the image builder sets them for PDs with more
/// than 62 channels ([`crate::delivery`]).
pub const SDK: &str = "";
/// The [`Site::attribute`] of the SDK's variable that makes a PD passive
/// after `init` (the description's `passive="true"`).
pub const PASSIVE: &str = "passive";

/// The (symbol, value) pairs of [`sites`].
pub fn setvars(system: &System, pd: usize) -> Vec<(String, u64)> {
    sites(system, pd)
        .into_iter()
        .map(|s| (s.symbol, s.value))
        .collect()
}

/// The symbol `name` of the ELF file `elf` if it is a 64-bit variable;
/// else why not.
pub fn variable(elf: &[u8], name: &str) -> Result<cairn_image::elf::Symbol, String> {
    match cairn_image::elf::symbol(elf, name) {
        None => Err(format!("no symbol `{name}`")),
        Some(s) if !s.is_data() => Err(format!(
            "setvar symbol `{name}` is {}, not a 64-bit variable",
            s.kind_name()
        )),
        Some(s) if s.size != 8 => Err(format!(
            "setvar symbol `{name}` is {} bytes, not a 64-bit variable",
            s.size
        )),
        Some(s) => Ok(s),
    }
}

/// What a missing symbol's message adds: that the description asks for
/// it.
fn missing(why: &str) -> &'static str {
    if why.starts_with("no symbol") {
        " (a setvar of the description)"
    } else {
        ""
    }
}

/// Checks every setvar of PD `pd` against its program `elf` (the file
/// `program`, for the messages); each problem is reported at the element
/// of the description `file` that asks for the symbol.
pub fn check(file: &str, system: &System, pd: usize, program: &str, elf: &[u8]) -> Vec<Diagnostic> {
    let mut diags = Diagnostics::new(file);
    let name = system.pds.get(pd).map_or("", |p| p.name.as_str());
    for s in sites(system, pd) {
        let Err(why) = variable(elf, &s.symbol) else {
            continue;
        };
        let msg = if s.attribute == PASSIVE {
            format!(
                "'{name}' is passive, which its program must handle as cairn-microkit does \
                 (give its scheduling context to the monitor after init): in its program \
                 ({program}), {why} (cairn-microkit's)"
            )
        } else if s.attribute == SDK {
            format!(
                "'{name}' has channels beyond one notification's 62 (ids above 61, or a \
                 partner notified on such ids), which its program must handle as \
                 cairn-microkit does: in its program ({program}), {why} (cairn-microkit's)"
            )
        } else {
            format!(
                "{}=\"{}\": in the program of '{name}' ({program}), {why}{}",
                s.attribute,
                s.symbol,
                missing(&why)
            )
        };
        diags.error(s.pos, msg);
    }
    diags.into_sorted()
}

/// The monitor's 64-bit variables: the UART's address in its address
/// space ([`crate::layout::MONITOR_UART`]), where it prints itself.
pub fn monitor_setvars(system: &System) -> Vec<(String, u64)> {
    vec![(
        crate::layout::MONITOR_UART.to_string(),
        crate::capdl::build::monitor_uart_vaddr(system),
    )]
}

/// What a program gets on a kernel without `seL4_DebugPutChar`
/// (`debug=off`): the SDK's [`crate::layout::SDK_QUIET`] set to 1 if it
/// has the variable (a program that never prints through the SDK has
/// none, and needs none).
pub fn quiet(elf: &[u8]) -> Option<(String, u64)> {
    variable(elf, crate::layout::SDK_QUIET)
        .ok()
        .map(|_| (crate::layout::SDK_QUIET.to_string(), 1))
}

/// The monitor's table of PD names ([`crate::layout::MONITOR_NAMES`]):
/// each name and a zero byte, in `system.pds` order (badge 1 first).
pub fn monitor_names(system: &System) -> Result<Vec<u8>, String> {
    let mut v = Vec::new();
    for pd in &system.pds {
        v.extend(pd.name.as_bytes());
        v.push(0);
    }
    if v.len() > crate::layout::MONITOR_NAMES_BYTES {
        return Err(format!(
            "the PDs' names take {} bytes, more than the monitor's {}",
            v.len(),
            crate::layout::MONITOR_NAMES_BYTES
        ));
    }
    Ok(v)
}
