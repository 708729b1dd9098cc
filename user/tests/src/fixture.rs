//! Shared fixture of the `cnode` and `retype` suites: fresh root-CNode
//! slots, a scratch untyped that is revoked before every test so each test
//! starts with the same memory, and short forms of the CNode and Untyped
//! invocations addressed at full depth in the root CNode.
//!
//! - **Slots** come from the *top* of BootInfo's empty region downwards and
//!   are never reused, so a test that fails half-way cannot leave a cap
//!   where a later test expects an empty slot, and the runtime's
//!   `SlotAllocator` (which counts upwards) does not meet them soon.
//! - **Memory** comes from the *pool*: a child untyped of at most
//!   2^[`POOL_BITS`] bytes carved once from the largest RAM untyped.
//!   [`Env::new`] revokes it, which deletes every object the previous test
//!   made from it (and every cap derived from those); its next retype resets
//!   it to offset 0 (ch. 2 Objects, *Untyped Memory*; ABI ref §6.6).
//!   If Revoke is broken the pool just fills up; tests then fail with
//!   NotEnoughMemory rather than in confusing ways.
//!
//! Nothing here may fault the root task: every cptr passed as an invoked
//! cap or extra cap is below 2^radix, so its full-depth lookup succeeds
//! (an empty slot is a null cap, which the kernel reports as an error).

use crate::framework::{Ctx, Failure};
use core::sync::atomic::{AtomicU64, Ordering};
use sel4::cap::init_caps;
use sel4::{tag, CNode, CPtr, CapRights, Error, ObjectType, Untyped, Word};

/// Largest pool carved from the biggest RAM untyped: 16 MiB, room for a
/// 2 MiB frame and a few hundred small objects per test.
pub const POOL_BITS: u8 = 24;

/// Depth at which a root-CNode slot index is resolved (guard 64 − R plus
/// radix R, ABI ref §6.5).
pub const FULL: u8 = 64;

/// Next slot to hand out, counting down; 0 before the first test.
static NEXT_SLOT: AtomicU64 = AtomicU64::new(0);
/// Lowest slot that may be handed out.
static SLOT_FLOOR: AtomicU64 = AtomicU64::new(0);
/// The pool's slot, 0 until carved.
static POOL: AtomicU64 = AtomicU64::new(0);
/// log2 of the pool's size.
static POOL_SIZE_BITS: AtomicU64 = AtomicU64::new(0);

/// The root CNode.
pub const ROOT: CNode = init_caps::CNODE;

/// Fails with a formatted reason (for `?` in helpers).
macro_rules! failure {
    ($($arg:tt)*) => { $crate::framework::Failure::new(format_args!($($arg)*)) };
}
pub(crate) use failure;

/// What a test gets: its context and the facts it needs about the root CNode.
pub struct Env<'a> {
    /// The test context.
    pub ctx: &'a Ctx<'a>,
    /// The root CNode's radix R (its guard is 64 − R bits of 0).
    pub radix: u32,
}

