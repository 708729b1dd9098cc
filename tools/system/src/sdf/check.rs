//! Checks across elements: names that must exist or be unique, ids that
//! share a PD's badge bits, maps that must fit the PD's address space and
//! not overlap, interrupts taken once, the protected-call rules and
//! passive PDs that must be called.

use std::collections::HashMap;

use super::{Config, System};
use crate::diag::{Diagnostics, Pos};
use crate::layout;

/// Records every problem of `system` in `diags`.
pub fn check(system: &System, config: Config, diags: &mut Diagnostics) {
    if system.pds.is_empty() {
        diags.error(
            Pos::new(1, 1),
            "a system needs at least one <protection_domain>",
        );
    }
    unique_names(system, diags);
    identifiers(system, diags);
    for pd in &system.pds {
        maps(system, pd, diags);
        setvars(system, pd, diags);
    }
    ids(system, diags);
    irqs(system, diags);
    channels(system, diags);
    if config.mcs {
        passive(system, diags);
    }
    physical(system, diags);
}

fn unique_names(system: &System, diags: &mut Diagnostics) {
    let mut pds: HashMap<&str, &super::Pd> = HashMap::new();
    for pd in &system.pds {
        if let Some(first) = pds.get(pd.name.as_str()) {
            diags.error(pd.pos, duplicate_pd(system, first, pd));
        } else {
            pds.insert(&pd.name, pd);
        }
    }
    let mut mrs: HashMap<&str, Pos> = HashMap::new();
    for mr in &system.mrs {
        if let Some(first) = mrs.get(mr.name.as_str()) {
            diags.error(
                mr.pos,
                format!(
                    "duplicate memory region name '{}' (first at line {})",
                    mr.name, first.line
                ),
            );
        } else {
            mrs.insert(&mr.name, mr.pos);
        }
    }
}

/// The message for a PD name described twice. Nesting a PD under a second
/// parent (or also at the top level) is how a description would ask for
/// more than one parent; a PD has at most one, as in Microkit (its faults
/// go to that parent's endpoint, its TCB sits in that parent's CNode), so
/// that case says so instead of calling it a mere duplicate name.
fn duplicate_pd(system: &System, first: &super::Pd, again: &super::Pd) -> String {
    let parent = |p: &super::Pd| {
        p.parent
            .and_then(|i| system.pds.get(i))
            .map(|q| q.name.as_str())
    };
    let name = &again.name;
    let line = first.pos.line;
    match (parent(first), parent(again)) {
        (None, None) => {
            format!("duplicate protection domain name '{name}' (first at line {line})")
        }
        (Some(p), Some(q)) => format!(
            "protection domain '{name}' is already the child of '{p}' (line {line}), here it \
             would be the child of '{q}' too: a PD has at most one parent, as in Microkit"
        ),
        (Some(p), None) => format!(
            "protection domain '{name}' is already the child of '{p}' (line {line}); it cannot \
             also be a top-level PD: a PD has at most one parent, as in Microkit"
        ),
        (None, Some(q)) => format!(
            "protection domain '{name}' is a top-level PD (line {line}), here it would be the \
             child of '{q}' too: a PD has at most one parent, as in Microkit"
        ),
    }
}

/// PD and memory-region names become parts of CapDL object names, so they
/// must be what capDL's identifiers are made of.
fn identifiers(system: &System, diags: &mut Diagnostics) {
    let names = system
        .pds
        .iter()
        .map(|p| (&p.name, p.pos, "protection domain"))
        .chain(system.mrs.iter().map(|m| (&m.name, m.pos, "memory region")));
    for (name, pos, what) in names {
        if what == "protection domain" && name == crate::layout::MONITOR {
            diags.error(
                pos,
                "the name 'monitor' is the system's own monitor's (the fault handler of \
                 top-level PDs): choose another",
            );
        }
        let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok && !name.is_empty() {
            diags.error(
                pos,
                format!(
                    "{what} name '{name}' must be a letter followed by letters, digits or '_' \
                     (it becomes part of CapDL object names)"
                ),
            );
        }
    }
}

