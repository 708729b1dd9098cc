//! One step of a random run (`Pair::act`): who acts, the step's
//! system calls, and what it did for the summary.

use super::super::model::cnode_call;
use super::super::world::Addr;
use super::super::{Loc, Op, Step};
#[cfg(feature = "mcs")]
use super::time;
use super::{tally, Act, Ipc, Pair, Target};
use crate::object::tcb::TcbRef;
use crate::testutil::Outcome;
use cairn_abi::cap::init;
use cairn_abi::invocation::label as l;
use cairn_spec::{Invocation, State};

impl Pair {
    /// One step of the random runs: the chosen runnable thread acts; if
    /// none can run, the root thread is resumed (seL4_TCB_Resume by a
    /// thread outside the system).
    pub(super) fn act(&mut self, a: &Act) {
        if self.abandoned {
            return;
        }
        let sel = match a {
            Act::Cspace(t, _)
            | Act::Ipc(t, _)
            | Act::CancelBadged(t, ..)
            | Act::DeleteIpcObject(t, ..)
            | Act::DeleteThread(t, ..)
            | Act::Exception(t, ..)
            | Act::Vm(t, _)
            | Act::Control(t, _)
            | Act::Irq(t, _) => *t,
            #[cfg(feature = "mcs")]
            Act::Sched(t, _) | Act::McsIpc(t, _) | Act::Time(t, _) => *t,
        };
        // MCS: time passes whether a thread can run or not; what it
        // decides the spec is told.
        #[cfg(feature = "mcs")]
        {
            if let Act::Time(_, time::TimeAct::Idle { ticks }) = a {
                return self.idle(*ticks);
            }
            self.spec.not_ready = time::not_ready(&self.spec);
        }
        let Some(t) = self.runner(sel) else {
            return self.kick(sel);
        };
        if t != self.root_tcb {
            tally(|x| x.others += 1);
        }
        let cspace_step = matches!(
            a,
            Act::Cspace(..)
                | Act::CancelBadged(..)
                | Act::DeleteIpcObject(..)
                | Act::DeleteThread(..)
        );
        if cspace_step && !self.shares_cspace(t) {
            return tally(|t| t.skipped += 1);
        }
        let blocked = self.blocked();
        let faulted = self.faulted();
        match a {
            Act::Control(_, c) => self.control(t, c),
            Act::Irq(_, i) => self.irq_act(t, i),
            #[cfg(feature = "mcs")]
            Act::Sched(_, s) => self.sched(t, s),
            #[cfg(feature = "mcs")]
            Act::McsIpc(_, i) => self.mcs_ipc(t, i),
            #[cfg(feature = "mcs")]
            Act::Time(_, a) => self.time(t, a),
            &Act::Exception(_, scause, stval) => self.exception(t, scause, stval),
            Act::Cspace(_, st) => self.step_by(t, st),
            Act::Ipc(_, i) => self.ipc(t, i),
            Act::Vm(_, v) => self.vm(t, v),
            &Act::CancelBadged(_, ep, irq) => {
                let slot = self.target(Target::Ep(ep));
                let call = cnode_call(
                    l::CNODE_CANCEL_BADGED_SENDS,
                    Addr {
                        cnode: init::CNODE,
                        index: slot,
                        depth: 64,
                    },
                    vec![],
                    &[],
                );
                self.call_by(t, &call, irq, a);
                self.compare(a);
            }
            &Act::DeleteIpcObject(_, i, revoke, irq) => {
                // MCS: reply objects too.
                let kinds = if cfg!(feature = "mcs") { 3 } else { 2 };
                let slot = match i % kinds {
                    0 => self.target(Target::Ep(i / kinds)),
                    1 => self.target(Target::Ntfn(i / kinds)),
                    _ => self.target(Target::Reply(i / kinds)),
                };
                let at = Addr {
                    cnode: init::CNODE,
                    index: slot,
                    depth: 64,
                };
                if !self.w.may_change(self.w.resolve(at), revoke) {
                    return tally(|t| t.skipped += 1);
                }
                let label = match revoke {
                    true => l::CNODE_REVOKE,
                    false => l::CNODE_DELETE,
                };
                self.call_by(t, &cnode_call(label, at, vec![], &[]), irq, a);
                self.compare(a);
            }
            &Act::DeleteThread(_, i, irq) => {
                let slot = self.thread_caps[i as usize % self.thread_caps.len().max(1)];
                let at = Addr {
                    cnode: init::CNODE,
                    index: slot,
                    depth: 64,
                };
                self.call_by(t, &cnode_call(l::CNODE_DELETE, at, vec![], &[]), irq, a);
                self.compare(a);
            }
        }
        // Threads a step took out of a queue or a reply wait (cancelled
        // IPC: the object deleted, badged sends cancelled, a thread
        // suspended) and that now restart or stop.
        let cancelled = blocked
            .iter()
            .filter(|&&(b, _)| {
                !matches!(
                    self.spec.state_of(b),
                    cairn_spec::ThreadState::BlockedOnReceive { .. }
                        | cairn_spec::ThreadState::BlockedOnSend { .. }
                        | cairn_spec::ThreadState::BlockedOnNotification { .. }
                        | cairn_spec::ThreadState::BlockedOnReply
                        | cairn_spec::ThreadState::Running
                )
            })
            .count() as u64;
        tally(|t| t.cancelled += cancelled);
        let now = self.faulted();
        let sent = now.iter().filter(|f| !faulted.contains(f)).count() as u64;
        let ended = faulted.iter().filter(|f| !now.contains(f)).count() as u64;
        tally(|t| {
            t.faults_sent += sent;
            t.fault_replies += ended;
        });
    }

