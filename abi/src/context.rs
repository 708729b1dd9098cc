//! `seL4_UserContext`: the register order of Read/Write/CopyRegisters
//! (ABI ref §10).

use crate::Word;

/// `seL4_UserContext`: 32 words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct UserContext {
    /// Program counter (reads FaultIP).
    pub pc: Word,
    /// x1.
    pub ra: Word,
    /// x2.
    pub sp: Word,
    /// x3.
    pub gp: Word,
    /// s0..s11.
    pub s: [Word; 12],
    /// a0..a7.
    pub a: [Word; 8],
    /// t0..t6.
    pub t: [Word; 7],
    /// x4.
    pub tp: Word,
}

/// Number of words in `seL4_UserContext`.
pub const USER_CONTEXT_WORDS: usize = 32;
/// Indices 0..16 are the "frame registers" (pc, ra, sp, gp, s0-s11).
pub const FRAME_REGISTERS: usize = 16;
/// Indices 16..32 are the "gp registers" (a0-a7, t0-t6, tp).
pub const GP_REGISTERS: usize = 16;
