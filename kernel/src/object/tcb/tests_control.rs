//! Host tests of the TCB invocations that change a thread's configuration
//! (seL4's ThreadControl): Configure, SetSpace, SetIPCBuffer, SetPriority,
//! SetMCPriority, SetSchedParams, with every error's exact data and order.

use super::tests::{
    free, new_tcb, thread_with_cap, ALIGNMENT, ILLEGAL, INVALID_CAP, RANGE, REVOKE_FIRST, TRUNCATED,
};
use super::{Tcb, TcbRef, TCB_BUFFER, TCB_CTABLE, TCB_VTABLE};
use crate::cap::Cap;
use crate::sched::{action, Action};
use crate::testutil::{boot, err, ok, Outcome, TestKernel};
use cairn_abi::cap::{cnode_cap_data, init};
use cairn_abi::invocation::label as l;
use cairn_abi::object::ObjectType;

const BUF: u64 = 0x2_0000;

fn slot_cap(t: TcbRef, i: usize) -> Cap {
    Tcb::slot(t, i).get().cap()
}

const MCS: bool = crate::config::KERNEL_MCS;

/// `Configure(fault_ep, croot_data, vroot_data, buffer)` with extra caps
/// (croot, vroot, frame); MCS's form has no fault endpoint (`mrs[0]` is
/// left out).
fn configure(k: &TestKernel, tcb: u64, mrs: [u64; 4], caps: [u64; 3]) -> Outcome {
    let mrs = if MCS { &mrs[1..] } else { &mrs[..] };
    k.call(tcb, l::TCB_CONFIGURE, mrs, &caps)
}

/// `SetSpace(fault_ep, croot_data, vroot_data)` with (croot, vroot) in
/// the classic form; MCS's has no fault endpoint word and takes the fault
/// handler cap first (here an empty slot: no handler).
fn set_space(k: &TestKernel, tcb: u64, mrs: [u64; 3], caps: [u64; 2]) -> Outcome {
    if MCS {
        k.call(
            tcb,
            l::TCB_SET_SPACE,
            &mrs[1..],
            &[free(k), caps[0], caps[1]],
        )
    } else {
        k.call(tcb, l::TCB_SET_SPACE, &mrs, &caps)
    }
}

/// A frame cap made from a device untyped; its root slot.
fn device_frame(k: &TestKernel) -> u64 {
    let ut = k
        .untypeds
        .clone()
        .find(|&i| matches!(k.cap(i), Cap::Untyped { is_device: true, size_bits, .. } if size_bits >= 12))
        .expect("a device untyped");
    let slot = free(k);
    let r = k.retype(ut, ObjectType::SmallPage as u64, 0, slot, 1);
    assert_eq!(r, ok(), "device frame");
    slot
}

#[test]
fn configure_installs_derived_roots_and_buffer() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let data = cnode_cap_data(0, 64 - k.radix as u64);
    let r = configure(
        &k,
        slot,
        [0x77, data, 5, BUF],
        [init::CNODE, init::VSPACE, init::IPC_BUFFER],
    );
    assert_eq!(r, ok());
    let tcb = t.get();
    if !MCS {
        assert_eq!(tcb.fault_handler(), 0x77, "the fault EP cptr, stored raw");
    }
    assert_eq!(tcb.ipc_buffer(), BUF);
    let Cap::CNode {
        ptr,
        guard_size,
        guard,
        ..
    } = slot_cap(t, TCB_CTABLE)
    else {
        panic!("no CSpace root")
    };
    assert_eq!(
        (ptr, guard_size as u64, guard),
        (k.cnode, 64 - k.radix as u64, 0)
    );
    assert_eq!(
        slot_cap(t, TCB_VTABLE),
        k.cap(init::VSPACE),
        "vroot data ignored"
    );
    let Cap::Frame { mapping, .. } = slot_cap(t, TCB_BUFFER) else {
        panic!("no buffer frame")
    };
    assert_eq!(mapping, None, "a derived frame cap is unmapped");
    // Each is a child of its source.
    for (src, i) in [
        (init::CNODE, TCB_CTABLE),
        (init::VSPACE, TCB_VTABLE),
        (init::IPC_BUFFER, TCB_BUFFER),
    ] {
        assert_eq!(
            k.slot(src).get().next(),
            Some(Tcb::slot(t, i)),
            "slot {i} follows {src}"
        );
    }
    // Buffer address 0: no buffer; the old frame cap goes.
    let r = configure(
        &k,
        slot,
        [0, 0, 0, 0],
        [init::CNODE, init::VSPACE, init::CNODE],
    );
    assert_eq!(r, ok());
    assert_eq!((tcb.ipc_buffer(), slot_cap(t, TCB_BUFFER)), (0, Cap::Null));
    assert_eq!(tcb.fault_handler(), 0);
    #[cfg(feature = "mcs")]
    assert_eq!(slot_cap(t, super::TCB_FAULT_HANDLER), Cap::Null);
}