    /// The threads of the spec that have sent (or are sending) a fault.
    pub(super) fn faulted(&self) -> Vec<u64> {
        let faulted = self.spec.objects.iter().filter_map(|(&o, ob)| match ob {
            cairn_spec::Object::Tcb { thread, .. } if thread.fault.is_some() => Some(o),
            _ => None,
        });
        faulted.collect()
    }

    /// `t` takes an exception, on both.
    pub(super) fn exception(&mut self, t: u64, scause: u64, stval: u64) {
        let what = ("exception", scause, stval);
        self.test_switch(t);
        if self.spec.exception(t, scause, stval).is_err() {
            return tally(|t| t.skipped += 1);
        }
        let tcb = TcbRef::new(crate::types::PAddr(t));
        self.run_as(tcb);
        <crate::api::Api as crate::arch::Kernel>::handle_exception(scause, stval);
        crate::sched::schedule();
        self.spec.schedule();
        tally(|t| t.exceptions += 1);
        self.compare(&what);
    }

    /// The blocked threads of the spec and their states.
    pub(super) fn blocked(&self) -> Vec<(u64, cairn_spec::ThreadState)> {
        self.spec
            .objects
            .iter()
            .filter_map(|(&o, ob)| match ob {
                cairn_spec::Object::Tcb { thread, .. }
                    if !thread.state.runnable()
                        && thread.state != cairn_spec::ThreadState::Inactive =>
                {
                    Some((o, thread.state))
                }
                _ => None,
            })
            .collect()
    }

    /// No thread can run: the `sel`-th thread with a CSpace that is not
    /// runnable is resumed (seL4_TCB_Resume by a thread outside the
    /// system), on both.
    pub(super) fn kick(&mut self, sel: u8) {
        tally(|t| t.kicks += 1);
        let stopped: Vec<u64> = self
            .spec
            .objects
            .iter()
            .filter(|(&o, ob)| {
                matches!(ob, cairn_spec::Object::Tcb { slots, .. } if slots.contains_key(&0))
                    && !self.spec.state_of(o).runnable()
                    && self.may_run(o, false)
            })
            .map(|(&o, _)| o)
            .collect();
        let t = stopped
            .get(sel as usize % stopped.len().max(1))
            .copied()
            .unwrap_or(self.root_tcb);
        crate::ipc::restart(TcbRef::new(crate::types::PAddr(t)));
        crate::sched::schedule();
        self.spec.restart(t);
        self.spec.schedule();
        self.compare(&("resume", t));
    }

