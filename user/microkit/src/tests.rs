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
    assert_eq!(notify_cap(63).bits(), 73);
    assert_eq!(notify_cap(64).bits(), 576);
    assert_eq!(ppc_cap(0).bits(), 74);
    assert_eq!(ppc_cap(255).bits(), 1023);
    assert_eq!(summary_cap(5).bits(), 271);
    assert_eq!(summary_cap(200).bits(), 1224);
    assert_eq!(irq_cap(61).bits(), 199);
    assert_eq!(group_cap(1).bits(), 5);
    assert_eq!(group_cap(4).bits(), 8);
    assert_eq!(Channel::new(255).index(), 255);
}

#[test]
#[should_panic(expected = "channel ids are 0 to 255")]
fn channel_256_is_refused() {
    let _ = Channel::new(256);
}

#[test]
fn a_narrow_pd_gets_its_badge_bits() {
    use crate::channel::test_hooks::deliver_with;
    let mut got = std::vec::Vec::new();
    // Bit 61 is channel 61 when the PD has no extra notification; no poll.
    deliver_with(
        (1 << 61) | 0b1001,
        0,
        |_| panic!("polled"),
        |c| got.push(c.index()),
    );
    assert_eq!(got, [0, 3, 61]);
}

#[test]
fn a_wide_pd_polls_its_extra_notifications_on_the_summary_bit() {
    use crate::channel::test_hooks::deliver_with;
    let mut got = std::vec::Vec::new();
    let mut polled = std::vec::Vec::new();
    // Groups 1 to 3: ids 61..=124, 125..=188, 189..=252.
    let extra = |g: u64| match g {
        1 => 0b101,        // 61, 63
        2 => 1 << 63,      // 188
        3 => (1 << 3) | 1, // 189, 192
        _ => unreachable!(),
    };
    deliver_with(
        (1 << 61) | (1 << 60) | 1,
        3,
        |g| {
            polled.push(g);
            extra(g)
        },
        |c| got.push(c.index()),
    );
    assert_eq!(polled, [1, 2, 3]);
    assert_eq!(got, [0, 60, 61, 63, 188, 189, 192]);
    // Without the summary bit nothing is polled.
    got.clear();
    deliver_with(1 << 7, 3, |_| panic!("polled"), |c| got.push(c.index()));
    assert_eq!(got, [7]);
}

#[test]
fn two_step_channels_come_from_the_bitmap() {
    use crate::channel::test_hooks::{set_two_step, two_step};
    set_two_step([1 << 5, 0, 1 << 63, 1 << 1]);
    assert!(two_step(5) && two_step(191) && two_step(193));
    assert!(!two_step(4) && !two_step(64) && !two_step(255));
    set_two_step([0; 4]);
    assert!(!two_step(5));
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
