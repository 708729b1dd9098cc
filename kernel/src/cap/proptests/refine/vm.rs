//! The refinement test's VSpace steps (`cairn_spec::vspace`, manual ch. 7):
//! frames, page tables and ASID pools retyped into the window, then mapped,
//! remapped, unmapped, assigned and deleted by any runnable thread, with
//! valid and invalid arguments.
//!
//! Addresses are drawn from a small region (three GiB, four 2 MiB regions
//! in each, eight pages in each) so that maps meet each other's tables and
//! pages: slot occupied, table missing, remap at a frame's own address or
//! next to it; and now and then the edges (`USER_TOP`, the kernel half,
//! misaligned, any word). The VSpace cap is mostly the root task's
//! (assigned at boot), else a window table (unassigned, assigned by a
//! step, mapped as an inner table) or any cap.

use super::{Pair, Tally};
use crate::cap::Cap as C;
use cairn_abi::cap::init;
use cairn_abi::object::ObjectType as T;
use cairn_spec::vspace::{self as vs, USER_TOP};
use cairn_spec::{Invocation, Syscall};
use proptest::prelude::*;

/// A cap of the VSpace steps, resolved when the step runs (the `i`-th of
/// its kind, modulo their number).
#[derive(Clone, Copy, Debug)]
pub(super) enum VmCap {
    /// Window frame caps, then the root task's IPC buffer and an image
    /// frame (mapped at boot).
    Frame(u8),
    /// Window frame caps not mapped (else as `Frame`).
    FreeFrame(u8),
    /// The root task's VSpace, window page tables, an image table.
    Table(u8),
    /// Window page tables not mapped (else as `Table`).
    FreeTable(u8),
    /// The root task's pool, window pools.
    Pool(u8),
    /// Window untypeds, then the boot pools.
    Untyped(u8),
    /// The ASID control cap.
    Control,
    /// The root CNode.
    Root,
    /// Window slot `i`, whatever it holds.
    Win(u8),
}

/// A virtual address, resolved when the step runs.
#[derive(Clone, Copy, Debug)]
pub(super) enum Va {
    At(u64),
    /// Where the `i`-th window frame cap is mapped (0 if it is not), `d`
    /// pages further.
    Mapped(u8, i8),
    /// Page `p` of the region of the `i`-th mapped window table or of an
    /// image table.
    InTable(u8, u8),
}

/// Word 0 of a VSpace call.
#[derive(Clone, Copy, Debug)]
pub(super) enum First {
    Va(Va),
    /// Window slot `i` at depth 64 (MakePool's destination).
    Dest(u8),
    Raw(u64),
}

/// A VSpace step.
#[derive(Clone, Debug)]
pub(super) enum VmAct {
    /// An invocation of a VM cap: word 0, the other words, the extra caps;
    /// `cut` truncates the words, `bare` drops the extra caps.
    Call {
        sys: Syscall,
        cap: VmCap,
        label: u64,
        first: First,
        words: Vec<u64>,
        extra: Vec<VmCap>,
        cut: Option<u8>,
        bare: bool,
    },
    /// Retype `count` objects of `ty` (size `size`) from boot pool `pool`
    /// into window slot `slot` onwards.
    Make {
        pool: u8,
        ty: u64,
        size: u64,
        slot: u8,
        count: u64,
    },
    /// Delete (or Revoke) the `i`-th VM cap of the window, maybe
    /// preempted.
    Delete(u8, bool, Option<u8>),
    /// Two unmapped tables and an unmapped frame (the `i`-th of each)
    /// mapped at one address of the root task's VSpace, one call after
    /// the other: the tables fill the missing levels, the frame (rights
    /// word, attributes) lands if they were the ones missing.
    Chain {
        va: Va,
        tables: (u8, u8),
        frame: u8,
        rights: u64,
        attr: u64,
    },
}

fn va() -> impl Strategy<Value = Va> {
    let edge = prop_oneof![
        Just(USER_TOP - 0x1000),
        Just(USER_TOP - 0x20_0000),
        Just(USER_TOP),
        Just(1u64 << 38),
        Just(0xFFFF_FFC0_0000_0000),
        Just(0x20_0800),
        Just((1u64 << 30) - 0x1000),
    ];
    prop_oneof![
        8 => (0u64..2, 0u64..2, 0u64..8).prop_map(|(g, r, p)| Va::At(g << 30 | r << 21 | p << 12)),
        2 => (0u64..3, 0u64..4).prop_map(|(g, r)| Va::At(g << 30 | r << 21)),
        // 1 GiB aligned (a Giga page's place).
        1 => (1u64..3).prop_map(|g| Va::At(g << 30)),
        3 => (any::<u8>(), -2i8..=2).prop_map(|(i, d)| Va::Mapped(i, d)),
        6 => (any::<u8>(), 0u8..8).prop_map(|(i, p)| Va::InTable(i, p)),
        1 => edge.prop_map(Va::At),
        1 => any::<u64>().prop_map(Va::At),
    ]
}