#[test]
fn configure_checks_in_sel4s_order() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let (c, v, f) = (init::CNODE, init::VSPACE, init::IPC_BUFFER);
    let pt = k.make(ObjectType::PageTable, 0, 1)[0];
    let dev = device_frame(&k);
    let busy = k.ram_untyped(); // has children: deriving it is RevokeFirst
    let cases: [([u64; 4], [u64; 3], Outcome, &str); 13] = [
        (
            [0, 0, 0, 0x2_0100],
            [c, v, f],
            err(ALIGNMENT, &[]),
            "buffer not 1 KiB aligned",
        ),
        (
            [0, 0, 0, 0x2_0400],
            [c, v, f],
            ok(),
            "1 KiB aligned is enough",
        ),
        (
            [0, 0, 0, BUF],
            [c, v, c],
            err(ILLEGAL, &[]),
            "buffer not a frame",
        ),
        (
            [0, 0, 0, BUF],
            [c, v, dev],
            err(ILLEGAL, &[]),
            "device frame",
        ),
        (
            [0, 0, 0, BUF],
            [c, v, busy],
            err(REVOKE_FIRST, &[]),
            "buffer derive fails",
        ),
        (
            [0, 0, 0, 0x2_0100],
            [v, v, f],
            err(ALIGNMENT, &[]),
            "buffer before roots",
        ),
        (
            [0, 0, 0, 0],
            [v, v, f],
            err(ILLEGAL, &[]),
            "croot not a CNode",
        ),
        (
            [0, 0, 0, 0],
            [init::IRQ_CONTROL, v, f],
            err(ILLEGAL, &[]),
            "croot not derivable",
        ),
        (
            [0, 0, 0, 0],
            [busy, v, f],
            err(REVOKE_FIRST, &[]),
            "croot derive fails",
        ),
        (
            [0, cnode_cap_data(0, 60), 0, 0],
            [c, v, f],
            err(ILLEGAL, &[]),
            "guard too long",
        ),
        (
            [0, 0, 0, 0],
            [c, pt, f],
            err(ILLEGAL, &[]),
            "vroot not mapped",
        ),
        (
            [0, 0, 0, 0],
            [c, c, f],
            err(ILLEGAL, &[]),
            "vroot not a page table",
        ),
        (
            [0, 0, 0, 0],
            [c, busy, f],
            err(REVOKE_FIRST, &[]),
            "vroot derive fails",
        ),
    ];
    for (mrs, caps, want, what) in cases {
        assert_eq!(configure(&k, slot, mrs, caps), want, "{what}");
    }
    let n = if MCS { 3 } else { 4 };
    assert_eq!(
        k.call(slot, l::TCB_CONFIGURE, &[0; 4][..n - 1], &[c, v, f]),
        err(TRUNCATED, &[])
    );
    assert_eq!(
        k.call(slot, l::TCB_CONFIGURE, &[0; 4][..n], &[c, v]),
        err(TRUNCATED, &[])
    );
    // Nothing changed by the failures after the one success.
    assert_eq!(t.get().ipc_buffer(), 0x2_0400);
}

#[test]
fn roots_whose_deletion_is_long_running_cannot_be_replaced() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let cn = k.make(ObjectType::CapTable, 4, 1)[0];
    let (c, v, f) = (init::CNODE, init::VSPACE, init::IPC_BUFFER);
    assert_eq!(configure(&k, slot, [0, 0, 0, 0], [cn, v, f]), ok());
    // Delete the original: the TCB's CSpace root is now the last cap to the
    // CNode, whose deletion is long-running.
    assert_eq!(k.call(init::CNODE, l::CNODE_DELETE, &[cn, 64], &[]), ok());
    assert!(matches!(slot_cap(t, TCB_CTABLE), Cap::CNode { .. }));
    assert_eq!(
        configure(&k, slot, [0, 0, 0, 0], [c, v, f]),
        err(ILLEGAL, &[])
    );
    assert_eq!(set_space(&k, slot, [0, 0, 0], [c, v]), err(ILLEGAL, &[]));
    // Configure checks the buffer first.
    let r = configure(&k, slot, [0, 0, 0, 0x10], [c, v, f]);
    assert_eq!(r, err(ALIGNMENT, &[]));
    // SetIPCBuffer does not look at the roots.
    assert_eq!(k.call(slot, l::TCB_SET_IPC_BUFFER, &[BUF], &[f]), ok());
}

