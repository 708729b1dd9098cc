//! Trap entry and exit (stvec, direct mode).
//!
//! Invariant: while a thread runs in U-mode, `sscratch` holds the kernel
//! pointer of its [`Registers`] (inside its TCB); while the kernel runs,
//! `sscratch` is 0 and `sstatus.SIE` is 0 (no interrupt traps in the
//! kernel). The entry keeps the pointer in `s1`, which a fastpath that
//! declines preserves (callee-saved), for the general path.
//!
//! Entry from U-mode saves x1..x31, `sepc` (into FaultIP and NextIP; NextIP
//! = sepc + 4 for `ecall`), `sstatus`, and for any trap but `ecall`
//! `scause` and `stval`; then it switches to the kernel stack and loads
//! the kernel's gp (the exit loads the user's back with x1..x31). A Call or
//! ReplyRecv first goes to `cairn_fastpath_call` or
//! `cairn_fastpath_reply_recv` ([`fastpath_trap`]), a function of its own
//! for each, with only that system call's code inlined: taken, it jumps
//! straight to `cairn_restore_context` for the thread it switched to.
//! Otherwise the vector calls `cairn_user_trap`, the binary's instance of
//! [`user_trap`] (see [`crate::machine_entry_points`]), which hands
//! exactly one event to the kernel and leaves through [`exit_to_user`]. A
//! trap with `sscratch` = 0 came from the kernel itself: a kernel bug,
//! reported by panicking.
//!
//! The FP registers are neither saved nor loaded here: they stay in the
//! hardware for the thread that owns the FPU, and `crate::fpu` moves them
//! (through `machine::fpu`) only when another thread traps on its first FP
//! instruction. The exit writes `sstatus` from the thread's saved word,
//! whose FS is Off unless the thread owns the FPU. The kernel target is
//! soft-float: no other kernel code touches the f registers.
#![allow(unsafe_code)]

use super::stack::{KERNEL_STACK, KERNEL_STACK_SIZE};
use super::{csr, plic, timer};
use crate::arch::riscv64::context::offset;
#[cfg(doc)]
use crate::arch::riscv64::context::Registers;
use crate::arch::{Kernel, Resume};

const SCAUSE_INTERRUPT: u64 = 1 << 63;
const SCAUSE_ECALL_U: u64 = 8;
const IRQ_S_TIMER: u64 = 5;
const IRQ_S_EXTERNAL: u64 = 9;

