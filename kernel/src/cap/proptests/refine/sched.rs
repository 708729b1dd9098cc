//! MCS: the refinement test's scheduling-context steps (docs/spec.md,
//! "MCS"): SchedContexts and reply objects retyped into the window,
//! `SchedControl_ConfigureFlags` with budgets, periods and refill counts
//! in and out of range, and the SchedContext methods (Bind, Unbind,
//! UnbindObject, Consumed, YieldTo, other labels) on window contexts and
//! the root thread's own, with threads (the root thread, the window's),
//! notifications and other caps as their objects; and *spawns*: a window
//! thread given the root thread's CSpace and VSpace, a buffer, a
//! configured SchedContext and resumed, so that threads other than the
//! root thread make the steps too.

use super::{tally, Pair, Target};
use crate::testutil::Outcome;
use cairn_abi::cap::init;
use cairn_abi::object::ObjectType as T;
use cairn_spec::sched_context as sc;
use cairn_spec::{Invocation, Syscall};
use proptest::prelude::*;

#[derive(Clone, Debug)]
pub(super) enum SchedAct {
    /// Retype `count` SchedContexts (`size` bits; `reply`: reply objects)
    /// from the `ut`-th boot pool into window slots from `dest`.
    Make {
        ut: u8,
        reply: bool,
        size: u64,
        dest: u8,
        count: u64,
    },
    /// ConfigureFlags on `sc` through the SchedControl cap (or `ctl`),
    /// with the first `len` of budget, period, extra refills, badge, flags.
    Configure {
        ctl: Option<Target>,
        sc: Option<Target>,
        words: [u64; 5],
        len: usize,
    },
    /// A SchedContext method on `sc` with (maybe) one extra cap.
    Method {
        sc: Target,
        label: u64,
        extra: Option<Target>,
    },
    /// A TCB method of MCS form (SetSchedParams: authority, SchedContext,
    /// fault handler; SetTimeoutEndpoint: the handler) or SetPriority,
    /// SetMCPriority, with the first `len` of `words` and of `extra`.
    Tcb {
        tcb: Target,
        label: u64,
        words: [u64; 2],
        extra: [Target; 3],
        len: usize,
        caps: usize,
    },
    /// The `tcb`-th window thread made to run, one call after the other:
    /// Configure (the root thread's CSpace and VSpace, a buffer in
    /// quarter `quarter` of the root thread's buffer page), ConfigureFlags
    /// of the `sc`-th window SchedContext (round robin), SetSchedParams
    /// (MCP and priority `prio`, that SchedContext, no fault handler),
    /// Resume. Each is compared; any may fail.
    Spawn {
        tcb: u8,
        sc: u8,
        quarter: u8,
        prio: u64,
    },
    /// YieldTo on the context of the `i`-th thread that can run (other
    /// than the caller, through a window cap to it; else `Target::Sc`):
    /// answered at once if it cannot run after all or its priority is
    /// below the caller's, else the scheduler's (skipped).
    YieldTo(u8),
}

/// A window slot holding a SchedContext cap (`Target::Sc`), the root
/// thread's (`init::SC`), anything.
fn sc_target() -> BoxedStrategy<Target> {
    prop_oneof![
        8 => any::<u8>().prop_map(Target::Sc),
        1 => Just(Target::Raw(init::SC)),
        1 => any::<u8>().prop_map(Target::Win),
    ]
    .boxed()
}

fn time() -> BoxedStrategy<u64> {
    prop_oneof![
        6 => 20u64..10_000,
        1 => 0u64..20,
        1 => Just(sc::max_period_us()),
        1 => sc::max_period_us()..=u64::MAX,
    ]
    .boxed()
}