fn maps(system: &System, pd: &super::Pd, diags: &mut Diagnostics) {
    let mut placed: Vec<(u64, u64, &str)> = Vec::new();
    for m in &pd.maps {
        let Some(mr) = system.mr(&m.mr) else {
            diags.error(m.pos, format!("unknown memory region '{}'", m.mr));
            continue;
        };
        if mr.page_size != 0 && m.vaddr % mr.page_size != 0 {
            diags.error(
                m.pos,
                format!(
                    "vaddr {:#x} of '{}' is not a multiple of its page size {:#x}",
                    m.vaddr, m.mr, mr.page_size
                ),
            );
        }
        let end = m.vaddr.checked_add(mr.size);
        match end {
            Some(end) if end <= layout::PD_MAP_LIMIT => {}
            _ => {
                diags.error(
                    m.pos,
                    format!(
                        "map of '{}' at {:#x} (size {:#x}) lies outside the PD's address space \
                         for maps [0x0..{:#x})",
                        m.mr,
                        m.vaddr,
                        mr.size,
                        layout::PD_MAP_LIMIT
                    ),
                );
                continue;
            }
        }
        let end = end.unwrap_or(u64::MAX);
        if let Some((s, e, other)) = placed.iter().find(|(s, e, _)| m.vaddr < *e && *s < end) {
            diags.error(
                m.pos,
                format!(
                    "map of '{}' [{:#x}..{end:#x}) overlaps the map of '{other}' [{s:#x}..{e:#x}) in '{}'",
                    m.mr, m.vaddr, pd.name
                ),
            );
        }
        placed.push((m.vaddr, end, &m.mr));
    }
}

fn setvars(system: &System, pd: &super::Pd, diags: &mut Diagnostics) {
    let mut symbols: Vec<(&str, Pos)> = Vec::new();
    for s in &pd.setvars {
        symbols.push((&s.symbol, s.pos));
        match system.mr(&s.region_paddr) {
            None => diags.error(
                s.pos,
                format!("unknown memory region '{}' in region_paddr", s.region_paddr),
            ),
            Some(mr) if mr.phys_addr.is_none() => diags.error(
                s.pos,
                format!(
                    "region_paddr '{}' has no phys_addr: Cairn does not choose physical addresses yet",
                    s.region_paddr
                ),
            ),
            Some(_) => {}
        }
    }
    for m in &pd.maps {
        for s in [&m.setvar_vaddr, &m.setvar_size].into_iter().flatten() {
            symbols.push((s, m.pos));
        }
    }
    for i in &pd.irqs {
        if let Some(s) = &i.setvar_id {
            symbols.push((s, i.pos));
        }
    }
    symbols.sort_by_key(|s| s.1);
    let mut seen: HashMap<&str, Pos> = HashMap::new();
    for (symbol, pos) in symbols {
        if seen.insert(symbol, pos).is_some() {
            diags.error(
                pos,
                format!("symbol '{symbol}' is set twice in '{}'", pd.name),
            );
        }
    }
}

/// Channel and IRQ ids of one PD share its badge bits; children's ids are
/// unique among their siblings.
fn ids(system: &System, diags: &mut Diagnostics) {
    let mut used: HashMap<(&str, u64), Pos> = HashMap::new();
    let mut events: Vec<(&str, u64, Pos)> = Vec::new();
    for pd in &system.pds {
        events.extend(pd.irqs.iter().map(|i| (pd.name.as_str(), i.id, i.pos)));
    }
    for c in &system.channels {
        events.extend(c.ends.iter().map(|e| (e.pd.as_str(), e.id, e.pos)));
    }
    events.sort_by_key(|e| e.2);
    for (pd, id, pos) in events {
        if let Some(first) = used.get(&(pd, id)) {
            diags.error(
                pos,
                format!(
                    "duplicate channel id {id} in protection domain '{pd}' (first at line {})",
                    first.line
                ),
            );
        } else {
            used.insert((pd, id), pos);
        }
    }
    let mut children: HashMap<(usize, u64), ()> = HashMap::new();
    for pd in &system.pds {
        if let (Some(parent), Some(id)) = (pd.parent, pd.child_id) {
            if children.insert((parent, id), ()).is_some() {
                diags.error(pd.pos, format!("duplicate child id {id} in its parent"));
            }
        }
    }
}