    pub(super) fn ipc(&mut self, t: u64, i: &Ipc) {
        let inv = Invocation {
            cptr: self.target(i.cap),
            label: i.label,
            words: i.words.clone(),
            extra: i.extra.iter().map(|&x| self.target(x)).collect(),
        };
        let receive = i.receive.map(|l| {
            let a = self.w.addr(l);
            [a.cnode, a.index, a.depth]
        });
        let infos = |s: &State| -> Vec<(u64, cairn_spec::MsgInfo)> {
            let threads = s.objects.iter().filter_map(|(&o, ob)| match ob {
                cairn_spec::Object::Tcb { thread, .. } => Some((o, thread.info)),
                _ => None,
            });
            threads.collect()
        };
        let mut before = infos(&self.spec);
        // The caller's tag as it loads it: a message it receives differs.
        let loaded = cairn_spec::MsgInfo {
            label: inv.label,
            unwrapped: 0,
            extra: inv.extra.len() as u64,
            length: inv.words.len() as u64,
        };
        before
            .iter_mut()
            .filter(|b| b.0 == t)
            .for_each(|b| b.1 = loaded);
        let tcb = matches!(
            self.spec.lookup_in(t, inv.cptr),
            Ok((_, Some(cairn_spec::Cap::Thread { .. })))
        );
        let out = self.syscall(t, i.sys, &inv, receive, None, i);
        if let (true, Some(Outcome::Reply { label, .. })) = (tcb, &out) {
            tally(|x| {
                x.tcb[0] += 1;
                x.tcb[1] += u64::from(*label == 0);
            });
        }
        self.compare(i);
        // Messages delivered to other threads with caps or badges of caps.
        for (o, info) in infos(&self.spec) {
            if before.contains(&(o, info)) || info.extra == 0 {
                continue;
            }
            let unwrapped = info.unwrapped.count_ones() as u64;
            tally(|x| {
                x.caps_transferred += info.extra.saturating_sub(unwrapped);
                x.caps_unwrapped += unwrapped;
            });
        }
    }

    /// The root thread makes the CNode or Retype call of `st`.
    pub(super) fn step(&mut self, st: &Step) {
        let t = self.root_tcb;
        self.step_by(t, st)
    }

    pub(super) fn step_by(&mut self, t: u64, st: &Step) {
        if let Op::Fill { src, w } = st.op {
            return self.fill(t, src, w);
        }
        let Some((mut call, _)) = self.w.plan(&st.op) else {
            tally(|t| t.skipped += 1);
            return;
        };
        if self.w.invokes_ipc_object(&call) {
            tally(|t| t.skipped += 1);
            return;
        }
        if let Some(n) = st.cut {
            call.mrs.truncate(n as usize);
            if n < 3 {
                call.extra.clear();
            }
        }
        self.call_by(t, &call, st.irq, st);
        self.compare(st);
    }

    /// `t` copies `src` into every empty slot of a window CNode.
    pub(super) fn fill(&mut self, t: u64, src: Loc, w: u8) {
        let s = self.w.addr(src);
        let cnode = match self.w.window_cnode(w) {
            Some((cptr, crate::cap::Cap::CNode { ptr, .. })) if ptr != self.w.k.cnode => cptr,
            _ => init::CNODE,
        };
        let targets: Vec<_> = self
            .w
            .all_slots()
            .into_iter()
            .filter(|a| a.0.cnode == cnode && !a.1)
            .collect();
        for (d, _) in targets {
            let call = cnode_call(l::CNODE_COPY, d, vec![s.index, s.depth, 0xF], &[s]);
            self.call_by(t, &call, None, &("Fill", src, w));
            if self.abandoned || !self.spec.state_of(t).runnable() {
                break;
            }
        }
        self.compare(&("Fill", src, w));
    }
}