/// The VSpace cap of a map: mostly the root task's.
fn vspace() -> BoxedStrategy<VmCap> {
    prop_oneof![
        8 => Just(VmCap::Table(0)),
        2 => any::<u8>().prop_map(VmCap::Table),
        1 => any::<u8>().prop_map(VmCap::Win),
        1 => any::<u8>().prop_map(VmCap::Frame),
    ]
    .boxed()
}

fn any_vm_cap() -> BoxedStrategy<VmCap> {
    prop_oneof![
        3 => any::<u8>().prop_map(VmCap::Frame),
        2 => any::<u8>().prop_map(VmCap::Table),
        1 => any::<u8>().prop_map(VmCap::Pool),
        1 => Just(VmCap::Control),
        1 => any::<u8>().prop_map(VmCap::Win),
    ]
    .boxed()
}

fn call() -> impl Strategy<Value = VmAct> {
    use vs::*;
    // Rights: read-write mostly, any of the four bits now and then.
    let rights = prop_oneof![3 => Just(3u64), 2 => 0u64..16, 1 => any::<u64>()];
    let attr = prop_oneof![4 => 0u64..2, 1 => any::<u64>()];
    let frame = prop_oneof![
        4 => any::<u8>().prop_map(VmCap::FreeFrame),
        4 => any::<u8>().prop_map(VmCap::Frame),
        1 => any_vm_cap()
    ];
    let table = prop_oneof![
        6 => any::<u8>().prop_map(VmCap::FreeTable),
        3 => any::<u8>().prop_map(VmCap::Table),
        1 => any_vm_cap()
    ];
    let none = || Just(Vec::<u64>::new());
    let kind = prop_oneof![
        6 => (frame.clone(), Just(PAGE_MAP), va().prop_map(First::Va), (rights, attr).prop_map(|(r, a)| vec![r, a]), vspace().prop_map(|v| vec![v])),
        2 => (frame.clone(), Just(PAGE_UNMAP), Just(First::Raw(0)), none(), Just(vec![])),
        1 => (frame, Just(PAGE_GET_ADDRESS), Just(First::Raw(0)), none(), Just(vec![])),
        4 => (table.clone(), Just(PAGE_TABLE_MAP), va().prop_map(First::Va), Just(vec![0u64]), vspace().prop_map(|v| vec![v])),
        2 => (table, Just(PAGE_TABLE_UNMAP), Just(First::Raw(0)), none(), Just(vec![])),
        2 => (prop_oneof![4 => any::<u8>().prop_map(VmCap::Pool), 1 => any_vm_cap()], Just(ASID_POOL_ASSIGN), Just(First::Raw(0)), none(),
              prop_oneof![4 => any::<u8>().prop_map(VmCap::Table), 1 => any_vm_cap()].prop_map(|v| vec![v])),
        1 => (Just(VmCap::Control), Just(ASID_CONTROL_MAKE_POOL), any::<u8>().prop_map(First::Dest), Just(vec![64u64]),
              any::<u8>().prop_map(|u| vec![VmCap::Untyped(u), VmCap::Root])),
        1 => (any_vm_cap(), 0u64..48, any::<u64>().prop_map(First::Raw), proptest::collection::vec(any::<u64>(), 0..3),
              proptest::collection::vec(any_vm_cap(), 0..3)),
    ];
    let sys = prop_oneof![9 => Just(Syscall::Call), 1 => Just(Syscall::Send)];
    let cut = prop_oneof![8 => Just(None), 1 => (0u8..3).prop_map(Some)];
    (kind, sys, cut, proptest::bool::weighted(0.05)).prop_map(
        |((cap, label, first, words, extra), sys, cut, bare)| VmAct::Call {
            sys,
            cap,
            label,
            first,
            words,
            extra,
            cut,
            bare,
        },
    )
}

/// `VmAct::Make`'s pool for a device untyped of 1 GiB.
const GIGA_POOL: u8 = 5;

