//! The abstraction function of the refinement test: the kernel's state,
//! as the property test's `World` gathered it (every slot reachable from
//! the root task's CSpace and through derivation links), mapped onto the
//! specification's (`cairn_spec::State`).
//!
//! * Objects are named by physical address; an object exists while a cap
//!   names it (the kernel keeps no other record), with its kind from the
//!   cap.
//! * A slot is (CNode or TCB address, index), from the address of its CTE.
//! * Caps map field by field; a notification's rights are only its send
//!   and receive rights; a zombie's count is the slots it has left.
//! * The derivation tree: a cap's parent is its nearest ancestor in the
//!   kernel's derivation list (`tree_check::Cdt`), its children are listed
//!   in list order; `original` is the CTE's revocable flag.

use super::world::World;
use crate::cap::tree_check::FastMap;
use crate::cap::zombie::{Zombie, ZombieKind};
use crate::cap::{Cap, SlotRef};
use crate::object::tcb::{Tcb, TcbRef, TCB_CNODE_ENTRIES};
use cairn_abi::object::SLOT_BITS;
use cairn_spec::cap::{EpRights, Kind, VmRights};
use cairn_spec::vspace::Pte;
use cairn_spec::{Entry, Object, SlotId, State};

/// The abstract cap of a kernel cap.
pub fn abs_cap(c: &Cap) -> cairn_spec::Cap {
    use cairn_spec::Cap as A;
    let ep = |r: cairn_abi::cap::CapRights| EpRights::from_word(r.0);
    match *c {
        Cap::Untyped {
            ptr,
            size_bits,
            free_index,
            is_device,
        } => A::Untyped {
            obj: ptr.0,
            size_bits: size_bits as u32,
            device: is_device,
            watermark: free_index,
        },
        Cap::Endpoint { ptr, badge, rights } => A::Endpoint {
            obj: ptr.0,
            badge,
            rights: ep(rights),
        },
        Cap::Notification { ptr, badge, rights } => A::Notification {
            obj: ptr.0,
            badge,
            rights: EpRights {
                grant: false,
                grant_reply: false,
                ..ep(rights)
            },
        },
        Cap::Reply {
            tcb,
            master,
            can_grant,
        } => A::Reply {
            tcb: tcb.0,
            master,
            grant: can_grant,
        },
        Cap::CNode {
            ptr,
            radix,
            guard_size,
            guard,
        } => A::CNode {
            obj: ptr.0,
            radix: radix as u32,
            guard_size: guard_size as u32,
            guard,
        },
        Cap::Thread { tcb } => A::Thread { obj: tcb.0 },
        Cap::IrqControl => A::IrqControl,
        Cap::IrqHandler { irq } => A::IrqHandler { irq: irq as u64 },
        Cap::Domain => A::Domain,
        Cap::Frame {
            base,
            size,
            rights,
            is_device,
            mapping,
        } => A::Frame {
            obj: base.0,
            size_bits: size.bits(),
            rights: match rights {
                crate::cap::VmRights::KernelOnly => VmRights::KernelOnly,
                crate::cap::VmRights::ReadOnly => VmRights::ReadOnly,
                crate::cap::VmRights::ReadWrite => VmRights::ReadWrite,
            },
            device: is_device,
            mapped: mapping.map(|m| (m.asid as u64, m.vaddr)),
        },
        Cap::PageTable { base, mapping } => A::PageTable {
            obj: base.0,
            mapped: mapping.map(|m| (m.asid as u64, m.vaddr)),
        },
        Cap::AsidControl => A::AsidControl,
        Cap::AsidPool { ptr, asid_base } => A::AsidPool {
            obj: ptr.0,
            base: asid_base as u64,
        },
        Cap::Zombie { .. } => {
            let z = Zombie::from_cap(c).expect("a zombie");
            A::Zombie {
                obj: z.ptr.0,
                kind: match z.kind {
                    ZombieKind::CNode { radix } => Kind::CNode {
                        radix: radix as u32,
                    },
                    ZombieKind::Tcb => Kind::Tcb,
                },
                count: z.count,
            }
        }
        Cap::Null => panic!("no abstract cap for the null cap"),
        // The MCS caps (they exist in the classic host test build too,
        // where nothing makes them).
        Cap::SchedContext { ptr, size_bits } => A::SchedContext {
            obj: ptr.0,
            size_bits: size_bits as u32,
        },
        Cap::SchedControl { .. } => A::SchedControl,
        Cap::ReplyObject { ptr, can_grant } => A::ReplyObject {
            obj: ptr.0,
            grant: can_grant,
        },
    }
}

