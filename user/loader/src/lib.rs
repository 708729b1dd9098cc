//! `cairn_loader`: the loader's reading of its input, the system spec that
//! `cairn_system::boot` serialises (see that module for the format), kept
//! apart from the invocations (`main.rs`) so that it is tested on the host.
//!
//! [`Spec::parse`] checks the whole input before the loader creates
//! anything: magic and version, lengths, every object index in range,
//! every fill inside the program data and inside its frame, known opcodes
//! and object kinds. The constants repeat `cairn_system::boot`'s (a host
//! crate the `no_std` loader cannot depend on); the host test
//! `boot::tests` there and [`tests`] here pin the same values.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

/// `"CAIRNSYS"` as a little-endian word.
pub const MAGIC: u64 = u64::from_le_bytes(*b"CAIRNSYS");
/// The format version this loader reads.
pub const VERSION: u64 = 3;
/// Header flag: print what is created.
pub const FLAG_VERBOSE: u64 = 1;
/// Flag: the kernel has no debug system calls: print nothing, no audit.
pub const FLAG_NO_DEBUG: u64 = 2;
/// An absent optional operand.
pub const NONE: u64 = u64::MAX;

/// Object kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An endpoint.
    Endpoint,
    /// A notification.
    Notification,
    /// A thread.
    Tcb,
    /// A CNode of `2^size_bits` slots.
    CNode,
    /// An Sv39 page table (any level).
    PageTable,
    /// A frame of `2^size_bits` bytes (12 or 21), of RAM, or of the device
    /// memory at physical address `extra`.
    Frame,
    /// An IRQ handler for IRQ `extra`.
    Irq,
    /// MCS: a scheduling context of `2^size_bits` bytes.
    SchedContext,
    /// MCS: a reply object.
    Reply,
}

/// One object of the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object {
    /// What it is.
    pub kind: Kind,
    /// Size parameter: CNode slot bits, frame size bits, 0 for the rest.
    pub size_bits: u64,
    /// The IRQ number of an IRQ handler, the physical address of a device
    /// frame, else [`NONE`].
    pub extra: u64,
}

impl Object {
    /// The physical address of a frame of device memory.
    pub fn device_paddr(&self) -> Option<u64> {
        (self.kind == Kind::Frame && self.extra != NONE).then_some(self.extra)
    }

    /// log2 of the object's size in bytes (for placement in untypeds);
    /// 0 for an IRQ handler, which takes no memory.
    pub fn mem_bits(&self) -> u64 {
        match self.kind {
            Kind::Endpoint => 4,
            Kind::Notification => 5,
            Kind::Tcb => 11,
            Kind::CNode => self.size_bits + 5,
            Kind::PageTable => 12,
            Kind::Frame => self.size_bits,
            Kind::Irq => 0,
            Kind::SchedContext => self.size_bits,
            Kind::Reply => 5,
        }
    }
}

/// A thread's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcbStep {
    /// The TCB.
    pub tcb: u64,
    /// Its CSpace root and the root cap's guard data.
    pub cnode: u64,
    /// `seL4_CNode_CapData` of the CSpace root cap.
    pub cspace_data: u64,
    /// Its VSpace root.
    pub vspace: u64,
    /// The IPC buffer frame and its address.
    pub ipc_frame: u64,
    /// The IPC buffer's virtual address.
    pub ipc_addr: u64,
    /// Priority.
    pub prio: u64,
    /// Maximum controlled priority.
    pub mcp: u64,
    /// Entry point.
    pub ip: u64,
    /// Stack pointer.
    pub sp: u64,
    /// Bound notification, or [`NONE`].
    pub bound: u64,
    /// Fault endpoint cptr in its own CSpace (0: none; classic kernel).
    pub fault_ep: u64,
    /// MCS: the scheduling context to bind, or [`NONE`].
    pub sc: u64,
    /// MCS: the endpoint of the fault handler cap, or [`NONE`].
    pub fault_obj: u64,
    /// MCS: the fault handler cap's rights word.
    pub fault_rights: u64,
    /// MCS: the fault handler cap's badge.
    pub fault_badge: u64,
}

