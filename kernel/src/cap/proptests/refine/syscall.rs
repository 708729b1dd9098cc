//! The step runner: one system call by a thread on both sides (the
//! message loaded, the kernel's call preempted and restarted until
//! done, both schedulers), its answer compared, and the comparison of
//! the whole state after a step.

use super::super::abstraction::{abstract_state, diff, observably_equal, without_watermark};
use super::{encode, index, number, tally, Pair};
use crate::arch::host::SimMachine;
use crate::object::tcb::TcbRef;
use crate::testutil::Outcome;
use cairn_spec::{Invocation, State, Syscall, Unspecified};

impl Pair {
    /// Writes a message into `t`'s registers and IPC buffer, as its code
    /// does before a system call.
    pub(super) fn load(t: TcbRef, inv: &Invocation, receive: Option<[u64; 3]>) {
        use crate::arch::{CAP_REGISTER, MSG_INFO_REGISTER};
        use crate::ipc::message::MessageRegs;
        use crate::object::access::write_word;
        let regs = MessageRegs::of(t, true);
        for (i, w) in inv.words.iter().enumerate() {
            regs.set(i, *w);
        }
        let at = |w: usize| regs.buffer_word(w);
        for (i, c) in inv.extra.iter().enumerate() {
            if let Some(a) = at(122 + i) {
                write_word(a, *c);
            }
        }
        for (i, w) in receive.into_iter().flatten().enumerate() {
            if let Some(a) = at(125 + i) {
                write_word(a, w);
            }
        }
        let info = cairn_abi::message::MessageInfo::new(
            inv.label,
            0,
            inv.extra.len() as u64,
            inv.words.len() as u64,
        );
        let r = t.get();
        r.set_reg(CAP_REGISTER, inv.cptr);
        r.set_reg(MSG_INFO_REGISTER, info.0);
        crate::state::kernel().reset_work_units();
    }

    /// The kernel's answer in `t`'s registers (and IPC buffer).
    pub(super) fn answer(t: TcbRef) -> Outcome {
        use crate::ipc::message::MessageRegs;
        let info = cairn_abi::message::MessageInfo(t.get().reg(crate::arch::MSG_INFO_REGISTER));
        let regs = MessageRegs::of(t, false);
        Outcome::Reply {
            label: info.label(),
            mrs: (0..info.length() as usize).map(|i| regs.get(i)).collect(),
        }
    }

    /// `t` makes `sys` with `inv` on both (if the spec covers it), the
    /// kernel's call preempted after `irq` checks and restarted until
    /// done; then the scheduler runs. The invocation's answer if the spec
    /// has one, which the kernel's must equal.
    pub(super) fn syscall(
        &mut self,
        t: u64,
        sys: Syscall,
        inv: &Invocation,
        receive: Option<[u64; 3]>,
        irq: Option<u8>,
        what: &dyn core::fmt::Debug,
    ) -> Option<Outcome> {
        self.test_switch(t);
        // Only a call that may be preempted needs the state before it.
        let before = irq.map(|_| self.spec.clone());
        let want = match self.spec.syscall(t, sys, inv, receive) {
            Ok(want) => want,
            Err(Unspecified::Skip) => {
                tally(|t| t.skipped += 1);
                return None;
            }
            Err(Unspecified::Abandon) => {
                tally(|t| t.abandoned += 1);
                self.abandoned = true;
                return None;
            }
        };
        let irq = match before.is_some_and(|b| self.still_addressable(t, &b, inv)) {
            true => irq,
            false => None,
        };
        let tcb = TcbRef::new(crate::types::PAddr(t));
        self.run_as(tcb);
        Self::load(tcb, inv, receive);
        let mut tries = 0;
        loop {
            SimMachine::set_interrupt_pending_after(irq.map(u64::from));
            crate::api::handle_syscall(number(sys));
            SimMachine::set_interrupt_pending_after(None);
            let preempted = tcb.get().state() == crate::object::tcb::ThreadState::Restart
                && crate::state::kernel().is_current(tcb);
            if !preempted {
                break;
            }
            tries += 1;
            tally(|t| t.preempted += 1);
            assert!(
                tries < 100_000,
                "{what:?}: a restarted call makes no progress"
            );
            crate::sched::activate_thread(tcb);
            crate::state::kernel().reset_work_units();
        }
        crate::sched::schedule();
        self.spec.schedule();
        if crate::state::kernel().current_tcb() != Some(tcb) {
            tally(|x| x.chosen[1] += 1);
        }
        let out = want.map(|w| (Self::answer(tcb), w));
        if std::env::var_os("CAIRN_SPEC_TRACE").is_some() {
            eprintln!("{what:?} by {t:#x}: {out:?}");
        }
        let Some((out, want)) = out else {
            tally(|x| x.syscalls[index(sys)] += 1);
            return None;
        };
        if sys == Syscall::Call {
            // Without an IPC buffer only MR0..MR3 arrive (seL4's `setMR`).
            let mut want = encode(&want);
            if let Outcome::Reply { mrs, .. } = &mut want {
                if !self.spec.has_buffer(t, true) {
                    mrs.truncate(cairn_spec::thread::MSG_REGISTERS);
                }
            }
            assert_eq!(out, want, "{what:?}: kernel's reply, spec's");
        }
        if let Outcome::Reply { label, .. } = out {
            tally(|t| t.replies[label.min(10) as usize] += 1);
        }
        Some(out)
    }

