//! The generator: the steps of a random run (`Act`), the IPC and TCB
//! calls among them (`Ipc`), and where they name caps (`Target`,
//! resolved when the step runs: `Pair::target`).

use super::super::{step, Loc, Step};
use super::{control, vm, WIN};
#[cfg(feature = "mcs")]
use super::{ipc_mcs, sched, time};
use cairn_spec::Syscall;
use proptest::prelude::*;

/// Where an IPC step names a cap (a cptr in the shared root CNode),
/// resolved when the step runs.
#[derive(Clone, Copy, Debug)]
pub(super) enum Target {
    /// The `i`-th window slot holding an endpoint cap (else window slot `i`).
    Ep(u8),
    /// The `i`-th holding a notification cap.
    Ntfn(u8),
    /// The `i`-th holding a reply cap (SaveCaller puts them there).
    Reply(u8),
    /// The `i`-th thread cap: the root thread's, the setup threads', the
    /// window's.
    Tcb(u8),
    /// The `i`-th holding an IRQHandler cap.
    Irq(u8),
    /// MCS: the `i`-th holding a SchedContext cap.
    #[cfg_attr(not(feature = "mcs"), allow(dead_code))]
    Sc(u8),
    /// Window slot `i`, whatever it holds.
    Win(u8),
    /// The `i`-th frame cap not of a device: the window's, the root
    /// thread's buffer frame, an image frame.
    Frame(u8),
    /// A boot capability.
    Boot(u8),
    /// Any cptr (mostly a cap fault).
    Raw(u64),
}

/// A system call other than the CNode and Retype calls of `Step`.
#[derive(Clone, Debug)]
pub(super) struct Ipc {
    pub(super) sys: Syscall,
    pub(super) cap: Target,
    pub(super) label: u64,
    pub(super) words: Vec<u64>,
    pub(super) extra: Vec<Target>,
    /// The receive path to set in the caller's IPC buffer first.
    pub(super) receive: Option<Loc>,
}

/// One step of the refinement test: what a runnable thread (the
/// `thread`-th, modulo their number) does.
#[derive(Clone, Debug)]
pub(super) enum Act {
    /// A CNode or Retype call (the property test's steps).
    Cspace(u8, Step),
    /// An IPC system call or a TCB invocation.
    Ipc(u8, Ipc),
    /// CancelBadgedSends (through the root CNode) on the `i`-th endpoint
    /// cap of the window, maybe preempted.
    CancelBadged(u8, u8, Option<u8>),
    /// Delete (or, `true`, Revoke) the `i`-th endpoint or notification
    /// cap of the window, maybe preempted: with waiters, when it is the
    /// last.
    DeleteIpcObject(u8, u8, bool, Option<u8>),
    /// Delete the `i`-th setup thread's (only) cap, maybe preempted: the
    /// thread is destroyed, whatever it waits for or holds.
    DeleteThread(u8, u8, Option<u8>),
    /// An exception (RISC-V `scause`, `stval`): a user exception or a VM
    /// fault.
    Exception(u8, u64, u64),
    /// A VSpace step (`vm.rs`).
    Vm(u8, vm::VmAct),
    /// TCB Configure, SetSpace or SetIPCBuffer.
    Control(u8, control::Control),
    /// IRQControl, IRQHandler, an interrupt, DomainSet.
    Irq(u8, control::IrqAct),
    /// MCS: SchedControl, SchedContext, their Retypes (`sched.rs`).
    #[cfg(feature = "mcs")]
    Sched(u8, sched::SchedAct),
    /// MCS: an IPC system call with its reply and NBSendRecv registers
    /// (`ipc_mcs.rs`).
    #[cfg(feature = "mcs")]
    McsIpc(u8, ipc_mcs::McsIpc),
    /// MCS: time passes (`time.rs`).
    #[cfg(feature = "mcs")]
    Time(u8, time::TimeAct),
}

pub(super) fn target(
    ep: u32,
    ntfn: u32,
    reply: u32,
    tcb: u32,
    other: u32,
) -> BoxedStrategy<Target> {
    prop_oneof![
        ep => any::<u8>().prop_map(Target::Ep),
        ntfn => any::<u8>().prop_map(Target::Ntfn),
        reply => any::<u8>().prop_map(Target::Reply),
        tcb => any::<u8>().prop_map(Target::Tcb),
        other => (0..WIN as u8).prop_map(Target::Win),
        other => (0u8..16).prop_map(Target::Boot),
        1 => prop_oneof![Just(0u64), any::<u64>(), (0u64..4096)].prop_map(Target::Raw),
    ]
    .boxed()
}

