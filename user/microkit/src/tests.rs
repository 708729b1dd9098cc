//! Host tests of what needs no kernel: badges, channels, region bounds.

use super::*;

#[test]
fn channels_of_a_badge() {
    let v: std::vec::Vec<u64> = channels((1 << 61) | 0b101 | (1 << 63)).collect();
    assert_eq!(v, [0, 2, 61]);
}

#[test]
fn caps_follow_the_layout() {
    assert_eq!(notify_cap(3).bits(), 13);
    assert_eq!(ppc_cap(0).bits(), 74);
    assert_eq!(irq_cap(61).bits(), 199);
    assert_eq!(Channel::new(61).index(), 61);
}

#[test]
#[should_panic(expected = "channel ids are 0 to 61")]
fn channel_62_is_refused() {
    let _ = Channel::new(62);
}

memory_region!(REGION = "test_region", 16);
setvar!(ID = "test_id");

#[test]
fn setvars_start_at_zero() {
    assert_eq!(ID.get(), 0);
    assert_eq!(REGION.vaddr(), 0);
    assert_eq!(REGION.size(), 16);
}

#[test]
#[should_panic(expected = "memory region not mapped")]
fn an_unset_region_is_not_touched() {
    let _ = REGION.read_u8(0);
}

#[test]
fn region_bounds_and_alignment() {
    static BACKING: SetVar = SetVar::new();
    let mut mem = [0u64; 2];
    BACKING.set(mem.as_mut_ptr() as u64);
    let r = MemoryRegion::new(&BACKING, 16);
    r.write_u64(8, 0x1122_3344_5566_7788);
    r.write_u8(0, 7);
    assert_eq!(r.read_u64(8), 0x1122_3344_5566_7788);
    assert_eq!(r.read_u8(0), 7);
    assert_eq!(r.read_u8(15), 0x11);
    for bad in [
        std::panic::catch_unwind(|| r.read_u8(16)),
        std::panic::catch_unwind(|| r.read_u64(12).min(255) as u8),
        std::panic::catch_unwind(|| r.read_u64(4).min(255) as u8),
        std::panic::catch_unwind(|| r.read_u8(usize::MAX)),
    ] {
        assert!(bad.is_err());
    }
    assert_eq!(mem[1], 0x1122_3344_5566_7788);
}
