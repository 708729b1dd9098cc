//! Lazy FPU switching (seL4's FPU ownership under `CONFIG_HAVE_FPU`).
//!
//! The FPU registers hold the FP state (f0..f31, fcsr) of at most one
//! thread, the owner ([`KernelState::fpu_owner`]); every other thread's
//! FP state is in its TCB (`Registers::f`, `fcsr`). Only the owner runs
//! with the FPU usable (`sstatus.FS` on). Any other thread's first FP
//! instruction traps as an illegal instruction; [`handle_fpu_trap`] then
//! stores the owner's registers into its TCB, loads the trapping thread's
//! and lets the instruction run again. So a thread that never uses the
//! FPU costs nothing, a thread switch costs nothing, and the FP state
//! moves only when the FPU changes hands.
//!
//! Invariants:
//!
//! * a thread's saved status word has FS on exactly when it is the owner
//!   and its `seL4_TCBFlag_fpuDisabled` is clear ([`refresh`]);
//! * the owner is a live thread: [`release`] runs when a thread is
//!   suspended, which deleting a TCB always does first (`cap::finalise`),
//!   and when it moves to another domain (as seL4's `prepareSetDomain`).
//!   It stores the state into the thread's TCB, so a suspended thread
//!   keeps its values and the FPU never points to freed memory.
//!
//! Nothing user space can read shows the difference: seL4's
//! `TCB_ReadRegisters`/`WriteRegisters`/`CopyRegisters` do not include
//! the FP registers.
//!
//! [`KernelState::fpu_owner`]: crate::state::KernelState::fpu_owner

use crate::arch::{self, fpu_status, may_be_fpu_trap, STATUS_REGISTER};
use crate::object::tcb::{Tcb, TcbRef};
use crate::state::kernel;
use cairn_abi::invocation::TCB_FLAG_FPU_DISABLED;

/// Whether `t` may use the FPU now: it owns it and its
/// `seL4_TCBFlag_fpuDisabled` is clear.
fn usable(t: TcbRef) -> bool {
    kernel().fpu_owner() == Some(t) && t.get().flags() & TCB_FLAG_FPU_DISABLED == 0
}

/// Brings `t`'s saved status word in line with the first invariant (after
/// its ownership or its flags changed).
pub fn refresh(t: TcbRef) {
    let tcb: &Tcb = t.get();
    tcb.set_reg(
        STATUS_REGISTER,
        fpu_status(tcb.reg(STATUS_REGISTER), usable(t)),
    );
}

/// Moves the FPU to `new` (none: no owner): the old owner's registers go
/// into its TCB, `new`'s come out of its own (seL4's `switchLocalFpuOwner`).
/// Out of line: the first FP instruction's trap and [`release`] share it.
#[inline(never)]
pub fn switch_owner(new: Option<TcbRef>) {
    let k = kernel();
    let old = k.fpu_owner();
    if old == new {
        return;
    }
    k.set_fpu_owner(new);
    if let Some(o) = old {
        arch::fpu_save(o.get().regs());
        refresh(o);
    }
    if let Some(n) = new {
        arch::fpu_load(n.get().regs());
        refresh(n);
    }
}

/// An exception `scause` of thread `t` that may be its first FP
/// instruction without the FPU: gives `t` the FPU and returns true, so
/// that the instruction runs again (its NextIP is still the instruction:
/// only `ecall` advances it). False (a fault for `t`'s handler) if the
/// exception is something else, if `t`'s FPU is disabled, or if `t`
/// already had the FPU (a truly illegal instruction: after a first trap
/// gave it the FPU, the same instruction traps again and lands here).
pub fn handle_fpu_trap(t: TcbRef, scause: u64) -> bool {
    let tcb = t.get();
    if !may_be_fpu_trap(scause, tcb.reg(STATUS_REGISTER))
        || tcb.flags() & TCB_FLAG_FPU_DISABLED != 0
    {
        return false;
    }
    switch_owner(Some(t));
    refresh(t);
    true
}

/// Takes the FPU away from `t` if it owns it, keeping its state in its
/// TCB (seL4's `fpuRelease`): before `t` is suspended or deleted, or
/// moves to another domain. Out of line: Suspend and SetDomain, both
/// rare, share one copy.
#[inline(never)]
pub fn release(t: TcbRef) {
    if kernel().fpu_owner() == Some(t) {
        switch_owner(None);
    }
}

#[cfg(test)]
mod tests;
