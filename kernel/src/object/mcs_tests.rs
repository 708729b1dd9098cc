//! Host tests of the MCS objects through real system calls (the MCS
//! kernel build only): retyping SchedContexts and Reply objects with
//! seL4's checks, and the capability rules seL4's MCS gives reply caps
//! (derivable, Grant their only right, invocable).

use crate::cap::Cap;
use crate::object::access::copy_out;
use crate::testutil::{self, err, ok, TestKernel};
use cairn_abi::cap::{init, tag, CapRights};
use cairn_abi::error::Error;
use cairn_abi::invocation::label as l;
use cairn_abi::object::{ObjectType as T, MIN_SCHED_CONTEXT_BITS, REPLY_BITS};

/// A booted kernel and the slot of a 64 KiB RAM untyped.
fn setup() -> (TestKernel, u64) {
    let k = testutil::boot();
    let ut = k.find_untyped(16, false).expect("a 64 KiB untyped");
    (k, ut)
}

fn cnode(k: &TestKernel, label: u64, mrs: &[u64]) -> testutil::Outcome {
    k.call(init::CNODE, label, mrs, &[init::CNODE])
}

#[test]
fn reply_objects_are_retyped_zeroed_with_a_granting_cap() {
    let (k, ut) = setup();
    let f = k.first_empty;
    crate::object::access::copy_in(
        match k.cap(ut) {
            Cap::Untyped { ptr, .. } => ptr,
            c => panic!("{c:?}"),
        },
        &[0xAB; 256],
    );
    assert_eq!(k.retype(ut, T::Reply as u64, 0, f, 3), ok());
    let Cap::Untyped { ptr: base, .. } = k.cap(ut) else {
        panic!()
    };
    for i in 0..3 {
        let c = k.cap(f + i);
        assert_eq!(
            c,
            Cap::ReplyObject {
                ptr: base.add(i << REPLY_BITS),
                can_grant: true
            }
        );
        assert_eq!(c.tag(), tag::REPLY);
        assert_eq!(Cap::decode(c.encode()), c);
    }
    let mut bytes = [0xFFu8; 96];
    copy_out(base, &mut bytes);
    assert!(bytes.iter().all(|&b| b == 0), "reply objects are zeroed");
}

#[test]
fn sched_contexts_below_the_minimum_size_are_refused() {
    let (k, ut) = setup();
    let f = k.first_empty;
    let small = MIN_SCHED_CONTEXT_BITS as u64 - 1;
    assert_eq!(
        k.retype(ut, T::SchedContext as u64, small, f, 1),
        err(Error::InvalidArgument as u64, &[1])
    );
    assert!(k.cap(f).is_null());
    assert_eq!(
        k.retype(
            ut,
            T::SchedContext as u64,
            MIN_SCHED_CONTEXT_BITS as u64,
            f,
            1
        ),
        ok()
    );
    assert!(matches!(k.cap(f), Cap::SchedContext { size_bits, .. }
        if size_bits as u32 == MIN_SCHED_CONTEXT_BITS));
}

#[test]
fn mcs_objects_are_not_made_in_device_memory() {
    let k = testutil::boot();
    let Some(dev) = k.untypeds.clone().find(
        |&i| matches!(k.cap(i), Cap::Untyped { is_device: true, size_bits, .. } if size_bits >= 12),
    ) else {
        panic!("no device untyped")
    };
    let f = k.first_empty;
    for (ty, size) in [(T::Reply, 0), (T::SchedContext, 8)] {
        assert_eq!(
            k.retype(dev, ty as u64, size, f, 1),
            err(Error::InvalidArgument as u64, &[1]),
            "{ty:?}"
        );
    }
}

