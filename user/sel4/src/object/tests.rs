//! Host tests of the generated stubs: every invocation of the table is
//! called against the fake kernel, which decodes the system call as the
//! kernel reads it (registers, then the IPC buffer); the test checks the
//! invoked cptr, the label, the length, the extra caps and every word.
//!
//! The label numbers are written out, not taken from `cairn_abi`, so that a
//! wrong constant shared by kernel and library fails here: they are
//! seL4 16.0.0's `invocation_label`/`arch_invocation_label` values for
//! riscv64, from `classic.constants` and `mcs.constants` of
//! `../shared/reference/sel4-16.0.0-riscv64-abi.json` (e.g.
//! `"UntypedRetype": 1`, `"CNodeRevoke": 17` classic and 18 MCS,
//! `"RISCVPageMap": 35` and 41: [`l`] gives the two).

use super::cnode::RotateSlot;
use super::tcb::{context_from_words, context_to_words, CopyFlags};
use super::testing::{ok, one_call};
use crate::cap::*;
use crate::error::{Error, LookupFailure};
use crate::syscall::testing::Msg;
use cairn_abi::cap::CapRights;
use cairn_abi::context::UserContext;
use cairn_abi::object::ObjectType;
use cairn_abi::Word;

/// (invoked cptr, seL4's label, the stub call, MR words, extra-cap cptrs).
type Case = (
    Word,
    Word,
    fn() -> Result<(), Error>,
    &'static [Word],
    &'static [Word],
);

/// seL4's label number: `classic` in the classic configuration, `mcs` in
/// the MCS one (`mcs.constants` of the same file: the MCS TCB methods and
/// the SchedControl and SchedContext ones move the labels after them).
const fn l(classic: Word, mcs: Word) -> Word {
    if cfg!(feature = "mcs") {
        mcs
    } else {
        classic
    }
}

/// Runs each case and checks what it sent.
fn check(cases: &[Case]) {
    for &(dest, label, stub, mrs, caps) in cases {
        let (r, sent_to, msg) = one_call(ok(), stub);
        assert_eq!(r, Ok(()), "label {label}");
        let info = msg.info();
        let got = (sent_to, info.label(), info.length(), info.extra_caps());
        let want = (dest, label, mrs.len() as Word, caps.len() as Word);
        assert_eq!(got, want, "label {label}");
        assert_eq!((msg.mrs(), msg.caps()), (mrs, caps), "label {label}");
    }
}

const ROOT: CNode = CNode::from_bits(2);
const T: Tcb = Tcb::from_bits(1);
const VS: PageTable = PageTable::from_bits(3);

/// Registers numbered 100 (pc) to 131 (tp).
fn numbered() -> UserContext {
    let w: [Word; 32] = core::array::from_fn(|i| 100 + i as Word);
    context_from_words(&w)
}

#[test]
fn untyped() {
    check(&[(
        30,
        1,
        || Untyped::from_bits(30).retype(ObjectType::Endpoint, 0, ROOT, 0, 0, 100, 3),
        &[2, 0, 0, 0, 100, 3],
        &[2],
    )]);
}

#[test]
fn tcb() {
    check(&[
        // Bool at bit 0, Uint8 at bit 8, then a whole word.
        (
            1,
            2,
            || T.read_registers(true, 3, 32).map(drop),
            &[1 | 3 << 8, 32],
            &[],
        ),
        (1, 6, || T.set_priority(T, 200), &[200], &[1]),
        (1, 7, || T.set_mc_priority(T, 100), &[100], &[1]),
        (
            1,
            l(9, 10),
            || T.set_ipc_buffer(0x2000, Frame::from_bits(10)),
            &[0x2000],
            &[10],
        ),
        (1, l(11, 12), || T.suspend(), &[], &[]),
        (1, l(12, 13), || T.resume(), &[], &[]),
        (
            1,
            l(13, 14),
            || T.bind_notification(Notification::from_bits(40)),
            &[],
            &[40],
        ),
        (1, l(14, 15), || T.unbind_notification(), &[], &[]),
        (1, l(15, 16), || T.set_tls_base(0xabc), &[0xabc], &[]),
        (1, l(16, 17), || T.set_flags(0, 1).map(drop), &[0, 1], &[]),
    ]);
}

/// The classic forms: the fault endpoint is a cptr word (looked up at
/// fault time), in Configure and SetSpace.
#[cfg(not(feature = "mcs"))]
#[test]
fn tcb_classic() {
    check(&[
        (
            1,
            5,
            || {
                let (cs, fr) = (CNode::from_bits(2), Frame::from_bits(10));
                T.configure(CPtr(7), cs, 0x33, VS, 0, 0x1000, fr)
            },
            &[7, 0x33, 0, 0x1000],
            &[2, 3, 10],
        ),
        (1, 8, || T.set_sched_params(T, 100, 50), &[100, 50], &[1]),
        (
            1,
            10,
            || T.set_space(CPtr(7), ROOT, 1, VS, 2),
            &[7, 1, 2],
            &[2, 3],
        ),
    ]);
}