pub(super) fn vm_act() -> impl Strategy<Value = VmAct> {
    // Mostly 4 KiB frames and tables from the first pool; 4 KiB untypeds
    // for MakePool; 2 MiB (and 4 KiB) device frames from the device pool;
    // 1 GiB device frames from a boot untyped of 1 GiB (`GIGA_POOL`).
    let make = prop_oneof![
        5 => (0u8..2, Just(T::SmallPage as u64), Just(0u64)),
        4 => (0u8..2, Just(T::PageTable as u64), Just(0u64)),
        1 => (0u8..4, Just(T::Untyped as u64), Just(12u64)),
        1 => (Just(4u8), prop_oneof![Just(T::MegaPage as u64), Just(T::SmallPage as u64)], Just(0u64)),
        2 => (prop_oneof![4 => Just(GIGA_POOL), 1 => 0u8..5], Just(T::GigaPage as u64), Just(0u64)),
    ];
    prop_oneof![
        12 => call(),
        4 => (make, 0u8..32, 1u64..=3).prop_map(|((pool, ty, size), slot, count)| VmAct::Make {
            pool,
            ty,
            size,
            slot,
            count
        }),
        2 => (any::<u8>(), any::<bool>(), super::irq()).prop_map(|(i, r, q)| VmAct::Delete(i, r, q)),
        3 => (va(), any::<(u8, u8, u8)>(), prop_oneof![3 => Just(3u64), 1 => 0u64..16], 0u64..2)
            .prop_map(|(va, (i, j, frame), rights, attr)| VmAct::Chain {
                va,
                tables: (i, j),
                frame,
                rights,
                attr
            }),
    ]
}

impl Pair {
    /// Window slots whose cap `f` accepts.
    pub(super) fn window(&self, f: &dyn Fn(&C) -> bool) -> Vec<u64> {
        let win = self.w.win;
        (win..win + super::WIN)
            .filter(|&j| f(&self.w.k.cap(j)))
            .collect()
    }

    fn vm_cptr(&self, x: VmCap) -> u64 {
        let pick = |v: Vec<u64>, i: u8| v[i as usize % v.len()];
        match x {
            VmCap::Frame(i) => {
                let mut v = self.window(&|c| matches!(c, C::Frame { .. }));
                v.extend([init::IPC_BUFFER, 18]);
                pick(v, i)
            }
            VmCap::Table(i) => {
                let mut v = vec![init::VSPACE];
                v.extend(self.window(&|c| matches!(c, C::PageTable { .. })));
                v.push(16);
                pick(v, i)
            }
            VmCap::FreeFrame(i) => {
                let v = self.window(&|c| matches!(c, C::Frame { mapping: None, .. }));
                match v.is_empty() {
                    true => self.vm_cptr(VmCap::Frame(i)),
                    false => pick(v, i),
                }
            }
            VmCap::FreeTable(i) => {
                let v = self.window(&|c| matches!(c, C::PageTable { mapping: None, .. }));
                match v.is_empty() {
                    true => self.vm_cptr(VmCap::Table(i)),
                    false => pick(v, i),
                }
            }
            VmCap::Pool(i) => {
                let mut v = vec![init::ASID_POOL];
                v.extend(self.window(&|c| matches!(c, C::AsidPool { .. })));
                pick(v, i)
            }
            VmCap::Untyped(i) => {
                let mut v = self.window(&|c| matches!(c, C::Untyped { .. }));
                v.extend((0..5).map(|b| self.w.cptr(super::Loc::Boot(b))));
                pick(v, i)
            }
            VmCap::Control => init::ASID_CONTROL,
            VmCap::Root => init::CNODE,
            VmCap::Win(i) => self.w.win + i as u64 % super::WIN,
        }
    }

    fn va(&self, va: Va) -> u64 {
        match va {
            Va::At(a) => a,
            Va::Mapped(i, d) => self
                .mapped_at(i, false)
                .wrapping_add((d as i64 * 4096) as u64),
            Va::InTable(i, p) => self.mapped_at(i, true) + ((p as u64) << 12),
        }
    }

    /// Where the `i`-th mapped window frame (`table`: mapped window page
    /// table, or the image's table) is mapped; 0 if none is.
    fn mapped_at(&self, i: u8, table: bool) -> u64 {
        let mapping = |c: C| match c {
            C::Frame { mapping, .. } if !table => mapping,
            C::PageTable { mapping, .. } if table => mapping,
            _ => None,
        };
        let mut v = self.window(&|c| mapping(*c).is_some());
        if table {
            v.push(16);
        }
        v.get(i as usize % v.len().max(1))
            .and_then(|&j| mapping(self.w.k.cap(j)))
            .map_or(0, |m| m.vaddr)
    }

    /// The smallest device untyped of the boot of at least 1 GiB (for
    /// Giga pages: the pools are smaller).
    fn giga_untyped(&self) -> u64 {
        let k = &self.w.k;
        k.untypeds
            .clone()
            .filter_map(|i| match k.cap(i) {
                C::Untyped {
                    size_bits,
                    is_device: true,
                    ..
                } if size_bits >= 30 => Some((size_bits, i)),
                _ => None,
            })
            .min()
            .map_or(init::CNODE, |(_, i)| i)
    }

