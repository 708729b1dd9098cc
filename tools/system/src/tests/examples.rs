//! The examples in examples/: the golden CapDL of hello.system, and the
//! authority the demo system (control.system) gives each PD.

use super::{example, CLASSIC, MCS};
use crate::capdl::{Cap, Kind, ObjId, Rights, Spec, Target};
use crate::layout;

fn load(name: &str, config: crate::Config) -> crate::Loaded {
    let path = example(name);
    let text = std::fs::read_to_string(&path).unwrap();
    crate::load(&format!("examples/{name}"), &text, config)
        .unwrap_or_else(|d| panic!("{}", crate::diag::render(&d)))
}

#[test]
fn hello_matches_its_golden_capdl() {
    let loaded = load("hello.system", CLASSIC);
    let text = crate::cdl_text("examples/hello.system", &loaded);
    let golden = std::fs::read_to_string(example("hello.cdl")).unwrap();
    assert!(
        text == golden,
        "examples/hello.cdl is out of date; if the change is meant, regenerate it with\n  \
         cargo xtask system examples/hello.system --cdl examples/hello.cdl\nnew text:\n{text}"
    );
}

fn obj<'s>(spec: &'s Spec, name: &str) -> &'s crate::capdl::Object {
    spec.object(&ObjId::new(name))
        .unwrap_or_else(|| panic!("no object {name}"))
}

fn cap<'s>(spec: &'s Spec, container: &str, slot: u64) -> &'s Cap {
    obj(spec, container)
        .slots
        .get(&slot)
        .unwrap_or_else(|| panic!("no cap in slot {slot} of {container}"))
}

/// The index of PD `name` in the description (the monitor's badge for
/// it is one more), found from the order of the TCBs in the spec.
fn spec_index(spec: &Spec, name: &str) -> u64 {
    let tcbs: Vec<&str> = spec
        .objects
        .iter()
        .filter(|o| matches!(o.kind, Kind::Tcb(_)) && o.id.name.starts_with("tcb_"))
        .map(|o| o.id.name.as_str())
        .collect();
    tcbs.iter()
        .position(|t| *t == format!("tcb_{name}"))
        .unwrap() as u64
}

fn target(c: &Cap) -> &str {
    match &c.target {
        Target::Object(id) => &id.name,
        _ => "?",
    }
}

