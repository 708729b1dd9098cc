//! From a validated [`System`] to its CapDL [`Spec`]: the objects each
//! protection domain is made of and the capabilities it holds, following
//! seL4 Microkit's model of authority (docs/system.md, "The CapDL model").
//!
//! Per PD `P`: a TCB `tcb_P`, a CNode `cnode_P` (slots in
//! [`crate::layout`]), a VSpace `vspace_P` with the page tables its
//! mappings need, a notification `ntfn_P` bound to the TCB, an endpoint
//! `ep_P` if it is called or has children, an IPC buffer and a stack;
//! under MCS a scheduling context `sc_P` and a reply object `reply_P`.
//! Per memory region: its frames. Per interrupt: an `irq` object bound to
//! the PD's notification. Channels become badged caps to the other end's
//! notification or endpoint. Last, the monitor ([`monitor`]): the fault
//! handler of the top-level PDs, and under MCS the one that makes passive
//! PDs passive.

use std::collections::BTreeMap;

use super::{Cap, IrqMap, Kind, ObjId, Object, Rights, Spec, Target, Tcb};
use crate::sdf::{Config, Map, Pd, System};
use crate::{delivery, layout};

mod monitor;
pub use monitor::uart_vaddr as monitor_uart_vaddr;

/// log2 of a small page.
const PAGE_BITS: u64 = 12;
/// log2 of a MCS scheduling context (room for its refills; Microkit's
/// choice).
const SC_BITS: u64 = 8;
/// Entries per Sv39 page table.
const PT_ENTRIES: u64 = 512;

/// The CapDL spec of `system`.
pub fn build(system: &System, config: Config) -> Spec {
    let mut b = Builder {
        objects: Vec::new(),
        index: BTreeMap::new(),
    };
    // Memory regions' frames first: PDs' page tables point at them.
    let mut frames: BTreeMap<&str, Vec<ObjId>> = BTreeMap::new();
    for mr in &system.mrs {
        let bits = u64::from(mr.page_size.trailing_zeros());
        let ids = (0..mr.pages())
            .map(|i| {
                let paddr = mr.phys_addr.map(|p| p + i * mr.page_size);
                b.add(
                    format!("frame_{}_{i}", mr.name),
                    Kind::Frame {
                        size_bits: bits,
                        paddr,
                        fill: Vec::new(),
                    },
                )
            })
            .collect();
        frames.insert(&mr.name, ids);
    }
    let wide = delivery::Wide::new(system);
    let mut irqs = Vec::new();
    // One PD after the other, each complete (a child comes after its
    // parent, whose endpoint and CNode it needs).
    let mut per_pd: Vec<PdObjects> = Vec::new();
    for (i, pd) in system.pds.iter().enumerate() {
        let me = b.pd_objects(system, &wide, i, pd, config);
        b.pd_caps(pd, &me, &per_pd, config);
        for m in &pd.maps {
            if let (Some(mr), Some(ids)) = (system.mr(&m.mr), frames.get(m.mr.as_str())) {
                b.map_region(pd, &me, m, mr.page_size, ids);
            }
        }
        for irq in &pd.irqs {
            let id = b.add(format!("irq_{}", irq.irq), Kind::Irq);
            b.put(
                &id,
                0,
                Cap::to(&me.ntfn).rights(Rights::W).badge(1 << irq.id),
            );
            b.put(&me.cnode, layout::BASE_IRQ + irq.id, Cap::to(&id));
            irqs.push(IrqMap {
                irq: irq.irq,
                handler: id,
            });
        }
        per_pd.push(me);
    }
    for c in &system.channels {
        for (from, to) in [(&c.ends[0], &c.ends[1]), (&c.ends[1], &c.ends[0])] {
            let (Some(f), Some(t)) = (system.pd_index(&from.pd), system.pd_index(&to.pd)) else {
                continue;
            };
            let (Some(f), Some(t)) = (per_pd.get(f), per_pd.get(t)) else {
                continue;
            };
            if from.notify {
                let (group, bit) = wide.delivery(&to.pd, to.id);
                let target = match group {
                    0 => Some(&t.ntfn),
                    g => t.groups.get((g - 1) as usize),
                };
                if let Some(target) = target {
                    let cap = Cap::to(target).rights(Rights::W).badge(1 << bit);
                    b.put(&f.cnode, layout::notify_slot(from.id), cap);
                }
                if group != 0 {
                    // The second signal: the summary bit of the wide
                    // PD's own notification, after the extra one's bit.
                    let cap = Cap::to(&t.ntfn)
                        .rights(Rights::W)
                        .badge(1 << layout::SUMMARY_BIT);
                    b.put(&f.cnode, layout::summary_slot(from.id), cap);
                }
            }
            if from.pp {
                if let Some(ep) = &t.ep {
                    b.put(
                        &f.cnode,
                        layout::ppc_slot(from.id),
                        Cap::to(ep).rights(CALL).badge(layout::PPC_BADGE | to.id),
                    );
                }
            }
        }
    }
    monitor::add(&mut b, system, &per_pd, config);
    Spec {
        arch: "riscv".into(),
        objects: b.objects,
        irqs,
        cdt: Vec::new(),
        domains: None,
    }
}

