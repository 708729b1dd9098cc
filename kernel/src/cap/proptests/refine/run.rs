//! A run: sequences of random steps from fresh boots, in chunks on
//! threads of their own, and its summary.

use super::{act, Pair, Tally, CHUNKS, SEQUENCE, TALLY};
use proptest::test_runner::{Config, RngSeed, TestRunner};

/// Runs `steps` steps in sequences from fresh boots with `seed`: the
/// summary of what was compared, or the failure (proptest's shrunk
/// sequence).
pub(super) fn run(steps: u64, seed: u64) -> Result<Tally, String> {
    let cases = steps.div_ceil(SEQUENCE as u64).max(1) as u32;
    let config = Config {
        cases,
        max_shrink_iters: 4096,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let seq = proptest::collection::vec(act(), 1..=2 * SEQUENCE);
    TALLY.with(|t| *t.borrow_mut() = Tally::default());
    let result = runner.run(&seq, |acts| {
        let mut p = Pair::with_threads();
        for a in &acts {
            p.act(a);
        }
        Ok(())
    });
    result.map_err(|e| e.to_string())?;
    Ok(TALLY.with(|t| t.take()))
}

/// Runs `steps` steps as [`CHUNKS`] runs of equal size on as many
/// threads (each its own simulated machine), the `i`-th with seed
/// `seed + i`, and prints the summary; panics with every failure and the
/// command that reproduces it.
pub(super) fn run_chunks(steps: u64, seed: u64) {
    let each = steps.div_ceil(CHUNKS);
    let start = std::time::Instant::now();
    let runs: Vec<_> = (0..CHUNKS)
        .map(|i| std::thread::spawn(move || run(each, seed + i)))
        .collect();
    let mut total = Tally::default();
    let mut failures = Vec::new();
    for (i, r) in runs.into_iter().enumerate() {
        match r.join() {
            Ok(Ok(t)) => total.add(&t),
            Ok(Err(e)) => failures.push(format!("seed {}: {e}", seed + i as u64)),
            Err(_) => failures.push(format!("seed {}: the run panicked", seed + i as u64)),
        }
    }
    if !failures.is_empty() {
        panic!(
            "the kernel does not refine the spec (reproduce with `cargo xtask spec --steps {steps} --seed {seed}`):\n{}",
            failures.join("\n")
        );
    }
    let calls: u64 = total.replies.iter().sum();
    eprintln!(
        "refinement: {steps} steps (seeds {seed}..{}) in {:.1} s, {calls} invocations answered ({} succeeded, errors by code 1..=10: {:?}), other system calls (Call, Send, NBSend, Recv, NBRecv, Reply, ReplyRecv, Yield, unknown, NBSendRecv, NBSendWait, Wait, NBWait) {:?}, {} exceptions, {} faults sent to a handler and {} ended by its reply, {} restarts after preemption, {} steps skipped, {} resumes with no thread runnable, {} waits cancelled, {} caps transferred and {} unwrapped into badges, VSpace successes (PageTable Map, Unmap, Page Map, Unmap, GetAddress, MakePool, Assign) {:?}, {} interrupts delivered, thread control calls answered {} (succeeded {}), IRQ and domain calls answered {} (succeeded {}; schedule methods {}), 1 GiB frames mapped {} and unmapped {}, {} buffers moved onto another thread's, MCS scheduling-context calls answered {} (succeeded {}), other TCB methods answered {} (succeeded {}), {} steps by threads other than the root thread, {} steps by the scheduler's choice, {} switches by the scheduler after a step, {} timer ticks, MCS time (idle stretches, budget overruns, timeout faults raised) {:?}, MCS threads checked in a ready queue, the release queue, neither {:?}, MCS YieldTo to a runnable thread answered at once and succeeded {:?}, {} sequences abandoned",
        seed + CHUNKS - 1,
        start.elapsed().as_secs_f64(),
        total.replies[0],
        &total.replies[1..],
        total.syscalls,
        total.exceptions,
        total.faults_sent,
        total.fault_replies,
        total.preempted,
        total.skipped,
        total.kicks,
        total.cancelled,
        total.caps_transferred,
        total.caps_unwrapped,
        total.vm_done,
        total.interrupts,
        total.control[0],
        total.control[1],
        total.irq[0],
        total.irq[1],
        total.schedule,
        total.giga[0],
        total.giga[1],
        total.shared_buffers,
        total.sched[0],
        total.sched[1],
        total.tcb[0],
        total.tcb[1],
        total.others,
        total.chosen[0],
        total.chosen[1],
        total.ticks,
        total.time,
        total.queues,
        total.yield_to,
        total.abandoned
    );
}
