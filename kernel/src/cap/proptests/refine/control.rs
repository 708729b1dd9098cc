//! The refinement test's steps for TCB Configure, SetSpace and
//! SetIPCBuffer, interrupts (IRQControl, IRQHandler, interrupts raised on
//! the simulated machine) and DomainSet_Set: random valid and invalid
//! arguments, weighted to the interesting cases.
//!
//! A buffer moves anywhere: its thread's *home* (the root thread's buffer,
//! each setup thread's quarter of that frame), another quarter of that
//! frame (another thread's buffer: shared memory), any quarter of a window
//! frame or an image frame; the spec keeps frame contents
//! (`cairn_spec::memory`). Roots other than the root thread's own are not
//! given to the root thread (the generator addresses everything through
//! its CSpace).
//!
//! MCS: Configure and SetSpace in their MCS forms (no fault cptr word;
//! SetSpace's fault handler is extra cap 0, the `fault` target read as a
//! cap: none, an endpoint, anything); the root thread is not given an
//! endpoint as its handler (`Pair::may_run`).

use super::{tally, Pair, Target};
use crate::arch::host::SimMachine;
use cairn_abi::cap::init;
use cairn_spec::{Cap, Invocation, Syscall};
use proptest::prelude::*;

/// A root's cap data: none, the root CNode's own guard, any.
#[derive(Clone, Copy, Debug)]
pub(super) enum Data {
    Zero,
    Same,
    Raw(u64),
}

/// A buffer address, relative to the target thread's home (or 0x1000
/// for a thread without one).
#[derive(Clone, Copy, Debug)]
pub(super) enum BufAddr {
    Home,
    /// The home's page offset at another page.
    HomeHigh(u32),
    /// Quarter `q` of page `p` (any 1 KiB aligned buffer).
    Quarter(u8, u32),
    Zero,
    /// Off the 1 KiB alignment by 1..1024 bytes.
    Misaligned(u16),
    Raw(u64),
}

/// Configure, SetSpace or SetIPCBuffer on a thread cap.
#[derive(Clone, Debug)]
pub(super) struct Control {
    tcb: Target,
    label: u64,
    /// The fault handler: a cptr (classic), a cap (MCS SetSpace).
    fault: Target,
    cdata: Data,
    vdata: u64,
    addr: BufAddr,
    /// CSpace root, VSpace root, buffer frame (SetIPCBuffer: the frame).
    roots: [Target; 3],
    /// Words and extra caps kept (fewer than needed: TruncatedMessage).
    words: usize,
    caps: usize,
    irq: Option<u8>,
}

