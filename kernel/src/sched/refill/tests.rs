//! The refill queue against a reference model (issue 12, "Tests").
//!
//! The model is the definition of what a scheduling context promises, not
//! a second implementation: the record of every interval the thread ran,
//! and the budget *B* and period *P* it was granted. A simulated kernel
//! drives the queue as the scheduler would (a thread runs only on a
//! released head, for at most its amount, then is charged; time passes
//! while it waits, is preempted or sleeps), and after every step the
//! queue and the record must agree with the promises:
//!
//! * seL4's charging rule: usage counts from the head refill's release
//!   time, so the model records each run twice: when it really ran, and
//!   the release time it was charged as (from its head's release on).
//!   The thread never runs before its head is released; in any window of
//!   length *P* at most *B* of release time is charged; and a thread that
//!   was never delayed after a release (not preempted, not woken late
//!   without the sporadic flag) ran at most *B* in any window of *P*;
//! * the refills add up to *B* exactly (none lost, none duplicated), so
//!   never to more than SchedControl granted;
//! * the queue stays within its capacity, sorted and non-overlapping, and
//!   its head holds at least the minimum budget;
//! * a sporadic context that slept a whole period wakes with all of *B*.

use super::*;
use proptest::prelude::*;

const MIN_BUDGET: Ticks = 200;

/// One thing that happens to the thread.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Runs on its head refill (after waiting for its release, if need
    /// be) for a share of it: `1 + n % amount` ticks.
    Run(u64),
    /// Time passes while it is runnable but not running (preempted).
    Preempted(Ticks),
    /// It blocks for this long, then is woken (unblock check).
    Sleep(Ticks),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => any::<u64>().prop_map(Step::Run),
        1 => (0..30_000u64).prop_map(Step::Preempted),
        2 => (0..60_000u64).prop_map(Step::Sleep),
    ]
}

/// A simulated kernel with one scheduling context.
struct Sim {
    st: RefillState,
    buf: Vec<Refill>,
    now: Ticks,
    /// The model: every interval the thread ran, `[start, end)`.
    ran: Vec<(Ticks, Ticks)>,
    /// Every run as charged: `[head release, + usage)`.
    charged: Vec<(Ticks, Ticks)>,
    /// Whether some run started after its head's release.
    delayed: bool,
}

impl Sim {
    fn new(budget: Ticks, period: Ticks, max: u64, sporadic: bool, now: Ticks) -> Sim {
        let mut sim = Sim {
            st: RefillState {
                sporadic,
                ..RefillState::default()
            },
            buf: vec![Refill::default(); max as usize],
            now,
            ran: vec![],
            charged: vec![],
            delayed: false,
        };
        sim.q().configure(budget, period, max, now);
        sim
    }

    fn q(&mut self) -> Refills<'_> {
        Refills::new(&mut self.st, &mut self.buf, MIN_BUDGET)
    }

    fn apply(&mut self, s: Step) {
        match s {
            Step::Run(n) => {
                // The release queue wakes the thread at its head's release.
                let head = self.q().head();
                self.now = self.now.max(head.time);
                let start = self.now;
                let q = self.q();
                if !(q.ready(start) && q.sufficient(0)) {
                    return;
                }
                let released = q.head().time;
                let usage = 1 + n % q.head().amount;
                self.now += usage;
                let now = self.now;
                self.q().budget_check(usage, now);
                self.ran.push((start, now));
                self.charged.push((released, released + usage));
                self.delayed |= start > released;
            }
            Step::Preempted(d) => self.now += d,
            Step::Sleep(d) => {
                self.now += d;
                let now = self.now;
                self.q().unblock_check(now);
            }
        }
    }

    /// The most in any window of one period of `runs`: the maximum is
    /// reached by a window that starts where a run starts.
    fn worst(&self, runs: &[(Ticks, Ticks)]) -> Ticks {
        let period = self.st.period;
        runs.iter()
            .map(|&(w, _)| {
                let end = w + period;
                runs.iter()
                    .map(|&(s, e)| e.min(end).saturating_sub(s.max(w)))
                    .sum::<Ticks>()
            })
            .max()
            .unwrap_or(0)
    }

    /// The window promise: of charged release time always; of running
    /// time too while the thread was never delayed after a release.
    fn worst_window(&self) -> Ticks {
        let charged = self.worst(&self.charged);
        if self.delayed {
            charged
        } else {
            charged.max(self.worst(&self.ran))
        }
    }

    fn check_queue(&mut self) -> Result<(), TestCaseError> {
        let (budget, max) = (self.st.budget, self.st.max);
        let q = self.q();
        let refills: Vec<Refill> = q.iter().collect();
        prop_assert_eq!(
            q.total(),
            budget,
            "refills lost or duplicated: {:?}",
            refills
        );
        prop_assert!((1..=max).contains(&q.count()), "{} refills", q.count());
        if !q.round_robin() {
            prop_assert!(q.head().amount >= MIN_BUDGET, "small head: {:?}", refills);
            for pair in refills.windows(2) {
                prop_assert!(
                    pair[0].time + pair[0].amount <= pair[1].time,
                    "unsorted or overlapping: {:?}",
                    refills
                );
            }
        }
        Ok(())
    }
}

