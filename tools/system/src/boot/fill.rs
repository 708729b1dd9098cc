//! CapDL `fill` entries of frames (capDL-tool's syntax, kept word for
//! word by the parser): what bytes go where in the frame.
//!
//! An entry is `{dest_offset dest_len CDL_FrameFill_FileData "file"
//! file_offset}`: `dest_len` bytes of the file from `file_offset`, at
//! `dest_offset` in the frame. Retyped frames are zero, so an entry that
//! only zeroes (`{dest_offset dest_len zero}`) needs no step. Other kinds
//! (capDL's `CDL_FrameFill_BootInfo`, which needs the loader's own boot
//! information) are refused by name.

/// The (frame offset, bytes) that `entry` puts into a frame of
/// `frame_size` bytes, or `None` for a zero fill; `files` reads a file by
/// the name the entry gives.
pub(super) fn read(
    entry: &[String],
    frame_size: u64,
    files: &dyn Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<Option<(u64, Vec<u8>)>, String> {
    let num = |i: usize, what: &str| -> Result<u64, String> {
        let w = entry.get(i).ok_or(format!("no {what}"))?;
        let parsed = match w.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => w.parse(),
        };
        parsed.map_err(|_| format!("{what} `{w}` is not a number"))
    };
    let offset = num(0, "destination offset")?;
    let len = num(1, "length")?;
    if offset.checked_add(len).is_none_or(|end| end > frame_size) {
        return Err(format!(
            "{len} bytes at {offset:#x} do not fit in the frame ({frame_size:#x} bytes)"
        ));
    }
    match entry.get(2).map(String::as_str) {
        Some("zero") if entry.len() == 3 => Ok(None),
        Some("CDL_FrameFill_FileData") if entry.len() == 5 => {
            let name = entry[3]
                .strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .ok_or_else(|| format!("file name {} is not quoted", entry[3]))?;
            let from = num(4, "file offset")?;
            let file = files(name)?;
            let end = from.checked_add(len).filter(|&e| e <= file.len() as u64);
            let Some(end) = end else {
                return Err(format!(
                    "{name} has {} bytes, fewer than {len} from {from:#x}",
                    file.len()
                ));
            };
            Ok(Some((offset, file[from as usize..end as usize].to_vec())))
        }
        Some(kind) => Err(format!(
            "fills of kind `{kind}` (with these words) are not loaded; `CDL_FrameFill_FileData` \
             and `zero` are"
        )),
        None => Err("no fill kind".into()),
    }
}
