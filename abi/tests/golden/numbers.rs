//! Groups of numbered constants: syscall numbers, invocation labels,
//! object types and sizes, errors, faults, initial caps, cap tags and the
//! remaining single values. Each function compares one group of
//! cairn-abi's items with their seL4 names in the classic golden table.

use cairn_abi::cap::{init, tag};
use cairn_abi::error::{lookup_failure, Error};
use cairn_abi::fault::{self, cap_fault, unknown_syscall, user_exception, vm_fault};
use cairn_abi::invocation::{self, label};
use cairn_abi::object::{self, ObjectType};
use cairn_abi::{bootinfo, syscall, vm, Word};

use crate::check;
use crate::table::Check;

pub fn syscall_numbers(c: &mut Check) {
    check!(c,
        "seL4_SysCall" => syscall::SYS_CALL,
        "seL4_SysReplyRecv" => syscall::SYS_REPLY_RECV,
        "seL4_SysSend" => syscall::SYS_SEND,
        "seL4_SysNBSend" => syscall::SYS_NB_SEND,
        "seL4_SysRecv" => syscall::SYS_RECV,
        "seL4_SysYield" => syscall::SYS_YIELD,
        "seL4_SysNBRecv" => syscall::SYS_NB_RECV,
        "SYSCALL_MIN" => syscall::SYSCALL_MIN,
        "seL4_SysDebugPutChar" => syscall::SYS_DEBUG_PUT_CHAR,
        "seL4_SysDebugDumpScheduler" => syscall::SYS_DEBUG_DUMP_SCHEDULER,
        "seL4_SysDebugHalt" => syscall::SYS_DEBUG_HALT,
        "seL4_SysDebugCapIdentify" => syscall::SYS_DEBUG_CAP_IDENTIFY,
        "seL4_SysDebugSnapshot" => syscall::SYS_DEBUG_SNAPSHOT,
        "seL4_SysDebugNameThread" => syscall::SYS_DEBUG_NAME_THREAD,
        "seL4_SysDebugSendIPI" => syscall::SYS_DEBUG_SEND_IPI,
        "seL4_SysDebugGetThreadAffinity" => syscall::SYS_DEBUG_GET_THREAD_AFFINITY,
        "seL4_SysDebugRun" => syscall::SYS_DEBUG_RUN,
        "seL4_SysBenchmarkFlushCaches" => syscall::SYS_BENCHMARK_FLUSH_CACHES,
        "seL4_SysBenchmarkResetLog" => syscall::SYS_BENCHMARK_RESET_LOG,
        "seL4_SysBenchmarkFinalizeLog" => syscall::SYS_BENCHMARK_FINALIZE_LOG,
        "seL4_SysBenchmarkSetLogBuffer" => syscall::SYS_BENCHMARK_SET_LOG_BUFFER,
        "seL4_SysBenchmarkNullSyscall" => syscall::SYS_BENCHMARK_NULL_SYSCALL,
        "seL4_SysBenchmarkGetThreadUtilisation" => syscall::SYS_BENCHMARK_GET_THREAD_UTILISATION,
        "seL4_SysBenchmarkResetThreadUtilisation" => syscall::SYS_BENCHMARK_RESET_THREAD_UTILISATION,
        "seL4_SysSetTLSBase" => syscall::SYS_SET_TLS_BASE,
    );
    #[cfg(not(feature = "mcs"))]
    check!(c, "seL4_SysReply" => syscall::SYS_REPLY);
    #[cfg(feature = "mcs")]
    check!(c,
        "seL4_SysNBSendRecv" => syscall::SYS_NB_SEND_RECV,
        "seL4_SysNBSendWait" => syscall::SYS_NB_SEND_WAIT,
        "seL4_SysWait" => syscall::SYS_WAIT,
        "seL4_SysNBWait" => syscall::SYS_NB_WAIT,
    );
}

