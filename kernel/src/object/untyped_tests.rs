//! Host tests of `Untyped_Retype` decoding: every error with seL4's data,
//! in seL4's order, and the watermark arithmetic.

use crate::cap::Cap;
use crate::testutil::{self, err, ok, Outcome, TestKernel};
use cairn_abi::cap::init;
use cairn_abi::error::Error;
use cairn_abi::invocation::label;
use cairn_abi::object::ObjectType as T;

const UNTYPED: u64 = T::Untyped as u64;
const TCB: u64 = T::Tcb as u64;
const EP: u64 = T::Endpoint as u64;
const NTFN: u64 = T::Notification as u64;
const CNODE: u64 = T::CapTable as u64;
const PAGE: u64 = T::SmallPage as u64;

fn e(code: Error, mrs: &[u64]) -> Outcome {
    err(code as u64, mrs)
}

/// A booted kernel and the slot of its 64 KiB RAM untyped.
fn setup() -> (TestKernel, u64) {
    let k = testutil::boot();
    let ut = k.find_untyped(16, false).expect("a 64 KiB untyped");
    (k, ut)
}

fn free_index(k: &TestKernel, slot: u64) -> u64 {
    match k.cap(slot) {
        Cap::Untyped { free_index, .. } => free_index,
        c => panic!("slot {slot} holds {c:?}"),
    }
}

fn call(k: &TestKernel, ut: u64, mrs: &[u64], extra: &[u64]) -> Outcome {
    k.call(ut, label::UNTYPED_RETYPE, mrs, extra)
}

#[test]
fn wrong_label_is_an_illegal_operation() {
    let (k, ut) = setup();
    let r = k.call(
        ut,
        label::CNODE_COPY,
        &[EP, 0, 0, 0, k.first_empty, 1],
        &[init::CNODE],
    );
    assert_eq!(r, e(Error::IllegalOperation, &[]));
}

#[test]
fn short_message_or_missing_root_is_truncated() {
    let (k, ut) = setup();
    let f = k.first_empty;
    assert_eq!(
        call(&k, ut, &[EP, 0, 0, 0, f], &[init::CNODE]),
        e(Error::TruncatedMessage, &[])
    );
    assert_eq!(
        call(&k, ut, &[EP, 0, 0, 0, f, 1], &[]),
        e(Error::TruncatedMessage, &[])
    );
    // Both missing, and a bad type besides: still TruncatedMessage first.
    assert_eq!(call(&k, ut, &[99], &[]), e(Error::TruncatedMessage, &[]));
}

#[test]
fn bad_type_then_size_checks() {
    let (k, ut) = setup();
    let f = k.first_empty;
    // The type is checked before the size.
    assert_eq!(
        k.retype(ut, T::COUNT, 64, f, 1),
        e(Error::InvalidArgument, &[0])
    );
    assert_eq!(
        k.retype(ut, 1 << 40, 0, f, 1),
        e(Error::InvalidArgument, &[0])
    );
    let range = e(Error::RangeError, &[0, 38]);
    // size_bits >= 64 even where the size is ignored (fixed-size types).
    assert_eq!(k.retype(ut, EP, 64, f, 1), range);
    assert_eq!(k.retype(ut, PAGE, u64::MAX, f, 1), range);
    assert_eq!(k.retype(ut, UNTYPED, 39, f, 1), range);
    assert_eq!(k.retype(ut, CNODE, 34, f, 1), range, "2^(34 + 5) > 2^38");
    // Too small: checked after the range.
    assert_eq!(
        k.retype(ut, CNODE, 0, f, 1),
        e(Error::InvalidArgument, &[1])
    );
    assert_eq!(
        k.retype(ut, UNTYPED, 3, f, 1),
        e(Error::InvalidArgument, &[1])
    );
    // Sizes that pass decoding's size checks reach the memory check.
    assert_eq!(
        k.retype(ut, CNODE, 33, f, 1),
        e(Error::NotEnoughMemory, &[1 << 16])
    );
    assert_eq!(
        k.retype(ut, UNTYPED, 38, f, 1),
        e(Error::NotEnoughMemory, &[1 << 16])
    );
}

