//! The reader against hand-built trees, against the `fdt` crate on random
//! trees, and on broken blobs (an error, never a panic or a hang).

use super::*;
use proptest::prelude::*;

/// Writes a version-17 blob: header, reservation block, structure block,
/// strings, as the Devicetree Specification lays them out.
#[derive(Default)]
struct Builder {
    structs: Vec<u8>,
    strings: Vec<u8>,
    reservations: Vec<(u64, u64)>,
}

impl Builder {
    fn word(&mut self, w: u32) {
        self.structs.extend_from_slice(&w.to_be_bytes());
    }
    fn pad(&mut self) {
        while !self.structs.len().is_multiple_of(4) {
            self.structs.push(0);
        }
    }
    fn begin(&mut self, name: &str) -> &mut Self {
        self.word(BEGIN_NODE);
        self.structs.extend_from_slice(name.as_bytes());
        self.structs.push(0);
        self.pad();
        self
    }
    fn end(&mut self) -> &mut Self {
        self.word(END_NODE);
        self
    }
    fn nop(&mut self) -> &mut Self {
        self.word(NOP);
        self
    }
    fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        self.word(PROP);
        self.word(value.len() as u32);
        self.word(off);
        self.structs.extend_from_slice(value);
        self.pad();
        self
    }
    fn u32s(&mut self, name: &str, words: &[u32]) -> &mut Self {
        let v: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        self.prop(name, &v)
    }
    fn finish(&mut self) -> Vec<u8> {
        self.word(END);
        let rsv_off = 40usize;
        let rsv_len = (self.reservations.len() + 1) * 16;
        let structs_off = rsv_off + rsv_len;
        let strings_off = structs_off + self.structs.len();
        let total = strings_off + self.strings.len();
        let header = [
            MAGIC,
            total as u32,
            structs_off as u32,
            strings_off as u32,
            rsv_off as u32,
            17,
            16,
            0,
            self.strings.len() as u32,
            self.structs.len() as u32,
        ];
        let mut blob: Vec<u8> = header.iter().flat_map(|w| w.to_be_bytes()).collect();
        for &(a, s) in self.reservations.iter().chain([(0, 0)].iter()) {
            blob.extend_from_slice(&a.to_be_bytes());
            blob.extend_from_slice(&s.to_be_bytes());
        }
        blob.extend_from_slice(&self.structs);
        blob.extend_from_slice(&self.strings);
        blob
    }
}

/// A tree shaped like QEMU `virt`'s under OpenSBI.
fn virt_like() -> Vec<u8> {
    let mut b = Builder {
        reservations: vec![(0x8010_0000, 0x1000)],
        ..Builder::default()
    };
    b.begin("")
        .u32s("#address-cells", &[2])
        .u32s("#size-cells", &[2])
        .prop("compatible", b"riscv-virtio\0");
    b.begin("reserved-memory")
        .u32s("#address-cells", &[2])
        .u32s("#size-cells", &[2])
        .prop("ranges", b"");
    b.begin("mmode_resv0@80000000")
        .u32s("reg", &[0, 0x8000_0000, 0, 0x40000])
        .prop("no-map", b"")
        .end();
    b.begin("buffer@80040000")
        .u32s("reg", &[0, 0x8004_0000, 0, 0x1000])
        .end();
    b.end();
    b.begin("memory@80000000")
        .prop("device_type", b"memory\0")
        .nop()
        .u32s("reg", &[0, 0x8000_0000, 0, 0x800_0000])
        .end();
    b.begin("cpus")
        .u32s("#address-cells", &[1])
        .u32s("#size-cells", &[0])
        .u32s("timebase-frequency", &[10_000_000]);
    b.begin("cpu@0").u32s("reg", &[0]).end();
    b.end();
    b.begin("soc")
        .u32s("#address-cells", &[2])
        .u32s("#size-cells", &[2]);
    b.begin("serial@10000000")
        .u32s("reg", &[0, 0x1000_0000, 0, 0x100])
        .prop("compatible", b"ns16550a\0")
        .end();
    b.begin("plic@c000000")
        .u32s("riscv,ndev", &[0x5f])
        .u32s("reg", &[0, 0xc00_0000, 0, 0x60_0000])
        .u32s("interrupts-extended", &[3, 11, 3, 9])
        .prop("compatible", b"sifive,plic-1.0.0\0riscv,plic0\0")
        .end();
    b.end();
    b.end();
    b.finish()
}

