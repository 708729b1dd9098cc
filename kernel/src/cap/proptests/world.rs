//! The simulated system the property test drives: a booted kernel, the
//! boot facts the invariants need, and the resolution of drawn locations
//! into the `(cnode, index, depth)` a call names and the slot the kernel
//! will find there.

use super::{Loc, WIN};
use crate::cap::cte::cnode_slot;
use crate::cap::derive::cap_region;
use crate::cap::lookup::lookup_cap;
use crate::cap::tree_check::{self as tc, BootMemory, Cdt};
use crate::cap::{Cap, SlotRef};
use crate::object::cnode::lookup_slot_for_cnode_op;
use crate::object::tcb::{Tcb, TCB_CTABLE};
use crate::testutil::{boot, Outcome, TestKernel, RAM, RAM_SIZE};
use crate::types::Region;
use cairn_abi::cap::init;
use std::collections::{HashMap, HashSet};

/// An `(index, depth)` relative to the CNode capability at cptr `cnode`.
#[derive(Clone, Copy, Debug)]
pub struct Addr {
    pub cnode: u64,
    pub index: u64,
    pub depth: u64,
}

impl Addr {
    /// Through the root CNode.
    fn root(index: u64, depth: u64) -> Addr {
        Addr {
            cnode: init::CNODE,
            index,
            depth,
        }
    }

    /// Slot `i` of the CNode `cap` at cptr `cnode`, through its guard.
    fn of(cnode: u64, cap: Cap, i: u64) -> Addr {
        let Cap::CNode {
            radix,
            guard_size,
            guard,
            ..
        } = cap
        else {
            return Addr {
                cnode,
                index: i,
                depth: 64,
            };
        };
        let mask = 1u64.checked_shl(radix as u32).map_or(u64::MAX, |n| n - 1);
        let index = guard.checked_shl(radix as u32).unwrap_or(0) | (i & mask);
        Addr {
            cnode,
            index,
            depth: (guard_size + radix) as u64,
        }
    }
}

/// A system call of the root thread.
pub struct Call {
    pub cptr: u64,
    pub label: u64,
    pub mrs: Vec<u64>,
    pub extra: Vec<u64>,
}

/// Every gathered slot: cap words, links and flags.
pub type Snapshot = HashMap<u64, ([u64; 2], Option<u64>, Option<u64>, bool, bool)>;

/// Number of untyped pools at the start of `World::boot_srcs`.
const POOLS: usize = 5;

pub struct World {
    pub k: TestKernel,
    /// The window's first slot (bootinfo `empty.start`).
    pub win: u64,
    /// Root slots used as sources; the untyped pools first.
    boot_srcs: Vec<u64>,
    /// Slots of the boot capabilities: never changed (but the pools may
    /// be revoked).
    protected: HashSet<u64>,
    pools: HashSet<u64>,
    /// Slots that may head a derivation list.
    heads: HashSet<u64>,
    mem: BootMemory,
    /// The tree and the slots at the last check.
    pub cdt: Cdt,
    pub snap: Snapshot,
    /// Whether `check` records `snap` (the property test's expectations
    /// need it; the refinement test compares abstract states instead).
    pub snapshots: bool,
}

pub fn paddrs(slots: impl Iterator<Item = SlotRef>) -> HashSet<u64> {
    slots.map(|s| s.paddr().0).collect()
}

