//! What each call of the property test must do: the call an operation
//! makes, what its success must have changed (a small model of each CNode
//! method and of Retype), and running a step with its checks.

use super::world::{paddrs, Addr, Call, World};
use super::{Dest, Loc, Op, Step, WIN};
use crate::arch::host::SimMachine;
use crate::cap::derive::{cap_region, ensure_no_children, is_mdb_parent_of, same_object_as};
use crate::cap::rights::updated;
use crate::cap::tree_check::rights_bits;
use crate::cap::{Cap, SlotRef};
use crate::object::tcb::ThreadState;
use crate::testutil::Outcome;
use crate::types::PAddr;
use cairn_abi::cap::{init, tag};
use cairn_abi::invocation::label as l;
use std::collections::HashSet;

/// What a successful call must have done.
pub(super) enum Expect {
    /// A slot the method needs does not resolve: the call must fail.
    Fails,
    /// Copy or Mint (with `badge`) of `src_cap` from `src` to `dest`.
    Insert {
        src: SlotRef,
        dest: SlotRef,
        src_cap: Cap,
        badge: Option<u64>,
    },
    /// Move or Mutate: `dest` holds `cap`, `src` is empty.
    Move {
        src: SlotRef,
        dest: SlotRef,
        cap: Cap,
    },
    Rotate {
        src: SlotRef,
        pivot: SlotRef,
        dest: SlotRef,
        to_dest: Cap,
        to_pivot: Cap,
    },
    Deleted(SlotRef),
    Revoked(SlotRef),
    /// No slot changes.
    Unchanged,
    /// `count` new children of `ut`, objects of type `ty`.
    Retyped {
        ut: SlotRef,
        ty: u64,
        count: u64,
    },
}

/// A CNode method on the slot `at`; `extra` are the further roots.
pub(super) fn cnode_call(label: u64, at: Addr, mut mrs: Vec<u64>, extra: &[Addr]) -> Call {
    mrs.splice(0..0, [at.index, at.depth]);
    let extra = extra.iter().map(|a| a.cnode).collect();
    Call {
        cptr: at.cnode,
        label,
        mrs,
        extra,
    }
}

/// The capability tag Retype makes for object type `ty` (ABI ref §5).
fn tag_of_type(ty: u64) -> u64 {
    use cairn_abi::object::ObjectType as T;
    match T::from_word(ty) {
        Some(T::Untyped) => tag::UNTYPED,
        Some(T::Tcb) => tag::THREAD,
        Some(T::Endpoint) => tag::ENDPOINT,
        Some(T::Notification) => tag::NOTIFICATION,
        Some(T::CapTable) => tag::CNODE,
        #[cfg(feature = "mcs")]
        Some(T::SchedContext) => tag::SCHED_CONTEXT,
        #[cfg(feature = "mcs")]
        Some(T::Reply) => tag::REPLY,
        Some(T::PageTable) => tag::PAGE_TABLE,
        Some(T::GigaPage | T::SmallPage | T::MegaPage) | None => tag::FRAME,
    }
}

/// An error reply has seL4's layout (ABI ref §8): its message registers
/// by error code, FailedLookup's by lookup failure type.
fn check_error_reply(label: u64, mrs: &[u64]) {
    let ok = match (label, mrs) {
        (1 | 2, [_]) | (10, [_]) => true,
        (3 | 5 | 7 | 8 | 9, []) => true,
        (4, [min, max]) => min <= max,
        (6, [source, kind, rest @ ..]) => *source <= 1 && rest.len() as u64 + 1 == *kind,
        _ => false,
    };
    assert!(ok, "error {label} with message {mrs:?}");
}

/// A delete may fill only slots that were empty with (cyclic) zombies:
/// one in the first slot of a CNode or TCB holding its own last cap.
fn only_zombies(added: &HashSet<u64>) {
    for &a in added {
        let c = SlotRef::new(PAddr(a)).get().cap();
        assert!(matches!(c, Cap::Zombie { .. }), "a delete made {c:?}");
    }
}

