//! `ping`, the client of examples/ping.system (priority 100): notifies
//! `pong` (channel 0) and calls its protected procedure in `init`, reads
//! pong's answer from the `shared` region too (mapped read-only), waits
//! for `pong`'s notification, and, as the fault handler of its child
//! `prober`, for prober's write to its read-only mapping of `shared`.
//! It restarts prober after its first fault (`Child::restart`) and says
//! `ping: done` only after the second, if pong answered 42 in both ways,
//! notified on channel 0, and each of the child's faults is a store to
//! exactly that address; then it tells `ender` and writes to its read-only map of
//! `shared` on purpose, a fault the monitor reports by its name (it is
//! a top-level PD); `ender` then ends the run. The `system-ping` test
//! waits for both lines.
#![no_std]
#![no_main]

use cairn_microkit::sel4::{self, abi::fault};
use cairn_microkit::{memory_region, println, protection_domain, Channel, Child, Handler, Message};

/// The channel to `pong`.
const PONG: Channel = Channel::new(0);
/// The channel to `ender`, which halts when notified.
const ENDER: Channel = Channel::new(1);
/// Where prober maps `shared` (examples/ping.system) and writes.
const PROBER_WRITE: u64 = 0x500_0008;
/// The normalised cause of a store fault.
const STORE: u64 = 7;

memory_region!(SHARED = "shared", 0x1000);

struct Ping {
    answer: u64,
    notified: bool,
    /// prober's faults so far: after the first ping restarts it.
    faults: u64,
}

impl Handler for Ping {
    fn notified(&mut self, channel: Channel) {
        println!("ping: notified on channel {}", channel.index());
        self.notified = channel == PONG;
    }

    fn fault(&mut self, child: Child, msg: &Message) -> Option<Message> {
        let (addr, cause) = (msg.mr(fault::vm_fault::ADDR), msg.mr(fault::vm_fault::FSR));
        println!(
            "ping: child {} faulted: type {}, address {addr:#x}, cause {cause}",
            child.index(),
            msg.label()
        );
        let fault_ok = child.index() == 0
            && msg.label() == fault::VM_FAULT
            && addr == PROBER_WRITE
            && cause == STORE;
        let shared = SHARED.read_u64(0);
        self.faults += 1;
        if self.faults == 1 && fault_ok {
            // Its second run must fault the same way: that it does shows
            // the restart ran its program again from the start.
            println!("ping: restarting child {}", child.index());
            if let Err(e) = child.restart() {
                println!("ping: FAILED: restart: {e:?}");
                sel4::debug::halt();
            }
            return None;
        }
        if self.answer == 42 && shared == 42 && self.notified && fault_ok && self.faults == 2 {
            println!("ping: done (prober restarted, faulted again)");
        } else {
            println!(
                "ping: FAILED: answer {}, shared {shared}, notified {}, fault as expected {fault_ok}, faults {}",
                self.answer, self.notified, self.faults
            );
            sel4::debug::halt();
        }
        // A fault of a top-level PD, on purpose: the monitor reports it
        // (ping's fault handler); ender, below everyone, then halts.
        ENDER.notify();
        SHARED.write_u64(0, 1);
        println!("ping: FAILED: the write to a read-only map did not fault");
        sel4::debug::halt();
    }
}

fn init() -> Ping {
    println!("ping: init");
    PONG.notify();
    let answer = PONG.ppcall(&Message::new(0, &[41], &[])).mr(0);
    println!(
        "ping: pong answered {answer}, shared region says {}",
        SHARED.read_u64(0)
    );
    Ping {
        answer,
        notified: false,
        faults: 0,
    }
}

protection_domain!(init);
