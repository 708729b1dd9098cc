//! Host tests of lazy FPU switching: who owns the FPU, when its registers
//! move, and that a suspended or deleted thread never stays the owner.
//! The simulated machine has an FPU register file (`SimMachine::fpu`) and
//! counts the copies between it and a TCB.

use super::{handle_fpu_trap, release, switch_owner};
use crate::api::Api;
use crate::arch::{fpu_enabled, Kernel, SimMachine, FPU_FIRST_WORD, FPU_WORDS, STATUS_REGISTER};
use crate::object::tcb::TcbRef;
use crate::state::kernel;
use crate::testutil::{boot, ok};
use cairn_abi::cap::init;
use cairn_abi::invocation::{label as l, TCB_FLAG_FPU_DISABLED};
use cairn_abi::object::ObjectType;

/// `scause` of an illegal instruction.
const ILLEGAL_INSTRUCTION: u64 = 2;

/// FP state as a thread would leave it by computing: every word `tag + i`.
fn values(tag: u64) -> [u64; FPU_WORDS] {
    core::array::from_fn(|i| tag + i as u64)
}

/// The FP state saved in `t`'s TCB.
fn saved(t: TcbRef) -> [u64; FPU_WORDS] {
    core::array::from_fn(|i| t.get().reg(FPU_FIRST_WORD + i))
}

fn usable(t: TcbRef) -> bool {
    fpu_enabled(t.get().reg(STATUS_REGISTER))
}

/// `t` runs and executes an FP instruction: the kernel entry of its trap,
/// as the machine layer makes it (the registers are already saved).
fn fp_instruction(t: TcbRef) {
    kernel().set_current(Some(t));
    if !usable(t) {
        Api::handle_exception(ILLEGAL_INSTRUCTION, 0);
    }
}

#[test]
fn fp_state_moves_only_when_another_thread_uses_the_fpu() {
    if !crate::config::HAVE_FPU {
        return;
    }
    let k = boot();
    let [a, b] = k.threads(255, 2)[..] else {
        panic!()
    };
    assert!(!usable(a) && !usable(b), "no thread starts with the FPU");
    // a's first FP instruction: a gets the FPU, with its TCB's (zero) state.
    SimMachine::set_fpu(values(0x55));
    fp_instruction(a);
    assert_eq!(kernel().fpu_owner(), Some(a));
    assert!(usable(a));
    assert_eq!(SimMachine::fpu(), [0; FPU_WORDS]);
    assert_eq!(SimMachine::fpu_copies(), 1, "nothing to save: no owner");
    assert_eq!(a.get().state(), crate::object::tcb::ThreadState::Running);
    assert!(!a.get().has_fault(), "the trap is no fault");
    SimMachine::set_fpu(values(0xA00));
    // b uses the FPU: a's registers go into its TCB, b's come out of its.
    b.get().regs()[FPU_FIRST_WORD].set(0xB00);
    fp_instruction(b);
    assert_eq!(kernel().fpu_owner(), Some(b));
    assert_eq!(saved(a), values(0xA00));
    assert!(!usable(a) && usable(b));
    assert_eq!(SimMachine::fpu()[0], 0xB00);
    SimMachine::set_fpu(values(0xB00));
    // And back: each finds its own values.
    fp_instruction(a);
    assert_eq!(SimMachine::fpu(), values(0xA00));
    assert_eq!(saved(b), values(0xB00));
    assert_eq!(SimMachine::fpu_copies(), 5);
    // The owner's FP instructions do not trap.
    fp_instruction(a);
    assert_eq!(SimMachine::fpu_copies(), 5);
}

// MCS has no seL4_Yield yet (docs/mcs.md).
#[cfg(not(feature = "mcs"))]
#[test]
fn a_thread_without_fp_costs_no_fpu_switch() {
    if !crate::config::HAVE_FPU {
        return;
    }
    /// `seL4_Yield`.
    const SYS_YIELD: i64 = -7;
    let k: crate::testutil::TestKernel = boot();
    let [a, c] = k.threads(k.tcb.get().priority(), 2)[..] else {
        panic!()
    };
    fp_instruction(a);
    SimMachine::set_fpu(values(0xA00));
    let copies = SimMachine::fpu_copies();
    // a and c (which never uses FP) yield to each other, many times.
    crate::sched::enqueue(c);
    let mut ran = Vec::new();
    for _ in 0..10 {
        crate::api::handle_syscall(SYS_YIELD);
        assert!(Api::current_context().is_some());
        ran.push(kernel().current_tcb());
    }
    assert!(ran.contains(&Some(a)) && ran.contains(&Some(c)), "{ran:?}");
    assert_eq!(SimMachine::fpu_copies(), copies, "no FPU copy on a switch");
    assert_eq!(kernel().fpu_owner(), Some(a));
    assert!(usable(a) && !usable(c));
    assert_eq!(SimMachine::fpu(), values(0xA00));
}

