//! The architecture boundary.
//!
//! Everything above this module is plain Rust that builds for both the
//! bare-metal target and the host. The machine layer is chosen at build time:
//!
//! * `riscv64::machine` on `riscv64gc-unknown-none-elf`: boot (`_start`),
//!   trap entry/exit, CSRs, SBI, device-tree parsing, the kernel window,
//!   timer and PLIC.
//! * `host` everywhere else: a simulated machine whose "physical memory" is a
//!   heap buffer, so that `cargo test` can run boot-time object creation,
//!   capability and scheduling code.
//!
//! Both provide the same items (the machine interface):
//!
//! | item | meaning |
//! |---|---|
//! | `paddr_to_kptr(PAddr) -> usize` | kernel virtual address of a physical address |
//! | `paddr_range_to_kptr(PAddr, len) -> usize` | the same for a range about to be used (the host checks its end and records its pages as touched) |
//! | `kptr_to_paddr(usize) -> PAddr` | the inverse |
//! | `console_putchar(u8)` | kernel console output |
//! | `halt(success: bool) -> !` | power off (QEMU exits; status 0 on success) |
//! | `set_vspace(w: VSpaceWord)` | switch the user address space (satp with the ASID; no TLB flush if the MMU keeps all ASID bits) |
//! | `sfence_vma_all()` | flush the TLB |
//! | `sfence_vma_page(vaddr, asid)` | flush one page of one address space (a leaf entry changed) |
//! | `sfence_vma_asid(asid)` | flush one address space (a table entry changed, or the ASID was released) |
//! | `fpu_save(&regs)`, `fpu_load(&regs)` | copy the FPU registers (f0..f31, fcsr) into / out of a thread's saved `Registers` (`crate::fpu`) |
//! | `kernel_vspace_root() -> PAddr` | the kernel's own root table (no user mappings), for threads without a valid VSpace |
//! | `interrupt_pending() -> bool` | an enabled interrupt is pending (preemption points poll it) |
//! | `irq_set_masked(irq, masked)` | mask or unmask an interrupt line (PLIC) |
//! | `timebase_hz() -> u64` | frequency of the `time` counter (for benchmark figures and µs ↔ ticks) |
//! | `now() -> u64` | the `time` counter (RISC-V `rdtime`; settable on the host: `SimMachine::set_time`), the MCS kernel's clock |
//! | `set_deadline(u64)` | MCS: programs the one-shot timer for that `time` value (`u64::MAX`: never), clearing a pending timer interrupt: Sstc `stimecmp` or SBI set_timer; recorded on the host (`SimMachine::deadline`) |
//! | `cycles() -> u64` | the cycle counter (instructions under icount; 0 on the host), for benchmark figures |
//! | `exception_fault(scause, stval) -> Fault` | the fault a synchronous user exception raises |
//! | `kernel_global_pte(index) -> u64` | the kernel's root-table entry `index` (256..512), copied into every VSpace root |
//! | `read_word(PAddr)`, `write_word(PAddr, u64)` | one word of physical memory (`phys.rs`, built on `paddr_to_kptr`) |
//!
//! The chosen architecture's portable formats build on the host as well
//! (the host simulates RISC-V 64), and generic code uses them only under
//! the neutral names re-exported here:
//!
//! | item | meaning |
//! |---|---|
//! | `Registers` | a thread's saved registers, as laid out in its TCB |
//! | `CAP_REGISTER`, `BADGE_REGISTER`, `MSG_INFO_REGISTER`, `MSG_REGISTERS` | IPC registers (ABI ref §5) |
//! | `FAULT_IP`, `NEXT_IP`, `TLS_BASE_REGISTER`, `STATUS_REGISTER` | other saved words with a role |
//! | `SYSCALL_MESSAGE`, `EXCEPTION_MESSAGE` | registers of fault messages and their replies (ABI ref §9) |
//! | `USER_CONTEXT` | `seL4_UserContext` order (ABI ref §10) |
//! | `INITIAL_STATUS`, `fpu_status`, `fpu_enabled`, `may_be_fpu_trap` | a new thread's status word; whether the FPU is usable; the trap of a thread without it |
//! | `REGISTER_WORDS`, `FPU_FIRST_WORD`, `FPU_WORDS` | the size of `Registers`, where its FPU state lies |
//! | `vspace` | the page-table entry format and walks |
//!
//! Registers are word indices into `Registers`, read and written with
//! `Tcb::reg`/`set_reg`. Adding an architecture is a folder beside
//! `riscv64` with the same items and a `cfg` on the one `use ... as target`
//! line below; nothing outside `arch/` names an architecture.
//!
//! Upward, the machine layer calls the kernel only through the [`Kernel`]
//! trait (`kernel.rs`): boot once, one handler per event, then the context
//! to resume. It never names a module above `arch`.

mod kernel;
mod phys;
mod riscv64;
use riscv64 as target;

pub use kernel::{BootParams, Kernel, Resume, MAX_REGIONS};
pub use phys::{read_word, write_word};

#[cfg(not(target_os = "none"))]
pub mod host;
#[cfg(not(target_os = "none"))]
pub use host::*;

#[cfg(target_os = "none")]
pub use target::machine::*;

pub use target::context::roles::*;
pub use target::context::{
    fpu_enabled, fpu_status, may_be_fpu_trap, Registers, FPU_FIRST_WORD, FPU_WORDS, INITIAL_STATUS,
    REGISTER_WORDS,
};
pub use target::fault::exception_fault;
/// The platform description and its two sources (the DTB parse, the
/// build's table); built for the host too, for the test that they agree.
pub use target::platform;
pub use target::vspace;