/// The abstract state of the kernel as `w` last checked it.
pub fn abstract_state(w: &World) -> State {
    let live: Vec<SlotRef> = w.cdt.live().collect();
    // Objects, and where each slot-holding object's slots are.
    let mut objects = std::collections::BTreeMap::new();
    let mut cnodes: Vec<(u64, u64)> = Vec::new(); // (start, end) = obj
    let mut tcb_slots: FastMap<u64, SlotId> = FastMap::default();
    for s in &live {
        let c = s.get().cap();
        let a = abs_cap(&c);
        if let Some((obj, kind)) = a.object() {
            objects.entry(obj).or_insert_with(|| Object::new(kind));
        }
        match a {
            cairn_spec::Cap::CNode { obj, radix, .. }
            | cairn_spec::Cap::Zombie {
                obj,
                kind: Kind::CNode { radix },
                ..
            } => {
                cnodes.push((obj, obj + ((1u64 << radix) << SLOT_BITS)));
            }
            cairn_spec::Cap::Thread { obj }
            | cairn_spec::Cap::Zombie {
                obj,
                kind: Kind::Tcb,
                ..
            } => {
                let tcb = crate::types::PAddr(obj);
                for i in 0..TCB_CNODE_ENTRIES {
                    let slot = Tcb::slot(TcbRef::new(tcb), i);
                    let id = SlotId {
                        obj: tcb.0,
                        index: i as u64,
                    };
                    tcb_slots.insert(slot.paddr().0, id);
                }
            }
            _ => {}
        }
    }
    // The IRQ node: a CNode no cap names, always there.
    let irqs = abs_irqs();
    if let Some(node) = irqs.node {
        let radix = crate::state::IRQ_SLOTS.trailing_zeros();
        objects.insert(node, Object::new(Kind::CNode { radix }));
        cnodes.push((node, node + ((1u64 << radix) << SLOT_BITS)));
    }
    // By start (objects do not overlap: `World::check`), for a binary
    // search.
    cnodes.sort_unstable();
    let id = |s: SlotRef| -> SlotId {
        let a = s.paddr().0;
        if let Some(&id) = tcb_slots.get(&a) {
            return id;
        }
        let at = cnodes.partition_point(|&(st, _)| st <= a);
        let &(start, _) = at
            .checked_sub(1)
            .and_then(|i| cnodes.get(i))
            .filter(|&&(_, end)| a < end)
            .unwrap_or_else(|| panic!("{s:?} is in no CNode or TCB a cap names"));
        SlotId {
            obj: start,
            index: (a - start) >> SLOT_BITS,
        }
    };
    let mut entries: FastMap<SlotId, Entry> = FastMap::default();
    // In list order, so that children come out newest first.
    for list in &w.cdt.lists {
        for &s in list {
            let e = s.get();
            let parent = w.cdt.parent(s).map(id);
            let me = id(s);
            entries.insert(
                me,
                Entry {
                    cap: abs_cap(&e.cap()),
                    original: e.revocable(),
                    parent,
                    children: Vec::new(),
                },
            );
            if let Some(p) = parent {
                if let Some(pe) = entries.get_mut(&p) {
                    pe.children.push(me);
                }
            }
        }
    }
    for (&obj, o) in objects.iter_mut() {
        fill_object(obj, o);
    }
    for (slot, e) in entries {
        match objects.get_mut(&slot.obj) {
            Some(Object::CNode { slots, .. } | Object::Tcb { slots, .. }) => {
                slots.insert(slot.index, e);
            }
            _ => panic!(
                "{slot:?} holds {:?} but its object is no CNode or TCB",
                e.cap
            ),
        }
    }
    let k = crate::state::kernel();
    let asid_table = (0..cairn_spec::vspace::ASID_POOLS)
        .filter_map(|i| Some((i, k.asid_pool(i as usize)?.0)))
        .collect();
    State {
        objects,
        tcb_bits: crate::config::TCB_BITS,
        asid_table,
        irqs,
        num_domains: crate::config::NUM_DOMAINS as u64,
        domain_schedule: abs_domain_schedule(),
        // Observed through the threads' buffers (`abs_thread`); read
        // whole only to start the spec (`abs_memory`).
        memory: Default::default(),
        // Time, the test's input to the spec (`refine::time`).
        not_ready: Default::default(),
        sched: abs_scheduler(),
    }
}