/// One step of the loader, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Map page table `pt` into `vspace` at `vaddr`.
    MapPt {
        /// The table.
        pt: u64,
        /// The VSpace root.
        vspace: u64,
        /// The address it covers.
        vaddr: u64,
    },
    /// Copy `len` program bytes from `data_offset` into `frame` at `offset`.
    Fill {
        /// The frame.
        frame: u64,
        /// Where in the frame.
        offset: u64,
        /// Where in [`Spec::data`].
        data_offset: u64,
        /// How many bytes.
        len: u64,
    },
    /// Map `frame` into `vspace` at `vaddr` with `rights` (`seL4_CapRights`;
    /// the grant bit means executable).
    MapFrame {
        /// The frame.
        frame: u64,
        /// The VSpace root.
        vspace: u64,
        /// Where.
        vaddr: u64,
        /// Rights word.
        rights: u64,
        /// Cached (1) or not (0).
        cached: u64,
    },
    /// Put a cap to `object` with `rights` and `data` (badge or guard) in
    /// slot `slot` of `cnode`.
    Mint {
        /// The destination CNode.
        cnode: u64,
        /// The slot in it.
        slot: u64,
        /// The object the cap is to.
        object: u64,
        /// Rights word.
        rights: u64,
        /// Badge, or CNode guard data.
        data: u64,
    },
    /// Bind IRQ handler `irq` to `ntfn` with `badge`.
    BindIrq {
        /// The IRQ handler.
        irq: u64,
        /// The notification.
        ntfn: u64,
        /// Rights of the notification cap.
        rights: u64,
        /// Its badge.
        badge: u64,
    },
    /// Configure a thread.
    Tcb(TcbStep),
    /// Resume a thread.
    Start(u64),
    /// The loader's own cap to this object may be deleted at the end.
    Drop(u64),
    /// MCS: `SchedControl_ConfigureFlags` of a scheduling context.
    ScConfig {
        /// The scheduling context.
        sc: u64,
        /// Budget (µs).
        budget: u64,
        /// Period (µs).
        period: u64,
        /// Refills beyond the minimum.
        extra_refills: u64,
        /// The badge of its timeout faults.
        badge: u64,
    },
    /// MCS: `TCB_SetTimeoutEndpoint` of `tcb` with a cap to `ep` of
    /// `rights` and `badge`.
    TimeoutEp {
        /// The thread.
        tcb: u64,
        /// The endpoint of its timeout handler cap.
        ep: u64,
        /// The cap's rights word.
        rights: u64,
        /// The cap's badge.
        badge: u64,
    },
}

/// What is wrong with an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// No input was built into the loader.
    Empty,
    /// Not the magic word.
    BadMagic,
    /// Another format version.
    Version(u64),
    /// Shorter or longer than its header says.
    Length,
    /// An unknown object kind at this object index.
    ObjectKind(usize),
    /// An unknown opcode at this word of the steps.
    Opcode(usize),
    /// An object index out of range, or of the wrong kind, at this word.
    Operand(usize),
    /// A fill outside the data or its frame at this word.
    Fill(usize),
}

/// A checked input.
#[derive(Clone, Copy, Debug)]
pub struct Spec<'a> {
    /// Print what is created.
    pub verbose: bool,
    /// The kernel has its debug system calls (`seL4_DebugPutChar`,
    /// `seL4_DebugCapIdentify`); without them the loader prints nothing
    /// and does not audit itself.
    pub debug: bool,
    objects: &'a [u8],
    steps: &'a [u8],
    /// The programs' bytes.
    pub data: &'a [u8],
}

const HEADER_WORDS: usize = 6;
const OBJECT_WORDS: usize = 3;

fn word(bytes: &[u8], i: usize) -> Option<u64> {
    let b = bytes.get(i * 8..i * 8 + 8)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(b);
    Some(u64::from_le_bytes(w))
}

/// Operand count of each opcode (`None`: unknown).
fn operands(op: u64) -> Option<usize> {
    Some(match op {
        1 => 3,
        2 => 4,
        3 => 5,
        4 => 5,
        5 => 4,
        6 => 16,
        7 | 8 => 1,
        9 => 5,
        10 => 4,
        _ => return None,
    })
}

