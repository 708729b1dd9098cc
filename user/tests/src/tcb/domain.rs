//! The domain cap (slot 11): DomainSet_Set, ScheduleConfigure and
//! ScheduleSetStart with seL4 16's checks (ch. 6 *Domains*; ABI ref §7.6).
//!
//! The numbers of domains and of schedule entries are build options user
//! space cannot read; the tests learn them from the RangeErrors and then
//! check that everything else agrees. The schedule is left as boot made it
//! (entry 0: domain 0 for the longest duration, start 0).

use crate::fixture::{expect_err, expect_ok, range, raw, Env};
use crate::framework::{Ctx, Failure, TestResult};
use crate::threads::Threads;
use crate::{check, fail};
use sel4::abi::invocation::label;
use sel4::cap::init_caps::{CNODE, DOMAIN, TCB as ROOT_TCB};
use sel4::{Error, Word};

/// The longest duration (56 bits).
const MAX_DURATION: Word = Word::MAX >> 8;

/// (schedule entries, domains), as the kernel's errors report them.
fn limits() -> Result<(Word, Word), Failure> {
    let entries = match DOMAIN.schedule_set_start(Word::MAX) {
        Err(Error::RangeError { min: 0, max }) => max + 1,
        r => fail!("ScheduleSetStart(max): {r:?}, expected RangeError(0, entries - 1)"),
    };
    let domains = match DOMAIN.schedule_configure(0, 255, 1) {
        Err(Error::RangeError { min: 0, max }) if max < 255 => max + 1,
        Ok(()) => 256,
        r => fail!("ScheduleConfigure(0, 255, 1): {r:?}"),
    };
    Ok((entries, domains))
}

fn restore() -> Result<(), Failure> {
    expect_ok(
        DOMAIN.schedule_configure(0, 0, MAX_DURATION),
        "restoring entry 0",
    )?;
    expect_ok(DOMAIN.schedule_set_start(0), "restoring the start")
}

pub fn set_domain(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    let (_, domains) = limits()?;
    check!(domains >= 1, "{domains} domains");
    expect_ok(DOMAIN.set((domains - 1) as u8, t), "Set to the last domain")?;
    expect_ok(DOMAIN.set(0, t), "Set to domain 0")?;
    expect_ok(
        DOMAIN.set(0, ROOT_TCB),
        "Set the root thread to its own domain 0",
    )?;
    let l = label::DOMAIN_SET_SET;
    let d = DOMAIN.bits();
    expect_err(
        raw(d, l, &[domains], &[t.bits()]),
        Error::InvalidArgument { index: 0 },
        "domain",
    )?;
    // MR0 is compared as a whole word, not as its low byte.
    expect_err(
        raw(d, l, &[1 << 8], &[t.bits()]),
        Error::InvalidArgument { index: 0 },
        "256",
    )?;
    expect_err(
        raw(d, l, &[], &[t.bits()]),
        Error::TruncatedMessage,
        "no domain",
    )?;
    expect_err(raw(d, l, &[0], &[]), Error::TruncatedMessage, "no thread")?;
    expect_err(
        raw(d, l, &[0], &[CNODE.bits()]),
        Error::InvalidArgument { index: 1 },
        "not a thread",
    )
}

pub fn schedule_configure(_ctx: &Ctx<'_>) -> TestResult {
    let (entries, domains) = limits()?;
    check!(entries >= 2, "{entries} schedule entries");
    let r = (|| {
        expect_ok(DOMAIN.schedule_configure(0, 0, 1000), "entry 0")?;
        expect_ok(
            DOMAIN.schedule_configure(0, 0, MAX_DURATION),
            "56-bit duration",
        )?;
        // Checks in order: index (the last entry stays an end marker),
        // domain, duration, end-marker shape, the start entry.
        let conf = |i: Word, d: Word, t: Word| {
            let msg = sel4::Message::new(label::DOMAIN_SCHEDULE_CONFIGURE, &[i, d, t], &[]);
            sel4::object::invoke(DOMAIN.cptr(), &msg).map(drop)
        };
        let (last, none) = (entries - 1, domains);
        expect_err(
            conf(last, none, MAX_DURATION + 1),
            range(0, entries - 2),
            "index",
        )?;
        expect_err(
            conf(0, none, MAX_DURATION + 1),
            range(0, domains - 1),
            "domain",
        )?;
        let inval = |index| Error::InvalidArgument { index };
        expect_err(
            conf(0, 0, MAX_DURATION + 1),
            inval(2),
            "duration beyond 56 bits",
        )?;
        if domains > 1 {
            expect_err(conf(0, 1, 0), inval(1), "an end marker with a domain")?;
        }
        expect_err(conf(0, 0, 0), inval(2), "the start entry as an end marker")?;
        let l = label::DOMAIN_SCHEDULE_CONFIGURE;
        expect_err(
            raw(DOMAIN.bits(), l, &[0, 0], &[]),
            Error::TruncatedMessage,
            "2 words",
        )
    })();
    restore()?;
    r
}