/// What a caller or a faulting child needs on an endpoint: send, and
/// grant-reply so that the kernel makes a reply capability (seL4 needs
/// Grant or GrantReply on a fault endpoint too), but no Grant: a call
/// cannot pass capabilities.
const CALL: Rights = Rights {
    read: false,
    write: true,
    grant: false,
    grant_reply: true,
};

/// The objects of one PD, by name.
struct PdObjects {
    tcb: ObjId,
    cnode: ObjId,
    vspace: ObjId,
    ntfn: ObjId,
    /// A wide PD's extra notifications (`crate::delivery`).
    groups: Vec<ObjId>,
    ep: Option<ObjId>,
    cnode_bits: u8,
}

struct Builder {
    objects: Vec<Object>,
    index: BTreeMap<ObjId, usize>,
}

impl Builder {
    fn add(&mut self, name: String, kind: Kind) -> ObjId {
        let id = ObjId::new(name);
        self.index.insert(id.clone(), self.objects.len());
        self.objects.push(Object {
            id: id.clone(),
            kind,
            slots: BTreeMap::new(),
        });
        id
    }

    fn put(&mut self, obj: &ObjId, slot: u64, cap: Cap) {
        if let Some(o) = self.index.get(obj).and_then(|&i| self.objects.get_mut(i)) {
            o.slots.insert(slot, cap);
        }
    }

    fn has(&self, obj: &ObjId) -> bool {
        self.index.contains_key(obj)
    }

    fn pd_objects(
        &mut self,
        system: &System,
        wide: &delivery::Wide,
        index: usize,
        pd: &Pd,
        config: Config,
    ) -> PdObjects {
        let n = &pd.name;
        let tcb = self.add(
            format!("tcb_{n}"),
            Kind::Tcb(Tcb {
                addr: Some(layout::IPC_BUFFER_VADDR),
                sp: Some(layout::STACK_TOP),
                prio: Some(pd.priority),
                max_prio: Some(pd.priority),
                affinity: Some(0),
                resume: Some(true),
                fpu_disabled: Some(!pd.fpu),
                ..Tcb::default()
            }),
        );
        let cnode_bits = delivery::cnode_bits(system, n);
        let cnode = self.add(
            format!("cnode_{n}"),
            Kind::Cnode {
                size_bits: u64::from(cnode_bits),
            },
        );
        let vspace = self.add(format!("vspace_{n}"), Kind::PageTable);
        let ntfn = self.add(format!("ntfn_{n}"), Kind::Notification);
        let groups = (1..=wide.groups(n))
            .map(|g| self.add(format!("extra_ntfn_{n}_{g}"), Kind::Notification))
            .collect();
        let ep = system
            .needs_endpoint(index)
            .then(|| self.add(format!("ep_{n}"), Kind::Endpoint));
        let me = PdObjects {
            tcb,
            cnode,
            vspace,
            ntfn,
            groups,
            ep,
            cnode_bits,
        };
        let ipcbuf = self.add(format!("ipcbuf_{n}"), small_frame());
        self.map_page(
            n,
            &me.vspace,
            layout::IPC_BUFFER_VADDR,
            PAGE_BITS,
            Cap::to(&ipcbuf).rights(Rights::RW),
        );
        self.put(
            &me.tcb,
            slot::IPC_BUFFER,
            Cap::to(&ipcbuf).rights(Rights::RW),
        );
        let pages = pd.stack_size / (1 << PAGE_BITS);
        let bottom = layout::stack_bottom(pd.stack_size);
        for i in 0..pages {
            let f = self.add(format!("stack_{n}_{i}"), small_frame());
            let vaddr = bottom + i * (1 << PAGE_BITS);
            self.map_page(
                n,
                &me.vspace,
                vaddr,
                PAGE_BITS,
                Cap::to(&f).rights(Rights::RW),
            );
        }
        if config.mcs {
            let sched = pd.sched.unwrap_or(crate::sdf::Sched {
                budget: layout::BUDGET_DEFAULT_US,
                period: layout::BUDGET_DEFAULT_US,
            });
            let sc = self.add(
                format!("sc_{n}"),
                Kind::SchedContext {
                    period: Some(sched.period),
                    budget: Some(sched.budget),
                    data: Some(index as u64),
                    size_bits: Some(SC_BITS),
                },
            );
            self.put(&me.tcb, slot::SC, Cap::to(&sc));
            let reply = self.add(format!("reply_{n}"), Kind::Reply);
            self.put(&me.cnode, layout::REPLY, Cap::to(&reply));
        }
        me
    }

