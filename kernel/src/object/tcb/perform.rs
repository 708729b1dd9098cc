//! Performing decoded TCB operations (seL4's `invokeTCB_*` and
//! `invokeSetTLSBase`/`invokeSetFlags`). Only ThreadControl can fail, and
//! only by being preempted while deleting a replaced root or buffer cap;
//! the restarted call decodes and redoes everything, which is idempotent.

use super::control::{NewCap, ThreadControl};
use super::decode::TcbOp;
use super::registers::{copy_words, FRAME, GP};
use super::{Tcb, TcbRef, TCB_BUFFER, TCB_CTABLE, TCB_VTABLE};
use crate::arch::TLS_BASE_REGISTER;
use crate::cap::cte::SlotRef;
use crate::cap::delete::cte_delete;
use crate::cap::derive::cte_insert;
use crate::cap::derive::same_object_as;
use crate::cap::Cap;
use crate::ipc::cancel::unbind_notification;
use crate::ipc::notification::bind_notification;
use crate::ipc::{restart, suspend};
use crate::object::invocation::Reply;
use crate::sched::set_priority;
use crate::state::kernel;
use crate::types::Preempted;
use cairn_abi::invocation::TCB_FLAG_FPU_DISABLED;

/// The flags SetFlags may set (seL4's `seL4_TCBFlag_MASK`).
pub const TCB_FLAG_MASK: u64 = if crate::config::HAVE_FPU {
    TCB_FLAG_FPU_DISABLED
} else {
    0
};

/// seL4's `rescheduleRequired` when `t`, whose registers or buffer just
/// changed, is the running thread. Out of line: four TCB operations use
/// it, none on a benchmarked path (docs/benchmarks.md, "Code size").
#[inline(never)]
fn reschedule_if_current(t: TcbRef) {
    if kernel().is_current(t) {
        crate::sched::rare::reschedule_required();
    }
}

/// Performs `op`; returns what the caller's reply carries.
pub fn perform(op: &TcbOp) -> Result<Reply, Preempted> {
    match *op {
        TcbOp::ReadRegisters {
            src,
            suspend_source,
            count,
        } => {
            if suspend_source {
                suspend(src);
            }
            return Ok(Reply::Registers { tcb: src, count });
        }
        TcbOp::WriteRegisters {
            dest,
            resume_target,
            count,
            values,
        } => {
            let t = dest.get();
            for i in 0..count {
                t.set_user_register(i, values.get(i + 2));
            }
            t.resume_at_restart_pc();
            if resume_target {
                restart(dest);
            }
            reschedule_if_current(dest);
        }
        TcbOp::CopyRegisters {
            dest,
            src,
            suspend_source,
            resume_target,
            transfer_frame,
            transfer_integer,
        } => {
            if suspend_source {
                suspend(src);
            }
            if resume_target {
                restart(dest);
            }
            if transfer_frame {
                copy_words(src.get(), dest.get(), FRAME);
                dest.get().resume_at_restart_pc();
            }
            if transfer_integer {
                copy_words(src.get(), dest.get(), GP);
            }
            reschedule_if_current(dest);
        }
        TcbOp::ThreadControl(ref tc) => thread_control(tc)?,
        TcbOp::Suspend(t) => suspend(t),
        TcbOp::Resume(t) => restart(t),
        TcbOp::NotificationControl { tcb, ntfn } => match ntfn {
            Some(n) => bind_notification(tcb, n),
            None => unbind_notification(tcb),
        },
        TcbOp::SetTlsBase { tcb, base } => {
            tcb.get().set_reg(TLS_BASE_REGISTER, base);
            reschedule_if_current(tcb);
        }
        TcbOp::SetFlags { tcb, clear, set } => {
            let flags = (tcb.get().flags() & !clear) | (set & TCB_FLAG_MASK);
            tcb.get().set_flags(flags);
            // fpuDisabled takes effect at the thread's next exit to user
            // mode (its status word's FS, `fpu::refresh`).
            crate::fpu::refresh(tcb);
            return Ok(Reply::Word(flags));
        }
    }
    Ok(Reply::Empty)
}

/// Replaces the capability in the target's slot `index` (seL4: delete the
/// old one, then insert the new one as a child of its source, provided the
/// source still holds that object and the invoked slot still holds the
/// target's TCB cap; deleting the old cap may have changed either).
fn replace_slot(tc: &ThreadControl, index: usize, new: Option<NewCap>) -> Result<(), Preempted> {
    let slot = Tcb::slot(tc.target, index);
    cte_delete(slot)?;
    if let Some(new) = new {
        insert_if_unchanged(tc, new, slot);
    }
    Ok(())
}

/// Inserts `new` into `slot` if its source still holds that object and the
/// invoked slot still holds the target's TCB cap. Out of line: the roots'
/// and the buffer's replacements share it.
#[inline(never)]
fn insert_if_unchanged(tc: &ThreadControl, new: NewCap, slot: SlotRef) {
    let tcap = Cap::Thread {
        tcb: tc.target.paddr(),
    };
    if same_object_as(&new.cap, &new.src.get().cap()) && same_object_as(&tcap, &tc.slot.get().cap())
    {
        cte_insert(new.cap, new.src, slot);
    }
}

/// seL4's `invokeTCB_ThreadControl` (classic), in its order: fault
/// endpoint, MCP, CSpace root, VSpace root, IPC buffer, priority. MCS
/// splits it in two (`invokeTCB_ThreadControlCaps`: fault handler,
/// timeout handler, roots, buffer; `..._ThreadControlSched`: fault
/// handler, MCP, priority, SchedContext); one decoded invocation uses
/// only one of them, so this one order serves both.
fn thread_control(tc: &ThreadControl) -> Result<(), Preempted> {
    let t = tc.target.get();
    #[cfg(not(feature = "mcs"))]
    if let Some(space) = tc.space {
        t.set_fault_handler(space.fault_ep);
    }
    #[cfg(feature = "mcs")]
    if let Some((slot, cap)) = super::mcs::handler_cap(tc.mcs.handler) {
        replace_slot(tc, slot, cap)?;
    }
    if let Some(mcp) = tc.mcp {
        t.set_mcp(mcp);
    }
    if let Some(space) = tc.space {
        replace_slot(tc, TCB_CTABLE, Some(space.croot))?;
        replace_slot(tc, TCB_VTABLE, Some(space.vroot))?;
    }
    if let Some(buffer) = tc.buffer {
        let slot = Tcb::slot(tc.target, TCB_BUFFER);
        cte_delete(slot)?;
        t.set_ipc_buffer(buffer.addr);
        if let Some(frame) = buffer.frame {
            insert_if_unchanged(tc, frame, slot);
        }
        reschedule_if_current(tc.target);
    }
    if let Some(prio) = tc.priority {
        set_priority(tc.target, prio);
    }
    #[cfg(feature = "mcs")]
    super::mcs::perform_sched_context(tc.target, tc.mcs.sched_context);
    Ok(())
}
