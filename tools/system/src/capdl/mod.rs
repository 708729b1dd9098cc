//! The CapDL model: every kernel object of a system and every capability
//! in it, as seL4's capDL language describes them (capDL-tool's
//! `doc/capDL.md` and parser, read for the grammar), so that a loader can
//! build the system and nothing else.
//!
//! [`build`] makes a model from a validated system description, [`print`]
//! writes seL4's textual CapDL, [`parse`] reads it back (or any spec
//! capDL-tool reads, for RISC-V), and serde gives the JSON form.
//!
//! Capabilities are kept as capDL writes them ([`Cap`]: a target and its
//! parameters); which parameters a cap may have depends on the target
//! object's kind, which [`Spec::check_caps`] checks.

mod ast;
pub mod build;
mod lex;
mod links;
pub mod parse;
pub mod print;
mod resolve;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// An object's name: capDL's `(String, Maybe Word)`, `name` or `name[i]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjId {
    /// The name.
    pub name: String,
    /// The index, for an element of an array declared as `name[n]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

impl ObjId {
    /// A plain name.
    pub fn new(name: impl Into<String>) -> ObjId {
        ObjId {
            name: name.into(),
            index: None,
        }
    }
}

impl fmt::Display for ObjId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A whole spec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// capDL's architecture name; Cairn takes only `riscv`.
    pub arch: String,
    /// Every object, in declaration order.
    pub objects: Vec<Object>,
    /// `irq maps`: which IRQ object stands for which interrupt number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub irqs: Vec<IrqMap>,
    /// `cdt`: capability derivations (parent and child slots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cdt: Vec<Derivation>,
    /// `domains`: the domain schedule, if the spec has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Domains>,
}

/// A kernel object and the capabilities it holds (CNode slots, TCB
/// slots, page-table entries, the notification an IRQ is bound to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    /// Its name.
    pub id: ObjId,
    /// Its type and parameters.
    pub kind: Kind,
    /// Capabilities by slot.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub slots: BTreeMap<u64, Cap>,
}

/// Object types (capDL's keywords) and their parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// `ep`.
    Endpoint,
    /// `notification`.
    Notification,
    /// `tcb (...)`.
    Tcb(Tcb),
    /// `cnode (N bits)`.
    Cnode {
        /// log2 of the number of slots.
        size_bits: u64,
    },
    /// `ut (N bits, paddr: P) { covered objects }`.
    Untyped {
        /// log2 of the size, if given.
        size_bits: Option<u64>,
        /// Physical address, if fixed.
        paddr: Option<u64>,
        /// Objects made from it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        covers: Vec<ObjId>,
    },
    /// `irq`: the IRQ-handler object (slot 0: the notification it signals).
    Irq,
    /// `asid_pool (asid_high: N)`.
    AsidPool {
        /// The pool's high ASID bits, if fixed.
        asid_high: Option<u64>,
    },
    /// `pt`: a RISC-V page table at any level (the root one is a VSpace).
    PageTable,
    /// `frame (4k|2M|1G, paddr: P, fill: [...])`.
    Frame {
        /// log2 of the size: 12, 21 or 30.
        size_bits: u64,
        /// Physical address, if fixed (device memory).
        paddr: Option<u64>,
        /// capDL-tool's fill entries, each a list of words, kept as
        /// written (the image builder will add ELF segments here).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fill: Vec<Vec<String>>,
    },
    /// `sc (period: P, budget: B, data: D, N bits)` (MCS).
    SchedContext {
        /// Period in µs.
        period: Option<u64>,
        /// Budget in µs.
        budget: Option<u64>,
        /// The badge `seL4_SchedControl_ConfigureFlags` gives it.
        data: Option<u64>,
        /// log2 of the size.
        size_bits: Option<u64>,
    },
    /// `rtreply`: an MCS reply object.
    Reply,
}

impl Kind {
    /// log2 of the memory the object takes when retyped from untyped
    /// memory on RISC-V 64 (ABI reference §2, object sizes; the TCB with
    /// the FPU, as Cairn builds it), for the loader to place the objects
    /// largest first; `None` for `irq` objects (kernel-owned) and untyped
    /// ones without a size.
    pub fn size_bits(&self, mcs: bool) -> Option<u64> {
        match self {
            Kind::Endpoint => Some(4),
            Kind::Notification => Some(if mcs { 6 } else { 5 }),
            Kind::Tcb(_) => Some(11),
            Kind::Cnode { size_bits } => Some(size_bits + 5),
            Kind::Untyped { size_bits, .. } => *size_bits,
            Kind::Irq => None,
            Kind::AsidPool { .. } | Kind::PageTable => Some(12),
            Kind::Frame { size_bits, .. } => Some(*size_bits),
            Kind::SchedContext { size_bits, .. } => Some(size_bits.unwrap_or(7)),
            Kind::Reply => Some(5),
        }
    }
}

/// A TCB's parameters (`tcb (addr: A, ip: I, ...)`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tcb {
    /// IPC buffer virtual address (capDL's `addr`).
    pub addr: Option<u64>,
    /// Initial program counter (the image builder sets it to the ELF's
    /// entry point).
    pub ip: Option<u64>,
    /// Initial stack pointer.
    pub sp: Option<u64>,
    /// Priority.
    pub prio: Option<u64>,
    /// Maximum controlled priority.
    pub max_prio: Option<u64>,
    /// Core.
    pub affinity: Option<u64>,
    /// Whether the loader starts it.
    pub resume: Option<bool>,
    /// Whether the FPU is off for it.
    pub fpu_disabled: Option<bool>,
    /// Fault endpoint cptr (classic configuration).
    pub fault_ep: Option<u64>,
    /// Domain.
    pub dom: Option<u64>,
    /// Initial argument registers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init: Vec<u64>,
}

