//! Channels: the caps behind a channel id (where `cairn-system`'s CSpace
//! layout, `tools/system/src/layout.rs`, puts them) and how the
//! notifications of a PD's channels reach [`crate::Handler::notified`].
//!
//! Up to 62 channels a PD's notification has one badge bit per channel
//! id, as in Microkit. A PD notified on ids above 61 (up to
//! [`MAX_CHANNEL`]) is *wide* (docs/system.md, "More than 62 channels"):
//! its notification keeps ids 0 to 60 as bits, bit [`SUMMARY_BIT`] says
//! that one of its extra notifications has bits, and ids from 61 on are
//! bits of those (64 ids each), which the event loop polls. A sender to
//! such an id signals the extra notification, then the summary; the image
//! builder sets the variables that tell the SDK which channels do that
//! and how many extra notifications the PD has, so a PD's code is the
//! same either way.

use sel4::{CPtr, Endpoint, IrqHandler, Notification};

use crate::SetVar;

/// The largest channel id (`cairn_system::layout::MAX_CHANNEL_ID`).
pub const MAX_CHANNEL: u64 = 255;
/// The largest id that is a bit of the PD's own notification when it has
/// at most 62 channels (`cairn_system::layout::MAX_ID`); also the
/// largest IRQ id.
pub const MAX_NOTIFY_BIT: u64 = 61;
/// A wide PD's summary bit (`layout::SUMMARY_BIT`) and its first id in an
/// extra notification (`layout::FIRST_GROUP_ID`).
pub const SUMMARY_BIT: u64 = 61;
/// Ids per extra notification (`layout::GROUP_BITS`).
const GROUP_BITS: u64 = 64;

/// How many extra notifications the PD has (`layout::SDK_GROUPS`, set by
/// the image builder for a wide PD; 0 otherwise).
#[export_name = "__cairn_microkit_groups"]
static GROUPS: SetVar = SetVar::new();
/// Bitmaps of the channel ids whose notify also signals the summary cap
/// (`layout::SDK_TWO_STEP`): ids `64 i` to `64 i + 63` in word `i`.
#[export_name = "__cairn_microkit_two_step_0"]
static TWO_STEP_0: SetVar = SetVar::new();
#[export_name = "__cairn_microkit_two_step_1"]
static TWO_STEP_1: SetVar = SetVar::new();
#[export_name = "__cairn_microkit_two_step_2"]
static TWO_STEP_2: SetVar = SetVar::new();
#[export_name = "__cairn_microkit_two_step_3"]
static TWO_STEP_3: SetVar = SetVar::new();

/// The notification cap for channel `id` (layout `notify_slot`).
pub const fn notify_cap(id: u64) -> Notification {
    Notification(CPtr(if id < 64 { 10 + id } else { 512 + id }))
}

/// The endpoint cap of the protected call on channel `id` (layout
/// `ppc_slot`).
pub const fn ppc_cap(id: u64) -> Endpoint {
    Endpoint(CPtr(if id < 64 { 74 + id } else { 768 + id }))
}

/// The second cap of a channel to a wide PD: its own notification, with
/// the summary bit (layout `summary_slot`).
pub const fn summary_cap(id: u64) -> Notification {
    Notification(CPtr(if id < 64 { 266 + id } else { 1024 + id }))
}

/// The IRQ handler cap of the interrupt on channel `id` (layout
/// `BASE_IRQ + id`).
pub const fn irq_cap(id: u64) -> IrqHandler {
    IrqHandler(CPtr(138 + id))
}

/// A wide PD's extra notification `group` (from 1; layout `BASE_GROUP`).
pub const fn group_cap(group: u64) -> Notification {
    Notification(CPtr(5 + group - 1))
}

/// The channels whose bits are set in a notification badge of a PD with
/// at most 62 channels (bits 0 to 61).
pub fn channels(badge: u64) -> impl Iterator<Item = u64> {
    (0..=MAX_NOTIFY_BIT).filter(move |i| badge & (1 << i) != 0)
}

