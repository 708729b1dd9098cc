//! CapDL `fill` entries of a `.cdl` input loaded by the image builder
//! (`cargo xtask run --system spec.cdl`): file bytes copied into frames,
//! zero fills, and each refusal.

use super::boot::decode;
use crate::boot::{op, serialise, serialise_with_files};

/// A thread whose code page is filled from `w.bin` and a data page with
/// a zero fill and a second file slice.
fn cdl(fills: &str) -> String {
    format!(
        r#"arch riscv
objects {{
  t = tcb (addr: 0x3ffffe000, ip: 0x10000, sp: 0x3ffffd000, prio: 10, max_prio: 10)
  c = cnode (4 bits)
  v = pt
  l1 = pt
  l2 = pt
  ipc = frame (4k)
  code = frame (4k, fill: [{fills}])
}}
caps {{
  t {{
    cspace: c (guard_size: 60)
    vspace: v
    ipc_buffer_slot: ipc (RW)
  }}
  v {{ 0: l1 }}
  l1 {{ 0: l2 }}
  l2 {{ 16: code (RX) }}
}}
"#
    )
}

fn spec(fills: &str) -> crate::Spec {
    crate::load("t.cdl", &cdl(fills), super::CLASSIC)
        .unwrap_or_else(|d| panic!("{}", crate::diag::render(&d)))
        .spec
}

fn files(name: &str) -> Result<Vec<u8>, String> {
    match name {
        "w.bin" => Ok((0..=255u8).cycle().take(600).collect()),
        other => Err(format!("no file {other}")),
    }
}

#[test]
fn file_fills_become_fill_steps_and_zero_fills_none() {
    let s = spec(
        r#"{0 256 CDL_FrameFill_FileData "w.bin" 0x0}, {0x800 16 zero}, {0x100 4 CDL_FrameFill_FileData "w.bin" 300}"#,
    );
    let input = decode(&serialise_with_files(&s, &[], false, &files).unwrap());
    let fills: Vec<_> = input
        .steps
        .iter()
        .filter(|s| s[0] == op::FILL)
        .map(|s| (s[2], s[3], s[4]))
        .collect();
    assert_eq!(fills, [(0, 0, 256), (0x100, 256, 4)]);
    let all: Vec<u8> = (0..=255u8).collect();
    assert_eq!(&input.data[..256], all.as_slice());
    assert_eq!(&input.data[256..], &[44, 45, 46, 47]);
    // The frame filled is the one mapped at 0x10000.
    let frame = input.steps.iter().find(|s| s[0] == op::FILL).unwrap()[1];
    assert!(input
        .steps
        .iter()
        .any(|s| s[0] == op::MAP_FRAME && s[1] == frame && s[3] == 0x10000));
}

