//! `SchedControl_ConfigureFlags` decode and `SchedContext_Consumed`
//! accounting: each of seL4's errors, their order, and the values that
//! pass (ABI ref §7.7; figures for QEMU `virt`, 10 ticks per µs).

use super::*;
use crate::object::sched_context::take_consumed;
use proptest::prelude::*;

const QEMU: Clock = Clock::new(10_000_000);
/// seL4's MAX_PERIOD_US on QEMU virt.
const MAX_US: u64 = u64::MAX / 10 / 8;
const SC8: Target = Target::SchedContext { size_bits: 8 };

fn decode(length: u64, args: [u64; 5], target: Target) -> Result<Configure, SyscallError> {
    decode_configure_flags(length, args, target, QEMU)
}

fn range(min: u64, max: u64) -> Result<Configure, SyscallError> {
    Err(SyscallError::RangeError { min, max })
}

#[test]
fn a_valid_configuration_in_ticks() {
    // 3 ms every 5 ms, two extra refills (a 256-byte object holds 10),
    // badge 7, sporadic.
    assert_eq!(
        decode(5, [3_000, 5_000, 2, 7, 1], SC8),
        Ok(Configure {
            budget: 30_000,
            period: 50_000,
            max_refills: 4,
            badge: 7,
            sporadic: true,
        })
    );
    // Round robin at the smallest budget; unknown flag bits ignored.
    let c = decode(9, [20, 20, 0, 0, 0xfe], SC8).unwrap();
    assert_eq!((c.budget, c.period, c.sporadic), (200, 200, false));
}

#[test]
fn missing_cap_or_short_message_is_truncated() {
    assert_eq!(
        decode(5, [3_000, 5_000, 0, 0, 0], Target::Missing),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        decode(4, [3_000, 5_000, 0, 0, 0], SC8),
        Err(SyscallError::TruncatedMessage)
    );
    // Both before any range check: garbage times, same error.
    assert_eq!(
        decode(0, [u64::MAX; 5], Target::Other),
        Err(SyscallError::TruncatedMessage)
    );
}

#[test]
fn budget_and_period_outside_the_kernels_range() {
    assert_eq!(
        decode(5, [MAX_US + 1, MAX_US, 0, 0, 0], SC8),
        range(20, MAX_US)
    );
    assert_eq!(decode(5, [20, MAX_US + 1, 0, 0, 0], SC8), range(20, MAX_US));
    assert_eq!(
        decode(5, [u64::MAX, u64::MAX, 0, 0, 0], SC8),
        range(20, MAX_US)
    );
    // Below the minimum budget (20 µs): budget, then period.
    assert_eq!(decode(5, [19, 1_000, 0, 0, 0], SC8), range(20, MAX_US));
    assert_eq!(decode(5, [0, 1_000, 0, 0, 0], SC8), range(20, MAX_US));
    assert_eq!(decode(5, [19, 19, 0, 0, 0], SC8), range(20, MAX_US));
    // The largest period is accepted.
    assert!(decode(5, [MAX_US, MAX_US, 0, 0, 0], SC8).is_ok());
}

#[test]
fn budget_above_period_names_the_period() {
    assert_eq!(decode(5, [5_001, 5_000, 0, 0, 0], SC8), range(20, 5_000));
}

#[test]
fn the_target_is_checked_after_the_times() {
    assert_eq!(
        decode(5, [3_000, 5_000, 0, 0, 0], Target::Other),
        Err(SyscallError::InvalidCapability { index: 1 })
    );
    // A bad time is reported first.
    assert_eq!(
        decode(5, [1, 5_000, 0, 0, 0], Target::Other),
        range(20, MAX_US)
    );
}

#[test]
fn too_many_refills_for_the_object() {
    // 2^7 = 128 bytes: the header and two refills, no extra one.
    let sc7 = Target::SchedContext { size_bits: 7 };
    assert_eq!(decode(5, [3_000, 5_000, 1, 0, 0], sc7), range(0, 0));
    assert!(decode(5, [3_000, 5_000, 0, 0, 0], sc7).is_ok());
    // 2^8 = 256 bytes: (256 - 96) / 16 = 10 refills, 8 extra.
    assert_eq!(decode(5, [3_000, 5_000, 9, 0, 0], SC8), range(0, 8));
    assert_eq!(
        decode(5, [3_000, 5_000, 8, 0, 0], SC8).unwrap().max_refills,
        10
    );
    assert_eq!(decode(5, [3_000, 5_000, u64::MAX, 0, 0], SC8), range(0, 8));
}

#[test]
fn refill_capacity_agrees_with_the_abi() {
    assert_eq!(refill_capacity(7), 2);
    assert_eq!(refill_capacity(8), 10);
    assert_eq!(refill_capacity(6), 0);
    assert_eq!(refill_capacity(64), 0);
    for bits in 7..=38 {
        // seL4_MaxExtraRefills(bits) = (2^bits - seL4_CoreSchedContextBytes
        // (128)) / seL4_RefillSizeBytes (16), plus the two of the core;
        // cairn-abi's max_extra_refills is checked against the golden
        // table in abi/tests/golden.
        assert_eq!(
            refill_capacity(bits),
            ((1u64 << bits) - 128) / 16 + MIN_REFILLS
        );
    }
}

#[test]
fn consumed_is_reported_in_microseconds_and_reset() {
    let mut consumed = 12_345;
    assert_eq!(take_consumed(&mut consumed, QEMU), 1_234);
    assert_eq!(consumed, 0);
    assert_eq!(take_consumed(&mut consumed, QEMU), 0);
    // A 32 kHz timer whose count exceeds a word of µs: reported in parts.
    let slow = Clock::new(32_768);
    let mut consumed = u64::MAX;
    let reported = take_consumed(&mut consumed, slow);
    let taken = u64::MAX - consumed;
    assert!(consumed > 0 && taken > 0);
    assert_eq!(reported, slow.ticks_to_us(taken));
}

proptest! {
    /// Whatever user space sends, the decode answers (no panic, no
    /// overflow) and what it accepts is inside every bound.
    #[test]
    fn any_arguments_decode_to_an_error_or_a_valid_configuration(
        length in 0..8u64,
        args in any::<[u64; 5]>(),
        bits in 0..70u32,
        kind in 0..3u8,
        hz in 1..2_000_000_000u64,
    ) {
        let target = match kind {
            0 => Target::Missing,
            1 => Target::Other,
            _ => Target::SchedContext { size_bits: bits },
        };
        let clock = Clock::new(hz);
        if let Ok(c) = decode_configure_flags(length, args, target, clock) {
            prop_assert!(c.budget >= clock.min_budget());
            prop_assert!(c.budget <= c.period);
            prop_assert!(c.period.checked_mul(8).is_some());
            prop_assert!(c.max_refills >= MIN_REFILLS);
            prop_assert!(c.max_refills <= refill_capacity(bits));
        }
    }
}
