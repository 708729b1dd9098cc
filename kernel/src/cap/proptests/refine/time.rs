//! MCS: time in the refinement test (docs/spec.md, "Timeout faults").
//! The test's clock stands still but here: a running thread runs past
//! the end of its head refill (by a few ticks or by a lot), the end found
//! at the timer's interrupt or at the thread's next system call; or no
//! thread runs for a while (releases come due, so that threads whose
//! budgets ran out run again). When a budget ends is the kernel's refills'
//! business (time, not specified); the spec is told that it ended and
//! how many ticks ran (`State::budget_expired`), and says what follows:
//! the ticks charged, a timeout fault if the context is not round robin
//! and the thread has a timeout handler, a system call not served. The
//! world (`setup`): the thread of priority 100 on a 1 ms / 5 ms context
//! with the second window endpoint as its timeout handler, the one of
//! priority 255 on a sporadic 2 ms / 10 ms context without one.

use super::{tally, Pair, SimMachine};
use crate::arch::Kernel;
use crate::object::tcb::TcbRef;
use crate::types::PAddr;
use proptest::prelude::*;

type Api = crate::api::Api;

/// Timer ticks (10 MHz) in a µs and a ms.
const US: u64 = 10;
const MS: u64 = 1_000 * US;

#[derive(Clone, Debug)]
pub(in crate::cap::proptests) enum TimeAct {
    /// The running thread runs `over` ticks past the last tick its head
    /// refill allows; the kernel finds it at its system call (`true`) or
    /// at the timer's interrupt.
    Overrun { over: u64, at_syscall: bool },
    /// No thread runs for `ticks`.
    Idle { ticks: u64 },
}

pub(super) fn time_act() -> impl Strategy<Value = TimeAct> {
    let over = prop_oneof![3 => 0..10u64, 2 => 0..2 * MS, 1 => 0..200 * MS];
    let idle = prop_oneof![1 => 0..100u64, 2 => 0..5 * MS, 2 => 5 * MS..50 * MS];
    prop_oneof![
        3 => (over, prop::bool::weighted(0.3))
            .prop_map(|(over, at_syscall)| TimeAct::Overrun { over, at_syscall }),
        2 => idle.prop_map(|ticks| TimeAct::Idle { ticks }),
    ]
}

/// The setup threads (`thread_caps`: priorities 100, 200, 255) get the
/// contexts and the timeout handler of the module doc.
pub(super) fn setup(w: &super::World, thread_caps: &[u64]) {
    use crate::object::sched_context::Configure;
    use crate::object::tcb::{Tcb, TCB_TIMEOUT_HANDLER};
    let tcb = |i: usize| match thread_caps.get(i).map(|&s| w.k.cap(s)) {
        Some(crate::cap::Cap::Thread { tcb }) => Some(TcbRef::new(tcb)),
        _ => None,
    };
    let configure = |t: TcbRef, budget, period, badge, sporadic| {
        if let Some(sc) = crate::sched::mcs::sc_of(t) {
            let c = Configure {
                budget,
                period,
                max_refills: 4,
                badge,
                sporadic,
            };
            crate::object::sched_control::perform(sc, &c);
        }
    };
    if let Some(t) = tcb(0) {
        configure(t, MS, 5 * MS, 0x100, false);
        let src = w.k.slot(w.win + 1);
        crate::cap::derive::cte_insert(src.get().cap(), src, Tcb::slot(t, TCB_TIMEOUT_HANDLER));
    }
    if let Some(t) = tcb(2) {
        configure(t, 2 * MS, 10 * MS, 0x255, true);
    }
}

impl Pair {
    /// The time step `a` by the running thread `t` (Idle: whoever runs).
    pub(super) fn time(&mut self, t: u64, a: &TimeAct) {
        match *a {
            TimeAct::Idle { ticks } => self.idle(ticks),
            TimeAct::Overrun { over, at_syscall } => self.overrun(t, over, at_syscall),
        }
    }