#[test]
fn reads_a_virt_like_tree() {
    let blob = virt_like();
    let fdt = Fdt::new(&blob).unwrap();
    assert_eq!(
        fdt.reservations().collect::<Vec<_>>(),
        [(0x8010_0000, 0x1000)]
    );
    let mut seen = Vec::new();
    fdt.for_each_node(|n| {
        let name = core::str::from_utf8(n.name).unwrap().to_string();
        let parent = n
            .parent
            .map(|p| core::str::from_utf8(p).unwrap().to_string());
        seen.push((name, parent, n.depth, n.reg().collect::<Vec<_>>()));
        if n.name == b"plic@c000000" {
            assert!(n.is_compatible(&["riscv,plic0"]));
            assert!(n.is_compatible(&["x", "sifive,plic-1.0.0"]));
            assert!(!n.is_compatible(&["riscv,plic"]), "whole strings only");
            assert_eq!(n.prop(b"riscv,ndev").and_then(cells), Some(0x5f));
            assert_eq!(
                n.first_reg(),
                Some(crate::types::Region::new(0xc00_0000, 0xc60_0000))
            );
        }
        if n.name == b"memory@80000000" {
            assert_eq!(n.prop(b"device_type"), Some(&b"memory\0"[..]));
            assert_eq!(n.prop(b"no-map"), None);
        }
        if n.name == b"cpus" {
            assert_eq!(
                n.prop(b"timebase-frequency").and_then(cells),
                Some(10_000_000)
            );
        }
    })
    .unwrap();
    let s = |x: &str| x.to_string();
    assert_eq!(
        seen,
        [
            (s(""), None, 0, vec![]),
            (s("reserved-memory"), Some(s("")), 1, vec![]),
            (
                s("mmode_resv0@80000000"),
                Some(s("reserved-memory")),
                2,
                vec![(0x8000_0000, 0x40000)]
            ),
            (
                s("buffer@80040000"),
                Some(s("reserved-memory")),
                2,
                vec![(0x8004_0000, 0x1000)]
            ),
            (
                s("memory@80000000"),
                Some(s("")),
                1,
                vec![(0x8000_0000, 0x800_0000)]
            ),
            (s("cpus"), Some(s("")), 1, vec![]),
            // One address cell, no size cells: the size reads as 0.
            (s("cpu@0"), Some(s("cpus")), 2, vec![(0, 0)]),
            (s("soc"), Some(s("")), 1, vec![]),
            (
                s("serial@10000000"),
                Some(s("soc")),
                2,
                vec![(0x1000_0000, 0x100)]
            ),
            (
                s("plic@c000000"),
                Some(s("soc")),
                2,
                vec![(0xc00_0000, 0x60_0000)]
            ),
        ]
    );
}