pub fn invocation_labels(c: &mut Check) {
    check!(c,
        "InvalidInvocation" => label::INVALID_INVOCATION,
        "UntypedRetype" => label::UNTYPED_RETYPE,
        "TCBReadRegisters" => label::TCB_READ_REGISTERS,
        "TCBWriteRegisters" => label::TCB_WRITE_REGISTERS,
        "TCBCopyRegisters" => label::TCB_COPY_REGISTERS,
        "TCBConfigure" => label::TCB_CONFIGURE,
        "TCBSetPriority" => label::TCB_SET_PRIORITY,
        "TCBSetMCPriority" => label::TCB_SET_MC_PRIORITY,
        "TCBSetSchedParams" => label::TCB_SET_SCHED_PARAMS,
        "TCBSetIPCBuffer" => label::TCB_SET_IPC_BUFFER,
        "TCBSetSpace" => label::TCB_SET_SPACE,
        "TCBSuspend" => label::TCB_SUSPEND,
        "TCBResume" => label::TCB_RESUME,
        "TCBBindNotification" => label::TCB_BIND_NOTIFICATION,
        "TCBUnbindNotification" => label::TCB_UNBIND_NOTIFICATION,
        "TCBSetTLSBase" => label::TCB_SET_TLS_BASE,
        "TCBSetFlags" => label::TCB_SET_FLAGS,
        "CNodeRevoke" => label::CNODE_REVOKE,
        "CNodeDelete" => label::CNODE_DELETE,
        "CNodeCancelBadgedSends" => label::CNODE_CANCEL_BADGED_SENDS,
        "CNodeCopy" => label::CNODE_COPY,
        "CNodeMint" => label::CNODE_MINT,
        "CNodeMove" => label::CNODE_MOVE,
        "CNodeMutate" => label::CNODE_MUTATE,
        "CNodeRotate" => label::CNODE_ROTATE,
        "IRQIssueIRQHandler" => label::IRQ_ISSUE_IRQ_HANDLER,
        "IRQAckIRQ" => label::IRQ_ACK_IRQ,
        "IRQSetIRQHandler" => label::IRQ_SET_IRQ_HANDLER,
        "IRQClearIRQHandler" => label::IRQ_CLEAR_IRQ_HANDLER,
        "DomainSetSet" => label::DOMAIN_SET_SET,
        "DomainScheduleConfigure" => label::DOMAIN_SCHEDULE_CONFIGURE,
        "DomainScheduleSetStart" => label::DOMAIN_SCHEDULE_SET_START,
        "RISCVPageTableMap" => label::RISCV_PAGE_TABLE_MAP,
        "RISCVPageTableUnmap" => label::RISCV_PAGE_TABLE_UNMAP,
        "RISCVPageMap" => label::RISCV_PAGE_MAP,
        "RISCVPageUnmap" => label::RISCV_PAGE_UNMAP,
        "RISCVPageGetAddress" => label::RISCV_PAGE_GET_ADDRESS,
        "RISCVASIDControlMakePool" => label::RISCV_ASID_CONTROL_MAKE_POOL,
        "RISCVASIDPoolAssign" => label::RISCV_ASID_POOL_ASSIGN,
        "RISCVIRQIssueIRQHandlerTrigger" => label::RISCV_IRQ_ISSUE_IRQ_HANDLER_TRIGGER,
        "nInvocationLabels" => invocation::N_INVOCATION_LABELS,
        "nArchInvocationLabels" => invocation::N_ARCH_INVOCATION_LABELS,
        "seL4_TCBFlag_fpuDisabled" => invocation::TCB_FLAG_FPU_DISABLED,
        "seL4_TCBFlag_NoFlag" => invocation::TCB_FLAG_NO_FLAG,
        "seL4_TCBFlag_MASK" => invocation::TCB_FLAG_MASK,
    );
    #[cfg(not(feature = "mcs"))]
    check!(c, "CNodeSaveCaller" => label::CNODE_SAVE_CALLER);
    #[cfg(feature = "mcs")]
    check!(c,
        "TCBSetTimeoutEndpoint" => label::TCB_SET_TIMEOUT_ENDPOINT,
        "SchedControlConfigureFlags" => label::SCHED_CONTROL_CONFIGURE_FLAGS,
        "SchedContextBind" => label::SCHED_CONTEXT_BIND,
        "SchedContextUnbind" => label::SCHED_CONTEXT_UNBIND,
        "SchedContextUnbindObject" => label::SCHED_CONTEXT_UNBIND_OBJECT,
        "SchedContextConsumed" => label::SCHED_CONTEXT_CONSUMED,
        "SchedContextYieldTo" => label::SCHED_CONTEXT_YIELD_TO,
        "seL4_SchedContext_NoFlag" => invocation::SCHED_CONTEXT_NO_FLAG,
        "seL4_SchedContext_Sporadic" => invocation::SCHED_CONTEXT_SPORADIC,
    );
}

