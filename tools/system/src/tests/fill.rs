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
