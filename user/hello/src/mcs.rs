//! MCS IPC on the MCS kernel (ABI ref §13, docs/mcs.md): a passive
//! server (a thread with no SchedContext) answers the root thread's Calls
//! on the root's own SchedContext, lent along the Call through the
//! server's reply object and returned by its ReplyRecv.
//!
//! The server first runs on a SchedContext of its own, to get into its
//! receive loop: NBSendRecv signals the root and blocks in Recv in one
//! system call, so that the root, woken by the signal, finds it waiting.
//! The root then unbinds that SchedContext: from then on the server can
//! only run on a lent one, and each Call that comes back proves the loan
//! and its return.

use cairn_rt::println;
use cairn_rt::thread::Stack;
use sel4::abi::invocation::label as l;
use sel4::object::invoke;
use sel4::object::tcb::CopyFlags;
use sel4::syscall::{call_regs, mcs, reply_recv_regs, RegMessage};
use sel4::{CNode, CPtr, Message, MessageInfo, Notification, ObjectType, Reply, Tcb, Untyped};
use sel4::{UserContext, Word};

/// How many Calls the server answers.
const CALLS: Word = 3;

static SERVER_STACK: Stack<8192> = Stack::new();

/// The server: a0 = endpoint, a1 = reply object, a2 = notification.
/// Answers each Call with its MR0 + 1. No IPC buffer: register messages
/// only.
extern "C" fn server(ep: Word, reply: Word, ntfn: Word) -> ! {
    let (ep, reply) = (CPtr(ep), CPtr(reply));
    let ready = RegMessage::default();
    let (_, mut msg) = mcs::nb_send_recv(CPtr(ntfn), ready, ep, reply);
    loop {
        let answer = RegMessage {
            info: MessageInfo::new(0, 0, 0, 1),
            mrs: [msg.mrs[0] + 1, 0, 0, 0],
        };
        msg = reply_recv_regs(ep, answer, Reply::from(reply)).1;
    }
}

/// Runs the check; prints its result. Returns only if it passed.
pub fn passive_server(bi: &sel4::BootInfo) {
    match run(bi) {
        Ok(()) => println!(
            "mcs ipc: a passive server answered {CALLS} calls on the caller's SchedContext"
        ),
        Err(what) => {
            println!("mcs ipc: FAILED: {what}");
            sel4::debug::halt();
        }
    }
}

fn run(bi: &sel4::BootInfo) -> Result<(), &'static str> {
    let ut = bi
        .untypeds()
        .find(|u| !u.is_device && u.size_bits >= 16)
        .ok_or("no untyped of 64 KiB")?
        .cap;
    let mut next = bi.empty().start;
    let mut make = |ty: ObjectType, size: Word| -> Result<Word, &'static str> {
        let slot = next;
        next += 1;
        let root = CNode::from_bits(sel4::init::CNODE);
        ut.retype(ty, size, root, 0, 0, slot, 1)
            .map_err(|_| "Untyped_Retype")?;
        Ok(slot)
    };
    let ep = make(ObjectType::Endpoint, 0)?;
    let ntfn = make(ObjectType::Notification, 0)?;
    let reply = make(ObjectType::Reply, 0)?;
    let sc = make(ObjectType::SchedContext, 8)?;
    let tcb = Tcb::from_bits(make(ObjectType::Tcb, 0)?);
    let _: Untyped = ut;

    // The server's own SchedContext: 1 ms every 1 ms (round robin).
    let sched_control = CPtr(bi.raw().schedcontrol.start);
    let flags = Message::new(
        l::SCHED_CONTROL_CONFIGURE_FLAGS,
        &[1000, 1000, 0, 0, 0],
        &[CPtr(sc)],
    );
    invoke(sched_control, &flags).map_err(|_| "SchedControl_ConfigureFlags")?;

    // A thread of this address space and CSpace, without IPC buffer
    // (MCS Configure: no fault endpoint; its fault handler slot stays
    // empty).
    tcb.configure(
        CNode::from_bits(sel4::init::CNODE),
        0,
        sel4::PageTable::from_bits(sel4::init::VSPACE),
        0,
        0,
        sel4::Frame::from_bits(sel4::init::IPC_BUFFER),
    )
    .map_err(|_| "TCB_Configure")?;
    // Our gp, read back from a copy of our frame registers.
    let copy = CopyFlags {
        transfer_frame: true,
        ..CopyFlags::default()
    };
    tcb.copy_registers(Tcb::from_bits(sel4::init::TCB), copy)
        .map_err(|_| "TCB_CopyRegisters")?;
    let gp = tcb
        .read_registers(false, 0, 4)
        .map_err(|_| "TCB_ReadRegisters")?
        .gp;
    let mut ctx = UserContext {
        pc: server as extern "C" fn(Word, Word, Word) -> ! as usize as Word,
        sp: SERVER_STACK.top() as Word,
        gp,
        ..UserContext::default()
    };
    ctx.a[0] = ep;
    ctx.a[1] = reply;
    ctx.a[2] = ntfn;
    let words = sel4::abi::context::USER_CONTEXT_WORDS as Word;
    tcb.write_registers(false, 0, words, &ctx)
        .map_err(|_| "TCB_WriteRegisters")?;
    tcb.set_priority(Tcb::from_bits(sel4::init::TCB), 100)
        .map_err(|_| "TCB_SetPriority")?;
    let bind = Message::new(l::SCHED_CONTEXT_BIND, &[], &[tcb.cptr()]);
    invoke(CPtr(sc), &bind).map_err(|_| "SchedContext_Bind")?;
    tcb.resume().map_err(|_| "TCB_Resume")?;

    // Wait (no reply object) until the server waits in its Recv.
    Notification::from_bits(ntfn).wait();
    let unbind = Message::new(l::SCHED_CONTEXT_UNBIND, &[], &[]);
    invoke(CPtr(sc), &unbind).map_err(|_| "SchedContext_Unbind")?;

    // Passive now: each answer comes on our own SchedContext.
    for i in 0..CALLS {
        let m = RegMessage {
            info: MessageInfo::new(0, 0, 0, 1),
            mrs: [40 + i, 0, 0, 0],
        };
        let (_, answer) = call_regs(CPtr(ep), m);
        if answer.info.length() != 1 || answer.mrs[0] != 41 + i {
            return Err("wrong answer");
        }
    }
    Ok(())
}
