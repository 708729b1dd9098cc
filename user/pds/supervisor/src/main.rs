//! `supervisor` of examples/mcs.system: the parent (fault and timeout
//! handler) of `worker`. It restarts its child with
//! [`cairn_microkit::Child::restart`] after the child's VM fault (run 1)
//! and after its timeout fault (run 2; other timeout faults, which a
//! loaded host can cause while the child prints, it answers so that the
//! child goes on at its release); when the third run tells it so,
//! it says `supervisor: worker restarted after a VM fault and after a
//! timeout fault, and runs again` and tells `ender`.
#![no_std]
#![no_main]

use cairn_microkit::sel4::abi::fault;
use cairn_microkit::{
    is_timeout_fault, println, protection_domain, Channel, Child, Handler, Message,
};

/// The channel to `ender`.
const ENDER: Channel = Channel::new(0);
/// The channel from `worker`.
const WORKER: Channel = Channel::new(1);

/// What happened so far, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    Nothing,
    VmFault,
    Timeout,
}

struct Supervisor {
    seen: Seen,
}

impl Handler for Supervisor {
    fn fault(&mut self, child: Child, msg: &Message) -> Option<Message> {
        let next = match self.seen {
            Seen::Nothing if msg.label() == fault::VM_FAULT => Seen::VmFault,
            Seen::VmFault if is_timeout_fault(msg) => Seen::Timeout,
            // Budgets run on the wall clock: on a loaded host the child
            // can run out of its 5 ms while it prints, in its first or
            // third run. It goes on at its release.
            _ if is_timeout_fault(msg) => {
                println!(
                    "supervisor: child {} ran out of budget, resuming it",
                    child.index()
                );
                return Some(Message::empty(0));
            }
            _ => {
                println!(
                    "supervisor: FAILED: child {} fault type {} after {:?}",
                    child.index(),
                    msg.label(),
                    self.seen
                );
                return None;
            }
        };
        println!(
            "supervisor: child {} {}, restarting it",
            child.index(),
            if next == Seen::VmFault {
                "faulted"
            } else {
                "ran out of budget"
            }
        );
        self.seen = next;
        if let Err(e) = child.restart() {
            println!("supervisor: FAILED: restart: {e:?}");
        }
        // No reply: the restart took the child out of its fault.
        None
    }

    fn notified(&mut self, channel: Channel) {
        if channel == WORKER && self.seen == Seen::Timeout {
            println!(
                "supervisor: worker restarted after a VM fault and after a timeout fault, and runs again"
            );
            ENDER.notify();
        } else {
            println!(
                "supervisor: FAILED: notified on {} after {:?}",
                channel.index(),
                self.seen
            );
        }
    }
}

fn init() -> Supervisor {
    Supervisor {
        seen: Seen::Nothing,
    }
}

protection_domain!(init);
