//! What an IPC carries from sender to receiver (ch. 4 Message Passing,
//! *Message Layout*, *Capability Transfer*; seL4's `doIPCTransfer`): the
//! message registers, the extra capabilities or their badges, the badge,
//! or, for a faulted sender, the fault message (ch. 6, *Faults*; ABI ref
//! §9).
//!
//! Called by `ipc::endpoint` (send and receive) and `ipc::reply`.

use crate::arch::{
    BADGE_REGISTER, EXCEPTION_MESSAGE, FAULT_IP, MSG_INFO_REGISTER, SYSCALL_MESSAGE,
};
use crate::cap::derive::cte_insert;
use crate::cap::derive::derive_cap;
use crate::cap::lookup::{lookup_cap_rare, lookup_cap_words_slow, lookup_slot_by_call};
use crate::cap::lookup::{lookup_slot_exact, LookupFault};
use crate::cap::words::CapWords;
use crate::cap::{Cap, SlotRef};
use crate::ipc::message::MessageRegs;
use crate::object::access::{read_word, write_word};
use crate::object::tcb::{Tcb, TcbRef, TCB_CTABLE};
#[cfg(doc)]
use crate::types::Fault;
use crate::types::PAddr;
use cairn_abi::message::{MessageInfo, MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH};

/// IPC buffer word of `caps_or_badges[0]`.
pub const CAPS_OR_BADGES_WORD: usize = 122;
/// IPC buffer words of the receive slot: CNode cptr, index, depth.
const RECEIVE_CNODE_WORD: usize = 125;

/// The extra capabilities of a message: slot and capability (its two
/// words, decoded by whoever reads it), in order.
pub type ExtraCaps = [Option<(SlotRef, CapWords)>; MSG_MAX_EXTRA_CAPS];

/// seL4's `messageInfoFromWord`: the length clamped to 120 MRs (the extra
/// cap count cannot exceed 3 in its two bits).
pub fn message_info(word: u64) -> MessageInfo {
    let i = MessageInfo(word);
    let len = (i.length() as usize).min(MSG_MAX_LENGTH) as u64;
    MessageInfo::new(i.label(), i.caps_unwrapped(), i.extra_caps(), len)
}

/// seL4's `lookupExtraCaps`: looks up the `count` extra cptrs in `msg`'s
/// IPC buffer at full depth in the CSpace of `root` (the thread's CSpace
/// root capability, which an invocation has already read for the invoked
/// cap), into `caps` (which the caller passes empty: no buffer, no caps).
/// A failed lookup returns the cptr and the failure. Filled in place: the
/// array is large and this is on every invocation's and every IPC's path.
/// Inlined into its callers, which then keep the loop's values in their
/// own registers; each lookup is a call that saves none.
#[inline(always)]
pub fn lookup_extra_caps(
    root: CapWords,
    msg: &MessageRegs,
    count: usize,
    caps: &mut ExtraCaps,
) -> Result<(), (u64, LookupFault)> {
    if count == 0 || !msg.has_buffer() {
        return Ok(());
    }
    for (i, c) in caps.iter_mut().enumerate().take(count) {
        let cptr = msg
            .buffer_word(CAPS_OR_BADGES_WORD + i)
            .map_or(0, read_word);
        // The found slot's words are written straight into `caps`; only
        // a failed walk goes through the lookup that reports its fault.
        *c = Some(match lookup_slot_by_call(root, cptr) {
            Some(slot) => (slot, slot.get().words()),
            None => lookup_cap_words_slow(root, cptr).map_err(|f| (cptr, f))?,
        });
    }
    Ok(())
}

/// seL4's `doIPCTransfer`: delivers `sender`'s message (or its fault) to
/// `receiver`, with `badge` in the receiver's badge register. `endpoint`
/// is the endpoint the message went through (`None` for a reply), used to
/// unwrap caps to it into badges; `grant` allows capability transfer.
/// `send` is the sender's message registers if the caller has already
/// looked them up (an invocation has: its IPC buffer is then not looked
/// up twice).
pub fn do_ipc_transfer(
    sender: TcbRef,
    send: Option<MessageRegs>,
    endpoint: Option<PAddr>,
    badge: u64,
    grant: bool,
    receiver: TcbRef,
) {
    let recv = MessageRegs::of(receiver, true);
    let info = match sender.get().has_fault() {
        false => normal_transfer(sender, send, endpoint, grant, receiver, &recv),
        true => fault_transfer(sender, &recv),
    };
    let r = receiver.get();
    r.set_reg(MSG_INFO_REGISTER, info.0);
    r.set_reg(BADGE_REGISTER, badge);
}

fn normal_transfer(
    sender: TcbRef,
    send: Option<MessageRegs>,
    endpoint: Option<PAddr>,
    grant: bool,
    receiver: TcbRef,
    recv: &MessageRegs,
) -> MessageInfo {
    let send = send.unwrap_or_else(|| MessageRegs::of(sender, false));
    let info = message_info(sender.get().reg(MSG_INFO_REGISTER));
    let count = info.extra_caps() as usize;
    // seL4 looks the caps up before copying the MRs; copying first is the
    // same, as MRs end at buffer word 120 and the cptrs start at 122.
    let sent = recv.copy_from(&send, info.length() as usize);
    let (extra, unwrapped) = match grant && count != 0 {
        true => send_caps(sender, &send, count, endpoint, receiver, recv),
        false => (0, 0),
    };
    MessageInfo::new(info.label(), unwrapped, extra, sent as u64)
}