/// Calls `f` with each channel a notification `badge` of the PD's own
/// notification stands for, lowest first: its bits, and, in a wide PD
/// whose summary bit is set, the bits of each extra notification (polled
/// here; a sender sets the extra bit before the summary, so none is
/// missed, and a bit polled early only makes a later summary find
/// nothing).
pub(crate) fn deliver(badge: u64, f: impl FnMut(Channel)) {
    deliver_with(badge, GROUPS.get(), |g| group_cap(g).poll(), f)
}

/// [`deliver`] with the number of extra notifications and the way to poll
/// them as arguments (host tests).
pub(crate) fn deliver_with(
    badge: u64,
    groups: u64,
    mut poll: impl FnMut(u64) -> u64,
    mut f: impl FnMut(Channel),
) {
    if groups == 0 {
        channels(badge).for_each(|c| f(Channel(c)));
        return;
    }
    let own = badge & ((1 << SUMMARY_BIT) - 1);
    channels(own).for_each(|c| f(Channel(c)));
    if badge & (1 << SUMMARY_BIT) == 0 {
        return;
    }
    for g in 1..=groups.min(MAX_CHANNEL / GROUP_BITS + 1) {
        let bits = poll(g);
        let first = SUMMARY_BIT + (g - 1) * GROUP_BITS;
        (0..GROUP_BITS)
            .filter(|b| bits & (1 << b) != 0)
            .for_each(|b| f(Channel(first + b)));
    }
}

/// Whether `notify` on channel `id` also signals its summary cap.
pub(crate) fn two_step(id: u64) -> bool {
    let word = match id / 64 {
        0 => &TWO_STEP_0,
        1 => &TWO_STEP_1,
        2 => &TWO_STEP_2,
        3 => &TWO_STEP_3,
        _ => return false,
    };
    word.get() & (1 << (id % 64)) != 0
}

/// A channel of this PD, by its id in the description (`<end id=..>` or
/// `<irq id=..>`). A channel the description does not give the PD has no
/// cap behind it: using it fails in the kernel (an invalid capability),
/// it never reaches another PD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Channel(u64);

impl Channel {
    /// Channel `id` (0 to [`MAX_CHANNEL`]; the cap layout has no room
    /// above, so larger ids are refused here).
    pub const fn new(id: u64) -> Channel {
        assert!(id <= MAX_CHANNEL, "channel ids are 0 to 255");
        Channel(id)
    }

    /// The channel of a protected call's badge without its flag bit (the
    /// caller's end says the callee's id; ids fit in 8 bits).
    pub(crate) fn from_badge(id: u64) -> Channel {
        Channel(id & 0xff)
    }

    /// The id.
    pub const fn index(self) -> u64 {
        self.0
    }

    /// Microkit's `microkit_notify`: signals the PD at the other end (and,
    /// when that PD receives this channel through an extra notification,
    /// its summary bit after it).
    pub fn notify(self) {
        notify_cap(self.0).signal();
        if two_step(self.0) {
            summary_cap(self.0).signal();
        }
    }

    /// Microkit's `microkit_ppcall`: calls the protected procedure of the
    /// PD at the other end and returns its answer.
    pub fn ppcall(self, msg: &crate::Message) -> crate::Message {
        ppc_cap(self.0).call(msg)
    }

    /// Microkit's `microkit_irq_ack`: lets the interrupt of this channel
    /// come again.
    pub fn irq_ack(self) -> Result<(), sel4::Error> {
        irq_cap(self.0).ack()
    }
}

#[cfg(test)]
pub(crate) mod test_hooks {
    pub(crate) use super::{deliver_with, two_step};

    /// Sets the two-step bitmap as the image builder would.
    pub(crate) fn set_two_step(words: [u64; 4]) {
        use super::{TWO_STEP_0, TWO_STEP_1, TWO_STEP_2, TWO_STEP_3};
        for (v, w) in [&TWO_STEP_0, &TWO_STEP_1, &TWO_STEP_2, &TWO_STEP_3]
            .into_iter()
            .zip(words)
        {
            v.set(w);
        }
    }
}
