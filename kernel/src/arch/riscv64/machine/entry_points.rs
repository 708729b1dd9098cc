//! How the kernel binary plugs the kernel into this machine layer
//! ([`machine_entry_points!`](crate::machine_entry_points)). Nothing in the
//! crate imports this file: the macro is invoked from `src/main.rs`.

/// Plugs a kernel (an [`arch::Kernel`](crate::arch::Kernel)) into the
/// RISC-V machine layer. It defines the functions that the assembly calls
/// by name, `cairn_boot_main` (from `_start`), `cairn_fastpath_call`,
/// `cairn_fastpath_reply_recv` and `cairn_user_trap` (from the trap
/// vector), as the machine layer's [`boot_main`], [`fastpath_trap`] (for
/// Call and for ReplyRecv) and [`user_trap`] for that kernel.
/// The kernel binary invokes it once; a build that forgets it fails to
/// link.
#[macro_export]
macro_rules! machine_entry_points {
    ($kernel:ty) => {
        // `no_mangle`: the assembly names these symbols; each is defined
        // once, here, with the C signature the assembly calls.
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn cairn_boot_main(hart: u64, dtb_pa: u64) -> ! {
            $crate::arch::boot_main::<$kernel>(hart, dtb_pa)
        }
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn cairn_user_trap(regs: usize, scause: u64, stval: u64, a7: u64) -> ! {
            $crate::arch::user_trap::<$kernel>(regs, scause, stval, a7)
        }
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn cairn_fastpath_call(cap_reg: u64, info_reg: u64) {
            $crate::arch::fastpath_trap::<$kernel>(cairn_abi::syscall::SYS_CALL, cap_reg, info_reg)
        }
        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn cairn_fastpath_reply_recv(cap_reg: u64, info_reg: u64) {
            $crate::arch::fastpath_trap::<$kernel>(
                cairn_abi::syscall::SYS_REPLY_RECV,
                cap_reg,
                info_reg,
            )
        }
    };
}
