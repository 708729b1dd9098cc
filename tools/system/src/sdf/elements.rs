//! The leaf elements of a system description: `map`, `irq`,
//! `memory_region` and `channel` with its `end`s (the protection domain,
//! which holds maps and IRQs, is in [`super::xml`]).

use roxmltree::Node;

use super::xml::Reader;
use super::{Channel, End, Irq, Map, Mr, Perms, Trigger};
use crate::layout;

impl<'a, 'input: 'a> Reader<'a, 'input> {
    pub(super) fn map(&mut self, node: Node<'a, 'input>) -> Option<Map> {
        self.attributes(
            node,
            &[
                "mr",
                "vaddr",
                "perms",
                "cached",
                "setvar_vaddr",
                "setvar_size",
            ],
        );
        let mr = self.required(node, "mr");
        let vaddr = self.req_number(node, "vaddr");
        let mut perms = Perms {
            read: true,
            write: true,
            execute: false,
        };
        if let Some((text, pos)) = self.optional(node, "perms") {
            let mut p = Perms::default();
            let mut ok = !text.is_empty();
            for c in text.chars() {
                match c {
                    'r' if !p.read => p.read = true,
                    'w' if !p.write => p.write = true,
                    'x' if !p.execute => p.execute = true,
                    _ => ok = false,
                }
            }
            if !ok {
                self.diags.error(
                    pos,
                    format!("perms must be a combination of 'r', 'w' and 'x', not '{text}'"),
                );
            } else if p.write && !p.read {
                self.diags.error(
                    pos,
                    "perms without 'r': the kernel maps nothing write-only (or execute-only)",
                );
            } else if !p.read {
                self.diags.error(pos, "perms must include 'r'");
            }
            perms = p;
        }
        let cached = self.boolean(node, "cached", true);
        Some(Map {
            pos: self.at(node),
            mr: mr?.0.to_string(),
            vaddr: vaddr?.0,
            perms,
            cached,
            setvar_vaddr: self.string(node, "setvar_vaddr"),
            setvar_size: self.string(node, "setvar_size"),
        })
    }

    pub(super) fn irq(&mut self, node: Node<'a, 'input>) -> Option<Irq> {
        self.attributes(node, &["irq", "id", "trigger", "setvar_id"]);
        let irq = self.req_number(node, "irq");
        if let Some((n, pos)) = irq {
            if !layout::IRQ_RANGE.contains(&n) {
                self.diags.error(
                    pos,
                    format!(
                        "irq must be between {} and {} (the PLIC's sources on QEMU virt; {} is the kernel's timer)",
                        layout::IRQ_RANGE.start(),
                        layout::IRQ_RANGE.end(),
                        layout::IRQ_RANGE.end() + 1
                    ),
                );
            }
        }
        let id = self.id(node);
        let trigger = match self.optional(node, "trigger") {
            None | Some(("level", _)) => Trigger::Level,
            Some(("edge", _)) => Trigger::Edge,
            Some((other, pos)) => {
                self.diags.error(
                    pos,
                    format!("trigger must be 'level' or 'edge', not '{other}'"),
                );
                Trigger::Level
            }
        };
        Some(Irq {
            pos: self.at(node),
            irq: irq?.0,
            id: id?,
            trigger,
            setvar_id: self.string(node, "setvar_id"),
        })
    }

    pub(super) fn memory_region(&mut self, node: Node<'a, 'input>) {
        self.attributes(node, &["name", "size", "page_size", "phys_addr"]);
        self.children(node)
            .into_iter()
            .for_each(|c| self.unknown_element(c, "memory_region"));
        let name = self.required(node, "name");
        let size = self.req_number(node, "size");
        let page_size = self.opt_number(node, "page_size");
        if let Some((ps, pos)) = page_size {
            if !layout::PAGE_SIZES.contains(&ps) {
                self.diags.error(
                    pos,
                    format!("page_size {ps:#x} is not a RISC-V page size (0x1000 or 0x200000)"),
                );
            }
        }
        let phys_addr = self.opt_number(node, "phys_addr");
        if let Some((0, pos)) = size {
            self.diags.error(pos, "size must not be 0");
        }
        let mr = Mr {
            name: name.map(|(n, _)| n.to_string()).unwrap_or_default(),
            pos: self.at(node),
            size: size.map_or(0, |(s, _)| s),
            page_size: page_size.map_or(0, |(p, _)| p),
            page_size_given: page_size.is_some(),
            phys_addr: phys_addr.map(|(p, _)| p),
        };
        if let (Some((s, spos)), Some(_)) = (size, page_size) {
            if mr.page_size != 0 && s % mr.page_size != 0 {
                self.diags.error(
                    spos,
                    format!(
                        "size {s:#x} is not a multiple of the page size {:#x}",
                        mr.page_size
                    ),
                );
            }
        } else if let Some((s, spos)) = size {
            if s % layout::PAGE_SIZES[0] != 0 {
                self.diags.error(
                    spos,
                    format!("size {s:#x} is not a multiple of the page size 0x1000"),
                );
            }
        }
        if let Some((p, ppos)) = phys_addr {
            let align = if mr.page_size_given {
                mr.page_size
            } else {
                layout::PAGE_SIZES[0]
            };
            if align != 0 && p % align != 0 {
                self.diags.error(
                    ppos,
                    format!("phys_addr {p:#x} is not a multiple of the page size {align:#x}"),
                );
            }
            if p.checked_add(mr.size).is_none() {
                self.diags.error(ppos, "phys_addr + size overflows");
            }
        }
        self.system.mrs.push(mr);
    }

    pub(super) fn channel(&mut self, node: Node<'a, 'input>) {
        self.attributes(node, &[]);
        let mut ends = Vec::new();
        for child in self.children(node) {
            if child.tag_name().name() != "end" {
                self.unknown_element(child, "channel");
                continue;
            }
            self.attributes(child, &["pd", "id", "pp", "notify", "setvar_id"]);
            let pd = self.required(child, "pd");
            let id = self.channel_id(child);
            let end = End {
                pos: self.at(child),
                pd: pd.map(|(p, _)| p.to_string()).unwrap_or_default(),
                id: id.unwrap_or(u64::MAX),
                pp: self.boolean(child, "pp", false),
                notify: self.boolean(child, "notify", true),
                setvar_id: self.string(child, "setvar_id"),
            };
            ends.push((end, pd.is_some() && id.is_some()));
        }
        let pos = self.at(node);
        if ends.len() != 2 {
            self.diags.error(
                pos,
                format!(
                    "a channel has exactly two <end>s, this one has {}",
                    ends.len()
                ),
            );
            return;
        }
        if ends.iter().any(|(_, ok)| !ok) {
            return; // already reported
        }
        let mut it = ends.into_iter().map(|(e, _)| e);
        if let (Some(a), Some(b)) = (it.next(), it.next()) {
            self.system.channels.push(Channel { pos, ends: [a, b] });
        }
    }
}
