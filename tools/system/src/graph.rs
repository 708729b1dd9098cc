//! The authority graph of a system as Graphviz `dot` text: protection
//! domains as boxes (priority, MCS budget/period, passive), channels as
//! arrows in the directions they may be used (solid bold: protected
//! call, dashed: notification), memory regions as cylinders linked to
//! each PD that maps them with the PD's rights, interrupts as diamonds
//! pointing at the PD they signal, and children under their parents.
//!
//! The xtask renders it to SVG with Graphviz's `dot` when asked for an
//! `.svg` (docs/system.md says why Graphviz).

use std::fmt::Write;

use crate::sdf::System;

/// The `dot` text of `system`'s authority graph.
pub fn dot(system: &System) -> String {
    let mut g = String::new();
    g.push_str("digraph system {\n");
    g.push_str("  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n");
    g.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for pd in &system.pds {
        let mut label = format!("{}\\nprio {}", esc(&pd.name), pd.priority);
        if let Some(s) = pd.sched {
            let _ = write!(label, "\\nbudget {} / period {} µs", s.budget, s.period);
        }
        if pd.passive {
            label.push_str("\\npassive");
        }
        let _ = writeln!(
            g,
            "  \"pd:{}\" [shape=box, style=\"rounded,filled\", fillcolor=\"#dde8f5\", label=\"{label}\"];",
            esc(&pd.name)
        );
        if let Some(parent) = pd.parent.and_then(|p| system.pds.get(p)) {
            let _ = writeln!(
                g,
                "  \"pd:{}\" -> \"pd:{}\" [style=dotted, arrowhead=odiamond, label=\"child {}\"];",
                esc(&parent.name),
                esc(&pd.name),
                pd.child_id.unwrap_or(0)
            );
        }
        for irq in &pd.irqs {
            let _ = writeln!(
                g,
                "  \"irq:{0}\" [shape=diamond, style=filled, fillcolor=\"#f5e3c8\", label=\"IRQ {0}\"];",
                irq.irq
            );
            let _ = writeln!(
                g,
                "  \"irq:{}\" -> \"pd:{}\" [color=\"#b06000\", label=\"id {}\"];",
                irq.irq,
                esc(&pd.name),
                irq.id
            );
        }
        for m in &pd.maps {
            let _ = writeln!(
                g,
                "  \"pd:{}\" -> \"mr:{}\" [dir=none, color=\"#4a7a4a\", label=\"{}{}\"];",
                esc(&pd.name),
                esc(&m.mr),
                m.perms.letters(),
                if m.cached { "" } else { ", uncached" }
            );
        }
    }
    for mr in &system.mrs {
        let mut label = format!("{}\\n{:#x} bytes", esc(&mr.name), mr.size);
        if let Some(p) = mr.phys_addr {
            let _ = write!(label, "\\n@ {p:#x}");
        }
        let _ = writeln!(
            g,
            "  \"mr:{}\" [shape=cylinder, style=filled, fillcolor=\"#e2f0dc\", label=\"{label}\"];",
            esc(&mr.name)
        );
    }
    for c in &system.channels {
        for (from, to) in [(&c.ends[0], &c.ends[1]), (&c.ends[1], &c.ends[0])] {
            if from.pp {
                let _ = writeln!(
                    g,
                    "  \"pd:{}\" -> \"pd:{}\" [style=bold, label=\"ppcall ch {}\"];",
                    esc(&from.pd),
                    esc(&to.pd),
                    from.id
                );
            }
            if from.notify {
                let _ = writeln!(
                    g,
                    "  \"pd:{}\" -> \"pd:{}\" [style=dashed, label=\"notify ch {}\"];",
                    esc(&from.pd),
                    esc(&to.pd),
                    from.id
                );
            }
        }
    }
    g.push_str("}\n");
    g
}

/// Escapes `"` and `\` for a dot string.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
