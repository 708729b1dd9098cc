//! Every element and attribute of the schema, read into the model.

use super::{ok, CLASSIC, MCS};
use crate::layout;
use crate::sdf::{Perms, Sched, Trigger};

/// A description that uses every element and attribute Cairn takes.
const FULL: &str = r#"<?xml version="1.0"?>
<system>
    <memory_region name="dev" size="0x1000" page_size="0x1000" phys_addr="0x1000_0000" />
    <memory_region name="big" size="0x400000" />
    <memory_region name="odd" size="0x3000" />
    <protection_domain name="parent" priority="200" budget="300" period="1_000" passive="false"
                       stack_size="0x4000" cpu="0" fpu="false">
        <program_image path="parent.elf" path_for_symbols="parent.dbg" />
        <map mr="dev" vaddr="0x2000000" perms="rw" cached="false" setvar_vaddr="dev_base" setvar_size="dev_size" />
        <map mr="big" vaddr="0x40000000" perms="rwx" />
        <map mr="odd" vaddr="0x60000000" />
        <irq irq="10" id="3" trigger="edge" setvar_id="uart_irq" />
        <irq irq="11" id="4" />
        <setvar symbol="dev_paddr" region_paddr="dev" />
        <protection_domain name="child" priority="100" id="7" setvar_id="child_id">
            <program_image path="child.elf" />
        </protection_domain>
    </protection_domain>
    <protection_domain name="server" priority="250" passive="true">
        <program_image path="server.elf" />
    </protection_domain>
    <channel>
        <end pd="parent" id="5" pp="true" notify="false" setvar_id="to_server" />
        <end pd="server" id="0x3d" />
    </channel>
</system>
"#;

/// [`FULL`], for other tests.
pub fn full() -> &'static str {
    FULL
}

/// [`FULL`] without its MCS attributes, for the classic kernel.
pub fn full_classic() -> String {
    FULL.replace(r#" budget="300" period="1_000" passive="false""#, "")
        .replace(r#" passive="true""#, "")
}

#[test]
fn every_element_and_attribute_is_read() {
    let s = ok(FULL, MCS);
    assert_eq!(s.pds.len(), 3);
    let [parent, child, server] = [&s.pds[0], &s.pds[1], &s.pds[2]];
    assert_eq!(parent.name, "parent");
    assert_eq!(parent.priority, 200);
    assert_eq!(
        parent.sched,
        Some(Sched {
            budget: 300,
            period: 1000
        })
    );
    assert!(!parent.passive);
    assert_eq!(parent.stack_size, 0x4000);
    assert!(!parent.fpu);
    assert_eq!(parent.program_image, "parent.elf");
    assert_eq!(parent.path_for_symbols.as_deref(), Some("parent.dbg"));
    assert_eq!(parent.parent, None);

    let m = &parent.maps[0];
    assert_eq!((m.mr.as_str(), m.vaddr), ("dev", 0x200_0000));
    let rw = Perms {
        read: true,
        write: true,
        execute: false,
    };
    assert_eq!(m.perms, rw);
    assert!(!m.cached);
    assert_eq!(m.setvar_vaddr.as_deref(), Some("dev_base"));
    assert_eq!(m.setvar_size.as_deref(), Some("dev_size"));
    assert_eq!(parent.maps[1].perms.letters(), "rwx");
    // Defaults: read-write, cached.
    assert_eq!(parent.maps[2].perms, rw);
    assert!(parent.maps[2].cached);

    let i = &parent.irqs[0];
    assert_eq!((i.irq, i.id, i.trigger), (10, 3, Trigger::Edge));
    assert_eq!(i.setvar_id.as_deref(), Some("uart_irq"));
    assert_eq!(parent.irqs[1].trigger, Trigger::Level);
    assert_eq!(parent.setvars[0].symbol, "dev_paddr");
    assert_eq!(parent.setvars[0].region_paddr, "dev");

    assert_eq!(child.parent, Some(0));
    assert_eq!(child.child_id, Some(7));
    assert_eq!(child.setvar_id.as_deref(), Some("child_id"));
    // Defaults: priority as given, stack 8 KiB, FPU on, MCS budget
    // 1000 µs with the period equal to it.
    assert_eq!(child.stack_size, layout::STACK_DEFAULT);
    assert!(child.fpu);
    assert_eq!(
        child.sched,
        Some(Sched {
            budget: 1000,
            period: 1000
        })
    );
    assert!(server.passive);

    let [dev, big, odd] = [&s.mrs[0], &s.mrs[1], &s.mrs[2]];
    assert_eq!(dev.phys_addr, Some(0x1000_0000));
    assert_eq!((dev.page_size, dev.page_size_given), (0x1000, true));
    // Page size chosen: 2 MiB when size and every map allow it.
    assert_eq!((big.page_size, big.pages()), (0x20_0000, 2));
    assert_eq!((odd.page_size, odd.pages()), (0x1000, 3));

    let c = &s.channels[0];
    assert_eq!((c.ends[0].pd.as_str(), c.ends[0].id), ("parent", 5));
    assert!(c.ends[0].pp && !c.ends[0].notify);
    assert_eq!(c.ends[0].setvar_id.as_deref(), Some("to_server"));
    assert_eq!(c.ends[1].id, 0x3d);
    assert!(!c.ends[1].pp && c.ends[1].notify);
    // Who needs an endpoint: the called server and the parent of a child.
    assert!(s.needs_endpoint(0) && s.needs_endpoint(2) && !s.needs_endpoint(1));
}

#[test]
fn classic_defaults_have_no_scheduling_context() {
    let s = ok(
        r#"<system><protection_domain name="a"><program_image path="a.elf"/></protection_domain></system>"#,
        CLASSIC,
    );
    assert_eq!(s.pds[0].sched, None);
    assert_eq!(s.pds[0].priority, 0);
}

#[test]
fn a_2mib_region_mapped_at_a_4k_address_gets_4k_pages() {
    let s = ok(
        r#"<system>
        <memory_region name="m" size="0x200000" />
        <protection_domain name="a"><program_image path="a.elf"/>
            <map mr="m" vaddr="0x1000" /></protection_domain></system>"#,
        CLASSIC,
    );
    assert_eq!((s.mrs[0].page_size, s.mrs[0].pages()), (0x1000, 512));
}
