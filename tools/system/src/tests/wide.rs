//! More than 62 channels per PD (`crate::delivery`): the CapDL that
//! examples/wide.system (hub with 101 channels, ids up to 255) and a
//! generated system become, the SDK variables each PD gets, and the
//! checks that go with them.

use super::{example, ok, CLASSIC};
use crate::capdl::{Cap, Kind, ObjId, Rights, Spec, Target};
use crate::{delivery, layout};

fn wide() -> (crate::System, Spec) {
    let text = std::fs::read_to_string(example("wide.system")).unwrap();
    let loaded = crate::load("examples/wide.system", &text, CLASSIC)
        .unwrap_or_else(|d| panic!("{}", crate::diag::render(&d)));
    (loaded.system.unwrap(), loaded.spec)
}

fn slot<'s>(spec: &'s Spec, cnode: &str, slot: u64) -> Option<&'s Cap> {
    spec.object(&ObjId::new(cnode))?.slots.get(&slot)
}

/// (target, badge, rights) of the cap in `slot` of `cnode`.
fn at(spec: &Spec, cnode: &str, s: u64) -> (String, u64, Rights) {
    let c = slot(spec, cnode, s).unwrap_or_else(|| panic!("nothing in slot {s} of {cnode}"));
    let Target::Object(id) = &c.target else {
        panic!("slot {s} of {cnode}: not an object")
    };
    (id.name.clone(), c.badge, c.rights)
}

fn cnode_bits(spec: &Spec, cnode: &str) -> u64 {
    match spec.object(&ObjId::new(cnode)).map(|o| &o.kind) {
        Some(Kind::Cnode { size_bits }) => *size_bits,
        other => panic!("{cnode}: {other:?}"),
    }
}

const W: Rights = Rights::W;