pub(super) fn sched_act() -> impl Strategy<Value = SchedAct> {
    let make = (
        any::<u8>(),
        prop::bool::weighted(0.3),
        prop_oneof![6 => 7u64..=10, 1 => 0u64..7, 1 => 11u64..64],
        0u8..super::WIN as u8,
        prop_oneof![6 => 1u64..=2, 1 => 0u64..8],
    )
        .prop_map(|(ut, reply, size, dest, count)| SchedAct::Make {
            ut,
            reply,
            size,
            dest,
            count,
        });
    let configure = (
        prop_oneof![8 => Just(None), 1 => any::<u8>().prop_map(|i| Some(Target::Win(i)))],
        prop_oneof![8 => sc_target().prop_map(Some), 1 => Just(None)],
        (
            time(),
            time(),
            prop_oneof![4 => 0u64..4, 1 => 0u64..64, 1 => any::<u64>()],
        ),
        (prop_oneof![3 => 0u64..4, 1 => any::<u64>()], 0u64..4),
        prop_oneof![8 => Just(5usize), 1 => 0usize..5],
    )
        .prop_map(|(ctl, sc, (b, p, r), (badge, flags), len)| {
            // Mostly budget ≤ period.
            let (b, p) = if b % 4 != 0 && b > p { (p, b) } else { (b, p) };
            SchedAct::Configure {
                ctl,
                sc,
                words: [b, p, r, badge, flags],
                len,
            }
        });
    let label = prop_oneof![
        4 => Just(sc::BIND),
        2 => Just(sc::UNBIND),
        3 => Just(sc::UNBIND_OBJECT),
        1 => Just(sc::CONSUMED),
        2 => Just(sc::YIELD_TO),
        1 => 0u64..50,
    ];
    // A reply through a reply object's cap (no caller waits: nothing
    // happens), or a SchedContext method on one.
    let on = prop_oneof![9 => sc_target(), 2 => any::<u8>().prop_map(Target::Reply)];
    let extra = prop_oneof![
        4 => any::<u8>().prop_map(|i| Some(Target::Tcb(i))),
        3 => any::<u8>().prop_map(|i| Some(Target::Ntfn(i))),
        1 => any::<u8>().prop_map(|i| Some(Target::Win(i))),
        1 => Just(None),
    ];
    let method =
        (on, label, extra).prop_map(|(sc, label, extra)| SchedAct::Method { sc, label, extra });
    let prio = || prop_oneof![6 => 0u64..=255, 1 => 256u64..1000, 1 => any::<u64>()];
    let tcb_label = prop_oneof![
        5 => Just(cairn_spec::tcb_mcs::SET_SCHED_PARAMS),
        3 => Just(cairn_spec::tcb_mcs::SET_TIMEOUT_ENDPOINT),
        1 => Just(cairn_spec::tcb::SET_PRIORITY),
        1 => Just(cairn_spec::tcb::SET_MC_PRIORITY),
    ];
    let handler = prop_oneof![
        4 => any::<u8>().prop_map(Target::Ep),
        2 => any::<u8>().prop_map(Target::Win),
    ];
    let tcb = (
        prop_oneof![6 => any::<u8>().prop_map(Target::Tcb), 1 => any::<u8>().prop_map(Target::Win)],
        tcb_label,
        (prio(), prio()),
        (
            prop_oneof![6 => any::<u8>().prop_map(Target::Tcb), 1 => any::<u8>().prop_map(Target::Win)],
            sc_target(),
            handler,
        ),
        prop_oneof![8 => Just(2usize), 1 => 0usize..2],
        prop_oneof![8 => Just(3usize), 1 => 0usize..3],
    )
        .prop_map(|(tcb, label, (a, b), (auth, sc, fh), len, caps)| {
            // SetTimeoutEndpoint's one cap is the handler.
            let extra = match label {
                cairn_spec::tcb_mcs::SET_TIMEOUT_ENDPOINT => [fh, sc, auth],
                _ => [auth, sc, fh],
            };
            SchedAct::Tcb {
                tcb,
                label,
                words: [a, b],
                extra,
                len,
                caps,
            }
        });
    let spawn =
        (any::<u8>(), any::<u8>(), 0u8..4, 0u64..=255).prop_map(|(tcb, sc, quarter, prio)| {
            SchedAct::Spawn {
                tcb,
                sc,
                quarter,
                prio,
            }
        });
    let yield_to = any::<u8>().prop_map(SchedAct::YieldTo);
    prop_oneof![2 => make, 3 => configure, 6 => method, 4 => tcb, 2 => spawn, 2 => yield_to]
}

