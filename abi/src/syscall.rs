//! System call numbers (ABI ref §1, §13 for MCS). The number travels in
//! `a7`. MCS renumbers them (it adds NBSendRecv, NBSendWait, Wait and
//! NBWait and drops Reply); each constant gives both values.

use crate::KERNEL_MCS;

/// A system call number as a signed word.
pub type SyscallNo = i64;

/// `seL4_SysCall`.
pub const SYS_CALL: SyscallNo = -1;
/// `seL4_SysReplyRecv`.
pub const SYS_REPLY_RECV: SyscallNo = -2;
/// `seL4_SysNBSendRecv` (MCS only): send, then receive with a reply object.
#[cfg(feature = "mcs")]
pub const SYS_NB_SEND_RECV: SyscallNo = -3;
/// `seL4_SysNBSendWait` (MCS only): send, then wait (no reply object).
#[cfg(feature = "mcs")]
pub const SYS_NB_SEND_WAIT: SyscallNo = -4;
/// `seL4_SysSend`.
pub const SYS_SEND: SyscallNo = if KERNEL_MCS { -5 } else { -3 };
/// `seL4_SysNBSend`.
pub const SYS_NB_SEND: SyscallNo = if KERNEL_MCS { -6 } else { -4 };
/// `seL4_SysRecv`.
pub const SYS_RECV: SyscallNo = if KERNEL_MCS { -7 } else { -5 };
/// `seL4_SysReply` (classic only: MCS replies through reply objects).
#[cfg(not(feature = "mcs"))]
pub const SYS_REPLY: SyscallNo = -6;
/// `seL4_SysYield`.
pub const SYS_YIELD: SyscallNo = if KERNEL_MCS { -11 } else { -7 };
/// `seL4_SysNBRecv`.
pub const SYS_NB_RECV: SyscallNo = -8;
/// `seL4_SysWait` (MCS only): receive without a reply object.
#[cfg(feature = "mcs")]
pub const SYS_WAIT: SyscallNo = -9;
/// `seL4_SysNBWait` (MCS only).
#[cfg(feature = "mcs")]
pub const SYS_NB_WAIT: SyscallNo = -10;
/// The lowest API syscall number (`SYSCALL_MIN`): the debug and benchmark
/// syscalls are numbered on below it, so they all move with it.
pub const SYSCALL_MIN: SyscallNo = if KERNEL_MCS { -11 } else { -8 };

/// `seL4_SysDebugPutChar`.
pub const SYS_DEBUG_PUT_CHAR: SyscallNo = SYSCALL_MIN - 1;
/// `seL4_SysDebugDumpScheduler`.
pub const SYS_DEBUG_DUMP_SCHEDULER: SyscallNo = SYSCALL_MIN - 2;
/// `seL4_SysDebugHalt`.
pub const SYS_DEBUG_HALT: SyscallNo = SYSCALL_MIN - 3;
/// `seL4_SysDebugCapIdentify`.
pub const SYS_DEBUG_CAP_IDENTIFY: SyscallNo = SYSCALL_MIN - 4;
/// `seL4_SysDebugSnapshot`.
pub const SYS_DEBUG_SNAPSHOT: SyscallNo = SYSCALL_MIN - 5;
/// `seL4_SysDebugNameThread`.
pub const SYS_DEBUG_NAME_THREAD: SyscallNo = SYSCALL_MIN - 6;
/// `seL4_SysDebugSendIPI` (SMP only).
pub const SYS_DEBUG_SEND_IPI: SyscallNo = SYSCALL_MIN - 7;
/// `seL4_SysDebugGetThreadAffinity` (SMP only, new in 16.0.0).
pub const SYS_DEBUG_GET_THREAD_AFFINITY: SyscallNo = SYSCALL_MIN - 8;
/// `seL4_SysDebugRun`.
pub const SYS_DEBUG_RUN: SyscallNo = SYSCALL_MIN - 9;
/// `seL4_SysBenchmarkFlushCaches`.
pub const SYS_BENCHMARK_FLUSH_CACHES: SyscallNo = SYSCALL_MIN - 10;
/// `seL4_SysBenchmarkResetLog`.
pub const SYS_BENCHMARK_RESET_LOG: SyscallNo = SYSCALL_MIN - 11;
/// `seL4_SysBenchmarkFinalizeLog`.
pub const SYS_BENCHMARK_FINALIZE_LOG: SyscallNo = SYSCALL_MIN - 12;
/// `seL4_SysBenchmarkSetLogBuffer`.
pub const SYS_BENCHMARK_SET_LOG_BUFFER: SyscallNo = SYSCALL_MIN - 13;
/// `seL4_SysBenchmarkNullSyscall`.
pub const SYS_BENCHMARK_NULL_SYSCALL: SyscallNo = SYSCALL_MIN - 14;
/// `seL4_SysBenchmarkGetThreadUtilisation`.
pub const SYS_BENCHMARK_GET_THREAD_UTILISATION: SyscallNo = SYSCALL_MIN - 15;
/// `seL4_SysBenchmarkResetThreadUtilisation`.
pub const SYS_BENCHMARK_RESET_THREAD_UTILISATION: SyscallNo = SYSCALL_MIN - 16;
/// `seL4_SysSetTLSBase`: never implemented on RISC-V.
pub const SYS_SET_TLS_BASE: SyscallNo = SYSCALL_MIN - 22;