/// The scheduler (classic): every ready queue as a list, head first, the
/// running thread (`None`: idle), the pending action (`ResumeCurrent`
/// between kernel entries; anything else is a kernel entry left
/// unfinished) and the current domain. MCS: not specified yet, the
/// default.
fn abs_scheduler() -> cairn_spec::sched::Scheduler {
    use crate::config::{NUM_DOMAINS, NUM_PRIORITIES};
    use cairn_spec::sched::{Action, Scheduler};
    if cfg!(feature = "mcs") {
        return Scheduler::default();
    }
    let k = crate::state::kernel();
    let mut queues = std::collections::BTreeMap::new();
    for d in 0..NUM_DOMAINS {
        for p in 0..NUM_PRIORITIES {
            let q: Vec<u64> = k.ready().queue(d, p).map(|t| t.paddr().0).collect();
            if !q.is_empty() {
                queues.insert((d as u64, p as u64), q);
            }
        }
    }
    let action = match k.action() {
        crate::state::Action::ResumeCurrent => Action::ResumeCurrent,
        crate::state::Action::ChooseNew => Action::ChooseNew,
        crate::state::Action::SwitchTo(t) => Action::SwitchTo(t.paddr().0),
    };
    Scheduler {
        queues,
        current: k.current_tcb().map(|t| t.paddr().0),
        action,
        cur_domain: k.cur_domain(),
        domain_time_up: false,
    }
}

/// The domain schedule: its entries and start index (the current entry
/// and its time left are the scheduler's).
fn abs_domain_schedule() -> cairn_spec::domain::Schedule {
    use crate::state::domain_schedule::NUM_DOMAIN_SCHEDULES;
    let d = crate::state::kernel().domains();
    cairn_spec::domain::Schedule {
        entries: (0..NUM_DOMAIN_SCHEDULES as u64)
            .map(|i| d.entry_at(i))
            .collect(),
        start: d.start(),
    }
}

/// The contents of every frame of memory (not of a device) of `s`, the
/// kernel's abstract state: the blocks not all 0. The spec starts with
/// them (image frames hold code, the boot info frame the boot info) and
/// keeps them as threads write their buffers.
pub fn abs_memory(s: &State) -> cairn_spec::memory::Memory {
    use cairn_spec::memory::{BLOCK_BITS, BLOCK_WORDS};
    let mut m = cairn_spec::memory::Memory::default();
    for (&obj, o) in &s.objects {
        let Object::Other(Kind::Frame {
            size_bits,
            device: false,
        }) = o
        else {
            continue;
        };
        for at in (obj..obj + (1u64 << size_bits)).step_by(1 << BLOCK_BITS) {
            let mut bytes = [0u8; BLOCK_WORDS * 8];
            crate::object::access::copy_out(crate::types::PAddr(at), &mut bytes);
            let mut block = [0u64; BLOCK_WORDS];
            for (w, c) in block.iter_mut().zip(bytes.chunks_exact(8)) {
                *w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            }
            if block != [0; BLOCK_WORDS] {
                m.0.insert(at, Box::new(block));
            }
        }
    }
    m
}