impl<'a> Spec<'a> {
    /// Checks `bytes` whole.
    pub fn parse(bytes: &'a [u8]) -> Result<Spec<'a>, FormatError> {
        if bytes.is_empty() {
            return Err(FormatError::Empty);
        }
        let h = |i| word(bytes, i).ok_or(FormatError::Length);
        if h(0)? != MAGIC {
            return Err(FormatError::BadMagic);
        }
        if h(1)? != VERSION {
            return Err(FormatError::Version(h(1)?));
        }
        let (n_obj, n_steps, data_len) = (h(3)?, h(4)?, h(5)?);
        let words = n_obj
            .checked_mul(OBJECT_WORDS as u64)
            .and_then(|o| o.checked_add(n_steps))
            .and_then(|w| w.checked_add(HEADER_WORDS as u64))
            .and_then(|w| w.checked_mul(8))
            .ok_or(FormatError::Length)?;
        if words.checked_add(data_len) != Some(bytes.len() as u64) {
            return Err(FormatError::Length);
        }
        let obj_start = HEADER_WORDS * 8;
        let steps_start = obj_start + n_obj as usize * OBJECT_WORDS * 8;
        let data_start = words as usize;
        let spec = Spec {
            verbose: h(2)? & FLAG_VERBOSE != 0,
            debug: h(2)? & FLAG_NO_DEBUG == 0,
            objects: bytes
                .get(obj_start..steps_start)
                .ok_or(FormatError::Length)?,
            steps: bytes
                .get(steps_start..data_start)
                .ok_or(FormatError::Length)?,
            data: bytes.get(data_start..).ok_or(FormatError::Length)?,
        };
        for i in 0..spec.n_objects() {
            spec.object(i).ok_or(FormatError::ObjectKind(i))?;
        }
        for s in spec.steps() {
            s?;
        }
        Ok(spec)
    }

    /// How many objects.
    pub fn n_objects(&self) -> usize {
        self.objects.len() / (OBJECT_WORDS * 8)
    }

    /// Object `i` (`None` if out of range or of an unknown kind).
    pub fn object(&self, i: usize) -> Option<Object> {
        let w = |k| word(self.objects, i * OBJECT_WORDS + k);
        let kind = match w(0)? {
            1 => Kind::Endpoint,
            2 => Kind::Notification,
            3 => Kind::Tcb,
            4 => Kind::CNode,
            5 => Kind::PageTable,
            6 => Kind::Frame,
            7 => Kind::Irq,
            8 => Kind::SchedContext,
            9 => Kind::Reply,
            _ => return None,
        };
        let size_bits = w(1)?;
        let ok = match kind {
            Kind::CNode => (1..=28).contains(&size_bits),
            // seL4_MinSchedContextBits up to a page of refills.
            Kind::SchedContext => (7..=12).contains(&size_bits),
            // A device frame's address is aligned to its size.
            Kind::Frame => {
                (size_bits == 12 || size_bits == 21)
                    && (w(2)? == NONE || w(2)? & ((1 << size_bits) - 1) == 0)
            }
            _ => true,
        };
        ok.then_some(Object {
            kind,
            size_bits,
            extra: w(2)?,
        })
    }

    /// The steps, each checked.
    pub fn steps(&self) -> Steps<'a, '_> {
        Steps { spec: self, at: 0 }
    }

    fn kind_of(&self, i: u64) -> Option<Kind> {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.object(i))
            .map(|o| o.kind)
    }
}

/// Iterator over the steps of a [`Spec`].
pub struct Steps<'a, 's> {
    spec: &'s Spec<'a>,
    at: usize,
}

impl Iterator for Steps<'_, '_> {
    type Item = Result<Step, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        let steps = self.spec.steps;
        let at = self.at;
        let opcode = word(steps, at)?;
        let Some(n) = operands(opcode) else {
            self.at = steps.len();
            return Some(Err(FormatError::Opcode(at)));
        };
        let mut o = [0u64; 16];
        for (k, v) in o.iter_mut().enumerate().take(n) {
            match word(steps, at + 1 + k) {
                Some(w) => *v = w,
                None => {
                    self.at = steps.len();
                    return Some(Err(FormatError::Length));
                }
            }
        }
        self.at = at + 1 + n;
        let step = decode(opcode, &o);
        Some(check(self.spec, &step).map(|()| step).map_err(|e| match e {
            FormatError::Operand(_) => FormatError::Operand(at),
            FormatError::Fill(_) => FormatError::Fill(at),
            e => e,
        }))
    }
}