#[test]
fn destination_lookup_errors() {
    let (k, ut) = setup();
    let f = k.first_empty;
    let args = |index, depth| [EP, 0, index, depth, f, 1];
    // depth > 64.
    assert_eq!(
        call(&k, ut, &args(init::CNODE, 65), &[init::CNODE]),
        e(Error::RangeError, &[1, 64])
    );
    // A root that is not a CNode: InvalidRoot, before the depth check.
    assert_eq!(
        call(&k, ut, &args(init::CNODE, 65), &[init::TCB]),
        e(Error::FailedLookup, &[0, 1])
    );
    // Depth 0 names the root itself; not a CNode: MissingCapability(0).
    assert_eq!(
        call(&k, ut, &args(0, 0), &[init::TCB]),
        e(Error::FailedLookup, &[0, 2, 0])
    );
    // A slot that holds no CNode: MissingCapability(bitsLeft = depth).
    assert_eq!(
        call(&k, ut, &args(f + 5, 64), &[init::CNODE]),
        e(Error::FailedLookup, &[0, 2, 64])
    );
    assert_eq!(
        call(&k, ut, &args(init::TCB, 64), &[init::CNODE]),
        e(Error::FailedLookup, &[0, 2, 64])
    );
    // Too few bits for the root's guard: GuardMismatch(12, 0, 52).
    let radix = k.radix as u64;
    assert_eq!(
        call(&k, ut, &args(init::CNODE, radix), &[init::CNODE]),
        e(Error::FailedLookup, &[0, 4, radix, 0, 64 - radix])
    );
    // The root CNode's own cap, at full depth: a valid destination.
    assert_eq!(call(&k, ut, &args(init::CNODE, 64), &[init::CNODE]), ok());
    assert!(matches!(k.cap(f), Cap::Endpoint { .. }));
}

#[test]
fn window_checks_in_order() {
    let (k, ut) = setup();
    let size = 1u64 << k.radix;
    let f = k.first_empty;
    assert_eq!(
        k.retype(ut, EP, 0, size, 1),
        e(Error::RangeError, &[0, size - 1])
    );
    // The offset is checked before the count.
    assert_eq!(
        k.retype(ut, EP, 0, size, 0),
        e(Error::RangeError, &[0, size - 1])
    );
    assert_eq!(k.retype(ut, EP, 0, f, 0), e(Error::RangeError, &[1, 256]));
    assert_eq!(k.retype(ut, EP, 0, f, 257), e(Error::RangeError, &[1, 256]));
    assert_eq!(
        k.retype(ut, EP, 0, size - 2, 3),
        e(Error::RangeError, &[1, 2])
    );
    // An occupied slot anywhere in the window (slot f + 3 after this).
    assert_eq!(k.retype(ut, EP, 0, f + 3, 1), ok());
    assert_eq!(k.retype(ut, EP, 0, f, 4), e(Error::DeleteFirst, &[]));
    // DeleteFirst comes before NotEnoughMemory.
    assert_eq!(k.retype(ut, PAGE, 0, f, 256), e(Error::DeleteFirst, &[]));
    assert_eq!(k.retype(ut, EP, 0, f, 3), ok());
    assert_eq!(k.retype(ut, EP, 0, size - 1, 1), ok(), "the last slot");
}