impl Pair {
    /// The SchedControl cap's slot (bootinfo `schedcontrol`).
    fn sched_control(&self) -> u64 {
        (0..self.w.win)
            .find(|&i| matches!(self.w.k.cap(i), crate::cap::Cap::SchedControl { .. }))
            .unwrap_or(0)
    }

    /// Whether `inv` is a SetSchedParams of the root thread with an
    /// endpoint as its fault handler.
    fn gives_root_a_handler(&self, inv: &Invocation) -> bool {
        let root = self.root_tcb;
        let cap = |c: u64| self.spec.lookup_in(root, c).ok().and_then(|(_, c)| c);
        let to_root = matches!(cap(inv.cptr), Some(cairn_spec::Cap::Thread { obj }) if obj == root);
        let handler = inv.extra.get(2).and_then(|&c| cap(c));
        inv.label == cairn_spec::tcb_mcs::SET_SCHED_PARAMS
            && to_root
            && matches!(handler, Some(cairn_spec::Cap::Endpoint { .. }))
    }

    /// `t` makes the calls of [`SchedAct::Spawn`], each compared, until
    /// one leaves `t` unable to go on.
    fn spawn(&mut self, t: u64, a: &SchedAct, tcb: u8, sc: u8, quarter: u8, prio: u64) {
        use crate::cap::Cap as C;
        // A window thread and SchedContext, retyped first (from the first
        // pool into the first empty window slot) if there is none.
        let pick = |v: Vec<u64>, i: u8| v.get(i as usize % v.len().max(1)).copied();
        for (ty, size) in [(T::Tcb as u64, 0), (T::SchedContext as u64, 8)] {
            let have = self.window(&|c| match ty == T::Tcb as u64 {
                true => matches!(c, C::Thread { .. }),
                false => matches!(c, C::SchedContext { .. }),
            });
            let free = self.window(&|c| matches!(c, C::Null)).first().copied();
            if let (true, Some(dest)) = (have.is_empty(), free) {
                let inv = Invocation {
                    cptr: self.w.cptr(super::Loc::Boot(0)),
                    label: cairn_spec::untyped::RETYPE,
                    words: vec![ty, size, 0, 0, dest, 1],
                    extra: vec![init::CNODE],
                };
                self.syscall(t, Syscall::Call, &inv, None, None, a);
                self.compare(a);
                if self.abandoned || !self.spec.state_of(t).runnable() {
                    return;
                }
            }
        }
        let tcbs = self.window(&|c| matches!(c, C::Thread { .. }));
        let scs = self.window(&|c| matches!(c, C::SchedContext { .. }));
        let (Some(tcb), Some(sc)) = (pick(tcbs, tcb), pick(scs, sc)) else {
            return tally(|x| x.skipped += 1);
        };
        let buffer = (self.homes[0].1 & !0xFFF) | (quarter as u64) << 10;
        let calls = [
            (
                tcb,
                cairn_spec::tcb::CONFIGURE,
                vec![0, 0, buffer],
                vec![init::CNODE, init::VSPACE, init::IPC_BUFFER],
            ),
            (
                self.sched_control(),
                sc::CONFIGURE_FLAGS,
                vec![1000, 1000, 0, 0, 0],
                vec![sc],
            ),
            (
                tcb,
                cairn_spec::tcb_mcs::SET_SCHED_PARAMS,
                vec![prio, prio],
                vec![init::TCB, sc, 0],
            ),
            (tcb, cairn_spec::tcb::RESUME, vec![], vec![]),
        ];
        for (cptr, label, words, extra) in calls {
            let inv = Invocation {
                cptr,
                label,
                words,
                extra,
            };
            let out = self.syscall(t, Syscall::Call, &inv, None, None, a);
            tally(|x| {
                if let Some(Outcome::Reply { label, .. }) = out {
                    x.control[0] += 1;
                    x.control[1] += u64::from(label == 0);
                }
            });
            self.compare(a);
            if self.abandoned || !self.spec.state_of(t).runnable() {
                break;
            }
        }
    }

