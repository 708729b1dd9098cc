//! A table of bad descriptions: each must be refused with its message at
//! the position of the attribute or element at fault. Positions are found
//! by searching the case's text for a marker, so each case states where
//! its error is, not what the tool happened to print.

use super::{CLASSIC, MCS};
use crate::diag::Pos;
use crate::sdf::{parse, Config};

/// A PD that is fine on its own.
const A: &str = r#"<protection_domain name="a" priority="10"><program_image path="a.elf"/></protection_domain>"#;
const B: &str = r#"<protection_domain name="b" priority="20"><program_image path="b.elf"/></protection_domain>"#;

/// (what, config, body inside `<system>`, the text the error points at
/// (its `n`-th occurrence with `#n`), words of the message).
type Case = (&'static str, Config, String, &'static str, &'static str);

fn cases() -> Vec<Case> {
    let pd = |attrs: &str, inner: &str| {
        format!(
            r#"<protection_domain name="p" {attrs}><program_image path="p.elf"/>{inner}</protection_domain>"#
        )
    };
    let mr = r#"<memory_region name="m" size="0x2000"/>"#;
    vec![
        (
            "the monitor's name",
            CLASSIC,
            format!("{A}{}", A.replace("\"a\"", "\"monitor\"")),
            "<protection_domain name=\"monitor\"",
            "the name 'monitor' is the system's own monitor's",
        ),
        (
            "unknown element",
            CLASSIC,
            format!("{A}<thing/>"),
            "<thing",
            "unknown element <thing> in <system>",
        ),
        (
            "unknown element in a PD",
            CLASSIC,
            pd("", "<bogus/>"),
            "<bogus",
            "unknown element <bogus> in <protection_domain>",
        ),
        (
            "unsupported element",
            CLASSIC,
            pd("", r#"<virtual_machine name="vm"/>"#),
            "<virtual_machine",
            "not supported: virtual machines",
        ),
        (
            "unknown attribute",
            CLASSIC,
            pd(r#"colour="red""#, ""),
            "colour",
            "unknown attribute 'colour' on <protection_domain>",
        ),
        (
            "Microkit 1.x pp",
            CLASSIC,
            pd(r#"pp="true""#, ""),
            "pp=",
            "Microkit 1.x",
        ),
        (
            "unsupported attribute",
            CLASSIC,
            format!(r#"{A}<memory_region name="m" size="0x1000" prefill_path="x.bin"/>"#),
            "prefill_path",
            "not supported: prefilled",
        ),
        (
            "missing name",
            CLASSIC,
            r#"<protection_domain><program_image path="a.elf"/></protection_domain>"#.into(),
            "<protection_domain",
            "missing attribute 'name' on <protection_domain>",
        ),
        (
            "no program image",
            CLASSIC,
            r#"<protection_domain name="p"/>"#.into(),
            "<protection_domain",
            "has no <program_image>",
        ),
        (
            "two program images",
            CLASSIC,
            pd("", r#"<program_image path="q.elf"/>"#),
            "<program_image path=\"q",
            "one <program_image>",
        ),
        (
            "not a number",
            CLASSIC,
            pd(r#"priority="high""#, ""),
            "high",
            "priority must be a number",
        ),
        (
            "not a boolean",
            MCS,
            format!("{A}{}", pd(r#"passive="yes""#, "")),
            "yes",
            "passive must be 'true' or 'false'",
        ),
        (
            "priority too high",
            CLASSIC,
            pd(r#"priority="255""#, ""),
            "255",
            "priority must be between 0 and 254",
        ),
        (
            "budget on classic",
            CLASSIC,
            pd(r#"budget="100""#, ""),
            "100",
            "needs the MCS kernel",
        ),
        (
            "period on classic",
            CLASSIC,
            pd(r#"period="100""#, ""),
            "100",
            "needs the MCS kernel",
        ),
        (
            "passive on classic",
            CLASSIC,
            pd(r#"passive="true""#, ""),
            "true",
            "needs the MCS kernel",
        ),
        (
            "budget over period",
            MCS,
            pd(r#"budget="2000" period="1000""#, ""),
            "2000",
            "budget (2000 µs) must not be larger than period (1000 µs)",
        ),
        (
            "stack not page-sized",
            CLASSIC,
            pd(r#"stack_size="0x1800""#, ""),
            "0x1800",
            "stack_size must be a multiple of 4 KiB",
        ),
        (
            "second core",
            CLASSIC,
            pd(r#"cpu="1""#, ""),
            "1\"",
            "cpu must be 0",
        ),
        (
            "unknown memory region",
            CLASSIC,
            pd("", r#"<map mr="nowhere" vaddr="0x1000"/>"#),
            "<map",
            "unknown memory region 'nowhere'",
        ),
        (
            "duplicate PD",
            CLASSIC,
            format!("{A}{A}"),
            "<protection_domain#2",
            "duplicate protection domain name 'a'",
        ),
        (
            "duplicate memory region",
            CLASSIC,
            format!("{A}{mr}{mr}"),
            "<memory_region#2",
            "duplicate memory region name 'm'",
        ),
        (
            "overlapping maps",
            CLASSIC,
            format!(
                "{mr}{}",
                pd(
                    "",
                    r#"<map mr="m" vaddr="0x10000"/><map mr="m" vaddr="0x11000"/>"#
                )
            ),
            "<map#2",
            "overlaps the map of 'm' [0x10000..0x12000)",
        ),
        (
            "unaligned map",
            CLASSIC,
            format!("{mr}{}", pd("", r#"<map mr="m" vaddr="0x1800"/>"#)),
            "<map",
            "not a multiple of its page size 0x1000",
        ),
        (
            "map outside the address space",
            CLASSIC,
            format!(
                "{mr}{}",
                pd(
                    "",
                    r#"<map mr="m" vaddr="0x3eff000000"/><map mr="m" vaddr="0x3effffff000"/>"#
                )
            ),
            "<map#2",
            "outside the PD's address space",
        ),
        (
            "map past 2^64",
            CLASSIC,
            format!(
                "{mr}{}",
                pd("", r#"<map mr="m" vaddr="0xfffffffffffff000"/>"#)
            ),
            "<map",
            "outside the PD's address space",
        ),
        (
            "bad perms",
            CLASSIC,
            format!(
                "{mr}{}",
                pd("", r#"<map mr="m" vaddr="0x1000" perms="rz"/>"#)
            ),
            "rz",
            "perms must be a combination of 'r', 'w' and 'x'",
        ),
        (
            "write-only",
            CLASSIC,
            format!(
                "{mr}{}",
                pd("", r#"<map mr="m" vaddr="0x1000" perms="w"/>"#)
            ),
            "w\"",
            "write-only",
        ),
        (
            "irq taken twice",
            CLASSIC,
            format!(
                r#"{}<protection_domain name="q"><program_image path="q.elf"/><irq irq="10" id="1"/></protection_domain>"#,
                pd("", r#"<irq irq="10" id="0"/>"#)
            ),
            "<irq#2",
            "irq 10 is already taken by 'p'",
        ),
        (
            "irq 0",
            CLASSIC,
            pd("", r#"<irq irq="0" id="0"/>"#),
            "0\" id",
            "irq must be between 1 and 95",
        ),
        (
            "the timer's irq",
            CLASSIC,
            pd("", r#"<irq irq="96" id="0"/>"#),
            "96",
            "irq must be between 1 and 95",
        ),
        (
            "bad trigger",
            CLASSIC,
            pd("", r#"<irq irq="5" id="0" trigger="rising"/>"#),
            "rising",
            "trigger must be 'level' or 'edge'",
        ),
        (
            "irq id out of range",
            CLASSIC,
            pd("", r#"<irq irq="5" id="62"/>"#),
            "62",
            "irq id must be between 0 and 61 (one badge bit of the PD's notification each)",
        ),
        (
            "irq id 61 in a wide PD",
            CLASSIC,
            format!(
                r#"{A}{B}<protection_domain name="w"><program_image path="w.elf"/><irq irq="5" id="61"/></protection_domain><channel><end pd="a" id="0"/><end pd="w" id="100"/></channel>"#
            ),
            "<irq",
            "'w' is notified on channel ids above 61, so ids from 61 on reach it through extra \
             notifications, which an interrupt cannot signal: give this interrupt an id from 0 to 60",
        ),
        (
            "channel to nobody",
            CLASSIC,
            format!(r#"{A}<channel><end pd="a" id="0"/><end pd="zed" id="0"/></channel>"#),
            "<end pd=\"zed",
            "unknown protection domain 'zed'",
        ),
        (
            "channel id out of range",
            CLASSIC,
            format!(r#"{A}{B}<channel><end pd="a" id="256"/><end pd="b" id="0"/></channel>"#),
            "256",
            "end id must be between 0 and 255 (ids above 61 give the PD extra notifications, up to 4)",
        ),
        (
            "channel id twice",
            CLASSIC,
            format!(
                r#"{A}{B}<channel><end pd="a" id="4"/><end pd="b" id="0"/></channel><channel><end pd="a" id="4"/><end pd="b" id="1"/></channel>"#
            ),
            "<end pd=\"a\" id=\"4#2",
            "duplicate channel id 4 in protection domain 'a'",
        ),
        (
            "channel id used by an irq",
            CLASSIC,
            format!(
                r#"{}{B}<channel><end pd="p" id="2"/><end pd="b" id="0"/></channel>"#,
                pd("", r#"<irq irq="5" id="2"/>"#)
            ),
            "<end pd=\"p",
            "duplicate channel id 2 in protection domain 'p'",
        ),
        (
            "three ends",
            CLASSIC,
            format!(
                r#"{A}{B}<channel><end pd="a" id="0"/><end pd="b" id="0"/><end pd="b" id="1"/></channel>"#
            ),
            "<channel",
            "exactly two <end>s, this one has 3",
        ),
        (
            "one end",
            CLASSIC,
            format!(r#"{A}<channel><end pd="a" id="0"/></channel>"#),
            "<channel",
            "this one has 1",
        ),
        (
            "channel to itself",
            CLASSIC,
            format!(r#"{A}<channel><end pd="a" id="0"/><end pd="a" id="1"/></channel>"#),
            "<channel",
            "not 'a' with itself",
        ),
        (
            "calls both ways",
            CLASSIC,
            format!(
                r#"{A}{B}<channel><end pd="a" id="0" pp="true"/><end pd="b" id="0" pp="true"/></channel>"#
            ),
            "<end pd=\"b",
            "only one end of a channel may make protected calls",
        ),
        (
            "call to lower priority",
            CLASSIC,
            format!(
                r#"{A}{B}<channel><end pd="a" id="0"/><end pd="b" id="0" pp="true"/></channel>"#
            ),
            "<end pd=\"b",
            "'b' (20) may not call 'a' (10)",
        ),
        (
            "call to equal priority",
            CLASSIC,
            format!(
                r#"{A}<protection_domain name="c" priority="10"><program_image path="c.elf"/></protection_domain><channel><end pd="a" id="0" pp="true"/><end pd="c" id="0"/></channel>"#
            ),
            "<end pd=\"a",
            "strictly higher priority",
        ),
        (
            "passive nobody calls",
            MCS,
            format!(
                r#"{A}<protection_domain name="s" priority="20" passive="true"><program_image path="s.elf"/></protection_domain><channel><end pd="a" id="0"/><end pd="s" id="0"/></channel>"#
            ),
            "<protection_domain name=\"s",
            "passive protection domain 's' is never called",
        ),
        (
            "size not a page multiple",
            CLASSIC,
            format!(r#"{A}<memory_region name="m" size="0x1800"/>"#),
            "0x1800",
            "size 0x1800 is not a multiple of the page size 0x1000",
        ),
        (
            "size not a large-page multiple",
            CLASSIC,
            format!(r#"{A}<memory_region name="m" size="0x1000" page_size="0x200000"/>"#),
            "0x1000\" page",
            "not a multiple of the page size 0x200000",
        ),
        (
            "bad page size",
            CLASSIC,
            format!(r#"{A}<memory_region name="m" size="0x3000" page_size="0x3000"/>"#),
            "0x3000\"/",
            "not a RISC-V page size",
        ),
        (
            "unaligned phys_addr",
            CLASSIC,
            format!(r#"{A}<memory_region name="m" size="0x1000" phys_addr="0x10000800"/>"#),
            "0x10000800",
            "phys_addr 0x10000800 is not a multiple",
        ),
        (
            "empty region",
            CLASSIC,
            format!(r#"{A}<memory_region name="m" size="0"/>"#),
            "0\"/>",
            "size must not be 0",
        ),
        (
            "physical overlap",
            CLASSIC,
            format!(
                r#"{A}<memory_region name="m" size="0x2000" phys_addr="0x10000000"/><memory_region name="n" size="0x1000" phys_addr="0x10001000"/>"#
            ),
            "<memory_region name=\"n",
            "overlaps 'm' [0x10000000..0x10002000) in physical memory",
        ),
        (
            "setvar of an unknown region",
            CLASSIC,
            pd("", r#"<setvar symbol="x" region_paddr="nope"/>"#),
            "<setvar",
            "unknown memory region 'nope' in region_paddr",
        ),
        (
            "setvar of a region without paddr",
            CLASSIC,
            format!("{mr}{}", pd("", r#"<setvar symbol="x" region_paddr="m"/>"#)),
            "<setvar",
            "has no phys_addr",
        ),
        (
            "symbol set twice",
            CLASSIC,
            format!(
                "{mr}{}",
                pd(
                    "",
                    r#"<map mr="m" vaddr="0x10000" setvar_vaddr="x"/><irq irq="3" id="0" setvar_id="x"/>"#
                )
            ),
            "<irq",
            "symbol 'x' is set twice",
        ),
        (
            "text",
            CLASSIC,
            format!("{A}hello"),
            "hello",
            "unexpected text in <system>",
        ),
        (
            "bad name",
            CLASSIC,
            r#"<protection_domain name="my-pd"><program_image path="a.elf"/></protection_domain>"#
                .into(),
            "<protection_domain",
            "name 'my-pd' must be a letter followed by",
        ),
        (
            "child without id",
            CLASSIC,
            pd(
                "",
                r#"<protection_domain name="c"><program_image path="c.elf"/></protection_domain>"#,
            ),
            "<protection_domain name=\"c",
            "missing attribute 'id'",
        ),
        (
            "child ids twice",
            CLASSIC,
            pd(
                "",
                r#"<protection_domain name="c" id="1"><program_image path="c.elf"/></protection_domain><protection_domain name="d" id="1"><program_image path="d.elf"/></protection_domain>"#,
            ),
            "<protection_domain name=\"d",
            "duplicate child id 1",
        ),
        (
            "a child of two parents",
            CLASSIC,
            format!(
                r#"{A}{B}<protection_domain name="p" priority="5"><program_image path="p.elf"/><protection_domain name="c" id="0"><program_image path="c.elf"/></protection_domain></protection_domain><protection_domain name="q" priority="6"><program_image path="q.elf"/><protection_domain name="c" id="1"><program_image path="c.elf"/></protection_domain></protection_domain>"#
            ),
            "<protection_domain name=\"c\"#2",
            "protection domain 'c' is already the child of 'p' (line 2), here it would be the child of 'q' too: a PD has at most one parent, as in Microkit",
        ),
        (
            "a child also at the top level",
            CLASSIC,
            r#"<protection_domain name="p" priority="5"><program_image path="p.elf"/><protection_domain name="c" id="0"><program_image path="c.elf"/></protection_domain></protection_domain><protection_domain name="c"><program_image path="c.elf"/></protection_domain>"#
                .into(),
            "<protection_domain name=\"c\"#2",
            "is already the child of 'p' (line 2); it cannot also be a top-level PD: a PD has at most one parent",
        ),
        (
            "a top-level PD also a child",
            CLASSIC,
            r#"<protection_domain name="c"><program_image path="c.elf"/></protection_domain><protection_domain name="p" priority="5"><program_image path="p.elf"/><protection_domain name="c" id="0"><program_image path="c.elf"/></protection_domain></protection_domain>"#
                .into(),
            "<protection_domain name=\"c\"#2",
            "'c' is a top-level PD (line 2), here it would be the child of 'p' too",
        ),
        (
            "id on a top-level PD",
            CLASSIC,
            pd(r#"id="1""#, ""),
            "id=",
            "unknown attribute 'id'",
        ),
        (
            "no PD",
            CLASSIC,
            String::new(),
            "<system",
            "at least one <protection_domain>",
        ),
    ]
}

/// The line and column of the `n`-th (from 1) occurrence of `needle` in
/// `text`; `needle#n` picks it, plain `needle` is the first.
fn at(text: &str, marker: &str) -> Pos {
    let (needle, n) = match marker.rsplit_once('#') {
        Some((s, n)) => (s, n.parse::<usize>().unwrap()),
        None => (marker, 1),
    };
    let offset = text
        .match_indices(needle)
        .nth(n - 1)
        .unwrap_or_else(|| panic!("marker {marker} not in the case"))
        .0;
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().unwrap().chars().count() as u32 + 1;
    Pos::new(line, col)
}

#[test]
fn bad_descriptions_are_refused_with_message_and_position() {
    let mut failures = Vec::new();
    let cases = cases();
    for (what, config, body, marker, words) in &cases {
        // The body on its own line, so that line numbers are checked too.
        let text = format!("<system>\n  {body}\n</system>\n");
        let want = at(&text, marker);
        match parse("bad.system", &text, *config) {
            Ok(_) => failures.push(format!("{what}: accepted")),
            Err(diags) => {
                let hit = diags
                    .iter()
                    .any(|d| d.pos == want && d.message.contains(words));
                if !hit {
                    failures.push(format!(
                        "{what}: wanted '{words}' at {}:{}, got:\n{}",
                        want.line,
                        want.col,
                        crate::diag::render(&diags)
                    ));
                }
                if diags.len() != 1 {
                    failures.push(format!(
                        "{what}: {} errors, not 1:\n{}",
                        diags.len(),
                        crate::diag::render(&diags)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.len() >= 55);
}

#[test]
fn not_xml_and_not_a_system() {
    let e = parse(
        "x.system",
        "<system>\n<protection_domain>\n</system>",
        CLASSIC,
    )
    .unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(e[0].message.starts_with("not well-formed XML"), "{}", e[0]);
    assert_eq!(e[0].pos.line, 3);
    let e = parse("x.system", "<sys/>", CLASSIC).unwrap_err();
    assert_eq!(e[0].message, "the root element must be <system>, not <sys>");
    assert_eq!(
        e[0].to_string(),
        "x.system:1:1: error: the root element must be <system>, not <sys>"
    );
}

#[test]
fn every_error_is_reported_at_once_in_order() {
    let text = format!(
        "<system>\n{A}\n<protection_domain name=\"b\" priority=\"999\" budget=\"5\">\n\
         <program_image path=\"b.elf\"/>\n<map mr=\"none\" vaddr=\"0\"/>\n</protection_domain>\n\
         <channel><end pd=\"a\" id=\"700\"/><end pd=\"b\" id=\"0\"/></channel>\n</system>"
    );
    let e = parse("many.system", &text, CLASSIC).unwrap_err();
    let lines: Vec<(u32, &str)> = e.iter().map(|d| (d.pos.line, d.message.as_str())).collect();
    assert_eq!(e.len(), 4, "{}", crate::diag::render(&e));
    assert!(lines[0].1.starts_with("priority must be between"));
    assert!(lines[1].1.contains("needs the MCS kernel"));
    assert_eq!(lines[2], (5, "unknown memory region 'none'"));
    assert_eq!(lines[3].0, 7);
    assert!(e.windows(2).all(|w| w[0].pos <= w[1].pos));
}
