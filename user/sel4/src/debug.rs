//! The debug system calls of a debug kernel build (ABI ref §14). Each takes
//! its argument in `a0` and returns its result in `a0`.

use crate::cap::{CPtr, Tcb};
use crate::ipc_buffer::with_ipc_buffer;
use crate::syscall::{raw, Regs};
use cairn_abi::syscall as nr;
use cairn_abi::Word;

fn a0_call(sys: cairn_abi::syscall::SyscallNo, a0: Word) -> Word {
    raw(
        sys,
        Regs {
            a0,
            ..Regs::default()
        },
    )
    .a0
}

/// `seL4_DebugPutChar`: writes one byte to the kernel console.
pub fn put_char(c: u8) {
    a0_call(nr::SYS_DEBUG_PUT_CHAR, Word::from(c));
}

/// `seL4_DebugPutString`-like: writes every byte of `s`.
pub fn put_str(s: &str) {
    s.bytes().for_each(put_char);
}

/// `seL4_DebugHalt`: the kernel prints a message and shuts the machine down
/// (QEMU exits). Spins if the kernel returns anyway.
pub fn halt() -> ! {
    a0_call(nr::SYS_DEBUG_HALT, 0);
    loop {
        core::hint::spin_loop();
    }
}

/// `seL4_DebugCapIdentify`: the type tag of the cap at `cptr` (looked up at
/// full depth in the caller's CSpace), 0 if the lookup fails or the slot is
/// empty. Tags are in [`cairn_abi::cap::tag`].
pub fn cap_identify(cptr: CPtr) -> Word {
    a0_call(nr::SYS_DEBUG_CAP_IDENTIFY, cptr.0)
}

/// `seL4_DebugDumpScheduler`: the kernel prints its thread table.
pub fn dump_scheduler() {
    a0_call(nr::SYS_DEBUG_DUMP_SCHEDULER, 0);
}

/// `seL4_DebugSnapshot`: the kernel prints a capDL dump of the system.
pub fn snapshot() {
    a0_call(nr::SYS_DEBUG_SNAPSHOT, 0);
}

/// Longest name [`name_thread`] sends (the kernel halts on a name with no
/// NUL within 960 bytes, i.e. all of `msg`).
pub const MAX_THREAD_NAME: usize = 120 * 8 - 1;

/// Writes `name` NUL-terminated (truncated to [`MAX_THREAD_NAME`] bytes) into
/// `msg` words, as `seL4_DebugNameThread` expects it at IPC buffer msg[0].
pub fn encode_thread_name(name: &str, msg: &mut [Word]) {
    let bytes = name.as_bytes();
    let n = bytes
        .len()
        .min(MAX_THREAD_NAME)
        .min((msg.len() * 8).saturating_sub(1));
    for (i, w) in msg.iter_mut().enumerate() {
        let mut word = [0u8; 8];
        for (j, b) in word.iter_mut().enumerate() {
            let k = i * 8 + j;
            if k < n {
                *b = bytes.get(k).copied().unwrap_or(0);
            }
        }
        *w = Word::from_le_bytes(word);
        if i * 8 + 7 >= n {
            break;
        }
    }
}

/// `seL4_DebugNameThread`: names `tcb` in kernel debug output. Needs the
/// caller's IPC buffer (the name travels in it); does nothing without one.
pub fn name_thread(tcb: Tcb, name: &str) {
    if with_ipc_buffer(|b| encode_thread_name(name, &mut b.msg)).is_some() {
        name_thread_from_buffer(tcb);
    }
}

/// `seL4_DebugNameThread` with whatever the caller's IPC buffer holds at
/// msg[0] as the name, for tests of the kernel's checks (a name with no
/// NUL, a caller whose TCB has no IPC buffer).
pub fn name_thread_from_buffer(tcb: Tcb) {
    a0_call(nr::SYS_DEBUG_NAME_THREAD, tcb.bits());
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::syscall::testing::with_fake_kernel;

    #[test]
    fn thread_name_encoding() {
        let mut msg = [Word::MAX; 4];
        encode_thread_name("rootserver", &mut msg);
        assert_eq!(msg[0], Word::from_le_bytes(*b"rootserv"));
        assert_eq!(msg[1], Word::from_le_bytes(*b"er\0\0\0\0\0\0"));
        let long = "x".repeat(100);
        encode_thread_name(&long, &mut msg);
        assert_eq!(msg[3].to_le_bytes()[7], 0, "always NUL-terminated");
    }

    #[test]
    fn name_thread_from_buffer_passes_the_tcb_in_a0() {
        let (_, log) = with_fake_kernel(&[], || name_thread_from_buffer(Tcb::from_bits(7)));
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].0, nr::SYS_DEBUG_NAME_THREAD);
        assert_eq!(log[0].1, 7);
    }

    #[test]
    fn cap_identify_passes_cptr_in_a0() {
        let (_, log) = with_fake_kernel(&[], || cap_identify(CPtr(42)));
        assert_eq!(log[0].0, nr::SYS_DEBUG_CAP_IDENTIFY);
        assert_eq!(log[0].1, 42);
    }
}
