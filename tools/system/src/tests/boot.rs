//! The loader's input (`crate::boot`): objects largest first, the
//! programs' segments as filled frames with their rights, the TCBs'
//! entry points, the CNode caps, and the refusals.

use crate::boot::{kind, op, serialise, Program, MAGIC, NONE, VERSION};
use crate::capdl::ObjId;

/// A RISC-V 64 `ET_EXEC` with one `PT_LOAD` per (vaddr, flags, bytes, memsz).
pub(super) fn elf(entry: u64, segs: &[(u64, u32, &[u8], u64)]) -> Vec<u8> {
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

/// [`elf`] with a symbol table of (name, value, size), all variables.
pub(super) fn elf_with_symbols(
    entry: u64,
    segs: &[(u64, u32, &[u8], u64)],
    syms: &[(&str, u64, u64)],
) -> Vec<u8> {
    let typed: Vec<_> = syms.iter().map(|&(n, v, s)| (n, v, s, 1)).collect();
    elf_with_typed_symbols(entry, segs, &typed)
}

/// [`elf`] with a symbol table of (name, value, size, `STT_*` type).
fn elf_with_typed_symbols(
    entry: u64,
    segs: &[(u64, u32, &[u8], u64)],
    syms: &[(&str, u64, u64, u8)],
) -> Vec<u8> {
    let mut out = elf(entry, segs);
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 24];
    for (name, value, size, ty) in syms {
        symtab.extend((strtab.len() as u32).to_le_bytes());
        symtab.extend([0x10 | ty, 0]); // STB_GLOBAL, the type
        symtab.extend(1u16.to_le_bytes());
        symtab.extend(value.to_le_bytes());
        symtab.extend(size.to_le_bytes());
        strtab.extend(name.as_bytes());
        strtab.push(0);
    }
    let str_at = out.len() as u64;
    out.extend(&strtab);
    let sym_at = out.len() as u64;
    out.extend(&symtab);
    let sh_at = out.len() as u64;
    out.extend([0u8; 64]);
    // (type, offset, size, link, entsize): .symtab, then .strtab.
    for (ty, off, size, link, ent) in [
        (2u32, sym_at, symtab.len() as u64, 2u32, 24u64),
        (3, str_at, strtab.len() as u64, 0, 0),
    ] {
        out.extend(0u32.to_le_bytes());
        out.extend(ty.to_le_bytes());
        for w in [0u64, 0, off, size] {
            out.extend(w.to_le_bytes());
        }
        out.extend(link.to_le_bytes());
        out.extend(1u32.to_le_bytes());
        out.extend(8u64.to_le_bytes());
        out.extend(ent.to_le_bytes());
    }
    out[40..48].copy_from_slice(&sh_at.to_le_bytes());
    out[60..62].copy_from_slice(&3u16.to_le_bytes());
    // The section names are in .strtab too (all empty).
    out[62..64].copy_from_slice(&2u16.to_le_bytes());
    out
}

/// The decoded input: objects (kind, bits, extra), steps, data.
pub(super) struct Input {
    pub(super) objects: Vec<[u64; 3]>,
    pub(super) steps: Vec<Vec<u64>>,
    pub(super) data: Vec<u8>,
}