pub(super) fn control() -> impl Strategy<Value = Control> {
    use cairn_spec::tcb::{CONFIGURE, SET_IPC_BUFFER, SET_SPACE};
    let label = prop_oneof![Just(CONFIGURE), Just(SET_SPACE), Just(SET_IPC_BUFFER)];
    // (MCS: slot 0 is empty, a null handler.)
    let fault = prop_oneof![
        2 => Just(Target::Raw(0)),
        3 => (0u8..2).prop_map(Target::Win),
        1 => any::<u8>().prop_map(Target::Ep),
        1 => any::<u64>().prop_map(Target::Raw),
    ];
    // Mostly the CSpace the threads share: a thread with another one
    // makes no CNode steps (`Pair::shares_cspace`) and mostly cap faults.
    let cdata = prop_oneof![
        12 => Just(Data::Zero),
        3 => Just(Data::Same),
        1 => (0u64..128).prop_map(Data::Raw),
        1 => any::<u64>().prop_map(Data::Raw),
    ];
    let vdata = prop_oneof![4 => Just(0u64), 1 => any::<u64>()];
    let addr = prop_oneof![
        6 => Just(BufAddr::Home),
        2 => (1u32..1 << 20).prop_map(BufAddr::HomeHigh),
        4 => (0u8..4, 0u32..1 << 20).prop_map(|(q, p)| BufAddr::Quarter(q, p)),
        1 => Just(BufAddr::Zero),
        2 => (1u16..1024).prop_map(BufAddr::Misaligned),
        1 => any::<u64>().prop_map(BufAddr::Raw),
    ];
    let croot = prop_oneof![
        12 => Just(Target::Raw(init::CNODE)),
        1 => (0u8..8).prop_map(Target::Win),
        1 => (0u8..16).prop_map(Target::Boot),
    ];
    let vroot = prop_oneof![
        6 => Just(Target::Raw(init::VSPACE)),
        1 => Just(Target::Raw(16)), // a page table of the image, mapped
        1 => (0u8..16).prop_map(Target::Boot),
        1 => any::<u8>().prop_map(Target::Win),
    ];
    let frame = prop_oneof![
        6 => Just(Target::Raw(init::IPC_BUFFER)),
        3 => any::<u8>().prop_map(Target::Frame),
        1 => Just(Target::Raw(18)), // a frame of the image
        1 => (0u8..16).prop_map(Target::Boot),
        1 => any::<u8>().prop_map(Target::Win),
    ];
    let cut = prop_oneof![8 => Just(None), 1 => (0usize..4, 0usize..3).prop_map(Some)];
    let tcb =
        prop_oneof![4 => any::<u8>().prop_map(Target::Tcb), 1 => any::<u8>().prop_map(Target::Win)];
    (
        (tcb, label, fault, cdata, vdata, addr),
        (croot, vroot, frame, cut, super::irq()),
    )
        .prop_map(
            |((tcb, label, fault, cdata, vdata, addr), (croot, vroot, frame, cut, irq))| {
                let (words, caps) = lengths(label);
                let (words, caps) = cut.unwrap_or((words, caps));
                let roots = match label {
                    SET_IPC_BUFFER => [frame, croot, vroot],
                    _ => [croot, vroot, frame],
                };
                Control {
                    tcb,
                    label,
                    fault,
                    cdata,
                    vdata,
                    addr,
                    roots,
                    words,
                    caps,
                    irq,
                }
            },
        )
}

/// The words and extra caps of thread control call `label` (MCS: no
/// fault cptr word; SetSpace's fault handler an extra cap).
fn lengths(label: u64) -> (usize, usize) {
    use cairn_spec::tcb::{CONFIGURE, SET_SPACE};
    let mcs = usize::from(cairn_spec::MCS);
    match label {
        CONFIGURE => (4 - mcs, 3),
        SET_SPACE => (3 - mcs, 2 + mcs),
        _ => (1, 1),
    }
}

/// An interrupt or domain step.
#[derive(Clone, Debug)]
pub(super) enum IrqAct {
    /// IRQControl's IssueIRQHandler (or, `trigger`, IssueIRQHandlerTrigger)
    /// of `irq` into `dest` (from the root CNode, `root` the extra cap).
    Issue {
        irq: u64,
        dest: super::Loc,
        root: Target,
        trigger: Option<u64>,
        words: usize,
    },
    /// An IRQHandler method on a handler cap, with a notification (or
    /// other) cap as extra cap.
    Handler {
        handler: Target,
        label: u64,
        ntfn: Option<Target>,
    },
    /// An interrupt on the `i`-th issued line (`issued`), or on line `raw`.
    Interrupt { issued: bool, i: u8, raw: u64 },
    /// Classic: `n` timer ticks (the kernel's timer interrupt) in a row,
    /// each compared.
    Tick { n: u8 },
    /// DomainSet (label `label`): its words (Set: the domain;
    /// ScheduleConfigure: index, domain, duration; ScheduleSetStart: the
    /// index), the thread cap.
    Domain {
        label: u64,
        words: Vec<u64>,
        tcb: Option<Target>,
    },
}

