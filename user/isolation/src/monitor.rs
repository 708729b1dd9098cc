//! The monitor's loop: every message on its endpoint is a check point.
//!
//! Checked at every message: the canaries in the monitor's and the
//! victim's memory (`check`), the victim's heartbeat (exactly one beat per
//! notification sent so far: it ran each time the monitor blocked, before
//! the hostile ran again), and the badge (only the four the monitor
//! minted). Checked at every report (each [`BATCH`] attempts) and at the
//! end: the hostile's CSpace, slot by slot (moved into the monitor's
//! scratch slot, identified, moved back): only the types it was given, a
//! frame only its own, R untouched; and what it reports of itself
//! (forbidden successes, memory accesses that did not fault, the secret).
//! Then it gets its given caps back (re-granted where it lost them), and
//! before the stale phase the monitor revokes the notification, the frame
//! and the minion: none of them may remain in H.

use crate::check;
use crate::proto::*;
use crate::setup::World;
use cairn_rt::println;
use core::sync::atomic::Ordering::Relaxed;
use sel4::abi::context::USER_CONTEXT_WORDS;
use sel4::cap::init_caps;
use sel4::{tag, CNode, CapRights, Frame, Word};

/// Counts of what happened.
#[derive(Default)]
struct Tally {
    messages: Word,
    reports: Word,
    faults: Word,
    sends: Word,
    stuck: Word,
    escapes: Word,
    /// Faults by seL4_Fault label (0..7).
    fault_kinds: [Word; 8],
    ok: Word,
    err: Word,
}

struct Monitor {
    w: World,
    t: Tally,
    beats: Word,
    revoked: bool,
    /// During the self-test: violations the monitor planted itself,
    /// counted here instead of as escapes.
    planting: bool,
    detected: Word,
    /// The attempt number of the last report.
    last: Word,
    /// MCS: a time check already failed (reported once).
    #[cfg(sel4_mcs)]
    late: bool,
    /// MCS: answers of the attacks that differed from seL4's.
    wrong: Word,
    /// MCS diagnosis: (attempt, µs since the periodic victim's release).
    #[cfg(sel4_mcs)]
    gaps: [(Word, Word); 16],
    #[cfg(sel4_mcs)]
    n_gaps: usize,
}

/// Runs the hostile to its end and prints the summary.
pub fn run(w: World) {
    let mut m = Monitor {
        w,
        t: Tally::default(),
        beats: 0,
        revoked: false,
        planting: false,
        detected: 0,
        last: 0,
        #[cfg(sel4_mcs)]
        late: false,
        wrong: 0,
        #[cfg(sel4_mcs)]
        gaps: [(0, 0); 16],
        #[cfg(sel4_mcs)]
        n_gaps: 0,
    };
    m.restart();
    let attempts = loop {
        #[cfg(not(sel4_mcs))]
        let (badge, msg) = m.w.ep.recv();
        #[cfg(sel4_mcs)]
        let (badge, msg) = m.w.ep.recv(m.w.sched.reply);
        m.t.messages += 1;
        #[cfg(sel4_mcs)]
        if m.t.messages == 1 {
            crate::mcs::DIAG[3].store(crate::mcs::rdtime(), Relaxed);
        }
        let report = match badge {
            REPORT_BADGE => true,
            FAULT_BADGE => {
                m.t.faults += 1;
                if let Some(k) = m.t.fault_kinds.get_mut(msg.label() as usize) {
                    *k += 1;
                }
                false
            }
            SEND_BADGE => {
                m.t.sends += 1;
                false
            }
            WATCHDOG_BADGE => {
                // MCS: the watchdog also speaks while the hostile is only
                // out of budget; then it is not restarted.
                #[cfg(sel4_mcs)]
                if crate::mcs::hostile_alive(&mut m.w.sched) {
                    m.light_check();
                    continue;
                }
                m.t.stuck += 1;
                false
            }
            b => {
                m.escape(format_args!("a message with badge {b:#x}"));
                false
            }
        };
        m.light_check();
        if report && (msg.label() == REPORT || msg.label() == DONE) {
            m.t.reports += 1;
            m.on_report(&msg);
            if msg.label() == DONE {
                break msg.mr(MR_ATTEMPT);
            }
        }
        m.restart();
    };
    let _ = m.w.hostile.suspend();
    let _ = m.w.minion.suspend();
    let t = &m.t;
    let k = t.fault_kinds;
    const VM: usize = sel4::abi::fault::VM_FAULT as usize;
    println!(
        "isolation: {} messages: {} reports, {} faults (cap {}, unknown syscall {}, user exception {}, VM {}), {} sends, {} blocked; invocations {} ok, {} refused; {} beats",
        t.messages, t.reports, t.faults, k[1], k[2], k[3], k[VM], t.sends, t.stuck, t.ok, t.err, m.beats
    );
    #[cfg(sel4_mcs)]
    m.mcs_summary();
    println!("isolation: {attempts} attempts, {} escapes", m.t.escapes);
    let planted = m.self_test();
    println!(
        "isolation: self-test: {planted} planted, {} detected",
        m.detected
    );
}

