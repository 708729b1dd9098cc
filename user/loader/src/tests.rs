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
    b[8] = 2;
    assert_eq!(Spec::parse(&b).unwrap_err(), FormatError::Version(2));
    let mut b = spec(&[PT], &[], b"x");
    b.pop();
    assert_eq!(Spec::parse(&b).unwrap_err(), FormatError::Length);
    assert_eq!(
        Spec::parse(&spec(&[[9, 0, 0]], &[], b"")).unwrap_err(),
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
