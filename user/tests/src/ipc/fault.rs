//! Faults of worker threads delivered to the root thread as fault
//! messages (ABI ref §9), and what the reply does.

use super::worker::{clear, get, set, start};
use crate::fixture::{expect_eq, expect_ok, mint, Env};
use crate::framework::{Ctx, Failure, TestResult};
use sel4::{CPtr, CapRights, Endpoint, Message, Notification, ObjectType, Word};

/// Below the root thread: a faulting worker runs only while the root
/// thread waits for its fault.
const LOW: Word = 100;

/// seL4_Fault labels (the VM fault's is 6 under MCS, after the timeout
/// fault's).
const CAP_FAULT: Word = 1;
const UNKNOWN_SYSCALL: Word = 2;
const USER_EXCEPTION: Word = 3;
const VM_FAULT: Word = sel4::abi::fault::VM_FAULT;

/// The fault endpoint: an endpoint and a minted copy with badge 0x99 that
/// workers use as their fault handler.
fn fault_ep(env: &Env<'_>) -> Result<(Word, Word), Failure> {
    let ep = env.endpoint()?;
    let fep = env.slot()?;
    expect_ok(
        mint(fep, ep, CapRights::ALL, 0x99),
        "Mint of the fault endpoint",
    )?;
    Ok((ep, fep))
}

/// Starts worker 0 on `entry` with the fault endpoint and receives its
/// fault: (badge, message).
fn fault_of(env: &Env<'_>, entry: fn(usize)) -> Result<(Word, Message), Failure> {
    let (ep, fep) = fault_ep(env)?;
    set(10, env.create(ObjectType::Notification, 0)?);
    start(env, 0, entry, 0, LOW, CPtr(fep))?;
    Ok(crate::forms::recv(Endpoint::from_bits(ep)))
}

fn after_fault() {
    set(1, 1);
    Notification::from_bits(get(10)).signal();
}

fn unknown(_: usize) {
    // SAFETY: an `ecall` with an unknown number traps to the kernel, which
    // sends a fault and resumes us (the handler moves the pc past it); it
    // touches no memory of ours.
    unsafe { core::arch::asm!("ecall", in("a7") 1234u64, in("a0") 0xA0u64, options(nostack)) };
    after_fault();
}

pub(super) fn unknown_syscall(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let (badge, m) = fault_of(&env, unknown)?;
    expect_eq(
        (badge, m.label(), m.len()),
        (0x99, UNKNOWN_SYSCALL, 11),
        "the fault message",
    )?;
    expect_eq(
        (m.mr(3), m.mr(10)),
        (0xA0, 1234),
        "a0 and the syscall number",
    )?;
    // Reply with label 0: the registers are written back; pc + 4 skips it.
    let mut regs: [Word; 10] = core::array::from_fn(|i| m.mr(i));
    regs[0] += 4;
    crate::forms::reply(&Message::new(0, &regs, &[]));
    Notification::from_bits(get(10)).wait();
    expect_eq(get(1), 1, "the worker went on after the ecall")
}

fn breaks(_: usize) {
    // SAFETY: a 4-byte `ebreak` traps as a breakpoint; the handler resumes
    // us past it.
    unsafe { core::arch::asm!(".4byte 0x00100073", options(nostack)) };
    after_fault();
}

pub(super) fn breakpoint(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let (_, m) = fault_of(&env, breaks)?;
    expect_eq(
        (m.label(), m.len()),
        (USER_EXCEPTION, 4),
        "the fault message",
    )?;
    expect_eq((m.mr(2), m.mr(3)), (3, 0), "Number = breakpoint, Code 0")?;
    crate::forms::reply(&Message::new(0, &[m.mr(0) + 4, m.mr(1)], &[]));
    Notification::from_bits(get(10)).wait();
    expect_eq(get(1), 1, "the worker went on after the ebreak")
}

fn illegal(_: usize) {
    // SAFETY: the all-zero word is a defined illegal instruction; the
    // handler decides what happens to us.
    unsafe { core::arch::asm!(".4byte 0", options(nostack)) };
    after_fault();
}

pub(super) fn illegal_instruction(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let (_, m) = fault_of(&env, illegal)?;
    expect_eq(
        (m.label(), m.mr(2)),
        (USER_EXCEPTION, 2),
        "illegal instruction",
    )?;
    // A reply with a non-zero label stops the thread.
    crate::forms::reply(&Message::new(1, &[], &[]));
    sel4::syscall::yield_now();
    expect_eq(
        Notification::from_bits(get(10)).poll(),
        0,
        "the worker stopped",
    )?;
    expect_eq(get(1), 0, "the worker never went on")
}

fn load_zero(_: usize) {
    // SAFETY: a load from the unmapped address 0 faults; the handler never
    // resumes us (the test deletes this thread).
    unsafe { core::arch::asm!("ld t0, 0(zero)", out("t0") _, options(nostack, readonly)) };
}

fn store_eight(_: usize) {
    // SAFETY: as in `load_zero`, a store to the unmapped address 8.
    unsafe { core::arch::asm!("sd zero, 8(zero)", options(nostack)) };
}

fn jump_away(_: usize) {
    // SAFETY: as in `load_zero`, a jump to the unmapped 0x4000.
    unsafe { core::arch::asm!("li t0, 0x4000", "jr t0", out("t0") _, options(nostack)) };
}

/// A VM fault case: the worker's entry, then the fault message's address,
/// prefetch flag and FSR.
type VmFaultCase = (fn(usize), Word, Word, Word);

pub(super) fn vm_faults(ctx: &Ctx<'_>) -> TestResult {
    let cases: [VmFaultCase; 3] = [
        (load_zero, 0, 0, 5),
        (store_eight, 8, 0, 7),
        (jump_away, 0x4000, 1, 1),
    ];
    for (entry, addr, prefetch, fsr) in cases {
        let env = Env::new(ctx)?;
        clear();
        let (_, m) = fault_of(&env, entry)?;
        expect_eq(m.label(), VM_FAULT, "label")?;
        expect_eq(
            (m.mr(1), m.mr(2), m.mr(3)),
            (addr, prefetch, fsr),
            "Addr, PrefetchFault, FSR",
        )?;
        if prefetch == 1 {
            expect_eq(m.mr(0), addr, "IP of a fetch fault")?;
        }
    }
    Ok(())
}

fn recv_empty(_: usize) {
    let _ = crate::forms::recv(Endpoint::from_bits(get(2)));
}

pub(super) fn cap_fault_recv(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    let empty = env.slot()?;
    set(2, empty);
    let (_, m) = fault_of(&env, recv_empty)?;
    expect_eq((m.label(), m.len()), (CAP_FAULT, 5), "the fault message")?;
    expect_eq((m.mr(1), m.mr(2)), (empty, 1), "Addr, InRecvPhase")?;
    expect_eq((m.mr(3), m.mr(4)), (2, 0), "MissingCapability, bitsLeft 0")
}

fn marks_then_faults(_: usize) {
    set(1, 1);
    // SAFETY: as in `illegal`; with no fault handler the kernel stops us.
    unsafe { core::arch::asm!(".4byte 0", options(nostack)) };
    set(2, 1);
}

pub(super) fn no_handler(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    clear();
    start(&env, 0, marks_then_faults, 0, 255, CPtr::NULL)?;
    sel4::syscall::yield_now();
    sel4::syscall::yield_now();
    expect_eq((get(1), get(2)), (1, 0), "the worker ran up to its fault")
}
