//! From XML to a [`System`]: one function per element of Microkit's
//! schema, each checking its own attributes (unknown ones, missing ones,
//! values) and children. Checks that relate elements to each other are in
//! [`super::check`].
//!
//! Every problem is recorded at the position of the attribute or element it
//! is about and reading goes on, so that one run reports all of them.

use roxmltree::{Document, Node};

use super::{Channel, Config, End, Irq, Map, Mr, Pd, Perms, Sched, Setvar, System, Trigger};
use crate::diag::{Diagnostics, Pos};
use crate::layout;

/// Elements and attributes of Microkit's schema that Cairn does not
/// support (yet): they are refused by name instead of as unknown.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "virtual_machine",
        "virtual machines need the hypervisor extension",
    ),
    ("ioport", "I/O ports exist only on x86-64"),
    ("io_address_space", "IOMMUs are not supported"),
    (
        "cspace",
        "extra capabilities (cap sharing) are not supported yet",
    ),
    ("domains", "the domain schedule is not supported yet"),
    ("domain", "the domain schedule is not supported yet"),
    ("smc", "SMC calls exist only on ARM"),
    (
        "prefill_path",
        "prefilled memory regions come with the loader (issue 14, item 3)",
    ),
    ("prefill_bootinfo", "bootinfo prefills exist only on x86-64"),
    (
        "setvar_prefill_size",
        "prefilled memory regions come with the loader (issue 14, item 3)",
    ),
];

/// Reads `text`; `None` if it is not XML or not a `<system>` at all.
pub fn read(text: &str, config: Config, diags: &mut Diagnostics) -> Option<System> {
    let doc = match Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let p = e.pos();
            diags.error(Pos::new(p.row, p.col), format!("not well-formed XML: {e}"));
            return None;
        }
    };
    let root = doc.root_element();
    let mut r = Reader {
        doc: &doc,
        diags,
        config,
        system: System::default(),
    };
    if root.tag_name().name() != "system" {
        let pos = r.pos(root.range().start);
        r.diags.error(
            pos,
            format!(
                "the root element must be <system>, not <{}>",
                root.tag_name().name()
            ),
        );
        return None;
    }
    r.attributes(root, &[]);
    for child in r.children(root) {
        match child.tag_name().name() {
            "protection_domain" => r.protection_domain(child, None),
            "memory_region" => r.memory_region(child),
            "channel" => r.channel(child),
            _ => r.unknown_element(child, "system"),
        }
    }
    let mut system = r.system;
    default_page_sizes(&mut system);
    Some(system)
}

/// Gives each memory region without a `page_size` the largest page size
/// its size, physical address and every mapping's virtual address are
/// multiples of (Microkit 2.x chooses the same way).
fn default_page_sizes(system: &mut System) {
    let large = layout::PAGE_SIZES[1];
    for i in 0..system.mrs.len() {
        let Some(mr) = system.mrs.get(i) else {
            continue;
        };
        if mr.page_size_given {
            continue;
        }
        let aligned = mr.size != 0
            && mr.size % large == 0
            && mr.phys_addr.is_none_or(|p| p % large == 0)
            && system
                .pds
                .iter()
                .flat_map(|p| &p.maps)
                .filter(|m| m.mr == mr.name)
                .all(|m| m.vaddr % large == 0);
        let size = if aligned {
            large
        } else {
            layout::PAGE_SIZES[0]
        };
        if let Some(mr) = system.mrs.get_mut(i) {
            mr.page_size = size;
        }
    }
}

struct Reader<'a, 'input> {
    doc: &'a Document<'input>,
    diags: &'a mut Diagnostics,
    config: Config,
    system: System,
}

/// An attribute's value and where it is.
type Attr<'a> = (&'a str, Pos);