/// The MCS forms (seL4's MCS `object-api`): Configure has no fault
/// endpoint; SetSpace's fault endpoint and SetSchedParams' SchedContext
/// and fault endpoint are caps (copied into the TCB), after the others;
/// SetTimeoutEndpoint is MCS only.
#[cfg(feature = "mcs")]
#[test]
fn tcb_mcs() {
    check(&[
        (
            1,
            5,
            || {
                let (cs, fr) = (CNode::from_bits(2), Frame::from_bits(10));
                T.configure(cs, 0x33, VS, 0, 0x1000, fr)
            },
            &[0x33, 0, 0x1000],
            &[2, 3, 10],
        ),
        (
            1,
            8,
            || T.set_sched_params(T, 100, 50, CPtr(60), CPtr(7)),
            &[100, 50],
            &[1, 60, 7],
        ),
        (1, 9, || T.set_timeout_endpoint(CPtr(8)), &[], &[8]),
        (
            1,
            11,
            || T.set_space(CPtr(7), ROOT, 1, VS, 2),
            &[1, 2],
            &[7, 2, 3],
        ),
    ]);
}

/// MCS: SchedControl and SchedContext (ch. 6, *Scheduling Contexts*;
/// seL4's MCS labels 33 to 38).
#[cfg(feature = "mcs")]
#[test]
fn sched_context() {
    const SC: SchedContext = SchedContext::from_bits(60);
    check(&[
        (
            12,
            33,
            || SchedControl::from_bits(12).configure_flags(SC, 5000, 10_000, 2, 0x77, 1),
            &[5000, 10_000, 2, 0x77, 1],
            &[60],
        ),
        (60, 34, || SC.bind(CPtr(1)), &[], &[1]),
        (60, 35, || SC.unbind(), &[], &[]),
        (60, 36, || SC.unbind_object(CPtr(40)), &[], &[40]),
        (60, 37, || SC.consumed().map(drop), &[], &[]),
        (60, 38, || SC.yield_to().map(drop), &[], &[]),
    ]);
    // Consumed and YieldTo answer with the time consumed in MR0.
    let (r, _, _) = one_call(Msg::new(0, &[1234], &[]), || SC.consumed());
    assert_eq!(r, Ok(1234));
    let (r, _, _) = one_call(Msg::new(0, &[99], &[]), || SC.yield_to());
    assert_eq!(r, Ok(99));
}

#[test]
fn tcb_register_transfers() {
    // WriteRegisters always sends the flags word, count and all 32 words.
    let (r, _, msg) = one_call(ok(), || T.write_registers(true, 2, 5, &numbered()));
    assert_eq!(r, Ok(()));
    assert_eq!((msg.label(), msg.len(), msg.caps()), (3, 34, &[][..]));
    assert_eq!(&msg.mrs()[..3], &[1 | 2 << 8, 5, 100]);
    assert_eq!(&msg.mrs()[2..], &context_to_words(&numbered())[..]);
    // CopyRegisters: four Bools at bits 0-3, the Uint8 aligned to bit 8.
    let f = CopyFlags {
        suspend_source: true,
        resume_target: false,
        transfer_frame: true,
        transfer_integer: true,
        arch_flags: 1,
    };
    let (_, _, msg) = one_call(ok(), || T.copy_registers(Tcb::from_bits(20), f));
    assert_eq!(
        (msg.label(), msg.mrs(), msg.caps()),
        (4, &[0b1101 | 1 << 8][..], &[20][..])
    );
}

#[test]
fn tcb_results() {
    let reply = Msg::new(0, &context_to_words(&numbered()), &[]);
    let (r, _, _) = one_call(reply, || T.read_registers(false, 0, 32));
    assert_eq!(r, Ok(numbered()));
    // A short reply: the registers not sent read as 0.
    let (r, _, _) = one_call(Msg::new(0, &[5, 6], &[]), || T.read_registers(false, 0, 2));
    let want = UserContext {
        pc: 5,
        ra: 6,
        ..UserContext::default()
    };
    assert_eq!(r, Ok(want));
    let (r, _, _) = one_call(Msg::new(4, &[1, 32], &[]), || T.read_registers(false, 0, 0));
    assert_eq!(r, Err(Error::RangeError { min: 1, max: 32 }));
    let (r, _, _) = one_call(Msg::new(0, &[1], &[]), || T.set_flags(0, 1));
    assert_eq!(r, Ok(1));
}

