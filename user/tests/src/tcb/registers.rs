//! ReadRegisters, WriteRegisters, CopyRegisters (ABI ref §7.3, §10) on
//! threads that never ran, and their errors.

use crate::check_eq;
use crate::fixture::{expect_err, expect_ok, range, raw, Env};
use crate::framework::{Ctx, TestResult};
use crate::threads::Threads;
use sel4::abi::invocation::label;
use sel4::cap::init_caps;
use sel4::object::tcb::{context_from_words, context_to_words, CopyFlags};
use sel4::{Error, UserContext, Word};

/// A context whose word `i` is `base + i`.
fn numbered(base: Word) -> UserContext {
    let w: [Word; 32] = core::array::from_fn(|i| base + i as Word);
    context_from_words(&w)
}

pub fn write_read_round_trip(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    let regs = numbered(0x1000);
    expect_ok(t.write_registers(false, 0, 32, &regs), "WriteRegisters")?;
    let back = expect_ok(t.read_registers(false, 0, 32), "ReadRegisters")?;
    check_eq!(back, regs, "registers read back");
    // Only the first `count` are written; the rest keep their values.
    expect_ok(
        t.write_registers(false, 0, 2, &numbered(0x5000)),
        "WriteRegisters(2)",
    )?;
    let w = context_to_words(&expect_ok(t.read_registers(false, 0, 32), "ReadRegisters")?);
    check_eq!(
        w[..3],
        [0x5000, 0x5001, 0x1002],
        "pc and ra rewritten, sp kept"
    );
    Ok(())
}

pub fn read_count(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    expect_ok(
        t.write_registers(false, 0, 32, &numbered(0x100)),
        "WriteRegisters",
    )?;
    // ReadRegisters of 5 replies with exactly 5 words.
    let msg = sel4::Message::new(label::TCB_READ_REGISTERS, &[0, 5], &[]);
    let reply = expect_ok(sel4::object::invoke(t.cptr(), &msg), "ReadRegisters(5)")?;
    let mut words = [0; 8];
    check_eq!(
        reply.copy_mrs(&mut words),
        &[0x100, 0x101, 0x102, 0x103, 0x104][..],
        "reply"
    );
    for n in [0, 33] {
        expect_err(
            t.read_registers(false, 0, n),
            range(1, 32),
            "count out of range",
        )?;
    }
    expect_err(
        raw(t.bits(), label::TCB_READ_REGISTERS, &[0], &[]),
        Error::TruncatedMessage,
        "one word",
    )
}

pub fn own_registers_illegal(_ctx: &Ctx<'_>) -> TestResult {
    let me = init_caps::TCB;
    expect_err(
        me.read_registers(false, 0, 1),
        Error::IllegalOperation,
        "ReadRegisters self",
    )?;
    let regs = UserContext::default();
    expect_err(
        me.write_registers(false, 0, 1, &regs),
        Error::IllegalOperation,
        "WriteRegisters self",
    )?;
    // The count is checked before the target.
    expect_err(
        me.read_registers(false, 0, 0),
        range(1, 32),
        "bad count, self",
    )
}

pub fn write_truncated(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    let w = t.bits();
    let l = label::TCB_WRITE_REGISTERS;
    expect_err(raw(w, l, &[0], &[]), Error::TruncatedMessage, "one word")?;
    expect_err(
        raw(w, l, &[0, 3, 1, 2], &[]),
        Error::TruncatedMessage,
        "3 announced, 2 sent",
    )?;
    // More than 32 announced and sent: clamped to 32.
    expect_ok(
        t.write_registers(false, 0, 32, &numbered(0)),
        "WriteRegisters",
    )?;
    let r = raw(
        w,
        l,
        &[
            0, 33, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
            23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
        ],
        &[],
    );
    expect_ok(r, "count 33 with 33 sent")?;
    let back = context_to_words(&expect_ok(t.read_registers(false, 0, 32), "ReadRegisters")?);
    check_eq!(back[31], 32, "tp");
    Ok(())
}

pub fn copy_by_flags(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let threads = Threads::new(&env);
    let (src, frame_dest, int_dest) = (threads.tcb()?, threads.tcb()?, threads.tcb()?);
    let regs = numbered(0x300);
    expect_ok(src.write_registers(false, 0, 32, &regs), "WriteRegisters")?;
    let frame = CopyFlags {
        transfer_frame: true,
        ..CopyFlags::default()
    };
    expect_ok(
        frame_dest.copy_registers(src, frame),
        "CopyRegisters(frame)",
    )?;
    let integer = CopyFlags {
        transfer_integer: true,
        arch_flags: 0xff, // ignored on RISC-V
        ..CopyFlags::default()
    };
    expect_ok(
        int_dest.copy_registers(src, integer),
        "CopyRegisters(integer)",
    )?;
    let want = context_to_words(&regs);
    let f = context_to_words(&expect_ok(frame_dest.read_registers(false, 0, 32), "read")?);
    check_eq!(
        f[..16],
        want[..16],
        "frame registers: pc, ra, sp, gp, s0-s11"
    );
    check_eq!(f[16..], [0; 16], "integer registers untouched");
    let i = context_to_words(&expect_ok(int_dest.read_registers(false, 0, 32), "read")?);
    check_eq!(i[..16], [0; 16], "frame registers untouched");
    check_eq!(i[16..], want[16..], "integer registers: a0-a7, t0-t6, tp");
    // Errors: no source cap, a source that is not a TCB.
    let d = frame_dest.bits();
    let l = label::TCB_COPY_REGISTERS;
    expect_err(raw(d, l, &[4], &[]), Error::TruncatedMessage, "no source")?;
    expect_err(
        raw(d, l, &[], &[src.bits()]),
        Error::TruncatedMessage,
        "no flags",
    )?;
    expect_err(
        raw(d, l, &[4], &[init_caps::CNODE.bits()]),
        Error::InvalidCapability { index: 1 },
        "source not a TCB",
    )
}

pub fn unknown_label(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    for l in [
        0,
        label::UNTYPED_RETYPE,
        label::TCB_SET_FLAGS + 1,
        label::DOMAIN_SET_SET,
    ] {
        expect_err(
            raw(t.bits(), l, &[0, 0, 0, 0], &[]),
            Error::IllegalOperation,
            "label",
        )?;
    }
    Ok(())
}