impl World {
    /// Boots, records what boot made and checks it.
    pub fn new() -> World {
        let k = boot();
        let win = k.first_empty;
        let pools = [
            (16, false),
            (15, false),
            (12, false),
            (11, false),
            (21, true),
        ];
        // Each pool: an unused boot untyped of the wanted kind, the
        // smallest of at least that size (the boot layout decides which
        // sizes exist).
        let mut boot_srcs: Vec<u64> = Vec::new();
        for &(b, d) in &pools {
            let pick = k
                .untypeds
                .clone()
                .filter(|i| !boot_srcs.contains(i))
                .filter_map(|i| match k.cap(i) {
                    Cap::Untyped {
                        size_bits,
                        is_device,
                        ..
                    } if is_device == d && size_bits >= b => Some((size_bits, i)),
                    _ => None,
                })
                .min()
                .expect("pool");
            boot_srcs.push(pick.1);
        }
        boot_srcs.extend([
            init::TCB,
            init::CNODE,
            init::VSPACE,
            init::IRQ_CONTROL,
            init::ASID_CONTROL,
            init::ASID_POOL,
            init::BOOT_INFO_FRAME,
            init::IPC_BUFFER,
            init::DOMAIN,
            16, // a page table of the image
            18, // a frame of the image
        ]);
        let boot_slots: Vec<SlotRef> = (0..win)
            .map(|i| k.slot(i))
            .filter(|s| !s.get().cap().is_null())
            .collect();
        let protected = paddrs(boot_slots.iter().copied());
        let mut heads = protected.clone();
        heads.extend(paddrs(tc::tcb_slots(k.tcb)));
        let regions = |slots: &mut dyn Iterator<Item = SlotRef>, untyped: bool| {
            slots
                .map(|s| s.get().cap())
                .filter(|c| matches!(c, Cap::Untyped { .. }) == untyped)
                .filter_map(|c| cap_region(&c))
                .collect::<Vec<_>>()
        };
        let mem = BootMemory {
            untyped: regions(&mut boot_slots.iter().copied(), true),
            objects: regions(
                &mut boot_slots.iter().copied().chain(tc::tcb_slots(k.tcb)),
                false,
            ),
        };
        let pools = paddrs(boot_srcs[..POOLS].iter().map(|&i| k.slot(i)));
        let mut w = World {
            k,
            win,
            boot_srcs,
            protected,
            pools,
            heads,
            mem,
            cdt: Cdt::default(),
            snap: Snapshot::new(),
            snapshots: true,
        };
        w.check();
        w
    }

    /// Checks every invariant (see the module doc of `proptests`) and
    /// records the tree and the slots.
    pub fn check(&mut self) {
        let roots: Vec<SlotRef> = (0..self.win + WIN)
            .map(|i| self.k.slot(i))
            .chain(tc::tcb_slots(self.k.tcb))
            .collect();
        let ram = Region::new(RAM, RAM + RAM_SIZE);
        // The IRQ node holds the notification caps of IRQ handlers.
        let node = crate::state::kernel().irq_node().map(|n| {
            let size = (crate::state::IRQ_SLOTS as u64) << cairn_abi::object::SLOT_BITS;
            (n.0, n.0 + size)
        });
        let prefix = [(self.k.cnode, self.win + WIN)];
        let slots = tc::gather_slots_with(&roots, &prefix, node.as_slice(), ram);
        let cdt = tc::check_tree(&slots, true);
        // A thread's master reply cap (made when it first runs) heads the
        // list of its reply caps, as the root thread's does (classic; MCS
        // has none).
        #[cfg(feature = "mcs")]
        let masters = core::iter::empty::<SlotRef>();
        #[cfg(not(feature = "mcs"))]
        let masters = cdt.lists.iter().map(|l| l[0]).filter(|h| {
            matches!(h.get().cap(), Cap::Reply { tcb, master: true, .. }
                if Tcb::slot(crate::object::tcb::TcbRef::new(tcb), crate::object::tcb::TCB_REPLY) == *h)
        });
        let masters: Vec<u64> = masters.map(|h| h.paddr().0).collect();
        match masters.iter().all(|m| self.heads.contains(m)) {
            true => tc::check_rooted(&cdt, &self.heads),
            false => {
                let mut heads = self.heads.clone();
                heads.extend(masters);
                tc::check_rooted(&cdt, &heads)
            }
        }
        tc::check_memory(&cdt, &self.mem);
        tc::check_ancestors(&cdt, &self.mem);
        self.cdt = cdt;
        if !self.snapshots {
            return;
        }
        let link = |l: Option<SlotRef>| l.map(|l| l.paddr().0);
        self.snap = slots
            .iter()
            .map(|s| {
                let c = s.get();
                let v = (
                    c.cap().encode(),
                    link(c.prev()),
                    link(c.next()),
                    c.revocable(),
                    c.first_badged(),
                );
                (s.paddr().0, v)
            })
            .collect();
    }

    /// The slots holding a capability at the last check.
    pub fn live(&self) -> HashSet<u64> {
        self.snap
            .iter()
            .filter(|(_, v)| v.0 != [0, 0])
            .map(|(a, _)| *a)
            .collect()
    }

    pub fn call(&self, c: &Call) -> Outcome {
        self.k.call(c.cptr, c.label, &c.mrs, &c.extra)
    }