/// The object type numbers, in `seL4_ObjectType` order.
const OBJECT_TYPES: &[(&str, ObjectType)] = &[
    ("seL4_UntypedObject", ObjectType::Untyped),
    ("seL4_TCBObject", ObjectType::Tcb),
    ("seL4_EndpointObject", ObjectType::Endpoint),
    ("seL4_NotificationObject", ObjectType::Notification),
    ("seL4_CapTableObject", ObjectType::CapTable),
    #[cfg(feature = "mcs")]
    ("seL4_SchedContextObject", ObjectType::SchedContext),
    #[cfg(feature = "mcs")]
    ("seL4_ReplyObject", ObjectType::Reply),
    ("seL4_RISCV_Giga_Page", ObjectType::GigaPage),
    ("seL4_RISCV_4K_Page", ObjectType::SmallPage),
    ("seL4_RISCV_Mega_Page", ObjectType::MegaPage),
    ("seL4_RISCV_PageTableObject", ObjectType::PageTable),
];

pub fn object_types_and_sizes(c: &mut Check) {
    for &(name, ty) in OBJECT_TYPES {
        c.name(name, &format!("ObjectType::{ty:?}"), ty as i128);
        // The kernel decodes a user's type word with from_word: each
        // seL4 number must decode to the type of that name.
        let n = c.golden(name);
        let decoded = u64::try_from(n).ok().and_then(ObjectType::from_word);
        c.compare(
            &format!("type decoded from {name}"),
            ty as i128,
            &format!("ObjectType::from_word({n})"),
            decoded.map_or(-1, |t| t as i128),
        );
    }
    let count = c.golden("seL4_ObjectTypeCount");
    let past_end = u64::try_from(count).ok().and_then(ObjectType::from_word);
    c.compare(
        "seL4_ObjectTypeCount is not a type (1 = refused)",
        1,
        &format!("ObjectType::from_word({count}).is_none()"),
        past_end.is_none() as i128,
    );
    check!(c,
        "seL4_AsyncEndpointObject" => ObjectType::Notification,
        "seL4_ObjectTypeCount" => ObjectType::COUNT,
        "seL4_NonArchObjectTypeCount" => ObjectType::NON_ARCH_COUNT,
        "seL4_ModeObjectTypeCount" => ObjectType::MODE_COUNT,
        "seL4_TCBBits" => object::TCB_BITS,
        "seL4_EndpointBits" => object::ENDPOINT_BITS,
        "seL4_NotificationBits" => object::NOTIFICATION_BITS,
        "seL4_SlotBits" => object::SLOT_BITS,
        "seL4_PageBits" => object::PAGE_BITS,
        "seL4_LargePageBits" => object::LARGE_PAGE_BITS,
        "seL4_HugePageBits" => object::HUGE_PAGE_BITS,
        "seL4_PageTableBits" => object::PAGE_TABLE_BITS,
        "seL4_PageTableEntryBits" => object::PAGE_TABLE_ENTRY_BITS,
        "seL4_PageTableIndexBits" => object::PAGE_TABLE_INDEX_BITS,
        "seL4_VSpaceBits" => object::VSPACE_BITS,
        "seL4_ASIDPoolBits" => object::ASID_POOL_BITS,
        "seL4_NumASIDPoolsBits" => object::NUM_ASID_POOLS_BITS,
        "seL4_ASIDPoolIndexBits" => object::ASID_POOL_INDEX_BITS,
        "seL4_MinUntypedBits" => object::MIN_UNTYPED_BITS,
        "seL4_MaxUntypedBits" => object::MAX_UNTYPED_BITS,
        "seL4_BootInfoFrameBits" => object::BOOT_INFO_FRAME_BITS,
        "seL4_BootInfoFrameSize" => 1u64 << object::BOOT_INFO_FRAME_BITS,
        "seL4_UntypedRetypeMaxObjects" => object::UNTYPED_RETYPE_MAX_OBJECTS,
        "seL4_MinPrio" => object::MIN_PRIO,
        "seL4_MaxPrio" => object::MAX_PRIO,
    );
    #[cfg(feature = "mcs")]
    {
        check!(c,
            "seL4_ReplyBits" => object::REPLY_BITS,
            "seL4_MinSchedContextBits" => object::MIN_SCHED_CONTEXT_BITS,
            "seL4_CoreSchedContextBytes" => object::CORE_SCHED_CONTEXT_BYTES,
            "seL4_RefillSizeBytes" => object::REFILL_SIZE_BYTES,
        );
        // seL4_MaxExtraRefills(bits) = (2^bits - core) / refill size: the
        // smallest SchedContext has no room for extra refills.
        let (core, refill) = (
            c.golden("seL4_CoreSchedContextBytes"),
            c.golden("seL4_RefillSizeBytes"),
        );
        for bits in [7u32, 8, 10, 12, 20] {
            c.compare(
                &format!("seL4_MaxExtraRefills({bits})"),
                ((1i128 << bits) - core) / refill,
                &format!("object::max_extra_refills({bits})"),
                object::max_extra_refills(bits).map_or(-1, i128::from),
            );
        }
    }
}

