//! What the fastpath's guard tests and the random IPC sequences share, in
//! both builds (`fastpath`, `props` and their MCS twins `fastpath_mcs`,
//! `props_mcs`, `props_mcs_links`): the objects and threads the
//! sequences run on and how they carry out a step ([`World`], [`Op`]),
//! the words a snapshot compares, the runs with the fastpath on and off,
//! the fastpath run alone.

use super::*;
use crate::api::fastpath;
use crate::testutil::boot;
use crate::types::PAddr;
use cairn_abi::object::ObjectType as T;
use cairn_abi::syscall::SyscallNo;
use proptest::prelude::*;

/// How many threads a random sequence runs.
pub const THREADS: usize = 5;

/// What the random sequences run on: two endpoints, a notification and a
/// badged endpoint cap without Grant (`slots`: root slots, in that order;
/// an `Op`'s object is an index into them).
pub struct Objects {
    pub slots: [u64; 4],
    pub eps: [PAddr; 2],
    pub ntfn: PAddr,
}

impl Objects {
    pub fn new(k: &TestKernel) -> Objects {
        let (e0, eps0) = endpoint(k);
        let (e1, eps1) = endpoint(k);
        let nt = object(k, T::Notification);
        let Cap::Notification { ptr: ntfn, .. } = k.cap(nt) else {
            panic!("no notification")
        };
        let plain = mint(k, e0, 0x3, 7);
        Objects {
            slots: [e0, e1, nt, plain],
            eps: [eps0, eps1],
            ntfn,
        }
    }

    /// Queues and thread states agree (the fuzzer's check,
    /// `fuzz::invariants::check_queues`); MCS: with the reply objects and
    /// SchedContexts' links.
    pub fn check_queues(&self, threads: &[TcbRef], _replies: &[u64], _scs: &[u64]) {
        crate::fuzz::invariants::check_queues(&crate::fuzz::invariants::Named {
            eps: self.eps.iter().map(|p| p.0).collect(),
            ntfns: vec![self.ntfn.0],
            tcbs: threads.iter().map(|t| t.paddr().0).collect(),
            #[cfg(feature = "mcs")]
            replies: _replies.to_vec(),
            #[cfg(feature = "mcs")]
            scs: _scs.to_vec(),
        });
    }
}

/// A step of a random sequence. Every sequence draws system calls,
/// Suspend and Resume; the MCS links sequence (`props_mcs_links`) also
/// replies through reply objects and changes priorities.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// Thread `t` makes syscall `no` on object `obj` (an index into
    /// [`Objects::slots`]: 0, 1 endpoints, 2 the notification, 3 a badged
    /// endpoint cap without Grant), if it could be running
    /// ([`could_run`]). MCS: `dest`, if any, is the object the send phase
    /// of NBSendRecv and NBSendWait goes to (else the thread's registers
    /// stay as they are).
    Sys {
        t: usize,
        no: SyscallNo,
        obj: usize,
        #[cfg(feature = "mcs")]
        dest: Option<usize>,
    },
    /// Thread `t` answers the Call its reply object holds (Send on it).
    #[cfg(feature = "mcs")]
    Reply(usize),
    /// Thread `t` gets priority `p` (it moves in the queue it waits in).
    #[cfg(feature = "mcs")]
    Priority(usize, u64),
    Suspend(usize),
    Resume(usize),
}

/// A system call both IPCs have (Send, NBSend, Call, Recv, NBRecv,
/// ReplyRecv) or one of `more`, each as likely.
pub fn syscalls(more: &[SyscallNo]) -> impl Strategy<Value = SyscallNo> {
    use cairn_abi::syscall::*;
    let mut nos = vec![
        SYS_SEND,
        SYS_NB_SEND,
        SYS_CALL,
        SYS_RECV,
        SYS_NB_RECV,
        SYS_REPLY_RECV,
    ];
    nos.extend_from_slice(more);
    proptest::sample::select(nos)
}

