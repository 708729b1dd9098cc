//! A thread's registers in `seL4_UserContext` order (ABI ref §10), as the
//! Read/Write/CopyRegisters invocations see them.
//!
//! Word 0 is the pc: reading it gives FaultIP (the restart point), writing
//! it sets FaultIP; the callers then make NextIP follow (seL4's
//! `setNextPC(getRestartPC())`). The order is the architecture's
//! ([`USER_CONTEXT`]); words 0..16 are seL4's "frame registers", 16..32 its
//! "gp registers". RISC-V sanitises nothing.

use super::Tcb;
use crate::arch::USER_CONTEXT;
use cairn_abi::context::{FRAME_REGISTERS, GP_REGISTERS, USER_CONTEXT_WORDS};
use core::ops::Range;

/// Words of `seL4_UserContext` (32).
pub const CONTEXT_WORDS: usize = USER_CONTEXT_WORDS;
/// The frame registers' word indices.
pub const FRAME: Range<usize> = 0..FRAME_REGISTERS;
/// The gp registers' word indices.
pub const GP: Range<usize> = FRAME_REGISTERS..FRAME_REGISTERS + GP_REGISTERS;

impl Tcb {
    /// Word `i` of the thread's `seL4_UserContext` (0 beyond 31).
    pub fn user_register(&self, i: usize) -> u64 {
        USER_CONTEXT.get(i).map_or(0, |&r| self.reg(r))
    }

    /// Sets word `i` of the thread's `seL4_UserContext` (ignored beyond
    /// 31). Word 0 sets FaultIP only.
    pub fn set_user_register(&self, i: usize, v: u64) {
        if let Some(&r) = USER_CONTEXT.get(i) {
            self.set_reg(r, v);
        }
    }

    /// Makes the thread continue at its restart point (seL4's
    /// `setNextPC(thread, getRestartPC(thread))`), after its pc was written.
    pub fn resume_at_restart_pc(&self) {
        self.set_next_ip(self.fault_ip());
    }
}

/// Copies the words `range` of `src`'s context into `dest`'s. Out of
/// line: CopyRegisters copies two ranges.
#[inline(never)]
pub fn copy_words(src: &Tcb, dest: &Tcb, range: Range<usize>) {
    for i in range {
        dest.set_user_register(i, src.user_register(i));
    }
}
