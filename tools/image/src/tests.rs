//! Layout and refusal tests with synthetic ELF files.

use crate::pack::{MAX_USER_SIZE, USER_LIMIT, USER_OFFSET};
use crate::testelf::{Elf, Seg};
use crate::{pack, write_image, ImageError, ImageHeader, Input, Problem};

const BASE: u64 = 0x8020_0000;

fn kernel() -> Elf {
    let text: Vec<u8> = (0..0x1800u32).map(|i| (i % 251) as u8 + 1).collect();
    Elf::exec(
        BASE,
        vec![
            Seg::load(BASE, &text, 0x1800),
            Seg::load(BASE + 0x2000, &[0xAA; 0x100], 0x2f00),
        ],
    )
}

fn user() -> Elf {
    Elf::exec(
        0x10004,
        vec![
            Seg::load(0x10000, b"TEXT-TEXT-TEXT-TEXT", 0x20),
            Seg::load(0x12100, b"DATA", 0x1000),
        ],
    )
}

fn refuse_user(elf: &Elf) -> Problem {
    refuse_user_bytes(&elf.build())
}

fn refuse_user_bytes(bytes: &[u8]) -> Problem {
    let alone = crate::check_root_task(bytes).expect_err("refused on its own too");
    let err = pack(&kernel().build(), bytes).expect_err("must be refused");
    assert_eq!(err.input, Input::RootTask);
    // Every refusal has a message that names the input.
    assert!(err.to_string().starts_with("root task ELF: "), "{err}");
    assert_eq!(alone, err);
    err.problem
}

fn refuse_kernel(elf: &Elf) -> Problem {
    let err: ImageError = pack(&elf.build(), &user().build()).expect_err("must be refused");
    assert_eq!(err.input, Input::Kernel);
    err.problem
}

#[test]
fn good_image_layout_byte_for_byte() {
    let (k, u) = (kernel(), user());
    let p = pack(&k.build(), &u.build()).expect("good inputs");
    // Kernel ends at BASE + 0x2000 + 0x2f00 = BASE + 0x4f00: header page at BASE + 0x5000.
    assert_eq!(p.header_paddr, BASE + 0x5000);
    let want = ImageHeader {
        magic: ImageHeader::MAGIC,
        version: ImageHeader::VERSION,
        image_size: 0x5000 + USER_OFFSET + 0x4000,
        user_offset: 0x1000,
        user_size: 0x4000,
        user_v_start: 0x10000,
        user_v_end: 0x14000,
        user_entry: 0x10004,
        reserved: [0; 8],
    };
    assert_eq!(p.header, want);
    let b = &p.bytes;
    assert_eq!(b.len() as u64, want.image_size);
    // Kernel: text, the gap up to the data segment, data, .bss.
    assert_eq!(&b[..0x1800], &k.segs[0].data[..]);
    assert!(b[0x1800..0x2000].iter().all(|&x| x == 0));
    assert_eq!(&b[0x2000..0x2100], &[0xAA; 0x100][..]);
    assert!(b[0x2100..0x5000].iter().all(|&x| x == 0));
    // Header page: 16 little-endian words, then zeros.
    assert_eq!(&b[0x5000..0x5008], b"CAIRNIMG");
    let mut words = [0u8; ImageHeader::SIZE];
    words.copy_from_slice(&b[0x5000..0x5000 + ImageHeader::SIZE]);
    assert_eq!(ImageHeader::from_bytes(&words), want);
    assert_eq!(&b[0x5010..0x5018], &0xA000u64.to_le_bytes());
    assert!(b[0x5000 + ImageHeader::SIZE..0x6000]
        .iter()
        .all(|&x| x == 0));
    // User image at header + 0x1000, indexed by vaddr - 0x10000.
    let user = &b[0x6000..];
    assert_eq!(&user[..19], b"TEXT-TEXT-TEXT-TEXT");
    assert!(
        user[19..0x2100].iter().all(|&x| x == 0),
        "bss and hole are zero"
    );
    assert_eq!(&user[0x2100..0x2104], b"DATA");
    assert!(
        user[0x2104..].iter().all(|&x| x == 0),
        "bss and page tail are zero"
    );
    assert_eq!(want.validate(), Ok(()));
}

