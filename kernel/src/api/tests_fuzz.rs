//! Random invocations of every kind of capability ("the kernel never
//! panics, hangs or corrupts state on anything user space does"): the root
//! thread of a simulated kernel invokes random slots (boot caps and objects
//! of every type it made) with random labels, message words (boundary
//! values mixed in) and extra caps, as Call, Send or NBSend. Every call
//! must end in a reply with seL4's success or error label, or in the
//! thread blocking or stopping (IPC, Suspend of itself), never in a kernel
//! panic; a dangling object pointer would panic the simulated machine's
//! address translation. The CSpace-specific invariants are
//! `cap::proptests`' business; the IPC ones `ipc::tests::props`'.

use crate::object::tcb::ThreadState;
use crate::testutil::{boot, Outcome, TestKernel};
use cairn_abi::cap::init;
use cairn_abi::object::ObjectType as T;
use proptest::prelude::*;

/// One random invocation.
#[derive(Clone, Debug)]
struct Call {
    /// Index into the candidate cptrs.
    target: usize,
    label: u64,
    mrs: Vec<u64>,
    /// Indices into the candidate cptrs.
    extra: Vec<usize>,
}

fn word() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..64u64,
        Just(u64::MAX),
        Just(1 << 63),
        Just(0x4000_0000),
        Just(0x3F_FFFF_F000),
        any::<u64>(),
    ]
}

fn call() -> impl Strategy<Value = Call> {
    (
        0..64usize,
        0..48u64,
        proptest::collection::vec(word(), 0..7),
        proptest::collection::vec(0..64usize, 0..4),
    )
        .prop_map(|(target, label, mrs, extra)| Call {
            target,
            label,
            mrs,
            extra,
        })
}

/// The cptrs the calls aim at: the boot caps (not the root CNode, VSpace
/// and TCB themselves, whose loss would end the run rather than test
/// anything), objects of every type, and some empty slots.
fn candidates(k: &TestKernel) -> Vec<u64> {
    let mut v = vec![
        init::IRQ_CONTROL,
        init::ASID_CONTROL,
        init::ASID_POOL,
        init::DOMAIN,
        init::IPC_BUFFER,
        init::BOOT_INFO_FRAME,
        0,
    ];
    v.extend(k.untypeds.clone().take(4));
    for (t, size) in [
        (T::Endpoint, 0),
        (T::Notification, 0),
        (T::Tcb, 0),
        (T::CapTable, 4),
        (T::SmallPage, 0),
        (T::PageTable, 0),
        (T::Untyped, 16),
    ] {
        v.extend(k.make(t, size, 2));
    }
    v.extend(k.first_empty..k.first_empty + 8);
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_invocations_get_sel4_answers(calls in proptest::collection::vec(call(), 1..120)) {
        let k = boot();
        let cands = candidates(&k);
        let pick = |i: usize| cands[i % cands.len()];
        for c in &calls {
            let extra: Vec<u64> = c.extra.iter().map(|&i| pick(i)).collect();
            let out = k.call(pick(c.target), c.label, &c.mrs, &extra);
            if let Outcome::Reply { label, .. } = out {
                let t = k.tcb.get().state();
                // A reply label is 0 or a seL4 error; a thread that blocked
                // (an endpoint Call) or stopped has no reply to judge.
                if t.is_runnable() {
                    prop_assert!(label <= 10, "label {} for {:?}", label, c);
                }
            }
            // The next call is a new kernel entry of a running thread: one
            // that blocked in IPC is taken out of it first.
            crate::ipc::cancel_ipc(k.tcb);
            crate::sched::dequeue(k.tcb);
            k.tcb.get().set_state(ThreadState::Running);
            crate::state::kernel().current.set(k.tcb.paddr().0);
        }
    }
}