/// System calls `nos` by random threads on random objects of `objs`
/// (no second destination).
pub fn sys_op(
    nos: impl Strategy<Value = SyscallNo>,
    objs: impl Strategy<Value = usize>,
) -> impl Strategy<Value = Op> {
    (0..THREADS, nos, objs).prop_map(|(t, no, obj)| Op::Sys {
        t,
        no,
        obj,
        #[cfg(feature = "mcs")]
        dest: None,
    })
}

/// A booted kernel with [`Objects`] and the threads a sequence runs
/// (the root thread stopped: [`stop_root`]).
pub struct World {
    #[cfg_attr(
        not(feature = "mcs"),
        allow(dead_code, reason = "only the MCS links sequence uses it after set-up")
    )]
    pub k: TestKernel,
    pub objs: Objects,
    pub threads: Vec<TcbRef>,
}

impl World {
    /// Boots, makes the [`Objects`], then the threads with `threads`
    /// (which may also give them address spaces, buffers, priorities),
    /// and stops the root thread.
    pub fn new(threads: impl FnOnce(&TestKernel) -> Vec<TcbRef>) -> World {
        let k = boot();
        let objs = Objects::new(&k);
        let threads = threads(&k);
        stop_root(&k);
        World { k, objs, threads }
    }

    /// Carries out `op` (a system call or a reply only if the thread
    /// could be running: [`could_run`]), then the kernel exit's
    /// scheduling decision.
    pub fn apply(&self, op: Op) {
        match op {
            #[cfg(not(feature = "mcs"))]
            Op::Sys { t, no, obj } => {
                let th = self.threads[t];
                if could_run(th) {
                    syscall(th, no, self.objs.slots[obj], 1, &[t as u64], &[]);
                }
            }
            #[cfg(feature = "mcs")]
            Op::Sys { t, no, obj, dest } => {
                let th = self.threads[t];
                if could_run(th) {
                    self.sys_mcs(t, no, obj, dest);
                }
            }
            #[cfg(feature = "mcs")]
            Op::Reply(t) => {
                let th = self.threads[t];
                if could_run(th) {
                    reply(th, 2, &[t as u64]);
                }
            }
            #[cfg(feature = "mcs")]
            Op::Priority(t, p) => crate::sched::set_priority(self.threads[t], p),
            Op::Suspend(t) => crate::ipc::suspend(self.threads[t]),
            Op::Resume(t) => crate::ipc::restart(self.threads[t]),
        }
        crate::sched::schedule();
    }

    /// Thread `t`'s system call; with a `dest`, that object is the send
    /// phase's destination (and, for NBSendWait, in the reply register,
    /// which is put back afterwards).
    #[cfg(feature = "mcs")]
    fn sys_mcs(&self, t: usize, no: SyscallNo, obj: usize, dest: Option<usize>) {
        use crate::arch::{NB_SEND_RECV_DEST, REPLY_REGISTER};
        let th = self.threads[t];
        let call = || syscall(th, no, self.objs.slots[obj], 1, &[t as u64], &[]);
        let Some(d) = dest else {
            return call();
        };
        let tcb = th.get();
        let reply = tcb.reg(REPLY_REGISTER);
        tcb.set_reg(NB_SEND_RECV_DEST, self.objs.slots[d]);
        if no == cairn_abi::syscall::SYS_NB_SEND_WAIT {
            tcb.set_reg(REPLY_REGISTER, self.objs.slots[d]);
        }
        call();
        tcb.set_reg(REPLY_REGISTER, reply);
    }
}

/// Priorities 9, 10 and 11 in turn, set in place (before the threads
/// run): the fastpath must decline where the scheduler would not switch
/// straight to the woken thread.
pub fn mixed_priorities(threads: &[TcbRef]) {
    for (i, &t) in threads.iter().enumerate() {
        t.get().set_priority(mixed_priority(i));
    }
}