/// `seL4_Error` in order.
const ERRORS: [(&str, Error); 11] = [
    ("seL4_NoError", Error::NoError),
    ("seL4_InvalidArgument", Error::InvalidArgument),
    ("seL4_InvalidCapability", Error::InvalidCapability),
    ("seL4_IllegalOperation", Error::IllegalOperation),
    ("seL4_RangeError", Error::RangeError),
    ("seL4_AlignmentError", Error::AlignmentError),
    ("seL4_FailedLookup", Error::FailedLookup),
    ("seL4_TruncatedMessage", Error::TruncatedMessage),
    ("seL4_DeleteFirst", Error::DeleteFirst),
    ("seL4_RevokeFirst", Error::RevokeFirst),
    ("seL4_NotEnoughMemory", Error::NotEnoughMemory),
];

pub fn errors_and_lookup_failures(c: &mut Check) {
    for (name, e) in ERRORS {
        c.name(name, &format!("Error::{e:?}"), e as i128);
        // User space decodes a reply label with from_word.
        let n = c.golden(name);
        let decoded = u64::try_from(n).ok().and_then(Error::from_word);
        c.compare(
            &format!("error decoded from {name}"),
            e as i128,
            &format!("Error::from_word({n})"),
            decoded.map_or(-1, |d| d as i128),
        );
    }
    let count = c.golden("seL4_NumErrors");
    let past_end = u64::try_from(count).ok().and_then(Error::from_word);
    c.compare(
        "seL4_NumErrors is not an error (1 = refused)",
        1,
        &format!("Error::from_word({count}).is_none()"),
        past_end.is_none() as i128,
    );
    check!(c,
        "seL4_NumErrors" => Error::COUNT,
        "seL4_NoFailure" => lookup_failure::NO_FAILURE,
        "seL4_InvalidRoot" => lookup_failure::INVALID_ROOT,
        "seL4_MissingCapability" => lookup_failure::MISSING_CAPABILITY,
        "seL4_DepthMismatch" => lookup_failure::DEPTH_MISMATCH,
        "seL4_GuardMismatch" => lookup_failure::GUARD_MISMATCH,
    );
}