/// The interrupt state: the IRQ node, and each line in the Signal state
/// (issued) with its mask (masked after an interrupt until the Ack).
fn abs_irqs() -> cairn_spec::irq::Irqs {
    use crate::object::irq::{state, IrqState, MAX_IRQ};
    let issued = (1..=MAX_IRQ)
        .filter(|&i| state(i) == IrqState::Signal)
        .map(|i| {
            let masked = !crate::arch::host::SimMachine::irq_unmasked(i);
            (i as u64, cairn_spec::irq::Line { masked })
        })
        .collect();
    cairn_spec::irq::Irqs {
        node: crate::state::kernel().irq_node().map(|n| n.0),
        issued,
    }
}

/// The abstract slots of the page table at `pa`: its user entries (the
/// kernel's global mappings in a root's upper half, supervisor-only
/// leaves, are no user state).
fn abs_page_table(pa: crate::types::PAddr) -> std::collections::BTreeMap<u64, Pte> {
    use crate::arch::vspace as pt;
    let mut bytes = [0u8; 4096];
    crate::object::access::copy_out(pa, &mut bytes);
    let mut entries = std::collections::BTreeMap::new();
    for (i, c) in bytes.chunks_exact(8).enumerate() {
        let pte = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        if !pt::is_valid(pte) {
            continue;
        }
        let at = pt::pte_paddr(pte).0;
        let e = if pt::is_page_table(pte) {
            Pte::Table(at)
        } else if pte & pt::PTE_U == 0 {
            continue;
        } else {
            Pte::Page {
                frame: at,
                rights: match (pte & pt::PTE_R != 0, pte & pt::PTE_W != 0) {
                    (true, true) => VmRights::ReadWrite,
                    (true, false) => VmRights::ReadOnly,
                    _ => VmRights::KernelOnly,
                },
                exec: pte & pt::PTE_X != 0,
            }
        };
        entries.insert(i as u64, e);
    }
    entries
}

/// The contents of object `obj` that are not slots: a thread's state and
/// registers, an endpoint's queue, a notification's waiters, signal word
/// and bound TCB.
fn fill_object(obj: u64, o: &mut Object) {
    use crate::object::endpoint::EndpointRef;
    use crate::object::notification::{NotificationRef, NotificationState};
    let pa = crate::types::PAddr(obj);
    match o {
        Object::Tcb { thread, .. } => **thread = abs_thread(TcbRef::new(pa)),
        #[cfg(feature = "mcs")]
        Object::SchedContext(s) => *s = abs_sched_context(pa, s.size_bits),
        // The thread the reply object links and the reply below it on a
        // call stack.
        #[cfg(feature = "mcs")]
        Object::Reply { caller, prev } => {
            let r = crate::object::reply::ReplyRef::new(pa);
            *caller = Some(r.tcb()).filter(|&t| t != 0);
            *prev = r.prev().map(|p| p.paddr().0);
        }
        Object::PageTable { entries } => *entries = abs_page_table(pa),
        Object::AsidPool { roots } => {
            *roots = (0..cairn_spec::vspace::ASIDS_PER_POOL)
                .map(|i| (i, crate::arch::read_word(pa.add(8 * i))))
                .filter(|&(_, r)| r != 0)
                .collect();
        }
        Object::Endpoint { queue } => {
            *queue = EndpointRef::new(pa)
                .get()
                .queue
                .tcbs()
                .iter()
                .map(|t| t.paddr().0)
                .collect();
        }
        Object::Notification {
            waiting,
            pending,
            bound,
        } => {
            let n = NotificationRef::new(pa).get();
            *waiting = n.queue.tcbs().iter().map(|t| t.paddr().0).collect();
            *pending = (n.queue.state() == NotificationState::Active).then(|| n.msg_identifier());
            *bound = Some(n.bound_tcb()).filter(|&b| b != 0);
        }
        _ => {}
    }
}