#[test]
fn destination_cnode_by_index_and_depth() {
    let (k, ut) = setup();
    let f = k.first_empty;
    assert_eq!(k.retype(ut, CNODE, 4, f, 1), ok());
    let Cap::CNode {
        ptr,
        radix: 4,
        guard_size: 0,
        guard: 0,
    } = k.cap(f)
    else {
        panic!("{:?}", k.cap(f))
    };
    let args = |offset, n| [NTFN, 0, f, 64, offset, n];
    assert_eq!(
        call(&k, ut, &args(16, 1), &[init::CNODE]),
        e(Error::RangeError, &[0, 15])
    );
    assert_eq!(
        call(&k, ut, &args(14, 3), &[init::CNODE]),
        e(Error::RangeError, &[1, 2])
    );
    assert_eq!(call(&k, ut, &args(14, 2), &[init::CNODE]), ok());
    for i in 14..16 {
        let c = crate::cap::cte::cnode_slot(ptr, i).get().cap();
        assert!(matches!(c, Cap::Notification { .. }), "{c:?}");
    }
    assert!(k.cap(f + 1).is_null());
}

#[test]
fn not_enough_memory_reports_reset_adjusted_free_bytes() {
    let k = testutil::boot();
    let f = k.first_empty;
    // The smallest boot RAM untyped, of 2^b bytes.
    let (ut, b) = k
        .untypeds
        .clone()
        .filter_map(|i| match k.cap(i) {
            Cap::Untyped {
                size_bits,
                is_device: false,
                ..
            } => Some((i, size_bits as u64)),
            _ => None,
        })
        .min_by_key(|&(_, b)| b)
        .unwrap();
    let size = 1u64 << b;
    let ut_ty = T::Untyped as u64;
    // A boot untyped starts full, but with no children it will be reset:
    // all of it is available, not 0.
    assert_eq!(free_index(&k, ut), size);
    assert_eq!(
        k.retype(ut, ut_ty, b, f, 2),
        e(Error::NotEnoughMemory, &[size])
    );
    assert_eq!(k.retype(ut, EP, 0, f, 1), ok());
    // With a child the watermark counts: 16 bytes fewer, and the next
    // half-size untyped is aligned past them.
    assert_eq!(
        k.retype(ut, ut_ty, b - 1, f + 1, 2),
        e(Error::NotEnoughMemory, &[size - 16])
    );
    assert_eq!(k.retype(ut, ut_ty, b - 1, f + 1, 1), ok());
    assert_eq!(free_index(&k, ut), size);
    assert_eq!(
        k.retype(ut, EP, 0, f + 2, 1),
        e(Error::NotEnoughMemory, &[0])
    );
}

#[test]
fn device_rules_come_after_the_memory_check() {
    let k = testutil::boot();
    let f = k.first_empty;
    let dev = k.find_untyped(21, true).unwrap();
    for ty in [TCB, EP, NTFN, CNODE, T::PageTable as u64] {
        assert_eq!(
            k.retype(dev, ty, 1, f, 1),
            e(Error::InvalidArgument, &[1]),
            "type {ty}"
        );
    }
    // Too big for the untyped: NotEnoughMemory wins over the device rule.
    assert_eq!(
        k.retype(dev, CNODE, 20, f, 1),
        e(Error::NotEnoughMemory, &[1 << 21])
    );
    assert_eq!(k.retype(dev, UNTYPED, 12, f, 1), ok());
    assert_eq!(
        k.retype(dev, T::MegaPage as u64, 0, f + 1, 1),
        e(Error::NotEnoughMemory, &[(1 << 21) - 4096])
    );
    assert_eq!(k.retype(dev, PAGE, 0, f + 1, 1), ok());
    assert_eq!(free_index(&k, dev), 8192);
}