impl<'a, 'input: 'a> Reader<'a, 'input> {
    fn pos(&self, byte: usize) -> Pos {
        let p = self.doc.text_pos_at(byte);
        Pos::new(p.row, p.col)
    }

    fn at(&self, node: Node) -> Pos {
        self.pos(node.range().start)
    }

    /// The element children of `node`; text other than white space is an
    /// error (Microkit's schema has none).
    fn children(&mut self, node: Node<'a, 'input>) -> Vec<Node<'a, 'input>> {
        let mut out = Vec::new();
        for c in node.children() {
            if c.is_element() {
                out.push(c);
            } else if c.is_text() && !c.text().unwrap_or("").trim().is_empty() {
                let pos = self.at(c);
                self.diags.error(
                    pos,
                    format!("unexpected text in <{}>", node.tag_name().name()),
                );
            }
        }
        out
    }

    /// Reports every attribute of `node` not in `allowed`.
    fn attributes(&mut self, node: Node, allowed: &[&str]) {
        let element = node.tag_name().name();
        for a in node.attributes() {
            if allowed.contains(&a.name()) {
                continue;
            }
            let pos = self.pos(a.range().start);
            let msg = if element == "protection_domain" && a.name() == "pp" {
                "attribute 'pp' of <protection_domain> is Microkit 1.x's: since Microkit 2.0 \
                 the caller's channel <end> says pp=\"true\""
                    .to_string()
            } else if let Some((_, why)) = UNSUPPORTED.iter().find(|(n, _)| *n == a.name()) {
                format!(
                    "attribute '{}' of <{element}> is not supported: {why}",
                    a.name()
                )
            } else {
                format!(
                    "unknown attribute '{}' on <{element}> (allowed: {})",
                    a.name(),
                    allowed.join(", ")
                )
            };
            self.diags.error(pos, msg);
        }
    }

    fn unknown_element(&mut self, node: Node, parent: &str) {
        let name = node.tag_name().name();
        let pos = self.at(node);
        let msg = match UNSUPPORTED.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => format!("element <{name}> is not supported: {why}"),
            None => format!("unknown element <{name}> in <{parent}>"),
        };
        self.diags.error(pos, msg);
    }

    fn optional(&self, node: Node<'a, 'input>, name: &str) -> Option<Attr<'a>> {
        node.attributes()
            .find(|a| a.name() == name)
            .map(|a| (a.value(), self.pos(a.range_value().start)))
    }

    fn required(&mut self, node: Node<'a, 'input>, name: &str) -> Option<Attr<'a>> {
        let found = self.optional(node, name);
        if found.is_none() {
            let pos = self.at(node);
            self.diags.error(
                pos,
                format!("missing attribute '{name}' on <{}>", node.tag_name().name()),
            );
        }
        found
    }

    /// A number as Microkit writes them: decimal or `0x` hexadecimal,
    /// underscores allowed between digits.
    fn number(&mut self, (text, pos): Attr, name: &str) -> Option<u64> {
        let digits: String = text.chars().filter(|c| *c != '_').collect();
        let parsed = match digits.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => digits.parse(),
        };
        match parsed {
            Ok(n) => Some(n),
            Err(_) => {
                self.diags.error(
                    pos,
                    format!("{name} must be a number (decimal or 0x hex), not '{text}'"),
                );
                None
            }
        }
    }

    fn opt_number(&mut self, node: Node<'a, 'input>, name: &str) -> Option<(u64, Pos)> {
        let attr = self.optional(node, name)?;
        self.number(attr, name).map(|n| (n, attr.1))
    }

    fn req_number(&mut self, node: Node<'a, 'input>, name: &str) -> Option<(u64, Pos)> {
        let attr = self.required(node, name)?;
        self.number(attr, name).map(|n| (n, attr.1))
    }

    fn boolean(&mut self, node: Node<'a, 'input>, name: &str, default: bool) -> bool {
        match self.optional(node, name) {
            None => default,
            Some(("true", _)) => true,
            Some(("false", _)) => false,
            Some((other, pos)) => {
                self.diags.error(
                    pos,
                    format!("{name} must be 'true' or 'false', not '{other}'"),
                );
                default
            }
        }
    }

    fn string(&mut self, node: Node<'a, 'input>, name: &str) -> Option<String> {
        self.optional(node, name).map(|(v, _)| v.to_string())
    }

    /// A channel, IRQ or child id: 0 to [`layout::MAX_ID`].
    fn id(&mut self, node: Node<'a, 'input>) -> Option<u64> {
        let (id, pos) = self.req_number(node, "id")?;
        if id > layout::MAX_ID {
            self.diags.error(
                pos,
                format!(
                    "id must be between 0 and {} (one badge bit each)",
                    layout::MAX_ID
                ),
            );
            return None;
        }
        Some(id)
    }

    fn protection_domain(&mut self, node: Node<'a, 'input>, parent: Option<usize>) {
        let mut allowed = vec![
            "name",
            "priority",
            "budget",
            "period",
            "passive",
            "stack_size",
            "cpu",
            "fpu",
        ];
        if parent.is_some() {
            allowed.extend(["id", "setvar_id"]);
        }
        self.attributes(node, &allowed);
        let mut pd = Pd {
            pos: self.at(node),
            parent,
            name: self
                .required(node, "name")
                .map(|(v, _)| v.to_string())
                .unwrap_or_default(),
            ..Pd::default()
        };
        if let Some((p, pos)) = self.opt_number(node, "priority") {
            if p > layout::MAX_PRIORITY {
                self.diags.error(
                    pos,
                    format!("priority must be between 0 and {}", layout::MAX_PRIORITY),
                );
            }
            pd.priority = p;
        }
        pd.sched = self.sched(node);
        if let Some((_, pos)) = self.optional(node, "passive") {
            if !self.config.mcs {
                self.diags.error(pos, mcs_only("passive"));
            }
        }
        pd.passive = self.boolean(node, "passive", false);
        pd.stack_size = layout::STACK_DEFAULT;
        if let Some((s, pos)) = self.opt_number(node, "stack_size") {
            if !(layout::STACK_MIN..=layout::STACK_MAX).contains(&s) || s % 0x1000 != 0 {
                self.diags.error(
                    pos,
                    "stack_size must be a multiple of 4 KiB (0x1000) from 4 KiB to 16 MiB",
                );
            }
            pd.stack_size = s;
        }
        if let Some((cpu, pos)) = self.opt_number(node, "cpu") {
            if cpu != 0 {
                self.diags.error(
                    pos,
                    "cpu must be 0: Cairn runs on one core (seL4's SMP is not there yet)",
                );
            }
        }
        pd.fpu = self.boolean(node, "fpu", true);
        if parent.is_some() {
            pd.child_id = self.id(node);
            pd.setvar_id = self.string(node, "setvar_id");
        }
        let mut images = 0;
        let mut children = Vec::new();
        for child in self.children(node) {
            match child.tag_name().name() {
                "program_image" => {
                    images += 1;
                    self.attributes(child, &["path", "path_for_symbols"]);
                    if let Some((path, _)) = self.required(child, "path") {
                        pd.program_image = path.to_string();
                    }
                    pd.path_for_symbols = self.string(child, "path_for_symbols");
                    if images == 2 {
                        let pos = self.at(child);
                        self.diags
                            .error(pos, "a protection domain has one <program_image>");
                    }
                }
                "map" => {
                    if let Some(m) = self.map(child) {
                        pd.maps.push(m);
                    }
                }
                "irq" => {
                    if let Some(i) = self.irq(child) {
                        pd.irqs.push(i);
                    }
                }
                "setvar" => {
                    self.attributes(child, &["symbol", "region_paddr"]);
                    let symbol = self.required(child, "symbol");
                    let region = self.required(child, "region_paddr");
                    if let (Some((s, _)), Some((r, _))) = (symbol, region) {
                        pd.setvars.push(Setvar {
                            pos: self.at(child),
                            symbol: s.to_string(),
                            region_paddr: r.to_string(),
                        });
                    }
                }
                "protection_domain" => children.push(child),
                _ => self.unknown_element(child, "protection_domain"),
            }
        }
        if images == 0 {
            let pos = pd.pos;
            self.diags.error(
                pos,
                format!("protection domain '{}' has no <program_image>", pd.name),
            );
        }
        let index = self.system.pds.len();
        self.system.pds.push(pd);
        for child in children {
            self.protection_domain(child, Some(index));
        }
    }

    /// `budget` and `period`: MCS only; defaults as Microkit's.
    fn sched(&mut self, node: Node<'a, 'input>) -> Option<Sched> {
        let budget = self.opt_number(node, "budget");
        let period = self.opt_number(node, "period");
        if !self.config.mcs {
            for (name, given) in [("budget", budget), ("period", period)] {
                if let Some((_, pos)) = given {
                    self.diags.error(pos, mcs_only(name));
                }
            }
            return None;
        }
        let b = budget.map_or(layout::BUDGET_DEFAULT_US, |(b, _)| b);
        let p = period.map_or(b, |(p, _)| p);
        for (name, v) in [("budget", budget), ("period", period)] {
            if let Some((0, pos)) = v {
                self.diags.error(pos, format!("{name} must not be 0"));
            }
        }
        if b > p {
            let pos = budget.map_or_else(|| self.at(node), |(_, pos)| pos);
            self.diags.error(
                pos,
                format!("budget ({b} µs) must not be larger than period ({p} µs)"),
            );
        }
        Some(Sched {
            budget: b,
            period: p,
        })
    }

    fn map(&mut self, node: Node<'a, 'input>) -> Option<Map> {
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

    fn irq(&mut self, node: Node<'a, 'input>) -> Option<Irq> {
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

    fn memory_region(&mut self, node: Node<'a, 'input>) {
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

    fn channel(&mut self, node: Node<'a, 'input>) {
        self.attributes(node, &[]);
        let mut ends = Vec::new();
        for child in self.children(node) {
            if child.tag_name().name() != "end" {
                self.unknown_element(child, "channel");
                continue;
            }
            self.attributes(child, &["pd", "id", "pp", "notify", "setvar_id"]);
            let pd = self.required(child, "pd");
            let id = self.id(child);
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

fn mcs_only(attribute: &str) -> String {
    format!(
        "'{attribute}' needs the MCS kernel (scheduling contexts), and this system is built \
         for the classic one: remove it, or build with --config mcs=on"
    )
}