/// Budget, period (budget < period, both at least the minimum), refill
/// capacity and the sporadic flag.
fn params() -> impl Strategy<Value = (Ticks, Ticks, u64, bool)> {
    (
        MIN_BUDGET..20_000u64,
        1..40_000u64,
        MIN_REFILLS..12,
        any::<bool>(),
    )
        .prop_map(|(b, extra, max, sporadic)| (b, b + extra, max, sporadic))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn never_more_than_the_budget_in_a_period(
        (budget, period, max, sporadic) in params(),
        start in 0..1_000_000u64,
        steps in prop::collection::vec(step(), 1..150),
    ) {
        let mut sim = Sim::new(budget, period, max, sporadic, start);
        for s in steps {
            sim.apply(s);
            sim.check_queue()?;
            let worst = sim.worst_window();
            prop_assert!(
                worst <= budget,
                "ran {} in one period of {} with budget {} after {:?}",
                worst, period, budget, s
            );
        }
    }

    #[test]
    fn a_period_asleep_gives_back_the_whole_budget(
        (budget, period, max, _) in params(),
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut sim = Sim::new(budget, period, max, true, 0);
        for s in steps {
            sim.apply(s);
        }
        sim.apply(Step::Sleep(period));
        let now = sim.now;
        let q = sim.q();
        prop_assert!(q.ready(now));
        prop_assert_eq!(q.count(), 1);
        prop_assert_eq!(q.head().amount, budget);
    }

    #[test]
    fn reconfiguring_keeps_exactly_the_new_budget(
        (budget, period, max, sporadic) in params(),
        (budget2, period2, max2, _) in params(),
        steps in prop::collection::vec(step(), 0..60),
        more in prop::collection::vec(step(), 0..60),
    ) {
        let mut sim = Sim::new(budget, period, max.max(max2), sporadic, 5);
        for s in steps {
            sim.apply(s);
        }
        let now = sim.now;
        sim.q().update(budget2, period2, max2, now);
        prop_assert_eq!(sim.st.budget, budget2);
        sim.check_queue()?;
        prop_assert!(sim.q().count() <= max2);
        // The window promise starts afresh with the new parameters.
        sim.ran.clear();
        sim.charged.clear();
        sim.delayed = false;
        for s in more {
            sim.apply(s);
            sim.check_queue()?;
            prop_assert!(sim.worst_window() <= budget2);
        }
    }

    #[test]
    fn round_robin_is_a_timeslice(
        budget in MIN_BUDGET..20_000u64,
        steps in prop::collection::vec(step(), 1..100),
    ) {
        let mut sim = Sim::new(budget, budget, MIN_REFILLS, false, 0);
        for s in steps {
            let before = sim.q().head().amount;
            if let Step::Run(n) = s {
                let usage = 1 + n % before;
                let now = sim.now + usage;
                sim.now = now;
                let over = sim.q().budget_check(usage, now);
                // Over exactly when less than the minimum is left, and
                // then the whole budget is back at once.
                prop_assert_eq!(over, before - usage < MIN_BUDGET);
                if over {
                    prop_assert_eq!(sim.q().head(), Refill { time: now, amount: budget });
                }
            } else {
                sim.apply(s);
            }
            sim.check_queue()?;
            let now = sim.now;
            prop_assert!(sim.q().ready(now));
        }
    }

    #[test]
    fn extreme_times_neither_overflow_nor_panic(
        budget in 1..=u64::MAX,
        period in 1..=u64::MAX,
        max in 0..8u64,
        now in any::<u64>(),
        usages in prop::collection::vec((any::<u64>(), any::<u64>()), 1..20),
        sporadic in any::<bool>(),
    ) {
        // Outside what ConfigureFlags accepts (budget > period, tiny
        // queues, times near the end of the clock): the queue must stay
        // memory-safe, panic-free, and keep its amounts.
        let mut st = RefillState { sporadic, ..RefillState::default() };
        let mut buf = vec![Refill::default(); 4];
        let mut q = Refills::new(&mut st, &mut buf, MIN_BUDGET);
        let mut none: [Refill; 0] = [];
        let mut st0 = RefillState::default();
        let mut empty = Refills::new(&mut st0, &mut none, MIN_BUDGET);
        empty.configure(budget, period, max, now);
        empty.budget_check(budget, now);
        empty.unblock_check(now);
        prop_assert_eq!((empty.count(), empty.total()), (1, 0));
        q.configure(budget, period, max, now);
        for (usage, at) in usages {
            q.budget_check(usage, at);
            q.unblock_check(at);
            if usage % 3 == 0 {
                q.yield_head(at);
            }
            prop_assert!(q.count() >= 1 && q.count() <= 4);
            let _ = (q.ready(at), q.sufficient(usage), q.total());
        }
        q.update(period, budget, max, now);
        prop_assert!(q.count() >= 1 && q.count() <= 4);
    }
}

