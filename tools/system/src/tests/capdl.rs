//! The CapDL model: what a description becomes (children, MCS), text and
//! JSON round trips, and reading specs written for capDL-tool.

use super::{example, ok, CLASSIC, MCS};
use crate::capdl::parse::parse;
use crate::capdl::print::print;
use crate::capdl::{build::build, Cap, Derivation, Kind, ObjId, Rights, SlotRef, Spec, Target};
use crate::layout;

/// print → parse gives the same model, and so does JSON.
fn round_trips(spec: &Spec) {
    let text = print(spec, &["test".into()]);
    let back =
        parse("t.cdl", &text).unwrap_or_else(|d| panic!("{}\n{text}", crate::diag::render(&d)));
    assert_eq!(&back, spec, "text round trip:\n{text}");
    assert_eq!(print(&back, &["test".into()]), text);
    let json = crate::json_text(spec);
    let from_json: Spec = serde_json::from_str(&json).unwrap();
    assert_eq!(&from_json, spec, "JSON round trip");
}

#[test]
fn descriptions_round_trip_through_capdl_text_and_json() {
    for (name, config) in [
        ("hello.system", CLASSIC),
        ("control.system", CLASSIC),
        ("wide.system", CLASSIC),
        ("control_mcs.system", MCS),
    ] {
        let text = std::fs::read_to_string(example(name)).unwrap();
        let loaded = crate::load(name, &text, config).unwrap();
        round_trips(&loaded.spec);
    }
    let full = super::sdf::full();
    round_trips(&build(&ok(full, MCS), MCS));
}

#[test]
fn a_child_is_its_parents_and_faults_to_it() {
    let classic = build(&ok(&super::sdf::full_classic(), CLASSIC), CLASSIC);
    let mcs = build(&ok(super::sdf::full(), MCS), MCS);
    for spec in [&classic, &mcs] {
        let parent_cnode = spec.object(&ObjId::new("cnode_parent")).unwrap();
        assert_eq!(
            parent_cnode.slots[&(layout::BASE_CHILD_TCB + 7)].target,
            Target::Object(ObjId::new("tcb_child"))
        );
        let fault = &spec.object(&ObjId::new("cnode_child")).unwrap().slots[&layout::FAULT_EP];
        assert_eq!(fault.target, Target::Object(ObjId::new("ep_parent")));
        assert_eq!(fault.badge, layout::FAULT_BADGE | 7);
    }
    // Classic: the fault endpoint is a cptr in the TCB's parameters; MCS:
    // a cap in the TCB.
    let tcb = |s: &Spec| s.object(&ObjId::new("tcb_child")).unwrap().clone();
    let Kind::Tcb(t) = tcb(&classic).kind else {
        panic!()
    };
    assert_eq!(t.fault_ep, Some(layout::FAULT_EP));
    assert!(!tcb(&classic).slots.contains_key(&5));
    let Kind::Tcb(t) = tcb(&mcs).kind else {
        panic!()
    };
    assert_eq!(t.fault_ep, None);
    assert!(tcb(&mcs).slots.contains_key(&5));
    // Large pages go into the level-1 table; fpu="false" is capDL's
    // fpu_disabled.
    let big = classic
        .objects
        .iter()
        .find(|o| o.id.name == "pt1_parent_40000000")
        .unwrap();
    assert_eq!(
        big.slots[&0].target,
        Target::Object(ObjId::new("frame_big_0"))
    );
    assert_eq!(
        big.slots[&1].target,
        Target::Object(ObjId::new("frame_big_1"))
    );
    assert!(big.slots[&0].rights.grant, "rwx maps executable (X)");
    let Kind::Tcb(t) = classic
        .object(&ObjId::new("tcb_parent"))
        .unwrap()
        .kind
        .clone()
    else {
        panic!()
    };
    assert_eq!(t.fpu_disabled, Some(true));
}

/// A spec in capDL-tool's syntax, using what Cairn reads of it.
const SPEC: &str = r#"
-- A line comment.
/* A block /* with a nested one */ comment. */
arch riscv

