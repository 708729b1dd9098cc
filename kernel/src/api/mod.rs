//! The top of the kernel: what each kernel entry does. The machine layer
//! calls [`Api`] through the `arch::Kernel` interface (plugged in by the
//! kernel binary, `src/main.rs`): one `handle_*` per entry, after saving the
//! current thread's registers into its TCB, then `current_context` for the
//! thread to resume. Nothing in the kernel imports this module.

pub mod fastpath;
pub mod invoke;
pub mod operation;
pub mod rare;
pub mod recv;
pub mod syscall;

#[cfg(test)]
mod tests_decode;
#[cfg(test)]
#[cfg(not(feature = "mcs"))]
mod tests_fuzz;

/// One system call as the machine layer makes it: the fastpath, else the
/// general path (the host tests' entry; on the machine the two are the
/// separate [`Kernel`] calls, so that the fastpath can leave at once).
pub fn handle_syscall(no: i64) {
    // The fastpath first, as the machine's trap vector tries it: under MCS
    // before the entry reads the clock (the fastpath charges nothing).
    if fastpath::syscall(no).is_some() {
        return;
    }
    if mcs_entry(true) {
        syscall::handle_syscall(no);
    }
}

/// MCS: every kernel entry reads the clock and charges the running
/// scheduling context if it has run out (`sched::mcs::entry`); a system
/// call or exception of the thread (`restart`) on an exhausted budget is
/// not handled (false: the thread makes the call or runs the instruction
/// again when it next runs; seL4's `MCS_DO_IF_BUDGET`). A thread with a
/// timeout handler is sent a timeout fault instead (seL4's
/// `endTimeslice` → `handleTimeout`): sent from here, the top layer,
/// because the scheduler that finds it out sits below IPC. Always true in
/// the classic kernel (a constant: nothing is added to its paths).
#[inline(always)]
fn mcs_entry(_restart: bool) -> bool {
    #[cfg(feature = "mcs")]
    {
        use crate::sched::mcs::Budget;
        match crate::sched::mcs::entry() {
            Budget::Left => {}
            Budget::Exhausted => {
                if _restart {
                    crate::sched::mcs::restart_current();
                }
                return !_restart;
            }
            Budget::TimeoutFault(t) => {
                // The thread is blocked on the handler; if the handler cap
                // went meanwhile (it cannot within one entry), it waits
                // for its budget as any thread.
                if !crate::ipc::fault::send_timeout_fault(t) {
                    crate::sched::mcs::end_timeslice(t);
                    if _restart {
                        crate::sched::mcs::restart_current();
                    }
                }
                return !_restart;
            }
        }
    }
    true
}

/// MCS: `object::sched_context::complete_yield_to`, out of line and
/// cold: inlined into the kernel's exit, its registers made every exit
/// save eight callee-saved registers it never restores (the exit jumps
/// to the trap return), about ten instructions each (docs/benchmarks.md,
/// "IRQ to its handler").
#[cfg(feature = "mcs")]
#[cold]
#[inline(never)]
fn complete_yield_to(tcb: crate::object::tcb::TcbRef) {
    crate::object::sched_context::complete_yield_to(tcb);
}

use crate::arch::{BootParams, Kernel, Resume};
use crate::boot::BootError;

/// The kernel's implementation of the machine layer's upward interface.
pub enum Api {}

impl Kernel for Api {
    type BootError = BootError;

    fn boot(params: &BootParams) -> Result<(), BootError> {
        crate::boot::boot_root_task(params)?;
        #[cfg(feature = "mcs")]
        crate::sched::mcs::start_clock();
        Ok(())
    }

    #[inline(always)]
    fn fastpath_syscall(number: i64, cap_reg: u64, info_reg: u64) -> Option<Resume> {
        // Classic or MCS (`api::fastpath`): tried before the general
        // path's kernel entry, which under MCS reads the clock.
        match number {
            cairn_abi::syscall::SYS_CALL => fastpath::try_ipc(true, cap_reg, info_reg),
            cairn_abi::syscall::SYS_REPLY_RECV => fastpath::try_ipc(false, cap_reg, info_reg),
            _ => None,
        }
    }

    #[inline]
    fn handle_syscall(number: i64) {
        if mcs_entry(true) {
            syscall::handle_syscall(number)
        }
    }

    /// A synchronous exception from user mode other than `ecall`
    /// (`scause` < 64 and ≠ 8): the first FP instruction of a thread that
    /// does not own the FPU (`fpu`: it gets the FPU and runs the
    /// instruction again), else a VM fault or a user exception (ABI ref §9).
    fn handle_exception(scause: u64, stval: u64) {
        if !mcs_entry(true) {
            return;
        }
        if let Some(tcb) = crate::state::kernel().current_tcb() {
            if !crate::fpu::handle_fpu_trap(tcb, scause) {
                crate::ipc::fault::handle_fault(tcb, crate::arch::exception_fault(scause, stval));
            }
        }
    }

    #[inline]
    fn handle_timer_tick(late: u64) {
        crate::state::kernel().record_timer_latency(late);
        // MCS: no tick; the entry charges, the exit reprograms.
        #[cfg(feature = "mcs")]
        {
            mcs_entry(false);
            crate::sched::mcs::timer_interrupt();
        }
        #[cfg(not(feature = "mcs"))]
        crate::sched::timer_tick();
    }

    #[inline]
    fn handle_external_irq(irq: u32) {
        mcs_entry(false);
        crate::object::irq::handle_interrupt(irq);
    }

    /// Resolves any pending scheduling decision (`sched::schedule`), and
    /// switches the address space if the thread changed.
    #[inline]
    fn current_context() -> Option<Resume> {
        let tcb = crate::sched::schedule()?;
        // MCS: a thread that yielded to a SchedContext is told now what
        // that context consumed meanwhile (seL4's `activateThread`).
        #[cfg(feature = "mcs")]
        if tcb.get().yield_to().is_some() {
            complete_yield_to(tcb);
        }
        crate::sched::activate_thread(tcb);
        let t = tcb.get();
        Some(Resume {
            regs: t.regs_kptr(),
            badge: t.reg(crate::arch::BADGE_REGISTER),
            info: t.reg(crate::arch::MSG_INFO_REGISTER),
        })
    }
}
