//! Giving parsed CapDL declarations their meaning (capDL-tool's
//! `MakeModel`, the facts of its semantics): arrays `name[n]` become `n`
//! objects, qualified names `a/b = ...` and nested declarations become
//! untyped coverings, unnumbered slots follow the previous one, ranges
//! expand into consecutive slots, named slots and `<copies>` are looked
//! up, and every cap's parameters are checked against its object's kind.
//! Objects are resolved here, capabilities in `links.rs`.

use std::collections::{BTreeMap, HashMap};

use super::ast::{Decl, NameRef, Nested, ObjDecl, ObjParam, Range};
use super::{Domains, IrqMap, Kind, ObjId, Object, Rights, SlotRef, Spec, Target, Tcb};
use crate::diag::{Diagnostic, Diagnostics, Pos};

/// The model of `decls`, or every problem found.
pub fn resolve(file: &str, arch: String, decls: Vec<Decl>) -> Result<Spec, Vec<Diagnostic>> {
    let mut r = Resolver {
        diags: Diagnostics::new(file),
        spec: Spec {
            arch,
            ..Spec::default()
        },
        index: HashMap::new(),
        sizes: HashMap::new(),
        names: HashMap::new(),
        copies: Vec::new(),
    };
    for d in &decls {
        if let Decl::Object(o) = d {
            r.object(o, &[]);
        }
    }
    for d in &decls {
        if let Decl::Object(o) = d {
            r.covers(o, &[]);
        }
    }
    for d in &decls {
        match d {
            Decl::CapName(name, obj, slot, pos) => {
                if let Some(id) = r.single(obj) {
                    r.names.insert(
                        name.clone(),
                        SlotRef {
                            object: id,
                            slot: *slot,
                        },
                    );
                } else {
                    r.diags
                        .error(*pos, format!("'{}' must name one object", obj.name));
                }
            }
            Decl::Caps(container, maps) => {
                for c in r.expand(container) {
                    r.inline_names(&c, maps);
                }
            }
            _ => {}
        }
    }
    let mut next_irq = 0;
    let mut domains = Domains {
        start: Some(0),
        ..Domains::default()
    };
    let mut have_schedule = false;
    for d in &decls {
        match d {
            Decl::Caps(container, maps) => {
                for c in r.expand(container) {
                    r.caps(&c, maps);
                }
            }
            Decl::Irq(slot, name) => {
                let mut irq = slot.unwrap_or(next_irq);
                for h in r.expand(name) {
                    if r.spec.irqs.iter().any(|m| m.irq == irq) {
                        r.diags
                            .error(name.pos, format!("IRQ {irq} is mapped twice"));
                    }
                    if !matches!(r.kind(&h), Some(Kind::Irq)) {
                        r.diags
                            .error(name.pos, format!("'{h}' is not an irq object"));
                    }
                    r.spec.irqs.push(IrqMap { irq, handler: h });
                    irq += 1;
                }
                next_irq = irq;
            }
            Decl::Cdt(c) => r.cdt(c),
            Decl::Schedule(items, _) => {
                have_schedule = true;
                domains.schedule = items.clone();
            }
            Decl::Start(s, _) => domains.start = *s,
            Decl::Shift(n, _) => domains.index_shift = *n,
            Decl::Object(_) | Decl::CapName(..) => {}
        }
    }
    if have_schedule {
        r.spec.domains = Some(domains);
    }
    r.resolve_copies();
    if r.diags.is_empty() {
        Ok(r.spec)
    } else {
        Err(r.diags.into_sorted())
    }
}

pub(super) struct Resolver {
    pub(super) diags: Diagnostics,
    pub(super) spec: Spec,
    pub(super) index: HashMap<ObjId, usize>,
    /// Array lengths by base name.
    pub(super) sizes: HashMap<String, u64>,
    /// Named slots: `name = (obj, slot)` and `slot: name = cap`.
    pub(super) names: HashMap<String, SlotRef>,
    /// Copies to fill in once every direct cap is placed.
    pub(super) copies: Vec<(SlotRef, NameRef, Option<Rights>, Pos)>,
}

pub(super) const RESERVED: [(&str, Target); 4] = [
    ("irq_control", Target::IrqControl),
    ("asid_control", Target::AsidControl),
    ("sched_control", Target::SchedControl),
    ("domain", Target::Domain),
];

impl Resolver {
    pub(super) fn kind(&self, id: &ObjId) -> Option<&Kind> {
        self.index
            .get(id)
            .and_then(|&i| self.spec.objects.get(i))
            .map(|o| &o.kind)
    }

    pub(super) fn object_mut(&mut self, id: &ObjId) -> Option<&mut Object> {
        self.index
            .get(id)
            .and_then(|&i| self.spec.objects.get_mut(i))
    }