objects {
  pool = ut (20 bits, paddr: 0x80000000) {
    worker/inner = ut (16 bits)
    w_tcb = tcb (addr: 0x1000, ip: 0x10000, sp: 0x2000, prio: 100, max_prio: 100, affinity: 0, resume: False, fpu_disabled: True, fault_ep: 3, dom: 0, init: [1, 2])
    eps[3] = ep
  }
  w_cnode = cnode (4 bits)
  w_vspace = pt
  w_ntfn = notification
  buf[2] = frame (4k, fill: [{0 4096 CDL_FrameFill_FileData "w.elf" 0x0}, {0 16 zero}])
  big = frame (2M, paddr: 0x1000000)
  huge = frame (1024M)
  w_sc = sc (period: 1000, budget: 500, data: 0x7, 8 bits)
  w_reply = rtreply
  timer = irq
  asids = asid_pool (asid_high: 0x1)
}

caps {
  first = (w_cnode, 1)
  w_cnode {
    1: eps[0] (badge: 5, RWG)
    eps[1..2] (W)
    copy = <first> (masked: R)
    10: <copy> (masked: RW)
    12: irq_control
    w_tcb
    15: sched_control (core: 0)
    16: w_cnode (guard: 0x1, guard_size: 58)
    017: eps[2] (P) - child_of (w_cnode, 1)
  }
  w_tcb {
    cspace: w_cnode (guard_size: 60)
    vspace: w_vspace
    ipc_buffer_slot: buf[0] (RW)
    sc_slot: w_sc
  }
  w_vspace {
    0: buf[1] (RX, uncached)
  }
  timer { 0: w_ntfn (badge: 0o10, W) }
}

cdt {
  (w_cnode, 1) { (w_cnode, 2); (w_cnode, 3) { (w_cnode, 11) } }
}

irq maps {
  7: timer
}

domains {
  schedule: [(0, 10), (1, 20),]
  domain_set_start: no_start
  index_shift: 2
}
"#;

