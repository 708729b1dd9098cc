//! From XML to a [`System`]: one function per element of Microkit's
//! schema, each checking its own attributes (unknown ones, missing ones,
//! values) and children; `system` and `protection_domain` here with the
//! attribute helpers, the leaf elements in `elements.rs`. Checks that
//! relate elements to each other are in [`super::check`].
//!
//! Every problem is recorded at the position of the attribute or element it
//! is about and reading goes on, so that one run reports all of them.

use roxmltree::{Document, Node};

use super::{Config, Pd, Sched, Setvar, System};
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

pub(super) struct Reader<'a, 'input> {
    pub(super) doc: &'a Document<'input>,
    pub(super) diags: &'a mut Diagnostics,
    pub(super) config: Config,
    pub(super) system: System,
}

/// An attribute's value and where it is.
pub(super) type Attr<'a> = (&'a str, Pos);

impl<'a, 'input: 'a> Reader<'a, 'input> {
    pub(super) fn pos(&self, byte: usize) -> Pos {
        let p = self.doc.text_pos_at(byte);
        Pos::new(p.row, p.col)
    }

    pub(super) fn at(&self, node: Node) -> Pos {
        self.pos(node.range().start)
    }

    /// The element children of `node`; text other than white space is an
    /// error (Microkit's schema has none).
    pub(super) fn children(&mut self, node: Node<'a, 'input>) -> Vec<Node<'a, 'input>> {
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
    pub(super) fn attributes(&mut self, node: Node, allowed: &[&str]) {
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

    pub(super) fn unknown_element(&mut self, node: Node, parent: &str) {
        let name = node.tag_name().name();
        let pos = self.at(node);
        let msg = match UNSUPPORTED.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => format!("element <{name}> is not supported: {why}"),
            None => format!("unknown element <{name}> in <{parent}>"),
        };
        self.diags.error(pos, msg);
    }

    pub(super) fn optional(&self, node: Node<'a, 'input>, name: &str) -> Option<Attr<'a>> {
        node.attributes()
            .find(|a| a.name() == name)
            .map(|a| (a.value(), self.pos(a.range_value().start)))
    }

    pub(super) fn required(&mut self, node: Node<'a, 'input>, name: &str) -> Option<Attr<'a>> {
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
    pub(super) fn number(&mut self, (text, pos): Attr, name: &str) -> Option<u64> {
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

    pub(super) fn opt_number(&mut self, node: Node<'a, 'input>, name: &str) -> Option<(u64, Pos)> {
        let attr = self.optional(node, name)?;
        self.number(attr, name).map(|n| (n, attr.1))
    }

    pub(super) fn req_number(&mut self, node: Node<'a, 'input>, name: &str) -> Option<(u64, Pos)> {
        let attr = self.required(node, name)?;
        self.number(attr, name).map(|n| (n, attr.1))
    }

    pub(super) fn boolean(&mut self, node: Node<'a, 'input>, name: &str, default: bool) -> bool {
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

    pub(super) fn string(&mut self, node: Node<'a, 'input>, name: &str) -> Option<String> {
        self.optional(node, name).map(|(v, _)| v.to_string())
    }

    /// An IRQ or child id: 0 to [`layout::MAX_ID`], one badge bit each
    /// (an interrupt signals one notification; a child's id is a fault
    /// badge's, as Microkit's).
    pub(super) fn id(&mut self, node: Node<'a, 'input>) -> Option<u64> {
        self.id_up_to(
            node,
            layout::MAX_ID,
            "one badge bit of the PD's notification each",
        )
    }

    /// A channel end's id: 0 to [`layout::MAX_CHANNEL_ID`]; ids above
    /// [`layout::MAX_ID`] give the PD extra notifications.
    pub(super) fn channel_id(&mut self, node: Node<'a, 'input>) -> Option<u64> {
        self.id_up_to(
            node,
            layout::MAX_CHANNEL_ID,
            "ids above 61 give the PD extra notifications, up to 4",
        )
    }

    fn id_up_to(&mut self, node: Node<'a, 'input>, max: u64, why: &str) -> Option<u64> {
        let (id, pos) = self.req_number(node, "id")?;
        if id > max {
            self.diags.error(
                pos,
                format!(
                    "{} id must be between 0 and {max} ({why})",
                    node.tag_name().name()
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
}

pub(super) fn mcs_only(attribute: &str) -> String {
    format!(
        "'{attribute}' needs the MCS kernel (scheduling contexts), and this system is built \
         for the classic one: remove it, or build with --config mcs=on"
    )
}
