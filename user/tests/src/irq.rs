//! IRQ control and IRQ handler invocations (ch. 8 Hardware I/O; ABI ref
//! §7.5, §12): issuing a handler cap for a line, the errors of each
//! method, and that a line is issued once until its handler caps are gone.
//!
//! Handler caps are children of IRQControl, not of the fixture's pool, so
//! every test deletes the ones it made (an issued line would make the
//! next test's Get fail with RevokeFirst).

use crate::fixture::{copy, delete, expect_err, expect_ok, expect_tag, failure, Env, ROOT};
use crate::framework::{Ctx, Test, TestResult};
use cairn_rt::alloc::SlotAllocator;
use cairn_rt::uart::{self, IER, IER_THR_EMPTY, MCR, MCR_INTERRUPTS};
use sel4::abi::bootinfo::SlotRegion;
use sel4::abi::invocation::label;
use sel4::cap::init_caps::IRQ_CONTROL;
use sel4::{init, tag, CapRights, Error, IrqHandler, Notification, ObjectType, Word};

/// QEMU virt's UART0 line, and two other device lines.
const UART_IRQ: Word = 10;
const RTC_IRQ: Word = 11;
const VIRTIO_IRQ: Word = 1;
/// maxIRQ: the kernel timer's line.
const MAX_IRQ: Word = 96;

pub const TESTS: &[Test] = &[
    Test {
        name: "irq_control_get_out_of_range_range_error",
        run: get_out_of_range,
    },
    Test {
        name: "irq_control_get_timer_irq_revoke_first",
        run: get_timer,
    },
    Test {
        name: "irq_control_get_issues_a_handler_once",
        run: get_once,
    },
    Test {
        name: "irq_control_get_occupied_slot_delete_first",
        run: get_occupied,
    },
    Test {
        name: "irq_control_get_truncated_and_bad_label",
        run: get_truncated,
    },
    Test {
        name: "irq_control_get_trigger_issues_a_handler",
        run: get_trigger,
    },
    Test {
        name: "irq_handler_set_notification_errors",
        run: set_notification_errors,
    },
    Test {
        name: "irq_handler_set_ack_clear",
        run: set_ack_clear,
    },
    Test {
        name: "irq_handler_copy_keeps_the_line_issued",
        run: copy_keeps_line,
    },
    Test {
        name: "irq_handler_ack_delivers_an_interrupt_raised_while_masked",
        run: ack_delivers_pending,
    },
];

fn get(irq: Word, slot: Word) -> Result<(), Error> {
    IRQ_CONTROL.get(irq, ROOT, slot, 64)
}

fn get_out_of_range(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let d = env.slot()?;
    for irq in [0, MAX_IRQ + 1, Word::MAX] {
        expect_err(
            get(irq, d),
            Error::RangeError {
                min: 1,
                max: MAX_IRQ,
            },
            "IRQControl_Get of a line out of range",
        )?;
    }
    expect_tag(d, tag::NULL, "destination")
}

fn get_timer(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let d = env.slot()?;
    expect_err(
        get(MAX_IRQ, d),
        Error::RevokeFirst,
        "IRQControl_Get of the timer",
    )?;
    expect_tag(d, tag::NULL, "destination")
}

fn get_once(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (a, b) = (env.slot()?, env.slot()?);
    expect_ok(get(UART_IRQ, a), "IRQControl_Get")?;
    expect_tag(a, tag::IRQ_HANDLER, "the handler cap")?;
    expect_err(
        get(UART_IRQ, b),
        Error::RevokeFirst,
        "a second Get of the line",
    )?;
    expect_tag(b, tag::NULL, "second destination")?;
    expect_ok(delete(a), "deleting the handler")?;
    expect_ok(get(UART_IRQ, b), "Get after the handler is gone")?;
    expect_ok(delete(b), "cleanup")
}