#[test]
fn reads_capdl_tool_syntax() {
    let spec = parse("s.cdl", SPEC).unwrap_or_else(|d| panic!("{}", crate::diag::render(&d)));
    let o = |n: &str| spec.object(&ObjId::new(n)).unwrap();
    let idx = |n: &str, i| ObjId {
        name: n.into(),
        index: Some(i),
    };
    // Untyped coverings from nesting and qualified names.
    let Kind::Untyped {
        size_bits,
        paddr,
        covers,
    } = &o("pool").kind
    else {
        panic!()
    };
    assert_eq!((*size_bits, *paddr), (Some(20), Some(0x8000_0000)));
    assert_eq!(
        covers,
        &[
            ObjId::new("worker"),
            ObjId::new("w_tcb"),
            idx("eps", 0),
            idx("eps", 1),
            idx("eps", 2)
        ]
    );
    let Kind::Untyped {
        size_bits, covers, ..
    } = &o("worker").kind
    else {
        panic!()
    };
    assert_eq!(
        (*size_bits, covers.as_slice()),
        (None, &[ObjId::new("inner")][..])
    );
    let Kind::Tcb(t) = &o("w_tcb").kind else {
        panic!()
    };
    assert_eq!(
        (t.addr, t.ip, t.sp, t.prio, t.max_prio, t.affinity),
        (
            Some(0x1000),
            Some(0x10000),
            Some(0x2000),
            Some(100),
            Some(100),
            Some(0)
        )
    );
    assert_eq!(
        (t.resume, t.fpu_disabled, t.fault_ep, t.dom),
        (Some(false), Some(true), Some(3), Some(0))
    );
    assert_eq!(t.init, [1, 2]);
    let Kind::Frame {
        size_bits, fill, ..
    } = &spec.object(&idx("buf", 1)).unwrap().kind
    else {
        panic!()
    };
    assert_eq!(*size_bits, 12);
    assert_eq!(
        fill[0],
        ["0", "4096", "CDL_FrameFill_FileData", "\"w.elf\"", "0x0"]
    );
    assert_eq!(fill[1], ["0", "16", "zero"]);
    assert!(matches!(
        o("big").kind,
        Kind::Frame {
            size_bits: 21,
            paddr: Some(0x100_0000),
            ..
        }
    ));
    assert!(matches!(o("huge").kind, Kind::Frame { size_bits: 30, .. }));
    assert!(matches!(
        o("w_sc").kind,
        Kind::SchedContext {
            period: Some(1000),
            budget: Some(500),
            data: Some(7),
            size_bits: Some(8)
        }
    ));

    let slots = &o("w_cnode").slots;
    let eps = |i| Target::Object(idx("eps", i));
    assert_eq!(
        slots[&1],
        Cap {
            target: eps(0),
            ..Cap::target(eps(0))
        }
        .rights(Rights {
            read: true,
            write: true,
            grant: true,
            grant_reply: false
        })
        .badge(5)
    );
    // Unnumbered slots follow the previous one; a range fills one each.
    assert_eq!(
        (slots[&2].target.clone(), slots[&2].rights),
        (eps(1), Rights::W)
    );
    assert_eq!(slots[&3].target, eps(2));
    // A copy of a named slot, masked; a copy of that copy, masked again.
    assert_eq!((slots[&4].target.clone(), slots[&4].badge), (eps(0), 5));
    assert_eq!(slots[&4].rights, Rights::R);
    assert_eq!(slots[&10].rights, Rights::R);
    assert_eq!(slots[&12].target, Target::IrqControl);
    assert_eq!(slots[&13].target, Target::Object(ObjId::new("w_tcb")));
    assert_eq!(
        (slots[&15].target.clone(), slots[&15].core),
        (Target::SchedControl, Some(0))
    );
    assert_eq!((slots[&16].guard, slots[&16].guard_size), (1, 58));
    // "017" is decimal 17, as capDL-tool's Parsec reads it.
    assert!(slots[&17].rights.grant_reply);
    let tcb = &o("w_tcb").slots;
    assert_eq!(tcb[&0].guard_size, 60);
    assert_eq!(tcb[&6].target, Target::Object(ObjId::new("w_sc")));
    let frame = &o("w_vspace").slots[&0];
    assert!(frame.uncached && frame.rights.read && frame.rights.grant && !frame.rights.write);
    assert_eq!(o("timer").slots[&0].badge, 8);

    let d = |a, b| Derivation {
        parent: SlotRef {
            object: ObjId::new("w_cnode"),
            slot: a,
        },
        child: SlotRef {
            object: ObjId::new("w_cnode"),
            slot: b,
        },
    };
    assert_eq!(spec.cdt, [d(1, 17), d(1, 2), d(1, 3), d(3, 11)]);
    assert_eq!(
        (spec.irqs[0].irq, spec.irqs[0].handler.name.as_str()),
        (7, "timer")
    );
    let dom = spec.domains.as_ref().unwrap();
    assert_eq!(
        (dom.schedule.as_slice(), dom.start, dom.index_shift),
        (&[(0, 10), (1, 20)][..], None, 2)
    );
    assert!(spec.check_caps().is_empty());
    round_trips(&spec);
}

#[test]
fn bad_capdl_is_refused_with_position() {
    let cases: [(&str, &str, (u32, u32), &str); 12] = [
        ("arch aarch64\nobjects {}", "", (1, 6), "must say 'arch riscv'"),
        ("arch riscv\n", "", (2, 1), "expected 'objects', 'caps'"),
        ("arch riscv\nobjects {\n  x = pgd\n}", "", (3, 3), "object type 'pgd' does not exist on RISC-V"),
        ("arch riscv\nobjects {\n  x = frame (8k)\n}", "", (3, 3), "4k, 2M or 1024M"),
        ("arch riscv\nobjects {\n  x = ep (12 bits)\n}", "", (3, 11), "a 'ep' object takes no 'bits'"),
        ("arch riscv\nobjects {\n  x = ep\n  x = ep\n}", "", (4, 3), "declared twice"),
        ("arch riscv\nobjects { c = cnode (2 bits) }\ncaps {\n  c { 0: nothing }\n}", "", (4, 10), "unknown object 'nothing'"),
        ("arch riscv\nobjects { c = cnode (2 bits) e = ep }\ncaps {\n  c { 0: e\n 0: e }\n}", "", (5, 2), "slot 0 of 'c' is filled twice"),
        ("arch riscv\nobjects { c = cnode (2 bits) f = frame (4k) }\ncaps {\n  c { 0: f (badge: 1) }\n}", "", (4, 7), "only endpoint and notification caps have a badge"),
        ("arch riscv\nobjects { e = ep }\ncaps {\n  e { 0: e }\n}", "", (4, 7), "'e' holds no capabilities"),
        ("arch riscv\nobjects { c = cnode (2 bits) }\ncaps {\n  c { 0: <nobody> }\n}", "", (4, 7), "unknown cap name 'nobody'"),
        ("arch riscv\nobjects { x = ep $ }", "", (2, 18), "unexpected character '$'"),
    ];
    for (text, _, (line, col), words) in cases {
        let e = parse("bad.cdl", text).expect_err(text);
        assert!(
            e.iter()
                .any(|d| (d.pos.line, d.pos.col) == (line, col) && d.message.contains(words)),
            "{text}\nwanted '{words}' at {line}:{col}, got:\n{}",
            crate::diag::render(&e)
        );
    }
}

