//! The capabilities of a parsed spec: slots numbered (given, or the
//! previous one + 1), ranges spread over consecutive slots, parameters
//! applied and checked against the target's kind, named slots and
//! `<copies>` looked up, and derivations (`- child_of`, `cdt`) recorded;
//! part of [`super::resolve`].

use super::ast::{CapMapping, CapParam, CapSource, CdtChild, CdtDecl, NameRef, SlotRefAst};
use super::resolve::{Resolver, RESERVED};
use super::{Cap, Derivation, Kind, ObjId, Rights, SlotRef, Target};
use crate::diag::Pos;

impl Resolver {
    /// Records `slot: name = ...` names of `container`'s mappings.
    pub(super) fn inline_names(&mut self, container: &ObjId, maps: &[CapMapping]) {
        let mut slot = None::<u64>;
        for m in maps {
            let s = m.slot.unwrap_or_else(|| slot.map_or(0, |s| s + 1));
            let count = match &m.source {
                CapSource::Object(t) if t.ranges.is_some() => {
                    self.expand_quiet(t).len().max(1) as u64
                }
                _ => 1,
            };
            if let Some(name) = &m.name {
                self.names.insert(
                    name.name.clone(),
                    SlotRef {
                        object: container.clone(),
                        slot: s,
                    },
                );
            }
            slot = Some(s + count - 1);
        }
    }

    fn expand_quiet(&mut self, r: &NameRef) -> Vec<ObjId> {
        let before = self.diags.clone();
        let out = self.expand(r);
        self.diags = before;
        out
    }

    pub(super) fn caps(&mut self, container: &ObjId, maps: &[CapMapping]) {
        if !self.kind(container).is_some_and(has_slots) {
            if let Some(m) = maps.first() {
                self.diags.error(
                    m.pos,
                    format!("'{container}' holds no capabilities (only cnode, tcb, pt, irq and asid_pool objects do)"),
                );
            }
            return;
        }
        let mut last = None::<u64>;
        for m in maps {
            let first = m.slot.unwrap_or_else(|| last.map_or(0, |s| s + 1));
            let mut rights = None;
            let mut mask = None;
            let mut cap_params = Vec::new();
            for (p, pos) in &m.params {
                match p {
                    CapParam::Rights(r) => rights = Some(parse_rights(r)),
                    CapParam::Masked(r) => mask = Some(parse_rights(r)),
                    other => cap_params.push((other.clone(), *pos)),
                }
            }
            match &m.source {
                CapSource::CopyOf(name) => {
                    let at = SlotRef {
                        object: container.clone(),
                        slot: first,
                    };
                    self.copies.push((at, name.clone(), mask, m.pos));
                    last = Some(first);
                }
                CapSource::Object(t) => {
                    let targets: Vec<Target> = match RESERVED.iter().find(|(n, _)| *n == t.name) {
                        Some((_, r)) if !self.index.contains_key(&ObjId::new(t.name.clone())) => {
                            vec![r.clone()]
                        }
                        _ => self.expand(t).into_iter().map(Target::Object).collect(),
                    };
                    let mut slot = first;
                    for target in targets {
                        let mut cap = Cap::target(target);
                        cap.rights = rights.unwrap_or_default();
                        self.apply(&mut cap, &cap_params);
                        self.check(&cap, m.pos);
                        self.place(container, slot, cap, m.pos);
                        if let Some(parent) = &m.parent {
                            self.derive(parent, container, slot);
                        }
                        slot += 1;
                    }
                    last = Some(slot.saturating_sub(1).max(first));
                }
            }
        }
    }

    fn place(&mut self, container: &ObjId, slot: u64, cap: Cap, pos: Pos) {
        let Some(o) = self.object_mut(container) else {
            return;
        };
        if o.slots.insert(slot, cap).is_some() {
            self.diags
                .error(pos, format!("slot {slot} of '{container}' is filled twice"));
        }
    }

    fn apply(&mut self, cap: &mut Cap, params: &[(CapParam, Pos)]) {
        for (p, pos) in params {
            match p {
                CapParam::Named(n, v) => match n.as_str() {
                    "badge" => cap.badge = *v,
                    "guard" => cap.guard = *v,
                    "guard_size" => cap.guard_size = *v,
                    _ => cap.core = Some(*v),
                },
                CapParam::Flag(f) => match f.as_str() {
                    "reply" => cap.reply = true,
                    "master_reply" => cap.master_reply = true,
                    "uncached" => cap.uncached = true,
                    _ => cap.uncached = false,
                },
                CapParam::Asid(h, l) => cap.asid = Some((*h, *l)),
                CapParam::Mapping(obj, slot) => {
                    if let Some(id) = self.single(obj) {
                        cap.mapping = Some((id, *slot));
                    } else {
                        self.diags.error(*pos, "a mapping names one page table");
                    }
                }
                CapParam::Rights(_) | CapParam::Masked(_) => {}
            }
        }
    }

