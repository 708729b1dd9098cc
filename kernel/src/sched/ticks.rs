//! MCS time: the ABI speaks microseconds, the timer counts ticks (ABI ref
//! §12: on `qemu-riscv-virt` the timer runs at 10 MHz, 10 ticks per µs;
//! Cairn reads the rate from the device tree). Conversions go through
//! 128-bit products so that no user-supplied value can overflow them.

use super::refill::Ticks;

/// seL4's estimate of the kernel's worst-case execution time on
/// `qemu-riscv-virt`, in µs (`CONFIG_KERNEL_WCET_SCALE` 1 × 10 µs).
pub const KERNEL_WCET_US: u64 = 10;
/// The smallest budget and period `SchedControl_ConfigureFlags` accepts
/// (seL4's `MIN_BUDGET_US`): two kernel entries' worth, so that a thread
/// is never switched to for less than it costs to switch.
pub const MIN_BUDGET_US: u64 = 2 * KERNEL_WCET_US;
/// seL4's `CONFIG_BOOT_THREAD_TIME_SLICE` (5 ms by default): the budget
/// and period of the root thread's SchedContext and of the idle thread's
/// (seL4's `ksIdleSC`, which the MCS kernel's timer follows while idle:
/// `sched::mcs::set_next_interrupt`).
pub const BOOT_THREAD_TIME_SLICE_US: u64 = 5_000;

const US_PER_S: u128 = 1_000_000;

/// The timer's rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    hz: u64,
}

impl Clock {
    /// A timer counting `hz` ticks per second (at least 1).
    pub const fn new(hz: u64) -> Clock {
        Clock {
            hz: if hz == 0 { 1 } else { hz },
        }
    }

    /// `us` microseconds in ticks, rounded down; `None` past `Ticks`.
    pub fn us_to_ticks(&self, us: u64) -> Option<Ticks> {
        let ticks = u128::from(us) * u128::from(self.hz) / US_PER_S;
        Ticks::try_from(ticks).ok()
    }

    /// `ticks` in microseconds, rounded down (saturating for a timer
    /// slower than 1 MHz, whose microseconds outnumber its ticks).
    pub fn ticks_to_us(&self, ticks: Ticks) -> u64 {
        let us = u128::from(ticks) * US_PER_S / u128::from(self.hz);
        u64::try_from(us).unwrap_or(u64::MAX)
    }

    /// The minimum budget in ticks (seL4's `MIN_BUDGET`).
    pub fn min_budget(&self) -> Ticks {
        self.us_to_ticks(MIN_BUDGET_US).unwrap_or(Ticks::MAX)
    }

    /// The longest period and budget in µs (seL4's `MAX_PERIOD_US`: an
    /// eighth of what the tick counter can hold, so that sums of a few
    /// periods and the clock cannot overflow).
    pub fn max_period_us(&self) -> u64 {
        self.ticks_to_us(Ticks::MAX) / 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QEMU: Clock = Clock::new(10_000_000);

    #[test]
    fn qemu_virt_has_sel4s_figures() {
        // ABI ref §7.7: MIN_BUDGET_US = 2 × 10 µs; MAX_PERIOD_US =
        // ⌊(2^64 − 1) / 10⌋ / 8 with 10 ticks per µs.
        assert_eq!(QEMU.us_to_ticks(1), Some(10));
        assert_eq!(QEMU.min_budget(), 200);
        assert_eq!(QEMU.max_period_us(), u64::MAX / 10 / 8);
        assert_eq!(QEMU.ticks_to_us(12_345), 1_234);
    }

    #[test]
    fn conversions_never_overflow() {
        // 1 GHz: u64::MAX µs is far past u64::MAX ticks.
        let fast = Clock::new(1_000_000_000);
        assert_eq!(fast.us_to_ticks(u64::MAX), None);
        assert!(fast.us_to_ticks(fast.max_period_us()).is_some());
        // A 32 kHz timer: µs outnumber ticks.
        let slow = Clock::new(32_768);
        assert_eq!(slow.ticks_to_us(u64::MAX), u64::MAX);
        assert_eq!(Clock::new(0).us_to_ticks(5), Some(0));
        // Eight maximal periods still fit in the tick counter.
        for c in [QEMU, fast, slow] {
            let p = c.us_to_ticks(c.max_period_us()).unwrap();
            assert!(p.checked_mul(8).is_some(), "{c:?}");
        }
    }
}