pub fn fault_labels_and_messages(c: &mut Check) {
    check!(c,
        "seL4_Fault_NullFault" => fault::NULL_FAULT,
        "seL4_NoFault" => fault::NULL_FAULT,
        "seL4_Fault_CapFault" => fault::CAP_FAULT,
        "seL4_CapFault" => fault::CAP_FAULT,
        "seL4_Fault_UnknownSyscall" => fault::UNKNOWN_SYSCALL,
        "seL4_UnknownSyscall" => fault::UNKNOWN_SYSCALL,
        "seL4_Fault_UserException" => fault::USER_EXCEPTION,
        "seL4_UserException" => fault::USER_EXCEPTION,
        "seL4_Fault_VMFault" => fault::VM_FAULT,
        "seL4_VMFault" => fault::VM_FAULT,
        "seL4_UnknownSyscall_Length" => fault::UNKNOWN_SYSCALL_LENGTH,
        "seL4_UserException_Length" => fault::USER_EXCEPTION_LENGTH,
        "seL4_VMFault_Length" => fault::VM_FAULT_LENGTH,
        "seL4_CapFault_IP" => cap_fault::IP,
        "seL4_CapFault_Addr" => cap_fault::ADDR,
        "seL4_CapFault_InRecvPhase" => cap_fault::IN_RECV_PHASE,
        "seL4_CapFault_LookupFailureType" => cap_fault::LOOKUP_FAILURE_TYPE,
        "seL4_VMFault_IP" => vm_fault::IP,
        "seL4_VMFault_Addr" => vm_fault::ADDR,
        "seL4_VMFault_PrefetchFault" => vm_fault::PREFETCH_FAULT,
        "seL4_VMFault_FSR" => vm_fault::FSR,
        "seL4_CapFault_BitsLeft" => cap_fault::BITS_LEFT,
        "seL4_CapFault_DepthMismatch_BitsFound" => cap_fault::DEPTH_MISMATCH_BITS_FOUND,
        "seL4_CapFault_GuardMismatch_GuardFound" => cap_fault::GUARD_MISMATCH_GUARD_FOUND,
        "seL4_CapFault_GuardMismatch_BitsFound" => cap_fault::GUARD_MISMATCH_BITS_FOUND,
        "seL4_UnknownSyscall_FaultIP" => unknown_syscall::FAULT_IP,
        "seL4_UnknownSyscall_SP" => unknown_syscall::SP,
        "seL4_UnknownSyscall_RA" => unknown_syscall::RA,
        "seL4_UnknownSyscall_A0" => unknown_syscall::A0,
        "seL4_UnknownSyscall_A1" => unknown_syscall::A0 + 1,
        "seL4_UnknownSyscall_A2" => unknown_syscall::A0 + 2,
        "seL4_UnknownSyscall_A3" => unknown_syscall::A0 + 3,
        "seL4_UnknownSyscall_A4" => unknown_syscall::A0 + 4,
        "seL4_UnknownSyscall_A5" => unknown_syscall::A0 + 5,
        "seL4_UnknownSyscall_A6" => unknown_syscall::A0 + 6,
        "seL4_UnknownSyscall_Syscall" => unknown_syscall::SYSCALL,
        "seL4_UserException_FaultIP" => user_exception::FAULT_IP,
        "seL4_UserException_SP" => user_exception::SP,
        "seL4_UserException_Number" => user_exception::NUMBER,
        "seL4_UserException_Code" => user_exception::CODE,
    );
    #[cfg(feature = "mcs")]
    {
        use cairn_abi::context::UserContext;
        use core::mem::offset_of;
        check!(c,
            "seL4_Fault_Timeout" => fault::TIMEOUT,
            "seL4_Timeout_Data" => fault::timeout::DATA,
            "seL4_Timeout_Consumed" => fault::timeout::CONSUMED,
            "seL4_Timeout_Length" => fault::timeout::LENGTH,
            "seL4_TimeoutReply_Length" => fault::timeout::REPLY_LENGTH,
        );
        // A timeout reply carries the registers in seL4_UserContext
        // order: each seL4_TimeoutReply_<reg> is <reg>'s word index there.
        let word = |offset: usize| offset / core::mem::size_of::<Word>();
        let mut regs = vec![
            ("FaultIP", word(offset_of!(UserContext, pc))),
            ("LR", word(offset_of!(UserContext, ra))),
            ("SP", word(offset_of!(UserContext, sp))),
            ("GP", word(offset_of!(UserContext, gp))),
            ("TP", word(offset_of!(UserContext, tp))),
        ];
        let (s, a, t) = (
            word(offset_of!(UserContext, s)),
            word(offset_of!(UserContext, a)),
            word(offset_of!(UserContext, t)),
        );
        let names: Vec<(String, usize)> = (0..12)
            .map(|i| (format!("s{i}"), s + i))
            .chain((0..8).map(|i| (format!("a{i}"), a + i)))
            .chain((0..7).map(|i| (format!("t{i}"), t + i)))
            .collect();
        regs.extend(names.iter().map(|(n, i)| (n.as_str(), *i)));
        for (reg, index) in regs {
            c.name(
                &format!("seL4_TimeoutReply_{reg}"),
                &format!("UserContext word of {reg}"),
                index as i128,
            );
        }
    }
}

