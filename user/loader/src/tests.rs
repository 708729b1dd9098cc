//! The input checks.

use super::*;

fn spec(objects: &[[u64; 3]], steps: &[u64], data: &[u8]) -> Vec<u8> {
    let mut w = vec![
        MAGIC,
        VERSION,
        0,
        objects.len() as u64,
        steps.len() as u64,
        data.len() as u64,
    ];
    objects.iter().for_each(|o| w.extend(o));
    w.extend(steps);
    let mut b: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    b.extend(data);
    b
}

const FRAME: [u64; 3] = [6, 12, NONE];
const PT: [u64; 3] = [5, 0, NONE];

#[test]
fn reads_objects_and_steps() {
    let b = spec(
        &[PT, FRAME],
        &[3, 1, 0, 0x1000, 3, 1, 2, 1, 8, 0, 4],
        b"abcd",
    );
    let s = Spec::parse(&b).unwrap();
    assert_eq!(s.n_objects(), 2);
    assert_eq!(s.object(1).unwrap().kind, Kind::Frame);
    assert_eq!(s.object(1).unwrap().mem_bits(), 12);
    let steps: Vec<_> = s.steps().map(Result::unwrap).collect();
    assert_eq!(
        steps,
        [
            Step::MapFrame {
                frame: 1,
                vspace: 0,
                vaddr: 0x1000,
                rights: 3,
                cached: 1
            },
            Step::Fill {
                frame: 1,
                offset: 8,
                data_offset: 0,
                len: 4
            },
        ]
    );
    assert_eq!(s.data, b"abcd");
}

#[test]
fn refuses_bad_inputs() {
    assert_eq!(Spec::parse(&[]).unwrap_err(), FormatError::Empty);
    let mut b = spec(&[PT], &[], b"");
    b[0] ^= 1;
    assert_eq!(Spec::parse(&b).unwrap_err(), FormatError::BadMagic);
    let mut b = spec(&[PT], &[], b"");
    b[8] = 1;
    assert_eq!(Spec::parse(&b).unwrap_err(), FormatError::Version(1));
    let mut b = spec(&[PT], &[], b"x");
    b.pop();
    assert_eq!(Spec::parse(&b).unwrap_err(), FormatError::Length);
    assert_eq!(
        Spec::parse(&spec(&[[10, 0, 0]], &[], b"")).unwrap_err(),
        FormatError::ObjectKind(0)
    );
    assert_eq!(
        Spec::parse(&spec(&[[6, 13, 0]], &[], b"")).unwrap_err(),
        FormatError::ObjectKind(0)
    );
    assert_eq!(
        Spec::parse(&spec(&[PT], &[99], b"")).unwrap_err(),
        FormatError::Opcode(0)
    );
    // Truncated operands.
    assert_eq!(
        Spec::parse(&spec(&[PT], &[7], b"")).unwrap_err(),
        FormatError::Length
    );
    // Out of range, and the wrong kind (a page table is not a TCB).
    assert_eq!(
        Spec::parse(&spec(&[PT], &[8, 1], b"")).unwrap_err(),
        FormatError::Operand(0)
    );
    assert_eq!(
        Spec::parse(&spec(&[PT], &[7, 0], b"")).unwrap_err(),
        FormatError::Operand(0)
    );
    // Fills past the data or past the frame.
    let f = spec(&[FRAME], &[8, 0, 2, 0, 0, 0, 5], b"abcd");
    assert_eq!(Spec::parse(&f).unwrap_err(), FormatError::Fill(2));
    let f = spec(&[FRAME], &[2, 0, 4095, 0, 2], b"ab");
    assert_eq!(Spec::parse(&f).unwrap_err(), FormatError::Fill(0));
    let f = spec(&[FRAME], &[2, 0, 4094, 0, 2], b"ab");
    assert!(Spec::parse(&f).is_ok());
    // Device frames: aligned to their size, never filled.
    let dev = [6, 12, 0x1000_0000];
    let s = spec(&[dev], &[], b"");
    let s = Spec::parse(&s).unwrap();
    assert_eq!(s.object(0).unwrap().device_paddr(), Some(0x1000_0000));
    assert_eq!(s.object(0).unwrap().mem_bits(), 12);
    assert_eq!(
        Spec::parse(&spec(&[[6, 12, 0x1000_0800]], &[], b"")).unwrap_err(),
        FormatError::ObjectKind(0)
    );
    assert_eq!(
        Spec::parse(&spec(&[[6, 21, 0x1000_1000]], &[], b"")).unwrap_err(),
        FormatError::ObjectKind(0)
    );
    let f = spec(&[dev], &[2, 0, 0, 0, 2], b"ab");
    assert_eq!(Spec::parse(&f).unwrap_err(), FormatError::Fill(0));
    assert_eq!(
        Spec::parse(&spec(&[FRAME], &[], b""))
            .unwrap()
            .object(0)
            .unwrap()
            .device_paddr(),
        None
    );
}

