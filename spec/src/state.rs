//! The abstract state: objects, the slots inside CNodes and TCBs, and the
//! capability derivation tree (manual §3.1.4) as links between slots.

use crate::cap::{Cap, Kind, ObjId};
use crate::thread::Thread;
use std::collections::BTreeMap;

/// A slot: slot `index` of the CNode or TCB `obj`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId {
    pub obj: ObjId,
    pub index: u64,
}

/// A slot holding a cap, and the slot's place in the derivation tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub cap: Cap,
    /// seL4's "original" (revocable) flag: the cap heads a subtree of its
    /// own (see [`crate::cap::is_original`]); retyped caps are original.
    pub original: bool,
    /// The cap this one was derived from (`None`: a boot cap, or one
    /// whose ancestors were all deleted).
    pub parent: Option<SlotId>,
    /// The caps derived from this one, newest first (seL4 inserts a new
    /// child before the others; Revoke deletes in this order).
    pub children: Vec<SlotId>,
}

/// A kernel object. CNodes and TCBs hold slots (a TCB's: 0 CSpace root,
/// 1 VSpace root, 2 reply, 3 caller, 4 IPC buffer frame); empty slots
/// are absent from the maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    CNode {
        radix: u32,
        slots: BTreeMap<u64, Entry>,
    },
    /// (The thread boxed: with its registers it is ten times the size
    /// of any other object.)
    Tcb {
        slots: BTreeMap<u64, Entry>,
        thread: Box<Thread>,
    },
    /// An endpoint: the threads waiting in it, first first; they all wait
    /// to send or all to receive (§4.2).
    Endpoint { queue: Vec<ObjId> },
    /// A notification (§5): the threads waiting for a signal, the signal
    /// word if one is pending (*active*), the TCB bound to it.
    Notification {
        waiting: Vec<ObjId>,
        pending: Option<u64>,
        bound: Option<ObjId>,
    },
    /// A page table (ch. 7): what each of its slots holds; empty slots
    /// are absent (`crate::vspace`).
    PageTable {
        entries: BTreeMap<u64, crate::vspace::Pte>,
    },
    /// An ASID pool: the root table of each assigned ASID, by its index
    /// in the pool.
    AsidPool { roots: BTreeMap<u64, ObjId> },
    /// MCS: a scheduling context (`crate::sched_context`).
    SchedContext(crate::sched_context::SchedContext),
    /// MCS: a reply object: the thread it links (a receiver blocked on
    /// Recv with it, or the caller waiting for a reply through it;
    /// seL4's `replyTCB`) and, on a scheduling context's call stack, the
    /// reply object of the Call below (`replyPrev`; what is above is
    /// the reply whose `prev` it is, or the context whose `reply` it is:
    /// `crate::ipc_mcs`).
    Reply {
        caller: Option<ObjId>,
        prev: Option<ObjId>,
    },
    /// Any other object: its kind (frames: their contents are not
    /// specified).
    Other(Kind),
}

/// The number of slots in a TCB.
pub const TCB_SLOTS: u64 = 5;
/// The TCB slots: CSpace root, master reply cap, reply cap to the
/// thread's caller, IPC buffer frame (classic); MCS: CSpace root, VSpace
/// root, IPC buffer frame, fault handler, timeout handler (seL4's
/// `tcb_cnode_index`).
pub const TCB_CTABLE: u64 = 0;
pub const TCB_REPLY: u64 = 2;
pub const TCB_CALLER: u64 = 3;
pub const TCB_BUFFER: u64 = if crate::MCS { 2 } else { 4 };
/// MCS: the fault handler's and the timeout handler's endpoint caps.
pub const TCB_FAULT_HANDLER: u64 = 3;
pub const TCB_TIMEOUT_HANDLER: u64 = 4;

impl Object {
    /// A new object of `kind`, its slots empty.
    pub fn new(kind: Kind) -> Object {
        match kind {
            Kind::CNode { radix } => Object::CNode {
                radix,
                slots: BTreeMap::new(),
            },
            Kind::Tcb => Object::Tcb {
                slots: BTreeMap::new(),
                thread: Box::new(Thread {
                    time_slice: crate::thread::TIME_SLICE,
                    ..Thread::default()
                }),
            },
            Kind::Endpoint => Object::Endpoint { queue: Vec::new() },
            Kind::Notification => Object::Notification {
                waiting: Vec::new(),
                pending: None,
                bound: None,
            },
            Kind::PageTable => Object::PageTable {
                entries: BTreeMap::new(),
            },
            Kind::AsidPool => Object::AsidPool {
                roots: BTreeMap::new(),
            },
            Kind::SchedContext { size_bits } => {
                Object::SchedContext(crate::sched_context::SchedContext::new(size_bits))
            }
            Kind::Reply => Object::Reply {
                caller: None,
                prev: None,
            },
            other => Object::Other(other),
        }
    }