pub(super) fn small_words(max: usize) -> BoxedStrategy<Vec<u64>> {
    proptest::collection::vec(prop_oneof![3 => 0u64..256, 1 => any::<u64>()], 0..=max).boxed()
}

/// IPC: sends, calls, receives and replies on endpoints, signals, waits
/// and polls on notifications, replies through saved reply caps, caps
/// transferred (extra caps, a receive slot), now and then a cap fault.
pub(super) fn ipc() -> impl Strategy<Value = Ipc> {
    use Syscall::*;
    let sys = prop_oneof![
        4 => Just(Call),
        4 => Just(Send),
        2 => Just(NBSend),
        5 => Just(Recv),
        2 => Just(NBRecv),
        2 => Just(Reply),
        3 => Just(ReplyRecv),
        1 => Just(Yield),
        // Numbers no system call has (the debug ones, -9..=-30, are
        // left alone): an UnknownSyscall fault.
        1 => prop_oneof![0i64..64, -1000i64..-30].prop_map(Unknown),
    ];
    let extra = prop_oneof![
        4 => Just(vec![]),
        2 => proptest::collection::vec(target(3, 1, 0, 1, 4), 1..=3),
    ];
    let receive = prop_oneof![
        4 => any::<u8>().prop_map(|i| Some(Loc::Free(i))),
        1 => (0..WIN as u8).prop_map(|i| Some(Loc::Win(i))),
        1 => (0u8..8, 0u8..16).prop_map(|(w, i)| Some(Loc::Sub(w, i))),
        1 => Just(None),
    ];
    let label = prop_oneof![3 => Just(0u64), 2 => 0u64..64, 1 => 0u64..(1 << 20)];
    // Up to eight words: MR4.. go through the IPC buffers.
    (
        sys,
        target(8, 4, 2, 0, 1),
        label,
        small_words(8),
        extra,
        receive,
    )
        .prop_map(|(sys, cap, label, words, extra, receive)| Ipc {
            sys,
            cap,
            label,
            words,
            extra,
            receive,
        })
}

/// TCB invocations: the specified methods mostly (registers, priorities,
/// suspend, resume, binding, the TLS base, flags), with authority, source
/// thread and notification caps.
pub(super) fn tcb_call() -> impl Strategy<Value = Ipc> {
    use cairn_spec::tcb::*;
    let label = prop_oneof![
        2 => Just(READ_REGISTERS),
        2 => Just(WRITE_REGISTERS),
        2 => Just(COPY_REGISTERS),
        2 => Just(SUSPEND),
        3 => Just(RESUME),
        2 => Just(SET_PRIORITY),
        1 => Just(SET_MC_PRIORITY),
        1 => Just(SET_SCHED_PARAMS),
        3 => Just(BIND_NOTIFICATION),
        2 => Just(UNBIND_NOTIFICATION),
        1 => Just(SET_TLS_BASE),
        1 => Just(SET_FLAGS),
        1 => 0u64..40,
    ];
    let extra = prop_oneof![
        1 => Just(vec![]),
        4 => target(0, 3, 0, 3, 1).prop_map(|t| vec![t]),
    ];
    (
        target(0, 0, 0, 8, 1),
        label,
        small_words(2),
        register_words(),
        extra,
    )
        .prop_map(|(cap, label, small, regs, extra)| {
            let registers = [
                cairn_spec::tcb::READ_REGISTERS,
                cairn_spec::tcb::WRITE_REGISTERS,
            ];
            Ipc {
                sys: Syscall::Call,
                cap,
                label,
                words: if registers.contains(&label) {
                    regs
                } else {
                    small
                },
                extra,
                receive: None,
            }
        })
}

