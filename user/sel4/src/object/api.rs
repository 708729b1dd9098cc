//! The object API: every invocation of the classic riscv64 configuration,
//! one table entry each, from which [`invocations!`] generates the methods
//! on the typed caps (the rules are in [`super::stubs`]). Parameter order
//! and types follow seL4 16.0.0's libsel4 interface description
//! (`object-api.xml`, `object-api-arch.xml` for RISC-V); the labels are the
//! `cairn_abi::invocation::label` constants the kernel decodes with.
//!
//! To add an invocation: add its label to `cairn_abi::invocation::label`
//! (and the kernel's decode), then one entry here, in seL4's parameter
//! order, and a case in `tests.rs` with the label value from the ABI
//! reference.

use super::cnode::RotateSlot;
use super::stubs::invocations;
use super::tcb::CopyFlags;
use crate::cap::{
    AsidControl, AsidPool, CNode, CPtr, DomainSet, Frame, IrqControl, IrqHandler, Notification,
    PageTable, Tcb, Untyped,
};
#[cfg(feature = "mcs")]
use crate::cap::{SchedContext, SchedControl};
use cairn_abi::cap::CapRights;
use cairn_abi::context::UserContext;
use cairn_abi::object::ObjectType;
use cairn_abi::Word;

invocations! {
    // ch. 2 Objects, *Untyped Memory*; ABI ref §5, §7.2.

    /// `seL4_Untyped_Retype`: creates `num_objects` objects of `object_type`
    /// and puts their caps in consecutive slots from `node_offset` of the
    /// CNode found at (`node_index`, `node_depth`) from `root` (depth 0:
    /// `root` itself).
    Untyped::retype(
        object_type: ObjectType,
        size_bits: Word,
        root: CNode,
        node_index: Word,
        node_depth: Word,
        node_offset: Word,
        num_objects: Word,
    ) = UNTYPED_RETYPE;

    // ch. 6 Threads and Execution; ABI ref §7.3, §10 (classic).

    /// `seL4_TCB_ReadRegisters`: the first `count` registers in
    /// `seL4_UserContext` order (the rest read as 0).
    Tcb::read_registers(suspend_source: bool, arch_flags: u8, count: Word)
        -> UserContext = TCB_READ_REGISTERS;
    /// `seL4_TCB_WriteRegisters`: the message always carries all 32
    /// registers; the kernel writes the first `count`.
    Tcb::write_registers(resume_target: bool, arch_flags: u8, count: Word, regs: &UserContext)
        = TCB_WRITE_REGISTERS;
    /// `seL4_TCB_CopyRegisters`: copies registers from `source` into this TCB.
    Tcb::copy_registers(
        source: Tcb,
        flags: CopyFlags => [
            flags.suspend_source,
            flags.resume_target,
            flags.transfer_frame,
            flags.transfer_integer,
            flags.arch_flags,
        ],
    ) = TCB_COPY_REGISTERS;
    /// `seL4_TCB_Configure` (classic): the fault endpoint is a cptr word,
    /// not an extra cap.
    #[cfg(not(feature = "mcs"))]
    Tcb::configure(
        fault_ep: CPtr => [fault_ep.0],
        cspace_root: CNode,
        cspace_root_data: Word,
        vspace_root: PageTable,
        vspace_root_data: Word,
        buffer: Word,
        buffer_frame: Frame,
    ) = TCB_CONFIGURE;
    /// `seL4_TCB_SetPriority`, bounded by `authority`'s MCP.
    Tcb::set_priority(authority: Tcb, priority: Word) = TCB_SET_PRIORITY;
    /// `seL4_TCB_SetMCPriority`, bounded by `authority`'s MCP.
    Tcb::set_mc_priority(authority: Tcb, mcp: Word) = TCB_SET_MC_PRIORITY;
    /// `seL4_TCB_SetSchedParams` (classic).
    #[cfg(not(feature = "mcs"))]
    Tcb::set_sched_params(authority: Tcb, mcp: Word, priority: Word) = TCB_SET_SCHED_PARAMS;
    /// `seL4_TCB_SetIPCBuffer`: `buffer` is the vaddr (0 = none).
    Tcb::set_ipc_buffer(buffer: Word, buffer_frame: Frame) = TCB_SET_IPC_BUFFER;
    /// `seL4_TCB_SetSpace` (classic): the fault endpoint is a cptr word.
    #[cfg(not(feature = "mcs"))]
    Tcb::set_space(
        fault_ep: CPtr => [fault_ep.0],
        cspace_root: CNode,
        cspace_root_data: Word,
        vspace_root: PageTable,
        vspace_root_data: Word,
    ) = TCB_SET_SPACE;
    /// `seL4_TCB_Configure` (MCS): no fault endpoint (SetSpace and
    /// SetSchedParams install the fault handler cap).
    #[cfg(feature = "mcs")]
    Tcb::configure(
        cspace_root: CNode,
        cspace_root_data: Word,
        vspace_root: PageTable,
        vspace_root_data: Word,
        buffer: Word,
        buffer_frame: Frame,
    ) = TCB_CONFIGURE;
    /// `seL4_TCB_SetSpace` (MCS): the fault handler is an endpoint cap
    /// (Send and Grant or GrantReply; a null cap: none).
    #[cfg(feature = "mcs")]
    Tcb::set_space(
        fault_ep: CPtr,
        cspace_root: CNode,
        cspace_root_data: Word,
        vspace_root: PageTable,
        vspace_root_data: Word,
    ) = TCB_SET_SPACE;
    /// `seL4_TCB_SetSchedParams` (MCS): also binds `sched_context` (a
    /// null cap unbinds) and installs the fault handler cap.
    #[cfg(feature = "mcs")]
    Tcb::set_sched_params(
        authority: Tcb,
        mcp: Word,
        priority: Word,
        sched_context: CPtr,
        fault_ep: CPtr,
    ) = TCB_SET_SCHED_PARAMS;
    /// `seL4_TCB_SetTimeoutEndpoint` (MCS): the timeout handler cap.
    #[cfg(feature = "mcs")]
    Tcb::set_timeout_endpoint(timeout_ep: CPtr) = TCB_SET_TIMEOUT_ENDPOINT;
    /// `seL4_TCB_Suspend`.
    Tcb::suspend() = TCB_SUSPEND;
    /// `seL4_TCB_Resume`.
    Tcb::resume() = TCB_RESUME;
    /// `seL4_TCB_BindNotification`.
    Tcb::bind_notification(notification: Notification) = TCB_BIND_NOTIFICATION;
    /// `seL4_TCB_UnbindNotification`.
    Tcb::unbind_notification() = TCB_UNBIND_NOTIFICATION;
    /// `seL4_TCB_SetTLSBase`: the thread's new `tp`.
    Tcb::set_tls_base(tls_base: Word) = TCB_SET_TLS_BASE;
    /// `seL4_TCB_SetFlags`: returns the thread's new flags.
    Tcb::set_flags(clear: Word, set: Word) -> Word = TCB_SET_FLAGS;

    // ch. 3 Capability Spaces, *CNode Methods*; ABI ref §7.4. Slots are
    // (index, depth) from the invoked CNode or an extra-cap root.

    /// `seL4_CNode_Revoke`: deletes every cap derived from the one in the slot.
    CNode::revoke(index: Word, depth: u8) = CNODE_REVOKE;
    /// `seL4_CNode_Delete`: empties the slot.
    CNode::delete(index: Word, depth: u8) = CNODE_DELETE;
    /// `seL4_CNode_CancelBadgedSends`: aborts sends with the slot's badge.
    CNode::cancel_badged_sends(index: Word, depth: u8) = CNODE_CANCEL_BADGED_SENDS;
    /// `seL4_CNode_Copy`: a child copy of the source cap with `rights` masked.
    CNode::copy(
        dest_index: Word,
        dest_depth: u8,
        src_root: CNode,
        src_index: Word,
        src_depth: u8,
        rights: CapRights,
    ) = CNODE_COPY;
    /// `seL4_CNode_Mint`: as Copy, also setting a badge or CNode guard.
    CNode::mint(
        dest_index: Word,
        dest_depth: u8,
        src_root: CNode,
        src_index: Word,
        src_depth: u8,
        rights: CapRights,
        badge: Word,
    ) = CNODE_MINT;
    /// `seL4_CNode_Move`.
    CNode::move_(
        dest_index: Word,
        dest_depth: u8,
        src_root: CNode,
        src_index: Word,
        src_depth: u8,
    ) = CNODE_MOVE;
    /// `seL4_CNode_Mutate`: move, setting a CNode guard.
    CNode::mutate(
        dest_index: Word,
        dest_depth: u8,
        src_root: CNode,
        src_index: Word,
        src_depth: u8,
        badge: Word,
    ) = CNODE_MUTATE;
    /// `seL4_CNode_Rotate`: pivot → dest, src → pivot (the source's badge
    /// is not sent).
    CNode::rotate(
        dest: RotateSlot => [dest.index, dest.depth, dest.badge],
        pivot_root: CNode,
        pivot: RotateSlot => [pivot.index, pivot.depth, pivot.badge],
        src_root: CNode,
        src: RotateSlot => [src.index, src.depth],
    ) = CNODE_ROTATE;
    /// `seL4_CNode_SaveCaller` (classic): moves the reply cap into the slot.
    #[cfg(not(feature = "mcs"))]
    CNode::save_caller(index: Word, depth: u8) = CNODE_SAVE_CALLER;

    // ch. 8 Hardware I/O, *Interrupt Delivery*; ABI ref §7.5, §12.

    /// `seL4_IRQControl_Get`: an IRQ handler cap for `irq` into the slot.
    IrqControl::get(irq: Word, root: CNode, index: Word, depth: u8) = IRQ_ISSUE_IRQ_HANDLER;
    /// `seL4_IRQControl_GetTrigger` (RISC-V): `trigger` 0 level, 1 edge.
    IrqControl::get_trigger(irq: Word, trigger: Word, root: CNode, index: Word, depth: u8)
        = RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER;
    /// `seL4_IRQHandler_Ack`.
    IrqHandler::ack() = IRQ_ACK_IRQ;
    /// `seL4_IRQHandler_SetNotification`.
    IrqHandler::set_notification(notification: Notification) = IRQ_SET_IRQ_HANDLER;
    /// `seL4_IRQHandler_Clear`.
    IrqHandler::clear() = IRQ_CLEAR_IRQ_HANDLER;

    // ch. 6 Threads and Execution, *Domains*; ABI ref §7.6.

    /// `seL4_DomainSet_Set`: moves `thread` to `domain`.
    DomainSet::set(domain: u8, thread: Tcb) = DOMAIN_SET_SET;
    /// `seL4_DomainSet_ScheduleConfigure`: entry `index` of the domain
    /// schedule; `duration` in kernel ticks.
    DomainSet::schedule_configure(index: Word, domain: u8, duration: Word)
        = DOMAIN_SCHEDULE_CONFIGURE;
    /// `seL4_DomainSet_ScheduleSetStart`.
    DomainSet::schedule_set_start(index: Word) = DOMAIN_SCHEDULE_SET_START;

    // ch. 7 Address Spaces and Virtual Memory; ABI ref §7.8, §11 (RISC-V).

    /// `seL4_RISCV_PageTable_Map`: installs this table in `vspace` at the
    /// first missing level covering `vaddr`.
    PageTable::map(vspace: PageTable, vaddr: Word, attr: Word) = RISCV_PAGE_TABLE_MAP;
    /// `seL4_RISCV_PageTable_Unmap`.
    PageTable::unmap() = RISCV_PAGE_TABLE_UNMAP;
    /// `seL4_RISCV_Page_Map`.
    Frame::map(vspace: PageTable, vaddr: Word, rights: CapRights, attr: Word) = RISCV_PAGE_MAP;
    /// `seL4_RISCV_Page_Unmap`.
    Frame::unmap() = RISCV_PAGE_UNMAP;
    /// `seL4_RISCV_Page_GetAddress`: the frame's physical address.
    Frame::get_address() -> Word = RISCV_PAGE_GET_ADDRESS;
    /// `seL4_RISCV_ASIDControl_MakePool`: turns a 4 KiB untyped into an ASID
    /// pool whose cap goes to (`index`, `depth`) from `root`.
    AsidControl::make_pool(untyped: Untyped, root: CNode, index: Word, depth: u8)
        = RISCV_ASID_CONTROL_MAKE_POOL;
    /// `seL4_RISCV_ASIDPool_Assign`: gives `vspace` an ASID from this pool.
    AsidPool::assign(vspace: PageTable) = RISCV_ASID_POOL_ASSIGN;
}