#[test]
fn a_pd_with_101_channels_gets_extra_notifications() {
    let (system, spec) = wide();
    assert!(spec.check_caps().is_empty(), "{:?}", spec.check_caps());
    // hub: ids 0-24 in its own notification, 64-255 in extra ones 1-4.
    assert!(delivery::is_wide(&system, "hub"));
    assert_eq!(delivery::groups(&system, "hub"), 4);
    for g in 1..=4u64 {
        let name = format!("extra_ntfn_hub_{g}");
        assert!(matches!(
            spec.object(&ObjId::new(&*name)).map(|o| &o.kind),
            Some(Kind::Notification)
        ));
        // Hub may poll them, not signal them.
        assert_eq!(
            at(&spec, "cnode_hub", layout::BASE_GROUP + g - 1),
            (name, 0, Rights::R)
        );
    }
    assert!(spec.object(&ObjId::new("extra_ntfn_hub_5")).is_none());
    assert!(slot(&spec, "cnode_hub", layout::BASE_GROUP + 4).is_none());
    // Its ids above 63 need the large CNode (guard 53: a cptr is a slot).
    assert_eq!(cnode_bits(&spec, "cnode_hub"), 11);
    let tcb = spec.object(&ObjId::new("tcb_hub")).unwrap();
    assert_eq!(tcb.slots[&crate::capdl::build::slot::CSPACE].guard_size, 53);

    // s0 -> hub ids 0-24: one cap each, the id's bit of hub's own
    // notification, no summary; s0's CNode stays Microkit's 512 slots.
    assert!(!delivery::is_wide(&system, "s0"));
    assert_eq!(cnode_bits(&spec, "cnode_s0"), 9);
    for j in 0..25 {
        assert_eq!(
            at(&spec, "cnode_s0", layout::notify_slot(j)),
            ("ntfn_hub".into(), 1 << j, W)
        );
        assert!(slot(&spec, "cnode_s0", layout::summary_slot(j)).is_none());
    }
    // s1 -> hub ids 64-88: the extra notification 1 (ids 61-124) with
    // bit id - 61, then the summary bit of hub's own notification.
    for j in 0..25 {
        assert_eq!(
            at(&spec, "cnode_s1", layout::notify_slot(j)),
            ("extra_ntfn_hub_1".into(), 1 << (64 + j - 61), W)
        );
        assert_eq!(
            at(&spec, "cnode_s1", layout::summary_slot(j)),
            ("ntfn_hub".into(), 1 << 61, W)
        );
    }
    // s3's id 25 -> hub's 255: extra notification 4, bit 2; s3's 0 ->
    // hub's 192: extra notification 3 (ids 189-252), bit 3.
    assert_eq!(
        at(&spec, "cnode_s3", layout::notify_slot(25)),
        ("extra_ntfn_hub_4".into(), 1 << 2, W)
    );
    assert_eq!(
        at(&spec, "cnode_s3", layout::notify_slot(0)),
        ("extra_ntfn_hub_3".into(), 1 << 3, W)
    );
    // s2 -> hub ids 128-152 (extra notification 2 from 125), s2's own id
    // 64 above slot 512 with its summary at 1024 + 64.
    assert_eq!(cnode_bits(&spec, "cnode_s2"), 11);
    assert_eq!(
        at(&spec, "cnode_s2", 576),
        ("extra_ntfn_hub_2".into(), 1 << (152 - 125), W)
    );
    assert_eq!(at(&spec, "cnode_s2", 1088), ("ntfn_hub".into(), 1 << 61, W));

    // hub -> spokes on ids above 63: caps at 512 + id.
    assert_eq!(
        at(&spec, "cnode_hub", 512 + 255),
        ("ntfn_s3".into(), 1 << 25, W)
    );
    assert_eq!(
        at(&spec, "cnode_hub", 512 + 88),
        ("ntfn_s1".into(), 1 << 24, W)
    );
    // s2 is wide too (hub notifies it on its id 64): hub's 152 -> s2's 64
    // goes to s2's extra notification 1, bit 3, and s2's summary.
    assert!(delivery::is_wide(&system, "s2"));
    assert_eq!(
        at(&spec, "cnode_hub", 512 + 152),
        ("extra_ntfn_s2_1".into(), 1 << 3, W)
    );
    assert_eq!(
        at(&spec, "cnode_hub", 1024 + 152),
        ("ntfn_s2".into(), 1 << 61, W)
    );
    // hub's 128 -> s2's 40: below 61, a bit of s2's own notification.
    assert_eq!(
        at(&spec, "cnode_hub", 512 + 128),
        ("ntfn_s2".into(), 1 << 40, W)
    );

    // Protected calls: hub calls s1 on its id 64 (slot 768 + 64), s2
    // calls hub on its 40, whose badge carries hub's id 128.
    let call = Rights {
        write: true,
        grant_reply: true,
        ..Rights::default()
    };
    assert_eq!(
        at(&spec, "cnode_hub", 768 + 64),
        ("ep_s1".into(), layout::PPC_BADGE, call)
    );
    assert_eq!(
        at(&spec, "cnode_s2", layout::BASE_PPC + 40),
        ("ep_hub".into(), layout::PPC_BADGE | 128, call)
    );
}

#[test]
fn the_sdk_variables_say_which_channels_signal_twice() {
    let (system, _) = wide();
    let vars = |pd: &str| delivery::sdk_setvars(&system, pd);
    let mut hub = [0u64; 4];
    hub[2] = 0b1111 << (149 - 128); // hub's 149-152 -> s2's 61-64
    assert_eq!(delivery::two_step(&system, "hub"), hub);
    assert_eq!(
        vars("hub"),
        [
            (layout::SDK_GROUPS, 4),
            (layout::SDK_TWO_STEP[2], 0b1111 << 21)
        ]
    );
    // s0 signals bits of hub's own notification: nothing to set, its
    // program is patched only with its description's setvars.
    assert_eq!(vars("s0"), []);
    assert_eq!(vars("s1"), [(layout::SDK_TWO_STEP[0], (1 << 25) - 1)]);
    assert_eq!(vars("s3"), [(layout::SDK_TWO_STEP[0], (1 << 26) - 1)]);
    assert_eq!(
        vars("s2"),
        [
            (layout::SDK_GROUPS, 1),
            (layout::SDK_TWO_STEP[0], !((1 << 40) - 1)),
            (layout::SDK_TWO_STEP[1], 1)
        ]
    );
    // They come after the description's own setvars, at the PD.
    let s2 = system.pd_index("s2").unwrap();
    let sites = crate::setvar::sites(&system, s2);
    let sdk: Vec<&str> = sites
        .iter()
        .filter(|s| s.attribute == crate::setvar::SDK)
        .map(|s| s.symbol.as_str())
        .collect();
    assert_eq!(
        sdk,
        [
            layout::SDK_GROUPS,
            layout::SDK_TWO_STEP[0],
            layout::SDK_TWO_STEP[1]
        ]
    );
    assert!(sites.iter().any(|s| s.symbol == "call" && s.value == 40));
}

