//! System call dispatch (ABI ref §1, §2, §14).
//!
//! Implemented: every classic system call (Call, Send and NBSend invoke a
//! capability, `api::invoke`; Recv, NBRecv, Reply and ReplyRecv are in
//! `api::recv`), `seL4_Yield`; under MCS, Call, Send, NBSend, Recv, NBRecv,
//! Wait, NBWait, ReplyRecv, NBSendRecv and NBSendWait (not yet Yield), the debug syscalls (debug builds) and, in the benchmark
//! configuration, seL4's generic benchmark syscalls (NullSyscall,
//! FlushCaches, ResetLog, FinalizeLog; see `bench`). Any other number is
//! an UnknownSyscall fault.

use super::invoke::handle_invocation;
#[cfg(feature = "mcs")]
use super::invoke::handle_send_phase;
use super::recv::handle_recv;
#[cfg(not(feature = "mcs"))]
use super::recv::handle_reply;
#[cfg(feature = "mcs")]
use super::recv::{handle_reply_recv, ReplyArg};
use crate::arch::CAP_REGISTER;
use crate::cap::lookup::lookup_cap_rare;
use crate::cap::Cap;
use crate::ipc::fault::handle_fault;
use crate::ipc::message::ipc_buffer;
use crate::object::tcb::{Tcb, TcbRef, NAME_LEN, TCB_CTABLE};
use crate::state::kernel;
use crate::types::Fault;
use crate::{arch, config, sched};
use cairn_abi::syscall::*;

/// Handles the system call of the running thread on the general path
/// (the fastpath, `api::fastpath`, has declined it); `no` is its syscall
/// number. The machine layer has saved the registers and set NextIP past
/// the trapping instruction. Inlined into the trap handler, as it was
/// before the fastpath moved out of it.
#[inline(always)]
pub fn handle_syscall(no: i64) {
    let Some(tcb) = kernel().current_tcb() else {
        return;
    };
    let t = tcb.get();
    match no {
        SYS_CALL => handle_invocation(tcb, true, true),
        SYS_SEND => handle_invocation(tcb, false, true),
        SYS_NB_SEND => handle_invocation(tcb, false, false),
        #[cfg(not(feature = "mcs"))]
        SYS_RECV => handle_recv(tcb, true),
        #[cfg(not(feature = "mcs"))]
        SYS_NB_RECV => handle_recv(tcb, false),
        #[cfg(not(feature = "mcs"))]
        SYS_REPLY => handle_reply(tcb),
        #[cfg(not(feature = "mcs"))]
        SYS_REPLY_RECV => {
            handle_reply(tcb);
            handle_recv(tcb, true);
        }
        // MCS (ABI ref §13; seL4's MCS `handleSyscall`): receives take a
        // reply object (Recv, NBRecv) or none (Wait, NBWait); the combined
        // syscalls first send (`handle_send_phase`: to the reply object in
        // a6, to t0, to a6) and receive only if that was not preempted.
        #[cfg(feature = "mcs")]
        SYS_RECV => handle_recv(tcb, true, ReplyArg::Lookup),
        #[cfg(feature = "mcs")]
        SYS_NB_RECV => handle_recv(tcb, false, ReplyArg::Lookup),
        #[cfg(feature = "mcs")]
        SYS_WAIT => handle_recv(tcb, true, ReplyArg::None),
        #[cfg(feature = "mcs")]
        SYS_NB_WAIT => handle_recv(tcb, false, ReplyArg::None),
        // The send phase to a reply object, then the receive with it.
        #[cfg(feature = "mcs")]
        SYS_REPLY_RECV => handle_reply_recv(tcb),
        #[cfg(feature = "mcs")]
        SYS_NB_SEND_RECV => {
            if handle_send_phase(tcb, t.reg(arch::NB_SEND_RECV_DEST)).is_ok() {
                handle_recv(tcb, true, ReplyArg::Lookup);
            }
        }
        #[cfg(feature = "mcs")]
        SYS_NB_SEND_WAIT => {
            if handle_send_phase(tcb, t.reg(arch::REPLY_REGISTER)).is_ok() {
                handle_recv(tcb, true, ReplyArg::None);
            }
        }
        // MCS: gives up the head refill (`sched::mcs::yield_current`).
        SYS_YIELD => sched::yield_current(),
        SYS_DEBUG_PUT_CHAR if config::DEBUG_BUILD => {
            arch::console_putchar(t.reg(CAP_REGISTER) as u8)
        }
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
            let tag = lookup_in_own_cspace(tcb, t.reg(CAP_REGISTER)).map_or(0, |c| c.tag());
            t.set_reg(CAP_REGISTER, tag);
        }
        SYS_DEBUG_NAME_THREAD if config::DEBUG_BUILD => debug_name_thread(tcb),
        SYS_DEBUG_DUMP_SCHEDULER if config::DEBUG_BUILD => dump_scheduler(),
        SYS_DEBUG_SNAPSHOT if config::DEBUG_BUILD => {}
        SYS_BENCHMARK_NULL_SYSCALL | SYS_BENCHMARK_FLUSH_CACHES if config::ENABLE_BENCHMARKS => {
            // RISC-V needs no user cache maintenance (ABI ref §11).
        }
        SYS_BENCHMARK_RESET_LOG if config::ENABLE_BENCHMARKS => {
            kernel().reset_bench();
            t.set_reg(CAP_REGISTER, 0);
        }
        SYS_BENCHMARK_FINALIZE_LOG if config::ENABLE_BENCHMARKS => {
            crate::bench::report(arch::timebase_hz());
            // No log buffer in the generic configuration: log index 0.
            t.set_reg(CAP_REGISTER, 0);
        }
        _ => handle_fault(tcb, Fault::UnknownSyscall { number: no as u64 }),
    }
}

/// Looks `cptr` up at full depth in the thread's own CSpace.
fn lookup_in_own_cspace(tcb: TcbRef, cptr: u64) -> Option<Cap> {
    let root = Tcb::slot(tcb, TCB_CTABLE).get().words();
    lookup_cap_rare(root, cptr)
        .ok()
        .map(|(_, c)| Cap::decode(c.0))
}

/// `seL4_DebugNameThread`: the cap register holds the TCB cptr; the name is a NUL-terminated
/// string at the caller's IPC buffer `msg[0]`. Bad arguments are reported
/// and ignored (seL4 halts the kernel instead: Cairn never lets user space
/// stop it except through DebugHalt).
fn debug_name_thread(caller: TcbRef) {
    let c = caller.get();
    let Some(Cap::Thread { tcb: target }) = lookup_in_own_cspace(caller, c.reg(CAP_REGISTER))
    else {
        kprintln!("cairn: DebugNameThread: cap is not a TCB; ignored");
        return;
    };
    let Some(buf) = ipc_buffer(caller, false) else {
        kprintln!("cairn: DebugNameThread: caller has no IPC buffer; ignored");
        return;
    };
    let mut raw = [0u8; 960];
    crate::object::access::copy_out(buf.add(8), &mut raw);
    let Some(len) = raw.iter().position(|&b| b == 0) else {
        kprintln!("cairn: DebugNameThread: name not NUL-terminated; ignored");
        return;
    };
    TcbRef::new(target)
        .get()
        .set_name(raw.get(..len).unwrap_or(&[]));
}

fn dump_scheduler() {
    let k = kernel();
    kprintln!(
        "cairn: scheduler: current {:#x}, highest ready priority {:?}",
        k.current_tcb().map_or(0, |t| t.paddr().0),
        k.ready().highest_priority(k.cur_domain() as usize)
    );
}