/// MCS reply caps copy and mint (seL4's MCS deriveCap keeps them, where
/// the classic kernel refuses), masking Grant; the copies are children
/// of the original, so a revoke removes them, and the last cap leaves at
/// once.
#[test]
fn reply_caps_derive_mask_grant_and_revoke() {
    let (k, ut) = setup();
    let f = k.first_empty;
    assert_eq!(k.retype(ut, T::Reply as u64, 0, f, 1), ok());
    let Cap::ReplyObject { ptr, .. } = k.cap(f) else {
        panic!()
    };
    assert_eq!(
        cnode(&k, l::CNODE_COPY, &[f + 1, 64, f, 64, CapRights::ALL.0]),
        ok()
    );
    assert_eq!(
        k.cap(f + 1),
        Cap::ReplyObject {
            ptr,
            can_grant: true
        }
    );
    let rw = CapRights::READ_WRITE.0;
    assert_eq!(
        cnode(&k, l::CNODE_MINT, &[f + 2, 64, f, 64, rw, 0x55]),
        ok()
    );
    assert_eq!(
        k.cap(f + 2),
        Cap::ReplyObject {
            ptr,
            can_grant: false
        }
    );
    assert_eq!(cnode(&k, l::CNODE_REVOKE, &[f, 64]), ok());
    assert!(k.cap(f + 1).is_null() && k.cap(f + 2).is_null());
    assert_eq!(
        k.cap(f),
        Cap::ReplyObject {
            ptr,
            can_grant: true
        }
    );
    assert_eq!(cnode(&k, l::CNODE_DELETE, &[f, 64]), ok());
    assert!(k.cap(f).is_null());
    // Its memory is free for the untyped again.
    assert_eq!(k.retype(ut, T::Reply as u64, 0, f, 1), ok());
    assert_eq!(
        k.cap(f),
        Cap::ReplyObject {
            ptr,
            can_grant: true
        }
    );
}

/// Invoking a reply cap replies to the thread waiting on the object; with
/// none (nothing links one before MCS IPC), seL4 does nothing, and a
/// Call gets the empty reply.
#[test]
fn invoking_an_unlinked_reply_object_does_nothing() {
    let (k, ut) = setup();
    let f = k.first_empty;
    assert_eq!(k.retype(ut, T::Reply as u64, 0, f, 1), ok());
    assert_eq!(k.call(f, 0, &[1, 2], &[]), ok());
    assert!(matches!(k.cap(f), Cap::ReplyObject { .. }));
}

/// `SchedContext_Consumed` replies with one word, the µs consumed (none:
/// nothing charges time yet), and clears it; `SchedContext_Unbind` of
/// the caller's own SchedContext is IllegalOperation (seL4's "cannot
/// unbind sc of current thread"), of an unbound one a success; labels
/// not performed yet are IllegalOperation.
#[test]
fn consumed_and_unbind_with_sel4s_checks() {
    let (k, ut) = setup();
    assert_eq!(
        k.call(init::SC, l::SCHED_CONTEXT_CONSUMED, &[], &[]),
        ok_word(0)
    );
    assert_eq!(
        k.call(init::SC, l::SCHED_CONTEXT_UNBIND, &[], &[]),
        err(Error::IllegalOperation as u64, &[])
    );
    let Cap::SchedContext { ptr, .. } = k.cap(init::SC) else {
        panic!()
    };
    assert_eq!(k.tcb.get().sched_context(), Some(ptr), "still bound");
    let f = k.first_empty;
    assert_eq!(k.retype(ut, T::SchedContext as u64, 8, f, 1), ok());
    assert_eq!(k.call(f, l::SCHED_CONTEXT_UNBIND, &[], &[]), ok());
    assert_eq!(k.call(f, l::SCHED_CONTEXT_CONSUMED, &[], &[]), ok_word(0));
    for label in [
        l::SCHED_CONTEXT_BIND,
        l::SCHED_CONTEXT_YIELD_TO,
        l::CNODE_COPY,
    ] {
        assert_eq!(
            k.call(f, label, &[], &[init::TCB]),
            err(Error::IllegalOperation as u64, &[]),
            "label {label}"
        );
    }
}

fn ok_word(w: u64) -> testutil::Outcome {
    testutil::Outcome::Reply {
        label: 0,
        mrs: vec![w],
    }
}
