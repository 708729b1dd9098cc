//! Systems on the MCS kernel and the monitor, as the image builder
//! serialises them (examples/mcs.system): scheduling contexts configured
//! and bound, reply objects, fault-handler caps to the monitor, the
//! passive PD's hand-over caps, the loader's own caps it keeps or drops,
//! and the monitor's table of names.

use super::boot::{decode, elf, elf_with_symbols};
use super::{example, MCS};
use crate::boot::{kind, monitor_names, op, serialise, Program, NONE};
use crate::capdl::ObjId;
use crate::layout;

fn load() -> crate::Loaded {
    let path = example("mcs.system");
    let text = std::fs::read_to_string(&path).unwrap();
    crate::load(&path, &text, MCS).unwrap_or_else(|d| panic!("{}", crate::diag::render(&d)))
}

#[test]
fn mcs_systems_configure_and_bind_scheduling_contexts() {
    let loaded = load();
    let system = loaded.system.as_ref().unwrap();
    let names = monitor_names(system).unwrap();
    assert_eq!(
        names,
        b"server\0client\0faulter\0supervisor\0worker\0spinner\0ender\0"
    );
    let p = elf(0x10000, &[(0x10000, 5, b"x", 1)]);
    // The monitor's program with its names table in .bss.
    let m = elf_with_symbols(
        0x10000,
        &[(0x10000, 5, b"x", 1), (0x11000, 6, b"", 0x2000)],
        &[(layout::MONITOR_NAMES, 0x11000, 4096)],
    );
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
    programs.push(Program {
        tcb: ObjId::new("monitor_tcb"),
        elf: &m,
        setvars: Vec::new(),
        blobs: vec![(layout::MONITOR_NAMES.to_string(), names.clone())],
    });
    let input = decode(&serialise(&loaded.spec, &programs, false).unwrap());
    let of = |code: u64| input.steps.iter().filter(move |s| s[0] == code);
    let kind_of = |i: u64| input.objects[i as usize][0];

    // Eight scheduling contexts of 2^8 bytes (seven PDs and the monitor)
    // and eight reply objects.
    let count = |k: u64| input.objects.iter().filter(|o| o[0] == k).count();
    assert_eq!((count(kind::SCHED_CONTEXT), count(kind::REPLY)), (8, 8));
    assert!(input
        .objects
        .iter()
        .filter(|o| o[0] == kind::SCHED_CONTEXT)
        .all(|o| o[1] == 8));
    // Configured before any thread: budget, period, no extra refills, the
    // PD's index as badge (1000/1000 by default, client 50000/100000,
    // worker 5000/50000, spinner 1000/100000, the monitor's round robin
    // with badge 0).
    let first_tcb = input.steps.iter().position(|s| s[0] == op::TCB).unwrap();
    let last_sc = input
        .steps
        .iter()
        .rposition(|s| s[0] == op::SC_CONFIG)
        .unwrap();
    assert!(last_sc < first_tcb);
    let mut scs: Vec<_> = of(op::SC_CONFIG)
        .map(|s| (s[2], s[3], s[4], s[5]))
        .collect();
    scs.sort_unstable();
    assert_eq!(
        scs,
        [
            (1000, 1000, 0, 0),
            (1000, 1000, 0, 0),
            (1000, 1000, 0, 2),
            (1000, 1000, 0, 3),
            (1000, 1000, 0, 6),
            (1000, 100_000, 0, 5),
            (5000, 50_000, 0, 4),
            (50_000, 100_000, 0, 1),
        ]
    );
    // Every thread binds one; each top-level PD's fault handler is the
    // monitor's endpoint with W+P (1 | 8) and badge index + 1, the child
    // worker's its parent's with badge 2^62 + its id 0; the monitor has
    // none. No classic fault cptr.
    let tcbs: Vec<_> = of(op::TCB).collect();
    assert_eq!(tcbs.len(), 8);
    for t in &tcbs {
        assert_eq!(kind_of(t[13]), kind::SCHED_CONTEXT);
        assert_eq!(t[12], 0);
    }
    let faults: Vec<_> = tcbs.iter().map(|t| (t[15], t[16])).collect();
    let child = layout::FAULT_BADGE;
    assert_eq!(
        faults,
        [
            (9, 1),
            (9, 2),
            (9, 3),
            (9, 4),
            (9, child),
            (9, 6),
            (9, 7),
            (0, 0)
        ]
    );
    let monitor_ep = tcbs[0][14];
    assert_eq!(kind_of(monitor_ep), kind::ENDPOINT);
    let top = [0, 1, 2, 3, 5, 6];
    assert!(top.iter().all(|&i| tcbs[i][14] == monitor_ep));
    let supervisor_ep = tcbs[4][14];
    assert_eq!(kind_of(supervisor_ep), kind::ENDPOINT);
    assert_ne!(supervisor_ep, monitor_ep);
    assert_eq!(tcbs[7][14], NONE);

    // Timeout handlers: exactly the PDs whose budget is less than their
    // period (client, worker, spinner), each the same cap as its fault
    // handler (the worker's is its parent's endpoint), set after its
    // thread is configured and before any thread starts.
    let timeouts: Vec<_> = of(op::TIMEOUT_EP)
        .map(|s| (s[1], s[2], s[3], s[4]))
        .collect();
    assert_eq!(
        timeouts,
        [
            (tcbs[1][1], monitor_ep, 9, 2),
            (tcbs[4][1], supervisor_ep, 9, child),
            (tcbs[5][1], monitor_ep, 9, 6),
        ]
    );
    let at = |code: u64, tcb: u64| {
        input
            .steps
            .iter()
            .position(|s| s[0] == code && s[1] == tcb)
            .unwrap()
    };
    let first_start = input.steps.iter().position(|s| s[0] == op::START).unwrap();
    for (tcb, ..) in &timeouts {
        assert!(at(op::TCB, *tcb) < at(op::TIMEOUT_EP, *tcb));
        assert!(at(op::TIMEOUT_EP, *tcb) < first_start);
    }

    // The passive server: its cap to the monitor in slot 9 (W, badge
    // 2^63 | 1); the monitor holds its SC, TCB and notification at 16..18.
    let mint = |slot: u64, obj: u64| of(op::MINT).find(move |s| s[2] == slot && s[3] == obj);
    let ask = of(op::MINT).find(|s| s[2] == layout::MONITOR_EP).unwrap();
    assert_eq!((ask[3], ask[4], ask[5]), (monitor_ep, 1, (1 << 63) | 1));
    let server_sc = tcbs[0][13];
    let server_tcb = tcbs[0][1];
    let server_ntfn = tcbs[0][11];
    let monitor_cnode = tcbs[7][2];
    for (slot, obj) in [(16, server_sc), (17, server_tcb), (18, server_ntfn)] {
        let m = mint(slot, obj).unwrap_or_else(|| panic!("slot {slot}"));
        assert_eq!(m[1], monitor_cnode);
    }
    // Only the server is passive: nobody else has slot 9 or is in the
    // monitor's CNode.
    assert_eq!(
        of(op::MINT).filter(|s| s[2] == layout::MONITOR_EP).count(),
        1
    );
    // The monitor's CNode: its endpoint, its reply object and those three.
    assert_eq!(of(op::MINT).filter(|s| s[1] == monitor_cnode).count(), 5);

    // The loader drops its cap to the server's SC (the monitor holds one)
    // and keeps the others (deleting the last cap would unbind them).
    let dropped: Vec<u64> = of(op::DROP).map(|s| s[1]).collect();
    let dropped_scs: Vec<u64> = dropped
        .iter()
        .copied()
        .filter(|&o| kind_of(o) == kind::SCHED_CONTEXT)
        .collect();
    assert_eq!(dropped_scs, [server_sc]);
    // Reply objects are each in a CNode: dropped.
    assert_eq!(
        dropped
            .iter()
            .filter(|&&o| kind_of(o) == kind::REPLY)
            .count(),
        8
    );

    // The names table: patched into the monitor's .bss tail.
    let start = input
        .data
        .windows(names.len())
        .position(|w| w == names.as_slice());
    assert!(start.is_some(), "the names are in the program data");
}

#[test]
fn a_too_long_names_table_and_a_missing_symbol_are_refused() {
    let loaded = load();
    let mut system = loaded.system.clone().unwrap();
    let long = "n".repeat(layout::MONITOR_NAMES_BYTES);
    system.pds[0].name = long;
    let e = monitor_names(&system).unwrap_err();
    assert!(e.contains("more than the monitor's 4096"), "{e}");
    // A monitor program without the table.
    let p = elf(0x10000, &[(0x10000, 5, b"x", 1)]);
    let programs = [Program {
        tcb: ObjId::new("monitor_tcb"),
        elf: &p,
        setvars: Vec::new(),
        blobs: vec![(layout::MONITOR_NAMES.to_string(), b"a\0".to_vec())],
    }];
    let e = serialise(&loaded.spec, &programs, false).unwrap_err();
    assert_eq!(
        e,
        "monitor_tcb's program: no data symbol `__cairn_monitor_names` of at least 2 bytes"
    );
}