impl<'a> Env<'a> {
    /// Sets up a test: carves the pool on first use, else revokes it.
    pub fn new(ctx: &'a Ctx<'a>) -> Result<Env<'a>, Failure> {
        let env = Env {
            ctx,
            radix: ctx.bi.cnode_size_bits() as u32,
        };
        if NEXT_SLOT.load(Ordering::Relaxed) == 0 {
            let e = ctx.bi.empty();
            NEXT_SLOT.store(e.end, Ordering::Relaxed);
            SLOT_FLOOR.store(e.start, Ordering::Relaxed);
        }
        if POOL.load(Ordering::Relaxed) == 0 {
            env.carve_pool()?;
        } else {
            // Errors ignored on purpose: see the module doc.
            let _ = ROOT.revoke(POOL.load(Ordering::Relaxed), FULL);
        }
        Ok(env)
    }

    fn carve_pool(&self) -> Result<(), Failure> {
        let Some(big) = self
            .ctx
            .bi
            .untypeds()
            .filter(|u| !u.is_device)
            .max_by_key(|u| u.size_bits)
        else {
            return Err(failure!("no RAM untyped for the test pool"));
        };
        let bits = big.size_bits.min(POOL_BITS);
        let slot = self.slot()?;
        big.cap
            .retype(ObjectType::Untyped, Word::from(bits), ROOT, 0, 0, slot, 1)
            .map_err(|e| failure!("carving the {bits}-bit test pool: {e}"))?;
        POOL.store(slot, Ordering::Relaxed);
        POOL_SIZE_BITS.store(u64::from(bits), Ordering::Relaxed);
        // MCS: the root thread's reply object lives for the whole run, so
        // it comes from beside the pool, not from it (the pool is revoked
        // before every test).
        #[cfg(sel4_mcs)]
        {
            let reply = self.slot()?;
            big.cap
                .retype(ObjectType::Reply, 0, ROOT, 0, 0, reply, 1)
                .map_err(|e| failure!("the root thread's reply object: {e}"))?;
            crate::forms::set_root_reply(reply);
            // The root thread's round-robin budget as its threads' (see
            // `forms::BUDGET_US` for why not seL4's 5 ms).
            let control = sel4::SchedControl::from_bits(self.ctx.bi.sched_control().start);
            let b = crate::forms::BUDGET_US;
            control
                .configure_flags(sel4::cap::init_caps::SC, b, b, 0, 0, 0)
                .map_err(|e| failure!("the root thread's SchedContext: {e}"))?;
        }
        Ok(())
    }

    /// The pool untyped.
    pub fn pool(&self) -> Untyped {
        Untyped::from_bits(POOL.load(Ordering::Relaxed))
    }

    /// log2 of the pool's size.
    pub fn pool_bits(&self) -> u32 {
        POOL_SIZE_BITS.load(Ordering::Relaxed) as u32
    }

    /// A fresh, empty root-CNode slot.
    pub fn slot(&self) -> Result<Word, Failure> {
        self.slots(1)
    }

    /// `n` fresh consecutive root-CNode slots; returns the first.
    pub fn slots(&self, n: Word) -> Result<Word, Failure> {
        let next = NEXT_SLOT.load(Ordering::Relaxed);
        let floor = SLOT_FLOOR.load(Ordering::Relaxed);
        match next.checked_sub(n) {
            Some(first) if first >= floor && n > 0 => {
                NEXT_SLOT.store(first, Ordering::Relaxed);
                Ok(first)
            }
            _ => Err(failure!("out of test slots ({n} wanted)")),
        }
    }

    /// One object made from the pool into a fresh root slot.
    pub fn create(&self, t: ObjectType, size_bits: u32) -> Result<Word, Failure> {
        let slot = self.slot()?;
        self.pool()
            .retype(t, Word::from(size_bits), ROOT, 0, 0, slot, 1)
            .map_err(|e| failure!("retype of {t:?} ({size_bits}) from the pool: {e}"))?;
        Ok(slot)
    }

    /// A fresh untyped of 2^`bits` bytes (no children, offset 0).
    pub fn untyped(&self, bits: u32) -> Result<Untyped, Failure> {
        self.create(ObjectType::Untyped, bits)
            .map(Untyped::from_bits)
    }

    /// A fresh endpoint; returns its slot.
    pub fn endpoint(&self) -> Result<Word, Failure> {
        self.create(ObjectType::Endpoint, 0)
    }

    /// A fresh CNode of 2^`radix` slots (guard 0); returns its root slot.
    pub fn cnode(&self, radix: u32) -> Result<Word, Failure> {
        self.create(ObjectType::CapTable, radix)
    }

    /// A root slot holding a copy of the root TCB cap (a cap that Mutate
    /// and Rotate accept and that has no rights to mask).
    pub fn tcb_copy(&self) -> Result<Word, Failure> {
        let slot = self.slot()?;
        copy(slot, init_caps::TCB.bits(), CapRights::ALL)
            .map_err(|e| failure!("copying the root TCB cap: {e}"))?;
        Ok(slot)
    }

    /// The guard mismatch a root-CNode lookup of `depth` < 64 − R bits gives.
    pub fn short_depth_failure(&self, depth: u8) -> sel4::LookupFailure {
        sel4::LookupFailure::GuardMismatch {
            bits_left: Word::from(depth),
            guard_found: 0,
            bits_found: 64 - Word::from(self.radix),
        }
    }
}

/// `seL4_DebugCapIdentify` of a root slot.
pub fn id(slot: Word) -> Word {
    sel4::debug::cap_identify(CPtr(slot))
}

/// Fails unless root slot `slot` holds a cap with type tag `tag`.
pub fn expect_tag(slot: Word, tag: Word, what: &str) -> Result<(), Failure> {
    let got = id(slot);
    if got == tag {
        Ok(())
    } else {
        Err(failure!(
            "{what} (slot {slot:#x}): cap type {got}, expected {tag}"
        ))
    }
}

/// Fails unless each root slot holds a cap of its type: `(slot, tag)`.
pub fn expect_tags(pairs: &[(Word, Word)], what: &str) -> Result<(), Failure> {
    for &(slot, want) in pairs {
        expect_tag(slot, want, what)?;
    }
    Ok(())
}

/// The type tag of the cap in slot `index` of the CNode at root slot
/// `cnode`, `depth` bits resolved from that CNode (its radix, if its guard
/// is 0); [`tag::NULL`] if the slot is empty. The cap is read by copying
/// it to a fresh root slot, which is emptied again, so the slot keeps its
/// cap; a cap that cannot be copied (an untyped with children, a zombie)
/// fails the test, as does any lookup error.
pub fn nested_tag(env: &Env<'_>, cnode: Word, index: Word, depth: u8) -> Result<Word, Failure> {
    let out = env.slot()?;
    match ROOT.copy(
        out,
        FULL,
        CNode::from_bits(cnode),
        index,
        depth,
        CapRights::ALL,
    ) {
        Ok(()) => {
            let got = id(out);
            delete(out).map_err(|e| failure!("deleting the copy in slot {out:#x}: {e}"))?;
            Ok(got)
        }
        Err(e) if e == missing(true, Word::from(depth)) => Ok(tag::NULL),
        Err(e) => Err(failure!(
            "reading slot {index:#x} (depth {depth}) of the CNode in slot {cnode:#x}: {e}"
        )),
    }
}

