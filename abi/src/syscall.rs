//! System call numbers (ABI ref §1). The number travels in `a7`.

/// A system call number as a signed word.
pub type SyscallNo = i64;

/// `seL4_SysCall`.
pub const SYS_CALL: SyscallNo = -1;
/// `seL4_SysReplyRecv`.
pub const SYS_REPLY_RECV: SyscallNo = -2;
/// `seL4_SysSend`.
pub const SYS_SEND: SyscallNo = -3;
/// `seL4_SysNBSend`.
pub const SYS_NB_SEND: SyscallNo = -4;
/// `seL4_SysRecv`.
pub const SYS_RECV: SyscallNo = -5;
/// `seL4_SysReply`.
pub const SYS_REPLY: SyscallNo = -6;
/// `seL4_SysYield`.
pub const SYS_YIELD: SyscallNo = -7;
/// `seL4_SysNBRecv`.
pub const SYS_NB_RECV: SyscallNo = -8;
/// The lowest API syscall number of the classic configuration (`SYSCALL_MIN`).
pub const SYSCALL_MIN: SyscallNo = -8;

/// `seL4_SysDebugPutChar`.
pub const SYS_DEBUG_PUT_CHAR: SyscallNo = -9;
/// `seL4_SysDebugDumpScheduler`.
pub const SYS_DEBUG_DUMP_SCHEDULER: SyscallNo = -10;
/// `seL4_SysDebugHalt`.
pub const SYS_DEBUG_HALT: SyscallNo = -11;
/// `seL4_SysDebugCapIdentify`.
pub const SYS_DEBUG_CAP_IDENTIFY: SyscallNo = -12;
/// `seL4_SysDebugSnapshot`.
pub const SYS_DEBUG_SNAPSHOT: SyscallNo = -13;
/// `seL4_SysDebugNameThread`.
pub const SYS_DEBUG_NAME_THREAD: SyscallNo = -14;
/// `seL4_SysDebugSendIPI` (SMP only).
pub const SYS_DEBUG_SEND_IPI: SyscallNo = -15;
/// `seL4_SysDebugGetThreadAffinity` (SMP only, new in 16.0.0).
pub const SYS_DEBUG_GET_THREAD_AFFINITY: SyscallNo = -16;
/// `seL4_SysDebugRun`.
pub const SYS_DEBUG_RUN: SyscallNo = -17;
/// `seL4_SysBenchmarkFlushCaches`.
pub const SYS_BENCHMARK_FLUSH_CACHES: SyscallNo = -18;
/// `seL4_SysBenchmarkResetLog`.
pub const SYS_BENCHMARK_RESET_LOG: SyscallNo = -19;
/// `seL4_SysBenchmarkFinalizeLog`.
pub const SYS_BENCHMARK_FINALIZE_LOG: SyscallNo = -20;
/// `seL4_SysBenchmarkSetLogBuffer`.
pub const SYS_BENCHMARK_SET_LOG_BUFFER: SyscallNo = -21;
/// `seL4_SysBenchmarkNullSyscall`.
pub const SYS_BENCHMARK_NULL_SYSCALL: SyscallNo = -22;
/// `seL4_SysBenchmarkGetThreadUtilisation`.
pub const SYS_BENCHMARK_GET_THREAD_UTILISATION: SyscallNo = -23;
/// `seL4_SysBenchmarkResetThreadUtilisation`.
pub const SYS_BENCHMARK_RESET_THREAD_UTILISATION: SyscallNo = -24;
/// `seL4_SysSetTLSBase`: never implemented on RISC-V.
pub const SYS_SET_TLS_BASE: SyscallNo = -30;
