//! Writing a [`Spec`] as seL4's textual CapDL, in the layout capDL-tool
//! prints (`arch`, `objects { }`, `caps { }`, then `cdt`, `irq maps` and
//! `domains` when there is something in them), so that capDL-tool and
//! [`super::parse`] read it back to the same model.

use std::fmt::Write;

use super::build::slot;
use super::{Cap, Kind, ObjId, Object, Rights, SlotRef, Spec, Target};

/// The CapDL text of `spec`, after a `--` comment line for each of
/// `header`.
pub fn print(spec: &Spec, header: &[String]) -> String {
    let mut out = String::new();
    for h in header {
        let _ = writeln!(out, "-- {h}");
    }
    let _ = writeln!(out, "arch {}\n\nobjects {{", spec.arch);
    let mut i = 0;
    while let Some(o) = spec.objects.get(i) {
        let n = array_len(&spec.objects[i..]);
        let name = if n > 0 {
            format!("{}[{n}]", o.id.name)
        } else {
            o.id.to_string()
        };
        let _ = writeln!(out, "  {name} = {}", object(&o.kind));
        i += n.max(1) as usize;
    }
    out.push_str("}\n\ncaps {\n");
    for o in spec.objects.iter().filter(|o| !o.slots.is_empty()) {
        let _ = writeln!(out, "  {} {{", o.id);
        let tcb = matches!(o.kind, Kind::Tcb(_));
        for (s, cap) in &o.slots {
            let slot_name = slot::NAMES
                .iter()
                .find(|(_, n)| tcb && n == s)
                .map_or_else(|| s.to_string(), |(name, _)| name.to_string());
            let _ = writeln!(out, "    {slot_name}: {}", self::cap(spec, cap));
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    if !spec.cdt.is_empty() {
        out.push_str("\ncdt {\n");
        for d in &spec.cdt {
            let _ = writeln!(
                out,
                "  {} {{ {} }}",
                slot_ref(&d.parent),
                slot_ref(&d.child)
            );
        }
        out.push_str("}\n");
    }
    if !spec.irqs.is_empty() {
        out.push_str("\nirq maps {\n");
        for m in &spec.irqs {
            let _ = writeln!(out, "  {}: {}", m.irq, m.handler);
        }
        out.push_str("}\n");
    }
    if let Some(d) = &spec.domains {
        out.push_str("\ndomains {\n");
        let items: Vec<String> = d
            .schedule
            .iter()
            .map(|(a, b)| format!("({a}, {b})"))
            .collect();
        let _ = writeln!(out, "  schedule: [{}]", items.join(", "));
        match d.start {
            Some(s) => {
                let _ = writeln!(out, "  domain_set_start: {s}");
            }
            None => out.push_str("  domain_set_start: no_start\n"),
        }
        let _ = writeln!(out, "  index_shift: {}", d.index_shift);
        out.push_str("}\n");
    }
    out
}

/// If `objects` starts with the whole array `name[0]`..`name[n-1]` of one
/// kind, `n`; else 0. capDL declares an array in one line, so only whole
/// arrays of equal objects can be printed that way (a parsed spec's arrays
/// always are).
fn array_len(objects: &[Object]) -> u64 {
    let Some(first) = objects.first() else {
        return 0;
    };
    if first.id.index != Some(0) {
        return 0;
    }
    let mut n = 0;
    for o in objects {
        if o.id.name != first.id.name || o.id.index != Some(n) || o.kind != first.kind {
            break;
        }
        n += 1;
    }
    n
}

fn hex(n: u64) -> String {
    format!("{n:#x}")
}

fn params(list: Vec<String>) -> String {
    if list.is_empty() {
        String::new()
    } else {
        format!(" ({})", list.join(", "))
    }
}

fn object(kind: &Kind) -> String {
    match kind {
        Kind::Endpoint => "ep".into(),
        Kind::Notification => "notification".into(),
        Kind::Irq => "irq".into(),
        Kind::PageTable => "pt".into(),
        Kind::Reply => "rtreply".into(),
        Kind::Cnode { size_bits } => format!("cnode ({size_bits} bits)"),
        Kind::Tcb(t) => {
            let mut p = Vec::new();
            let num = |name: &str, v: Option<u64>, hexa: bool| {
                v.map(|v| format!("{name}: {}", if hexa { hex(v) } else { v.to_string() }))
            };
            let flag = |name: &str, v: Option<bool>| {
                v.map(|v| format!("{name}: {}", if v { "True" } else { "False" }))
            };
            p.extend(num("addr", t.addr, true));
            p.extend(num("ip", t.ip, true));
            p.extend(num("sp", t.sp, true));
            p.extend(num("prio", t.prio, false));
            p.extend(num("max_prio", t.max_prio, false));
            p.extend(num("affinity", t.affinity, false));
            p.extend(flag("resume", t.resume));
            p.extend(flag("fpu_disabled", t.fpu_disabled));
            p.extend(num("fault_ep", t.fault_ep, false));
            p.extend(num("dom", t.dom, false));
            if !t.init.is_empty() {
                let l: Vec<String> = t.init.iter().map(|n| n.to_string()).collect();
                p.push(format!("init: [{}]", l.join(", ")));
            }
            format!("tcb{}", params(p))
        }
        Kind::Untyped {
            size_bits,
            paddr,
            covers,
        } => {
            let mut p = Vec::new();
            p.extend(size_bits.map(|b| format!("{b} bits")));
            p.extend(paddr.map(|a| format!("paddr: {}", hex(a))));
            let mut s = format!("ut{}", params(p));
            if !covers.is_empty() {
                let c: Vec<String> = covers.iter().map(ObjId::to_string).collect();
                let _ = write!(s, " {{ {} }}", c.join(", "));
            }
            s
        }
        Kind::AsidPool { asid_high } => format!(
            "asid_pool{}",
            params(
                asid_high
                    .iter()
                    .map(|a| format!("asid_high: {}", hex(*a)))
                    .collect()
            )
        ),
        Kind::Frame {
            size_bits,
            paddr,
            fill,
        } => {
            let size = if *size_bits >= 20 {
                format!("{}M", 1u64 << (size_bits - 20))
            } else {
                format!("{}k", 1u64 << size_bits.saturating_sub(10))
            };
            let mut p = vec![size];
            p.extend(paddr.map(|a| format!("paddr: {}", hex(a))));
            if !fill.is_empty() {
                let e: Vec<String> = fill
                    .iter()
                    .map(|w| format!("{{{}}}", w.join(" ")))
                    .collect();
                p.push(format!("fill: [{}]", e.join(", ")));
            }
            format!("frame{}", params(p))
        }
        Kind::SchedContext {
            period,
            budget,
            data,
            size_bits,
        } => {
            let mut p = Vec::new();
            p.extend(period.map(|v| format!("period: {v}")));
            p.extend(budget.map(|v| format!("budget: {v}")));
            p.extend(data.map(|v| format!("data: {}", hex(v))));
            p.extend(size_bits.map(|b| format!("{b} bits")));
            format!("sc{}", params(p))
        }
    }
}

fn rights(r: Rights, frame: bool) -> String {
    let mut s = String::new();
    for (on, c) in [
        (r.read, 'R'),
        (r.write, 'W'),
        (r.grant, if frame { 'X' } else { 'G' }),
        (r.grant_reply, 'P'),
    ] {
        if on {
            s.push(c);
        }
    }
    s
}

fn cap(spec: &Spec, cap: &Cap) -> String {
    let (name, frame) = match &cap.target {
        Target::Object(id) => (
            id.to_string(),
            spec.object(id)
                .is_some_and(|o| matches!(o.kind, Kind::Frame { .. })),
        ),
        Target::IrqControl => ("irq_control".into(), false),
        Target::AsidControl => ("asid_control".into(), false),
        Target::SchedControl => ("sched_control".into(), false),
        Target::Domain => ("domain".into(), false),
    };
    let mut p = Vec::new();
    if cap.badge != 0 {
        p.push(format!("badge: {}", hex(cap.badge)));
    }
    if cap.guard != 0 {
        p.push(format!("guard: {}", hex(cap.guard)));
    }
    if cap.guard_size != 0 {
        p.push(format!("guard_size: {}", cap.guard_size));
    }
    if !cap.rights.is_empty() {
        p.push(rights(cap.rights, frame));
    }
    if let Some((h, l)) = cap.asid {
        p.push(format!("asid: ({}, {})", hex(h), hex(l)));
    }
    if cap.uncached {
        p.push("uncached".into());
    }
    if cap.reply {
        p.push("reply".into());
    }
    if cap.master_reply {
        p.push("master_reply".into());
    }
    if let Some((pt, s)) = &cap.mapping {
        p.push(format!("mapping: ({pt}, {s})"));
    }
    if let Some(c) = cap.core {
        p.push(format!("core: {c}"));
    }
    format!("{name}{}", params(p))
}

fn slot_ref(r: &SlotRef) -> String {
    format!("({}, {})", r.object, r.slot)
}