#[test]
fn cnode() {
    check(&[
        (2, l(17, 18), || ROOT.revoke(40, 64), &[40, 64], &[]),
        (2, l(18, 19), || ROOT.delete(40, 64), &[40, 64], &[]),
        (
            2,
            l(19, 20),
            || ROOT.cancel_badged_sends(40, 64),
            &[40, 64],
            &[],
        ),
        (
            2,
            l(20, 21),
            || ROOT.copy(100, 64, ROOT, 1, 64, CapRights::READ_WRITE),
            &[100, 64, 1, 64, 3],
            &[2],
        ),
        (
            2,
            l(21, 22),
            || ROOT.mint(5, 13, ROOT, 6, 12, CapRights::ALL, 0x55),
            &[5, 13, 6, 12, 0xF, 0x55],
            &[2],
        ),
        (
            2,
            l(22, 23),
            || ROOT.move_(5, 64, ROOT, 6, 64),
            &[5, 64, 6, 64],
            &[2],
        ),
        (
            2,
            l(23, 24),
            || ROOT.mutate(5, 64, ROOT, 6, 64, 7),
            &[5, 64, 6, 64, 7],
            &[2],
        ),
        (
            2,
            l(24, 25),
            || {
                let s = |index, depth, badge| RotateSlot {
                    index,
                    depth,
                    badge,
                };
                let (p, r) = (CNode::from_bits(3), CNode::from_bits(4));
                // The source's badge (99) is not sent.
                ROOT.rotate(s(1, 64, 11), p, s(2, 63, 22), r, s(5, 62, 99))
            },
            &[1, 64, 11, 2, 63, 22, 5, 62],
            &[3, 4],
        ),
    ]);
    // Classic only: MCS has no caller slot to save.
    #[cfg(not(feature = "mcs"))]
    check(&[(2, 25, || ROOT.save_caller(40, 64), &[40, 64], &[])]);
}

#[test]
fn cnode_errors() {
    // ABI ref §6.7: Copy to dest depth 13 -> GuardMismatch.
    let reply = Msg::new(6, &[0, 4, 13, 0, 51], &[]);
    let (r, _, _) = one_call(reply, || ROOT.copy(100, 13, ROOT, 1, 64, CapRights::ALL));
    let failure = LookupFailure::GuardMismatch {
        bits_left: 13,
        guard_found: 0,
        bits_found: 51,
    };
    assert_eq!(
        r,
        Err(Error::FailedLookup {
            source: false,
            failure
        })
    );
}

#[test]
fn irq() {
    check(&[
        (
            8,
            26,
            || IrqControl::from_bits(8).get(10, ROOT, 200, 64),
            &[10, 200, 64],
            &[2],
        ),
        (200, 27, || IrqHandler::from_bits(200).ack(), &[], &[]),
        (
            200,
            28,
            || IrqHandler::from_bits(200).set_notification(Notification::from_bits(41)),
            &[],
            &[41],
        ),
        (200, 29, || IrqHandler::from_bits(200).clear(), &[], &[]),
        (
            8,
            l(40, 46),
            || IrqControl::from_bits(8).get_trigger(10, 1, ROOT, 200, 64),
            &[10, 1, 200, 64],
            &[2],
        ),
    ]);
}

#[test]
fn domain() {
    const D: DomainSet = DomainSet::from_bits(11);
    check(&[
        (11, 30, || D.set(3, T), &[3], &[1]),
        (
            11,
            31,
            || D.schedule_configure(2, 1, 100),
            &[2, 1, 100],
            &[],
        ),
        (11, 32, || D.schedule_set_start(5), &[5], &[]),
    ]);
    let (r, _, _) = one_call(Msg::new(1, &[0], &[]), || D.schedule_set_start(5));
    assert_eq!(r, Err(Error::InvalidArgument { index: 0 }));
}

#[test]
fn vspace() {
    check(&[
        (
            20,
            l(33, 39),
            || PageTable::from_bits(20).map(VS, 0x3F_C000_0000, 0),
            &[0x3F_C000_0000, 0],
            &[3],
        ),
        (20, l(34, 40), || PageTable::from_bits(20).unmap(), &[], &[]),
        (
            50,
            l(35, 41),
            // Read-only, execute-never (ABI ref §7.8).
            || Frame::from_bits(50).map(VS, 0x1000, CapRights::CAN_READ, 1),
            &[0x1000, 2, 1],
            &[3],
        ),
        (50, l(36, 42), || Frame::from_bits(50).unmap(), &[], &[]),
        (
            50,
            l(37, 43),
            || Frame::from_bits(50).get_address().map(drop),
            &[],
            &[],
        ),
        (
            5,
            l(38, 44),
            || AsidControl::from_bits(5).make_pool(Untyped::from_bits(30), ROOT, 77, 255),
            &[77, 255],
            &[30, 2],
        ),
        (
            6,
            l(39, 45),
            || AsidPool::from_bits(6).assign(PageTable::from_bits(40)),
            &[],
            &[40],
        ),
    ]);
}

#[test]
fn vspace_results_and_errors() {
    let frame = Frame::from_bits(9);
    let (r, _, _) = one_call(Msg::new(0, &[0x8020_0000], &[]), || frame.get_address());
    assert_eq!(r, Ok(0x8020_0000));
    // An error reply to GetAddress is the error, not an address.
    let (r, _, _) = one_call(Msg::new(3, &[], &[]), || frame.get_address());
    assert_eq!(r, Err(Error::IllegalOperation));
    // Page Map with no leaf table: FailedLookup, MissingCapability(21).
    let (r, _, _) = one_call(Msg::new(6, &[0, 2, 21], &[]), || {
        frame.map(VS, 0x1000, CapRights::ALL, 0)
    });
    let failure = LookupFailure::MissingCapability { bits_left: 21 };
    assert_eq!(
        r,
        Err(Error::FailedLookup {
            source: false,
            failure
        })
    );
}
