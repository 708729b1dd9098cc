//! The memory the hostile must never reach: canary words in the monitor's
//! and in the victim's memory, and the victim's heartbeat counter. The
//! hostile runs the same code on the same addresses, but there they are
//! its own private copies ([`scribble`] overwrites them), so the monitor's
//! words change only if isolation breaks.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use sel4::Word;

const WORDS: usize = 512;
pub static MONITOR_CANARY: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
pub static VICTIM_CANARY: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
/// The victim's beats (one per notification the monitor sends it).
pub static HEARTBEAT: AtomicU64 = AtomicU64::new(0);

fn pattern(salt: Word, k: usize) -> Word {
    (k as Word).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt
}

const MONITOR_SALT: Word = 0xC0FF_EE00_D15E_A5E0;
const VICTIM_SALT: Word = 0x0B57_AC1E_5EED_0001;

/// Writes the monitor's canaries (the victim writes its own).
pub fn fill_monitor() {
    fill(&MONITOR_CANARY, MONITOR_SALT);
}

pub fn fill_victim() {
    fill(&VICTIM_CANARY, VICTIM_SALT);
}

fn fill(words: &[AtomicU64], salt: Word) {
    for (k, w) in words.iter().enumerate() {
        w.store(pattern(salt, k), Relaxed);
    }
}

/// The number of canary words (monitor's and victim's) that changed.
pub fn damaged() -> usize {
    let bad = |words: &[AtomicU64], salt| {
        words
            .iter()
            .enumerate()
            .filter(|(k, w)| w.load(Relaxed) != pattern(salt, *k))
            .count()
    };
    bad(&MONITOR_CANARY, MONITOR_SALT) + bad(&VICTIM_CANARY, VICTIM_SALT)
}

/// Run by the hostile: overwrite, at the same addresses, every canary and
/// the heartbeat (its own copies).
pub fn scribble() {
    for w in MONITOR_CANARY.iter().chain(VICTIM_CANARY.iter()) {
        w.store(0xDEAD, Relaxed);
    }
    HEARTBEAT.store(Word::MAX, Relaxed);
}