pub(super) fn decode(b: &[u8]) -> Input {
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

/// Two PDs: ping calls and notifies pong (examples/ping.system without
/// its shared region and child).
const PING: &str = r#"<system>
    <protection_domain name="pong" priority="150">
        <program_image path="pong.elf" />
    </protection_domain>
    <protection_domain name="ping" priority="100">
        <program_image path="ping.elf" />
    </protection_domain>
    <channel>
        <end pd="ping" id="0" pp="true" />
        <end pd="pong" id="1" />
    </channel>
</system>"#;

fn ping_spec() -> crate::Spec {
    crate::load("ping.system", PING, super::CLASSIC)
        .unwrap()
        .spec
}

const TEXT: &[u8] = &[0x13; 5000];

fn programs<'a>(pong: &'a [u8], ping: &'a [u8]) -> Vec<Program<'a>> {
    vec![
        Program {
            tcb: ObjId::new("tcb_pong"),
            elf: pong,
            setvars: Vec::new(),
            blobs: Vec::new(),
        },
        Program {
            tcb: ObjId::new("tcb_ping"),
            elf: ping,
            setvars: Vec::new(),
            blobs: Vec::new(),
        },
        monitor(ping),
    ]
}

/// A program for the monitor every system has.
fn monitor(elf: &[u8]) -> Program<'_> {
    Program {
        tcb: ObjId::new("monitor_tcb"),
        elf,
        setvars: Vec::new(),
        blobs: Vec::new(),
    }
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
    // Device frames (the monitor's UART) take no RAM and come last.
    let device = |o: &[u64; 3]| o[0] == kind::FRAME && o[2] != NONE;
    let ram = input.objects.iter().take_while(|o| !device(o)).count();
    assert!(input.objects[ram..].iter().all(device));
    assert!(
        input.objects[..ram]
            .windows(2)
            .all(|p| bits(&p[0]) >= bits(&p[1])),
        "largest first"
    );
    // pong's, ping's, and the monitor's (here ping's program too).
    assert_eq!(input.data.len(), 5000 + 4 + 4 + 4);
    let of = |code: u64| input.steps.iter().filter(move |s| s[0] == code);
    // Fills: two pages of text, one of data, one of ping's text, one of
    // the monitor's.
    let fills: Vec<_> = of(op::FILL).map(|s| (s[2], s[3], s[4])).collect();
    assert_eq!(
        fills,
        [
            (0, 0, 4096),
            (0, 4096, 904),
            (0, 5000, 4),
            (0, 5004, 4),
            (0, 5008, 4)
        ]
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
            (0x10000, 6),
            (0x10000, 6)
        ]
    );
    // Each filled frame is mapped, and each address space has its tables
    // for 0x10000 (a level-1 and a level-2 table).
    for f in of(op::FILL) {
        assert!(of(op::MAP_FRAME).any(|m| m[1] == f[1]));
    }
    let low_tables = of(op::MAP_PT).filter(|s| s[3] < 0x4000_0000).count();
    assert_eq!(low_tables, 6);
    // Entry points and stacks.
    let tcbs: Vec<_> = of(op::TCB).map(|s| (s[9], s[10], s[6])).collect();
    assert_eq!(
        tcbs,
        [
            (0x10004, 0x3f_ffff_d000, 0x3f_ffff_e000),
            (0x10000, 0x3f_ffff_d000, 0x3f_ffff_e000),
            (0x10000, 0x3f_ffff_d000, 0x3f_ffff_e000)
        ]
    );
    assert_eq!(of(op::START).count(), 3);
    // ping's call cap: slot 74, W + grant-reply (1 | 8), the protected-call badge.
    let call = of(op::MINT).find(|s| s[2] == 74).unwrap();
    assert_eq!((call[4], call[5]), (9, (1 << 63) | 1));
    assert_eq!(input.objects[call[3] as usize][0], kind::ENDPOINT);
    // pong's notification cap to ping: slot 11, W only, badge bit 0.
    let ntfn = of(op::MINT).find(|s| s[2] == 11).unwrap();
    assert_eq!((ntfn[4], ntfn[5]), (1, 1));
    // Bound notifications (the monitor has none) and the classic fault
    // endpoints: the monitor's, in slot 2 of pong and ping (top-level).
    let tcbs: Vec<_> = of(op::TCB).map(|s| (s[11] != NONE, s[12])).collect();
    assert_eq!(tcbs, [(true, 2), (true, 2), (false, 0)]);
    // Dropped caps are never tables, frames or TCBs.
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
}

#[test]
fn verbose_is_a_header_flag() {
    let b = serialise(&ping_spec(), &[], true);
    // Without programs the TCBs have no ip: refused, by name.
    assert_eq!(b.unwrap_err(), "tcb_pong has no ip (and no program)");
    let p = elf(0x10000, &[(0x10000, 5, b"x", 1)]);
    let mut b = serialise(&ping_spec(), &programs(&p, &p), true).unwrap();
    assert_eq!(b[16], 1);
    // debug=off: the image builder adds the no-debug flag, and sets the
    // SDK's quiet variable in the programs that have one.
    crate::boot::set_flag(&mut b, crate::boot::FLAG_NO_DEBUG);
    assert_eq!(b[16], 1 | 2);
    assert_eq!(&b[..8], b"CAIRNSYS");
    let sdk = elf_with_symbols(
        0x10000,
        &[(0x10000, 5, b"x", 1), (0x11000, 6, b"", 0x1000)],
        &[(crate::layout::SDK_QUIET, 0x11000, 8)],
    );
    assert_eq!(
        crate::boot::quiet(&sdk),
        Some((crate::layout::SDK_QUIET.to_string(), 1))
    );
    assert_eq!(crate::boot::quiet(&p), None);
}