    /// Reports parameters the cap's target does not take.
    fn check(&mut self, cap: &Cap, pos: Pos) {
        let kind = match &cap.target {
            Target::Object(id) => self.kind(id).cloned(),
            _ => None,
        };
        let problems = check_params(cap, kind.as_ref());
        for p in problems {
            self.diags.error(pos, p);
        }
    }

    fn derive(&mut self, parent: &SlotRefAst, container: &ObjId, slot: u64) {
        if let Some(p) = self.slot_ref(parent) {
            self.spec.cdt.push(Derivation {
                parent: p,
                child: SlotRef {
                    object: container.clone(),
                    slot,
                },
            });
        }
    }

    fn slot_ref(&mut self, r: &SlotRefAst) -> Option<SlotRef> {
        match r {
            SlotRefAst::Slot(obj, slot) => self.single(obj).map(|object| SlotRef {
                object,
                slot: *slot,
            }),
            SlotRefAst::Name(n) => {
                let found = self.names.get(&n.name).cloned();
                if found.is_none() {
                    self.diags
                        .error(n.pos, format!("unknown cap name '{}'", n.name));
                }
                found
            }
        }
    }

    pub(super) fn cdt(&mut self, c: &CdtDecl) {
        let Some(parent) = self.slot_ref(&c.parent) else {
            return;
        };
        for child in &c.children {
            let (r, sub) = match child {
                CdtChild::Leaf(r) => (r, None),
                CdtChild::Tree(t) => (&t.parent, Some(t)),
            };
            if let Some(child) = self.slot_ref(r) {
                self.spec.cdt.push(Derivation {
                    parent: parent.clone(),
                    child,
                });
            }
            if let Some(t) = sub {
                self.cdt(t);
            }
        }
    }

    /// Fills each `<name>` copy with the named cap, masked; a copy of a
    /// copy waits for its source, so this repeats until nothing changes.
    pub(super) fn resolve_copies(&mut self) {
        let mut pending = std::mem::take(&mut self.copies);
        loop {
            let before = pending.len();
            let mut waiting = Vec::new();
            for (at, name, mask, pos) in pending {
                let Some(src) = self.names.get(&name.name).cloned() else {
                    self.diags
                        .error(pos, format!("unknown cap name '{}'", name.name));
                    continue;
                };
                let cap = self
                    .object_mut(&src.object)
                    .and_then(|o| o.slots.get(&src.slot).cloned());
                match cap {
                    Some(mut cap) => {
                        if let Some(m) = mask {
                            cap.rights = cap.rights.and(m);
                        }
                        self.place(&at.object, at.slot, cap, pos);
                    }
                    None => waiting.push((at, name, mask, pos)),
                }
            }
            if waiting.is_empty() {
                return;
            }
            if waiting.len() == before {
                for (_, name, _, pos) in waiting {
                    self.diags
                        .error(pos, format!("cap name '{}' names an empty slot", name.name));
                }
                return;
            }
            pending = waiting;
        }
    }
}

fn has_slots(k: &Kind) -> bool {
    matches!(
        k,
        Kind::Tcb(_) | Kind::Cnode { .. } | Kind::PageTable | Kind::Irq | Kind::AsidPool { .. }
    )
}

fn parse_rights(s: &str) -> Rights {
    Rights {
        read: s.contains('R'),
        write: s.contains('W'),
        grant: s.contains('G') || s.contains('X'),
        grant_reply: s.contains('P'),
    }
}

/// The parameters of `cap` that its target (of `kind`; `None` for the
/// reserved targets) does not take.
pub fn check_params(cap: &Cap, kind: Option<&Kind>) -> Vec<String> {
    let mut out = Vec::new();
    let ep_like = matches!(kind, Some(Kind::Endpoint | Kind::Notification));
    let frame = matches!(kind, Some(Kind::Frame { .. }));
    if cap.badge != 0 && !ep_like {
        out.push("only endpoint and notification caps have a badge".to_string());
    }
    if !cap.rights.is_empty() && !ep_like && !frame {
        out.push("only endpoint, notification and frame caps have rights".to_string());
    }
    if (cap.guard != 0 || cap.guard_size != 0) && !matches!(kind, Some(Kind::Cnode { .. })) {
        out.push("only CNode caps have a guard".to_string());
    }
    if (cap.uncached || cap.mapping.is_some()) && !frame {
        out.push("only frame caps are uncached or have a mapping".to_string());
    }
    if (cap.reply || cap.master_reply) && !matches!(kind, Some(Kind::Tcb(_))) {
        out.push("only TCB caps are reply caps".to_string());
    }
    if cap.asid.is_some() && !matches!(kind, Some(Kind::PageTable)) {
        out.push("only page-table caps have an ASID".to_string());
    }
    if cap.core.is_some() && cap.target != Target::SchedControl {
        out.push("only sched_control has a core".to_string());
    }
    out
}
