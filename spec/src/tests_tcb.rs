//! TCB register methods on `tests_ipc::world()`, with caps to T2 and T3
//! in root slots 5 and 6.

use crate::cap::Cap;
use crate::error::SyscallError;
use crate::state::SlotId;
use crate::tcb::{COPY_REGISTERS, READ_REGISTERS, SET_TLS_BASE, WRITE_REGISTERS};
use crate::tests::{call, ROOT, TCB};
use crate::tests_ipc::{thread, world, T2, T3};
use crate::thread::{ThreadState, PC, SP, TP};

fn with_cap() -> crate::State {
    let mut s = world();
    let slot = SlotId {
        obj: ROOT,
        index: 5,
    };
    assert_eq!(s.cap(slot), None);
    s.insert_original(slot, Cap::Thread { obj: T2 });
    s.insert_original(SlotId { index: 6, ..slot }, Cap::Thread { obj: T3 });
    s
}

#[test]
fn written_registers_read_back_and_out_of_range_counts_fail() {
    let mut s = with_cap();
    // pc, ra, sp, then 3 more: six registers, resume not asked.
    let regs = [0x100, 0x200, 0x300, 4, 5, 6];
    let mut words = vec![0, 6];
    words.extend(regs);
    assert_eq!(call(&mut s, 5, WRITE_REGISTERS, &words, &[]), Ok(()));
    let t2 = thread(&s, T2);
    assert_eq!((t2.reg(PC), t2.next_ip, t2.reg(SP)), (0x100, 0x100, 0x300));
    // Fewer values than the count: TruncatedMessage, nothing written.
    let e = call(&mut s, 5, WRITE_REGISTERS, &[0, 3, 1], &[]);
    assert_eq!(e, Err(SyscallError::TruncatedMessage));
    assert_eq!(thread(&s, T2).reg(PC), 0x100);
    // The answer is the registers, in order (six: MR4, MR5 in the buffer).
    sys_read(&mut s, 6);
    let r = thread(&s, TCB);
    assert_eq!(
        (r.info.length, r.mrs, r.mr(4), r.mr(5)),
        (6, [0x100, 0x200, 0x300, 4], 5, 6)
    );
    let e = call(&mut s, 5, READ_REGISTERS, &[0, 33], &[]);
    assert_eq!(e, Err(SyscallError::RangeError { min: 1, max: 32 }));
}

fn sys_read(s: &mut crate::State, n: u64) {
    let inv = crate::Invocation {
        cptr: 5,
        label: READ_REGISTERS,
        words: vec![1, n],
        extra: vec![],
    };
    // ReadRegisters answers itself; the caller runs on.
    let answer = s.syscall(TCB, crate::Syscall::Call, &inv, None);
    assert_eq!(answer, Ok(None));
    assert_eq!(thread(s, TCB).state, ThreadState::Running);
    // Suspended as asked.
    assert_eq!(thread(s, T2).state, ThreadState::Inactive);
}

#[test]
fn copy_registers_copies_the_groups_asked_for() {
    let mut s = with_cap();
    assert_eq!(call(&mut s, 6, SET_TLS_BASE, &[0x77], &[]), Ok(()));
    s.thread_mut(T3).expect("T3").context[PC] = 0x40;
    // T3's integer registers (bit 3: a0..a7, t0..t6, tp) into T2.
    assert_eq!(call(&mut s, 5, COPY_REGISTERS, &[0b1000], &[6]), Ok(()));
    let t2 = thread(&s, T2);
    assert_eq!((t2.reg(TP), t2.reg(PC)), (0x77, 0));
    // Then the frame registers (bit 2: pc, ra, sp, gp, s0..s11).
    assert_eq!(call(&mut s, 5, COPY_REGISTERS, &[0b100], &[6]), Ok(()));
    let t2 = thread(&s, T2);
    assert_eq!((t2.reg(PC), t2.next_ip), (0x40, 0x40));
    // The source must be a thread cap.
    let e = call(&mut s, 5, COPY_REGISTERS, &[0b100], &[2]);
    assert_eq!(e, Err(SyscallError::InvalidCapability { index: 1 }));
}

#[test]
fn set_flags_clears_then_sets_the_known_flags_and_answers_them() {
    let mut s = with_cap();
    let inv = |clear, set| crate::Invocation {
        cptr: 5,
        label: crate::tcb::SET_FLAGS,
        words: vec![clear, set],
        extra: vec![],
    };
    // Only the FPU flag (bit 0) can be set; the answer is the new flags.
    assert_eq!(
        s.syscall(TCB, crate::Syscall::Call, &inv(0, 0xFF), None),
        Ok(None)
    );
    let r = thread(&s, TCB);
    assert_eq!((r.info.length, r.mrs[0], thread(&s, T2).flags), (1, 1, 1));
    assert_eq!(
        s.syscall(TCB, crate::Syscall::Call, &inv(1, 0), None),
        Ok(None)
    );
    assert_eq!((thread(&s, TCB).mrs[0], thread(&s, T2).flags), (0, 0));
    let e = call(&mut s, 5, crate::tcb::SET_FLAGS, &[0], &[]);
    assert_eq!(e, Err(SyscallError::TruncatedMessage));
}
