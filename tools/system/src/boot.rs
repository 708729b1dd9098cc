//! The loader's input: a CapDL spec and each PD's program, flattened into
//! a list of objects (largest first) and of steps the loader
//! (`user/loader`) carries out in order, serialised as little-endian
//! 64-bit words followed by the programs' bytes.
//!
//! The host does everything that needs no kernel: it walks each VSpace's
//! page-table tree into (table, vaddr) and (frame, vaddr) mappings, adds
//! a frame for every page of each program's `PT_LOAD` segments (with the
//! page tables they need), sets each TCB's `ip` to its program's entry,
//! and decides which of the loader's own caps may be deleted at the end.
//! The loader only places objects in untyped memory and invokes.
//!
//! Format (version 3), all words little-endian `u64`:
//! `MAGIC, VERSION, flags, n_objects, n_steps, data_len`, then per object
//! `kind, size_bits, extra` (`extra`: the IRQ number of an `irq`, the
//! physical address of a frame of device memory, else [`NONE`]), then the steps (an opcode and its operands, see [`Step`]),
//! then `data_len` bytes. Object references are indices in the object
//! list.

use std::collections::BTreeMap;

use crate::capdl::build::slot;

mod embed;
mod fill;
use crate::capdl::{Kind, ObjId, Rights, Spec, Target};
pub use embed::with_programs;

/// `"CAIRNSYS"` read as a little-endian word.
pub const MAGIC: u64 = u64::from_le_bytes(*b"CAIRNSYS");
pub const VERSION: u64 = 3;
/// Flag: the loader prints what it creates.
pub const FLAG_VERBOSE: u64 = 1;
/// Flag: the kernel has no debug system calls (`debug=off`): the loader
/// prints nothing and skips its audit (`seL4_DebugCapIdentify`).
pub const FLAG_NO_DEBUG: u64 = 2;

/// Sets `flag` in the header of the loader's input `input` (as
/// [`serialise`] wrote it).
pub fn set_flag(input: &mut [u8], flag: u64) {
    if let Some(w) = input.get_mut(16..24) {
        let v = u64::from_le_bytes(w.try_into().unwrap_or([0; 8])) | flag;
        w.copy_from_slice(&v.to_le_bytes());
    }
}

/// No value (an optional operand).
pub const NONE: u64 = u64::MAX;

/// Object kinds as the loader knows them.
pub mod kind {
    pub const ENDPOINT: u64 = 1;
    pub const NOTIFICATION: u64 = 2;
    pub const TCB: u64 = 3;
    pub const CNODE: u64 = 4;
    pub const PAGE_TABLE: u64 = 5;
    pub const FRAME: u64 = 6;
    pub const IRQ: u64 = 7;
    /// MCS: a scheduling context (`size_bits` as the spec says).
    pub const SCHED_CONTEXT: u64 = 8;
    /// MCS: a reply object.
    pub const REPLY: u64 = 9;
}

/// Opcodes of the steps.
pub mod op {
    /// `pt, vspace, vaddr`: assigns an ASID to `vspace` first if needed.
    pub const MAP_PT: u64 = 1;
    /// `frame, offset, data_offset, len`: copies program bytes into a frame.
    pub const FILL: u64 = 2;
    /// `frame, vspace, vaddr, rights, cached`.
    pub const MAP_FRAME: u64 = 3;
    /// `cnode, slot, object, rights, data` (badge, or CNode guard data).
    pub const MINT: u64 = 4;
    /// `irq, notification, rights, badge`.
    pub const BIND_IRQ: u64 = 5;
    /// `tcb, cnode, cspace_data, vspace, ipc_frame, ipc_addr, prio, mcp,
    /// ip, sp, bound_ntfn, fault_ep, sc, fault_obj, fault_rights,
    /// fault_badge`: `fault_ep` is the classic kernel's cptr (0: none);
    /// under MCS `sc` (or [`NONE`]) is bound and the endpoint `fault_obj`
    /// (or [`NONE`]) becomes the fault handler cap, with those rights and
    /// badge.
    pub const TCB: u64 = 6;
    /// `tcb`: resumes the thread (after every other step).
    pub const START: u64 = 7;
    /// `object`: the loader's cap to it may be deleted at the end (the
    /// spec holds another, so the object lives on).
    pub const DROP: u64 = 8;
    /// `sc, budget, period, extra_refills, badge`:
    /// `SchedControl_ConfigureFlags` (MCS; times in µs), before any `TCB`.
    pub const SC_CONFIG: u64 = 9;
    /// `tcb, ep, rights, badge`: `TCB_SetTimeoutEndpoint` with a cap to
    /// `ep` of those rights and badge (MCS; after the thread's `TCB`).
    pub const TIMEOUT_EP: u64 = 10;
}