#[test]
fn bad_fills_are_refused_by_frame_and_entry() {
    let refused = |fills: &str| serialise_with_files(&spec(fills), &[], false, &files).unwrap_err();
    let e = refused(r#"{0xf00 0x200 CDL_FrameFill_FileData "w.bin" 0}"#);
    assert_eq!(
        e,
        "code: fill {0xf00 0x200 CDL_FrameFill_FileData \"w.bin\" 0}: 512 bytes at 0xf00 do not \
         fit in the frame (0x1000 bytes)"
    );
    let e = refused(r#"{0 100 CDL_FrameFill_FileData "w.bin" 550}"#);
    assert!(
        e.ends_with("w.bin has 600 bytes, fewer than 100 from 0x226"),
        "{e}"
    );
    let e = refused(r#"{0 4 CDL_FrameFill_FileData "other.bin" 0}"#);
    assert!(e.ends_with("no file other.bin"), "{e}");
    let e = refused(r#"{0 4 CDL_FrameFill_BootInfo CDL_FrameFill_BootInfo_X86_VBE 0}"#);
    assert!(e.contains("fills of kind `CDL_FrameFill_BootInfo`"), "{e}");
    // Without a directory to read from, a file fill is refused.
    let e = serialise(
        &spec(r#"{0 4 CDL_FrameFill_FileData "w.bin" 0}"#),
        &[],
        false,
    )
    .unwrap_err();
    assert!(e.contains("no directory to read fill files from"), "{e}");
}

/// `FILE.system` and its programs → CapDL with `fill` entries (the
/// programs' pages, setvars written in) and one data file → CDL text →
/// parsed as a `.cdl` input → the loader's input: the same objects, data
/// and steps (up to the order of the mapping steps) as the description
/// and its programs give the loader directly.
#[test]
fn a_description_with_its_programs_round_trips_through_cdl_fills() {
    use super::boot::elf_with_symbols;
    use crate::boot::{monitor_names, monitor_setvars, setvars, with_programs, Program};
    use crate::capdl::ObjId;
    use crate::layout;

    let path = super::example("ping.system");
    let text = std::fs::read_to_string(&path).unwrap();
    let loaded = crate::load(&path, &text, super::CLASSIC).unwrap();
    let system = loaded.system.as_ref().unwrap();
    // Each PD's program: two pages of text, and data with a .bss tail
    // holding its setvars (8 bytes each); the monitor's with its names
    // table and UART variable.
    let text_bytes = [0x13u8; 5000];
    let elf_for = |vars: &[(String, u64)], big: Option<&str>| {
        let mut syms: Vec<(&str, u64, u64)> = vars
            .iter()
            .enumerate()
            .map(|(k, (n, _))| (n.as_str(), 0x12100 + 8 * k as u64, 8))
            .collect();
        if let Some(b) = big {
            syms.push((b, 0x13000, 4096));
        }
        elf_with_symbols(
            0x10000,
            &[
                (0x10000, 5, &text_bytes, 5000),
                (0x12000, 6, b"data", 0x2000),
            ],
            &syms,
        )
    };
    let mut elfs = Vec::new();
    for (i, pd) in system.pds.iter().enumerate() {
        let vars = setvars(system, i);
        elfs.push((
            format!("tcb_{}", pd.name),
            elf_for(&vars, None),
            vars,
            Vec::new(),
        ));
    }
    let vars = monitor_setvars(system);
    let names = vec![(
        layout::MONITOR_NAMES.to_string(),
        monitor_names(system).unwrap(),
    )];
    elfs.push((
        "monitor_tcb".to_string(),
        elf_for(&vars, Some(layout::MONITOR_NAMES)),
        vars,
        names,
    ));
    let programs: Vec<Program> = elfs
        .iter()
        .map(|(tcb, elf, setvars, blobs)| Program {
            tcb: ObjId::new(tcb.clone()),
            elf,
            setvars: setvars.clone(),
            blobs: blobs.clone(),
        })
        .collect();
    let direct = decode(&serialise(&loaded.spec, &programs, false).unwrap());

    let (with, data) = with_programs(&loaded.spec, &programs, "ping.data").unwrap();
    // Every program page with file bytes is a frame with one fill from
    // the data file: two of text and the data page, and the monitor's
    // names page (the rest of the .bss is zero: no fill).
    let filled = with
        .objects
        .iter()
        .filter(|o| matches!(&o.kind, crate::capdl::Kind::Frame { fill, .. } if !fill.is_empty()))
        .count();
    assert_eq!(filled, 3 * system.pds.len() + 4);
    let cdl = crate::capdl::print::print(&with, &[]);
    assert!(
        cdl.contains("CDL_FrameFill_FileData \"ping.data\""),
        "{cdl}"
    );
    let parsed = crate::load("ping.cdl", &cdl, super::CLASSIC).unwrap().spec;
    assert_eq!(parsed, with);
    let files = |name: &str| -> Result<Vec<u8>, String> {
        assert_eq!(name, "ping.data");
        Ok(data.clone())
    };
    let via_cdl = decode(&serialise_with_files(&parsed, &[], false, &files).unwrap());
    assert_eq!(via_cdl.objects, direct.objects);
    assert_eq!(via_cdl.data, direct.data);
    let sorted = |mut s: Vec<Vec<u64>>| {
        s.sort();
        s
    };
    assert_eq!(sorted(via_cdl.steps), sorted(direct.steps));

    // A program over the description's own mapping is refused, as the
    // direct path refuses it.
    // (pong's stack's upper page).
    let bad = super::boot::elf(0x3f_ffff_c000, &[(0x3f_ffff_c000, 6, b"x", 0x1000)]);
    let p = [Program {
        tcb: ObjId::new("tcb_pong"),
        elf: &bad,
        setvars: Vec::new(),
        blobs: Vec::new(),
    }];
    let e = with_programs(&loaded.spec, &p, "x").unwrap_err();
    assert!(e.contains("overlaps a mapping"), "{e}");
}