    /// No thread runs for `ticks`; the timer's interrupt ends the idle
    /// stretch. Nothing the spec holds changes.
    pub(super) fn idle(&mut self, ticks: u64) {
        let k = crate::state::kernel();
        if let Some(c) = k.current_tcb().filter(|c| c.get().state().is_runnable()) {
            crate::sched::enqueue(c);
        }
        k.set_current(None);
        crate::sched::mcs::switch_sched_context();
        SimMachine::set_time(crate::arch::now().saturating_add(ticks));
        Api::handle_timer_tick(0);
        crate::sched::schedule();
        tally(|x| x.time[0] += 1);
        self.compare(&("idle", ticks));
    }

    /// `t` runs `over` ticks past the end of its head refill's budget
    /// (the last tick before it holds less than the minimum budget).
    fn overrun(&mut self, t: u64, over: u64, at_syscall: bool) {
        let tcb = TcbRef::new(PAddr(t));
        if crate::sched::mcs::sc_of(tcb).is_none() {
            return tally(|x| x.skipped += 1);
        }
        // The head is read once `t` runs: switching to a constant-bandwidth
        // context starts its head then (seL4's `switchSchedContext`), which
        // may merge the refills released before it would end.
        self.run_as(tcb);
        let head = crate::sched::mcs::sc_of(tcb).and_then(|sc| sc.head_refill());
        let Some(head) = head else {
            return tally(|x| x.skipped += 1);
        };
        let min = crate::state::kernel().mcs().min_budget();
        let ticks = head.amount.saturating_sub(min).saturating_add(1 + over);
        if self.spec.budget_expired(t, ticks, at_syscall).is_err() {
            return tally(|x| x.skipped += 1);
        }
        SimMachine::set_time(crate::arch::now().saturating_add(ticks));
        match at_syscall {
            true => crate::api::handle_syscall(cairn_abi::syscall::SYS_YIELD),
            false => Api::handle_timer_tick(0),
        }
        crate::sched::schedule();
        let timeout = matches!(
            self.spec.thread(t).and_then(|x| x.fault),
            Some(cairn_spec::Fault::Timeout { .. })
        );
        tally(|x| {
            x.time[1] += 1;
            x.time[2] += u64::from(timeout);
        });
        self.compare(&("overrun", t, ticks, at_syscall));
    }
}

