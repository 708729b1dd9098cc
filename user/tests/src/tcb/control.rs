//! Configure, SetSpace, SetIPCBuffer and the priority methods (seL4's
//! ThreadControl; ABI ref §7.3): their checks, in seL4's order, with the
//! exact errors. That a configured thread really runs is in `running`.

use crate::fixture::{device_untyped, expect_err, expect_ok, range, raw, retype, Env};
use crate::forms;
use crate::forms::{
    configure, set_sched_params, CONFIGURE_WORDS, SET_SCHED_PARAMS_CAPS, SET_SPACE_CAPS,
    SET_SPACE_WORDS,
};
use crate::framework::{Ctx, TestResult};
use crate::threads::{Threads, ROOT_PRIO};
use crate::{check, fail};
use sel4::abi::cap::cnode_cap_data;
use sel4::abi::invocation::label;
use sel4::cap::init_caps::{CNODE, IPC_BUFFER, TCB as ROOT_TCB, VSPACE};
use sel4::{CNode, CPtr, Error, Frame, ObjectType, PageTable, Tcb, Word};

/// An IPC buffer address that the kernel accepts (1 KiB aligned).
const BUF: Word = 0x10_0000;

pub fn configure_ok(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    let guard = cnode_cap_data(0, 64 - Word::from(env.radix));
    expect_ok(
        configure(t, CPtr(0x55), CNODE, guard, VSPACE, 7, BUF, IPC_BUFFER),
        "Configure with CNode guard data and (ignored) VSpace data",
    )?;
    expect_ok(
        configure(t, CPtr::NULL, CNODE, 0, VSPACE, 0, 0, Frame::from_bits(0)),
        "Configure without a buffer: the frame cap is not looked at",
    )?;
    expect_ok(
        configure(t, CPtr::NULL, CNODE, 0, VSPACE, 0, BUF + 0x400, IPC_BUFFER),
        "a 1 KiB aligned buffer",
    )
}