/// Fails unless slot `index` (at `depth`) of the CNode at root slot `cnode`
/// holds a cap with type tag `want` ([`tag::NULL`]: is empty).
pub fn expect_nested_tag(
    env: &Env<'_>,
    cnode: Word,
    index: Word,
    depth: u8,
    want: Word,
    what: &str,
) -> Result<(), Failure> {
    let got = nested_tag(env, cnode, index, depth)?;
    if got == want {
        Ok(())
    } else {
        Err(failure!(
            "{what} (slot {index:#x} of CNode {cnode:#x}): cap type {got}, expected {want}"
        ))
    }
}

/// Fails unless `r` succeeded.
/// `got` must equal `want`.
pub fn expect_eq<T: PartialEq + core::fmt::Debug>(
    got: T,
    want: T,
    what: &str,
) -> Result<(), Failure> {
    if got == want {
        Ok(())
    } else {
        Err(failure!("{what}: got {got:?}, wanted {want:?}"))
    }
}

pub fn expect_ok<T>(r: Result<T, Error>, what: &str) -> Result<T, Failure> {
    r.map_err(|e| failure!("{what}: {e}, expected success"))
}

/// Fails unless `r` is exactly the error `want`.
pub fn expect_err<T>(r: Result<T, Error>, want: Error, what: &str) -> Result<(), Failure> {
    match r {
        Ok(_) => Err(failure!("{what}: succeeded, expected {want}")),
        Err(e) if e == want => Ok(()),
        Err(e) => Err(failure!("{what}: {e}, expected {want}")),
    }
}

/// `FailedLookup` with the given side and failure.
pub const fn failed_lookup(source: bool, failure: sel4::LookupFailure) -> Error {
    Error::FailedLookup { source, failure }
}

/// `FailedLookup`, MissingCapability(`bits_left`).
pub const fn missing(source: bool, bits_left: Word) -> Error {
    failed_lookup(source, sel4::LookupFailure::MissingCapability { bits_left })
}

/// `RangeError(min, max)`.
pub const fn range(min: Word, max: Word) -> Error {
    Error::RangeError { min, max }
}

/// Root CNode Copy, both slots at full depth.
pub fn copy(dest: Word, src: Word, rights: CapRights) -> Result<(), Error> {
    ROOT.copy(dest, FULL, ROOT, src, FULL, rights)
}

/// Root CNode Mint, both slots at full depth.
pub fn mint(dest: Word, src: Word, rights: CapRights, data: Word) -> Result<(), Error> {
    ROOT.mint(dest, FULL, ROOT, src, FULL, rights, data)
}

/// Root CNode Move, both slots at full depth.
pub fn move_(dest: Word, src: Word) -> Result<(), Error> {
    ROOT.move_(dest, FULL, ROOT, src, FULL)
}

/// Root CNode Mutate, both slots at full depth.
pub fn mutate(dest: Word, src: Word, data: Word) -> Result<(), Error> {
    ROOT.mutate(dest, FULL, ROOT, src, FULL, data)
}

/// Root CNode Delete at full depth.
pub fn delete(slot: Word) -> Result<(), Error> {
    ROOT.delete(slot, FULL)
}

/// Root CNode Revoke at full depth.
pub fn revoke(slot: Word) -> Result<(), Error> {
    ROOT.revoke(slot, FULL)
}

/// Retypes `n` objects from `ut` into root slots `dest..dest + n`.
pub fn retype(
    ut: Untyped,
    t: ObjectType,
    size_bits: Word,
    dest: Word,
    n: Word,
) -> Result<(), Error> {
    ut.retype(t, size_bits, ROOT, 0, 0, dest, n)
}

/// Retypes `n` objects from `ut` into slots `offset..offset + n` of the
/// CNode at root slot `cnode`.
pub fn retype_into(
    ut: Untyped,
    t: ObjectType,
    cnode: Word,
    offset: Word,
    n: Word,
) -> Result<(), Error> {
    ut.retype(t, 0, ROOT, cnode, Word::from(FULL), offset, n)
}

/// Sends a raw invocation `label` with `mrs` and extra caps `caps` to `cap`.
pub fn raw(cap: Word, label: Word, mrs: &[Word], caps: &[Word]) -> Result<(), Error> {
    let mut c = [CPtr::NULL; 3];
    for (d, s) in c.iter_mut().zip(caps) {
        *d = CPtr(*s);
    }
    let n = caps.len().min(3);
    let msg = sel4::Message::new(label, mrs, c.get(..n).unwrap_or(&[]));
    sel4::object::invoke(CPtr(cap), &msg).map(drop)
}

/// The untyped list's device untypeds, smallest first among those of at
/// least 2^`min_bits` bytes.
pub fn device_untyped(ctx: &Ctx<'_>, min_bits: u8) -> Option<sel4::UntypedInfo> {
    ctx.bi
        .untypeds()
        .filter(|u| u.is_device && u.size_bits >= min_bits)
        .min_by_key(|u| u.size_bits)
}
