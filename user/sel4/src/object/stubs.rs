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
use crate::message::Message;
use crate::syscall;
use cairn_abi::cap::CapRights;
use cairn_abi::context::{UserContext, USER_CONTEXT_WORDS};
use cairn_abi::object::ObjectType;
use cairn_abi::Word;

/// Bits in a message word.
const WORD_BITS: usize = Word::BITS as usize;

/// An outgoing message under construction: the position of the next bit
/// of the message words.
pub(crate) struct Marshal {
    msg: Message,
    bit: usize,
}

impl Marshal {
    /// An empty message with `label`.
    #[inline(always)]
    pub(crate) fn new(label: Word) -> Marshal {
        Marshal {
            msg: Message::empty(label),
            bit: 0,
        }
    }

    /// Packs the low `size` bits of `value` (`size` a power of two up to a
    /// word), aligned to `size`.
    #[inline(always)]
    fn bits(&mut self, value: Word, size: usize) {
        let at = self.bit.next_multiple_of(size);
        let mask = Word::MAX >> (WORD_BITS - size);
        self.msg
            .or_mr(at / WORD_BITS, (value & mask) << (at % WORD_BITS));
        self.bit = at + size;
    }

    /// Packs one whole word.
    #[inline(always)]
    fn word(&mut self, value: Word) {
        self.bits(value, WORD_BITS);
    }

    /// Appends an extra cap.
    #[inline(always)]
    fn cap(&mut self, cap: CPtr) {
        self.msg.push_cap(cap);
    }

    /// The finished message.
    #[inline(always)]
    pub(crate) fn finish(self) -> Message {
        self.msg
    }
}

/// A reply being unpacked: the position of the next bit of its words.
pub(crate) struct Unmarshal<'a> {
    reply: &'a Message,
    bit: usize,
}

impl Unmarshal<'_> {
    /// The next `size` bits (aligned as [`Marshal::bits`] packs them).
    #[inline(always)]
    fn bits(&mut self, size: usize) -> Word {
        let at = self.bit.next_multiple_of(size);
        let mask = Word::MAX >> (WORD_BITS - size);
        self.bit = at + size;
        (self.reply.mr(at / WORD_BITS) >> (at % WORD_BITS)) & mask
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
/// common tail of every generated stub. As [`super::invoke`], but the reply
/// is read where `seL4_Call` left it: moving a [`Message`] (about 1 KiB)
/// costs more instructions than the rest of the stub.
#[inline(always)]
pub(crate) fn call<R: OutParam>(cap: CPtr, m: Marshal) -> Result<R, Error> {
    let answer = syscall::call(cap, &m.finish());
    let reply = &answer.1;
    match Error::from_reply(reply) {
        Some(e) => Err(e),
        None => Ok(R::unmarshal(&mut Unmarshal { reply, bit: 0 })),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(f: impl FnOnce(&mut Marshal)) -> Message {
        let mut m = Marshal::new(9);
        f(&mut m);
        m.finish()
    }

    #[test]
    fn small_parameters_share_a_word_aligned_to_their_size() {
        // Bool, bool, u8: bits 0, 1, then 8 (aligned up to 8).
        let m = packed(|m| {
            true.marshal(m);
            true.marshal(m);
            0xABu8.marshal(m);
        });
        assert_eq!((m.label(), m.mrs()), (9, &[0b11 | 0xAB << 8][..]));
    }

    #[test]
    fn a_word_after_small_parameters_starts_the_next_word() {
        let m = packed(|m| {
            7u8.marshal(m);
            Word::marshal(0x55, m);
            0u8.marshal(m);
        });
        // The trailing zero u8 still counts towards the length.
        assert_eq!(m.mrs(), &[7, 0x55, 0]);
        assert!(m.caps().is_empty());
    }

    #[test]
    fn caps_go_apart_from_words_in_order() {
        let m = packed(|m| {
            crate::CNode::from_bits(4).marshal(m);
            Word::marshal(1, m);
            CPtr(6).marshal(m);
        });
        assert_eq!((m.mrs(), m.caps()), (&[1][..], &[4, 6][..]));
    }

    #[test]
    fn results_unpack_by_the_same_rule() {
        let reply = Message::new(0, &[0x1FF, 42], &[]);
        let mut u = Unmarshal {
            reply: &reply,
            bit: 0,
        };
        assert_eq!((u.bits(1), u.bits(8)), (1, 0x01));
        assert_eq!(Word::unmarshal(&mut u), 42);
        // Past the reply's length: 0.
        assert_eq!(Word::unmarshal(&mut u), 0);
        assert_eq!(u.bit, 3 * WORD_BITS);
    }
}