/// The configured scheduling contexts whose head refill is not ready at
/// the kernel's time (not released, or below the minimum budget), for
/// the spec ([`cairn_spec::State::not_ready`]).
pub(super) fn not_ready(spec: &cairn_spec::State) -> std::collections::BTreeSet<u64> {
    use crate::object::sched_context::SchedContextRef;
    let now = crate::sched::mcs::cur_time();
    let min = crate::state::kernel().mcs().min_budget();
    let contexts = spec.objects.iter().filter_map(|(&o, ob)| match ob {
        cairn_spec::Object::SchedContext(s) if s.configured() => Some((o, s.size_bits)),
        _ => None,
    });
    contexts
        .filter(|&(o, bits)| {
            let head = SchedContextRef::new(PAddr(o), bits as u8).head_refill();
            !head.is_some_and(|h| h.time <= now && h.amount >= min)
        })
        .map(|(o, _)| o)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_spec::thread::A6;
    use cairn_spec::{Fault, Invocation, Syscall, ThreadState as S};

    /// The setup thread `i`'s TCB address.
    fn thread(p: &Pair, i: usize) -> u64 {
        match p.w.k.cap(p.thread_caps[i]) {
            crate::cap::Cap::Thread { tcb } => tcb.0,
            _ => panic!("no thread {i}"),
        }
    }

    /// Sets `t`'s reply register (a6) to `cptr` on both.
    fn set_reply(p: &mut Pair, t: u64, cptr: u64) {
        TcbRef::new(PAddr(t)).get().set_user_register(A6, cptr);
        if let Some(x) = p.spec.thread_mut(t) {
            x.context[A6] = cptr;
        }
    }

    fn inv(cptr: u64, label: u64, words: Vec<u64>) -> Invocation {
        Invocation {
            cptr,
            label,
            words,
            extra: vec![],
        }
    }

    /// The thread of priority 100 (1 ms / 5 ms, its timeout handler the
    /// second window endpoint) runs 7 µs past its budget; the timer's
    /// interrupt finds it out: a timeout fault with its context's badge,
    /// sent to the handler where no one waits. The root thread then
    /// receives it with a reply object: the message is the badge and the
    /// µs consumed (taken out of the context); its reply with label 0
    /// writes the registers back and restarts the thread. Compared after
    /// every step.
    #[test]
    fn an_overrun_sends_a_timeout_fault_that_the_handler_answers() {
        let mut p = Pair::with_threads();
        let (root, win) = (p.root_tcb, p.w.win);
        let t = thread(&p, 0);
        let sc = p.spec.sc_of_tcb(t).expect("its context");
        p.overrun(t, 70, false);
        let min = crate::state::kernel().mcs().min_budget();
        let ticks = MS - min + 1 + 70;
        assert_eq!(
            p.spec.thread(t).and_then(|x| x.fault),
            Some(Fault::Timeout { badge: 0x100 })
        );
        assert!(matches!(
            p.spec.state_of(t),
            S::BlockedOnSend { call: false, .. }
        ));
        assert_eq!(p.spec.sc(sc).map(|s| s.consumed), Some(ticks));
        set_reply(&mut p, root, win + 4);
        p.syscall(
            root,
            Syscall::Recv,
            &inv(win + 1, 0, vec![]),
            None,
            None,
            &"recv",
        );
        p.compare(&"recv");
        let got = p.spec.thread(root).expect("root");
        assert_eq!((got.info.label, got.info.length), (5, 2));
        assert_eq!(got.mrs[..2], [0x100, ticks / US]);
        assert_eq!(p.spec.sc(sc).map(|s| s.consumed), Some(0));
        assert_eq!(p.spec.state_of(t), S::BlockedOnReply);
        // The reply: pc and ra written back, label 0: it restarts.
        let words = vec![0x4000, 0x5000];
        p.syscall(
            root,
            Syscall::ReplyRecv,
            &inv(win + 1, 0, words),
            None,
            None,
            &"reply",
        );
        p.compare(&"reply");
        let x = p.spec.thread(t).expect("t");
        assert_eq!((x.state, x.fault), (S::Restart, None));
        assert_eq!((x.reg(0), x.reg(1)), (0x4000, 0x5000));
    }

    /// The first divergence the time steps found (the spec was wrong):
    /// the thread of priority 100 calls the passive server, which runs
    /// on its 1 ms / 5 ms context and yields it (the head refill given
    /// up: not ready); the root thread replies through the server's
    /// reply object: the caller gets its context back
    /// with no budget and, having a timeout handler, sends a timeout
    /// fault (seL4's MCS `doReplyTransfer`); the spec had it run.
    /// `CAIRN_SPEC_STEPS=40000 CAIRN_SPEC_SEED=21`, seed 22, shrunk to
    /// seven steps.
    #[test]
    fn a_reply_to_a_caller_whose_budget_is_gone_sends_a_timeout_fault() {
        let mut p = Pair::with_threads();
        let win = p.w.win;
        let (t, server) = (thread(&p, 0), thread(&p, 1));
        let sc = p.spec.sc_of_tcb(t).expect("its context");
        p.syscall(
            t,
            Syscall::Call,
            &inv(win, 2, vec![0, 1]),
            None,
            None,
            &"call",
        );
        p.compare(&"call");
        assert_eq!(p.spec.sc_of_tcb(server), Some(sc), "lent");
        p.syscall(
            server,
            Syscall::Yield,
            &inv(0, 0, vec![]),
            None,
            None,
            &"yield",
        );
        p.compare(&"yield");
        p.spec.not_ready = not_ready(&p.spec);
        assert!(p.spec.not_ready.contains(&sc), "the head refill given up");
        let root = p.root_tcb;
        set_reply(&mut p, root, win + 3);
        p.syscall(
            root,
            Syscall::ReplyRecv,
            &inv(win, 0, vec![]),
            None,
            None,
            &"reply",
        );
        p.compare(&"reply");
        assert_eq!(p.spec.sc_of_tcb(t), Some(sc), "given back");
        assert_eq!(
            p.spec.thread(t).and_then(|x| x.fault),
            Some(Fault::Timeout { badge: 0x100 })
        );
        assert!(matches!(p.spec.state_of(t), S::BlockedOnSend { .. }));
    }
}