/// MCS objects and steps: a scheduling context (its size from
/// seL4_MinSchedContextBits to a page), a reply object, its
/// configuration, and a thread that binds it and has a fault handler cap.
#[test]
fn reads_scheduling_contexts_and_mcs_threads() {
    const SC: [u64; 3] = [8, 8, NONE];
    const REPLY: [u64; 3] = [9, 0, NONE];
    let b = spec(&[SC, REPLY], &[9, 0, 1000, 10_000, 0, 7], b"");
    let s = Spec::parse(&b).unwrap();
    assert_eq!(s.object(0).unwrap().kind, Kind::SchedContext);
    assert_eq!(s.object(0).unwrap().mem_bits(), 8);
    assert_eq!(s.object(1).unwrap().mem_bits(), 5);
    assert_eq!(
        s.steps().next().unwrap().unwrap(),
        Step::ScConfig {
            sc: 0,
            budget: 1000,
            period: 10_000,
            extra_refills: 0,
            badge: 7
        }
    );
    for bits in [6, 13] {
        assert_eq!(
            Spec::parse(&spec(&[[8, bits, NONE]], &[], b"")).unwrap_err(),
            FormatError::ObjectKind(0)
        );
    }
    // Configuring a reply object is refused.
    assert_eq!(
        Spec::parse(&spec(&[SC, REPLY], &[9, 1, 1, 1, 0, 0], b"")).unwrap_err(),
        FormatError::Operand(0)
    );
    // A thread: tcb 2, cnode 3, vspace 4, ipc frame 5, sc 0, fault ep 6.
    let objs = [
        SC,
        REPLY,
        [3, 0, NONE],
        [4, 9, NONE],
        PT,
        FRAME,
        [1, 0, NONE],
    ];
    let tcb = |sc: u64, fault: u64| {
        vec![
            6, 2, 3, 0, 4, 5, 0x1000, 10, 10, 0x10000, 0x2000, NONE, 0, sc, fault, 9, 3,
        ]
    };
    let s = spec(&objs, &tcb(0, 6), b"");
    let s = Spec::parse(&s).unwrap();
    match s.steps().next().unwrap().unwrap() {
        Step::Tcb(t) => {
            assert_eq!(
                (t.sc, t.fault_obj, t.fault_rights, t.fault_badge),
                (0, 6, 9, 3)
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(Spec::parse(&spec(&objs, &tcb(NONE, NONE), b"")).is_ok());
    // The scheduling context must be one, the fault handler an endpoint.
    assert_eq!(
        Spec::parse(&spec(&objs, &tcb(1, 6), b"")).unwrap_err(),
        FormatError::Operand(0)
    );
    assert_eq!(
        Spec::parse(&spec(&objs, &tcb(0, 1), b"")).unwrap_err(),
        FormatError::Operand(0)
    );
}

/// A thread's timeout handler (MCS): a TCB and an endpoint, the cap's
/// rights and badge; anything else in either place is refused, and so is
/// a step cut short.
#[test]
fn reads_timeout_handlers() {
    const TCB: [u64; 3] = [3, 0, NONE];
    const EP: [u64; 3] = [1, 0, NONE];
    let objs = [TCB, EP, [2, 0, NONE]];
    let s = spec(&objs, &[10, 0, 1, 9, 1 << 62], b"");
    let s = Spec::parse(&s).unwrap();
    assert_eq!(
        s.steps().next().unwrap().unwrap(),
        Step::TimeoutEp {
            tcb: 0,
            ep: 1,
            rights: 9,
            badge: 1 << 62
        }
    );
    // A notification is no timeout handler; an endpoint is no thread.
    for (tcb, ep) in [(0, 2), (1, 1), (0, 3)] {
        assert_eq!(
            Spec::parse(&spec(&objs, &[10, tcb, ep, 9, 1], b"")).unwrap_err(),
            FormatError::Operand(0)
        );
    }
    assert_eq!(
        Spec::parse(&spec(&objs, &[10, 0, 1, 9], b"")).unwrap_err(),
        FormatError::Length
    );
}