impl Monitor {
    /// MCS: the attacks by class, the answers checked, and the time.
    #[cfg(sel4_mcs)]
    fn mcs_summary(&self) {
        use crate::attacks::{class, CLASSES, N_MCS};
        use crate::mcs::*;
        let mut per = [0; CLASSES.len()];
        for j in 0..N_MCS {
            if let Some(n) = per.get_mut(class(j)) {
                *n += 1;
            }
        }
        println!(
            "isolation: mcs: {N_MCS} attacks ({} {}, {} {}, {} {}, {} {}, {} {}, {} {}), {} answers unlike seL4's",
            CLASSES[0], per[0], CLASSES[1], per[1], CLASSES[2], per[2], CLASSES[3], per[3],
            CLASSES[4], per[4], CLASSES[5], per[5], self.wrong
        );
        let total = HOSTILE_TOTAL.load(Relaxed);
        let releases = RELEASES.load(Relaxed);
        println!(
            "isolation: temporal: periodic victim ({} us every {} us, priority {PULSE_PRIO}): {releases} releases, the latest {} us after its place (bound {LATE_BOUND_US} us)",
            PULSE.0, PULSE.1, lateness_us()
        );
        println!(
            "isolation: temporal: longest gap between releases {} us, before release {}; {} us from the first to the last",
            MAX_GAP.load(Relaxed) / 10, MAX_GAP_AT.load(Relaxed),
            (LAST_RELEASE.load(Relaxed) - FIRST.load(Relaxed)) / 10
        );
        let f = FIRST.load(Relaxed);
        let d = |i: usize| DIAG[i].load(Relaxed).saturating_sub(f) / 10;
        println!(
            "isolation: temporal: after the periodic victim's first release: its second at {} us, its third at {} us, the end of setup at {} us, the first message at {} us",
            d(0), d(1), d(2), d(3)
        );
        for (a, g) in self.gaps.iter().take(self.n_gaps) {
            println!(
                "isolation: temporal: at a message by attempt {a}: {g} us since the last release"
            );
        }
        for l in LATE_LOG.iter() {
            let v = l.load(Relaxed);
            if v != 0 {
                println!(
                    "isolation: temporal: late release {} by {} us",
                    v >> 32,
                    v & 0xFFFF_FFFF
                );
            }
        }
        println!(
            "isolation: temporal: hostile ({} us every {} us): at most {} us in a period (bound {WINDOW_BOUND_US} us), at most {} us above its rate (bound {RATE_BOUND_US} us), {total} us in {} ms; out of budget, not blocked, at {} watchdog messages",
            HOSTILE.0, HOSTILE.1, WINDOW_MAX.load(Relaxed), ABOVE_RATE.load(Relaxed),
            releases * PULSE_PERIOD_US / 1000, self.w.sched.throttled
        );
    }

    fn escape(&mut self, what: core::fmt::Arguments<'_>) {
        if self.planting {
            self.detected += 1;
            println!("isolation: detected (planted): {what}");
            return;
        }
        self.t.escapes += 1;
        println!("isolation: ESCAPE: {what}");
    }