#[test]
fn watermark_aligns_mixed_sizes() {
    let (k, ut) = setup();
    let f = k.first_empty;
    let Cap::Untyped { ptr, .. } = k.cap(ut) else {
        panic!()
    };
    let at = |slot| match k.cap(slot) {
        Cap::Endpoint { ptr: p, .. } | Cap::Notification { ptr: p, .. } => p.0 - ptr.0,
        Cap::Thread { tcb } => tcb.0 - ptr.0,
        Cap::CNode { ptr: p, .. } => p.0 - ptr.0,
        Cap::Frame { base, .. } => base.0 - ptr.0,
        c => panic!("{c:?}"),
    };
    let tcb = 1u64 << crate::config::TCB_BITS;
    assert_eq!(k.retype(ut, EP, 0, f, 3), ok());
    assert_eq!((at(f), at(f + 1), at(f + 2)), (0, 16, 32));
    assert_eq!(free_index(&k, ut), 48);
    assert_eq!(k.retype(ut, TCB, 0, f + 3, 1), ok());
    assert_eq!(at(f + 3), tcb, "rounded up to the TCB size");
    assert_eq!(free_index(&k, ut), 2 * tcb);
    assert_eq!(k.retype(ut, NTFN, 0, f + 4, 1), ok());
    assert_eq!(at(f + 4), 2 * tcb);
    assert_eq!(k.retype(ut, CNODE, 4, f + 5, 2), ok());
    assert_eq!((at(f + 5), at(f + 6)), (2 * tcb + 512, 2 * tcb + 1024));
    assert_eq!(free_index(&k, ut), 2 * tcb + 1536);
    assert_eq!(k.retype(ut, PAGE, 0, f + 7, 1), ok());
    let page = crate::types::round_up(2 * tcb + 1536, 12);
    assert_eq!(at(f + 7), page, "rounded up to 4 KiB");
    // What is left after that page, in whole pages (the free bytes are
    // reported, not the pages).
    let left = (1 << 16) - page - 4096;
    assert_eq!(
        k.retype(ut, PAGE, 0, f + 8, left / 4096 + 1),
        e(Error::NotEnoughMemory, &[left])
    );
    assert_eq!(k.retype(ut, PAGE, 0, f + 8, left / 4096), ok());
    assert_eq!(free_index(&k, ut), 1 << 16);
}

mod watermark_model {
    use super::*;
    use crate::cap::derive::cap_region;
    use crate::types::round_up;
    use proptest::prelude::*;

    fn request() -> impl Strategy<Value = (u64, u64, u64)> {
        let ty_size = prop_oneof![
            Just((EP, 0)),
            Just((NTFN, 0)),
            Just((TCB, 0)),
            Just((PAGE, 0)),
            (1u64..=6).prop_map(|r| (CNODE, r)),
            (4u64..=14).prop_map(|b| (UNTYPED, b)),
        ];
        (ty_size, 1u64..=20).prop_map(|((t, s), n)| (t, s, n))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Random Retypes from one 64 KiB untyped agree with a model of the
        /// watermark: objects are aligned, inside the untyped, in order, and
        /// NotEnoughMemory reports exactly the free bytes.
        #[test]
        fn retypes_follow_the_watermark_model(reqs in proptest::collection::vec(request(), 1..12)) {
            let (k, ut) = setup();
            let Cap::Untyped { ptr, .. } = k.cap(ut) else { panic!() };
            let mut used: Option<u64> = None; // None: no children yet
            let mut slot = k.first_empty;
            for (ty, size, n) in reqs {
                let t = T::from_word(ty).unwrap();
                let bits = crate::object::create::object_size_bits(t, size as u32);
                let start = used.unwrap_or(0);
                let avail = (1u64 << 16) - start;
                let r = k.retype(ut, ty, size, slot, n);
                if (avail >> bits) < n {
                    prop_assert_eq!(r, e(Error::NotEnoughMemory, &[avail]));
                    continue;
                }
                prop_assert_eq!(r, ok());
                let base = round_up(ptr.0 + start, bits);
                for i in 0..n {
                    let c = k.cap(slot + i);
                    prop_assert_eq!(cap_region(&c), Some((base + (i << bits), bits)));
                }
                used = Some(base + (n << bits) - ptr.0);
                prop_assert_eq!(free_index(&k, ut), used.unwrap());
                slot += n;
            }
        }
    }
}
