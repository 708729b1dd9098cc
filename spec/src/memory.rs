//! Frame contents (manual §4.1 *Message Registers*, ch. 7): the words of
//! the frames user space and the kernel share. The kernel reads and writes
//! user memory only through IPC buffers (message words beyond the
//! registers, the extra caps' cptrs or the badges of unwrapped caps, the
//! receive path), and an IPC buffer is 1 KiB, 1 KiB aligned; so memory is
//! kept in 1 KiB blocks, by physical address, absent blocks all 0.
//!
//! A thread's buffer words ([`crate::Thread::buffer`], `caps_or_badges`,
//! `receive`) are a view of the block its IPC buffer is in: written
//! through to memory and to every other thread whose buffer is the same
//! block ([`State::store_buffer`]), read again when the buffer moves
//! ([`State::load_buffer`]). Two buffers are the same block or disjoint,
//! so one thread's words never overlap another's in part. A non-device
//! frame is zeroed when it is retyped; device frames never hold a buffer.
//!
//! Memory is observed through the threads' buffers: the comparison of
//! states leaves the blocks themselves out (`State::observable`).

use crate::cap::{Cap, ObjId};
use crate::state::{SlotId, State, TCB_BUFFER};
use crate::thread::{Thread, MSG_REGISTERS};
use std::collections::BTreeMap;

/// Words in a block: one IPC buffer (`seL4_IPCBuffer`, 1 KiB).
pub const BLOCK_WORDS: usize = 128;
/// log2 of a block's size in bytes.
pub const BLOCK_BITS: u32 = 10;
/// Where the IPC buffer keeps MR i (word i + 1), the extra caps' cptrs or
/// badges, and the receive path (CNode, index, depth).
const MSG_WORD: usize = 1;
const CAPS_WORD: usize = 122;
const RECEIVE_WORD: usize = 125;

/// One block of memory.
pub type Block = Box<[u64; BLOCK_WORDS]>;

/// The contents of memory, by block (its physical address); a block not
/// here is all 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memory(pub BTreeMap<u64, Block>);

impl Memory {
    /// The words of the block at `at` (1 KiB aligned).
    pub fn block(&self, at: u64) -> [u64; BLOCK_WORDS] {
        self.0.get(&at).map_or([0; BLOCK_WORDS], |b| **b)
    }

    /// Zeroes `[start, start + size)` (a frame retyped).
    pub fn zero(&mut self, start: u64, size: u64) {
        let end = start.saturating_add(size);
        let gone: Vec<u64> = self.0.range(start..end).map(|(&a, _)| a).collect();
        for a in gone {
            self.0.remove(&a);
        }
    }
}

/// Copies the buffer words of `t` into `block`.
fn store(t: &Thread, block: &mut [u64; BLOCK_WORDS]) {
    let msg = MSG_WORD + MSG_REGISTERS;
    block[msg..msg + t.buffer.0.len()].copy_from_slice(&t.buffer.0[..]);
    block[CAPS_WORD..CAPS_WORD + 3].copy_from_slice(&t.caps_or_badges);
    block[RECEIVE_WORD..RECEIVE_WORD + 3].copy_from_slice(&t.receive);
}

/// Copies the buffer words of `block` into `t`.
fn load(t: &mut Thread, block: &[u64; BLOCK_WORDS]) {
    let msg = MSG_WORD + MSG_REGISTERS;
    let n = t.buffer.0.len();
    t.buffer.0.copy_from_slice(&block[msg..msg + n]);
    t.caps_or_badges
        .copy_from_slice(&block[CAPS_WORD..CAPS_WORD + 3]);
    t.receive
        .copy_from_slice(&block[RECEIVE_WORD..RECEIVE_WORD + 3]);
}

impl State {
    /// Where `t`'s IPC buffer is in memory: in the frame of its buffer
    /// slot (not a device frame), at the buffer address's offset in that
    /// frame (seL4's `lookupIPCBuffer`), whatever the cap's rights.
    pub fn buffer_at(&self, t: ObjId) -> Option<u64> {
        let slot = SlotId {
            obj: t,
            index: TCB_BUFFER,
        };
        let Some(Cap::Frame {
            obj,
            size_bits,
            device: false,
            ..
        }) = self.cap(slot)
        else {
            return None;
        };
        let ipc_buffer = self.thread(t)?.ipc_buffer;
        let offset = ipc_buffer & ((1u64 << size_bits) - 1);
        Some((obj + offset) & !((1u64 << BLOCK_BITS) - 1))
    }

    /// Writes `t`'s buffer words to memory (if it has a buffer) and to the
    /// view of every other thread whose buffer is the same block.
    pub(crate) fn store_buffer(&mut self, t: ObjId) {
        let (Some(at), Some(x)) = (self.buffer_at(t), self.thread(t)) else {
            return;
        };
        let x = x.clone();
        let block = self
            .memory
            .0
            .entry(at)
            .or_insert_with(|| Box::new([0; BLOCK_WORDS]));
        store(&x, block);
        let sharing: Vec<ObjId> = self
            .objects
            .keys()
            .copied()
            .filter(|&u| u != t && self.buffer_at(u) == Some(at))
            .collect();
        for u in sharing {
            if let Some(y) = self.thread_mut(u) {
                y.buffer = x.buffer.clone();
                y.caps_or_badges = x.caps_or_badges;
                y.receive = x.receive;
            }
        }
    }

    /// Reads `t`'s buffer words from memory (its buffer just moved there).
    pub(crate) fn load_buffer(&mut self, t: ObjId) {
        let Some(at) = self.buffer_at(t) else {
            return;
        };
        let block = self.memory.block(at);
        if let Some(x) = self.thread_mut(t) {
            load(x, &block);
        }
    }

    /// seL4's `replyFromKernel` to `t` (`Thread::reply_from_kernel`): the
    /// words beyond the registers go to its IPC buffer, if it has one it
    /// may write.
    pub(crate) fn reply_from_kernel(&mut self, t: ObjId, label: u64, words: &[u64]) {
        let write = self.has_buffer(t, true);
        if let Some(x) = self.thread_mut(t) {
            x.reply_from_kernel(label, words, write);
        }
        if write && words.len() > MSG_REGISTERS {
            self.store_buffer(t);
        }
    }
}