pub(super) fn irq_act() -> impl Strategy<Value = IrqAct> {
    use cairn_spec::irq::*;
    let irq = prop_oneof![
        6 => 1u64..8,
        1 => Just(0u64),
        1 => Just(TIMER_IRQ),
        1 => 97u64..200,
        1 => 8u64..96,
        1 => any::<u64>(),
    ];
    let dest = prop_oneof![
        6 => any::<u8>().prop_map(super::Loc::Free),
        1 => any::<u8>().prop_map(super::Loc::Win),
        1 => (0u8..8, 0u8..16).prop_map(|(w, i)| super::Loc::Sub(w, i)),
    ];
    let root = prop_oneof![
        8 => Just(Target::Raw(init::CNODE)),
        1 => any::<u8>().prop_map(Target::Win),
    ];
    let issue = (
        irq,
        dest,
        root,
        prop_oneof![4 => Just(None), 1 => (0u64..2).prop_map(Some)],
        prop_oneof![8 => Just(4usize), 1 => 0usize..4],
    )
        .prop_map(|(irq, dest, root, trigger, words)| IrqAct::Issue {
            irq,
            dest,
            root,
            trigger,
            words,
        });
    let handler = (
        prop_oneof![8 => any::<u8>().prop_map(Target::Irq), 1 => any::<u8>().prop_map(Target::Win)],
        prop_oneof![4 => Just(ACK), 4 => Just(SET_NOTIFICATION), 2 => Just(CLEAR), 1 => 0u64..64],
        prop_oneof![
            6 => any::<u8>().prop_map(|i| Some(Target::Ntfn(i))),
            1 => any::<u8>().prop_map(|i| Some(Target::Win(i))),
            1 => Just(None),
        ],
    )
        .prop_map(|(handler, label, ntfn)| IrqAct::Handler {
            handler,
            label,
            ntfn,
        });
    let interrupt = (
        prop_oneof![6 => Just(true), 1 => Just(false)],
        any::<u8>(),
        1u64..96,
    )
        .prop_map(|(issued, i, raw)| IrqAct::Interrupt { issued, i, raw });
    // Small indices and domains mostly (the suite's configuration has one
    // domain and two schedule entries), durations at the 56-bit edge.
    use cairn_spec::domain::{MAX_DURATION, SCHEDULE_CONFIGURE, SCHEDULE_SET_START, SET};
    let small = || prop_oneof![6 => 0u64..3, 1 => 3u64..128, 1 => any::<u64>()];
    let duration = prop_oneof![
        4 => 1u64..1000,
        2 => Just(0u64),
        1 => MAX_DURATION - 1..=MAX_DURATION + 1,
        1 => any::<u64>(),
    ];
    let domain = (
        prop_oneof![
            6 => Just(SET),
            3 => Just(SCHEDULE_CONFIGURE),
            3 => Just(SCHEDULE_SET_START),
            1 => 0u64..64,
        ],
        (small(), small(), duration),
        prop_oneof![8 => Just(3usize), 1 => 0usize..3],
        prop_oneof![
            6 => any::<u8>().prop_map(|i| Some(Target::Tcb(i))),
            1 => any::<u8>().prop_map(|i| Some(Target::Win(i))),
            1 => Just(None),
        ],
    )
        .prop_map(|(label, (a, b, d), n, tcb)| {
            let mut words = match label {
                SCHEDULE_CONFIGURE => vec![a, b, d],
                _ => vec![a],
            };
            words.truncate(n);
            IrqAct::Domain { label, words, tcb }
        });
    let tick = (1u8..=6).prop_map(|n| IrqAct::Tick { n });
    prop_oneof![3 => issue, 4 => handler, 4 => interrupt, 2 => domain, 2 => tick]
}

/// The label of an answer.
fn answered(out: &Option<crate::testutil::Outcome>) -> Option<u64> {
    match out {
        Some(crate::testutil::Outcome::Reply { label, .. }) => Some(*label),
        _ => None,
    }
}

/// Counts an answer (`[answered, succeeded]`).
fn count(c: &mut [u64; 2], out: &Option<crate::testutil::Outcome>) {
    if let Some(crate::testutil::Outcome::Reply { label, .. }) = out {
        c[0] += 1;
        c[1] += u64::from(*label == 0);
    }
}

impl Control {
    /// SetIPCBuffer of the thread `tcb` names to `addr` in `frame`.
    pub(super) fn set_ipc_buffer(tcb: Target, addr: BufAddr, frame: Target) -> Control {
        Control {
            label: cairn_spec::tcb::SET_IPC_BUFFER,
            addr,
            roots: [frame, Target::Raw(0), Target::Raw(0)],
            words: 1,
            caps: 1,
            ..Control::without_buffer(tcb, [Target::Raw(0); 3])
        }
    }