#[cfg(not(feature = "mcs"))]
#[test]
fn set_space_replaces_roots_and_fault_endpoint_only() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let (c, v, f) = (init::CNODE, init::VSPACE, init::IPC_BUFFER);
    assert_eq!(k.call(slot, l::TCB_SET_IPC_BUFFER, &[BUF], &[f]), ok());
    let cn = k.make(ObjectType::CapTable, 4, 1)[0];
    let r = k.call(
        slot,
        l::TCB_SET_SPACE,
        &[0x99, cnode_cap_data(3, 2), 0],
        &[cn, v],
    );
    assert_eq!(r, ok());
    let Cap::CNode {
        radix,
        guard_size,
        guard,
        ..
    } = slot_cap(t, TCB_CTABLE)
    else {
        panic!()
    };
    assert_eq!((radix, guard_size, guard), (4, 2, 3), "cap data applied");
    assert_eq!(t.get().fault_handler(), 0x99);
    assert_eq!(t.get().ipc_buffer(), BUF, "buffer untouched");
    assert!(matches!(slot_cap(t, TCB_BUFFER), Cap::Frame { .. }));
    // Errors.
    assert_eq!(
        k.call(slot, l::TCB_SET_SPACE, &[0, 0], &[c, v]),
        err(TRUNCATED, &[])
    );
    assert_eq!(
        k.call(slot, l::TCB_SET_SPACE, &[0, 0, 0], &[c]),
        err(TRUNCATED, &[])
    );
    assert_eq!(
        k.call(slot, l::TCB_SET_SPACE, &[0, 0, 0], &[v, v]),
        err(ILLEGAL, &[])
    );
    assert_eq!(
        k.call(slot, l::TCB_SET_SPACE, &[0, 0, 0], &[c, f]),
        err(ILLEGAL, &[])
    );
    assert_eq!(t.get().fault_handler(), 0x99, "failures change nothing");
    // The old roots were deleted: replacing them again works.
    assert_eq!(k.call(slot, l::TCB_SET_SPACE, &[1, 0, 0], &[c, v]), ok());
    assert!(matches!(slot_cap(t, TCB_CTABLE), Cap::CNode { ptr, .. } if ptr == k.cnode));
}

#[test]
fn set_ipc_buffer_installs_or_clears() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let f = init::IPC_BUFFER;
    assert_eq!(
        k.call(slot, l::TCB_SET_IPC_BUFFER, &[BUF + 0xc00], &[f]),
        ok()
    );
    assert_eq!(t.get().ipc_buffer(), BUF + 0xc00);
    assert!(matches!(
        slot_cap(t, TCB_BUFFER),
        Cap::Frame { mapping: None, .. }
    ));
    assert_eq!(slot_cap(t, TCB_CTABLE), Cap::Null, "nothing else changes");
    // Address 0: any cap will do, and the buffer goes.
    assert_eq!(
        k.call(slot, l::TCB_SET_IPC_BUFFER, &[0], &[init::CNODE]),
        ok()
    );
    assert_eq!(
        (t.get().ipc_buffer(), slot_cap(t, TCB_BUFFER)),
        (0, Cap::Null)
    );
    // Errors.
    let dev = device_frame(&k);
    let cases: [(&[u64], &[u64], Outcome); 6] = [
        (&[], &[f], err(TRUNCATED, &[])),
        (&[BUF], &[], err(TRUNCATED, &[])),
        (&[BUF + 8], &[f], err(ALIGNMENT, &[])),
        (&[BUF], &[init::CNODE], err(ILLEGAL, &[])),
        (&[BUF], &[dev], err(ILLEGAL, &[])),
        (&[BUF + 8], &[dev], err(ILLEGAL, &[])), // the device check comes first
    ];
    for (mrs, caps, want) in cases {
        assert_eq!(
            k.call(slot, l::TCB_SET_IPC_BUFFER, mrs, caps),
            want,
            "{mrs:x?} {caps:?}"
        );
    }
}

#[test]
fn ipc_buffer_of_the_current_thread_reschedules() {
    let k = boot();
    let b = k.tcb.get().ipc_buffer();
    assert_eq!(
        k.call(init::TCB, l::TCB_SET_IPC_BUFFER, &[b], &[init::IPC_BUFFER]),
        ok()
    );
    assert_eq!(action(), Action::ChooseNew);
    assert!(matches!(
        slot_cap(k.tcb, TCB_BUFFER),
        Cap::Frame { mapping: None, .. }
    ));
}