pub fn configure_errors(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    let pt = PageTable::from_bits(env.create(ObjectType::PageTable, 0)?);
    let busy = env.pool(); // has children: deriving it is RevokeFirst
    let c = |w: Word| CNode::from_bits(w);
    let v = |w: Word| PageTable::from_bits(w);
    let f = |w: Word| Frame::from_bits(w);
    let ill = Error::IllegalOperation;
    type Case = (CNode, Word, PageTable, Word, Frame, Error, &'static str);
    let cases: [Case; 10] = [
        (
            CNODE,
            0,
            VSPACE,
            BUF + 8,
            IPC_BUFFER,
            Error::AlignmentError,
            "misaligned buffer",
        ),
        (
            CNODE,
            0,
            VSPACE,
            BUF,
            f(CNODE.bits()),
            ill,
            "buffer not a frame",
        ),
        (
            CNODE,
            0,
            VSPACE,
            BUF,
            f(busy.bits()),
            Error::RevokeFirst,
            "buffer not derivable",
        ),
        (
            c(VSPACE.bits()),
            0,
            VSPACE,
            BUF + 8,
            IPC_BUFFER,
            Error::AlignmentError,
            "buffer first",
        ),
        (
            c(VSPACE.bits()),
            0,
            VSPACE,
            0,
            IPC_BUFFER,
            ill,
            "CSpace root not a CNode",
        ),
        (
            c(busy.bits()),
            0,
            VSPACE,
            0,
            IPC_BUFFER,
            Error::RevokeFirst,
            "CSpace root derive",
        ),
        (
            CNODE,
            cnode_cap_data(0, 60),
            VSPACE,
            0,
            IPC_BUFFER,
            ill,
            "guard too long",
        ),
        (CNODE, 0, pt, 0, IPC_BUFFER, ill, "VSpace root not mapped"),
        (
            CNODE,
            0,
            v(CNODE.bits()),
            0,
            IPC_BUFFER,
            ill,
            "VSpace root not a page table",
        ),
        (
            CNODE,
            0,
            v(busy.bits()),
            0,
            IPC_BUFFER,
            Error::RevokeFirst,
            "VSpace root derive",
        ),
    ];
    for (croot, cdata, vroot, buf, frame, want, what) in cases {
        expect_err(
            configure(t, CPtr::NULL, croot, cdata, vroot, 0, buf, frame),
            want,
            what,
        )?;
    }
    let caps = [CNODE.bits(), VSPACE.bits(), IPC_BUFFER.bits()];
    let l = label::TCB_CONFIGURE;
    expect_err(
        raw(t.bits(), l, &[0; 4][..CONFIGURE_WORDS - 1], &caps),
        Error::TruncatedMessage,
        "a word short",
    )?;
    expect_err(
        raw(t.bits(), l, &[0; 4][..CONFIGURE_WORDS], &caps[..2]),
        Error::TruncatedMessage,
        "2 caps",
    )
}

pub fn device_frame_buffer_illegal(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    let Some(dev) = device_untyped(ctx, 16) else {
        fail!("no device untyped of 64 KiB");
    };
    let slot = env.slot()?;
    expect_ok(
        retype(dev.cap, ObjectType::SmallPage, 0, slot, 1),
        "device frame",
    )?;
    let frame = Frame::from_bits(slot);
    let ill = Error::IllegalOperation;
    expect_err(
        configure(t, CPtr::NULL, CNODE, 0, VSPACE, 0, BUF, frame),
        ill,
        "Configure",
    )?;
    expect_err(t.set_ipc_buffer(BUF, frame), ill, "SetIPCBuffer")?;
    // The device check comes before the alignment check.
    expect_err(
        t.set_ipc_buffer(BUF + 8, frame),
        ill,
        "SetIPCBuffer misaligned",
    )?;
    expect_ok(crate::fixture::delete(slot), "deleting the device frame")
}

pub fn set_space(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    let cn = CNode::from_bits(env.cnode(4)?);
    // Classic: the fault endpoint is a cptr word, not looked at until a
    // fault; MCS: the handler is a cap, an endpoint with Send and Grant.
    let handler = if sel4::MCS {
        CPtr(env.endpoint()?)
    } else {
        CPtr(9)
    };
    expect_ok(
        forms::set_space(t, handler, cn, cnode_cap_data(0, 60), VSPACE, 0),
        "SetSpace",
    )?;
    expect_ok(
        forms::set_space(t, handler, CNODE, 0, VSPACE, 0),
        "SetSpace again",
    )?;
    let ill = Error::IllegalOperation;
    expect_err(
        forms::set_space(t, handler, CNode::from_bits(VSPACE.bits()), 0, VSPACE, 0),
        ill,
        "croot",
    )?;
    expect_err(
        forms::set_space(t, handler, CNODE, 0, PageTable::from_bits(CNODE.bits()), 0),
        ill,
        "vroot",
    )?;
    if sel4::MCS {
        // After the roots, the handler: a frame is no fault handler.
        expect_err(
            forms::set_space(t, CPtr(9), CNODE, 0, VSPACE, 0),
            Error::InvalidCapability { index: 1 },
            "a frame as the fault handler",
        )?;
        expect_err(
            forms::set_space(t, CPtr(9), CNODE, 0, PageTable::from_bits(CNODE.bits()), 0),
            ill,
            "vroot before the handler",
        )?;
    }
    let l = label::TCB_SET_SPACE;
    // Classic: CSpace and VSpace roots; MCS: the fault handler first.
    let caps = [CNODE.bits(), CNODE.bits(), VSPACE.bits()];
    let caps = &caps[3 - SET_SPACE_CAPS..];
    expect_err(
        raw(t.bits(), l, &[0; 3][..SET_SPACE_WORDS - 1], caps),
        Error::TruncatedMessage,
        "a word short",
    )?;
    expect_err(
        raw(
            t.bits(),
            l,
            &[0; 3][..SET_SPACE_WORDS],
            &caps[..SET_SPACE_CAPS - 1],
        ),
        Error::TruncatedMessage,
        "a cap short",
    )
}

pub fn set_space_long_running_delete(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    let cn = env.cnode(4)?;
    expect_ok(
        forms::set_space(t, CPtr::NULL, CNode::from_bits(cn), 0, VSPACE, 0),
        "SetSpace",
    )?;
    // Now the TCB holds the last cap to the CNode: replacing it would be a
    // long-running delete.
    expect_ok(
        crate::fixture::delete(cn),
        "deleting the CNode's original cap",
    )?;
    let ill = Error::IllegalOperation;
    expect_err(
        forms::set_space(t, CPtr::NULL, CNODE, 0, VSPACE, 0),
        ill,
        "SetSpace",
    )?;
    expect_err(
        configure(t, CPtr::NULL, CNODE, 0, VSPACE, 0, 0, IPC_BUFFER),
        ill,
        "Configure",
    )?;
    // Configure checks its buffer first; SetIPCBuffer ignores the roots.
    expect_err(
        configure(t, CPtr::NULL, CNODE, 0, VSPACE, 0, 8, IPC_BUFFER),
        Error::AlignmentError,
        "Configure, misaligned buffer",
    )?;
    expect_ok(t.set_ipc_buffer(BUF, IPC_BUFFER), "SetIPCBuffer")
}

pub fn set_ipc_buffer(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let t = Threads::new(&env).tcb()?;
    expect_ok(t.set_ipc_buffer(BUF + 0xc00, IPC_BUFFER), "SetIPCBuffer")?;
    expect_ok(
        t.set_ipc_buffer(0, Frame::from_bits(CNODE.bits())),
        "no buffer, any cap",
    )?;
    expect_err(
        t.set_ipc_buffer(BUF + 0x200, IPC_BUFFER),
        Error::AlignmentError,
        "misaligned",
    )?;
    expect_err(
        t.set_ipc_buffer(BUF, Frame::from_bits(CNODE.bits())),
        Error::IllegalOperation,
        "not a frame",
    )?;
    let l = label::TCB_SET_IPC_BUFFER;
    expect_err(
        raw(t.bits(), l, &[], &[IPC_BUFFER.bits()]),
        Error::TruncatedMessage,
        "no word",
    )?;
    expect_err(
        raw(t.bits(), l, &[BUF], &[]),
        Error::TruncatedMessage,
        "no cap",
    )
}

pub fn priorities_bounded_by_mcp(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let threads = Threads::new(&env);
    let (t, weak) = (threads.tcb()?, threads.tcb()?); // a new TCB has MCP 0
    let not_tcb = Tcb::from_bits(CNODE.bits());
    for (name, set) in [
        (
            "SetPriority",
            Tcb::set_priority as fn(Tcb, Tcb, Word) -> Result<(), Error>,
        ),
        ("SetMCPriority", Tcb::set_mc_priority),
    ] {
        expect_err(set(t, ROOT_TCB, ROOT_PRIO + 1), range(0, ROOT_PRIO), name)?;
        expect_err(set(t, weak, 1), range(0, 0), name)?;
        expect_ok(set(t, weak, 0), name)?;
        expect_err(
            set(t, not_tcb, 0),
            Error::InvalidCapability { index: 1 },
            name,
        )?;
    }
    expect_ok(
        weak.set_mc_priority(ROOT_TCB, 40),
        "giving the authority MCP 40",
    )?;
    expect_err(t.set_priority(weak, 41), range(0, 40), "above MCP 40")?;
    expect_ok(t.set_priority(weak, 40), "at MCP 40")?;
    expect_ok(t.set_mc_priority(weak, 40), "MCP at MCP 40")?;
    for l in [label::TCB_SET_PRIORITY, label::TCB_SET_MC_PRIORITY] {
        let truncated = Error::TruncatedMessage;
        expect_err(
            raw(t.bits(), l, &[], &[ROOT_TCB.bits()]),
            truncated,
            "no word",
        )?;
        expect_err(raw(t.bits(), l, &[0], &[]), truncated, "no authority")?;
    }
    Ok(())
}

pub fn sched_params(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let threads = Threads::new(&env);
    let (t, weak) = (threads.tcb()?, threads.tcb()?);
    expect_ok(weak.set_mc_priority(ROOT_TCB, 10), "authority MCP 10")?;
    expect_err(
        set_sched_params(t, weak, 11, 1),
        range(0, 10),
        "MCP too high",
    )?;
    expect_err(
        set_sched_params(t, weak, 1, 11),
        range(0, 10),
        "priority too high",
    )?;
    expect_ok(set_sched_params(t, weak, 10, 10), "both at the MCP")?;
    expect_err(
        set_sched_params(t, Tcb::from_bits(VSPACE.bits()), 0, 0),
        Error::InvalidCapability { index: 1 },
        "authority not a TCB",
    )?;
    let l = label::TCB_SET_SCHED_PARAMS;
    let truncated = Error::TruncatedMessage;
    expect_err(
        raw(t.bits(), l, &[0], &[ROOT_TCB.bits(); SET_SCHED_PARAMS_CAPS]),
        truncated,
        "one word",
    )?;
    // Classic: no authority; MCS: no fault handler (authority, null
    // SchedContext).
    expect_err(
        raw(
            t.bits(),
            l,
            &[0, 0],
            &[ROOT_TCB.bits(), 0][..SET_SCHED_PARAMS_CAPS - 1],
        ),
        truncated,
        "a cap short",
    )?;
    // t now has MCP 10: it may hand out at most that.
    let other = threads.tcb()?;
    check!(
        other.set_priority(t, 11) == Err(range(0, 10)),
        "the new MCP bounds what t authorises"
    );
    Ok(())
}
