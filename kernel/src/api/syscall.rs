//! System call dispatch (ABI ref §1, §2, §14).
//!
//! Implemented so far: `seL4_Yield` and the debug syscalls. The IPC and
//! invocation syscalls arrive with the capability and IPC issues; until then
//! they, unknown syscall numbers and user exceptions stop the thread with a
//! message, which is what seL4 does to a thread that has no fault handler.

use crate::arch::riscv64::context::reg;
use crate::cap::lookup::lookup_cap;
use crate::object::tcb::{Tcb, TcbRef, ThreadState, NAME_LEN, TCB_BUFFER, TCB_CTABLE};
use crate::state::kernel;
use crate::{arch, config, sched};
use cairn_abi::syscall::*;

/// Handles the `ecall` of the running thread; `no` is its `a7`. The machine
/// layer has saved the registers and set NextIP past the `ecall`.
pub fn handle_syscall(no: i64) {
    let Some(tcb) = kernel().current_tcb() else { return };
    let t = tcb.get();
    match no {
        SYS_YIELD => sched::yield_current(),
        SYS_DEBUG_PUT_CHAR if config::DEBUG_BUILD => arch::console_putchar(t.reg(reg::A0) as u8),
        SYS_DEBUG_HALT if config::DEBUG_BUILD => {
            let mut name = [0u8; NAME_LEN];
            let len = t.name(&mut name);
            kprintln!(
                "Debug halt syscall from user thread {:#x} \"{}\"",
                tcb.paddr().0,
                core::str::from_utf8(name.get(..len).unwrap_or(&[])).unwrap_or("?")
            );
            arch::halt(true);
        }
        SYS_DEBUG_CAP_IDENTIFY if config::DEBUG_BUILD => {
            let tag = lookup_in_own_cspace(tcb, t.reg(reg::A0)).map_or(0, |c| c.tag());
            t.set_reg(reg::A0, tag);
        }
        SYS_DEBUG_NAME_THREAD if config::DEBUG_BUILD => debug_name_thread(tcb),
        SYS_DEBUG_DUMP_SCHEDULER if config::DEBUG_BUILD => dump_scheduler(),
        SYS_DEBUG_SNAPSHOT if config::DEBUG_BUILD => {}
        SYSCALL_MIN..=-1 => stop_thread(tcb, "system call not implemented yet", no as u64, 0),
        _ => stop_thread(tcb, "unknown syscall", no as u64, 0),
    }
}

/// A synchronous exception other than `ecall` from the running thread.
pub fn handle_user_exception(scause: u64, stval: u64) {
    let Some(tcb) = kernel().current_tcb() else { return };
    let what = match scause {
        1 | 12 => "instruction fetch fault",
        5 | 13 => "load fault",
        7 | 15 => "store fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        0 | 4 | 6 => "misaligned access",
        _ => "user exception",
    };
    stop_thread(tcb, what, scause, stval);
}

/// Looks `cptr` up at full depth in the thread's own CSpace.
fn lookup_in_own_cspace(tcb: TcbRef, cptr: u64) -> Option<crate::cap::Cap> {
    let root = Tcb::slot(tcb, TCB_CTABLE).get().cap();
    lookup_cap(root, cptr).ok().map(|(_, c)| c)
}

/// Stops a thread that faulted while fault delivery does not exist yet
/// (what seL4 does to a thread without a fault handler): it becomes
/// Inactive and the kernel says why.
fn stop_thread(tcb: TcbRef, what: &str, code: u64, addr: u64) {
    let t = tcb.get();
    let mut name = [0u8; NAME_LEN];
    let len = t.name(&mut name);
    kprintln!(
        "cairn: thread {:#x} \"{}\": {} ({:#x}, addr {:#x}) at pc {:#x}; no fault handler, thread suspended",
        tcb.paddr().0,
        core::str::from_utf8(name.get(..len).unwrap_or(&[])).unwrap_or("?"),
        what,
        code,
        addr,
        t.fault_ip()
    );
    suspend(tcb);
}

/// Makes a thread Inactive and takes it off the ready queues.
pub fn suspend(tcb: TcbRef) {
    tcb.get().set_state(ThreadState::Inactive);
    kernel().ready.dequeue(tcb);
    kernel().reschedule.set(true);
}

/// `seL4_DebugNameThread`: a0 = TCB cptr; the name is a NUL-terminated
/// string at the caller's IPC buffer `msg[0]`. Bad arguments are reported
/// and ignored (seL4 halts the kernel instead).
fn debug_name_thread(caller: TcbRef) {
    let c = caller.get();
    let Some(crate::cap::Cap::Thread { tcb: target }) = lookup_in_own_cspace(caller, c.reg(reg::A0)) else {
        kprintln!("cairn: DebugNameThread: cap is not a TCB; ignored");
        return;
    };
    let Some(buf) = ipc_buffer_paddr(caller) else {
        kprintln!("cairn: DebugNameThread: caller has no IPC buffer; ignored");
        return;
    };
    let mut name = [0u8; NAME_LEN];
    let mut raw = [0u8; 960];
    crate::object::access::copy_out(buf.add(8), &mut raw);
    let Some(len) = raw.iter().position(|&b| b == 0) else {
        kprintln!("cairn: DebugNameThread: name not NUL-terminated; ignored");
        return;
    };
    let n = len.min(NAME_LEN - 1);
    name[..n].copy_from_slice(&raw[..n]);
    TcbRef::new(target).get().set_name(&name[..n]);
}

/// Physical address of a thread's IPC buffer, through the frame cap in its
/// TCB (ABI ref §3): absent if the cap is missing or a device frame.
pub fn ipc_buffer_paddr(tcb: TcbRef) -> Option<crate::types::PAddr> {
    match Tcb::slot(tcb, TCB_BUFFER).get().cap() {
        crate::cap::Cap::Frame { base, size, is_device: false, .. } => {
            let off = tcb.get().ipc_buffer() & ((1u64 << size.bits()) - 1);
            Some(base.add(off))
        }
        _ => None,
    }
}

fn dump_scheduler() {
    let k = kernel();
    kprintln!("cairn: scheduler: current {:#x}, highest ready priority {:?}", k.current.get(), k.ready.highest_priority());
}