#[test]
fn control_gives_each_pd_only_its_channels() {
    let spec = load("control.system", CLASSIC).spec;
    assert!(spec.check_caps().is_empty(), "{:?}", spec.check_caps());

    // The logger may only receive: its CNode holds its own notification
    // (to wait on), its VSpace and its fault endpoint (the monitor's,
    // badged with its index + 1: it can only fake a fault of its own),
    // nothing that reaches another PD.
    let logger: Vec<u64> = obj(&spec, "cnode_logger").slots.keys().copied().collect();
    assert_eq!(logger, [layout::INPUT, layout::FAULT_EP, layout::VSPACE]);
    let f = cap(&spec, "cnode_logger", layout::FAULT_EP);
    let index = spec_index(&spec, "logger");
    assert_eq!(
        (
            target(f),
            f.badge,
            f.rights.write,
            f.rights.grant_reply,
            f.rights.read,
            f.rights.grant
        ),
        ("monitor_ep", index + 1, true, true, false, false)
    );
    match &obj(&spec, "tcb_logger").kind {
        Kind::Tcb(t) => assert_eq!(t.fault_ep, Some(layout::FAULT_EP)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        target(cap(&spec, "cnode_logger", layout::INPUT)),
        "ntfn_logger"
    );
    assert_eq!(cap(&spec, "cnode_logger", layout::INPUT).rights, Rights::R);

    // The sensor takes IRQ 10 on its channel 0 and notifies the
    // controller (its channel 1, the controller's 0) and the logger.
    assert_eq!(spec.irqs.len(), 1);
    assert_eq!(
        (spec.irqs[0].irq, spec.irqs[0].handler.name.as_str()),
        (10, "irq_10")
    );
    let bound = cap(&spec, "irq_10", 0);
    assert_eq!(
        (target(bound), bound.badge, bound.rights),
        ("ntfn_sensor", 1, Rights::W)
    );
    assert_eq!(
        target(cap(&spec, "cnode_sensor", layout::BASE_IRQ)),
        "irq_10"
    );
    let n = cap(&spec, "cnode_sensor", layout::BASE_NOTIFY + 1);
    assert_eq!(
        (target(n), n.badge, n.rights),
        ("ntfn_controller", 1 << 0, Rights::W)
    );
    let n = cap(&spec, "cnode_sensor", layout::BASE_NOTIFY + 2);
    assert_eq!((target(n), n.badge), ("ntfn_logger", 1 << 1));

    // The actuator calls the controller (its channel 0, the controller's
    // 1) and may not notify it; the controller notifies it.
    let call = cap(&spec, "cnode_actuator", layout::BASE_PPC);
    assert_eq!(target(call), "ep_controller");
    assert_eq!(call.badge, layout::PPC_BADGE | 1);
    assert!(
        call.rights.write && call.rights.grant_reply && !call.rights.read && !call.rights.grant
    );
    assert!(!obj(&spec, "cnode_actuator")
        .slots
        .contains_key(&layout::BASE_NOTIFY));
    let n = cap(&spec, "cnode_controller", layout::BASE_NOTIFY + 1);
    assert_eq!((target(n), n.badge), ("ntfn_actuator", 1));
    // Only the called controller has an endpoint (and the monitor); it
    // waits on it.
    let eps: Vec<&str> = spec
        .objects
        .iter()
        .filter(|o| o.kind == Kind::Endpoint)
        .map(|o| o.id.name.as_str())
        .collect();
    assert_eq!(eps, ["ep_controller", "monitor_ep"]);
    assert_eq!(
        target(cap(&spec, "cnode_controller", layout::INPUT)),
        "ep_controller"
    );

    // The controller has the highest priority.
    let prio = |pd: &str| match &obj(&spec, &format!("tcb_{pd}")).kind {
        Kind::Tcb(t) => t.prio.unwrap(),
        _ => unreachable!(),
    };
    assert_eq!(prio("controller"), 254);
    assert!(["sensor", "actuator", "logger"]
        .iter()
        .all(|p| prio(p) < 254));

    // Shared memory with each PD's rights: the log is the controller's to
    // write and the logger's to read; the UART is uncached.
    let log_caps: Vec<(&str, Rights)> = spec
        .objects
        .iter()
        .flat_map(|o| o.slots.values().map(move |c| (o, c)))
        .filter(|(_, c)| target(c) == "frame_log_0")
        .map(|(o, c)| (o.id.name.as_str(), c.rights))
        .collect();
    assert_eq!(
        log_caps,
        [
            ("pt2_controller_4000000", Rights::RW),
            ("pt2_logger_4000000", Rights::R)
        ]
    );
    let uart = cap(&spec, "pt2_sensor_1000000", 0);
    assert!(uart.uncached);
    assert!(matches!(
        obj(&spec, "frame_uart_0").kind,
        Kind::Frame {
            paddr: Some(0x1000_0000),
            ..
        }
    ));
    // Classic: no scheduling contexts or reply objects.
    assert!(!spec
        .objects
        .iter()
        .any(|o| matches!(o.kind, Kind::SchedContext { .. } | Kind::Reply)));
}

#[test]
fn the_loader_can_size_every_object() {
    // What the demo needs from untyped memory, by the ABI's object sizes:
    // 4 PDs × (TCB 2 KiB + CNode 16 KiB + VSpace 4 KiB + notification
    // 32 B + IPC buffer 4 KiB + 2 stack pages) + page tables (two per PD
    // for the stack and IPC buffer, and for the maps: sensor 3, controller
    // 4, actuator 2, logger 3) + the controller's endpoint + 7 frames of
    // memory regions.
    let spec = load("control.system", CLASSIC).spec;
    let total: u64 = spec
        .objects
        .iter()
        .filter_map(|o| o.kind.size_bits(false))
        .map(|b| 1u64 << b)
        .sum();
    let per_pd = 2048 + 16384 + 4096 + 32 + 4096 + 2 * 4096;
    let tables = (4 * 2 + 3 + 4 + 2 + 3) * 4096;
    // The monitor: TCB, CNode, VSpace, endpoint, IPC buffer, 2 stack
    // pages, 2 page tables, and 2 for the UART (the sensor's page of the
    // `uart` region, device memory: no RAM).
    let monitor = 2048 + 16384 + 4096 + 16 + 4096 + 2 * 4096 + 4 * 4096;
    assert_eq!(total, 4 * per_pd + tables + 16 + 7 * 4096 + monitor);
    assert!(spec
        .objects
        .iter()
        .all(|o| o.kind.size_bits(false).is_some() || o.kind == Kind::Irq));
}

#[test]
fn control_mcs_needs_mcs_and_gives_budgets() {
    let text = std::fs::read_to_string(example("control_mcs.system")).unwrap();
    let errors = crate::load("control_mcs.system", &text, CLASSIC).unwrap_err();
    // Each budget and period is refused, by its position.
    assert_eq!(errors.len(), 8, "{}", crate::diag::render(&errors));
    assert!(errors.iter().all(|e| e.message.contains("--config mcs=on")));

    let spec = load("control_mcs.system", MCS).spec;
    let sc = obj(&spec, "sc_controller");
    assert_eq!(
        sc.kind,
        Kind::SchedContext {
            period: Some(10_000),
            budget: Some(2_000),
            data: Some(1),
            size_bits: Some(8),
        }
    );
    assert_eq!(target(cap(&spec, "tcb_controller", 6)), "sc_controller");
    // Every PD has a budget below its period: its timeout handler (TCB
    // slot 7, temp_fault_ep_slot) is the monitor, as its fault handler
    // (slot 5): the same cap, badge index + 1, W+P. Classic: none.
    for (i, pd) in ["sensor", "controller", "actuator", "logger"]
        .iter()
        .enumerate()
    {
        let tcb = format!("tcb_{pd}");
        let timeout = cap(&spec, &tcb, 7);
        assert_eq!(target(timeout), "monitor_ep");
        assert_eq!(timeout.badge, i as u64 + 1);
        assert_eq!(timeout, cap(&spec, &tcb, 5));
    }
    let classic = load("control.system", CLASSIC).spec;
    assert!(classic
        .objects
        .iter()
        .all(|o| !o.slots.contains_key(&7) || !matches!(o.kind, Kind::Tcb(_))));
    assert_eq!(
        target(cap(&spec, "cnode_controller", layout::REPLY)),
        "reply_controller"
    );
}

#[test]
fn the_graph_shows_channels_memory_and_irqs() {
    let loaded = load("control.system", CLASSIC);
    let dot = crate::graph::dot(loaded.system.as_ref().unwrap());
    for line in [
        "\"pd:actuator\" -> \"pd:controller\" [style=bold, label=\"ppcall ch 0\"];",
        "\"pd:controller\" -> \"pd:actuator\" [style=dashed, label=\"notify ch 1\"];",
        "\"irq:10\" -> \"pd:sensor\"",
        "\"pd:logger\" -> \"mr:log\" [dir=none, color=\"#4a7a4a\", label=\"r\"];",
        "\"pd:sensor\" -> \"mr:uart\" [dir=none, color=\"#4a7a4a\", label=\"rw, uncached\"];",
        "label=\"controller\\nprio 254\"",
    ] {
        assert!(dot.contains(line), "missing {line} in\n{dot}");
    }
    // The logger sends nothing.
    assert!(!dot.contains("\"pd:logger\" -> \"pd:"), "{dot}");
    assert!(dot.starts_with("digraph system {") && dot.ends_with("}\n"));
}

#[test]
fn the_monitor_maps_the_uart_to_print_without_the_kernel() {
    // control.system's sensor maps the UART's page (region `uart` at
    // 0x1000_0000): the monitor maps the same frame, uncached, read-write,
    // at 0x4000_0000 (seL4 has one frame object per physical page).
    let spec = load("control.system", CLASSIC).spec;
    let pt2 = obj(&spec, "pt2_monitor_40000000");
    let uart = &pt2.slots[&0];
    assert_eq!(target(uart), "frame_uart_0");
    assert!(uart.uncached && uart.rights.read && uart.rights.write && !uart.rights.grant);
    assert!(spec.object(&ObjId::new("monitor_uart")).is_none());
    let system = load("control.system", CLASSIC).system.unwrap();
    assert_eq!(
        crate::boot::monitor_setvars(&system),
        [(layout::MONITOR_UART.to_string(), layout::MONITOR_UART_VADDR)]
    );
    // ping.system maps no device: the monitor gets a page of its own.
    let spec = load("ping.system", CLASSIC).spec;
    assert_eq!(
        obj(&spec, "monitor_uart").kind,
        Kind::Frame {
            size_bits: 12,
            paddr: Some(layout::UART_PADDR),
            fill: Vec::new()
        }
    );
    assert_eq!(
        target(&obj(&spec, "pt2_monitor_40000000").slots[&0]),
        "monitor_uart"
    );
    // A region of 2 MiB pages holding the UART in its second page: the
    // monitor maps that large page.
    let text = r#"<system>
        <memory_region name="io" size="0x400000" page_size="0x200000" phys_addr="0xfe00000" />
        <protection_domain name="p"><program_image path="p.elf" /></protection_domain>
    </system>"#;
    let loaded = crate::load("io.system", text, CLASSIC).unwrap();
    let pt1 = obj(&loaded.spec, "pt1_monitor_40000000");
    assert_eq!(target(&pt1.slots[&0]), "frame_io_1");
    assert_eq!(
        crate::boot::monitor_setvars(loaded.system.as_ref().unwrap())[0].1,
        layout::MONITOR_UART_VADDR
    );
}