    fn slots(&self) -> Option<&BTreeMap<u64, Entry>> {
        match self {
            Object::CNode { slots, .. } | Object::Tcb { slots, .. } => Some(slots),
            _ => None,
        }
    }

    fn slots_mut(&mut self) -> Option<&mut BTreeMap<u64, Entry>> {
        match self {
            Object::CNode { slots, .. } | Object::Tcb { slots, .. } => Some(slots),
            _ => None,
        }
    }
}

/// The whole abstract state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub objects: BTreeMap<ObjId, Object>,
    /// log2 of a TCB's size (seL4_TCBBits of the configuration).
    pub tcb_bits: u32,
    /// The ASID table: the pool registered for each pool number
    /// (`crate::vspace`).
    pub asid_table: BTreeMap<u64, ObjId>,
    /// The interrupt lines and the IRQ node (`irq`).
    pub irqs: crate::irq::Irqs,
    /// The number of scheduling domains (`CONFIG_NUM_DOMAINS`).
    pub num_domains: u64,
    /// The domain schedule (`domain`).
    pub domain_schedule: crate::domain::Schedule,
    /// The contents of frames (`memory`).
    pub memory: crate::memory::Memory,
    /// MCS: the scheduling contexts whose head refill is not ready (not
    /// released, or less than the minimum budget): time, which the spec
    /// does not decide; whoever drives it says (the refinement test from
    /// the kernel's refills before each step). A reply that wakes a
    /// thread on one of them sends a timeout fault (`timeout.rs`). Not
    /// state: never compared.
    pub not_ready: std::collections::BTreeSet<ObjId>,
    /// The ready queues, the running thread and the pending scheduler
    /// action (`sched`; classic only: empty under MCS).
    pub sched: crate::sched::Scheduler,
}

impl State {
    /// The entry of a slot holding a cap.
    pub fn entry(&self, s: SlotId) -> Option<&Entry> {
        self.objects.get(&s.obj)?.slots()?.get(&s.index)
    }

    pub(crate) fn entry_mut(&mut self, s: SlotId) -> Option<&mut Entry> {
        self.objects.get_mut(&s.obj)?.slots_mut()?.get_mut(&s.index)
    }

    /// The cap in a slot (`None`: empty).
    pub fn cap(&self, s: SlotId) -> Option<Cap> {
        self.entry(s).map(|e| e.cap)
    }

    /// Replaces the cap in the full slot `s`, keeping its place in the tree.
    pub fn set_cap(&mut self, s: SlotId, cap: Cap) {
        if let Some(e) = self.entry_mut(s) {
            e.cap = cap;
        }
    }

    /// Every slot holding a cap, with its entry.
    pub fn entries(&self) -> impl Iterator<Item = (SlotId, &Entry)> {
        self.objects.iter().flat_map(|(&obj, o)| {
            o.slots()
                .into_iter()
                .flatten()
                .map(move |(&index, e)| (SlotId { obj, index }, e))
        })
    }

    /// Puts `e` into the empty slot `s` (of an existing object).
    fn put(&mut self, s: SlotId, e: Entry) {
        if let Some(slots) = self.objects.get_mut(&s.obj).and_then(Object::slots_mut) {
            slots.insert(s.index, e);
        }
    }

    /// Takes the entry out of `s`, leaving the links of others alone.
    fn take(&mut self, s: SlotId) -> Option<Entry> {
        self.objects.get_mut(&s.obj)?.slots_mut()?.remove(&s.index)
    }

    /// Replaces `old` by `new` in `parent`'s children.
    fn relink_child(&mut self, parent: Option<SlotId>, old: SlotId, new: &[SlotId]) {
        if let Some(p) = parent.and_then(|p| self.entry_mut(p)) {
            if let Some(i) = p.children.iter().position(|&c| c == old) {
                p.children.splice(i..=i, new.iter().copied());
            }
        }
    }

    /// Sets the parent of each of `children` to `parent`.
    fn set_parent(&mut self, children: &[SlotId], parent: Option<SlotId>) {
        for &c in children {
            if let Some(e) = self.entry_mut(c) {
                e.parent = parent;
            }
        }
    }