    /// Whether `c` invokes an IPC object (endpoint, notification, reply
    /// cap): that is message passing, not a CSpace operation, and a Call
    /// on an endpoint would block the root thread, so such steps are
    /// skipped.
    pub fn invokes_ipc_object(&self, c: &Call) -> bool {
        let root = Tcb::slot(self.k.tcb, TCB_CTABLE).get().cap();
        match lookup_cap(root, c.cptr) {
            Ok((_, Cap::Endpoint { .. } | Cap::Notification { .. } | Cap::Reply { .. })) => true,
            // An MCS reply cap takes any label (a reply).
            #[cfg(feature = "mcs")]
            Ok((_, Cap::ReplyObject { .. })) => true,
            _ => false,
        }
    }

    /// The `w`-th CNode capability in the window (modulo their number):
    /// its cptr and the capability.
    pub fn window_cnode(&self, w: u8) -> Option<(u64, Cap)> {
        let cns: Vec<(u64, Cap)> = (self.win..self.win + WIN)
            .map(|i| (i, self.k.cap(i)))
            .filter(|(_, c)| matches!(c, Cap::CNode { .. }))
            .collect();
        cns.get(w as usize % cns.len().max(1)).copied()
    }

    /// The window's slots and those of the CNodes in it, each with whether
    /// it holds a capability.
    pub fn all_slots(&self) -> Vec<(Addr, bool)> {
        let mut v: Vec<(Addr, bool)> = (self.win..self.win + WIN)
            .map(|i| (Addr::root(i, 64), !self.k.cap(i).is_null()))
            .collect();
        for i in self.win..self.win + WIN {
            let cap = self.k.cap(i);
            match cap {
                // A copy of the root CNode: its window is listed already.
                Cap::CNode { ptr, radix, .. } if ptr != self.k.cnode => {
                    for j in 0..1u64 << radix {
                        let full = !cnode_slot(ptr, j).get().cap().is_null();
                        v.push((Addr::of(i, cap, j), full));
                    }
                }
                _ => {}
            }
        }
        v
    }

    /// The root slot of a boot source.
    fn boot_src(&self, b: u8) -> u64 {
        self.boot_srcs[b as usize % self.boot_srcs.len()]
    }

    /// Where `loc` is, as the call will name it.
    pub fn addr(&self, loc: Loc) -> Addr {
        let win = |i: u8| Addr::root(self.win + i as u64 % WIN, 64);
        let pick = |v: Vec<Addr>, i: u8| {
            v.get(i as usize % v.len().max(1))
                .copied()
                .unwrap_or(win(i))
        };
        match loc {
            Loc::Win(i) => win(i),
            Loc::Live(i) | Loc::Free(i) => {
                let live = matches!(loc, Loc::Live(_));
                let v = self
                    .all_slots()
                    .into_iter()
                    .filter(|a| a.1 == live)
                    .map(|a| a.0)
                    .collect();
                pick(v, i)
            }
            Loc::Big(i) => {
                let work = |a: Addr| {
                    let s = self.resolve(a)?;
                    let slots = match s.get().cap() {
                        Cap::CNode { radix, .. } => 1usize << radix.min(16),
                        _ => 0,
                    };
                    Some((self.cdt.descendants(s).len() + slots, a))
                };
                let mut v: Vec<(usize, Addr)> = self
                    .all_slots()
                    .into_iter()
                    .filter(|a| a.1)
                    .filter_map(|a| work(a.0))
                    .collect();
                v.sort_by_key(|e| std::cmp::Reverse(e.0));
                pick(v.into_iter().take(3).map(|e| e.1).collect(), i)
            }
            Loc::Ut(_) => Addr::root(self.cptr(loc), 64),
            Loc::Boot(b) => Addr::root(self.boot_src(b), 64),
            Loc::Raw(index, depth) => Addr::root(index, depth as u64),
            Loc::Deep(w, pick) => match self.window_cnode(w) {
                Some((cptr, cap)) => self.deep(cptr, cap, pick),
                None => win(w),
            },
            Loc::Sub(w, i) => match self.window_cnode(w) {
                // Through a copy of the root CNode (maybe with another
                // guard), to the window.
                Some((cptr, cap @ Cap::CNode { ptr, .. })) if ptr == self.k.cnode => {
                    Addr::of(cptr, cap, self.win + i as u64 % WIN)
                }
                Some((cptr, cap)) => Addr::of(cptr, cap, i as u64),
                None => Addr {
                    cnode: self.win + w as u64 % WIN,
                    index: i as u64,
                    depth: 64,
                },
            },
        }
    }