    /// Whether `inv` by another thread `t` would take the root thread's
    /// SchedContext from it (Unbind or UnbindObject of it, SetSchedParams
    /// of the root thread with another one or none): the root thread
    /// keeps it, so that a sequence keeps a thread that can run (the
    /// others stop at their first cap fault).
    fn takes_root_sc(&self, t: u64, inv: &Invocation) -> bool {
        use cairn_spec::Cap;
        let root = self.root_tcb;
        let own = self.spec.sc_of_tcb(root);
        let cap = |c: u64| self.spec.lookup_in(t, c).ok().and_then(|(_, c)| c);
        let other_sc = |i: usize| match inv.extra.get(i).and_then(|&c| cap(c)) {
            Some(Cap::SchedContext { obj, .. }) => Some(obj) != own,
            _ => true,
        };
        t != root
            && match cap(inv.cptr) {
                Some(Cap::SchedContext { obj, .. }) => {
                    Some(obj) == own && matches!(inv.label, sc::UNBIND | sc::UNBIND_OBJECT)
                }
                Some(Cap::Thread { obj }) => {
                    obj == root && inv.label == cairn_spec::tcb_mcs::SET_SCHED_PARAMS && other_sc(1)
                }
                _ => false,
            }
    }

    /// A root CNode slot holding a cap to the context of the `i`-th thread
    /// other than `caller` that is runnable on a configured context, if
    /// any; else `Target::Sc(i)`.
    fn runnable_sc(&self, caller: u64, i: u8) -> u64 {
        let runs = |sc: u64| {
            self.spec.sc(sc).is_some_and(|s| {
                s.configured()
                    && s.tcb
                        .is_some_and(|x| x != caller && self.spec.state_of(x).runnable())
            })
        };
        // Any slot of the root CNode (the setup threads' contexts too).
        let slots: Vec<u64> = match self.spec.objects.get(&self.w.k.cnode.0) {
            Some(cairn_spec::Object::CNode { slots, .. }) => slots
                .iter()
                .filter(|(_, e)| matches!(e.cap, cairn_spec::Cap::SchedContext { obj, .. } if runs(obj)))
                .map(|(&j, _)| j)
                .collect(),
            _ => Vec::new(),
        };
        // Mostly a thread below the caller's priority and within its MCP
        // (answered at once, the thread moved to its queue's head).
        let below = |j: &u64| {
            let (Some(c), Some(x)) = (self.spec.thread(caller), self.sc_thread(*j)) else {
                return false;
            };
            x.priority < c.priority && x.priority <= c.mcp
        };
        let lower: Vec<u64> = slots.iter().copied().filter(below).collect();
        let pool = if !i.is_multiple_of(4) && !lower.is_empty() {
            lower
        } else {
            slots
        };
        match pool.get(i as usize / 4 % pool.len().max(1)) {
            Some(&j) => j,
            None => self.target(Target::Sc(i)),
        }
    }

    /// The thread of the context root CNode slot `j` names.
    fn sc_thread(&self, j: u64) -> Option<&cairn_spec::Thread> {
        let slot = cairn_spec::SlotId {
            obj: self.w.k.cnode.0,
            index: j,
        };
        let Some(cairn_spec::Cap::SchedContext { obj, .. }) = self.spec.cap(slot) else {
            return None;
        };
        self.spec.sc(obj)?.tcb.and_then(|t| self.spec.thread(t))
    }

