//! How a notification on a channel reaches its PD when one notification's
//! badge bits are not enough: more than 62 channels per PD (issue 14,
//! item 4; docs/system.md, "More than 62 channels").
//!
//! A PD is *wide* when it is notified on a channel id above
//! [`layout::MAX_ID`]. Its own notification (bound to its TCB, as every
//! PD's) keeps ids 0 to 60 as badge bits 0 to 60; bit
//! [`layout::SUMMARY_BIT`] becomes a summary. Ids from
//! [`layout::FIRST_GROUP_ID`] on go to extra notifications `extra_ntfn_P_g`
//! (group `g` from 1, [`layout::GROUP_BITS`] ids each), which the PD
//! polls when it sees the summary bit. A sender to such an id holds two
//! caps: the extra notification with the id's bit, and the wide PD's own
//! notification with the summary bit; it signals them in that order, so
//! that the PD, woken by the summary, always finds the bit. Nothing
//! changes for a PD that is not wide, nor for its senders.

use std::collections::BTreeMap;

use crate::layout;
use crate::sdf::System;

/// The wide PDs of a system and their numbers of extra notifications,
/// found in one pass over the channels, so that asking about every
/// channel end stays linear in the size of the description.
pub struct Wide<'s> {
    groups: BTreeMap<&'s str, u64>,
}

impl<'s> Wide<'s> {
    /// The wide PDs of `system`.
    pub fn new(system: &'s System) -> Wide<'s> {
        let mut max: BTreeMap<&str, u64> = BTreeMap::new();
        for c in &system.channels {
            let [a, b] = &c.ends;
            for (me, other) in [(a, b), (b, a)] {
                if other.notify {
                    let m = max.entry(me.pd.as_str()).or_insert(0);
                    *m = (*m).max(me.id);
                }
            }
        }
        let groups = max
            .into_iter()
            .filter(|&(_, id)| id > layout::MAX_ID)
            .map(|(pd, id)| (pd, (id - layout::FIRST_GROUP_ID) / layout::GROUP_BITS + 1))
            .collect();
        Wide { groups }
    }

    /// The number of extra notifications of PD `pd` (0 if it is not wide).
    pub fn groups(&self, pd: &str) -> u64 {
        self.groups.get(pd).copied().unwrap_or(0)
    }

    /// Where a notification on channel `id` of PD `pd` arrives: `(0, bit)`
    /// in the PD's own notification, `(g, bit)` in its extra notification
    /// `g`.
    pub fn delivery(&self, pd: &str, id: u64) -> (u64, u64) {
        if self.groups(pd) == 0 || id < layout::FIRST_GROUP_ID {
            return (0, id);
        }
        let off = id - layout::FIRST_GROUP_ID;
        (off / layout::GROUP_BITS + 1, off % layout::GROUP_BITS)
    }
}

/// Where a notification on channel `id` of PD `pd` arrives ([`Wide::delivery`]).
pub fn delivery(system: &System, pd: &str, id: u64) -> (u64, u64) {
    Wide::new(system).delivery(pd, id)
}

/// Whether PD `pd` is notified on an id above [`layout::MAX_ID`].
pub fn is_wide(system: &System, pd: &str) -> bool {
    groups(system, pd) != 0
}

/// The number of extra notifications of PD `pd` (0 if it is not wide).
pub fn groups(system: &System, pd: &str) -> u64 {
    Wide::new(system).groups(pd)
}

/// The size of PD `pd`'s CNode: larger when it has channel ids from 64
/// on, whose caps lie above Microkit's 512 slots.
pub fn cnode_bits(system: &System, pd: &str) -> u8 {
    let high = system
        .channels
        .iter()
        .flat_map(|c| &c.ends)
        .any(|e| e.pd == pd && e.id >= 64);
    if high {
        layout::WIDE_CNODE_BITS
    } else {
        layout::CNODE_BITS
    }
}

/// The bitmap of PD `pd`'s channel ids whose notify signals twice (the
/// other end is wide and receives it through an extra notification).
pub fn two_step(system: &System, pd: &str) -> [u64; 4] {
    let wide = Wide::new(system);
    let mut map = [0u64; 4];
    for c in &system.channels {
        let [a, b] = &c.ends;
        for (me, other) in [(a, b), (b, a)] {
            if me.pd == pd && me.notify && wide.delivery(&other.pd, other.id).0 != 0 {
                if let Some(w) = map.get_mut((me.id / 64) as usize) {
                    *w |= 1 << (me.id % 64);
                }
            }
        }
    }
    map
}
/// The SDK's variables PD `pd` needs set (only those that are not 0, so
/// that a PD with at most 62 channels, or a program not built on the SDK,
/// needs none): its number of extra notifications and its two-step
/// bitmap.
pub fn sdk_setvars(system: &System, pd: &str) -> Vec<(&'static str, u64)> {
    let mut v = Vec::new();
    let g = groups(system, pd);
    if g != 0 {
        v.push((layout::SDK_GROUPS, g));
    }
    for (name, word) in layout::SDK_TWO_STEP.iter().zip(two_step(system, pd)) {
        if word != 0 {
            v.push((*name, word));
        }
    }
    v
}