    /// The caps in a PD's own TCB and CNode (its objects, its parent's
    /// endpoint, its children's TCBs).
    fn pd_caps(&mut self, pd: &Pd, me: &PdObjects, all: &[PdObjects], config: Config) {
        let cnode_cap = Cap {
            guard_size: 64 - u64::from(me.cnode_bits),
            ..Cap::to(&me.cnode)
        };
        self.put(&me.tcb, slot::CSPACE, cnode_cap);
        self.put(&me.tcb, slot::VSPACE, Cap::to(&me.vspace));
        self.put(&me.tcb, slot::BOUND_NOTIFICATION, Cap::to(&me.ntfn));
        self.put(&me.cnode, layout::VSPACE, Cap::to(&me.vspace));
        let input = match &me.ep {
            Some(ep) => Cap::to(ep).rights(Rights::R),
            None => Cap::to(&me.ntfn).rights(Rights::R),
        };
        self.put(&me.cnode, layout::INPUT, input);
        for (g, ntfn) in (0..).zip(&me.groups) {
            // Polled only: read, no write.
            let cap = Cap::to(ntfn).rights(Rights::R);
            self.put(&me.cnode, layout::BASE_GROUP + g, cap);
        }
        if let (Some(parent), Some(id)) = (pd.parent, pd.child_id) {
            if let Some(p) = all.get(parent) {
                if let Some(ep) = &p.ep {
                    let fault = Cap::to(ep).rights(CALL).badge(layout::FAULT_BADGE | id);
                    // The classic kernel takes the fault endpoint as a
                    // cptr in the thread's CSpace (capDL's `fault_ep`),
                    // MCS as a cap in the TCB (`fault_ep_slot`).
                    if config.mcs {
                        self.put(&me.tcb, slot::FAULT_EP, fault.clone());
                        // Its timeout faults go to the parent too, with
                        // the same badge: the SDK's `fault` tells them by
                        // their label.
                        if pd.can_time_out() {
                            self.put(&me.tcb, slot::TEMP_FAULT_EP, fault.clone());
                        }
                    } else {
                        self.set_fault_ep(&me.tcb, layout::FAULT_EP);
                    }
                    self.put(&me.cnode, layout::FAULT_EP, fault);
                }
                self.put(&p.cnode, layout::BASE_CHILD_TCB + id, Cap::to(&me.tcb));
            }
        }
    }

    fn set_fault_ep(&mut self, tcb: &ObjId, cptr: u64) {
        if let Some(o) = self.index.get(tcb).and_then(|&i| self.objects.get_mut(i)) {
            if let Kind::Tcb(t) = &mut o.kind {
                t.fault_ep = Some(cptr);
            }
        }
    }

    /// Maps the frames `ids` of a memory region at `m.vaddr` in `pd`.
    fn map_region(&mut self, pd: &Pd, me: &PdObjects, m: &Map, page_size: u64, ids: &[ObjId]) {
        let bits = u64::from(page_size.trailing_zeros());
        let rights = Rights {
            read: m.perms.read,
            write: m.perms.write,
            grant: m.perms.execute,
            grant_reply: false,
        };
        for (i, f) in ids.iter().enumerate() {
            let vaddr = m.vaddr + i as u64 * page_size;
            let cap = Cap {
                uncached: !m.cached,
                ..Cap::to(f).rights(rights)
            };
            self.map_page(&pd.name, &me.vspace, vaddr, bits, cap);
        }
    }