core::arch::global_asm!(
    r#"
    .pushsection .text.trap, "ax"
    .balign 4
    .globl cairn_trap_entry
cairn_trap_entry:
    // The register area in s1 (callee-saved: it survives a fastpath that
    // declines), the user's s1 in `sscratch` for a moment.
    csrrw s1, sscratch, s1
    beqz s1, .Lkernel_trap
    .irp n, 1,2,3,4,5,6,7,8,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd x\n, {x}+\n*8(s1)
    .endr
    // The user's s1 out of `sscratch`, which is 0 from here on, the
    // fastpath included (a trap there, a kernel bug, goes straight to
    // `.Lkernel_trap`).
    csrrw t1, sscratch, zero
    sd t1, {x}+9*8(s1)
    csrr t1, sepc
    sd t1, {fault_ip}(s1)
    csrr t4, sstatus
    sd t4, {sstatus}(s1)
    csrr t2, scause
    // The stack's top is page-aligned (`stack`): `lui` alone loads it.
    // So is the kernel's gp (kernel.ld), which its Rust code uses for
    // the kernel state: the user's is saved above, and the exit loads
    // it back with the rest. Not relaxed: `lld` would make either an
    // offset from gp, the one register not yet set.
    .option push
    .option norelax
    lui sp, %hi({stack} + {stack_size})
    lui gp, %hi(__global_pointer$)
    .option pop
    li t5, {ecall_u}
    bne t2, t5, 1f
    // An `ecall`: it continues after the instruction.
    addi t1, t1, 4
    sd t1, {next_ip}(s1)
    // The fastpath of Call (a7 = -1) and of ReplyRecv (-2), before any of
    // the general path's stack frame: taken, it restores the thread to
    // run itself; it returns only having changed nothing. Every user
    // register is in the TCB already, and a0 and a1 (the cap and the
    // message info) are still the user's, its arguments. `jal` (one
    // instruction: the kernel's text is far smaller than its 1 MiB
    // reach) rather than `call`.
    li t5, -1
    beq a7, t5, 5f
    li t5, -2
    bne a7, t5, 2f
    jal cairn_fastpath_reply_recv
    j 4f
5:  jal cairn_fastpath_call
    // Declined: s1 still holds the register area; a7 and t2 (scause)
    // are reloaded.
4:  ld a7, {x}+17*8(s1)
    li t2, {ecall_u}
    j 2f
    // An exception or interrupt: its cause and value are kept too. One
    // taken in supervisor mode (SPP) with `sscratch` not 0 could come
    // only from `cairn_restore_context`: a kernel bug.
1:  andi t5, t4, 0x100
    bnez t5, .Lkernel_trap
    sd t1, {next_ip}(s1)
    sd t2, {scause}(s1)
    csrr t3, stval
    sd t3, {stval}(s1)
    // An `ecall` passes no `stval` (a2): `user_trap` reads it only for
    // an exception.
2:  mv a0, s1
    mv a1, t2
    mv a2, t3
    mv a3, a7
    call cairn_user_trap
3:  j 3b

.Lkernel_trap:
    csrrw s1, sscratch, zero
    csrr a0, scause
    csrr a1, sepc
    csrr a2, stval
    .option push
    .option norelax
    lla sp, {stack} + {stack_size}
    lui gp, %hi(__global_pointer$)
    .option pop
    call {kernel_trap}
4:  j 4b

    // Resumes a thread (`resume`): a0 and a1 (its badge and message-info
    // registers) arrive in place, the kernel pointer of its registers in
    // a2. The saved `sstatus` is always fit for `sret` to user mode as it
    // is (SPP = 0, SIE = 0, SPIE = 1): a trap from user mode saves it so,
    // a new thread starts with `INITIAL_STATUS`, and the kernel changes
    // only its FS field (`fpu_status`); `context::tests` checks the
    // latter two.
    .globl cairn_restore_context
cairn_restore_context:
    ld t0, {next_ip}(a2)
    csrw sepc, t0
    ld t0, {sstatus}(a2)
    csrw sstatus, t0
    .irp n, 1,2,3,4,5,6,7,8,9,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld x\n, {x}+\n*8(a2)
    .endr
    csrw sscratch, a2
    ld a2, {x}+12*8(a2)
    sret
    .popsection
"#,
    x = const offset::X,
    fault_ip = const offset::FAULT_IP,
    next_ip = const offset::NEXT_IP,
    sstatus = const offset::SSTATUS,
    scause = const offset::SCAUSE,
    stval = const offset::STVAL,
    ecall_u = const SCAUSE_ECALL_U,
    stack = sym KERNEL_STACK,
    stack_size = const KERNEL_STACK_SIZE,
    kernel_trap = sym kernel_trap,
);

extern "C" {
    /// The trap vector (`stvec`, direct mode).
    pub fn cairn_trap_entry();
    /// Resumes the thread whose registers are at kernel pointer `kptr`,
    /// with `badge` and `info` in its badge and message-info registers
    /// (a0, a1) instead of their saved values.
    fn cairn_restore_context(badge: u64, info: u64, kptr: usize) -> !;
}

/// Handles one trap from U-mode (registers already saved at `_regs`) by
/// calling `K`, then resumes a thread.
#[inline(always)]
pub fn user_trap<K: Kernel>(_regs: usize, scause: u64, stval: u64, a7: u64) -> ! {
    if scause & SCAUSE_INTERRUPT != 0 {
        handle_interrupt::<K>(scause & !SCAUSE_INTERRUPT);
    } else if scause == SCAUSE_ECALL_U {
        // The trap vector has tried the fastpath (`fastpath_trap`).
        K::handle_syscall(a7 as i64);
    } else {
        K::handle_exception(scause, stval);
    }
    exit_to_user::<K>()
}

