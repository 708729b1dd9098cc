//! The invocation stub generator: the `invocations!` macro, which turns the
//! table of the object API ([`super::api`]) into one method per invocation,
//! and the marshalling it expands to. Nothing outside `object/` uses this
//! module; programs call the generated methods.
//!
//! seL4 generates libsel4's stubs from its interface XML with
//! `syscall_stub_gen.py`; this is the same idea as a declarative macro, so
//! the table is plain Rust checked by the compiler and no build-time tool
//! runs. The rules are seL4's (ABI ref §7.1):
//!
//! - **Extra caps.** A parameter whose type is a capability type (it
//!   implements [`Cap`]: [`crate::CNode`], [`crate::Tcb`], …, and
//!   [`crate::CPtr`], as `seL4_CPtr` is a cap type to seL4's generator)
//!   travels as an extra cap, in table order.
//! - **Message words.** Every other parameter is packed into MR0, MR1, …
//!   in table order: a parameter of `n` bits (`bool` 1, `u8` 8, a word 64, a
//!   `seL4_UserContext` 32 words) starts at the next multiple of
//!   `min(n, 64)` bits, so small parameters share a word and a word never
//!   straddles two. The message length is the number of words touched.
//! - **Results.** A method's result is unpacked from the reply's words by
//!   the same rule; reply words the kernel did not send read as 0.
//! - **Errors.** A non-zero reply label is the error ([`Error::from_reply`]).
//!
//! A table entry reads
//!
//! ```text
//! /// doc comment (and any other attribute, e.g. a `cfg`)
//! Type::method(param: ParamType, …) -> ResultType = LABEL;
//! ```
//!
//! where `LABEL` names a constant of `cairn_abi::invocation::label` (the
//! numbers the kernel decodes with), `-> ResultType` is left out for
//! invocations that return nothing, and a parameter whose Rust type groups
//! several seL4 parameters lists them: `src: RotateSlot => [src.index,
//! src.depth]` packs those two values in place of `src`.

use crate::cap::{CPtr, Cap};
use crate::error::Error;
use crate::ipc_buffer::BufferRef;
use crate::message::Message;
use crate::syscall;
use cairn_abi::cap::CapRights;
use cairn_abi::context::{UserContext, USER_CONTEXT_WORDS};
use cairn_abi::message::{MessageInfo, MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH, N_MSG_REGISTERS};
use cairn_abi::object::ObjectType;
use cairn_abi::Word;

/// Bits in a message word.
const WORD_BITS: usize = Word::BITS as usize;

/// An outgoing message under construction, written where it travels:
/// MR0..MR3 here (they go in registers), MR4.. and the extra caps straight
/// into the IPC buffer (as libsel4's stubs call `seL4_SetMR`). Every size
/// and position is a constant of the stub, so after inlining only the
/// stores remain.
pub(crate) struct Marshal {
    label: Word,
    regs: [Word; N_MSG_REGISTERS],
    /// Words touched so far: the message length.
    len: usize,
    n_caps: usize,
    /// The position of the next bit of the message words.
    bit: usize,
    /// The IPC buffer (`None`: none registered, or borrowed by an
    /// enclosing [`crate::ipc_buffer::with_ipc_buffer`]).
    buffer: Option<BufferRef>,
}

impl Marshal {
    /// An empty message with `label`.
    #[inline(always)]
    pub(crate) fn new(label: Word) -> Marshal {
        Marshal {
            label,
            regs: [0; N_MSG_REGISTERS],
            len: 0,
            n_caps: 0,
            bit: 0,
            // Borrowed at once rather than on first use: a few instructions
            // in every stub, but the stub's state stays plain constants the
            // compiler folds away.
            buffer: BufferRef::acquire(),
        }
    }

    /// ORs `bits` into MR *i*, which is either the last word touched or
    /// the next one (the packing rule never skips a word); a word touched
    /// for the first time is written whole, since the buffer holds stale
    /// words. Words beyond seL4's limit are dropped, as in [`Message::new`].
    #[inline(always)]
    fn or_mr(&mut self, i: usize, bits: Word) {
        if i >= MSG_MAX_LENGTH {
            return;
        }
        let fresh = i >= self.len;
        self.len = self.len.max(i + 1);
        if let Some(r) = self.regs.get_mut(i) {
            *r |= bits;
        } else if let Some(b) = &mut self.buffer {
            let old = if fresh { 0 } else { b.mr(i) };
            b.set_mr(i, old | bits);
        }
    }

    /// Packs the low `size` bits of `value` (`size` a power of two up to a
    /// word), aligned to `size`.
    #[inline(always)]
    fn bits(&mut self, value: Word, size: usize) {
        let at = self.bit.next_multiple_of(size);
        let mask = Word::MAX >> (WORD_BITS - size);
        self.or_mr(at / WORD_BITS, (value & mask) << (at % WORD_BITS));
        self.bit = at + size;
    }