    /// The root thread's Call `call` (the CNode tests' calls).
    pub(super) fn call(
        &mut self,
        call: &super::super::world::Call,
        irq: Option<u8>,
        what: &dyn core::fmt::Debug,
    ) -> Option<Outcome> {
        let t = self.root_tcb;
        self.call_by(t, call, irq, what)
    }

    pub(super) fn call_by(
        &mut self,
        t: u64,
        call: &super::super::world::Call,
        irq: Option<u8>,
        what: &dyn core::fmt::Debug,
    ) -> Option<Outcome> {
        let inv = Invocation {
            cptr: call.cptr,
            label: call.label,
            words: call.mrs.clone(),
            extra: call.extra.clone(),
        };
        self.syscall(t, Syscall::Call, &inv, None, irq, what)
    }

    /// Whether a restart of `inv` by `t` after a preemption would find
    /// what the first attempt found: the invoked cap and the CNode
    /// method's destination slot. A Delete or Revoke that destroys the
    /// CNode cap it was invoked through (or the CNode holding its slot),
    /// if preempted, fails on restart with InvalidCapability or
    /// FailedLookup and stays half done, in Cairn as in seL4 (a restarted
    /// system call looks its caps up again). The atomic specification does
    /// not model that outcome, so such calls run unpreempted.
    pub(super) fn still_addressable(&self, t: u64, before: &State, inv: &Invocation) -> bool {
        let lookup = |s: &State| {
            let (_, cap) = s.lookup_in(t, inv.cptr).ok()?;
            // Retype moves the watermark; the cap is the same.
            let cap = without_watermark(cap?);
            let dest = match (inv.words.first(), inv.words.get(1), cap) {
                (Some(&i), Some(&d), cairn_spec::Cap::CNode { .. }) => {
                    s.lookup_slot_for_cnode_op(false, &cap, i, d).ok()
                }
                _ => None,
            };
            Some((cap, dest))
        };
        lookup(before) == lookup(&self.spec)
    }

    /// Checks the kernel's invariants and that it refines the spec.
    pub(super) fn compare(&mut self, what: &dyn core::fmt::Debug) {
        if self.abandoned {
            return;
        }
        self.w.check();
        let k = abstract_state(&self.w);
        if !observably_equal(&k, &self.spec) {
            panic!(
                "{what:?}: the kernel's state differs from the spec's:\n{}",
                diff(&k.observable(), &self.spec.observable())
            );
        }
        // MCS: the scheduler's queues against the spec's threads.
        #[cfg(feature = "mcs")]
        self.check_mcs_queues(what);
    }
}