fn get_occupied(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let ep = env.endpoint()?;
    expect_err(
        get(RTC_IRQ, ep),
        Error::DeleteFirst,
        "Get into an occupied slot",
    )?;
    // The failed Get issued nothing.
    let d = env.slot()?;
    expect_ok(get(RTC_IRQ, d), "Get into an empty slot")?;
    expect_ok(delete(d), "cleanup")
}

fn get_truncated(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let d = env.slot()?;
    let raw = crate::fixture::raw;
    expect_err(
        raw(
            init::IRQ_CONTROL,
            label::IRQ_ISSUE_IRQ_HANDLER,
            &[UART_IRQ, d],
            &[ROOT.bits()],
        ),
        Error::TruncatedMessage,
        "Get with two words",
    )?;
    expect_err(
        raw(
            init::IRQ_CONTROL,
            label::IRQ_ISSUE_IRQ_HANDLER,
            &[UART_IRQ, d, 64],
            &[],
        ),
        Error::TruncatedMessage,
        "Get without the root",
    )?;
    expect_err(
        raw(
            init::IRQ_CONTROL,
            label::CNODE_COPY,
            &[UART_IRQ, d, 64],
            &[ROOT.bits()],
        ),
        Error::IllegalOperation,
        "a CNode label on IRQControl",
    )?;
    expect_tag(d, tag::NULL, "destination")
}

fn get_trigger(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let d = env.slot()?;
    expect_ok(
        IRQ_CONTROL.get_trigger(VIRTIO_IRQ, 1, ROOT, d, 64),
        "IRQControl_GetTrigger (edge)",
    )?;
    expect_tag(d, tag::IRQ_HANDLER, "the handler cap")?;
    expect_err(get(VIRTIO_IRQ, env.slot()?), Error::RevokeFirst, "then Get")?;
    expect_ok(delete(d), "cleanup")
}

fn set_notification_errors(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let h = env.slot()?;
    expect_ok(get(UART_IRQ, h), "IRQControl_Get")?;
    let handler = IrqHandler::from_bits(h);
    let ep = env.endpoint()?;
    let result = (|| {
        expect_err(
            handler.set_notification(Notification::from_bits(ep)),
            Error::InvalidCapability { index: 0 },
            "SetNotification with an endpoint",
        )?;
        let n = env.create(ObjectType::Notification, 0)?;
        let ro = env.slot()?;
        expect_ok(
            crate::fixture::mint(ro, n, CapRights::CAN_READ, 0),
            "a read-only notification",
        )?;
        expect_err(
            handler.set_notification(Notification::from_bits(ro)),
            Error::InvalidCapability { index: 0 },
            "SetNotification without the Write right",
        )?;
        expect_err(
            crate::fixture::raw(h, label::IRQ_SET_IRQ_HANDLER, &[], &[]),
            Error::TruncatedMessage,
            "SetNotification without a cap",
        )?;
        expect_err(
            crate::fixture::raw(h, 0x7777, &[], &[]),
            Error::IllegalOperation,
            "a bad label",
        )
    })();
    expect_ok(delete(h), "cleanup")?;
    result
}

fn set_ack_clear(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let h = env.slot()?;
    expect_ok(get(UART_IRQ, h), "IRQControl_Get")?;
    let handler = IrqHandler::from_bits(h);
    let n = env.create(ObjectType::Notification, 0)?;
    let result = (|| {
        expect_ok(
            handler.set_notification(Notification::from_bits(n)),
            "SetNotification",
        )?;
        expect_ok(
            handler.set_notification(Notification::from_bits(n)),
            "again (replaces)",
        )?;
        expect_ok(handler.ack(), "Ack")?;
        expect_ok(handler.clear(), "Clear")?;
        expect_ok(handler.clear(), "Clear again")?;
        // No interrupt was raised: the notification has nothing pending.
        let pending = Notification::from_bits(n).poll();
        if pending != 0 {
            return Err(failure!("spurious signal {pending:#x}"));
        }
        Ok(())
    })();
    expect_ok(delete(h), "cleanup")?;
    result
}