    /// Thread `t` makes the VSpace step `a`.
    pub(super) fn vm(&mut self, t: u64, a: &VmAct) {
        match a {
            VmAct::Call {
                sys,
                cap,
                label,
                first,
                words,
                extra,
                cut,
                bare,
            } => {
                let w0 = match *first {
                    First::Va(v) => self.va(v),
                    First::Dest(i) => self.w.win + i as u64 % super::WIN,
                    First::Raw(w) => w,
                };
                let mut words: Vec<u64> = core::iter::once(w0).chain(words.clone()).collect();
                if let Some(n) = cut {
                    words.truncate(*n as usize);
                }
                let extra = match bare {
                    true => vec![],
                    false => extra.iter().map(|&x| self.vm_cptr(x)).collect(),
                };
                let inv = Invocation {
                    cptr: self.vm_cptr(*cap),
                    label: *label,
                    words,
                    extra,
                };
                self.syscall(t, *sys, &inv, None, None, a);
                // A VSpace call never blocks: the caller holds its answer.
                let answered = self.spec.thread(t).map(|x| x.info.label);
                let done = *sys == Syscall::Call && answered == Some(0);
                if let (true, Some(i)) = (done, label.checked_sub(vs::PAGE_TABLE_MAP)) {
                    super::tally(|x: &mut Tally| {
                        if let Some(n) = x.vm_done.get_mut(i as usize) {
                            *n += 1;
                        }
                    });
                    let giga = matches!(
                        self.spec.lookup_in(t, inv.cptr),
                        Ok((_, Some(cairn_spec::Cap::Frame { size_bits: 30, .. })))
                    );
                    if let (true, Some(j @ 0..=1)) = (giga, label.checked_sub(vs::PAGE_MAP)) {
                        super::tally(|x: &mut Tally| x.giga[j as usize] += 1);
                    }
                }
            }
            &VmAct::Make {
                pool,
                ty,
                size,
                slot,
                count,
            } => {
                let dest = self.w.win + slot as u64 % super::WIN;
                let inv = Invocation {
                    cptr: match pool {
                        GIGA_POOL => self.giga_untyped(),
                        p => self.w.cptr(super::Loc::Boot(p)),
                    },
                    label: cairn_spec::untyped::RETYPE,
                    words: vec![ty, size, 0, 0, dest, count],
                    extra: vec![init::CNODE],
                };
                self.syscall(t, Syscall::Call, &inv, None, None, a);
            }
            &VmAct::Delete(i, revoke, irq) => {
                let vm = |c: &C| {
                    matches!(
                        c,
                        C::Frame { .. } | C::PageTable { .. } | C::AsidPool { .. }
                    )
                };
                let v = self.window(&vm);
                let Some(&slot) = v.get(i as usize % v.len().max(1)) else {
                    return super::tally(|t| t.skipped += 1);
                };
                let at = super::Addr {
                    cnode: init::CNODE,
                    index: slot,
                    depth: 64,
                };
                if !self.w.may_change(self.w.resolve(at), revoke) {
                    return super::tally(|t| t.skipped += 1);
                }
                let label = match revoke {
                    true => super::l::CNODE_REVOKE,
                    false => super::l::CNODE_DELETE,
                };
                let call = super::cnode_call(label, at, vec![], &[]);
                self.call_by(t, &call, irq, a);
            }
            &VmAct::Chain {
                va,
                tables: (i, j),
                frame,
                rights,
                attr,
            } => {
                let va = self.va(va);
                let steps = [
                    (VmCap::FreeTable(i), vs::PAGE_TABLE_MAP, vec![va, 0]),
                    (VmCap::FreeTable(j), vs::PAGE_TABLE_MAP, vec![va, 0]),
                    (
                        VmCap::FreeFrame(frame),
                        vs::PAGE_MAP,
                        vec![va, rights, attr],
                    ),
                ];
                for (cap, label, words) in steps {
                    let inv = Invocation {
                        cptr: self.vm_cptr(cap),
                        label,
                        words,
                        extra: vec![init::VSPACE],
                    };
                    self.syscall(t, Syscall::Call, &inv, None, None, a);
                    let answered = self.spec.thread(t).map(|x| x.info.label);
                    if answered == Some(0) {
                        let i = (label - vs::PAGE_TABLE_MAP) as usize;
                        super::tally(|x: &mut Tally| x.vm_done[i] += 1);
                    }
                    if !self.spec.state_of(t).runnable() {
                        break;
                    }
                }
            }
        }
        self.compare(a);
    }
}