impl World {
    /// The call for `op` and what its success must have done; `None` if
    /// it could change a boot capability.
    pub(super) fn plan(&self, op: &Op) -> Option<(Call, Expect)> {
        let cap_of = |s: Option<SlotRef>| s.map_or(Cap::Null, |s| s.get().cap());
        Some(match *op {
            Op::Copy { dest, src, rights }
            | Op::Mint {
                dest, src, rights, ..
            } => {
                let (d, s) = (self.addr(dest), self.addr(src));
                let (label, badge) = match *op {
                    Op::Mint { badge, .. } => (l::CNODE_MINT, Some(badge)),
                    _ => (l::CNODE_COPY, None),
                };
                let mrs = [s.index, s.depth, rights]
                    .into_iter()
                    .chain(badge)
                    .collect();
                let expect = match (self.resolve(d), self.resolve(s)) {
                    (Some(dest), Some(src)) => Expect::Insert {
                        src,
                        dest,
                        src_cap: src.get().cap(),
                        badge,
                    },
                    _ => Expect::Fails,
                };
                (cnode_call(label, d, mrs, &[s]), expect)
            }
            Op::Move { dest, src } | Op::Mutate { dest, src, .. } => {
                let (d, s) = (self.addr(dest), self.addr(src));
                let (ds, ss) = (self.resolve(d), self.resolve(s));
                if !self.may_change(ss, false) {
                    return None;
                }
                let (label, mrs, cap) = match *op {
                    Op::Mutate { data, .. } => {
                        let cap = updated(true, data, cap_of(ss));
                        (l::CNODE_MUTATE, vec![s.index, s.depth, data], cap)
                    }
                    _ => (l::CNODE_MOVE, vec![s.index, s.depth], cap_of(ss)),
                };
                let expect = match (ds, ss) {
                    (Some(dest), Some(src)) => Expect::Move { src, dest, cap },
                    _ => Expect::Fails,
                };
                (cnode_call(label, d, mrs, &[s]), expect)
            }
            Op::Rotate {
                dest,
                pivot,
                src,
                dest_data,
                pivot_data,
            } => {
                let (d, p, s) = (self.addr(dest), self.addr(pivot), self.addr(src));
                let (ds, ps, ss) = (self.resolve(d), self.resolve(p), self.resolve(s));
                if !self.may_change(ss, false) || !self.may_change(ps, false) {
                    return None;
                }
                let mrs = vec![dest_data, p.index, p.depth, pivot_data, s.index, s.depth];
                let expect = match (ds, ps, ss) {
                    (Some(dest), Some(pivot), Some(src)) => Expect::Rotate {
                        src,
                        pivot,
                        dest,
                        to_dest: updated(true, dest_data, pivot.get().cap()),
                        to_pivot: updated(true, pivot_data, src.get().cap()),
                    },
                    _ => Expect::Fails,
                };
                (cnode_call(l::CNODE_ROTATE, d, mrs, &[p, s]), expect)
            }
            Op::Delete(at) | Op::Revoke(at) => {
                let a = self.addr(at);
                let slot = self.resolve(a);
                let revoke = matches!(op, Op::Revoke(_));
                if !self.may_change(slot, revoke) {
                    return None;
                }
                let label = if revoke {
                    l::CNODE_REVOKE
                } else {
                    l::CNODE_DELETE
                };
                let expect = match slot {
                    None => Expect::Fails,
                    Some(s) if revoke => Expect::Revoked(s),
                    Some(s) => Expect::Deleted(s),
                };
                (cnode_call(label, a, vec![], &[]), expect)
            }
            Op::CancelBadgedSends(at) | Op::SaveCaller(at) => {
                let label = match op {
                    Op::SaveCaller(_) => save_caller_label(),
                    _ => l::CNODE_CANCEL_BADGED_SENDS,
                };
                (
                    cnode_call(label, self.addr(at), vec![], &[]),
                    Expect::Unchanged,
                )
            }
            Op::Fill { .. } => return None,
            Op::Retype {
                ut,
                ty,
                size,
                dest,
                count,
            } => {
                let cptr = self.cptr(ut);
                let (node_index, depth, offset, count) = match dest {
                    Dest::Root(i) => {
                        // The i-th empty window slot, and no more objects
                        // than empty slots follow it (unless count is bad).
                        let empty = |j: &u64| self.k.cap(*j).is_null();
                        let free: Vec<u64> = (self.win..self.win + WIN).filter(empty).collect();
                        let off = free.get(i as usize % free.len().max(1)).copied();
                        let off = off.unwrap_or(self.win);
                        let run = (off..self.win + WIN).take_while(empty).count() as u64;
                        let good = (1..=256).contains(&count);
                        (0, 0, off, if good { count.min(run.max(1)) } else { count })
                    }
                    Dest::Sub(w, off) => {
                        let node = self
                            .window_cnode(w)
                            .map_or(self.win + w as u64 % WIN, |c| c.0);
                        (node, 64, off as u64, count)
                    }
                    Dest::Raw(index, depth) => (index, depth as u64, 0, count),
                };
                let call = Call {
                    cptr,
                    label: l::UNTYPED_RETYPE,
                    mrs: vec![ty, size, node_index, depth, offset, count],
                    extra: vec![init::CNODE],
                };
                (
                    call,
                    Expect::Retyped {
                        ut: self.k.slot(cptr),
                        ty,
                        count,
                    },
                )
            }
        })
    }

