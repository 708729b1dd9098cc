//! Thread control block argument types (ch. 6 Threads and Execution; ABI
//! ref §7.3), `Tcb::configure_with_fault_ep`, and the `seL4_UserContext` word order
//! (ABI ref §10). The TCB methods themselves are generated from the
//! object-API table (`api.rs`).

use crate::cap::{CNode, CPtr, Frame, PageTable, Tcb};
use crate::error::Error;
use cairn_abi::context::{UserContext, USER_CONTEXT_WORDS};
use cairn_abi::Word;

impl Tcb {
    /// `TCB_Configure` with a fault endpoint, in the library's ABI: the
    /// classic Configure stores the cptr (looked up at fault time).
    #[cfg(not(feature = "mcs"))]
    #[allow(clippy::too_many_arguments)] // Configure's, and the fault endpoint.
    pub fn configure_with_fault_ep(
        self,
        fault_ep: CPtr,
        cspace_root: CNode,
        cspace_root_data: Word,
        vspace_root: PageTable,
        vspace_root_data: Word,
        buffer: Word,
        buffer_frame: Frame,
    ) -> Result<(), Error> {
        self.configure(
            fault_ep,
            cspace_root,
            cspace_root_data,
            vspace_root,
            vspace_root_data,
            buffer,
            buffer_frame,
        )
    }

    /// `TCB_Configure` with a fault endpoint, in the library's ABI: MCS's
    /// Configure has none, so a non-null `fault_ep` is then installed as
    /// the thread's fault-handler cap by `TCB_SetSpace` (MCS keeps
    /// handlers as capabilities: an endpoint cap with Send and Grant or
    /// GrantReply).
    #[cfg(feature = "mcs")]
    #[allow(clippy::too_many_arguments)] // Configure's, and the fault endpoint.
    pub fn configure_with_fault_ep(
        self,
        fault_ep: CPtr,
        cspace_root: CNode,
        cspace_root_data: Word,
        vspace_root: PageTable,
        vspace_root_data: Word,
        buffer: Word,
        buffer_frame: Frame,
    ) -> Result<(), Error> {
        self.configure(
            cspace_root,
            cspace_root_data,
            vspace_root,
            vspace_root_data,
            buffer,
            buffer_frame,
        )?;
        if fault_ep != CPtr::NULL {
            self.set_space(
                fault_ep,
                cspace_root,
                cspace_root_data,
                vspace_root,
                vspace_root_data,
            )?;
        }
        Ok(())
    }
}

/// `seL4_UserContext` as its 32 words in ABI order: pc, ra, sp, gp, s0–s11,
/// a0–a7, t0–t6, tp.
pub fn context_to_words(c: &UserContext) -> [Word; USER_CONTEXT_WORDS] {
    let mut w = [0; USER_CONTEXT_WORDS];
    let regs = [c.pc, c.ra, c.sp, c.gp]
        .into_iter()
        .chain(c.s)
        .chain(c.a)
        .chain(c.t)
        .chain([c.tp]);
    for (d, s) in w.iter_mut().zip(regs) {
        *d = s;
    }
    w
}

/// The inverse of [`context_to_words`]; missing words read as 0.
pub fn context_from_words(w: &[Word]) -> UserContext {
    let g = |i: usize| w.get(i).copied().unwrap_or(0);
    let mut c = UserContext {
        pc: g(0),
        ra: g(1),
        sp: g(2),
        gp: g(3),
        tp: g(31),
        ..UserContext::default()
    };
    for (i, r) in c.s.iter_mut().enumerate() {
        *r = g(4 + i);
    }
    for (i, r) in c.a.iter_mut().enumerate() {
        *r = g(16 + i);
    }
    for (i, r) in c.t.iter_mut().enumerate() {
        *r = g(24 + i);
    }
    c
}

/// The flags of `seL4_TCB_CopyRegisters`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyFlags {
    /// Suspend the source first.
    pub suspend_source: bool,
    /// Resume the target afterwards.
    pub resume_target: bool,
    /// Copy the frame registers (pc, ra, sp, gp, s0–s11).
    pub transfer_frame: bool,
    /// Copy the integer registers (a0–a7, t0–t6, tp).
    pub transfer_integer: bool,
    /// Architecture flags (ignored on RISC-V).
    pub arch_flags: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_order() {
        let w: [Word; 32] = core::array::from_fn(|i| 100 + i as Word);
        let c = context_from_words(&w);
        assert_eq!((c.pc, c.ra, c.sp, c.gp), (100, 101, 102, 103));
        assert_eq!(
            (c.s[0], c.s[11], c.a[0], c.a[7], c.t[0], c.t[6], c.tp),
            (104, 115, 116, 123, 124, 130, 131)
        );
        assert_eq!(context_to_words(&c), w);
        // Missing words read as 0.
        assert_eq!(context_from_words(&w[..2]).sp, 0);
    }
}