/// The capability half of a transfer (`count` > 0 extra caps, Grant):
/// out of line, so that the messages without caps (nearly all) neither
/// clear the caps array nor save the registers this needs.
#[inline(never)]
fn send_caps(
    sender: TcbRef,
    send: &MessageRegs,
    count: usize,
    endpoint: Option<PAddr>,
    receiver: TcbRef,
    recv: &MessageRegs,
) -> (u64, u64) {
    let mut caps = [None; MSG_MAX_EXTRA_CAPS];
    let root = Tcb::slot(sender, TCB_CTABLE).get().words();
    if lookup_extra_caps(root, send, count, &mut caps).is_err() {
        // seL4: a failed lookup transfers no caps (the message still goes).
        caps = [None; MSG_MAX_EXTRA_CAPS];
    }
    transfer_caps(&caps, endpoint, receiver, recv)
}

/// seL4's `transferCaps`: each extra cap that names `endpoint` arrives as
/// its badge (in `caps_or_badges`, marked in capsUnwrapped); the first
/// other one is derived into the receiver's receive slot; transfer stops
/// at the first cap that cannot go. Returns (caps transferred,
/// capsUnwrapped).
fn transfer_caps(
    caps: &ExtraCaps,
    endpoint: Option<PAddr>,
    receiver: TcbRef,
    recv: &MessageRegs,
) -> (u64, u64) {
    if caps[0].is_none() || !recv.has_buffer() {
        return (0, 0);
    }
    let mut dest = receive_slot(receiver, recv);
    let mut unwrapped = 0;
    let mut n = 0;
    for (i, &(slot, cap)) in caps.iter().map_while(|c| c.as_ref()).enumerate() {
        let mut cap = Cap::decode(cap.0);
        match cap {
            Cap::Endpoint { ptr, badge, .. } if Some(ptr) == endpoint => {
                if let Some(at) = recv.buffer_word(CAPS_OR_BADGES_WORD + i) {
                    write_word(at, badge);
                }
                unwrapped |= 1 << i;
            }
            _ => {
                let Some(d) = dest.take() else { break };
                match derive_cap(slot, &mut cap) {
                    Ok(()) if !cap.is_null() => cte_insert(cap, slot, d),
                    _ => break,
                }
            }
        }
        n += 1;
    }
    (n, unwrapped)
}

/// seL4's `getReceiveSlots`: the empty slot named by the receiver's IPC
/// buffer (receive CNode cptr looked up in its CSpace, then index and
/// depth relative to that CNode), if there is one.
fn receive_slot(receiver: TcbRef, recv: &MessageRegs) -> Option<SlotRef> {
    let word = |i| {
        recv.buffer_word(RECEIVE_CNODE_WORD + i)
            .map_or(0, read_word)
    };
    let (cnode, index, depth) = (word(0), word(1), word(2));
    let root = Tcb::slot(receiver, TCB_CTABLE).get().words();
    let (_, node) = lookup_cap_rare(root, cnode).ok()?;
    if node.cnode().is_none() || !(1..=64).contains(&depth) {
        return None;
    }
    let slot = lookup_slot_exact(node, index, depth as u32).ok()?;
    slot.get().words().is_null().then_some(slot)
}

/// The fault message of `sender`'s stored fault (seL4's `setMRs_fault`,
/// ABI ref §9), written into the receiver's MRs; the label is the fault
/// type. MRs beyond the registers need the receiver's IPC buffer.
///
/// Read from the stored words in place ([`Fault::to_words`]' layout),
/// not decoded: every message is some of the sender's registers, then
/// stored words. A cap fault's lookup failure is stored as its message
/// words, the type first, and the type is also their count (ABI ref §8:
/// 1 InvalidRoot .. 4 GuardMismatch). Out of line: rare.
#[inline(never)]
fn fault_transfer(sender: TcbRef, recv: &MessageRegs) -> MessageInfo {
    use cairn_abi::fault as kind;
    let s = sender.get();
    let w = s.fault_words();
    let label = w[0] & 0xFF;
    let (regs, rest, k): (&[usize], [u64; 6], usize) = match label {
        kind::CAP_FAULT => {
            let in_recv_phase = w[0] >> 8 & 1;
            let lookup = (w[2] as usize).min(4);
            (
                &[FAULT_IP],
                [w[1], in_recv_phase, w[2], w[3], w[4], w[5]],
                2 + lookup,
            )
        }
        kind::UNKNOWN_SYSCALL => (&SYSCALL_MESSAGE, [w[1], 0, 0, 0, 0, 0], 1),
        kind::USER_EXCEPTION => (&EXCEPTION_MESSAGE, [w[1], w[2], 0, 0, 0, 0], 2),
        // Stored: address, FSR, instruction flag; sent: address,
        // instruction flag, FSR.
        kind::VM_FAULT => (&[FAULT_IP], [w[1], w[3], w[2], 0, 0, 0], 3),
        // MCS: the badge, and the µs the thread's SchedContext consumed
        // (taken, as SchedContext_Consumed takes them), if it has one.
        #[cfg(feature = "mcs")]
        kind::TIMEOUT => match s.sched_context() {
            Some(sc) => {
                let us = crate::object::sched_context::take_consumed_us(sc);
                (&[], [w[1], us, 0, 0, 0, 0], 2)
            }
            None => (&[], [w[1], 0, 0, 0, 0, 0], 1),
        },
        _ => (&[], [0; 6], 0),
    };
    // Without an IPC buffer the message stops at the last register MR:
    // `set` fails from there on.
    let mut n = 0;
    for &r in regs {
        n += recv.set(n, s.reg(r)) as usize;
    }
    for &v in rest.iter().take(k) {
        n += recv.set(n, v) as usize;
    }
    MessageInfo::new(label, 0, 0, n as u64)
}