    /// A walk from the CNode `cap` (at cptr `cnode`) down the CNode caps
    /// in its slots, as long as the levels' guards and radices fit in 64
    /// bits; at each level `pick` says whether to stop at a slot (any) or
    /// go on through a slot holding a CNode cap, and which.
    fn deep(&self, cnode: u64, cap: Cap, pick: u16) -> Addr {
        let (mut bits, mut used, mut cur, mut p) = (0u128, 0u32, cap, pick as u64);
        while let Cap::CNode {
            ptr,
            radix,
            guard_size,
            guard,
        } = cur
        {
            let level = (guard_size + radix) as u32;
            if used + level > 64 {
                break;
            }
            let n = 1u64 << radix.min(8);
            let inner: Vec<u64> = (0..n)
                .filter(|&i| matches!(cnode_slot(ptr, i).get().cap(), Cap::CNode { .. }))
                .collect();
            let deeper = !inner.is_empty() && p % 3 != 0;
            let index = match deeper {
                true => inner[(p / 3) as usize % inner.len()],
                false => (p / 3) % n,
            };
            p /= 7;
            bits = (bits << level) | ((guard as u128) << radix) | index as u128;
            used += level;
            if !deeper {
                break;
            }
            cur = cnode_slot(ptr, index).get().cap();
        }
        Addr {
            cnode,
            index: bits as u64,
            depth: used as u64,
        }
    }

    /// The cptr of an invoked capability (Retype's untyped) for `loc`.
    pub fn cptr(&self, loc: Loc) -> u64 {
        match loc {
            Loc::Win(i)
            | Loc::Sub(i, _)
            | Loc::Deep(i, _)
            | Loc::Live(i)
            | Loc::Free(i)
            | Loc::Big(i) => self.win + i as u64 % WIN,
            Loc::Ut(i) => {
                let window = (self.win..self.win + WIN)
                    .filter(|&j| matches!(self.k.cap(j), Cap::Untyped { .. }));
                let u: Vec<u64> = self.boot_srcs[..POOLS]
                    .iter()
                    .copied()
                    .chain(window)
                    .collect();
                u[i as usize % u.len()]
            }
            Loc::Boot(b) => self.boot_src(b),
            Loc::Raw(i, _) => i % (self.win + WIN),
        }
    }

    /// The slot the kernel will find for `a`, as the CNode methods look it
    /// up (None: the lookup fails).
    pub fn resolve(&self, a: Addr) -> Option<SlotRef> {
        let root = Tcb::slot(self.k.tcb, TCB_CTABLE).get().cap();
        let (_, cn) = lookup_cap(root, a.cnode).ok()?;
        lookup_slot_for_cnode_op(false, cn, a.index, a.depth).ok()
    }

    /// Keeps the generator's steps off root slot `index` (a cap the
    /// refinement test's setup made and relies on).
    pub fn protect(&mut self, index: u64) {
        self.protected.insert(self.k.slot(index).paddr().0);
    }

    /// Whether a step may change `slot` (`None`: the lookup fails anyway):
    /// not a boot capability, except a pool for Revoke.
    pub fn may_change(&self, slot: Option<SlotRef>, revoke: bool) -> bool {
        slot.is_none_or(|s| {
            let a = s.paddr().0;
            !self.protected.contains(&a) || (revoke && self.pools.contains(&a))
        })
    }
}

/// The memory check's overlap rule (`tree_check::check_memory`, which
/// finds the overlapping caps by a sweep): a frame forged into an untyped
/// pool's memory without descending from it is caught.
#[test]
fn check_memory_catches_a_cap_overlapping_an_untyped() {
    use crate::cap::{FrameSize, VmRights};
    use crate::types::PAddr;
    let w = World::new();
    let pool = w.k.slot(w.boot_srcs[0]);
    let Cap::Untyped { ptr, .. } = pool.get().cap() else {
        panic!("a pool")
    };
    let frame = Cap::Frame {
        base: PAddr(ptr.0 + 4096),
        size: FrameSize::Small,
        rights: VmRights::ReadWrite,
        is_device: false,
        mapping: None,
    };
    w.k.slot(w.win).get().set_cap(frame);
    let check = || {
        let roots: Vec<SlotRef> = (0..w.win + WIN).map(|i| w.k.slot(i)).collect();
        let ram = Region::new(RAM, RAM + RAM_SIZE);
        let slots = tc::gather_slots(&roots, &[(w.k.cnode, w.win + WIN)], ram);
        tc::check_memory(&tc::check_tree(&slots, true), &w.mem);
    };
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check));
    let msg = caught.expect_err("the forged frame is caught");
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("overlaps"), "{msg}");
}
