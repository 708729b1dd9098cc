//! `hub`, the PD of examples/wide.system with 101 channels (priority
//! 100): ids 0-24 to s0, 64-88 to s1, 128-152 to s2 and 192-216 and 255
//! to s3. Ids 0-60 are bits of its own notification, ids from 61 on come
//! through its extra notifications; its code does not see the
//! difference.
//!
//! It records every channel it is notified on and the protected call of
//! s2 (on its id 128). When all 101 and the call are there, it calls s1
//! on its id 64, then notifies s0, s1 and s3 on its ids 24, 88 and 255,
//! each of which notifies back on the same channel; with those three
//! back it says `hub: done` and ends the run (`seL4_DebugHalt`): the
//! `system-wide` test waits for that line. Anything unexpected (a
//! channel that is not hub's, one notified twice, a wrong answer) says
//! `hub: FAILED` and halts.
#![no_std]
#![no_main]

use cairn_microkit::sel4;
use cairn_microkit::{println, protection_domain, Channel, Handler, Message};

/// Hub's channel ids, as in examples/wide.system.
fn is_hub_channel(id: u64) -> bool {
    matches!(id, 0..=24 | 64..=88 | 128..=152 | 192..=216 | 255)
}
/// How many there are.
const CHANNELS: u32 = 101;
/// s2 calls on this one.
const FROM_S2: Channel = Channel::new(128);
/// Hub calls s1 on this one.
const TO_S1: Channel = Channel::new(64);
/// The channels hub notifies at the end, one per spoke that echoes:
/// s0 (a bit of hub's own notification at s0), s1 (an id above 63 on
/// hub's side, its cap above slot 512) and s3 (the last id).
const ECHOES: [Channel; 3] = [Channel::new(24), Channel::new(88), Channel::new(255)];

/// 256 bits, one per channel id.
#[derive(Default)]
struct Ids([u64; 4]);

impl Ids {
    /// Sets `id`; false if it was set already.
    fn insert(&mut self, id: u64) -> bool {
        let (w, b) = ((id / 64) as usize, id % 64);
        let Some(word) = self.0.get_mut(w) else {
            return false;
        };
        let new = *word & (1 << b) == 0;
        *word |= 1 << b;
        new
    }

    fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
}

#[derive(Default)]
struct Hub {
    seen: Ids,
    called: bool,
    echoed: Ids,
    echoing: bool,
}

fn fail(why: core::fmt::Arguments<'_>) -> ! {
    println!("hub: FAILED: {why}");
    sel4::debug::halt()
}

impl Hub {
    /// Once every channel and the call are in: the second round.
    fn second_round(&mut self) {
        if self.echoing || self.seen.len() != CHANNELS || !self.called {
            return;
        }
        self.echoing = true;
        println!("hub: notified on all {CHANNELS} channels (ids 0 to 255), called by s2 on 128");
        let answer = TO_S1.ppcall(&Message::new(0, &[5], &[])).mr(0);
        // s1 answers its own id (0) + 1000 + the value.
        if answer != 1005 {
            fail(format_args!("s1 answered {answer} on channel 64, not 1005"));
        }
        println!("hub: s1 answered {answer} on channel 64");
        for c in ECHOES {
            c.notify();
        }
    }
}

impl Handler for Hub {
    fn notified(&mut self, channel: Channel) {
        let id = channel.index();
        if !is_hub_channel(id) {
            fail(format_args!("notified on {id}, not a channel of hub"));
        }
        if self.echoing {
            if !ECHOES.contains(&channel) || !self.echoed.insert(id) {
                fail(format_args!(
                    "unexpected notification on {id} in the second round"
                ));
            }
            if self.echoed.len() == ECHOES.len() as u32 {
                println!("hub: done");
                sel4::debug::halt();
            }
            return;
        }
        if !self.seen.insert(id) {
            fail(format_args!("notified twice on {id}"));
        }
        self.second_round();
    }

    fn protected(&mut self, channel: Channel, msg: &Message) -> Message {
        if channel != FROM_S2 || msg.mr(0) != 40 || self.called {
            fail(format_args!(
                "protected call on {} with {}",
                channel.index(),
                msg.mr(0)
            ));
        }
        self.called = true;
        Message::new(0, &[msg.mr(0) + 1], &[])
    }
}

fn init() -> Hub {
    println!("hub: init");
    Hub::default()
}

protection_domain!(init);
