//! The loader's input (`crate::boot`): objects largest first, the
//! programs' segments as filled frames with their rights, the TCBs'
//! entry points, the CNode caps, and the refusals.

use crate::boot::{kind, op, serialise, Program, MAGIC, NONE, VERSION};
use crate::capdl::ObjId;

/// A RISC-V 64 `ET_EXEC` with one `PT_LOAD` per (vaddr, flags, bytes, memsz).
fn elf(entry: u64, segs: &[(u64, u32, &[u8], u64)]) -> Vec<u8> {
    let ph_at = 64u64;
    let mut data_at = ph_at + 56 * segs.len() as u64;
    let mut out = Vec::new();
    out.extend(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    out.extend(2u16.to_le_bytes());
    out.extend(243u16.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    out.extend(entry.to_le_bytes());
    out.extend(ph_at.to_le_bytes());
    out.extend(0u64.to_le_bytes());
    out.extend(0u32.to_le_bytes());
    for h in [64u16, 56, segs.len() as u16, 64, 0, 0] {
        out.extend(h.to_le_bytes());
    }
    for (vaddr, flags, bytes, memsz) in segs {
        out.extend(1u32.to_le_bytes());
        out.extend(flags.to_le_bytes());
        for w in [data_at, *vaddr, *vaddr, bytes.len() as u64, *memsz, 0x1000] {
            out.extend(w.to_le_bytes());
        }
        data_at += bytes.len() as u64;
    }
    for (_, _, bytes, _) in segs {
        out.extend(*bytes);
    }
    out
}

/// The decoded input: objects (kind, bits, extra), steps, data.
struct Input {
    objects: Vec<[u64; 3]>,
    steps: Vec<Vec<u64>>,
    data: Vec<u8>,
}

fn decode(b: &[u8]) -> Input {
    let w: Vec<u64> = b
        .chunks(8)
        .map(|c| {
            let mut a = [0; 8];
            a[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(a)
        })
        .collect();
    assert_eq!((w[0], w[1], w[2]), (MAGIC, VERSION, 0));
    let (n, s, d) = (w[3] as usize, w[4] as usize, w[5] as usize);
    let objects = (0..n)
        .map(|i| [w[6 + 3 * i], w[7 + 3 * i], w[8 + 3 * i]])
        .collect();
    let mut steps = Vec::new();
    let mut i = 6 + 3 * n;
    while i < 6 + 3 * n + s {
        let len = 1 + crate::boot::operands(w[i]);
        steps.push(w[i..i + len].to_vec());
        i += len;
    }
    let data = b[(6 + 3 * n + s) * 8..].to_vec();
    assert_eq!(data.len(), d);
    Input {
        objects,
        steps,
        data,
    }
}

fn ping_spec() -> crate::Spec {
    let path = super::example("ping.system");
    let text = std::fs::read_to_string(&path).unwrap();
    crate::load(&path, &text, super::CLASSIC).unwrap().spec
}

const TEXT: &[u8] = &[0x13; 5000];

fn programs<'a>(pong: &'a [u8], ping: &'a [u8]) -> Vec<Program<'a>> {
    vec![
        Program {
            tcb: ObjId::new("tcb_pong"),
            elf: pong,
        },
        Program {
            tcb: ObjId::new("tcb_ping"),
            elf: ping,
        },
    ]
}

#[test]
fn programs_become_filled_frames_with_their_rights() {
    // pong: R+X text over two pages, then R+W data with a .bss tail.
    let pong = elf(
        0x10004,
        &[(0x10000, 5, TEXT, 5000), (0x12000, 6, b"data", 0x1800)],
    );
    let ping = elf(0x10000, &[(0x10000, 5, b"ping", 4)]);
    let input = decode(&serialise(&ping_spec(), &programs(&pong, &ping), false).unwrap());

    let bits = |o: &[u64; 3]| if o[0] == kind::CNODE { o[1] + 5 } else { o[1] };
    assert!(
        input.objects.windows(2).all(|p| bits(&p[0]) >= bits(&p[1])),
        "largest first"
    );
    assert_eq!(input.data.len(), 5000 + 4 + 4);
    let of = |code: u64| input.steps.iter().filter(move |s| s[0] == code);
    // Fills: two pages of text, one of data, one of ping's text.
    let fills: Vec<_> = of(op::FILL).map(|s| (s[2], s[3], s[4])).collect();
    assert_eq!(
        fills,
        [(0, 0, 4096), (0, 4096, 904), (0, 5000, 4), (0, 5004, 4)]
    );
    // Mappings of the programs (R = 2, W = 1, X as the grant bit 4).
    let maps: Vec<_> = of(op::MAP_FRAME)
        .filter(|s| s[3] < 0x100000)
        .map(|s| (s[3], s[4]))
        .collect();
    assert_eq!(
        maps,
        [
            (0x10000, 6),
            (0x11000, 6),
            (0x12000, 3),
            (0x13000, 3),
            (0x10000, 6)
        ]
    );
    // Each filled frame is mapped, and each address space has its tables
    // for 0x10000 (a level-1 and a level-2 table).
    for f in of(op::FILL) {
        assert!(of(op::MAP_FRAME).any(|m| m[1] == f[1]));
    }
    let low_tables = of(op::MAP_PT).filter(|s| s[3] < 0x4000_0000).count();
    assert_eq!(low_tables, 4);
    // Entry points and stacks.
    let tcbs: Vec<_> = of(op::TCB).map(|s| (s[9], s[10], s[6])).collect();
    assert_eq!(
        tcbs,
        [
            (0x10004, 0x3f_ffff_d000, 0x3f_ffff_e000),
            (0x10000, 0x3f_ffff_d000, 0x3f_ffff_e000)
        ]
    );
    assert_eq!(of(op::START).count(), 2);
    // ping's call cap: slot 74, W + grant-reply (1 | 8), the protected-call badge.
    let call = of(op::MINT).find(|s| s[2] == 74).unwrap();
    assert_eq!((call[4], call[5]), (9, (1 << 63) | 1));
    assert_eq!(input.objects[call[3] as usize][0], kind::ENDPOINT);
    // pong's notification cap to ping: slot 11, W only, badge bit 0.
    let ntfn = of(op::MINT).find(|s| s[2] == 11).unwrap();
    assert_eq!((ntfn[4], ntfn[5]), (1, 1));
    // Bound notifications; dropped caps are never tables, frames or TCBs.
    assert!(of(op::TCB).all(|s| s[11] != NONE));
    for d in of(op::DROP) {
        let k = input.objects[d[1] as usize][0];
        assert!(k != kind::FRAME && k != kind::PAGE_TABLE && k != kind::TCB);
    }
}

#[test]
fn refuses_what_it_cannot_load() {
    let ok = elf(0x10000, &[(0x10000, 5, b"x", 1)]);
    // A program over the stack.
    let over = elf(0x3f_ffff_c000, &[(0x3f_ffff_c000, 5, b"x", 1)]);
    let e = serialise(&ping_spec(), &programs(&ok, &over), false).unwrap_err();
    assert!(
        e.contains("tcb_ping's program overlaps a mapping at 0x3fffffc000"),
        "{e}"
    );
    let e = serialise(&ping_spec(), &programs(&ok, b"not an elf"), false).unwrap_err();
    assert!(e.starts_with("tcb_ping's program:"), "{e}");
    let mut wrong = programs(&ok, &ok);
    wrong[1].tcb = ObjId::new("tcb_nobody");
    assert_eq!(
        serialise(&ping_spec(), &wrong, false).unwrap_err(),
        "no TCB tcb_nobody"
    );
    // Device frames wait for the next step (hello maps the UART).
    let path = super::example("hello.system");
    let text = std::fs::read_to_string(&path).unwrap();
    let hello = crate::load(&path, &text, super::CLASSIC).unwrap().spec;
    let e = serialise(&hello, &[], false).unwrap_err();
    assert_eq!(
        e,
        "frame_uart_0: frames at a physical address are not loaded yet"
    );
}

#[test]
fn verbose_is_a_header_flag() {
    let b = serialise(&ping_spec(), &[], true);
    // Without programs the TCBs have no ip: refused, by name.
    assert_eq!(b.unwrap_err(), "tcb_pong has no ip (and no program)");
    let p = elf(0x10000, &[(0x10000, 5, b"x", 1)]);
    let b = serialise(&ping_spec(), &programs(&p, &p), true).unwrap();
    assert_eq!(b[16], 1);
}
