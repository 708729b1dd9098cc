//! The programs as CapDL (`cargo xtask system FILE --cdl OUT --programs`):
//! each page of each program's `PT_LOAD` segments becomes a frame of the
//! spec with capDL-tool's `fill` entry `{dest_offset dest_len
//! CDL_FrameFill_FileData "DATA" file_offset}`, mapped in the PD's VSpace
//! with the segment's rights, and each TCB's `ip` the program's entry;
//! the bytes (setvars and the monitor's names already written in) go to
//! one data file next to the spec. Such a spec boots by itself as a
//! `.cdl` input, and gives the loader the input the description gives
//! (test `tests::fill::a_description_with_its_programs_round_trips_through_cdl_fills`).

use super::{patches, Program, PAGE};
use crate::capdl::{build, Cap, Kind, ObjId, Rights, Spec};

/// `spec` with the frames of `programs` filled from the file `data_file`
/// (a name relative to the spec), and the bytes of that file.
pub fn with_programs(
    spec: &Spec,
    programs: &[Program],
    data_file: &str,
) -> Result<(Spec, Vec<u8>), String> {
    let mut spec = spec.clone();
    let mut data = Vec::new();
    for p in programs {
        let tcb = spec
            .objects
            .iter()
            .find(|o| o.id == p.tcb)
            .ok_or_else(|| format!("no TCB {}", p.tcb))?;
        let vspace = match tcb.slots.get(&build::slot::VSPACE).map(|c| &c.target) {
            Some(crate::capdl::Target::Object(v)) => v.clone(),
            _ => return Err(format!("{} has no vspace", p.tcb)),
        };
        // The builder names a PD's tables after the PD: `tcb_P`'s are
        // `pt1_P_*`, the monitor's (`monitor_tcb`) `pt1_monitor_*`.
        let name = &p.tcb.name;
        let pd = name
            .strip_prefix("tcb_")
            .or_else(|| name.strip_suffix("_tcb"))
            .ok_or_else(|| format!("{}: not a TCB the tool named", p.tcb))?
            .to_string();
        let prog =
            cairn_image::elf::parse(p.elf).map_err(|e| format!("{}'s program: {e}", p.tcb))?;
        let mut pages = Vec::new();
        for (seg, bytes) in super::patched_segments(&p.tcb, &prog, &patches(p)?)? {
            let rights = Rights {
                read: true,
                write: seg.flags & 2 != 0,
                grant: seg.flags & 1 != 0,
                grant_reply: false,
            };
            let data_at = data.len() as u64;
            data.extend(&bytes);
            let start = seg.vaddr & !(PAGE - 1);
            let end = (seg.vaddr + seg.memsz).div_ceil(PAGE) * PAGE;
            for page in (start..end).step_by(PAGE as usize) {
                let lo = page.max(seg.vaddr);
                let hi = (page + PAGE).min(seg.vaddr + bytes.len() as u64);
                let fill = if hi > lo {
                    vec![vec![
                        format!("{}", lo - page),
                        format!("{}", hi - lo),
                        "CDL_FrameFill_FileData".to_string(),
                        format!("\"{data_file}\""),
                        format!("{}", data_at + (lo - seg.vaddr)),
                    ]]
                } else {
                    Vec::new()
                };
                let frame = ObjId::new(format!("elf_{pd}_{page:x}"));
                let kind = Kind::Frame {
                    size_bits: 12,
                    paddr: None,
                    fill,
                };
                pages.push((frame.clone(), page, kind, Cap::to(&frame).rights(rights)));
            }
        }
        build::add_pages(&mut spec, &pd, &vspace, pages)?;
        if let Some(o) = spec.objects.iter_mut().find(|o| o.id == p.tcb) {
            if let Kind::Tcb(t) = &mut o.kind {
                t.ip = Some(prog.entry);
            }
        }
    }
    Ok((spec, data))
}