fn copy_keeps_line(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let (h, c) = (env.slot()?, env.slot()?);
    expect_ok(get(RTC_IRQ, h), "IRQControl_Get")?;
    expect_ok(copy(c, h, CapRights::ALL), "Copy of the handler")?;
    expect_tag(c, tag::IRQ_HANDLER, "the copy")?;
    expect_ok(delete(h), "deleting the original")?;
    expect_err(
        get(RTC_IRQ, env.slot()?),
        Error::RevokeFirst,
        "Get while a copy lives",
    )?;
    expect_ok(delete(c), "deleting the copy")?;
    let d = env.slot()?;
    expect_ok(get(RTC_IRQ, d), "Get once all are gone")?;
    expect_ok(delete(d), "cleanup")
}

/// The badge the UART's interrupt signals with in
/// [`ack_delivers_pending`].
const UART_BADGE: Word = 0x1A;

/// Polls `n` a few times (the interrupt is taken as the kernel returns to
/// user mode, so the first poll already sees it; the rest is margin).
fn poll_for(n: Notification) -> Word {
    for _ in 0..64 {
        let b = n.poll();
        if b != 0 {
            return b;
        }
    }
    0
}

/// The UART (QEMU virt's ns16550a, IRQ 10) raises its transmitter-empty
/// interrupt as soon as it is enabled. Raised while the line is masked
/// (after a delivery, before `IRQHandler_Ack`), it is not delivered, and
/// the Ack delivers it: a PLIC signals a source that is pending when it
/// is enabled (QEMU 7.2's needs the kernel's help: docs/mcs.md).
fn ack_delivers_pending(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let Some(dev) = ctx.bi.untypeds().find(|u| {
        u.is_device && u.paddr <= uart::PADDR && uart::PADDR - u.paddr < u.size().unwrap_or(0)
    }) else {
        return Err(failure!("no device untyped holds the UART"));
    };
    let h = env.slot()?;
    expect_ok(get(UART_IRQ, h), "IRQControl_Get")?;
    let handler = IrqHandler::from_bits(h);
    let result = (|| {
        let n = env.create(ObjectType::Notification, 0)?;
        let badged = env.slot()?;
        expect_ok(
            crate::fixture::mint(badged, n, CapRights::ALL, UART_BADGE),
            "a badged notification",
        )?;
        expect_ok(
            handler.set_notification(Notification::from_bits(badged)),
            "SetNotification",
        )?;
        let n = Notification::from_bits(n);
        // The UART's page from its device untyped (two slots per halving,
        // the frame, page tables from the pool).
        let first = env.slots(80)?;
        let mut slots = SlotAllocator::new(SlotRegion {
            start: first,
            end: first + 80,
        });
        let u = uart::map(ctx.bi, env.untyped(16)?, &mut slots)
            .map_err(|uart::Failed(what, e)| failure!("{what}: {e}"))?;
        u.write(IER, 0);
        u.write(MCR, MCR_INTERRUPTS);
        // Unmasked (Get unmasks): delivered at once, and the line masked.
        u.write(IER, IER_THR_EMPTY);
        let first = poll_for(n);
        // Lowered and raised again while masked: not delivered.
        u.write(IER, 0);
        u.write(IER, IER_THR_EMPTY);
        let masked = poll_for(n);
        // The Ack unmasks it: delivered now.
        let acked = handler.ack();
        let after_ack = poll_for(n);
        u.write(IER, 0);
        expect_ok(acked, "Ack")?;
        crate::check_eq!(first, UART_BADGE, "the signal of an unmasked line");
        crate::check_eq!(masked, 0, "a signal while the line is masked");
        crate::check_eq!(after_ack, UART_BADGE, "the signal the Ack lets through");
        Ok(())
    })();
    expect_ok(delete(h), "cleanup")?;
    // Deletes the halves, the frame and its mapping.
    let _ = crate::fixture::revoke(dev.cap.bits());
    result
}