/// 64 PDs in a chain of protected calls, half with an interrupt, each
/// with its own region and one shared by all.
fn chain(n: usize) -> String {
    let mut s = String::from("<system>\n<memory_region name=\"shared\" size=\"0x200000\"/>\n");
    for i in 0..n {
        let perms = if i == 0 { "rw" } else { "r" };
        let irq = if i < n / 2 {
            format!(r#"<irq irq="{}" id="61"/>"#, i + 1)
        } else {
            String::new()
        };
        s += &format!(
            r#"<memory_region name="own{i}" size="0x10000"/>
<protection_domain name="pd{i}" priority="{}"><program_image path="pd{i}.elf"/>
<map mr="shared" vaddr="0x40000000" perms="{perms}"/><map mr="own{i}" vaddr="0x1000000"/>{irq}</protection_domain>
"#,
            10 + i * 3
        );
    }
    for i in 0..n - 1 {
        s += &format!(
            r#"<channel><end pd="pd{i}" id="{}" pp="true"/><end pd="pd{}" id="{}"/></channel>
"#,
            i % 30,
            i + 1,
            31 + i % 30
        );
    }
    s + "</system>\n"
}

#[test]
fn a_64_pd_system_builds_and_round_trips() {
    let system = ok(&chain(64), CLASSIC);
    let spec = build(&system, CLASSIC);
    // Per PD: TCB, CNode, VSpace, notification, IPC buffer, 2 stack pages;
    // 2 page tables for those, and 3 for the maps (the level-1 tables of
    // the first and second GiB, where the shared 2 MiB page sits, and a
    // level-2 table for its own region); its region's 16 pages. Then 63
    // endpoints (every PD but the first is called), 32 IRQs and the shared
    // region's one page. The monitor: TCB, CNode, VSpace, endpoint, IPC
    // buffer, 2 stack pages and their 2 page tables, the UART's page and
    // its 2 page tables.
    assert_eq!(spec.objects.len(), 64 * (7 + 2 + 3 + 16) + 63 + 32 + 1 + 12);
    round_trips(&spec);
}

#[test]
fn object_names_are_unique() {
    // Names that could run into each other if the tool's naming were
    // careless: PDs and regions whose names end in what an index or an
    // address would add.
    let text = r#"<system>
        <memory_region name="a" size="0xb000"/>
        <memory_region name="a_1" size="0x1000"/>
        <protection_domain name="p" priority="1"><program_image path="p.elf"/>
            <map mr="a" vaddr="0x0"/><map mr="a_1" vaddr="0x40000000"/></protection_domain>
        <protection_domain name="p_0" priority="2"><program_image path="q.elf"/>
            <map mr="a" vaddr="0x0"/></protection_domain>
        <protection_domain name="p_3fc0000000" priority="3"><program_image path="r.elf"/></protection_domain>
    </system>"#;
    let mut specs = vec![build(&ok(text, CLASSIC), CLASSIC)];
    for (name, config) in [
        ("hello.system", CLASSIC),
        ("control_mcs.system", MCS),
        ("wide.system", CLASSIC),
    ] {
        let t = std::fs::read_to_string(example(name)).unwrap();
        specs.push(crate::load(name, &t, config).unwrap().spec);
    }
    for spec in specs {
        let mut names: Vec<&ObjId> = spec.objects.iter().map(|o| &o.id).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(spec.check_caps().is_empty(), "{:?}", spec.check_caps());
    }
}