    fn declare(&mut self, id: ObjId, kind: Kind, pos: Pos) {
        if let Some(&i) = self.index.get(&id) {
            // Untyped objects may be declared more than once.
            let existing = self.spec.objects.get_mut(i).map(|o| &mut o.kind);
            match (existing, kind) {
                (
                    Some(Kind::Untyped {
                        size_bits, paddr, ..
                    }),
                    Kind::Untyped {
                        size_bits: b,
                        paddr: p,
                        ..
                    },
                ) => {
                    *size_bits = size_bits.or(b);
                    *paddr = paddr.or(p);
                }
                _ => self
                    .diags
                    .error(pos, format!("object '{id}' is declared twice")),
            }
            return;
        }
        if let Some(i) = id.index {
            let n = self.sizes.entry(id.name.clone()).or_insert(0);
            *n = (*n).max(i + 1);
        }
        self.index.insert(id.clone(), self.spec.objects.len());
        self.spec.objects.push(Object {
            id,
            kind,
            slots: BTreeMap::new(),
        });
    }

    fn untyped() -> Kind {
        Kind::Untyped {
            size_bits: None,
            paddr: None,
            covers: Vec::new(),
        }
    }

    fn cover(&mut self, parent: &ObjId, child: ObjId) {
        if let Some(Object {
            kind: Kind::Untyped { covers, .. },
            ..
        }) = self.object_mut(parent)
        {
            if !covers.contains(&child) {
                covers.push(child);
            }
        }
    }

    /// Declares the objects of `d` (with `prefix`, the untypeds it is
    /// nested in).
    fn object(&mut self, d: &ObjDecl, prefix: &[ObjId]) {
        let mut chain: Vec<ObjId> = prefix.to_vec();
        let Some((last, parents)) = d.qname.split_last() else {
            return;
        };
        for p in parents {
            let id = ObjId::new(p.name.clone());
            if p.ranges.is_some() {
                self.diags
                    .error(p.pos, "an untyped in a qualified name takes no index");
            }
            self.declare(id.clone(), Self::untyped(), p.pos);
            if let Some(up) = chain.last() {
                let up = up.clone();
                self.cover(&up, id.clone());
            }
            chain.push(id);
        }
        let ids: Vec<ObjId> = match &last.ranges {
            None => vec![ObjId::new(last.name.clone())],
            Some(r) => match r.as_slice() {
                [Range::Only(n)] => (0..*n)
                    .map(|i| ObjId {
                        name: last.name.clone(),
                        index: Some(i),
                    })
                    .collect(),
                _ => {
                    self.diags
                        .error(last.pos, "an array is declared as name[count]");
                    return;
                }
            },
        };
        let Some(kind) = self.kind_of(d) else { return };
        for id in &ids {
            self.declare(id.clone(), kind.clone(), d.pos);
            if let Some(up) = chain.last() {
                let up = up.clone();
                self.cover(&up, id.clone());
            }
        }
        if let [single] = ids.as_slice() {
            let mut inner = chain.clone();
            inner.push(single.clone());
            for n in &d.nested {
                if let Nested::Decl(nd) = n {
                    self.object(nd, &inner);
                }
            }
        }
    }

    /// Records the references inside untypeds' braces, once every object
    /// is declared.
    fn covers(&mut self, d: &ObjDecl, prefix: &[ObjId]) {
        let mut chain: Vec<ObjId> = prefix.to_vec();
        chain.extend(d.qname.iter().map(|n| ObjId::new(n.name.clone())));
        let Some(me) = chain.last().cloned() else {
            return;
        };
        for n in &d.nested {
            match n {
                Nested::Ref(r) => {
                    for id in self.expand(r) {
                        self.cover(&me, id);
                    }
                }
                Nested::Decl(nd) => self.covers(nd, &chain),
            }
        }
    }