/// The abstract thread of a TCB: its state (with what it is blocked on),
/// priorities, bound notification, fault handler and pending fault, its
/// registers (seL4_UserContext and NextIP) and the IPC buffer words the
/// kernel reads and writes (MR4..MR119, caps or badges, receive path).
pub fn abs_thread(tcb: TcbRef) -> cairn_spec::Thread {
    use crate::arch::{BADGE_REGISTER, MSG_INFO_REGISTER, MSG_REGISTERS};
    use crate::object::tcb::ThreadState as K;
    use cairn_spec::ThreadState as S;
    let t = tcb.get();
    let ipc = t.blocking_ipc();
    let state = match t.state() {
        K::Inactive => S::Inactive,
        K::Running => S::Running,
        K::Restart => S::Restart,
        K::BlockedOnReceive => S::BlockedOnReceive {
            ep: t.blocking_object(),
            grant: ipc.can_grant,
        },
        K::BlockedOnSend => S::BlockedOnSend {
            ep: t.blocking_object(),
            badge: t.blocking_badge(),
            grant: ipc.can_grant,
            grant_reply: ipc.can_grant_reply,
            call: ipc.is_call,
        },
        K::BlockedOnReply => S::BlockedOnReply,
        K::BlockedOnNotification => S::BlockedOnNotification {
            ntfn: t.blocking_object(),
        },
    };
    let info = cairn_abi::message::MessageInfo(t.reg(MSG_INFO_REGISTER));
    let buffer = crate::ipc::message::ipc_buffer(tcb, false);
    let word = |i: u64| buffer.map_or(0, |b| crate::object::access::read_word(b.add(8 * i)));
    cairn_spec::Thread {
        state,
        priority: t.priority(),
        mcp: t.mcp(),
        bound: Some(t.bound_notification()).filter(|&n| n != 0),
        fault_handler: t.fault_handler(),
        badge: t.reg(BADGE_REGISTER),
        info: cairn_spec::MsgInfo {
            label: info.label(),
            unwrapped: info.caps_unwrapped(),
            extra: info.extra_caps(),
            length: info.length(),
        },
        mrs: MSG_REGISTERS.map(|r| t.reg(r)),
        caps_or_badges: [122, 123, 124].map(word),
        receive: [125, 126, 127].map(word),
        buffer: cairn_spec::thread::Buffer(Box::new(buffer_mrs(buffer))),
        // The IPC registers (a0..a5) are the fields above.
        context: core::array::from_fn(|i| match i {
            16..=21 => 0,
            _ => t.user_register(i),
        }),
        next_ip: t.next_ip(),
        fault: t.fault().map(abs_fault),
        flags: t.flags(),
        ipc_buffer: t.ipc_buffer(),
        domain: t.domain(),
        time_slice: t.time_slice(),
    }
}

/// MR4..MR119 of the IPC buffer at `buffer` (MR i is buffer word i + 1),
/// read in one copy: this runs for every thread after every step.
fn buffer_mrs(buffer: Option<crate::types::PAddr>) -> [u64; 116] {
    let mut words = [0u64; 116];
    if let Some(b) = buffer {
        let mut bytes = [0u8; 116 * 8];
        crate::object::access::copy_out(b.add(8 * 5), &mut bytes);
        for (w, c) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            *w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        }
    }
    words
}

