//! The monitor's objects and the caps that connect PDs to it
//! (docs/system.md, "The monitor"; slots and badges in
//! [`crate::layout`]).
//!
//! Microkit's monitor is its root task and holds every PD's TCB and
//! scheduling context; Cairn's is a thread of the spec like any PD, with
//! only what it needs: its endpoint (each top-level PD's fault endpoint,
//! and where passive PDs ask for the hand-over), under MCS a scheduling
//! context and a reply object, and for each passive PD the three caps
//! the hand-over takes (its scheduling context, thread and notification).

use super::{small_frame, Builder, PdObjects, CALL, PAGE_BITS, SC_BITS};
use crate::capdl::{Cap, Kind, ObjId, Rights, Tcb};
use crate::layout;
use crate::sdf::{Config, System};

use super::slot;

/// Adds the monitor to the spec `b` of `system`, whose PDs' objects are
/// `pds` (in `system.pds` order).
pub(super) fn add(b: &mut Builder, system: &System, pds: &[PdObjects], config: Config) {
    let n = layout::MONITOR;
    let tcb = b.add(
        format!("{n}_tcb"),
        Kind::Tcb(Tcb {
            addr: Some(layout::IPC_BUFFER_VADDR),
            sp: Some(layout::STACK_TOP),
            prio: Some(layout::MONITOR_PRIORITY),
            // It sets no thread's priority.
            max_prio: Some(0),
            affinity: Some(0),
            resume: Some(true),
            fpu_disabled: Some(true),
            ..Tcb::default()
        }),
    );
    let bits = layout::monitor_cnode_bits(pds.len());
    let cnode = b.add(
        format!("{n}_cnode"),
        Kind::Cnode {
            size_bits: u64::from(bits),
        },
    );
    let vspace = b.add(format!("{n}_vspace"), Kind::PageTable);
    let ep = b.add(format!("{n}_ep"), Kind::Endpoint);
    let ipcbuf = b.add(format!("{n}_ipcbuf"), small_frame());
    let rw = |f: &ObjId| Cap::to(f).rights(Rights::RW);
    b.map_page(n, &vspace, layout::IPC_BUFFER_VADDR, PAGE_BITS, rw(&ipcbuf));
    b.put(&tcb, slot::IPC_BUFFER, rw(&ipcbuf));
    let pages = layout::STACK_DEFAULT >> PAGE_BITS;
    let bottom = layout::stack_bottom(layout::STACK_DEFAULT);
    for i in 0..pages {
        let f = b.add(format!("{n}_stack_{i}"), small_frame());
        b.map_page(n, &vspace, bottom + (i << PAGE_BITS), PAGE_BITS, rw(&f));
    }
    let cnode_cap = Cap {
        guard_size: 64 - u64::from(bits),
        ..Cap::to(&cnode)
    };
    b.put(&tcb, slot::CSPACE, cnode_cap);
    b.put(&tcb, slot::VSPACE, Cap::to(&vspace));
    b.put(&cnode, layout::INPUT, Cap::to(&ep).rights(Rights::R));
    uart(b, system, &vspace);
    if config.mcs {
        // Round robin (budget = period): it is always eligible, and runs
        // only for the moments a fault or a hand-over takes.
        let sc = b.add(
            format!("{n}_sc"),
            Kind::SchedContext {
                period: Some(layout::BUDGET_DEFAULT_US),
                budget: Some(layout::BUDGET_DEFAULT_US),
                data: Some(0),
                size_bits: Some(SC_BITS),
            },
        );
        b.put(&tcb, slot::SC, Cap::to(&sc));
        let reply = b.add(format!("{n}_reply"), Kind::Reply);
        b.put(&cnode, layout::REPLY, Cap::to(&reply));
    }
    for (i, (pd, me)) in system.pds.iter().zip(pds).enumerate() {
        let badge = layout::monitor_badge(i);
        if pd.parent.is_none() {
            let fault = Cap::to(&ep).rights(CALL).badge(badge);
            // As a child's: a cptr on the classic kernel, a cap in the
            // TCB under MCS; in the CNode either way.
            if config.mcs {
                b.put(&me.tcb, slot::FAULT_EP, fault.clone());
                // A PD whose budget can run out tells the monitor too
                // (same badge; the label says timeout), which reports it
                // and lets the PD go on at its next release.
                if pd.can_time_out() {
                    b.put(&me.tcb, slot::TEMP_FAULT_EP, fault.clone());
                }
            } else {
                b.set_fault_ep(&me.tcb, layout::FAULT_EP);
            }
            b.put(&me.cnode, layout::FAULT_EP, fault);
        }
        if pd.passive && config.mcs {
            let ask = Cap::to(&ep)
                .rights(Rights::W)
                .badge(layout::PASSIVE_BADGE | badge);
            b.put(&me.cnode, layout::MONITOR_EP, ask);
            let at = layout::MON_BASE + 3 * i as u64;
            b.put(&cnode, at, Cap::to(&ObjId::new(format!("sc_{}", pd.name))));
            b.put(&cnode, at + 1, Cap::to(&me.tcb));
            b.put(&cnode, at + 2, Cap::to(&me.ntfn));
        }
    }
}

/// The frame holding the UART and its offset in it: a memory region of
/// the description that covers [`layout::UART_PADDR`] (a PD's driver
/// maps it: seL4 has one frame object per physical page, so the monitor
/// maps the same one), else a page of its own, `monitor_uart`.
fn uart_frame(system: &System) -> (String, u64, u64) {
    for mr in &system.mrs {
        let Some(p) = mr.phys_addr else { continue };
        if (p..p + mr.size).contains(&layout::UART_PADDR) {
            let i = (layout::UART_PADDR - p) / mr.page_size;
            let offset = (layout::UART_PADDR - p) % mr.page_size;
            let bits = u64::from(mr.page_size.trailing_zeros());
            return (format!("frame_{}_{i}", mr.name), bits, offset);
        }
    }
    (format!("{}_uart", layout::MONITOR), PAGE_BITS, 0)
}

/// The UART's address in the monitor's address space, which the image
/// builder writes into its [`layout::MONITOR_UART`] variable.
pub fn uart_vaddr(system: &System) -> u64 {
    layout::MONITOR_UART_VADDR + uart_frame(system).2
}

/// Maps the UART into the monitor, uncached and read-write.
fn uart(b: &mut Builder, system: &System, vspace: &ObjId) {
    let (name, bits, _) = uart_frame(system);
    let frame = ObjId::new(name.clone());
    if !b.has(&frame) {
        b.add(
            name,
            Kind::Frame {
                size_bits: bits,
                paddr: Some(layout::UART_PADDR),
                fill: Vec::new(),
            },
        );
    }
    let cap = Cap {
        uncached: true,
        ..Cap::to(&frame).rights(Rights::RW)
    };
    b.map_page(
        layout::MONITOR,
        vspace,
        layout::MONITOR_UART_VADDR,
        bits,
        cap,
    );
}