    /// Plants one violation of each kind the checks look for, after the
    /// run (the hostile suspended), and counts what they catch: checks
    /// that could not see an escape would pass vacuously. Returns the
    /// number planted.
    fn self_test(&mut self) -> Word {
        self.planting = true;
        let root = init_caps::CNODE;
        let h = self.w.h;
        // A cap of a type it was never given, and a frame not its own.
        let mut planted = 0;
        if h.copy(30, H_RADIX, root, self.w.untyped, 64, CapRights::ALL)
            .is_ok()
        {
            planted += 1;
        }
        if h.copy(29, H_RADIX, root, self.w.image_frame, 64, CapRights::ALL)
            .is_ok()
        {
            planted += 1;
        }
        self.scan();
        let _ = h.delete(30, H_RADIX);
        let _ = h.delete(29, H_RADIX);
        // A changed canary word; a missed beat.
        check::MONITOR_CANARY[7].fetch_xor(1, Relaxed);
        // The victim has not taken the last signal yet (the monitor has not
        // blocked since): one behind; two more put it one ahead.
        check::HEARTBEAT.fetch_add(2, Relaxed);
        planted += 2;
        // MCS: a late release of the periodic victim.
        #[cfg(sel4_mcs)]
        {
            let late = (crate::mcs::LATE_BOUND_US + 1) * 10;
            crate::mcs::MAX_OFFSET.fetch_add(late, Relaxed);
            self.late = false;
            planted += 1;
        }
        self.light_check();
        self.planting = false;
        planted
    }

    /// Restarts the hostile at its entry (it carries on with its next
    /// attempt); a pending reply or IPC of it is cancelled.
    fn restart(&mut self) {
        // MCS: its SchedContext, priority and handler back first.
        #[cfg(sel4_mcs)]
        if let Err(e) = crate::mcs::restore_hostile(&self.w.sched, self.w.hostile) {
            self.escape(format_args!(
                "the hostile's SchedContext could not be restored: {e}"
            ));
        }
        let r = self.w.hostile.write_registers(
            true,
            0,
            USER_CONTEXT_WORDS as Word,
            &self.w.hostile_ctx,
        );
        if let Err(e) = r {
            self.escape(format_args!("the hostile could not be restarted: {e}"));
        }
    }

    /// Canaries and heartbeat, then the next beat.
    fn light_check(&mut self) {
        let damaged = check::damaged();
        if damaged != 0 {
            self.escape(format_args!("{damaged} canary words changed"));
            check::fill_monitor();
        }
        let beat = check::HEARTBEAT.load(Relaxed);
        let want = self.beats;
        if beat != want {
            self.escape(format_args!("heartbeat {beat}, expected {want}"));
        }
        #[cfg(sel4_mcs)]
        {
            let since = crate::mcs::since_last_release_us();
            if since > 1100 {
                if let Some(g) = self.gaps.get_mut(self.n_gaps) {
                    *g = (self.last, since);
                    self.n_gaps += 1;
                }
            }
        }
        #[cfg(sel4_mcs)]
        if !self.late {
            if let Some((what, value)) = crate::mcs::violation() {
                self.late = true;
                let last = self.last;
                self.escape(format_args!("time: {what}: {value} (by attempt {last})"));
            }
        }
        // The victim beats as soon as the monitor blocks, before the
        // hostile (lower priority) runs again.
        self.w.victim_ntfn.signal();
        self.beats += 1;
    }

    fn on_report(&mut self, msg: &sel4::Message) {
        let i = msg.mr(MR_ATTEMPT);
        self.last = i;
        if msg.mr(MR_FORBIDDEN) != 0 {
            let n = msg.mr(MR_FORBIDDEN);
            self.escape(format_args!("{n} forbidden invocations succeeded (by {i})"));
        }
        if msg.mr(MR_MEMORY) != 0 {
            let n = msg.mr(MR_MEMORY);
            self.escape(format_args!(
                "{n} foreign loads or stores did not fault (by {i})"
            ));
        }
        if msg.mr(MR_SECRET) == self.w.secret {
            self.escape(format_args!("the hostile read the monitor's secret"));
        }
        self.t.ok = msg.mr(MR_OK);
        self.t.err = msg.mr(MR_ERR);
        let wrong = msg.mr(MR_WRONG);
        if wrong != self.wrong {
            let (at, what) = (msg.mr(MR_WRONG_AT), msg.mr(MR_WRONG_WHAT));
            println!(
                "isolation: WRONG answer ({} so far), the last at attempt {at}: {}, seL4 gives {}",
                wrong,
                what >> 16,
                what & 0xFFFF
            );
        }
        if wrong != self.wrong {
            for k in 0..8 {
                let v = msg.mr(REPORT_MRS + k);
                if v != 0 {
                    println!(
                        "isolation: WRONG answer {k}: attempt {}: {:#x}, seL4 gives {:#x}",
                        v >> 32,
                        (v >> 16) & 0xFFFF,
                        v & 0xFFFF
                    );
                }
            }
        }
        self.wrong = wrong;
        #[cfg(sel4_mcs)]
        if !self.revoked {
            crate::mcs::restore_minion(&self.w.sched, self.w.minion);
        }
        self.scan();
        if i >= STALE && !self.revoked {
            self.revoke();
            self.scan();
            println!("isolation: notification, frame and minion revoked at attempt {i}");
        }
        self.regrant();
    }