/// Thread `i`'s priority in [`mixed_priorities`].
pub fn mixed_priority(i: usize) -> u64 {
    9 + (i as u64 % 3)
}

/// Runs `ops` on a fresh world (`new`) with the fastpath on or off: the
/// snapshot after every step.
pub fn run_all<W>(
    ops: &[Op],
    fastpath: bool,
    new: impl FnOnce() -> W,
    apply: impl Fn(&W, Op),
    snapshot: impl Fn(&W) -> Vec<u64>,
) -> Vec<Vec<u64>> {
    with_fastpath(fastpath, || {
        let w = new();
        ops.iter()
            .map(|&op| {
                apply(&w, op);
                snapshot(&w)
            })
            .collect()
    })
}

/// An endpoint in a fresh root slot: (slot, object).
pub fn endpoint(k: &TestKernel) -> (u64, PAddr) {
    let ep = object(k, T::Endpoint);
    let Cap::Endpoint { ptr, .. } = k.cap(ep) else {
        panic!("no endpoint")
    };
    (ep, ptr)
}

/// Gives `threads` an address space of their own (a fresh VSpace root
/// assigned an ASID), so that switches between address spaces are
/// compared too. Their code and IPC buffer are never touched through it.
pub fn second_space(k: &TestKernel, threads: &[TcbRef]) {
    use crate::object::tcb::TCB_VTABLE;
    let root = k.make(T::PageTable, 0, 1)[0];
    let assign = cairn_abi::invocation::label::RISCV_ASID_POOL_ASSIGN;
    let pool = cairn_abi::cap::init::ASID_POOL;
    assert_eq!(k.call(pool, assign, &[], &[root]), crate::testutil::ok());
    for &t in threads {
        let slot = Tcb::slot(t, TCB_VTABLE);
        assert_eq!(crate::cap::delete::cte_delete(slot), Ok(()));
        cte_insert(k.cap(root), k.slot(root), slot);
    }
}

/// What every snapshot holds of a thread: its state, registers, restart
/// points, blocking fields, queue links and whether it is ready.
pub fn thread_words(t: TcbRef, v: &mut Vec<u64>) {
    let tcb = t.get();
    v.push(tcb.state() as u64);
    v.extend(crate::object::tcb::registers::GP.map(|i| tcb.user_register(i)));
    v.extend([tcb.fault_ip(), tcb.next_ip()]);
    v.extend([
        tcb.blocking_object(),
        tcb.blocking_badge(),
        tcb.ep_next(),
        tcb.ep_prev(),
    ]);
    v.push(tcb.in_ready_queue() as u64);
}

/// What every snapshot holds of the endpoints (their queues and states)
/// and of the scheduler: the running thread, the pending action and the
/// active address space.
pub fn endpoint_and_scheduler_words(eps: &[PAddr], v: &mut Vec<u64>) {
    for &o in eps {
        let e = crate::object::endpoint::EndpointRef::new(o).get();
        let q = e.queue.tcbs();
        v.extend([q.head, q.tail, e.queue.state() as u64]);
    }
    v.push(kernel().current_tcb().map_or(0, |t| t.paddr().0));
    v.push(match crate::sched::action() {
        crate::sched::Action::ResumeCurrent => 0,
        crate::sched::Action::ChooseNew => 1,
        crate::sched::Action::SwitchTo(t) => t.paddr().0,
    });
    let (root, asid) = kernel().active_vspace();
    v.extend([root.0, asid as u64]);
}

/// Whether `t` could be the running thread, so that a sequence may have
/// it make a system call: schedulable, and neither the running thread
/// nor a ready one above its priority (the scheduler runs the highest,
/// and the fastpath relies on it: it switches to a receiver of the
/// caller's priority or above without looking at the ready queues).
pub fn could_run(t: TcbRef) -> bool {
    let tcb = t.get();
    let prio = tcb.priority();
    let above = |c: TcbRef| crate::sched::is_schedulable(c) && c.get().priority() > prio;
    crate::sched::is_schedulable(t)
        && !kernel()
            .ready()
            .any_above(tcb.domain() as usize, prio as usize)
        && !kernel().current_tcb().is_some_and(above)
}