/// The fastpath of system call `no`, which the trap vector calls for a
/// Call or ReplyRecv before `user_trap` (with `no` a constant, so that
/// each gets only its own code), with the cap and message-info registers
/// as the trap found them: taken, it restores the thread the kernel names
/// at once and never returns; it returns having changed nothing
/// otherwise, and the vector goes on to `user_trap`. Its own small stack
/// frame: the general path's is never set up when the fastpath is taken.
#[inline(always)]
pub fn fastpath_trap<K: Kernel>(no: i64, cap_reg: u64, info_reg: u64) {
    // Taken: straight to the thread, without unwinding this frame.
    if let Some(r) = K::fastpath_syscall(no, cap_reg, info_reg) {
        resume(r);
    }
}

/// A trap taken while the kernel ran: always a kernel bug.
#[allow(
    clippy::panic,
    reason = "a trap in kernel mode is a kernel bug: the panic handler prints it \
              (KERNEL PANIC) and halts, as for any broken kernel invariant"
)]
extern "C" fn kernel_trap(scause: u64, sepc: u64, stval: u64) -> ! {
    use crate::console::Hex;
    // Printed before the panic line, without `core::fmt` (console.rs).
    kput!(
        "trap in kernel mode: scause ",
        Hex(scause),
        " sepc ",
        Hex(sepc),
        " stval ",
        Hex(stval),
        "\n"
    );
    panic!("trap in kernel mode")
}

/// Handles interrupt `cause` (the `scause` code without the interrupt bit).
fn handle_interrupt<K: Kernel>(cause: u64) {
    match cause {
        IRQ_S_TIMER => {
            let late = timer::lateness();
            // MCS: one-shot; the kernel programs the next deadline when it
            // leaves (a constant: the classic kernel is unchanged).
            if !crate::config::KERNEL_MCS {
                timer::arm_next_tick();
            }
            K::handle_timer_tick(late);
        }
        IRQ_S_EXTERNAL => {
            if let Some(irq) = plic::claim_and_complete() {
                K::handle_external_irq(irq);
            }
        }
        _ => {}
    }
}

/// Idles until an interrupt is pending, then handles one. `sstatus.SIE`
/// stays 0: an interrupt enabled in `sie` wakes `wfi` without trapping, and
/// is found by polling `sip`.
// Out of line: inlined into `exit_to_user` (as LTO does), its loop's
// registers make every kernel exit save and restore seven more.
#[inline(never)]
fn idle<K: Kernel>() {
    csr::wfi();
    let pending = csr::read_sip() & csr::read_sie();
    if pending & csr::IRQ_TIMER != 0 {
        handle_interrupt::<K>(IRQ_S_TIMER);
    } else if pending & csr::IRQ_EXTERNAL != 0 {
        handle_interrupt::<K>(IRQ_S_EXTERNAL);
    }
}

/// Leaves the kernel: resumes the thread `K::current_context` names,
/// idling while there is none.
pub fn exit_to_user<K: Kernel>() -> ! {
    loop {
        match K::current_context() {
            Some(r) => resume(r),
            None => idle::<K>(),
        }
    }
}

/// Resumes the thread `r` names, as `Kernel::current_context` or a
/// successful `Kernel::fastpath_syscall` names it.
#[inline(always)]
fn resume(r: Resume) -> ! {
    // SAFETY: both callers pass the kernel pointer of the `Registers` of
    // a runnable thread, inside a live TCB, whose VSpace is the current
    // one; the TCB stays alive until the next kernel entry, which is the
    // only code that uses `sscratch`.
    // A jump (`j`, one instruction: the text is far smaller than its
    // 1 MiB reach), where a call would take two (`auipc`, `jalr`).
    unsafe {
        core::arch::asm!(
            "j {restore}",
            restore = sym cairn_restore_context,
            in("a0") r.badge,
            in("a1") r.info,
            in("a2") r.regs,
            options(noreturn),
        )
    }
}