// MCS: ch. 6, *Scheduling Contexts*; ABI ref §13. A table of their own,
// as their cap types exist only in the MCS configuration.
#[cfg(feature = "mcs")]
invocations! {
    /// `seL4_SchedControl_ConfigureFlags`: `budget` per `period` (µs),
    /// `extra_refills`, the `badge` of its timeout faults, `flags`
    /// (`seL4_SchedContext_Sporadic`).
    SchedControl::configure_flags(
        sched_context: SchedContext,
        budget: Word,
        period: Word,
        extra_refills: Word,
        badge: Word,
        flags: Word,
    ) = SCHED_CONTROL_CONFIGURE_FLAGS;
    /// `seL4_SchedContext_Bind`: to a thread or a notification.
    SchedContext::bind(object: CPtr) = SCHED_CONTEXT_BIND;
    /// `seL4_SchedContext_UnbindObject`.
    SchedContext::unbind_object(object: CPtr) = SCHED_CONTEXT_UNBIND_OBJECT;
    /// `seL4_SchedContext_Unbind`: from its thread and notification.
    SchedContext::unbind() = SCHED_CONTEXT_UNBIND;
    /// `seL4_SchedContext_Consumed`: µs consumed since last asked.
    SchedContext::consumed() -> Word = SCHED_CONTEXT_CONSUMED;
    /// `seL4_SchedContext_YieldTo`: lets this context's thread run before
    /// the caller (ABI ref §13); the time it consumed, in µs.
    SchedContext::yield_to() -> Word = SCHED_CONTEXT_YIELD_TO;
}
