//! `cairn-loader`: the root task of a system image. It reads the spec
//! built into it (`cairn_system::boot`'s format, checked whole by
//! `cairn_loader::Spec::parse` first), creates every object from the
//! untyped memory in bootinfo (largest first), maps page tables and
//! frames (filled from the programs), fills the PDs' CNodes, binds IRQs,
//! configures and starts the threads, deletes the caps it no longer needs
//! and suspends itself. See docs/system.md, "The loader".
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

mod create;
mod untyped;

use cairn_loader::Spec;
use cairn_rt::println;
use sel4::BootInfo;

/// The system, embedded by build.rs.
static SYSTEM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/system.bin"));

fn main(bootinfo: &BootInfo) {
    let spec = match Spec::parse(SYSTEM) {
        Ok(s) => s,
        Err(e) => {
            println!("cairn-loader: bad system spec: {e:?}");
            sel4::debug::halt();
        }
    };
    if spec.verbose {
        // For the boot cost's figure (docs/system.md): under -icount the
        // cycle counter counts instructions. Read only here, so that a
        // kernel without user access to it is no problem otherwise.
        println!(
            "cairn-loader: input checked at cycle {}",
            sel4::benchmark::cycles()
        );
    }
    if let Err(e) = create::create(&spec, bootinfo) {
        if spec.debug {
            println!("cairn-loader: {e}");
            sel4::debug::halt();
        }
        // A kernel without debug system calls can neither print nor
        // halt: the loader stops here (a failure the system's silence
        // shows).
    }
    if spec.verbose {
        println!("cairn-loader: system started, loader suspends itself");
    }
    // Nothing resumes the loader; should the call fail, it waits for good.
    let _ = sel4::Tcb(sel4::CPtr(sel4::init::TCB)).suspend();
    loop {
        sel4::syscall::yield_now();
    }
}

cairn_rt::entry!(main);