#[test]
fn priorities_are_bounded_by_the_authoritys_mcp() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let (weak, weak_tcb) = new_tcb(&k); // MCP 0
    for label in [l::TCB_SET_PRIORITY, l::TCB_SET_MC_PRIORITY] {
        let call = |mrs: &[u64], caps: &[u64]| k.call(slot, label, mrs, caps);
        assert_eq!(call(&[], &[init::TCB]), err(TRUNCATED, &[]));
        assert_eq!(call(&[1], &[]), err(TRUNCATED, &[]));
        assert_eq!(
            call(&[1], &[init::CNODE]),
            err(INVALID_CAP, &[1]),
            "authority not a TCB"
        );
        assert_eq!(call(&[256], &[init::TCB]), err(RANGE, &[0, 255]));
        assert_eq!(call(&[1], &[weak]), err(RANGE, &[0, 0]));
        assert_eq!(call(&[0], &[weak]), ok());
    }
    weak_tcb.get().set_mcp(40);
    assert_eq!(
        k.call(slot, l::TCB_SET_PRIORITY, &[41], &[weak]),
        err(RANGE, &[0, 40])
    );
    assert_eq!(k.call(slot, l::TCB_SET_PRIORITY, &[40], &[weak]), ok());
    assert_eq!(k.call(slot, l::TCB_SET_MC_PRIORITY, &[30], &[weak]), ok());
    assert_eq!((t.get().priority(), t.get().mcp()), (40, 30));
    // A thread's own MCP does not limit what others give it.
    assert_eq!(
        k.call(slot, l::TCB_SET_PRIORITY, &[200], &[init::TCB]),
        ok()
    );
    assert_eq!(t.get().priority(), 200);
}

#[cfg(not(feature = "mcs"))]
#[test]
fn set_sched_params_sets_both() {
    let k = boot();
    let (slot, t) = new_tcb(&k);
    let (weak, weak_tcb) = new_tcb(&k);
    weak_tcb.get().set_mcp(10);
    let call = |mrs: &[u64], caps: &[u64]| k.call(slot, l::TCB_SET_SCHED_PARAMS, mrs, caps);
    assert_eq!(call(&[1], &[init::TCB]), err(TRUNCATED, &[]));
    assert_eq!(call(&[1, 1], &[]), err(TRUNCATED, &[]));
    assert_eq!(call(&[1, 1], &[init::VSPACE]), err(INVALID_CAP, &[1]));
    assert_eq!(
        call(&[11, 1], &[weak]),
        err(RANGE, &[0, 10]),
        "MCP too high"
    );
    assert_eq!(
        call(&[1, 11], &[weak]),
        err(RANGE, &[0, 10]),
        "priority too high"
    );
    assert_eq!((t.get().mcp(), t.get().priority()), (0, 0), "unchanged");
    assert_eq!(call(&[7, 9], &[weak]), ok());
    assert_eq!((t.get().mcp(), t.get().priority()), (7, 9));
}

#[test]
fn set_priority_requeues_and_can_preempt() {
    let k = boot();
    k.tcb.get().set_priority(100);
    let (slot, t) = thread_with_cap(&k, 10);
    crate::sched::enqueue(t);
    assert_eq!(k.call(slot, l::TCB_SET_PRIORITY, &[50], &[init::TCB]), ok());
    let ready = |p| -> Vec<_> { crate::state::kernel().ready().queue(0, p).collect() };
    assert_eq!(ready(10), vec![], "left its old queue");
    // The classic kernel makes it a candidate; seL4's MCS one queues it
    // at 50 and chooses afresh. Either way the caller (100) stays.
    #[cfg(not(feature = "mcs"))]
    assert_eq!(action(), Action::SwitchTo(t));
    #[cfg(feature = "mcs")]
    assert_eq!((action(), ready(50)), (Action::ChooseNew, vec![t]));
    assert_eq!(crate::sched::schedule(), Some(k.tcb));
    assert_eq!(ready(50), vec![t], "in its new queue");
    assert_eq!(
        k.call(slot, l::TCB_SET_PRIORITY, &[150], &[init::TCB]),
        ok()
    );
    #[cfg(not(feature = "mcs"))]
    assert_eq!(action(), Action::SwitchTo(t), "now above the caller");
    #[cfg(feature = "mcs")]
    assert_eq!(action(), Action::ChooseNew, "now above the caller");
    assert_eq!(crate::sched::schedule(), Some(t));
}