fn decode(opcode: u64, o: &[u64; 16]) -> Step {
    match opcode {
        1 => Step::MapPt {
            pt: o[0],
            vspace: o[1],
            vaddr: o[2],
        },
        2 => Step::Fill {
            frame: o[0],
            offset: o[1],
            data_offset: o[2],
            len: o[3],
        },
        3 => Step::MapFrame {
            frame: o[0],
            vspace: o[1],
            vaddr: o[2],
            rights: o[3],
            cached: o[4],
        },
        4 => Step::Mint {
            cnode: o[0],
            slot: o[1],
            object: o[2],
            rights: o[3],
            data: o[4],
        },
        5 => Step::BindIrq {
            irq: o[0],
            ntfn: o[1],
            rights: o[2],
            badge: o[3],
        },
        6 => Step::Tcb(TcbStep {
            tcb: o[0],
            cnode: o[1],
            cspace_data: o[2],
            vspace: o[3],
            ipc_frame: o[4],
            ipc_addr: o[5],
            prio: o[6],
            mcp: o[7],
            ip: o[8],
            sp: o[9],
            bound: o[10],
            fault_ep: o[11],
            sc: o[12],
            fault_obj: o[13],
            fault_rights: o[14],
            fault_badge: o[15],
        }),
        7 => Step::Start(o[0]),
        9 => Step::ScConfig {
            sc: o[0],
            budget: o[1],
            period: o[2],
            extra_refills: o[3],
            badge: o[4],
        },
        10 => Step::TimeoutEp {
            tcb: o[0],
            ep: o[1],
            rights: o[2],
            badge: o[3],
        },
        _ => Step::Drop(o[0]),
    }
}

/// Every object operand exists and has the kind its place needs.
fn check(spec: &Spec, step: &Step) -> Result<(), FormatError> {
    let is = |i: u64, k: Kind| {
        if spec.kind_of(i) == Some(k) {
            Ok(())
        } else {
            Err(FormatError::Operand(0))
        }
    };
    match *step {
        Step::MapPt { pt, vspace, .. } => {
            is(pt, Kind::PageTable)?;
            is(vspace, Kind::PageTable)
        }
        Step::Fill {
            frame,
            offset,
            data_offset,
            len,
        } => {
            is(frame, Kind::Frame)?;
            let o = usize::try_from(frame).ok().and_then(|f| spec.object(f));
            // Device memory is not filled: it is the device's registers.
            if o.and_then(|o| o.device_paddr()).is_some() {
                return Err(FormatError::Fill(0));
            }
            let bits = o.map_or(0, |o| o.size_bits);
            let in_frame = offset.checked_add(len).is_some_and(|e| e <= 1 << bits);
            let in_data = data_offset
                .checked_add(len)
                .is_some_and(|e| e <= spec.data.len() as u64);
            if in_frame && in_data {
                Ok(())
            } else {
                Err(FormatError::Fill(0))
            }
        }
        Step::MapFrame { frame, vspace, .. } => {
            is(frame, Kind::Frame)?;
            is(vspace, Kind::PageTable)
        }
        Step::Mint { cnode, object, .. } => {
            is(cnode, Kind::CNode)?;
            spec.kind_of(object)
                .map(|_| ())
                .ok_or(FormatError::Operand(0))
        }
        Step::BindIrq { irq, ntfn, .. } => {
            is(irq, Kind::Irq)?;
            is(ntfn, Kind::Notification)
        }
        Step::Tcb(t) => {
            is(t.tcb, Kind::Tcb)?;
            is(t.cnode, Kind::CNode)?;
            is(t.vspace, Kind::PageTable)?;
            is(t.ipc_frame, Kind::Frame)?;
            if t.bound != NONE {
                is(t.bound, Kind::Notification)?;
            }
            if t.sc != NONE {
                is(t.sc, Kind::SchedContext)?;
            }
            if t.fault_obj != NONE {
                is(t.fault_obj, Kind::Endpoint)?;
            }
            Ok(())
        }
        Step::Start(t) => is(t, Kind::Tcb),
        Step::ScConfig { sc, .. } => is(sc, Kind::SchedContext),
        Step::TimeoutEp { tcb, ep, .. } => {
            is(tcb, Kind::Tcb)?;
            is(ep, Kind::Endpoint)
        }
        Step::Drop(o) => spec.kind_of(o).map(|_| ()).ok_or(FormatError::Operand(0)),
    }
}

#[cfg(test)]
mod tests;