pub fn schedule_set_start(_ctx: &Ctx<'_>) -> TestResult {
    let (entries, _) = limits()?;
    let r = (|| {
        expect_err(
            DOMAIN.schedule_set_start(entries),
            range(0, entries - 1),
            "index",
        )?;
        expect_err(
            DOMAIN.schedule_set_start(entries - 1),
            Error::InvalidArgument { index: 0 },
            "an end marker",
        )?;
        expect_ok(DOMAIN.schedule_set_start(0), "SetStart(0)")?;
        let l = label::DOMAIN_SCHEDULE_SET_START;
        expect_err(
            raw(DOMAIN.bits(), l, &[], &[]),
            Error::TruncatedMessage,
            "no index",
        )?;
        // The schedule runs on: the root thread is still scheduled.
        sel4::syscall::yield_now();
        Ok(())
    })();
    restore()?;
    r
}

pub fn other_labels_illegal(_ctx: &Ctx<'_>) -> TestResult {
    for l in [0, label::TCB_SUSPEND, label::DOMAIN_SCHEDULE_SET_START + 1] {
        expect_err(
            raw(DOMAIN.bits(), l, &[0, 0, 0], &[]),
            Error::IllegalOperation,
            "label",
        )?;
    }
    Ok(())
}

/// Counts while it runs (a domain-1 spinner).
static SPINS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

fn spin(_: usize) {
    loop {
        SPINS.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
    }
}

/// The `time` counter (10 MHz on QEMU virt).
fn now() -> Word {
    let t: Word;
    // SAFETY: reads a counter CSR (user access granted by the kernel's
    // user-cycle-counter option); no memory access.
    unsafe { core::arch::asm!("rdtime {}", out(reg) t, options(nomem, nostack)) };
    t
}

/// With more than one domain, the schedule really switches: a thread put
/// in domain 1 runs only in domain 1's time slots, so the root thread (in
/// domain 0) sees it make progress only once the schedule of two 2-tick
/// entries has moved on. With one domain there is nothing to switch; the
/// test then checks that the spinner, put in domain 0 and below the root
/// thread's priority, does not run at all while the root thread runs.
pub fn schedule_switches_domains(ctx: &Ctx<'_>) -> TestResult {
    use core::sync::atomic::Ordering::SeqCst;
    let env = Env::new(ctx)?;
    let mut threads = Threads::new(&env);
    let (_, domains) = limits()?;
    SPINS.store(0, SeqCst);
    if domains == 1 {
        threads.start(spin, 0, 254, sel4::CPtr::NULL, true)?;
        let t0 = now();
        while now().wrapping_sub(t0) < 200_000 {} // 20 ms: ten ticks
        check!(SPINS.load(SeqCst) == 0, "a lower-priority thread ran");
        return Ok(());
    }
    let t = threads.start(spin, 0, 255, sel4::CPtr::NULL, false)?;
    expect_ok(DOMAIN.set(1, t.tcb), "Set the spinner to domain 1")?;
    expect_ok(t.tcb.resume(), "Resume the spinner")?;
    // Domain 0 holds the CPU until the schedule changes.
    let t0 = now();
    while now().wrapping_sub(t0) < 100_000 {} // 10 ms
    check!(
        SPINS.load(SeqCst) == 0,
        "a domain-1 thread ran in domain 0's time"
    );
    let result = (|| {
        expect_ok(
            DOMAIN.schedule_configure(0, 0, 2),
            "entry 0: domain 0, 2 ticks",
        )?;
        expect_ok(
            DOMAIN.schedule_configure(1, 1, 2),
            "entry 1: domain 1, 2 ticks",
        )?;
        expect_ok(DOMAIN.schedule_configure(2, 0, 0), "entry 2: end marker")?;
        expect_ok(DOMAIN.schedule_set_start(0), "ScheduleSetStart(0)")?;
        let t0 = now();
        while SPINS.load(SeqCst) == 0 && now().wrapping_sub(t0) < 10_000_000 {
            core::hint::spin_loop(); // for 1 s at most
        }
        check!(SPINS.load(SeqCst) > 0, "the domain-1 thread never ran");
        Ok(())
    })();
    let _ = t.tcb.suspend();
    expect_ok(
        DOMAIN.schedule_configure(1, 0, 0),
        "entry 1: end marker again",
    )?;
    restore()?;
    result
}