    /// Puts `cap` (a frame of 2^`bits` bytes) at `vaddr` in `vspace`,
    /// making the page tables on the way (Sv39: the root covers 1 GiB per
    /// entry, level-1 tables 2 MiB, level-2 tables 4 KiB).
    fn map_page(&mut self, pd: &str, vspace: &ObjId, vaddr: u64, bits: u64, cap: Cap) {
        let l1_slot = (vaddr >> 30) % PT_ENTRIES;
        let l1 = ObjId::new(format!("pt1_{pd}_{:x}", vaddr >> 30 << 30));
        if !self.has(&l1) {
            self.add(l1.name.clone(), Kind::PageTable);
            self.put(vspace, l1_slot, Cap::to(&l1));
        }
        let l2_slot = (vaddr >> 21) % PT_ENTRIES;
        if bits == 21 {
            self.put(&l1, l2_slot, cap);
            return;
        }
        let l2 = ObjId::new(format!("pt2_{pd}_{:x}", vaddr >> 21 << 21));
        if !self.has(&l2) {
            self.add(l2.name.clone(), Kind::PageTable);
            self.put(&l1, l2_slot, Cap::to(&l2));
        }
        self.put(&l2, (vaddr >> 12) % PT_ENTRIES, cap);
    }
}

/// Adds 4 KiB frames to `spec`, each mapped at its address in the
/// VSpace `vspace` of the PD whose tables are named after `pd` (the
/// builder's names, so that the description's tables are reused): the
/// image's programs (`crate::boot::embed`). A page already mapped, or
/// inside a large page, is refused.
pub(crate) fn add_pages(
    spec: &mut Spec,
    pd: &str,
    vspace: &ObjId,
    pages: Vec<(ObjId, u64, Kind, Cap)>,
) -> Result<(), String> {
    let objects = std::mem::take(&mut spec.objects);
    let index = objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id.clone(), i))
        .collect();
    let mut b = Builder { objects, index };
    let mut result = Ok(());
    for (frame, vaddr, kind, cap) in pages {
        let l1 = ObjId::new(format!("pt1_{pd}_{:x}", vaddr >> 30 << 30));
        let l2 = ObjId::new(format!("pt2_{pd}_{:x}", vaddr >> 21 << 21));
        let slot_of = |b: &Builder, t: &ObjId, s: u64| {
            b.index
                .get(t)
                .and_then(|&i| b.objects.get(i))
                .and_then(|o| o.slots.get(&s))
                .map(|c| c.target.clone())
        };
        let large = slot_of(&b, &l1, (vaddr >> 21) % PT_ENTRIES)
            .is_some_and(|t| t != Target::Object(l2.clone()));
        if large || slot_of(&b, &l2, (vaddr >> 12) % PT_ENTRIES).is_some() {
            result = Err(format!("{pd}'s program overlaps a mapping at {vaddr:#x}"));
            break;
        }
        b.map_page(pd, vspace, vaddr, PAGE_BITS, cap);
        b.add(frame.name.clone(), kind);
    }
    spec.objects = b.objects;
    result
}

fn small_frame() -> Kind {
    Kind::Frame {
        size_bits: PAGE_BITS,
        paddr: None,
        fill: Vec::new(),
    }
}

/// TCB slots, capDL's symbolic names (capDL-tool's `Model.hs`).
pub mod slot {
    /// `cspace`.
    pub const CSPACE: u64 = 0;
    /// `vspace`.
    pub const VSPACE: u64 = 1;
    /// `reply_slot`.
    pub const REPLY: u64 = 2;
    /// `caller_slot`.
    pub const CALLER: u64 = 3;
    /// `ipc_buffer_slot`.
    pub const IPC_BUFFER: u64 = 4;
    /// `fault_ep_slot`.
    pub const FAULT_EP: u64 = 5;
    /// `sc_slot`.
    pub const SC: u64 = 6;
    /// `temp_fault_ep_slot`.
    pub const TEMP_FAULT_EP: u64 = 7;
    /// `bound_notification`.
    pub const BOUND_NOTIFICATION: u64 = 8;
    /// `bound_vcpu`.
    pub const BOUND_VCPU: u64 = 9;

    /// The symbolic names with their slots.
    pub const NAMES: [(&str, u64); 10] = [
        ("cspace", CSPACE),
        ("vspace", VSPACE),
        ("reply_slot", REPLY),
        ("caller_slot", CALLER),
        ("ipc_buffer_slot", IPC_BUFFER),
        ("fault_ep_slot", FAULT_EP),
        ("sc_slot", SC),
        ("temp_fault_ep_slot", TEMP_FAULT_EP),
        ("bound_notification", BOUND_NOTIFICATION),
        ("bound_vcpu", BOUND_VCPU),
    ];
}