/// Rights of a cap: capDL's `R`, `W`, `G` (written `X` on frames:
/// execute) and `P` (grant-reply).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rights {
    /// R.
    pub read: bool,
    /// W.
    pub write: bool,
    /// G, or X on a frame.
    pub grant: bool,
    /// P.
    pub grant_reply: bool,
}

impl Rights {
    /// Read and write.
    pub const RW: Rights = Rights {
        read: true,
        write: true,
        grant: false,
        grant_reply: false,
    };
    /// Write only (send, signal).
    pub const W: Rights = Rights {
        read: false,
        write: true,
        grant: false,
        grant_reply: false,
    };
    /// Read only (receive, wait).
    pub const R: Rights = Rights {
        read: true,
        write: false,
        grant: false,
        grant_reply: false,
    };

    /// Whether no right is set.
    pub fn is_empty(&self) -> bool {
        *self == Rights::default()
    }

    /// The rights in both.
    pub fn and(self, o: Rights) -> Rights {
        Rights {
            read: self.read && o.read,
            write: self.write && o.write,
            grant: self.grant && o.grant,
            grant_reply: self.grant_reply && o.grant_reply,
        }
    }
}

/// What a cap names: an object, or one of capDL's reserved names for
/// the capabilities that have no object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A named object.
    Object(ObjId),
    /// `irq_control`.
    IrqControl,
    /// `asid_control`.
    AsidControl,
    /// `sched_control` (MCS).
    SchedControl,
    /// `domain`.
    Domain,
}

/// A capability as capDL writes it: its target and parameters (absent
/// parameters are capDL's defaults: no rights, badge 0, guard 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cap {
    /// What it names.
    pub target: Target,
    /// Rights (endpoints, notifications, frames).
    #[serde(default, skip_serializing_if = "Rights::is_empty")]
    pub rights: Rights,
    /// Badge (endpoints, notifications).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub badge: u64,
    /// CNode guard.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub guard: u64,
    /// CNode guard size.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub guard_size: u64,
    /// Frames: mapped uncached (device memory).
    #[serde(default, skip_serializing_if = "is_false")]
    pub uncached: bool,
    /// A reply cap (`reply`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub reply: bool,
    /// A master reply cap (`master_reply`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub master_reply: bool,
    /// Page tables, VSpaces: `asid: (high, low)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asid: Option<(u64, u64)>,
    /// Frames: `mapping: (pt, slot)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<(ObjId, u64)>,
    /// `sched_control (core: N)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Cap {
    /// A cap to `obj` with no parameters.
    pub fn to(obj: &ObjId) -> Cap {
        Cap::target(Target::Object(obj.clone()))
    }

    /// A cap to `target` with no parameters.
    pub fn target(target: Target) -> Cap {
        Cap {
            target,
            rights: Rights::default(),
            badge: 0,
            guard: 0,
            guard_size: 0,
            uncached: false,
            reply: false,
            master_reply: false,
            asid: None,
            mapping: None,
            core: None,
        }
    }

    /// With `rights`.
    pub fn rights(mut self, rights: Rights) -> Cap {
        self.rights = rights;
        self
    }

    /// With `badge`.
    pub fn badge(mut self, badge: u64) -> Cap {
        self.badge = badge;
        self
    }
}

/// `irq maps { N: obj }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IrqMap {
    /// Interrupt number.
    pub irq: u64,
    /// Its `irq` object.
    pub handler: ObjId,
}

/// A slot: `(object, slot)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRef {
    /// The object holding the cap.
    pub object: ObjId,
    /// The slot.
    pub slot: u64,
}

/// One edge of the capability derivation tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derivation {
    /// The parent cap's slot.
    pub parent: SlotRef,
    /// The derived cap's slot.
    pub child: SlotRef,
}

/// `domains { schedule: [...], domain_set_start: N, index_shift: N }`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domains {
    /// (domain, duration) pairs.
    pub schedule: Vec<(u64, u64)>,
    /// The start index; `None` is `no_start`.
    pub start: Option<u64>,
    /// Where the schedule goes in the kernel's table.
    pub index_shift: u64,
}

impl Spec {
    /// The object called `id`.
    pub fn object(&self, id: &ObjId) -> Option<&Object> {
        self.objects.iter().find(|o| &o.id == id)
    }

    /// Checks that each cap names an object of the spec and has only the
    /// parameters its kind takes; returns the problems.
    pub fn check_caps(&self) -> Vec<String> {
        let kinds: BTreeMap<&ObjId, &Kind> =
            self.objects.iter().map(|o| (&o.id, &o.kind)).collect();
        let mut out = Vec::new();
        for o in &self.objects {
            for (slot, cap) in &o.slots {
                let at = format!("cap in slot {slot} of '{}'", o.id);
                let kind = match &cap.target {
                    Target::Object(t) => match kinds.get(t) {
                        Some(k) => Some(*k),
                        None => {
                            out.push(format!("{at} names '{t}', which is not declared"));
                            continue;
                        }
                    },
                    _ => None,
                };
                out.extend(
                    links::check_params(cap, kind)
                        .into_iter()
                        .map(|p| format!("{at}: {p}")),
                );
            }
        }
        out
    }
}