/// The abstract fault of a kernel fault.
fn abs_fault(f: crate::types::Fault) -> cairn_spec::Fault {
    use crate::types::Fault as K;
    use cairn_spec::Fault as S;
    match f {
        K::Cap {
            addr,
            in_recv_phase,
            lookup,
        } => S::Cap {
            addr,
            in_recv_phase,
            lookup: abs_lookup(lookup),
        },
        K::UnknownSyscall { number } => S::UnknownSyscall { number },
        K::UserException { number, code } => S::UserException { number, code },
        K::VmFault {
            addr,
            fsr,
            instruction,
        } => S::VmFault {
            addr,
            fsr,
            instruction,
        },
        #[cfg(feature = "mcs")]
        K::Timeout { badge } => S::Timeout { badge },
    }
}

fn abs_lookup(l: crate::types::LookupFault) -> cairn_spec::LookupFault {
    use crate::types::LookupFault as K;
    use cairn_spec::LookupFault as S;
    match l {
        K::InvalidRoot => S::InvalidRoot,
        K::MissingCapability { bits_left } => S::MissingCapability { bits_left },
        K::DepthMismatch {
            bits_left,
            bits_found,
        } => S::DepthMismatch {
            bits_left,
            bits_found,
        },
        K::GuardMismatch {
            bits_left,
            guard_found,
            bits_found,
        } => S::GuardMismatch {
            bits_left,
            guard_found,
            bits_found,
        },
    }
}

/// `cap` with an untyped's watermark set to 0: the watermark moves with
/// every Retype while the cap stays the same one.
pub fn without_watermark(cap: cairn_spec::Cap) -> cairn_spec::Cap {
    match cap {
        cairn_spec::Cap::Untyped {
            obj,
            size_bits,
            device,
            ..
        } => cairn_spec::Cap::Untyped {
            obj,
            size_bits,
            device,
            watermark: 0,
        },
        c => c,
    }
}

/// Whether `a` and `b` are equal in their `State::observable()` forms
/// (an untyped's watermark counts only while it has children), compared
/// in place: this runs after every step.
pub fn observably_equal(a: &State, b: &State) -> bool {
    let watermark = |e: &Entry| match e.cap {
        cairn_spec::Cap::Untyped { watermark, .. } if !e.children.is_empty() => watermark,
        _ => 0,
    };
    let entry_eq = |x: &Entry, y: &Entry| {
        without_watermark(x.cap) == without_watermark(y.cap)
            && watermark(x) == watermark(y)
            && x.original == y.original
            && x.parent == y.parent
            && x.children == y.children
    };
    let slots_eq = |x: &std::collections::BTreeMap<u64, Entry>,
                    y: &std::collections::BTreeMap<u64, Entry>| {
        x.len() == y.len()
            && x.iter()
                .zip(y)
                .all(|((i, e), (j, f))| i == j && entry_eq(e, f))
    };
    a.tcb_bits == b.tcb_bits
        && a.asid_table == b.asid_table
        && a.objects.len() == b.objects.len()
        && a.objects.iter().zip(&b.objects).all(|((i, x), (j, y))| {
            i == j
                && match (x, y) {
                    (
                        Object::CNode {
                            radix: r,
                            slots: sx,
                        },
                        Object::CNode {
                            radix: q,
                            slots: sy,
                        },
                    ) => r == q && slots_eq(sx, sy),
                    (
                        Object::Tcb {
                            slots: sx,
                            thread: tx,
                        },
                        Object::Tcb {
                            slots: sy,
                            thread: ty,
                        },
                    ) => slots_eq(sx, sy) && (tx == ty || threads_eq(b, *i, tx, ty)),
                    (Object::Other(k), Object::Other(l)) => k == l,
                    (x, y) => x == y,
                }
        })
        && a.irqs == b.irqs
        && a.num_domains == b.num_domains
        && a.domain_schedule == b.domain_schedule
        && a.sched == b.sched
}