#[test]
fn empty_load_segments_and_other_types_are_ignored() {
    let mut u = user();
    u.segs.push(Seg::load(0x7000_0000, &[], 0));
    u.segs.push(Seg::other(4)); // PT_NOTE
    u.segs.push(Seg::other(0x6474_e551)); // PT_GNU_STACK
    let p = pack(&kernel().build(), &u.build()).expect("accepted");
    assert_eq!(
        (p.header.user_v_start, p.header.user_v_end),
        (0x10000, 0x14000)
    );
}

#[test]
fn refuses_non_elf_and_truncated() {
    assert_eq!(
        refuse_user_bytes(b"#!/bin/sh\necho this is not an ELF file\n"),
        Problem::NotElf
    );
    assert_eq!(refuse_user_bytes(b""), Problem::NotElf);
    let good = user().build();
    assert!(matches!(
        refuse_user_bytes(&good[..10]),
        Problem::Truncated(_)
    ));
    assert!(matches!(
        refuse_user_bytes(&good[..40]),
        Problem::Truncated(_)
    ));
    // Whole file header, but the program header table is cut off.
    assert!(matches!(
        refuse_user_bytes(&good[..80]),
        Problem::Truncated(_)
    ));
}

#[test]
fn refuses_wrong_class_encoding_machine_and_type() {
    assert_eq!(refuse_user(&Elf { class: 1, ..user() }), Problem::NotElf64);
    assert_eq!(
        refuse_user(&Elf {
            data_enc: 2,
            ..user()
        }),
        Problem::NotLittleEndian
    );
    assert_eq!(
        refuse_user(&Elf {
            machine: 62,
            ..user()
        }),
        Problem::NotRiscv { machine: 62 }
    );
    assert!(
        matches!(refuse_user(&Elf { e_type: 3, ..user() }), Problem::Dynamic(w) if w.contains("ET_DYN"))
    );
    assert_eq!(
        refuse_user(&Elf {
            e_type: 1,
            ..user()
        }),
        Problem::NotExecutable { e_type: 1 }
    );
}

#[test]
fn refuses_dynamically_linked() {
    let mut u = user();
    u.segs.insert(0, Seg::other(3)); // PT_INTERP
    assert!(matches!(refuse_user(&u), Problem::Dynamic(w) if w.contains("PT_INTERP")));
    let mut u = user();
    u.segs.push(Seg::other(2)); // PT_DYNAMIC
    assert!(matches!(refuse_user(&u), Problem::Dynamic(w) if w.contains("PT_DYNAMIC")));
}

#[test]
fn refuses_overlapping_segments() {
    let mut u = user();
    u.segs.push(Seg::load(0x12800, b"x", 0x10)); // inside segment 1's bss
    assert_eq!(
        refuse_user(&u),
        Problem::Overlap {
            first: 1,
            second: 2
        }
    );
}

#[test]
fn refuses_filesz_above_memsz() {
    let mut u = user();
    u.segs[1].memsz = 2;
    assert_eq!(
        refuse_user(&u),
        Problem::FileSizeExceedsMemSize {
            index: 1,
            filesz: 4,
            memsz: 2
        }
    );
}

#[test]
fn refuses_segment_bytes_outside_file() {
    let mut u = user();
    u.segs[1].offset = Some(0x10_0000);
    assert!(matches!(
        refuse_user(&u),
        Problem::SegmentOutsideFile {
            index: 1,
            offset: 0x10_0000,
            ..
        }
    ));
    let mut u = user();
    u.segs[1].offset = Some(u64::MAX - 1);
    assert!(matches!(
        refuse_user(&u),
        Problem::SegmentOutsideFile { index: 1, .. }
    ));
}

#[test]
fn refuses_entry_outside_segments() {
    let u = Elf {
        entry: 0x11000,
        ..user()
    };
    assert_eq!(refuse_user(&u), Problem::EntryOutside { entry: 0x11000 });
}

#[test]
fn refuses_no_load_segment() {
    let u = Elf::exec(0x10000, vec![Seg::other(4)]);
    assert_eq!(refuse_user(&u), Problem::NoLoadSegment);
    let u = Elf::exec(0x10000, vec![]);
    assert_eq!(refuse_user(&u), Problem::NoLoadSegment);
}