#[test]
fn what_is_no_first_fp_instruction_is_a_fault() {
    let k = boot();
    let [a] = k.threads(255, 1)[..] else { panic!() };
    // Another exception than an illegal instruction.
    assert!(!handle_fpu_trap(a, 13));
    if !crate::config::HAVE_FPU {
        assert!(!handle_fpu_trap(a, ILLEGAL_INSTRUCTION));
        return;
    }
    // fpuDisabled: the instruction is a UserException, the FPU stays put.
    a.get().set_flags(TCB_FLAG_FPU_DISABLED);
    assert!(!handle_fpu_trap(a, ILLEGAL_INSTRUCTION));
    assert_eq!((kernel().fpu_owner(), SimMachine::fpu_copies()), (None, 0));
    a.get().set_flags(0);
    // A truly illegal instruction: the first trap gives a the FPU, the
    // second (FS now on) is the fault.
    assert!(handle_fpu_trap(a, ILLEGAL_INSTRUCTION));
    assert!(!handle_fpu_trap(a, ILLEGAL_INSTRUCTION));
    assert_eq!(SimMachine::fpu_copies(), 1);
    // Through the kernel entry: a gets its UserException fault.
    kernel().set_current(Some(a));
    Api::handle_exception(ILLEGAL_INSTRUCTION, 0);
    assert!(a.get().has_fault() || a.get().state() != crate::object::tcb::ThreadState::Running);
}

#[test]
fn suspend_releases_the_fpu_and_keeps_the_state() {
    if !crate::config::HAVE_FPU {
        return;
    }
    let k = boot();
    let [a, b] = k.threads(255, 2)[..] else {
        panic!()
    };
    fp_instruction(a);
    SimMachine::set_fpu(values(0xA00));
    crate::ipc::cancel::suspend(a);
    assert_eq!(kernel().fpu_owner(), None);
    assert_eq!(saved(a), values(0xA00), "saved into its TCB");
    assert!(!usable(a));
    // The next owner has nothing to save.
    let copies = SimMachine::fpu_copies();
    fp_instruction(b);
    assert_eq!(SimMachine::fpu_copies(), copies + 1);
    // Releasing a thread that does not own the FPU changes nothing.
    release(a);
    assert_eq!(kernel().fpu_owner(), Some(b));
    // Resumed, a finds its values again at its next FP instruction.
    fp_instruction(a);
    assert_eq!(SimMachine::fpu(), values(0xA00));
}

#[test]
fn a_deleted_thread_never_stays_the_owner() {
    if !crate::config::HAVE_FPU {
        return;
    }
    let k = boot();
    let slot = k.make(ObjectType::Tcb, 0, 1)[0];
    let crate::cap::Cap::Thread { tcb } = k.cap(slot) else {
        panic!()
    };
    let t = TcbRef::new(tcb);
    switch_owner(Some(t));
    assert_eq!(kernel().fpu_owner(), Some(t));
    kernel().set_current(Some(k.tcb));
    assert_eq!(k.call(init::CNODE, l::CNODE_DELETE, &[slot, 64], &[]), ok());
    assert_eq!(kernel().fpu_owner(), None, "no owner in freed memory");
    // The root thread's first FP instruction saves nothing anywhere.
    let copies = SimMachine::fpu_copies();
    fp_instruction(k.tcb);
    assert_eq!(SimMachine::fpu_copies(), copies + 1);
    assert_eq!(kernel().fpu_owner(), Some(k.tcb));
}

#[test]
fn changing_domain_releases_the_fpu() {
    if !crate::config::HAVE_FPU {
        return;
    }
    let k = boot();
    let [a] = k.threads(255, 1)[..] else { panic!() };
    fp_instruction(a);
    SimMachine::set_fpu(values(0xA00));
    kernel().set_current(Some(k.tcb));
    let slot = k.first_empty;
    let cap = crate::cap::Cap::Thread { tcb: a.paddr() };
    crate::cap::cte::insert_original(k.slot(slot), cap);
    let r = k.call(init::DOMAIN, l::DOMAIN_SET_SET, &[0], &[slot]);
    assert_eq!(r, ok());
    assert_eq!(kernel().fpu_owner(), None);
    assert_eq!(saved(a), values(0xA00));
}