fn irqs(system: &System, diags: &mut Diagnostics) {
    let mut taken: HashMap<u64, &str> = HashMap::new();
    let widths = crate::delivery::Wide::new(system);
    for pd in &system.pds {
        let wide = widths.groups(&pd.name) != 0;
        for i in &pd.irqs {
            if wide && i.id >= layout::FIRST_GROUP_ID {
                diags.error(
                    i.pos,
                    format!(
                        "'{}' is notified on channel ids above {}, so ids from {} on reach it \
                         through extra notifications, which an interrupt cannot signal: give \
                         this interrupt an id from 0 to {}",
                        pd.name,
                        layout::MAX_ID,
                        layout::FIRST_GROUP_ID,
                        layout::FIRST_GROUP_ID - 1
                    ),
                );
            }
            if let Some(owner) = taken.get(&i.irq) {
                diags.error(
                    i.pos,
                    format!("irq {} is already taken by '{owner}'", i.irq),
                );
            } else {
                taken.insert(i.irq, &pd.name);
            }
        }
    }
}

fn channels(system: &System, diags: &mut Diagnostics) {
    for c in &system.channels {
        let [a, b] = &c.ends;
        let mut known = true;
        for e in [a, b] {
            if system.pd_index(&e.pd).is_none() {
                diags.error(e.pos, format!("unknown protection domain '{}'", e.pd));
                known = false;
            }
        }
        if !known {
            continue;
        }
        if a.pd == b.pd {
            diags.error(
                c.pos,
                format!("a channel connects two PDs, not '{}' with itself", a.pd),
            );
            continue;
        }
        if a.pp && b.pp {
            diags.error(
                b.pos,
                "only one end of a channel may make protected calls (calls must go to strictly \
                 higher priority)",
            );
            continue;
        }
        for (caller, callee) in [(a, b), (b, a)] {
            if !caller.pp {
                continue;
            }
            let prio = |name: &str| {
                system
                    .pds
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.priority)
            };
            if let (Some(from), Some(to)) = (prio(&caller.pd), prio(&callee.pd)) {
                if from >= to {
                    diags.error(
                        caller.pos,
                        format!(
                            "protected calls go to strictly higher priority: '{}' ({from}) may not call '{}' ({to})",
                            caller.pd, callee.pd
                        ),
                    );
                }
            }
        }
    }
}

fn passive(system: &System, diags: &mut Diagnostics) {
    for pd in system.pds.iter().filter(|p| p.passive) {
        if !system.is_called(&pd.name) {
            diags.error(
                pd.pos,
                format!(
                    "passive protection domain '{}' is never called (no channel end with pp=\"true\" \
                     leads to it), so it would never run after init",
                    pd.name
                ),
            );
        }
    }
}

/// Memory regions at fixed physical addresses must not overlap.
fn physical(system: &System, diags: &mut Diagnostics) {
    let mut fixed: Vec<(u64, u64, &str)> = Vec::new();
    for mr in &system.mrs {
        let Some(start) = mr.phys_addr else { continue };
        let end = start.saturating_add(mr.size);
        if let Some((s, e, other)) = fixed.iter().find(|(s, e, _)| start < *e && *s < end) {
            diags.error(
                mr.pos,
                format!(
                    "memory region '{}' [{start:#x}..{end:#x}) overlaps '{other}' [{s:#x}..{e:#x}) in physical memory",
                    mr.name
                ),
            );
        }
        fixed.push((start, end, &mr.name));
    }
}