#[test]
fn device_frames_take_no_ram_and_carry_their_address() {
    // hello.system maps the UART (0x1000_0000) into a PD.
    let path = super::example("hello.system");
    let text = std::fs::read_to_string(&path).unwrap();
    let loaded = crate::load(&path, &text, super::CLASSIC).unwrap();
    let p = elf(0x10000, &[(0x10000, 5, b"x", 1)]);
    let system = loaded.system.as_ref().unwrap();
    let mut programs: Vec<Program> = system
        .pds
        .iter()
        .map(|pd| Program {
            tcb: ObjId::new(format!("tcb_{}", pd.name)),
            elf: &p,
            setvars: Vec::new(),
            blobs: Vec::new(),
        })
        .collect();
    programs.push(monitor(&p));
    let input = decode(&serialise(&loaded.spec, &programs, false).unwrap());
    let dev: Vec<usize> = (0..input.objects.len())
        .filter(|&i| input.objects[i][0] == kind::FRAME && input.objects[i][2] != NONE)
        .collect();
    assert_eq!(dev.len(), 1);
    assert_eq!(input.objects[dev[0]], [kind::FRAME, 12, 0x1000_0000]);
    // Sorted with the IRQ handlers, after every object that takes RAM.
    assert!(input.objects[dev[0]..]
        .iter()
        .all(|o| o[0] == kind::IRQ || o[2] != NONE));
    // Mapped, never filled.
    let d = dev[0] as u64;
    assert!(input
        .steps
        .iter()
        .any(|s| s[0] == op::MAP_FRAME && s[1] == d));
    assert!(!input.steps.iter().any(|s| s[0] == op::FILL && s[1] == d));
}

#[test]
fn setvars_patch_the_programs_variables() {
    let path = super::example("control.system");
    let text = std::fs::read_to_string(&path).unwrap();
    let loaded = crate::load(&path, &text, super::CLASSIC).unwrap();
    let system = loaded.system.as_ref().unwrap();
    let sensor = system.pd_index("sensor").unwrap();
    let vars = crate::boot::setvars(system, sensor);
    assert_eq!(
        vars,
        [
            ("uart_base".to_string(), 0x100_0000),
            ("samples".to_string(), 0x200_0000)
        ]
    );
    // uart_base in .data (file bytes), samples in the .bss tail.
    let data = [0xaau8; 16];
    let p = elf_with_symbols(
        0x10000,
        &[(0x10000, 5, b"x", 1), (0x11000, 6, &data, 0x100)],
        &[
            ("uart_base", 0x11008, 8),
            ("samples", 0x11040, 8),
            ("short", 0x11000, 4),
        ],
    );
    let spec = &loaded.spec;
    let prog = |pd: &str, setvars: Vec<(String, u64)>| Program {
        tcb: ObjId::new(format!("tcb_{pd}")),
        elf: &p,
        setvars,
        blobs: Vec::new(),
    };
    let mut programs: Vec<Program> = system
        .pds
        .iter()
        .map(|pd| prog(&pd.name, Vec::new()))
        .collect();
    programs[sensor].setvars = vars;
    programs.push(monitor(&p));
    let input = decode(&serialise(spec, &programs, false).unwrap());
    // The data page's fill: 16 file bytes grown to 0x48 with the patches.
    let fills: Vec<&Vec<u64>> = input
        .steps
        .iter()
        .filter(|s| s[0] == op::FILL && s[4] == 0x48)
        .collect();
    assert_eq!(fills.len(), 1, "only the sensor's data page is patched");
    let at = fills[0][3] as usize;
    let bytes = &input.data[at..at + 0x48];
    assert_eq!(&bytes[..8], &[0xaa; 8]);
    assert_eq!(bytes[8..16], 0x100_0000u64.to_le_bytes());
    assert!(bytes[16..0x40].iter().all(|&b| b == 0));
    assert_eq!(bytes[0x40..], 0x200_0000u64.to_le_bytes());

    // A symbol missing, of the wrong size, or outside the segments.
    for (sym, msg) in [
        (
            "nope",
            "tcb_sensor's program: no symbol `nope` (a setvar)",
        ),
        (
            "short",
            "tcb_sensor's program: setvar symbol `short` is 4 bytes, not a 64-bit variable (a setvar)",
        ),
    ] {
        programs[sensor].setvars = vec![(sym.to_string(), 1)];
        assert_eq!(serialise(spec, &programs, false).unwrap_err(), msg);
    }
    let far = elf_with_symbols(0x10000, &[(0x10000, 5, b"x", 1)], &[("v", 0x50000, 8)]);
    programs[sensor] = prog("sensor", vec![("v".to_string(), 1)]);
    programs[sensor].elf = &far;
    assert_eq!(
        serialise(spec, &programs, false).unwrap_err(),
        "tcb_sensor's program: setvar symbol at 0x50000 is not in a loaded segment"
    );
}