#[test]
fn used_budget_returns_one_period_after_its_release() {
    let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
    sim.now = 300;
    let q = &mut sim.q();
    // Ran 400 ticks from 300 to 700, charged as from the release (0): the
    // 400 are back at 10 000 and the head's rest is released at 400.
    assert!(!q.budget_check(400, 700));
    let r: Vec<Refill> = q.iter().collect();
    assert_eq!(
        r,
        [
            Refill {
                time: 400,
                amount: 600
            },
            Refill {
                time: 10_000,
                amount: 400
            }
        ]
    );
    // Then used the rest, 600 from 700: charged from 400, back at 10 400,
    // right after the first part (seL4's times; Cairn's earlier rule gave
    // 10 300 and 10 700, from when the thread really ran).
    assert!(q.budget_check(600, 1_300));
    let r: Vec<Refill> = q.iter().collect();
    assert_eq!(
        r,
        [
            Refill {
                time: 10_000,
                amount: 400
            },
            Refill {
                time: 10_400,
                amount: 600
            }
        ]
    );
}

#[test]
fn an_update_releases_the_rest_of_a_larger_budget_one_new_period_after_the_head() {
    // 1 000 every 10 000; 700 used from the release at 0 (charged at
    // 700), so the head holds 300 from 700. Reconfigured at 2 000 to
    // 800 every 5 000: the head keeps its 300 from now, and the other 500
    // come one new period after it, at 7 000 (seL4 16.0.0's
    // `refill_update`; Cairn's earlier rule said 2 000 + 5 000 - 500).
    let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
    let q = &mut sim.q();
    assert!(!q.budget_check(700, 700));
    q.update(800, 5_000, 4, 2_000);
    let r: Vec<Refill> = q.iter().collect();
    assert_eq!(
        r,
        [
            Refill {
                time: 2_000,
                amount: 300
            },
            Refill {
                time: 7_000,
                amount: 500
            }
        ]
    );
    // A head not yet released keeps its time, and the rest follows it by
    // the new period.
    let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
    let q = &mut sim.q();
    assert!(!q.budget_check(700, 700));
    q.update(800, 5_000, 4, 500);
    assert_eq!(
        q.iter().collect::<Vec<_>>(),
        [
            Refill {
                time: 700,
                amount: 300
            },
            Refill {
                time: 5_700,
                amount: 500
            }
        ]
    );
}