#[test]
fn a_program_without_the_sdk_is_told_why_it_needs_it() {
    let (system, _) = wide();
    let hub = system.pd_index("hub").unwrap();
    // An ELF with no symbol table at all.
    let d = crate::setvar::check("examples/wide.system", &system, hub, "hub.elf", &[0; 64]);
    assert_eq!(d.len(), 2);
    assert_eq!(
        d[0].to_string(),
        "examples/wide.system:18:5: error: 'hub' has channels beyond one notification's 62 \
         (ids above 61, or a partner notified on such ids), which its program must handle as \
         cairn-microkit does: in its program (hub.elf), no symbol `__cairn_microkit_groups` \
         (cairn-microkit's)"
    );
}

/// A PD `c` with `n` channels to `n` PDs, ids 0 to n - 1 on its side.
fn star(n: u64) -> String {
    let mut s = String::from(
        "<system>\n<protection_domain name=\"c\" priority=\"1\"><program_image path=\"c.elf\"/></protection_domain>\n",
    );
    for i in 0..n {
        s += &format!(
            "<protection_domain name=\"p{i}\" priority=\"2\"><program_image path=\"p.elf\"/></protection_domain>\n\
             <channel><end pd=\"c\" id=\"{i}\"/><end pd=\"p{i}\" id=\"0\"/></channel>\n"
        );
    }
    s + "</system>\n"
}

#[test]
fn a_generated_100_channel_pd_and_its_limits() {
    let system = ok(&star(100), CLASSIC);
    let spec = crate::capdl::build::build(&system, CLASSIC);
    assert!(spec.check_caps().is_empty());
    // Ids 61-99 in one extra notification; 99 > 63 needs the large CNode.
    assert_eq!(delivery::groups(&system, "c"), 1);
    assert_eq!(cnode_bits(&spec, "cnode_c"), 11);
    for i in 0..100u64 {
        let p = format!("cnode_p{i}");
        let want = if i < 61 {
            ("ntfn_c".to_string(), 1 << i)
        } else {
            ("extra_ntfn_c_1".to_string(), 1 << (i - 61))
        };
        let (t, badge, _) = at(&spec, &p, layout::notify_slot(0));
        assert_eq!((t, badge), want, "{p}");
        assert_eq!(slot(&spec, &p, layout::summary_slot(0)).is_some(), i >= 61);
        // c notifies each p on c's id i: p's own notification, bit 0.
        let (t, badge, _) = at(&spec, "cnode_c", layout::notify_slot(i));
        assert_eq!((t.as_str(), badge), (format!("ntfn_p{i}").as_str(), 1));
    }
    // 62 channels (ids 0-61) are one notification's, as before.
    let system = ok(&star(62), CLASSIC);
    assert!(!delivery::is_wide(&system, "c"));
    let spec = crate::capdl::build::build(&system, CLASSIC);
    assert_eq!(cnode_bits(&spec, "cnode_c"), 9);
    assert_eq!(at(&spec, "cnode_p61", layout::notify_slot(0)).1, 1 << 61);
    assert!(spec.object(&ObjId::new("extra_ntfn_c_1")).is_none());
    // 257 channels: id 256 is refused.
    let e = crate::sdf::parse("t.system", &star(257), CLASSIC).unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(
        e[0].message.starts_with("end id must be between 0 and 255"),
        "{}",
        e[0]
    );
    // 256 channels take all four extra notifications.
    let system = ok(&star(256), CLASSIC);
    assert_eq!(delivery::groups(&system, "c"), 4);
}