    /// Packs one whole word.
    #[inline(always)]
    fn word(&mut self, value: Word) {
        self.bits(value, WORD_BITS);
    }

    /// Appends an extra cap; caps beyond seL4's limit are dropped.
    #[inline(always)]
    fn cap(&mut self, cap: CPtr) {
        let i = self.n_caps;
        if i < MSG_MAX_EXTRA_CAPS {
            if let Some(b) = &mut self.buffer {
                b.set_cap(i, cap.0);
            }
            self.n_caps = i + 1;
        }
    }

    /// The finished message; the IPC buffer is released here, before the
    /// system call (the kernel reads it).
    #[inline(always)]
    pub(crate) fn finish(self) -> Message {
        let info = MessageInfo::new(self.label, 0, self.n_caps as Word, self.len as Word);
        Message::from_parts(info, self.regs)
    }
}

/// A reply being unpacked: the position of the next bit of its words, read
/// where the kernel left them (MR4.. in the IPC buffer, borrowed on first
/// use).
pub(crate) struct Unmarshal<'a> {
    reply: &'a Message,
    bit: usize,
    buffer: Option<Option<BufferRef>>,
}

impl<'a> Unmarshal<'a> {
    /// Unpacks `reply` from its first word.
    #[inline(always)]
    pub(crate) fn new(reply: &'a Message) -> Self {
        Unmarshal {
            reply,
            bit: 0,
            buffer: None,
        }
    }

    /// Reply word *i* (0 past the reply's length).
    #[inline(always)]
    fn mr(&mut self, i: usize) -> Word {
        if i >= self.reply.len() {
            return 0;
        }
        match self.reply.regs().get(i) {
            Some(w) => *w,
            None => self
                .buffer
                .get_or_insert_with(BufferRef::acquire)
                .as_mut()
                .map_or(0, |b| b.mr(i)),
        }
    }

    /// The next `size` bits (aligned as [`Marshal::bits`] packs them).
    #[inline(always)]
    fn bits(&mut self, size: usize) -> Word {
        let at = self.bit.next_multiple_of(size);
        let mask = Word::MAX >> (WORD_BITS - size);
        self.bit = at + size;
        (self.mr(at / WORD_BITS) >> (at % WORD_BITS)) & mask
    }

    /// The next whole word.
    #[inline(always)]
    fn word(&mut self) -> Word {
        self.bits(WORD_BITS)
    }
}

/// How a parameter type travels in an invocation (seL4's `dir="in"`).
pub(crate) trait InParam {
    /// Adds `self` to the message.
    fn marshal(self, m: &mut Marshal);
}

