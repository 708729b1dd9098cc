//! The MCS scheduler's switch of address space on the general path
//! (`sched::schedule_mcs`'s leaf, `vspace::activate_recent_vspace`): a
//! donating Call and the ReplyRecv that gives the context back, between
//! threads of different address spaces, leave the thread chosen running
//! on its own address space, recorded and installed in the (simulated)
//! MMU, whether that space is one of the two last installed (switched in
//! the leaf), another one (its ASID looked up) or no longer registered
//! (the kernel's own table).

use super::harness::{self, second_space, with_fastpath};
use super::*;
use crate::arch::host::SimMachine;
use crate::object::tcb::{ThreadState, TCB_VTABLE};
use crate::testutil::boot;
use crate::types::PAddr;
use cairn_abi::syscall::*;

/// The address space `t`'s VTable cap names.
fn space(t: TcbRef) -> (PAddr, u16) {
    Tcb::slot(t, TCB_VTABLE)
        .get()
        .assigned_vspace()
        .expect("an assigned VSpace")
}

/// `t` runs, on `space`: recorded as active, with `previous` recorded
/// before it, and installed in the MMU.
fn runs_on(t: TcbRef, space: (PAddr, u16), previous: Option<(PAddr, u16)>) {
    let k = kernel();
    assert!(k.is_current(t), "the thread chosen");
    assert_eq!(k.active_vspace(), space, "recorded");
    assert_eq!(SimMachine::vspace(), Some(space), "installed");
    let p = k.previous_vspace_word();
    assert_eq!((p.0 != 0).then(|| (p.root(), p.asid())), previous);
}

/// `t`'s system call `no` (`a0`, one MR) on the general path, then the
/// choice at exit.
fn general(t: TcbRef, no: SyscallNo, a0: u64, mr: u64) {
    load(t, a0, 5, &[mr], &[]);
    with_fastpath(false, || crate::api::handle_syscall(no));
    crate::sched::schedule();
}

/// A client and passive servers on two endpoints, each server in an
/// address space of its own (`n` of them), waiting; the client running on
/// its own, the one recorded (no previous one).
fn scene(n: usize) -> (crate::testutil::TestKernel, TcbRef, Vec<(TcbRef, u64)>) {
    let k = boot();
    let [c] = k.threads(10, 1)[..] else {
        panic!("threads")
    };
    let servers: Vec<_> = k
        .passive_threads(10, n as u64)
        .into_iter()
        .map(|s| {
            second_space(&k, &[s]);
            (s, harness::endpoint(&k).0)
        })
        .collect();
    stop_root(&k);
    for &(s, ep) in &servers {
        syscall(s, SYS_RECV, ep, 0, &[], &[]);
    }
    load(c, 0, 0, &[], &[]);
    kernel().forget_active_vspace();
    crate::object::vspace::activate_thread_vspace(c);
    runs_on(c, space(c), None);
    (k, c, servers)
}

#[test]
fn a_call_and_its_reply_run_each_thread_on_its_own_address_space() {
    let (_k, c, servers) = scene(1);
    let (srv, ep) = servers[0];
    let (cs, ss) = (space(c), space(srv));
    assert_ne!(cs, ss);
    // The first switch to the server's space looks its ASID up.
    general(c, SYS_CALL, ep, 1);
    runs_on(srv, ss, Some(cs));
    assert_eq!(received(srv, 1).2, vec![1]);
    // From then on each way is the previous space, switched in the leaf.
    for round in 0..3 {
        general(srv, SYS_REPLY_RECV, ep, 10 + round);
        runs_on(c, cs, Some(ss));
        assert_eq!(received(c, 1).2, vec![10 + round]);
        assert_eq!(c.get().state(), ThreadState::Running);
        general(c, SYS_CALL, ep, 20 + round);
        runs_on(srv, ss, Some(cs));
        assert_eq!(received(srv, 1).2, vec![20 + round]);
    }
}

#[test]
fn a_space_other_than_the_last_two_is_looked_up() {
    let (_k, c, servers) = scene(2);
    let [(s1, ep1), (s2, ep2)] = servers[..] else {
        panic!("servers")
    };
    let (cs, s1s, s2s) = (space(c), space(s1), space(s2));
    general(c, SYS_CALL, ep1, 1);
    runs_on(s1, s1s, Some(cs));
    general(s1, SYS_REPLY_RECV, ep1, 2);
    runs_on(c, cs, Some(s1s));
    // The second server's space was never installed.
    general(c, SYS_CALL, ep2, 3);
    runs_on(s2, s2s, Some(cs));
    general(s2, SYS_REPLY_RECV, ep2, 4);
    runs_on(c, cs, Some(s2s));
    // The first server's is no longer among the last two.
    general(c, SYS_CALL, ep1, 5);
    runs_on(s1, s1s, Some(cs));
    assert_eq!(received(s1, 1).2, vec![5]);
}

#[test]
fn a_space_whose_asid_is_gone_runs_on_the_kernels_table() {
    let (k, c, servers) = scene(1);
    let (srv, ep) = servers[0];
    let (cs, ss) = (space(c), space(srv));
    general(c, SYS_CALL, ep, 1);
    general(srv, SYS_REPLY_RECV, ep, 2);
    runs_on(c, cs, Some(ss));
    // Deleting the pool that holds both ASIDs forgets both spaces: the
    // server's, the previous one, is not switched to in the leaf.
    let pool = cairn_abi::cap::init::ASID_POOL;
    assert_eq!(crate::cap::delete::cte_delete(k.slot(pool)), Ok(()));
    let kernel_table = (crate::arch::kernel_vspace_root(), 0);
    runs_on(c, kernel_table, None);
    general(c, SYS_CALL, ep, 3);
    runs_on(srv, kernel_table, None);
    assert_eq!(received(srv, 1).2, vec![3]);
    general(srv, SYS_REPLY_RECV, ep, 4);
    runs_on(c, kernel_table, None);
}