/// A program to load into a PD: the TCB it runs in, its ELF file and
/// the values of its `setvar_*` symbols ([`setvars`]).
pub struct Program<'a> {
    pub tcb: ObjId,
    pub elf: &'a [u8],
    /// (symbol, value): each symbol, a 64-bit variable of the program,
    /// is loaded with the value instead of its initial one.
    pub setvars: Vec<(String, u64)>,
    /// (symbol, bytes): variables of other sizes (the monitor's table of
    /// names), each at least as large as its bytes.
    pub blobs: Vec<(String, Vec<u8>)>,
}

pub use crate::setvar::setvars;

pub use crate::setvar::{monitor_names, monitor_setvars, quiet};

/// Where each setvar symbol (and blob) of `p` is and the bytes it gets.
fn patches(p: &Program) -> Result<Vec<(u64, Vec<u8>)>, String> {
    let mut v = p
        .setvars
        .iter()
        .map(|(sym, value)| {
            let s = crate::setvar::variable(p.elf, sym)
                .map_err(|why| format!("{}'s program: {why} (a setvar)", p.tcb))?;
            Ok((s.addr, value.to_le_bytes().to_vec()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    for (sym, bytes) in &p.blobs {
        match cairn_image::elf::symbol(p.elf, sym) {
            Some(s) if s.is_data() && s.size >= bytes.len() as u64 => {
                v.push((s.addr, bytes.clone()))
            }
            _ => {
                return Err(format!(
                    "{}'s program: no data symbol `{sym}` of at least {} bytes",
                    p.tcb,
                    bytes.len()
                ))
            }
        }
    }
    Ok(v)
}

/// Rights as the loader passes them to the kernel (`seL4_CapRights`).
fn rights_word(r: Rights) -> u64 {
    u64::from(r.write)
        | u64::from(r.read) << 1
        | u64::from(r.grant) << 2
        | u64::from(r.grant_reply) << 3
}

const PAGE: u64 = 0x1000;
/// A scheduling context's size when the spec gives none (Microkit's).
const SC_BITS: u64 = 8;
/// `seL4_ReplyBits`.
const REPLY_BITS: u64 = 5;

struct Out {
    /// (kind, size_bits, extra, name) in spec order before sorting.
    objects: Vec<(u64, u64, u64, String)>,
    index: BTreeMap<ObjId, usize>,
    steps: Vec<u64>,
    data: Vec<u8>,
}

impl Out {
    fn obj(&self, id: &ObjId) -> Result<u64, String> {
        self.index
            .get(id)
            .map(|&i| i as u64)
            .ok_or_else(|| format!("no object {id}"))
    }
    fn add(&mut self, kind: u64, bits: u64, extra: u64, name: String) -> u64 {
        self.objects.push((kind, bits, extra, name));
        (self.objects.len() - 1) as u64
    }
}

/// Serialises `spec` with `programs` loaded; `verbose` makes the loader
/// print what it creates. A frame's CapDL `fill` entries that name files
/// are refused: [`serialise_with_files`] reads them.
pub fn serialise(spec: &Spec, programs: &[Program], verbose: bool) -> Result<Vec<u8>, String> {
    let no_files = |name: &str| -> Result<Vec<u8>, String> {
        Err(format!(
            "cannot read {name}: no directory to read fill files from"
        ))
    };
    serialise_with_files(spec, programs, verbose, &no_files)
}

/// [`serialise`], reading the files that frames' `fill` entries name
/// with `files` (a CapDL spec given as input: its directory).
pub fn serialise_with_files(
    spec: &Spec,
    programs: &[Program],
    verbose: bool,
    files: &dyn Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let mut out = Out {
        objects: Vec::new(),
        index: BTreeMap::new(),
        steps: Vec::new(),
        data: Vec::new(),
    };
    let irq_numbers: BTreeMap<&ObjId, u64> =
        spec.irqs.iter().map(|m| (&m.handler, m.irq)).collect();
    for o in &spec.objects {
        let (k, bits, extra) = match &o.kind {
            Kind::Endpoint => (kind::ENDPOINT, 4, NONE),
            Kind::Notification => (kind::NOTIFICATION, 5, NONE),
            Kind::Tcb(_) => (kind::TCB, 11, NONE),
            Kind::Cnode { size_bits } => (kind::CNODE, *size_bits, NONE),
            Kind::PageTable => (kind::PAGE_TABLE, 12, NONE),
            Kind::Frame {
                size_bits,
                paddr,
                fill,
            } => {
                if !fill.is_empty() && paddr.is_some() {
                    return Err(format!("{}: a frame of device memory is not filled", o.id));
                }
                if *size_bits != 12 && *size_bits != 21 {
                    return Err(format!("{}: frames are 4 KiB or 2 MiB", o.id));
                }
                // Device memory: the loader makes it from a device untyped.
                (kind::FRAME, *size_bits, paddr.unwrap_or(NONE))
            }
            Kind::Irq => {
                let n = irq_numbers
                    .get(&o.id)
                    .ok_or_else(|| format!("{}: an irq object not in irq maps", o.id))?;
                (kind::IRQ, 0, *n)
            }
            Kind::SchedContext { size_bits, .. } => {
                (kind::SCHED_CONTEXT, size_bits.unwrap_or(SC_BITS), NONE)
            }
            Kind::Reply => (kind::REPLY, REPLY_BITS, NONE),
            other => {
                return Err(format!(
                    "{}: the loader does not create {other:?} objects yet",
                    o.id
                ))
            }
        };
        let i = out.add(k, bits, extra, o.id.to_string());
        out.index.insert(o.id.clone(), i as usize);
    }

    // Frames filled by the spec (`fill` entries), before the programs'.
    for o in &spec.objects {
        if let Kind::Frame {
            size_bits, fill, ..
        } = &o.kind
        {
            let frame = out.obj(&o.id)?;
            for entry in fill {
                let f = fill::read(entry, 1 << size_bits, files)
                    .map_err(|why| format!("{}: fill {{{}}}: {why}", o.id, entry.join(" ")))?;
                if let Some((offset, bytes)) = f {
                    let data_at = out.data.len() as u64;
                    out.data.extend(&bytes);
                    out.steps
                        .extend([op::FILL, frame, offset, data_at, bytes.len() as u64]);
                }
            }
        }
    }

    // Address spaces: the spec's tables and frames, then the programs'.
    let mut spaces: BTreeMap<u64, Space> = BTreeMap::new();
    for o in &spec.objects {
        if let Kind::Tcb(_) = o.kind {
            if let Some(cap) = o.slots.get(&slot::VSPACE) {
                let root = target(&out, &cap.target)?;
                if let std::collections::btree_map::Entry::Vacant(e) = spaces.entry(root) {
                    let mut s = Space::default();
                    walk(spec, &out, &mut s, cap_obj(&cap.target)?, 2, 0)?;
                    e.insert(s);
                }
            }
        }
    }
    let mut entries = BTreeMap::new();
    for p in programs {
        let tcb = spec
            .objects
            .iter()
            .find(|o| o.id == p.tcb)
            .ok_or_else(|| format!("no TCB {}", p.tcb))?;
        let vs = tcb
            .slots
            .get(&slot::VSPACE)
            .ok_or_else(|| format!("{} has no vspace", p.tcb))?;
        let root = target(&out, &vs.target)?;
        let prog =
            cairn_image::elf::parse(p.elf).map_err(|e| format!("{}'s program: {e}", p.tcb))?;
        entries.insert(out.obj(&p.tcb)?, prog.entry);
        let patches = patches(p)?;
        let space = spaces.entry(root).or_default();
        load_segments(&mut out, space, &p.tcb, &prog, &patches)?;
    }
    for (root, s) in &spaces {
        for &(pt, vaddr) in &s.tables {
            out.steps.extend([op::MAP_PT, pt, *root, vaddr]);
        }
        for &(frame, vaddr, rights, cached) in &s.frames {
            out.steps
                .extend([op::MAP_FRAME, frame, *root, vaddr, rights, cached]);
        }
    }

    // Scheduling contexts (MCS), configured before the threads bind them;
    // extra refills 0 and the badge from `data`, as capDL's loader does.
    for o in &spec.objects {
        if let Kind::SchedContext {
            period,
            budget,
            data,
            ..
        } = o.kind
        {
            let budget = budget.ok_or_else(|| format!("{}: no budget", o.id))?;
            let period = period.unwrap_or(budget);
            let sc = out.obj(&o.id)?;
            out.steps
                .extend([op::SC_CONFIG, sc, budget, period, 0, data.unwrap_or(0)]);
        }
    }

    // CNode contents and IRQ bindings.
    for o in &spec.objects {
        let me = out.obj(&o.id)?;
        match o.kind {
            Kind::Cnode { .. } => {
                for (s, cap) in &o.slots {
                    let data = if let Some(Kind::Cnode { .. }) = kind_of(spec, &cap.target) {
                        cnode_data(cap.guard, cap.guard_size)
                    } else {
                        cap.badge
                    };
                    let obj = target(&out, &cap.target)?;
                    out.steps
                        .extend([op::MINT, me, *s, obj, rights_word(cap.rights), data]);
                }
            }
            Kind::Irq => {
                if let Some(cap) = o.slots.get(&0) {
                    let n = target(&out, &cap.target)?;
                    out.steps
                        .extend([op::BIND_IRQ, me, n, rights_word(cap.rights), cap.badge]);
                }
            }
            _ => {}
        }
    }

    // Threads: configured, then started in spec order.
    let mut starts = Vec::new();
    for o in &spec.objects {
        let Kind::Tcb(t) = &o.kind else { continue };
        let me = out.obj(&o.id)?;
        let get = |s: u64| -> Result<Option<&crate::capdl::Cap>, String> { Ok(o.slots.get(&s)) };
        let cspace = get(slot::CSPACE)?.ok_or_else(|| format!("{} has no cspace", o.id))?;
        let vspace = get(slot::VSPACE)?.ok_or_else(|| format!("{} has no vspace", o.id))?;
        let ipc = get(slot::IPC_BUFFER)?.ok_or_else(|| format!("{} has no IPC buffer", o.id))?;
        let ntfn = match get(slot::BOUND_NOTIFICATION)? {
            Some(c) => target(&out, &c.target)?,
            None => NONE,
        };
        let sc = match get(slot::SC)? {
            Some(c) => target(&out, &c.target)?,
            None => NONE,
        };
        let (fault_obj, fault_rights, fault_badge) = match get(slot::FAULT_EP)? {
            Some(c) => (target(&out, &c.target)?, rights_word(c.rights), c.badge),
            None => (NONE, 0, 0),
        };
        let ip = entries
            .get(&me)
            .copied()
            .or(t.ip)
            .ok_or_else(|| format!("{} has no ip (and no program)", o.id))?;
        out.steps.extend([
            op::TCB,
            me,
            target(&out, &cspace.target)?,
            cnode_data(cspace.guard, cspace.guard_size),
            target(&out, &vspace.target)?,
            target(&out, &ipc.target)?,
            t.addr.unwrap_or(0),
            t.prio.unwrap_or(0),
            t.max_prio.unwrap_or(0),
            ip,
            t.sp.unwrap_or(0),
            ntfn,
            t.fault_ep.unwrap_or(0),
            sc,
            fault_obj,
            fault_rights,
            fault_badge,
        ]);
        if let Some(c) = get(slot::TEMP_FAULT_EP)? {
            let ep = target(&out, &c.target)?;
            out.steps
                .extend([op::TIMEOUT_EP, me, ep, rights_word(c.rights), c.badge]);
        }
        if t.resume.unwrap_or(true) {
            starts.push(me);
        }
    }
    for t in starts {
        out.steps.extend([op::START, t]);
    }

    // The loader's caps it may delete: those to objects the spec holds a
    // cap to elsewhere (a cap in a CNode, TCB or IRQ slot), except frames
    // and tables, whose caps carry the mappings. A TCB's `sc_slot` and
    // `bound_notification` are bindings, not caps: the loader's cap to a
    // scheduling context or notification held only there is its last,
    // whose deletion would destroy the object.
    let mut held = vec![false; out.objects.len()];
    for o in &spec.objects {
        if matches!(o.kind, Kind::PageTable) {
            continue;
        }
        let tcb = matches!(o.kind, Kind::Tcb(_));
        for (s, cap) in &o.slots {
            if tcb && (*s == slot::SC || *s == slot::BOUND_NOTIFICATION) {
                continue;
            }
            if let Ok(i) = target(&out, &cap.target) {
                held[i as usize] = true;
            }
        }
    }
    for (i, h) in held.iter().enumerate() {
        let k = out.objects[i].0;
        if *h && k != kind::FRAME && k != kind::PAGE_TABLE && k != kind::TCB {
            out.steps.extend([op::DROP, i as u64]);
        }
    }
    Ok(encode(out, verbose))
}

/// Largest first (stable), then renumbered; the steps follow.
fn encode(mut out: Out, verbose: bool) -> Vec<u8> {
    let mut order: Vec<usize> = (0..out.objects.len()).collect();
    order.sort_by_key(|&i| {
        // IRQ handlers and device frames take no RAM.
        let (k, _, extra, _) = &out.objects[i];
        std::cmp::Reverse(
            if *k == kind::IRQ || (*k == kind::FRAME && *extra != NONE) {
                0
            } else {
                size_of(&out.objects[i])
            },
        )
    });
    let mut new_index = vec![0u64; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new as u64;
    }
    renumber(&mut out.steps, &new_index);
    let mut w = vec![
        MAGIC,
        VERSION,
        if verbose { FLAG_VERBOSE } else { 0 },
        out.objects.len() as u64,
        out.steps.len() as u64,
        out.data.len() as u64,
    ];
    for &i in &order {
        let (k, bits, extra, _) = &out.objects[i];
        w.extend([*k, *bits, *extra]);
    }
    w.extend(&out.steps);
    let mut bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    bytes.extend(&out.data);
    bytes
}

/// log2 of an object's size in bytes (CNode slots are 32 bytes).
fn size_of(o: &(u64, u64, u64, String)) -> u64 {
    if o.0 == kind::CNODE {
        o.1 + 5
    } else {
        o.1
    }
}

/// Rewrites the object operands of each step with the sorted indices.
fn renumber(steps: &mut [u64], new: &[u64]) {
    let mut i = 0;
    while i < steps.len() {
        let objs: &[usize] = match steps[i] {
            op::MAP_PT => &[1, 2],
            op::FILL => &[1],
            op::MAP_FRAME => &[1, 2],
            op::MINT => &[1, 3],
            op::BIND_IRQ => &[1, 2],
            op::TCB => &[1, 2, 4, 5, 11, 13, 14],
            op::TIMEOUT_EP => &[1, 2],
            _ => &[1],
        };
        for &o in objs {
            let v = steps[i + o];
            if v != NONE {
                steps[i + o] = new[v as usize];
            }
        }
        i += 1 + operands(steps[i]);
    }
}

/// How many operands each opcode has.
pub fn operands(op: u64) -> usize {
    match op {
        op::MAP_PT => 3,
        op::FILL => 4,
        op::MAP_FRAME => 5,
        op::MINT => 5,
        op::BIND_IRQ => 4,
        op::TCB => 16,
        op::SC_CONFIG => 5,
        op::TIMEOUT_EP => 4,
        _ => 1,
    }
}

#[derive(Default)]
struct Space {
    /// (table, vaddr), parents before children.
    tables: Vec<(u64, u64)>,
    /// The level-1 and level-2 tables by the vaddr they cover.
    by_base: BTreeMap<(u8, u64), u64>,
    /// (frame, vaddr, rights, cached).
    frames: Vec<(u64, u64, u64, u64)>,
}

fn cap_obj(t: &Target) -> Result<&ObjId, String> {
    match t {
        Target::Object(id) => Ok(id),
        other => Err(format!("the loader does not hand out {other:?} caps yet")),
    }
}

fn target(out: &Out, t: &Target) -> Result<u64, String> {
    out.obj(cap_obj(t)?)
}

fn kind_of<'s>(spec: &'s Spec, t: &Target) -> Option<&'s Kind> {
    let id = cap_obj(t).ok()?;
    spec.objects.iter().find(|o| &o.id == id).map(|o| &o.kind)
}

/// Walks the Sv39 table `table` at `level` (2 = root) covering `base`.
fn walk(
    spec: &Spec,
    out: &Out,
    s: &mut Space,
    table: &ObjId,
    level: u8,
    base: u64,
) -> Result<(), String> {
    let o = spec
        .objects
        .iter()
        .find(|o| &o.id == table)
        .ok_or_else(|| format!("no object {table}"))?;
    for (i, cap) in &o.slots {
        let vaddr = base + (i << (12 + 9 * u64::from(level)));
        let child = cap_obj(&cap.target)?;
        match kind_of(spec, &cap.target) {
            Some(Kind::PageTable) if level > 0 => {
                let pt = out.obj(child)?;
                s.tables.push((pt, vaddr));
                s.by_base.insert((level - 1, vaddr), pt);
                walk(spec, out, s, child, level - 1, vaddr)?;
            }
            Some(Kind::Frame { .. }) => {
                s.frames.push((
                    out.obj(child)?,
                    vaddr,
                    rights_word(cap.rights),
                    u64::from(!cap.uncached),
                ));
            }
            _ => return Err(format!("{table} slot {i}: not a table or frame")),
        }
    }
    Ok(())
}

/// A frame for each page of each segment, filled with its bytes and the
/// setvar `patches` (address, bytes) that fall in it.
/// Each segment of `prog` with its bytes: the file's, with `patches`
/// written in (extended into the zero tail where a patch is); a patch
/// outside every segment is refused.
fn patched_segments<'p>(
    tcb: &ObjId,
    prog: &'p cairn_image::elf::Program<'p>,
    patches: &[(u64, Vec<u8>)],
) -> Result<Vec<(&'p cairn_image::elf::Segment<'p>, Vec<u8>)>, String> {
    for (addr, value) in patches {
        let len = value.len() as u64;
        let inside = prog
            .segments
            .iter()
            .any(|g| *addr >= g.vaddr && addr + len <= g.vaddr + g.memsz);
        if !inside {
            return Err(format!(
                "{tcb}'s program: setvar symbol at {addr:#x} is not in a loaded segment"
            ));
        }
    }
    Ok(prog
        .segments
        .iter()
        .map(|seg| {
            let mut bytes = seg.data.to_vec();
            for (addr, value) in patches {
                let len = value.len();
                if *addr >= seg.vaddr && addr + len as u64 <= seg.vaddr + seg.memsz {
                    let at = (addr - seg.vaddr) as usize;
                    if bytes.len() < at + len {
                        bytes.resize(at + len, 0);
                    }
                    bytes[at..at + len].copy_from_slice(value);
                }
            }
            (seg, bytes)
        })
        .collect())
}

fn load_segments(
    out: &mut Out,
    s: &mut Space,
    tcb: &ObjId,
    prog: &cairn_image::elf::Program,
    patches: &[(u64, Vec<u8>)],
) -> Result<(), String> {
    for (seg, bytes) in patched_segments(tcb, prog, patches)? {
        // Read, plus write for PF_W and execute (the grant bit of a
        // frame's rights, as CapDL writes it) for PF_X.
        let rights = rights_word(Rights::R)
            | if seg.flags & 2 != 0 { 1 } else { 0 }
            | if seg.flags & 1 != 0 { 4 } else { 0 };
        let start = seg.vaddr & !(PAGE - 1);
        let end = (seg.vaddr + seg.memsz).div_ceil(PAGE) * PAGE;
        let data_at = out.data.len() as u64;
        out.data.extend(&bytes);
        for page in (start..end).step_by(PAGE as usize) {
            if s.frames.iter().any(|f| f.1 == page) {
                return Err(format!("{tcb}'s program overlaps a mapping at {page:#x}"));
            }
            for level in [1u8, 0] {
                let base = page & !((1u64 << (12 + 9 * (u64::from(level) + 1))) - 1);
                if let std::collections::btree_map::Entry::Vacant(e) =
                    s.by_base.entry((level, base))
                {
                    let pt = out.add(kind::PAGE_TABLE, 12, NONE, format!("pt_{tcb}_{base:x}"));
                    e.insert(pt);
                    s.tables.push((pt, base));
                }
            }
            let frame = out.add(kind::FRAME, 12, NONE, format!("elf_{tcb}_{page:x}"));
            // The part of the file bytes that falls in this page.
            let lo = page.max(seg.vaddr);
            let hi = (page + PAGE).min(seg.vaddr + bytes.len() as u64);
            if hi > lo {
                out.steps.extend([
                    op::FILL,
                    frame,
                    lo - page,
                    data_at + (lo - seg.vaddr),
                    hi - lo,
                ]);
            }
            s.frames.push((frame, page, rights, 1));
        }
    }
    Ok(())
}

/// `seL4_CNode_CapData_new(guard, guard_size)`.
fn cnode_data(guard: u64, guard_size: u64) -> u64 {
    guard << 6 | (guard_size & 0x3f)
}