    fn kind_of(&mut self, d: &ObjDecl) -> Option<Kind> {
        let mut named: BTreeMap<&str, u64> = BTreeMap::new();
        let mut bits = None;
        let mut vm = None;
        let mut flags: BTreeMap<&str, bool> = BTreeMap::new();
        let mut init = Vec::new();
        let mut fill = Vec::new();
        for (p, _) in &d.params {
            match p {
                ObjParam::Bits(b) => bits = Some(*b),
                ObjParam::VmSize(s) => vm = Some(*s),
                ObjParam::Named(n, v) => {
                    named.insert(n, *v);
                }
                ObjParam::Flag(n, v) => {
                    flags.insert(n, *v);
                }
                ObjParam::Init(l) => init = l.clone(),
                ObjParam::Fill(f) => fill = f.clone(),
            }
        }
        let allowed: &[&str] = match d.kind.as_str() {
            "tcb" => &[
                "addr",
                "ip",
                "sp",
                "prio",
                "max_prio",
                "affinity",
                "dom",
                "fault_ep",
                "resume",
                "fpu_disabled",
                "init",
            ],
            "ut" => &["bits", "paddr"],
            "cnode" => &["bits"],
            "frame" => &["size", "paddr", "fill"],
            "sc" => &["period", "budget", "data", "bits"],
            "asid_pool" => &["asid_high"],
            _ => &[],
        };
        for (p, pos) in &d.params {
            let name = match p {
                ObjParam::Bits(_) => "bits",
                ObjParam::VmSize(_) => "size",
                ObjParam::Named(n, _) | ObjParam::Flag(n, _) => n.as_str(),
                ObjParam::Init(_) => "init",
                ObjParam::Fill(_) => "fill",
            };
            if !allowed.contains(&name) {
                self.diags.error(
                    *pos,
                    format!("a '{}' object takes no '{name}' parameter", d.kind),
                );
            }
        }
        let get = |n: &str| named.get(n).copied();
        Some(match d.kind.as_str() {
            "ep" => Kind::Endpoint,
            "notification" => Kind::Notification,
            "irq" => Kind::Irq,
            "pt" => Kind::PageTable,
            "rtreply" => Kind::Reply,
            "tcb" => Kind::Tcb(Tcb {
                addr: get("addr"),
                ip: get("ip"),
                sp: get("sp"),
                prio: get("prio"),
                max_prio: get("max_prio"),
                affinity: get("affinity"),
                resume: flags.get("resume").copied(),
                fpu_disabled: flags.get("fpu_disabled").copied(),
                fault_ep: get("fault_ep"),
                dom: get("dom"),
                init,
            }),
            "cnode" => match bits {
                Some(b) => Kind::Cnode { size_bits: b },
                None => {
                    self.diags
                        .error(d.pos, "a cnode needs its size: cnode (N bits)");
                    return None;
                }
            },
            "ut" => Kind::Untyped {
                size_bits: bits,
                paddr: get("paddr"),
                covers: Vec::new(),
            },
            "asid_pool" => Kind::AsidPool {
                asid_high: get("asid_high"),
            },
            "sc" => Kind::SchedContext {
                period: get("period"),
                budget: get("budget"),
                data: get("data"),
                size_bits: bits,
            },
            "frame" => {
                let size_bits = match vm {
                    Some(s) if [1 << 12, 1 << 21, 1 << 30].contains(&s) => {
                        u64::from(s.trailing_zeros())
                    }
                    _ => {
                        self.diags
                            .error(d.pos, "a RISC-V frame is 4k, 2M or 1024M: frame (4k)");
                        return None;
                    }
                };
                Kind::Frame {
                    size_bits,
                    paddr: get("paddr"),
                    fill,
                }
            }
            other => {
                self.diags.error(
                    d.pos,
                    format!("object type '{other}' does not exist on RISC-V (types: ep, notification, tcb, cnode, ut, irq, asid_pool, pt, frame, sc, rtreply)"),
                );
                return None;
            }
        })
    }

    /// The objects `r` names, in order; unknown names are reported.
    pub(super) fn expand(&mut self, r: &NameRef) -> Vec<ObjId> {
        let Some(ranges) = &r.ranges else {
            let id = ObjId::new(r.name.clone());
            if !self.index.contains_key(&id) {
                self.diags
                    .error(r.pos, format!("unknown object '{}'", r.name));
                return Vec::new();
            }
            return vec![id];
        };
        let Some(&n) = self.sizes.get(&r.name) else {
            self.diags
                .error(r.pos, format!("'{}' is not an array of objects", r.name));
            return Vec::new();
        };
        let mut out = Vec::new();
        let all = [Range::From(0)];
        let ranges = if ranges.is_empty() {
            &all[..]
        } else {
            &ranges[..]
        };
        for range in ranges {
            let (a, b) = match *range {
                Range::Only(i) => (i, i),
                Range::FromTo(a, b) => (a, b),
                Range::From(a) => (a, n.saturating_sub(1)),
                Range::To(b) => (0, b),
            };
            for i in a..=b {
                let id = ObjId {
                    name: r.name.clone(),
                    index: Some(i),
                };
                if self.index.contains_key(&id) {
                    out.push(id);
                } else {
                    self.diags
                        .error(r.pos, format!("'{}' has no element {i}", r.name));
                    return out;
                }
            }
        }
        out
    }

    pub(super) fn single(&mut self, r: &NameRef) -> Option<ObjId> {
        let ids = self.expand(r);
        match ids.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }
}