#[test]
fn setvars_that_are_not_64_bit_variables_are_reported_where_the_description_asks() {
    let path = super::example("control.system");
    let text = std::fs::read_to_string(&path).unwrap();
    let system = crate::sdf::parse(&path, &text, super::CLASSIC).unwrap();
    let controller = system.pd_index("controller").unwrap();
    // samples: 4 bytes; commands: a function; log: fine.
    let p = elf_with_typed_symbols(
        0x10000,
        &[(0x10000, 5, b"x", 0x100), (0x11000, 6, &[0; 32], 32)],
        &[
            ("samples", 0x11000, 4, 1),
            ("commands", 0x10010, 8, 2),
            ("log", 0x11008, 8, 1),
        ],
    );
    let diags = crate::setvar::check(&path, &system, controller, "controller.elf", &p);
    let shown: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        shown,
        [
            format!(
                "{path}:37:9: error: setvar_vaddr=\"samples\": in the program of 'controller' \
                 (controller.elf), setvar symbol `samples` is 4 bytes, not a 64-bit variable"
            ),
            format!(
                "{path}:38:9: error: setvar_vaddr=\"commands\": in the program of 'controller' \
                 (controller.elf), setvar symbol `commands` is a function, not a 64-bit variable"
            ),
        ]
    );
    // All of them right: nothing to say.
    let good = elf_with_typed_symbols(
        0x10000,
        &[(0x11000, 6, &[0; 32], 32)],
        &[
            ("samples", 0x11000, 8, 1),
            ("commands", 0x11008, 8, 0),
            ("log", 0x11010, 8, 1),
        ],
    );
    assert!(crate::setvar::check(&path, &system, controller, "c.elf", &good).is_empty());
    // A missing one, and a child's setvar_id in the parent's program.
    let text = r#"<system>
<protection_domain name="p" priority="5"><program_image path="p.elf"/>
  <protection_domain name="c" id="3" setvar_id="child_c"><program_image path="c.elf"/></protection_domain>
</protection_domain>
</system>"#;
    let system = crate::sdf::parse("k.system", text, super::CLASSIC).unwrap();
    assert_eq!(
        crate::setvar::setvars(&system, 0),
        [("child_c".to_string(), 3)]
    );
    let d = crate::setvar::check("k.system", &system, 0, "p.elf", &good);
    assert_eq!(
        d[0].to_string(),
        "k.system:3:3: error: setvar_id=\"child_c\": in the program of 'p' (p.elf), no symbol \
         `child_c` (a setvar of the description)"
    );
    // The serialiser refuses a function too (it does not rely on the check).
    let loaded = crate::load(&path, &text_of("control.system"), super::CLASSIC).unwrap();
    let progs: Vec<Program> = loaded
        .system
        .as_ref()
        .unwrap()
        .pds
        .iter()
        .map(|pd| Program {
            tcb: ObjId::new(format!("tcb_{}", pd.name)),
            elf: &p,
            setvars: if pd.name == "controller" {
                vec![("commands".to_string(), 1)]
            } else {
                Vec::new()
            },
            blobs: Vec::new(),
        })
        .collect();
    assert_eq!(
        serialise(&loaded.spec, &progs, false).unwrap_err(),
        "tcb_controller's program: setvar symbol `commands` is a function, not a 64-bit variable \
         (a setvar)"
    );
}

fn text_of(name: &str) -> String {
    std::fs::read_to_string(super::example(name)).unwrap()
}
