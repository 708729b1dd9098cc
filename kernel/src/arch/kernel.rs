//! The kernel as the machine layer sees it: the one interface through which
//! the bare-metal code calls upward.
//!
//! The machine layer owns the trap vector and the boot code, but the
//! kernel's logic lives above it. Instead of naming that logic, the trap
//! and boot code are generic over a [`Kernel`]; the kernel binary
//! (`src/main.rs`) names the implementation (`api::Api`) once, when it
//! plugs it into the machine layer. Dispatch is static: every call below
//! is resolved at compile time and inlined where the compiler sees fit, so
//! the seam costs nothing at run time.
//!
//! One kernel entry is: exactly one `handle_*` call for the event that
//! trapped, then [`Kernel::current_context`] to find what to resume.

use crate::types::Region;
use cairn_abi::image::ImageHeader;

/// Most memory regions of any kind a platform description may hold.
pub const MAX_REGIONS: usize = 16;

/// What the machine layer learnt at boot, in physical addresses: the input
/// of [`Kernel::boot`].
#[derive(Clone, Debug)]
pub struct BootParams<'a> {
    /// Usable RAM: the device tree's memory nodes minus `no-map`
    /// reserved-memory regions (e.g. OpenSBI's). Sorted, disjoint.
    pub ram: &'a [Region],
    /// RAM already in use that must not become untyped memory: the kernel
    /// image with the boot image header and user image
    /// (`[KERNEL_PHYS_BASE, image end)`), and the DTB. May overlap each other.
    pub reserved: &'a [Region],
    /// Device ranges the kernel keeps for itself (PLIC, CLINT), already
    /// rounded to 2 MiB as seL4 does: excluded from device untypeds.
    pub kernel_devices: &'a [Region],
    /// The boot image header (already validated by the machine layer),
    /// where the image holds it: boot reads a few fields, no copy.
    pub header: &'a ImageHeader,
    /// Physical address of the flat user image (header address + user_offset).
    pub user_image_paddr: u64,
    /// The device tree blob, copied to the root task as extra bootinfo.
    pub dtb: Option<Region>,
    /// RAM holding code that only boot runs (the kernel's `.boot`
    /// section, `[KERNEL_PHYS_BASE, __boot_end)`), inside a reserved
    /// region: never allocated from, it becomes the root task's untyped
    /// memory after the device untypeds, as seL4 recycles its boot code
    /// (ABI ref §6.6). Empty if there is none.
    pub boot_reuse: Region,
}

/// The thread to resume at kernel exit: its saved registers, except its
/// badge and message-info registers, whose values come here. A taken
/// fastpath hands them over instead of writing them into the TCB (seL4's
/// `fastpath_restore`; the copy in the TCB is stale until the thread next
/// enters the kernel, which saves every register again); the general
/// exit passes the saved ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    /// Kernel pointer of the thread's saved registers.
    pub regs: usize,
    /// Its badge register's new value.
    pub badge: u64,
    /// Its message-info register's new value.
    pub info: u64,
}

/// The kernel above the machine layer. Every function runs on the kernel
/// stack with interrupts masked, after the current thread's registers have
/// been saved into its TCB.
pub trait Kernel {
    /// Why [`Kernel::boot`] failed (printed before the machine halts).
    /// Printed as its message, without `core::fmt` (console.rs).
    type BootError: Into<&'static str>;

    /// Creates the root task from what the machine found and makes it the
    /// thread to run. Called once.
    fn boot(params: &BootParams) -> Result<(), Self::BootError>;

    /// The current thread made system call `number` (`ecall`) with
    /// `cap_reg` and `info_reg` in its cap and message-info registers (as
    /// the trap found them; they are saved in its TCB too): first tried
    /// here. `Some`: done entirely; resume at once the thread the
    /// [`Resume`] names (the current thread, its address space installed,
    /// no scheduling pending), without [`Kernel::current_context`]. `None`:
    /// nothing changed, call [`Kernel::handle_syscall`].
    fn fastpath_syscall(number: i64, cap_reg: u64, info_reg: u64) -> Option<Resume>;

    /// The current thread made system call `number` (`ecall`), which
    /// [`Kernel::fastpath_syscall`] declined.
    fn handle_syscall(number: i64);

    /// The current thread took a synchronous exception other than `ecall`
    /// (`scause`, `stval`).
    fn handle_exception(scause: u64, stval: u64);

    /// The kernel timer fired, `late` timebase units after its deadline (the
    /// machine layer has already programmed the next tick).
    fn handle_timer_tick(late: u64);

    /// External interrupt `irq` arrived (already claimed and completed).
    fn handle_external_irq(irq: u32);

    /// At kernel exit: the thread to resume (its saved registers, and the
    /// saved values of its badge and message-info registers), its address
    /// space installed; `None` to idle.
    fn current_context() -> Option<Resume>;
}