#[test]
fn refuses_segment_in_reserved_top_pages() {
    let at = USER_LIMIT - 0x1000;
    let u = Elf::exec(at, vec![Seg::load(at, b"code", 0x1001)]);
    assert_eq!(
        refuse_user(&u),
        Problem::AboveUserLimit {
            end: USER_LIMIT + 1,
            limit: USER_LIMIT
        }
    );
    // Ending exactly at the limit is fine.
    let u = Elf::exec(at, vec![Seg::load(at, b"code", 0x1000)]);
    let p = pack(&kernel().build(), &u.build()).expect("ending at the limit");
    assert_eq!(
        (p.header.user_v_start, p.header.user_v_end),
        (at, USER_LIMIT)
    );
}

#[test]
fn refuses_wrapping_and_absurd_sizes() {
    let u = Elf::exec(0x10000, vec![Seg::load(u64::MAX - 10, b"x", 100)]);
    assert_eq!(refuse_user(&u), Problem::SegmentWraps { index: 0 });
    let far = 0x10000 + MAX_USER_SIZE;
    let u = Elf::exec(
        0x10000,
        vec![Seg::load(0x10000, b"code", 4), Seg::load(far, b"d", 1)],
    );
    assert_eq!(
        refuse_user(&u),
        Problem::TooLarge {
            size: MAX_USER_SIZE + 0x1000,
            limit: MAX_USER_SIZE
        }
    );
}

#[test]
fn refuses_bad_kernels() {
    let mut k = kernel();
    for s in &mut k.segs {
        s.paddr -= 0x20_0000;
    }
    assert_eq!(
        refuse_kernel(&k),
        Problem::KernelBase {
            lowest: 0x8000_0000,
            expected: BASE
        }
    );
    assert_eq!(
        refuse_kernel(&Elf {
            machine: 183,
            ..kernel()
        }),
        Problem::NotRiscv { machine: 183 }
    );
    assert_eq!(
        refuse_kernel(&Elf {
            entry: BASE + 0x100,
            ..kernel()
        }),
        Problem::KernelEntry {
            entry_paddr: BASE + 0x100,
            expected: BASE
        }
    );
    // Linked high (vaddr) but loaded at BASE (paddr) is fine.
    let mut k = kernel();
    for s in &mut k.segs {
        s.vaddr = s.paddr + 0xffff_ffff_0000_0000;
    }
    k.entry = BASE + 0xffff_ffff_0000_0000;
    let p = pack(&k.build(), &user().build()).expect("linked high, loaded at BASE");
    // Placed by paddr: the text at byte 0, the data segment 0x2000 on.
    assert_eq!(&p.bytes[..4], &[1, 2, 3, 4]);
    assert_eq!(p.bytes[0x2000], 0xAA);
    // Distinct vaddrs but the same paddrs.
    let mut k = kernel();
    k.segs[1].paddr = BASE + 0x1000;
    assert_eq!(
        refuse_kernel(&k),
        Problem::Overlap {
            first: 0,
            second: 1
        }
    );
}

#[test]
fn write_image_is_all_or_nothing() {
    let dir = std::env::temp_dir().join(format!("cairn-image-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (kp, up, bad, out) = (
        dir.join("k.elf"),
        dir.join("u.elf"),
        dir.join("bad.elf"),
        dir.join("out.img"),
    );
    std::fs::write(&kp, kernel().build()).unwrap();
    std::fs::write(&up, user().build()).unwrap();
    std::fs::write(
        &bad,
        Elf {
            e_type: 3,
            ..user()
        }
        .build(),
    )
    .unwrap();

    let err = write_image(&kp, &bad, &out).expect_err("refused");
    assert!(
        err.to_string()
            .contains("bad.elf: root task ELF: dynamically linked"),
        "{err}"
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        3,
        "no temporary file left"
    );

    let p = write_image(&kp, &up, &out).expect("written");
    assert_eq!(std::fs::read(&out).unwrap(), p.bytes);
    std::fs::remove_dir_all(&dir).unwrap();
}