    /// Configure of the thread `tcb` names with the roots and frame
    /// `roots`, no fault handler, no cap data, buffer address 0.
    pub(super) fn without_buffer(tcb: Target, roots: [Target; 3]) -> Control {
        Control {
            tcb,
            label: cairn_spec::tcb::CONFIGURE,
            fault: Target::Raw(0),
            cdata: Data::Zero,
            vdata: 0,
            addr: BufAddr::Zero,
            roots,
            words: lengths(cairn_spec::tcb::CONFIGURE).0,
            caps: 3,
            irq: None,
        }
    }
}

impl Pair {
    /// `t` makes the thread control call `c`, on both (skipped where the
    /// spec's model of buffer words or the generator's addressing would
    /// not hold, see the module's comment).
    pub(super) fn control(&mut self, t: u64, c: &Control) {
        use cairn_spec::tcb::{CONFIGURE, SET_IPC_BUFFER, SET_SPACE};
        let cptr = self.target(c.tcb);
        let target = match self.spec.lookup_in(t, cptr) {
            Ok((_, Some(Cap::Thread { obj }))) => Some(obj),
            _ => None,
        };
        let home = target.and_then(|o| self.homes.iter().find(|h| h.0 == o).map(|h| h.1));
        let base = home.unwrap_or(0x1000);
        let addr = match c.addr {
            BufAddr::Home => base,
            BufAddr::HomeHigh(h) => (base & 0xFFF) | (h as u64) << 12,
            BufAddr::Quarter(q, p) => (p as u64) << 12 | (q as u64) << 10,
            BufAddr::Zero => 0,
            BufAddr::Misaligned(m) => base + m as u64,
            BufAddr::Raw(a) => a,
        };
        let root_cnode = self.spec.cap(cairn_spec::SlotId {
            obj: self.root_tcb,
            index: cairn_spec::state::TCB_CTABLE,
        });
        let cdata = match c.cdata {
            Data::Zero => 0,
            Data::Same => match root_cnode {
                Some(Cap::CNode {
                    guard_size, guard, ..
                }) => guard << 6 | guard_size as u64,
                _ => 0,
            },
            Data::Raw(d) => d,
        };
        let fault = self.target(c.fault);
        let mut words = match (cairn_spec::MCS, c.label) {
            (false, CONFIGURE) => vec![fault, cdata, c.vdata, addr],
            (false, SET_SPACE) => vec![fault, cdata, c.vdata],
            (true, CONFIGURE) => vec![cdata, c.vdata, addr],
            (true, SET_SPACE) => vec![cdata, c.vdata],
            _ => vec![addr],
        };
        words.truncate(c.words);
        let mut extra: Vec<u64> = c.roots[..3].iter().map(|&x| self.target(x)).collect();
        // MCS SetSpace: the fault handler cap first.
        if cairn_spec::MCS && c.label == SET_SPACE {
            extra.insert(0, fault);
        }
        extra.truncate(c.caps);
        // (The roots, whatever the form.)
        let roots = match cairn_spec::MCS && c.label == SET_SPACE {
            true => extra.get(1..).unwrap_or_default(),
            false => &extra[..],
        };
        let cap_of = |s: &Pair, cptr: Option<&u64>| {
            cptr.and_then(|&p| s.spec.lookup_in(t, p).ok())
                .and_then(|x| x.1)
        };
        // The root thread keeps its CSpace root and VSpace, and gets no
        // endpoint as its MCS fault handler.
        if target == Some(self.root_tcb) && cairn_spec::MCS && c.label == SET_SPACE {
            let handler = cap_of(self, extra.first());
            if matches!(handler, Some(Cap::Endpoint { .. })) {
                return tally(|x| x.skipped += 1);
            }
        }
        if target == Some(self.root_tcb) && c.label != SET_IPC_BUFFER {
            let croot = cap_of(self, roots.first()).and_then(|cap| match cdata {
                0 => Some(cap),
                d => cairn_spec::cap::update_data(false, d, cap),
            });
            let vroot = self.spec.cap(cairn_spec::SlotId {
                obj: self.root_tcb,
                index: 1,
            });
            let same_v = match (cap_of(self, roots.get(1)), vroot) {
                (Some(a), Some(b)) => cairn_spec::cap::same_object(&a, &b),
                _ => false,
            };
            if croot != root_cnode || !same_v {
                return tally(|x| x.skipped += 1);
            }
        }
        let inv = Invocation {
            cptr,
            label: c.label,
            words,
            extra,
        };
        let out = self.syscall(t, Syscall::Call, &inv, None, c.irq, c);
        tally(|x| count(&mut x.control, &out));
        let at = target.and_then(|o| Some((o, self.spec.buffer_at(o)?)));
        if let (Some((o, at)), Some(0)) = (at, answered(&out)) {
            let threads = self.spec.objects.keys();
            if threads
                .filter(|&&u| u != o)
                .any(|&u| self.spec.buffer_at(u) == Some(at))
            {
                tally(|x| x.shared_buffers += 1);
            }
        }
        self.compare(c);
    }