pub fn initial_cap_slots(c: &mut Check) {
    check!(c,
        "seL4_CapNull" => init::NULL,
        "seL4_CapInitThreadTCB" => init::TCB,
        "seL4_CapInitThreadCNode" => init::CNODE,
        "seL4_CapInitThreadVSpace" => init::VSPACE,
        "seL4_CapInitThreadPD" => init::VSPACE,
        "seL4_CapIRQControl" => init::IRQ_CONTROL,
        "seL4_CapASIDControl" => init::ASID_CONTROL,
        "seL4_CapInitThreadASIDPool" => init::ASID_POOL,
        "seL4_CapIOPortControl" => init::IO_PORT_CONTROL,
        "seL4_CapIOSpace" => init::IO_SPACE,
        "seL4_CapBootInfoFrame" => init::BOOT_INFO_FRAME,
        "seL4_CapInitThreadIPCBuffer" => init::IPC_BUFFER,
        "seL4_CapDomain" => init::DOMAIN,
        "seL4_CapSMMUSIDControl" => init::SMMU_SID_CONTROL,
        "seL4_CapSMMUCBControl" => init::SMMU_CB_CONTROL,
        "seL4_CapInitThreadSC" => init::SC,
        "seL4_CapSMC" => init::SMC,
        "seL4_NumInitialCaps" => init::NUM_INITIAL_CAPS,
    );
}

pub fn cap_type_tags(c: &mut Check) {
    check!(c,
        "cap_null_cap" => tag::NULL,
        "cap_frame_cap" => tag::FRAME,
        "cap_untyped_cap" => tag::UNTYPED,
        "cap_page_table_cap" => tag::PAGE_TABLE,
        "cap_endpoint_cap" => tag::ENDPOINT,
        "cap_notification_cap" => tag::NOTIFICATION,
        "cap_reply_cap" => tag::REPLY,
        "cap_cnode_cap" => tag::CNODE,
        "cap_asid_control_cap" => tag::ASID_CONTROL,
        "cap_thread_cap" => tag::THREAD,
        "cap_asid_pool_cap" => tag::ASID_POOL,
        "cap_irq_control_cap" => tag::IRQ_CONTROL,
        "cap_irq_handler_cap" => tag::IRQ_HANDLER,
        "cap_zombie_cap" => tag::ZOMBIE,
        "cap_domain_cap" => tag::DOMAIN,
    );
    #[cfg(feature = "mcs")]
    check!(c,
        "cap_sched_context_cap" => tag::SCHED_CONTEXT,
        "cap_sched_control_cap" => tag::SCHED_CONTROL,
    );
}

pub fn words_and_address_space(c: &mut Check) {
    check!(c,
        "seL4_WordBits" => cairn_abi::WORD_BITS,
        "seL4_WordBits" => Word::BITS,
        "seL4_WordSizeBits" => cairn_abi::WORD_SIZE_BITS,
        "seL4_UserTop" => vm::USER_TOP,
        "seL4_UserVSpaceTop" => vm::USER_VSPACE_TOP,
        "seL4_RISCV_ExecuteNever" => vm::EXECUTE_NEVER,
        "seL4_RISCV_Default_VMAttributes" => vm::DEFAULT_VM_ATTRIBUTES,
        "IT_ASID" => vm::ROOT_ASID,
        "SEL4_BOOTINFO_HEADER_PADDING" => bootinfo::BOOTINFO_HEADER_PADDING,
        "SEL4_BOOTINFO_HEADER_FDT" => bootinfo::BOOTINFO_HEADER_FDT,
        "CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS" => bootinfo::MAX_BOOTINFO_UNTYPED_CAPS,
    );
}