/// The words of ReadRegisters and WriteRegisters: flags (suspend or
/// resume, and bits the kernel ignores), a count (mostly 1..=32, now and
/// then out of range), then register values (as many as the count asks
/// or fewer: a truncated message).
pub(super) fn register_words() -> impl Strategy<Value = Vec<u64>> {
    let flags = prop_oneof![3 => 0u64..2, 1 => any::<u64>()];
    let count = prop_oneof![6 => 1u64..=32, 1 => Just(0u64), 1 => 33u64..40, 1 => any::<u64>()];
    let values =
        proptest::collection::vec(prop_oneof![3 => 0u64..0x1000, 1 => any::<u64>()], 0..=34);
    (flags, count, values).prop_map(|(f, c, v)| {
        let mut w = vec![f, c];
        w.extend(v);
        w
    })
}

/// MCS: the CNode and Retype steps, the scheduling-context steps, the
/// TCB methods (classic forms in MCS numbering; Configure and SetSpace
/// in their MCS forms), the VSpace, IRQ and domain steps, the MCS IPC
/// (`ipc_mcs.rs`), deletions of IPC objects, reply objects and threads,
/// exceptions, by the threads that can run (`Pair::may_run`).
#[cfg(feature = "mcs")]
pub(super) fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        10 => (any::<u8>(), step()).prop_map(|(t, s)| Act::Cspace(t, s)),
        6 => (any::<u8>(), sched::sched_act()).prop_map(|(t, a)| Act::Sched(t, a)),
        3 => (any::<u8>(), tcb_call()).prop_map(|(t, i)| Act::Ipc(t, i)),
        6 => (any::<u8>(), vm::vm_act()).prop_map(|(t, v)| Act::Vm(t, v)),
        2 => (any::<u8>(), control::control()).prop_map(|(t, c)| Act::Control(t, c)),
        3 => (any::<u8>(), control::irq_act()).prop_map(|(t, a)| Act::Irq(t, a)),
        10 => (any::<u8>(), ipc_mcs::mcs_ipc()).prop_map(|(t, i)| Act::McsIpc(t, i)),
        1 => (any::<u8>(), any::<u8>(), irq()).prop_map(|(t, e, q)| Act::CancelBadged(t, e, q)),
        2 => (any::<u8>(), any::<u8>(), any::<bool>(), irq())
            .prop_map(|(t, e, r, q)| Act::DeleteIpcObject(t, e, r, q)),
        1 => (any::<u8>(), any::<u8>(), irq()).prop_map(|(t, i, q)| Act::DeleteThread(t, i, q)),
        1 => (any::<u8>(), exception(), any::<u64>()).prop_map(|(t, c, v)| Act::Exception(t, c, v)),
        2 => (any::<u8>(), time::time_act()).prop_map(|(t, a)| Act::Time(t, a)),
    ]
}

#[cfg(not(feature = "mcs"))]
pub(super) fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        10 => (any::<u8>(), step()).prop_map(|(t, s)| Act::Cspace(t, s)),
        8 => (any::<u8>(), ipc()).prop_map(|(t, i)| Act::Ipc(t, i)),
        2 => (any::<u8>(), tcb_call()).prop_map(|(t, i)| Act::Ipc(t, i)),
        1 => (any::<u8>(), any::<u8>(), irq()).prop_map(|(t, e, q)| Act::CancelBadged(t, e, q)),
        1 => (any::<u8>(), any::<u8>(), any::<bool>(), irq())
            .prop_map(|(t, e, r, q)| Act::DeleteIpcObject(t, e, r, q)),
        1 => (any::<u8>(), any::<u8>(), irq()).prop_map(|(t, i, q)| Act::DeleteThread(t, i, q)),
        1 => (any::<u8>(), exception(), any::<u64>()).prop_map(|(t, c, v)| Act::Exception(t, c, v)),
        8 => (any::<u8>(), vm::vm_act()).prop_map(|(t, v)| Act::Vm(t, v)),
        2 => (any::<u8>(), control::control()).prop_map(|(t, c)| Act::Control(t, c)),
        3 => (any::<u8>(), control::irq_act()).prop_map(|(t, a)| Act::Irq(t, a)),
    ]
}

/// Exception causes: misaligned fetch, breakpoint, misaligned load and
/// store (user exceptions), access and page faults (VM faults), one no
/// exception has. Not 2 (illegal instruction): the FPU's first use.
pub(super) fn exception() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(3),
        Just(4),
        Just(6),
        Just(1),
        Just(5),
        Just(7),
        Just(12),
        Just(13),
        Just(15),
        Just(24)
    ]
}

pub(super) fn irq() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![2 => Just(None), 1 => (1u8..4).prop_map(Some)]
}