#[test]
fn a_full_queue_merges_into_its_tail() {
    let mut sim = Sim::new(1_000, 10_000, MIN_REFILLS, true, 0);
    let q = &mut sim.q();
    q.budget_check(300, 300); // 700 left from 300, 300 back at 10 000
    q.budget_check(300, 5_000); // charged from 300: back at 10 300, merged
    let r: Vec<Refill> = q.iter().collect();
    // The merged tail runs the 300 of 10 000 then the 300 of 10 300.
    assert_eq!(
        r,
        [
            Refill {
                time: 600,
                amount: 400
            },
            Refill {
                time: 10_000,
                amount: 600
            }
        ]
    );
}

#[test]
fn a_head_below_the_minimum_joins_the_next_refill() {
    let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
    let q = &mut sim.q();
    // 900 used: 100 left in the head, less than the minimum (200).
    assert!(q.budget_check(900, 900));
    let r: Vec<Refill> = q.iter().collect();
    // The 100 may run only just before the 900 come back (at 10 000).
    assert_eq!(
        r,
        [Refill {
            time: 9_900,
            amount: 1_000
        }]
    );
}

#[test]
fn waking_late_starts_the_head_at_the_wake_time_and_merges() {
    let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
    let q = &mut sim.q();
    q.budget_check(400, 400); // head 600 at 0, 400 at 10 000
    q.unblock_check(9_800); // the head now runs [9 800, 10 400): takes in the 400
    let r: Vec<Refill> = q.iter().collect();
    assert_eq!(
        r,
        [Refill {
            time: 9_800,
            amount: 1_000
        }]
    );
    // A constant-bandwidth (non-sporadic) context keeps its release times.
    let mut sim = Sim::new(1_000, 10_000, 4, false, 0);
    let q = &mut sim.q();
    q.budget_check(400, 400);
    q.unblock_check(9_800);
    assert_eq!(
        q.head(),
        Refill {
            time: 400,
            amount: 600
        }
    );
    assert_eq!(q.count(), 2);
}

#[test]
fn a_corrupt_header_stays_inside_the_array() {
    let mut st = RefillState {
        head: 90,
        tail: 7,
        max: 1_000,
        ..RefillState::default()
    };
    let mut buf = [Refill::default(); 3];
    let q = Refills::new(&mut st, &mut buf, MIN_BUDGET);
    assert!(q.count() <= 3);
    assert_eq!(q.state().max, 3);
}

#[test]
fn an_overrun_is_charged_to_the_next_release() {
    // 1 000 every 10 000, used from 0 and stopped at 1 050 (the timer
    // came 50 late): as seL4's handle_overrun, the whole head is charged
    // (back at 10 000) and the 50 come out of that next release, which
    // then starts at 10 050; the 50 are back one period after it.
    let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
    let q = &mut sim.q();
    assert!(q.budget_check(1_050, 1_050));
    let r: Vec<_> = q.iter().map(|r| (r.time, r.amount)).collect();
    assert_eq!(r, vec![(10_050, 950), (20_000, 50)]);
    // Three budgets and 50 at once: every refill three periods on, then
    // the 50 as above.
    let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
    let q = &mut sim.q();
    assert!(q.budget_check(3_050, 3_050));
    let r: Vec<_> = q.iter().map(|r| (r.time, r.amount)).collect();
    assert_eq!(r, vec![(30_050, 950), (40_000, 50)]);
    assert_eq!(q.total(), 1_000);
}

#[test]
fn a_delayed_thread_gets_its_budget_back_at_release_plus_period() {
    // Released at 0, preempted until 5 000, then used all of its 1 000:
    // back at 10 000 as in seL4 (Cairn's earlier rule: 15 000).
    let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
    let q = &mut sim.q();
    assert!(q.budget_check(1_000, 6_000));
    let r: Vec<_> = q.iter().map(|r| (r.time, r.amount)).collect();
    assert_eq!(r, vec![(10_000, 1_000)]);
    assert!(!q.ready(9_999) && q.ready(10_000));
}