    /// Inserts `cap`, derived from the cap in `src`, into the empty slot
    /// `dest` (Copy, Mint): as `src`'s newest child, or, if it is not
    /// its child, as its sibling right after it.
    pub fn insert_derived(&mut self, src: SlotId, dest: SlotId, cap: Cap) {
        let Some(s) = self.entry(src).cloned() else {
            return;
        };
        let original = crate::cap::is_original(&cap, &s.cap);
        let child = crate::cap::is_child_of(&s.cap, s.original, &cap, original);
        let parent = if child { Some(src) } else { s.parent };
        self.put(
            dest,
            Entry {
                cap,
                original,
                parent,
                children: Vec::new(),
            },
        );
        if child {
            if let Some(e) = self.entry_mut(src) {
                e.children.insert(0, dest);
                // seL4 (`setUntypedCapAsFull`, not in the manual): an
                // untyped that has been copied is full, so that it and its
                // copy never hand out the same memory twice.
                if let (
                    Cap::Untyped {
                        size_bits,
                        watermark,
                        ..
                    },
                    Cap::Untyped { .. },
                ) = (&mut e.cap, cap)
                {
                    *watermark = 1 << *size_bits;
                }
            }
        } else {
            self.relink_child(parent, src, &[src, dest]);
        }
    }

    /// Puts `cap` into the empty slot `dest` as an original cap with no
    /// parent (a thread's master reply cap).
    pub fn insert_original(&mut self, dest: SlotId, cap: Cap) {
        let e = Entry {
            cap,
            original: true,
            parent: None,
            children: Vec::new(),
        };
        self.put(dest, e);
    }

    /// Inserts a cap to a new object into the empty slot `dest` as the
    /// newest child of the untyped in `parent` (Retype).
    pub fn insert_new(&mut self, parent: SlotId, dest: SlotId, cap: Cap) {
        self.put(
            dest,
            Entry {
                cap,
                original: true,
                parent: Some(parent),
                children: Vec::new(),
            },
        );
        if let Some(e) = self.entry_mut(parent) {
            e.children.insert(0, dest);
        }
    }

    /// Renames slots in every derivation link (after caps moved).
    fn rename(&mut self, f: impl Fn(SlotId) -> SlotId) {
        for o in self.objects.values_mut() {
            for e in o.slots_mut().into_iter().flat_map(|s| s.values_mut()) {
                e.parent = e.parent.map(&f);
                e.children.iter_mut().for_each(|c| *c = f(*c));
            }
        }
    }

    /// Moves the cap in `src` to the empty slot `dest` as `cap`, keeping
    /// its place in the derivation tree.
    pub fn move_cap(&mut self, src: SlotId, dest: SlotId, cap: Cap) {
        let Some(mut e) = self.take(src) else {
            return;
        };
        e.cap = cap;
        self.put(dest, e);
        self.rename(|s| if s == src { dest } else { s });
    }

    /// Swaps the caps of two full slots (`a`'s goes to `b` as `a_cap`,
    /// `b`'s to `a` as `b_cap`), each keeping its place in the tree.
    pub fn swap_caps(&mut self, a: SlotId, a_cap: Cap, b: SlotId, b_cap: Cap) {
        if self.entry(a).is_none() || self.entry(b).is_none() {
            return;
        }
        let (Some(mut ea), Some(mut eb)) = (self.take(a), self.take(b)) else {
            return;
        };
        (ea.cap, eb.cap) = (a_cap, b_cap);
        self.put(b, ea);
        self.put(a, eb);
        self.rename(|s| match s {
            s if s == a => b,
            s if s == b => a,
            s => s,
        });
    }

    /// Empties `s`: its children are adopted by its parent, in its place.
    pub fn remove(&mut self, s: SlotId) -> Option<Entry> {
        let e = self.take(s)?;
        self.relink_child(e.parent, s, &e.children);
        self.set_parent(&e.children, e.parent);
        Some(e)
    }
}

impl State {
    /// The state as user space can observe it: an untyped cap's watermark
    /// counts only while the untyped has children (Retype on a childless
    /// untyped starts again from its beginning, manual §2.4), so it reads
    /// 0 otherwise; a thread's buffer words count only while it has an
    /// IPC buffer (without one, nothing reads them). States are compared
    /// in this form.
    pub fn observable(&self) -> State {
        let mut s = self.clone();
        // Frame contents are observed through the threads' buffers.
        s.memory = Default::default();
        s.not_ready = Default::default();
        let unbuffered: Vec<ObjId> = s
            .objects
            .keys()
            .copied()
            .filter(|&t| self.thread(t).is_some() && !self.has_buffer(t, false))
            .collect();
        for t in unbuffered {
            if let Some(x) = s.thread_mut(t) {
                x.forget_buffer();
            }
        }
        for o in s.objects.values_mut() {
            for e in o.slots_mut().into_iter().flat_map(|m| m.values_mut()) {
                if let Cap::Untyped { watermark, .. } = &mut e.cap {
                    if e.children.is_empty() {
                        *watermark = 0;
                    }
                }
            }
        }
        s
    }
}