    /// Whether `inv` by `t` is a YieldTo on a context whose thread (not
    /// `t`) is runnable, answered at once (not the scheduler's:
    /// `State::yield_to_schedules`).
    fn yields_to_runnable(&self, t: u64, inv: &Invocation) -> bool {
        let cap = self.spec.lookup_in(t, inv.cptr).ok().and_then(|(_, c)| c);
        let Some(cairn_spec::Cap::SchedContext { obj, .. }) = cap else {
            return false;
        };
        let target = self.spec.sc(obj).and_then(|s| s.tcb);
        inv.label == sc::YIELD_TO
            && target.is_some_and(|x| x != t && self.spec.state_of(x).runnable())
            && !self.spec.yield_to_schedules(obj, t)
    }

    pub(super) fn sched(&mut self, t: u64, a: &SchedAct) {
        let inv = match *a {
            SchedAct::Spawn {
                tcb,
                sc,
                quarter,
                prio,
            } => return self.spawn(t, a, tcb, sc, quarter, prio),
            SchedAct::Make {
                ut,
                reply,
                size,
                dest,
                count,
            } => {
                let pool = self.w.cptr(super::Loc::Boot(ut % 5));
                let ty = if reply { 6 } else { 5 };
                Invocation {
                    cptr: pool,
                    label: cairn_spec::untyped::RETYPE,
                    words: vec![ty, size, 0, 0, self.w.win + dest as u64, count],
                    extra: vec![init::CNODE],
                }
            }
            SchedAct::Configure {
                ctl,
                sc,
                words,
                len,
            } => Invocation {
                cptr: ctl.map_or_else(|| self.sched_control(), |c| self.target(c)),
                label: sc::CONFIGURE_FLAGS,
                words: words[..len].to_vec(),
                extra: sc.map(|s| self.target(s)).into_iter().collect(),
            },
            SchedAct::YieldTo(i) => Invocation {
                cptr: self.runnable_sc(t, i),
                label: sc::YIELD_TO,
                words: vec![],
                extra: vec![],
            },
            SchedAct::Method { sc, label, extra } => Invocation {
                cptr: self.target(sc),
                label,
                words: vec![],
                extra: extra.map(|x| self.target(x)).into_iter().collect(),
            },
            SchedAct::Tcb {
                tcb,
                label,
                words,
                extra,
                len,
                caps,
            } => {
                let inv = Invocation {
                    cptr: self.target(tcb),
                    label,
                    words: words[..len].to_vec(),
                    extra: extra[..caps].iter().map(|&x| self.target(x)).collect(),
                };
                // The root thread runs every step: a fault handler would
                // take its cap faults into the MCS fault IPC, which the
                // spec does not have yet.
                if self.gives_root_a_handler(&inv) {
                    return tally(|x| x.skipped += 1);
                }
                inv
            }
        };
        if self.takes_root_sc(t, &inv) {
            return tally(|x| x.skipped += 1);
        }
        let runnable = self.yields_to_runnable(t, &inv);
        let out = self.syscall(t, Syscall::Call, &inv, None, None, a);
        // Answered (not the scheduler's); a success answers with the
        // consumed time in the registers (compared with the state), not
        // as an error code.
        if runnable {
            tally(|x| {
                x.yield_to[0] += 1;
                x.yield_to[1] += u64::from(out.is_none());
            });
        }
        // The TCB methods count as thread control calls.
        let tcb = matches!(a, SchedAct::Tcb { .. });
        tally(|x| {
            if let Some(Outcome::Reply { label, .. }) = out {
                let c = if tcb { &mut x.control } else { &mut x.sched };
                c[0] += 1;
                c[1] += u64::from(label == 0);
            }
        });
        self.compare(a);
    }
}