    /// `t` makes the interrupt or domain step `a`, on both.
    pub(super) fn irq_act(&mut self, t: u64, a: &IrqAct) {
        use cairn_spec::irq::{ISSUE_IRQ_HANDLER, ISSUE_IRQ_HANDLER_TRIGGER};
        let inv = match *a {
            IrqAct::Issue {
                irq,
                dest,
                root,
                trigger,
                words,
            } => {
                let d = self.w.addr(dest);
                let (label, mut w) = match trigger {
                    None => (ISSUE_IRQ_HANDLER, vec![irq, d.index, d.depth]),
                    Some(tr) => (ISSUE_IRQ_HANDLER_TRIGGER, vec![irq, tr, d.index, d.depth]),
                };
                w.truncate(words);
                let cnode = match root {
                    Target::Raw(init::CNODE) => d.cnode,
                    other => self.target(other),
                };
                Invocation {
                    cptr: init::IRQ_CONTROL,
                    label,
                    words: w,
                    extra: vec![cnode],
                }
            }
            IrqAct::Handler {
                handler,
                label,
                ntfn,
            } => Invocation {
                cptr: self.target(handler),
                label,
                words: vec![],
                extra: ntfn.map(|n| self.target(n)).into_iter().collect(),
            },
            IrqAct::Interrupt { issued, i, raw } => {
                let lines: Vec<u64> = self.spec.irqs.issued.keys().copied().collect();
                let irq = match issued && !lines.is_empty() {
                    true => lines[i as usize % lines.len()],
                    false => raw,
                };
                return self.interrupt(irq);
            }
            IrqAct::Tick { n } => return self.ticks(n),
            IrqAct::Domain {
                label,
                ref words,
                tcb,
            } => Invocation {
                cptr: init::DOMAIN,
                label,
                words: words.clone(),
                extra: tcb.map(|x| self.target(x)).into_iter().collect(),
            },
        };
        let out = self.syscall(t, Syscall::Call, &inv, None, None, a);
        tally(|x| count(&mut x.irq, &out));
        if let (IrqAct::Domain { label, .. }, Some(0)) = (a, answered(&out)) {
            if *label != cairn_spec::domain::SET {
                tally(|x| x.schedule += 1);
            }
        }
        self.compare(a);
    }

    /// `n` timer ticks, each on both and compared: whichever thread the
    /// scheduler chose runs (idle too). MCS: skipped (its time is the
    /// time steps', `time.rs`).
    fn ticks(&mut self, n: u8) {
        if cfg!(feature = "mcs") {
            return tally(|x| x.skipped += 1);
        }
        for i in 0..n {
            <crate::api::Api as crate::arch::Kernel>::handle_timer_tick(0);
            crate::sched::schedule();
            self.spec.timer_tick();
            self.spec.schedule();
            tally(|x| x.ticks += 1);
            self.compare(&("tick", i));
        }
    }

    /// Interrupt `irq` arrives: on the kernel only if the
    /// line is unmasked (a masked line raises nothing); the spec decides
    /// the same from its own state, and the states are compared.
    fn interrupt(&mut self, irq: u64) {
        if irq == cairn_spec::irq::TIMER_IRQ {
            return tally(|x| x.skipped += 1);
        }
        let delivered = self.spec.interrupt(irq);
        self.spec.schedule();
        let line = irq as u16;
        // (Whichever thread the kernel last chose runs: `t` is not made
        // current, which would activate it.)
        if SimMachine::irq_unmasked(line) {
            crate::object::irq::handle_interrupt(line as u32);
            crate::sched::schedule();
        }
        if delivered {
            tally(|x| x.interrupts += 1);
        }
        self.compare(&("interrupt", irq));
    }
}