/// How a result type is read from the reply (seL4's `dir="out"`).
pub(crate) trait OutParam: Sized {
    /// Reads `Self` from the reply.
    fn unmarshal(u: &mut Unmarshal<'_>) -> Self;
}

/// Capability types travel as extra caps.
impl<C: Cap> InParam for C {
    #[inline(always)]
    fn marshal(self, m: &mut Marshal) {
        m.cap(self.cptr());
    }
}

/// `seL4_Word`: one word.
impl InParam for Word {
    #[inline(always)]
    fn marshal(self, m: &mut Marshal) {
        m.word(self);
    }
}

/// `seL4_Uint8`: 8 bits.
impl InParam for u8 {
    #[inline(always)]
    fn marshal(self, m: &mut Marshal) {
        m.bits(Word::from(self), 8);
    }
}

/// `seL4_Bool`: 1 bit.
impl InParam for bool {
    #[inline(always)]
    fn marshal(self, m: &mut Marshal) {
        m.bits(Word::from(self), 1);
    }
}

/// `seL4_CapRights_t`: one word (ABI ref §4).
impl InParam for CapRights {
    #[inline(always)]
    fn marshal(self, m: &mut Marshal) {
        m.word(self.0);
    }
}

/// An object type (`seL4_Word` in `seL4_Untyped_Retype`).
impl InParam for ObjectType {
    #[inline(always)]
    fn marshal(self, m: &mut Marshal) {
        m.word(self as Word);
    }
}

/// `seL4_UserContext`: its 32 words in ABI order (ABI ref §10).
impl InParam for &UserContext {
    #[inline(always)]
    fn marshal(self, m: &mut Marshal) {
        for w in super::tcb::context_to_words(self) {
            m.word(w);
        }
    }
}

/// No result.
impl OutParam for () {
    #[inline(always)]
    fn unmarshal(_: &mut Unmarshal<'_>) {}
}

/// One word.
impl OutParam for Word {
    #[inline(always)]
    fn unmarshal(u: &mut Unmarshal<'_>) -> Word {
        u.word()
    }
}

/// `seL4_UserContext`: 32 words.
impl OutParam for UserContext {
    #[inline(always)]
    fn unmarshal(u: &mut Unmarshal<'_>) -> UserContext {
        let words: [Word; USER_CONTEXT_WORDS] = core::array::from_fn(|_| u.word());
        super::tcb::context_from_words(&words)
    }
}

/// Calls `cap` with the marshalled message and unpacks the result: the
/// common tail of every generated stub, as [`super::invoke`].
#[inline(always)]
pub(crate) fn call<R: OutParam>(cap: CPtr, m: Marshal) -> Result<R, Error> {
    let (_badge, reply) = syscall::call(cap, &m.finish());
    match Error::from_reply(&reply) {
        Some(e) => Err(e),
        None => Ok(R::unmarshal(&mut Unmarshal::new(&reply))),
    }
}

/// Expands the table of the object API into methods (see the module doc).
macro_rules! invocations {
    ($(
        $(#[$attr:meta])*
        $object:ident :: $method:ident (
            $($param:ident : $ty:ty $(=> [$($part:expr),+ $(,)?])?),* $(,)?
        ) $(-> $out:ty)? = $label:ident;
    )*) => {$(
        impl $object {
            $(#[$attr])*
            #[allow(clippy::too_many_arguments)] // As seL4's stub, argument for argument.
            #[inline]
            pub fn $method(self, $($param: $ty),*) -> Result<invocations!(@out $($out)?), $crate::Error> {
                #[allow(unused_mut)] // Unchanged when there are no parameters.
                let mut m = $crate::object::stubs::Marshal::new($crate::abi::invocation::label::$label);
                $(invocations!(@in m, $param $(=> [$($part),+])?);)*
                $crate::object::stubs::call(self.cptr(), m)
            }
        }
    )*};
    (@out) => { () };
    (@out $out:ty) => { $out };
    (@in $m:ident, $param:ident) => {
        $crate::object::stubs::InParam::marshal($param, &mut $m)
    };
    (@in $m:ident, $param:ident => [$($part:expr),+]) => {
        $($crate::object::stubs::InParam::marshal($part, &mut $m);)+
    };
}
pub(crate) use invocations;

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::ipc_buffer::testing::install;

    /// (label, words, caps) of what `f` packs.
    fn packed(f: impl FnOnce(&mut Marshal)) -> (Word, Vec<Word>, Vec<Word>) {
        install();
        let mut m = Marshal::new(9);
        f(&mut m);
        let m = m.finish();
        let mut out = [0; 120];
        let caps = (0..m.n_caps()).map(|i| m.cap(i)).collect();
        (m.label(), m.copy_mrs(&mut out).to_vec(), caps)
    }

    #[test]
    fn small_parameters_share_a_word_aligned_to_their_size() {
        // Bool, bool, u8: bits 0, 1, then 8 (aligned up to 8).
        let (label, mrs, _) = packed(|m| {
            true.marshal(m);
            true.marshal(m);
            0xABu8.marshal(m);
        });
        assert_eq!((label, &mrs[..]), (9, &[0b11 | 0xAB << 8][..]));
    }

    #[test]
    fn a_word_after_small_parameters_starts_the_next_word() {
        let (_, mrs, caps) = packed(|m| {
            7u8.marshal(m);
            Word::marshal(0x55, m);
            0u8.marshal(m);
        });
        // The trailing zero u8 still counts towards the length.
        assert_eq!(mrs, [7, 0x55, 0]);
        assert!(caps.is_empty());
    }

    #[test]
    fn words_past_the_registers_overwrite_stale_buffer_words() {
        install();
        crate::ipc_buffer::with_ipc_buffer(|b| b.msg[4..7].fill(Word::MAX));
        let mut m = Marshal::new(9);
        for w in 0..5 {
            Word::marshal(w, &mut m);
        }
        true.marshal(&mut m);
        2u8.marshal(&mut m);
        let m = m.finish();
        let mut out = [0; 8];
        assert_eq!(m.copy_mrs(&mut out), &[0, 1, 2, 3, 4, 1 | 2 << 8]);
    }

    #[test]
    fn caps_go_apart_from_words_in_order() {
        let (_, mrs, caps) = packed(|m| {
            crate::CNode::from_bits(4).marshal(m);
            Word::marshal(1, m);
            CPtr(6).marshal(m);
        });
        assert_eq!((&mrs[..], &caps[..]), (&[1][..], &[4, 6][..]));
    }

    #[test]
    fn results_unpack_by_the_same_rule() {
        install();
        let reply = Message::new(0, &[0x1FF, 42, 0, 0, 7], &[]);
        let mut u = Unmarshal::new(&reply);
        assert_eq!((u.bits(1), u.bits(8)), (1, 0x01));
        assert_eq!(Word::unmarshal(&mut u), 42);
        assert_eq!(u.bit, 2 * WORD_BITS);
        u.bit = 4 * WORD_BITS;
        // From the IPC buffer.
        assert_eq!(Word::unmarshal(&mut u), 7);
        // Past the reply's length: 0.
        assert_eq!(Word::unmarshal(&mut u), 0);
        assert_eq!(u.bit, 6 * WORD_BITS);
    }
}