#[test]
fn rejects_broken_headers_and_structures() {
    let good = virt_like();
    assert!(Fdt::new(&good).is_ok());
    let with_word = |i: usize, w: u32| {
        let mut b = good.clone();
        b[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
        b
    };
    // Magic, totalsize past the blob, a block past totalsize, version 16,
    // a last compatible version the reader does not know.
    for bad in [
        with_word(0, 0xd00d_fee0),
        with_word(1, good.len() as u32 + 1),
        with_word(2, good.len() as u32),
        with_word(3, good.len() as u32 - 1),
        with_word(5, 16),
        with_word(6, 17),
    ] {
        assert!(Fdt::new(&bad).is_err());
    }
    assert!(Fdt::new(&good[..39]).is_err());

    let walk = |b: &mut Builder| {
        let blob = b.finish();
        Fdt::new(&blob).unwrap().for_each_node(|_| {})
    };
    // An END_NODE with no node open, END inside a node, an unknown token,
    // a property longer than the block, nesting past MAX_DEPTH.
    assert_eq!(walk(Builder::default().end()), Err(Malformed));
    assert_eq!(walk(Builder::default().begin("")), Err(Malformed));
    let mut b = Builder::default();
    b.begin("").word(7);
    assert_eq!(walk(b.end()), Err(Malformed));
    let mut b = Builder::default();
    b.begin("").word(PROP);
    b.word(1000);
    b.word(0);
    assert_eq!(walk(&mut b), Err(Malformed));
    let mut b = Builder::default();
    for _ in 0..=MAX_DEPTH {
        b.begin("n");
    }
    for _ in 0..=MAX_DEPTH {
        b.end();
    }
    assert_eq!(walk(&mut b), Err(Malformed));
    let mut b = Builder::default();
    for _ in 0..MAX_DEPTH {
        b.begin("n");
    }
    for _ in 0..MAX_DEPTH {
        b.end();
    }
    let mut nodes = 0;
    let blob = b.finish();
    assert_eq!(
        Fdt::new(&blob).unwrap().for_each_node(|_| nodes += 1),
        Ok(())
    );
    assert_eq!(nodes, MAX_DEPTH);
}

/// A random node: its cells for its children, props, children.
#[derive(Clone, Debug)]
struct RandomNode {
    name: String,
    child_cells: Option<(u32, u32)>,
    reg: Vec<u64>,
    compatible: Vec<&'static str>,
    nops: bool,
    children: Vec<RandomNode>,
}

const COMPATIBLES: [&str; 5] = [
    "ns16550a",
    "riscv,plic0",
    "sifive,test0",
    "riscv,clint0",
    "acme,x",
];

fn random_node(depth: u32) -> impl Strategy<Value = RandomNode> {
    let leaf = (
        "[a-z]{1,6}(@[0-9a-f]{1,4})?",
        proptest::option::of((1u32..=2, 0u32..=2)),
        proptest::collection::vec(any::<u64>(), 0..6),
        proptest::collection::vec(proptest::sample::select(&COMPATIBLES[..]), 0..3),
        any::<bool>(),
    )
        .prop_map(|(name, child_cells, reg, compatible, nops)| RandomNode {
            name,
            child_cells,
            reg,
            compatible,
            nops,
            children: vec![],
        });
    leaf.prop_recursive(depth, 24, 4, |inner| {
        (inner.clone(), proptest::collection::vec(inner, 0..4)).prop_map(|(mut n, c)| {
            n.children = c;
            n
        })
    })
}

/// Writes `node` whose parent gives (address, size) cells `cells`.
fn emit(b: &mut Builder, node: &RandomNode, cells: (u32, u32), root: bool) {
    b.begin(if root { "" } else { &node.name });
    if node.nops {
        b.nop();
    }
    if let Some((a, s)) = node.child_cells {
        b.u32s("#address-cells", &[a]).u32s("#size-cells", &[s]);
    }
    let per = (cells.0 + cells.1) as usize;
    let words: Vec<u32> = node.reg.iter().take(per * 2).map(|&v| v as u32).collect();
    if !words.is_empty() && words.len().is_multiple_of(per) {
        b.u32s("reg", &words);
    }
    if !node.compatible.is_empty() {
        let v: Vec<u8> = node
            .compatible
            .iter()
            .flat_map(|c| c.bytes().chain([0]))
            .collect();
        b.prop("compatible", &v);
    }
    let inner = node.child_cells.unwrap_or((2, 1));
    for c in &node.children {
        emit(b, c, inner, false);
    }
    b.end();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// On any tree, the reader sees the nodes, `reg` pairs, `compatible`
    /// matches and reservations the `fdt` crate sees.
    #[test]
    fn agrees_with_the_fdt_crate(
        root in random_node(3),
        reservations in proptest::collection::vec((1u64.., any::<u64>()), 0..3),
        wanted in proptest::sample::select(&COMPATIBLES[..]),
    ) {
        let mut b = Builder { reservations: reservations.clone(), ..Builder::default() };
        emit(&mut b, &root, (2, 1), true);
        let blob = b.finish();
        let oracle = fdt::Fdt::new(&blob).unwrap();
        let ours = Fdt::new(&blob).unwrap();

        let mut mine = Vec::new();
        ours.for_each_node(|n| {
            mine.push((n.name.to_vec(), n.reg().collect::<Vec<_>>(), n.is_compatible(&[wanted])));
        }).unwrap();
        let theirs: Vec<_> = oracle.all_nodes().map(|n| {
            let reg = n.reg().into_iter().flatten()
                .map(|r| (r.starting_address as u64, r.size.unwrap_or(0) as u64))
                .collect::<Vec<_>>();
            let compatible = n.compatible().is_some_and(|c| c.all().any(|s| s == wanted));
            (n.name.as_bytes().to_vec(), reg, compatible)
        }).collect();
        // The crate names the root "/".
        let mut theirs = theirs;
        if let Some(first) = theirs.first_mut() { first.0.clear(); }
        prop_assert_eq!(&mine, &theirs);

        // The first node `find_compatible` finds, by name ("" for the root).
        let first_ours = mine.iter().find(|m| m.2).map(|m| m.0.clone());
        let first_theirs = oracle.find_compatible(&[wanted])
            .map(|n| if n.name == "/" { vec![] } else { n.name.as_bytes().to_vec() });
        prop_assert_eq!(first_ours, first_theirs);
        let rsv: Vec<_> = oracle.memory_reservations().map(|m| (m.address() as u64, m.size() as u64)).collect();
        prop_assert_eq!(ours.reservations().collect::<Vec<_>>(), rsv);
    }

    /// Any truncation or damaged word of a good blob is read without a
    /// panic: the header or the walk reports an error, or the walk ends.
    #[test]
    fn broken_blobs_are_errors_not_panics(
        cut in 0usize..400,
        at in 0usize..400,
        word in any::<u32>(),
    ) {
        let mut blob = virt_like();
        let at = (at * 4) % blob.len();
        let end = (at + 4).min(blob.len());
        blob[at..end].copy_from_slice(&word.to_be_bytes()[..end - at]);
        let cut = blob.len().saturating_sub(cut);
        if let Ok(fdt) = Fdt::new(&blob[..cut]) {
            let mut nodes = 0usize;
            let _ = fdt.for_each_node(|n| {
                nodes += 1;
                let _ = (n.reg().count(), n.is_compatible(&["ns16550a"]), n.prop(b"reg"));
            });
            prop_assert!(nodes <= blob.len() / 8);
            prop_assert!(fdt.reservations().count() <= blob.len() / 16);
        }
    }
}