    /// The tag of the cap in slot `s` of `node` (radix `radix`), and for a
    /// frame its physical address; the cap is moved out and back.
    fn inspect(&mut self, node: CNode, s: Word, radix: u8) -> (Word, Word) {
        let root = init_caps::CNODE;
        let scratch = self.w.scratch;
        if root.move_(scratch, 64, node, s, radix).is_err() {
            return (tag::NULL, 0);
        }
        let t = sel4::debug::cap_identify(sel4::CPtr(scratch));
        let paddr = if t == tag::FRAME {
            Frame::from_bits(scratch).get_address().unwrap_or(Word::MAX)
        } else {
            0
        };
        if node.move_(s, radix, root, scratch, 64).is_err() {
            self.escape(format_args!("could not put back slot {s}"));
            let _ = root.delete(scratch, 64);
        }
        (t, paddr)
    }

    /// The hostile's CSpace holds nothing it was not given.
    fn scan(&mut self) {
        let (h, r) = (self.w.h, self.w.r);
        for s in 0..H_SLOTS {
            let (t, paddr) = self.inspect(h, s, H_RADIX);
            let allowed = match t {
                tag::NULL | tag::CNODE | tag::ENDPOINT | tag::PAGE_TABLE | tag::REPLY => true,
                // MCS: the minion's SchedContext (its identity cannot be
                // checked: docs/isolation.md, "Limits").
                #[cfg(sel4_mcs)]
                tag::SCHED_CONTEXT => true,
                tag::NOTIFICATION | tag::THREAD => !self.revoked,
                tag::FRAME => !self.revoked && paddr == self.w.frame_paddr,
                _ => false,
            };
            if !allowed {
                let last = self.last;
                self.escape(format_args!(
                    "H[{s}] holds a cap of type {t} (paddr {paddr:#x}) by attempt {last}"
                ));
                let _ = h.delete(s, H_RADIX);
            }
        }
        let want = [tag::CNODE, tag::ENDPOINT, tag::ENDPOINT, tag::NULL];
        for (s, want) in want.iter().enumerate() {
            let (t, _) = self.inspect(r, s as Word, R_RADIX);
            if t != *want {
                self.escape(format_args!("R[{s}] holds type {t}, not {want}"));
            }
        }
    }

    /// Stale caps: revoke (and for the minion delete) what it was given.
    fn revoke(&mut self) {
        self.revoked = true;
        let root = init_caps::CNODE;
        for slot in [H_NTFN, H_FRAME, H_MINION] {
            if let Some(g) = self.w.grants.iter().find(|g| g.slot == slot) {
                if let Err(e) = root.revoke(g.master, 64) {
                    self.escape(format_args!("Revoke of master {slot} failed: {e}"));
                }
            }
        }
        let minion = self.w.minion.bits();
        if let Err(e) = root.delete(minion, 64) {
            self.escape(format_args!("Delete of the minion failed: {e}"));
        }
    }

    /// Gives back every given cap the hostile lost (not the revoked ones).
    fn regrant(&mut self) {
        let root = init_caps::CNODE;
        let h = self.w.h;
        for k in 0..self.w.grants.len() {
            let g = self.w.grants[k];
            let gone = [H_NTFN, H_FRAME, H_MINION].contains(&g.slot);
            // The table was moved, not copied (setup): nothing to copy.
            if (self.revoked && gone) || g.slot == H_TABLE {
                continue;
            }
            let (t, _) = self.inspect(h, g.slot, H_RADIX);
            if t == g.tag {
                continue;
            }
            let _ = h.delete(g.slot, H_RADIX);
            if let Err(e) = h.copy(g.slot, H_RADIX, root, g.master, 64, CapRights::ALL) {
                println!("isolation: re-grant of H[{}] failed: {e}", g.slot);
            }
        }
    }
}