/// Whether threads `x` and `y` (thread `t` of state `s`) differ only in
/// their buffer words while `t` has no IPC buffer (rule 4 of
/// docs/spec.md: nothing reads them then).
fn threads_eq(s: &State, t: u64, x: &cairn_spec::Thread, y: &cairn_spec::Thread) -> bool {
    if s.has_buffer(t, false) {
        return false;
    }
    let (mut x, mut y) = (x.clone(), y.clone());
    x.forget_buffer();
    y.forget_buffer();
    x == y
}

/// The differences between the kernel's abstract state and the spec's, as
/// text (empty: none), object by object and slot by slot.
pub fn diff(kernel: &State, spec: &State) -> String {
    let mut out = String::new();
    if kernel.asid_table != spec.asid_table {
        out += &format!(
            "  ASID table:\n    kernel {:?}\n    spec   {:?}\n",
            kernel.asid_table, spec.asid_table
        );
    }
    if kernel.domain_schedule != spec.domain_schedule {
        out += &format!(
            "  domain schedule:\n    kernel {:?}\n    spec   {:?}\n",
            kernel.domain_schedule, spec.domain_schedule
        );
    }
    if kernel.sched != spec.sched {
        out += &format!(
            "  scheduler:\n    kernel {:?}\n    spec   {:?}\n",
            kernel.sched, spec.sched
        );
    }
    if kernel.irqs != spec.irqs {
        out += &format!(
            "  irqs:\n    kernel {:?}\n    spec   {:?}\n",
            kernel.irqs, spec.irqs
        );
    }
    let keys: std::collections::BTreeSet<u64> = kernel
        .objects
        .keys()
        .chain(spec.objects.keys())
        .copied()
        .collect();
    for k in keys {
        let (a, b) = (kernel.objects.get(&k), spec.objects.get(&k));
        if a == b {
            continue;
        }
        match (a, b) {
            (
                Some(Object::CNode { slots: sa, .. } | Object::Tcb { slots: sa, .. }),
                Some(Object::CNode { slots: sb, .. } | Object::Tcb { slots: sb, .. }),
            ) => {
                if let (Some(Object::Tcb { thread: x, .. }), Some(Object::Tcb { thread: y, .. })) =
                    (a, b)
                {
                    if x != y {
                        out += &format!("  thread {k:#x}:\n    kernel {x:?}\n    spec   {y:?}\n");
                    }
                }
                let idx: std::collections::BTreeSet<u64> =
                    sa.keys().chain(sb.keys()).copied().collect();
                for i in idx {
                    let (x, y) = (sa.get(&i), sb.get(&i));
                    if x != y {
                        out +=
                            &format!("  slot {k:#x}[{i}]:\n    kernel {x:?}\n    spec   {y:?}\n");
                    }
                }
            }
            _ => out += &format!("  object {k:#x}:\n    kernel {a:?}\n    spec   {b:?}\n"),
        }
    }
    out
}

/// MCS: the abstract scheduling context at `pa` (of `2^size_bits`
/// bytes): its thread and notification, badge, sporadic flag and refill
/// count, whether it is round robin (configured with budget = period) and
/// the ticks it consumed, from the header; the refills themselves are
/// time, which the spec leaves out.
#[cfg(feature = "mcs")]
fn abs_sched_context(
    pa: crate::types::PAddr,
    size_bits: u32,
) -> cairn_spec::sched_context::SchedContext {
    use crate::object::sched_context::{notification_at, SchedContextRef};
    let sc = SchedContextRef::new(pa, size_bits as u8);
    let st = sc.refill_state();
    cairn_spec::sched_context::SchedContext {
        size_bits,
        tcb: sc.tcb().map(|t| t.0),
        ntfn: notification_at(pa).map(|n| n.0),
        badge: sc.badge(),
        sporadic: st.sporadic,
        refill_max: st.max,
        reply: crate::object::sched_context::reply(pa).map(|r| r.paddr().0),
        round_robin: st.max != 0 && st.budget == st.period,
        consumed: sc.consumed(),
    }
}