    /// A Fill: Copy calls from `src` into the empty slots of the `w`-th
    /// window CNode (or the window), each succeeding or failing.
    fn fill(&mut self, src: Loc, w: u8) {
        let s = self.addr(src);
        let cnode = match self.window_cnode(w) {
            Some((cptr, Cap::CNode { ptr, .. })) if ptr != self.k.cnode => cptr,
            _ => init::CNODE,
        };
        let targets = self
            .all_slots()
            .into_iter()
            .filter(|a| a.0.cnode == cnode && !a.1);
        for (d, _) in targets {
            let mrs = vec![s.index, s.depth, 0xF];
            match self.call(&cnode_call(l::CNODE_COPY, d, mrs, &[s])) {
                Outcome::Reply { label: 0, .. } => {}
                Outcome::Reply { label, mrs } => check_error_reply(label, &mrs),
                Outcome::Preempted => panic!("preempted with no interrupt pending"),
            }
        }
        self.check();
    }

    /// Runs one step and checks everything.
    pub fn step(&mut self, st: &Step) {
        if let Op::Fill { src, w } = st.op {
            return self.fill(src, w);
        }
        let Some((mut call, expect)) = self.plan(&st.op) else {
            return;
        };
        if self.invokes_ipc_object(&call) {
            return;
        }
        if let Some(n) = st.cut {
            call.mrs.truncate(n as usize);
            if n < 3 {
                call.extra.clear();
            }
        }
        let (before_live, before) = (self.live(), self.snap.clone());
        let descendants: Vec<SlotRef> = match expect {
            Expect::Revoked(s) => self.cdt.descendants(s).to_vec(),
            _ => Vec::new(),
        };
        SimMachine::set_interrupt_pending_after(st.irq.map(u64::from));
        let mut out = self.call(&call);
        let mut preempted = false;
        let mut tries = 0;
        while out == Outcome::Preempted {
            assert!(st.irq.is_some(), "preempted with no interrupt pending");
            assert_eq!(self.k.tcb.get().state(), ThreadState::Restart);
            preempted = true;
            self.check(); // the half-done state is consistent too
            if !st.restart {
                break;
            }
            tries += 1;
            assert!(tries < 10_000, "a restarted call makes no progress");
            out = self.call(&call);
        }
        SimMachine::set_interrupt_pending_after(None);
        self.check();
        let Outcome::Reply { label, mrs } = out else {
            return; // preempted and left half done
        };
        let state = self.k.tcb.get().state();
        assert_eq!(state, ThreadState::Running, "the caller runs on");
        if label != 0 {
            assert!(
                (1..=10).contains(&label),
                "reply label {label} is no seL4 error"
            );
            if !preempted {
                assert!(
                    before == self.snap,
                    "a failed call (error {label} {mrs:?}) changed slots"
                );
            }
            return;
        }
        let live = self.live();
        let added: HashSet<u64> = live.difference(&before_live).copied().collect();
        let removed: HashSet<u64> = before_live.difference(&live).copied().collect();
        let set = |s: &[SlotRef]| paddrs(s.iter().copied());
        match expect {
            Expect::Fails => panic!("succeeded although a slot does not resolve"),
            Expect::Insert {
                src,
                dest,
                src_cap,
                badge,
            } => {
                let c = dest.get().cap();
                assert_eq!((added, removed), (set(&[dest]), set(&[])));
                assert_eq!(
                    dest.get().prev(),
                    Some(src),
                    "a new child follows its source"
                );
                assert!(same_object_as(&src_cap, &c) || matches!(c, Cap::Untyped { .. }));
                assert_eq!(cap_region(&c), cap_region(&src_cap));
                if let (Some(a), Some(b)) = (rights_bits(&src_cap), rights_bits(&c)) {
                    assert_eq!(
                        b & !a,
                        0,
                        "{c:?} has more rights than its source {src_cap:?}"
                    );
                }
                let want = match (badge, src_cap.badge()) {
                    (Some(b), Some(0)) => Some(b),
                    _ => src_cap.badge(),
                };
                assert_eq!(c.badge(), want, "badge of {c:?}");
            }
            Expect::Move { src, dest, cap } => {
                assert_eq!((added, removed), (set(&[dest]), set(&[src])));
                assert_eq!(dest.get().cap(), cap);
            }
            Expect::Rotate {
                src,
                pivot,
                dest,
                to_dest,
                to_pivot,
            } => {
                if src == dest {
                    assert!(added.is_empty() && removed.is_empty());
                } else {
                    assert_eq!((added, removed), (set(&[dest]), set(&[src])));
                }
                assert_eq!(dest.get().cap(), to_dest);
                assert_eq!(pivot.get().cap(), to_pivot);
            }
            Expect::Deleted(s) => {
                assert!(
                    s.get().cap().is_null(),
                    "deleted slot holds {:?}",
                    s.get().cap()
                );
                only_zombies(&added);
            }
            Expect::Revoked(s) => {
                assert_eq!(
                    ensure_no_children(s),
                    Ok(()),
                    "a revoked cap keeps children"
                );
                // If the revoke destroyed the CNode holding `s` itself, it
                // stopped there (as seL4's cteRevoke does). A former
                // descendant's slot may hold a cyclic zombie of another
                // object whose first slot it is (seL4's "interesting corner
                // case" of reduceZombie, left so by a preemption).
                let descendants = if s.get().cap().is_null() {
                    Vec::new()
                } else {
                    descendants
                };
                for d in descendants {
                    let c = d.get().cap();
                    let cyclic = matches!(c, Cap::Zombie { ptr, .. } if ptr == d.paddr());
                    assert!(
                        c.is_null() || (cyclic && !self.cdt.is_descendant(s, d)),
                        "descendant {d:?} ({:?}) of {s:?} holds {c:?} after the revoke",
                        before.get(&d.paddr().0).map(|v| Cap::decode(v.0))
                    );
                }
                only_zombies(&added);
            }
            Expect::Unchanged => assert!(before == self.snap, "{:?} changed slots", st.op),
            Expect::Retyped { ut, ty, count } => {
                assert!(removed.is_empty());
                assert_eq!(added.len() as u64, count, "{count} objects made");
                let Some(ur) = cap_region(&ut.get().cap()) else {
                    panic!("retyped from {:?}", ut.get().cap())
                };
                for s in self.cdt.live().filter(|s| added.contains(&s.paddr().0)) {
                    let c = s.get().cap();
                    assert_eq!(c.tag(), tag_of_type(ty), "{c:?} made for type {ty}");
                    assert!(is_mdb_parent_of(ut, s) && self.cdt.is_descendant(ut, s));
                    let r = cap_region(&c).expect("an object");
                    assert!(ur.0 <= r.0 && r.0 + (1 << r.1) <= ur.0 + (1 << ur.1));
                }
            }
        }
    }
}

/// SaveCaller's label; MCS has no SaveCaller, so there the step sends the
/// label after CNode_Rotate, which a CNode refuses (IllegalOperation),
/// changing nothing all the same.
fn save_caller_label() -> u64 {
    #[cfg(not(feature = "mcs"))]
    return l::CNODE_SAVE_CALLER;
    #[cfg(feature = "mcs")]
    return l::CNODE_ROTATE + 1;
}
