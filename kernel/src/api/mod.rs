//! Kernel entry points above the architecture: the machine layer's trap
//! handler calls exactly one of the `handle_*` functions per kernel entry,
//! after saving the current thread's registers into its TCB, and then
//! resumes whatever [`crate::state::current_context`] names.

pub mod fastpath;
pub mod invoke;
pub mod operation;
pub mod recv;
pub mod syscall;

#[cfg(test)]
mod tests_decode;
#[cfg(test)]
mod tests_fuzz;

pub use syscall::handle_syscall;

/// A synchronous exception from user mode other than `ecall`
/// (`scause` < 64 and ≠ 8): a VM fault or a user exception (ABI ref §9).
pub fn handle_exception(scause: u64, stval: u64) {
    if let Some(tcb) = crate::state::kernel().current_tcb() {
        crate::ipc::fault::handle_fault(tcb, crate::arch::exception_fault(scause, stval));
    }
}

/// The kernel timer fired, `late` timebase units after its deadline (the
/// machine layer has already programmed the next tick).
pub fn handle_timer_tick(late: u64) {
    crate::bench::record_timer_latency(late);
    crate::sched::timer_tick();
}

/// The PLIC delivered external interrupt `irq` (already claimed and
/// completed by the machine layer).
pub fn handle_external_irq(irq: u32) {
    crate::object::irq::handle_interrupt(irq);
}