/// Runs `f` with the fastpath on or off, then turns it back on.
pub fn with_fastpath<R>(on: bool, f: impl FnOnce() -> R) -> R {
    fastpath::ENABLED.with(|e| e.set(on));
    let r = f();
    fastpath::ENABLED.with(|e| e.set(true));
    r
}

/// System call `no` (already loaded) on the fastpath alone; whether it
/// was taken. A declined call must have changed nothing `snapshot` sees.
pub fn fastpath_alone(no: SyscallNo, snapshot: impl Fn() -> Vec<u64>) -> bool {
    let before = snapshot();
    let taken = fastpath::syscall(no).is_some();
    if !taken {
        assert_eq!(snapshot(), before, "a declining fastpath changed something");
    }
    taken
}

/// A condition of the fastpath, named, and how to break it in a scene.
pub type Case<S> = (&'static str, fn(&S));

/// Checks that `attempt` is taken in a fresh scene with every condition
/// met, then declined in a fresh scene for each broken one.
pub fn each_declines<S>(new: fn() -> S, attempt: fn(&S) -> bool, cases: &[Case<S>]) {
    assert!(attempt(&new()), "taken with every condition met");
    for (what, break_it) in cases {
        let s = new();
        break_it(&s);
        assert!(!attempt(&s), "taken although {what}");
    }
}

/// A random thread's index, as an operation (Suspend, Resume).
pub fn on_thread<O: core::fmt::Debug>(op: fn(usize) -> O) -> impl Strategy<Value = O> {
    (0..THREADS).prop_map(op)
}

/// Restart is what activation turns into Running: the sequences' threads
/// are never activated, so their checks see them running.
pub fn activate(threads: &[TcbRef]) {
    for &t in threads {
        let tcb = t.get();
        if tcb.state() == crate::object::tcb::ThreadState::Restart {
            tcb.set_state(crate::object::tcb::ThreadState::Running);
        }
    }
}

/// The snapshots of one sequence run with the fastpath and without agree
/// after every step.
pub fn same_after_every_step<O: core::fmt::Debug>(
    ops: &[O],
    fast: &[Vec<u64>],
    slow: &[Vec<u64>],
) -> Result<(), TestCaseError> {
    for (i, (f, s)) in fast.iter().zip(slow).enumerate() {
        prop_assert_eq!(f, s, "after step {} ({:?})", i, ops[i]);
    }
    Ok(())
}

/// Gives `threads` a CSpace of two levels naming what the root task's
/// names at the same cptrs: a CNode of radix 4, no guard, whose slot 0
/// holds the root CNode with a guard of the 60 - radix bits between, so
/// that every lookup walks two levels (the fastpath's `ipc_walking`).
pub fn two_level_cspace(k: &TestKernel, threads: &[TcbRef]) {
    use crate::object::tcb::TCB_CTABLE;
    let init = cairn_abi::cap::init::CNODE;
    let top = k.make(T::CapTable, 4, 1)[0];
    let (
        Cap::CNode { ptr, .. },
        Cap::CNode {
            ptr: root, radix, ..
        },
    ) = (k.cap(top), k.cap(init))
    else {
        panic!("no CNode")
    };
    let inner = Cap::CNode {
        ptr: root,
        radix,
        guard_size: 60 - radix,
        guard: 0,
    };
    cte_insert(inner, k.slot(init), crate::cap::cte::cnode_slot(ptr, 0));
    let outer = Cap::CNode {
        ptr,
        radix: 4,
        guard_size: 0,
        guard: 0,
    };
    for &t in threads {
        let slot = Tcb::slot(t, TCB_CTABLE);
        assert_eq!(crate::cap::delete::cte_delete(slot), Ok(()));
        cte_insert(outer, k.slot(top), slot);
    }
}
