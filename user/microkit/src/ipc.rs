//! The event loop's system calls, in the kernel's configuration: classic
//! IPC (the reply capability in the thread) or MCS IPC (the PD's reply
//! object, layout `REPLY`), and the passive PD's hand-over.
//!
//! A passive PD (`passive="true"`, MCS) runs `init` on its own scheduling
//! context like any PD; then, instead of its first `Recv`, it sends one
//! message to the monitor and receives in the same system call
//! (`seL4_NBSendRecv`, as Microkit's libmicrokit does): the monitor, above
//! every PD, unbinds the PD's scheduling context from its thread and binds
//! it to its notification while the PD already waits. From then on the PD
//! runs only on the scheduling context of a caller (a protected call lends
//! it) or of its notification (a signal lends it).

use sel4::Message;

use crate::region::SetVar;
use crate::INPUT;

/// The PD's reply object (MCS; layout `REPLY`).
#[cfg(sel4_mcs)]
const REPLY: sel4::Reply = sel4::Reply::from_bits(4);
/// A passive PD's cap to the monitor's endpoint (layout `MONITOR_EP`).
#[cfg(sel4_mcs)]
const MONITOR: sel4::Endpoint = sel4::Endpoint::from_bits(9);

/// 1 when the PD is passive (`layout::SDK_PASSIVE`, set by the image
/// builder).
#[export_name = "__cairn_microkit_passive"]
static PASSIVE: SetVar = SetVar::new();

/// Whether the description makes this PD passive.
pub fn is_passive() -> bool {
    PASSIVE.get() != 0
}

/// The first wait, after `init`: a passive PD's goes through the monitor.
pub(crate) fn first_recv() -> (u64, Message) {
    #[cfg(sel4_mcs)]
    if is_passive() {
        return MONITOR.nb_send_recv(&Message::empty(0), INPUT, REPLY);
    }
    recv()
}

/// Waits on the PD's input.
pub(crate) fn recv() -> (u64, Message) {
    #[cfg(sel4_mcs)]
    return INPUT.recv(REPLY);
    #[cfg(not(sel4_mcs))]
    INPUT.recv()
}

/// Answers the protected call or fault just received, then waits.
pub(crate) fn reply_recv(reply: &Message) -> (u64, Message) {
    #[cfg(sel4_mcs)]
    return INPUT.reply_recv(reply, REPLY);
    #[cfg(not(sel4_mcs))]
    INPUT.reply_recv(reply)
}