#[test]
fn periodic_work_then_yield_keeps_its_period() {
    // seL4's tutorial idiom: each period, work 250 ticks (late in the
    // period by a varying delay), then Yield. The next release stays at a
    // multiple of the period; the whole budget is usable from it.
    let (budget, period) = (1_000, 10_000);
    let mut sim = Sim::new(budget, period, 4, true, 0);
    let q = &mut sim.q();
    for k in 0..50u64 {
        let release = k * period;
        assert!(q.ready(release) && (release == 0 || !q.ready(release - 1)));
        let start = release + (k * 1_237) % 6_000;
        let end = start + 250;
        q.budget_check(250, end);
        q.yield_head(end);
        let r: Vec<Refill> = q.iter().collect();
        assert_eq!(r[0].time, release + period, "period {k}: {r:?}");
        assert_eq!(r.last().map(|t| t.end()), Some(release + period + budget));
        assert_eq!(q.total(), budget);
    }
}

#[test]
fn yielding_gives_the_head_back_one_period_later() {
    let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
    let q = &mut sim.q();
    assert!(!q.budget_check(300, 300));
    q.yield_head(300);
    let refills: Vec<_> = q.iter().map(|r| (r.time, r.amount)).collect();
    assert_eq!(refills, vec![(10_000, 300), (10_300, 700)]);
    assert!(!q.ready(9_999) && q.ready(10_000));
    // Round robin: the timeslice starts afresh.
    let mut rr = Sim::new(1_000, 1_000, 2, false, 0);
    let q = &mut rr.q();
    q.budget_check(300, 300);
    q.yield_head(300);
    assert_eq!(
        q.head(),
        Refill {
            time: 300,
            amount: 1_000
        }
    );
    assert_eq!(q.total(), 1_000);
}

/// seL4's `refill_unblock_check` on the refills as a list: a sporadic
/// context (not round robin) whose head is released by `now` starts it at
/// `now`, then takes in each next refill released no later than the head,
/// so grown, would end (`refill_head_overlapping`: `rTime <= head.rTime +
/// head.rAmount`), keeping the start `now`; anything else is unchanged.
fn sel4_unblock(r: &[Refill], now: Ticks, sporadic: bool, round_robin: bool) -> Vec<Refill> {
    let Some((first, mut rest)) = r.split_first() else {
        return vec![];
    };
    if !sporadic || round_robin || first.time > now {
        return r.to_vec();
    }
    let mut head = Refill {
        time: now,
        amount: first.amount,
    };
    while let Some((next, tail)) = rest.split_first() {
        if next.time > now + head.amount {
            break;
        }
        head.amount += next.amount;
        rest = tail;
    }
    core::iter::once(head).chain(rest.iter().copied()).collect()
}

#[test]
fn a_refill_released_exactly_when_the_head_ends_is_merged_one_tick_after_is_not() {
    for (gap, merged) in [(0, true), (1, false)] {
        let mut sim = Sim::new(1_000, 10_000, 4, true, 0);
        let q = &mut sim.q();
        q.budget_check(400, 400); // head 600 at 0, 400 at 10 000
        let now = 10_000 - 600 - gap; // the head, started now, ends at 10 000 - gap
        q.unblock_check(now);
        let r: Vec<Refill> = q.iter().collect();
        let want = match merged {
            true => vec![Refill {
                time: now,
                amount: 1_000,
            }],
            false => vec![
                Refill {
                    time: now,
                    amount: 600,
                },
                Refill {
                    time: 10_000,
                    amount: 400,
                },
            ],
        };
        assert_eq!(r, want, "gap {gap}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// After any history, a wake-up at any time leaves the queue as
    /// seL4's rule ([`sel4_unblock`]) does: overlapping refills merged.
    #[test]
    fn unblock_check_merges_the_refills_sel4_merges(
        (budget, period, max, sporadic) in params(),
        steps in prop::collection::vec(step(), 0..60),
        wake in 0..60_000u64,
    ) {
        let mut sim = Sim::new(budget, period, max, sporadic, 0);
        for s in steps {
            sim.apply(s);
        }
        let now = sim.now + wake;
        let before: Vec<Refill> = sim.q().iter().collect();
        sim.q().unblock_check(now);
        let after: Vec<Refill> = sim.q().iter().collect();
        prop_assert_eq!(after, sel4_unblock(&before, now, sporadic, budget == period));
        sim.check_queue()?;
    }
}
