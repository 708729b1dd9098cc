//! Thread control block invocations (ch. 6 Threads and Execution; ABI ref
//! §7.3, classic configuration) and the `seL4_UserContext` word order
//! (ABI ref §10).

use super::invoke;
use crate::cap::{CNode, CPtr, Frame, Notification, PageTable, Tcb};
use crate::error::Error;
use crate::message::Message;
use cairn_abi::context::{UserContext, USER_CONTEXT_WORDS};
use cairn_abi::invocation::label;
use cairn_abi::Word;

/// `seL4_UserContext` as its 32 words in ABI order: pc, ra, sp, gp, s0–s11,
/// a0–a7, t0–t6, tp.
pub fn context_to_words(c: &UserContext) -> [Word; USER_CONTEXT_WORDS] {
    let mut w = [0; USER_CONTEXT_WORDS];
    let regs = [c.pc, c.ra, c.sp, c.gp]
        .into_iter()
        .chain(c.s)
        .chain(c.a)
        .chain(c.t)
        .chain([c.tp]);
    for (d, s) in w.iter_mut().zip(regs) {
        *d = s;
    }
    w
}

/// The inverse of [`context_to_words`]; missing words read as 0.
pub fn context_from_words(w: &[Word]) -> UserContext {
    let g = |i: usize| w.get(i).copied().unwrap_or(0);
    let mut c = UserContext {
        pc: g(0),
        ra: g(1),
        sp: g(2),
        gp: g(3),
        tp: g(31),
        ..UserContext::default()
    };
    for (i, r) in c.s.iter_mut().enumerate() {
        *r = g(4 + i);
    }
    for (i, r) in c.a.iter_mut().enumerate() {
        *r = g(16 + i);
    }
    for (i, r) in c.t.iter_mut().enumerate() {
        *r = g(24 + i);
    }
    c
}

/// Marshals `seL4_TCB_ReadRegisters`: MR0 = suspend_source | arch_flags << 8,
/// MR1 = count.
pub fn read_registers_msg(suspend_source: bool, arch_flags: u8, count: Word) -> Message {
    let flags = Word::from(suspend_source) | (Word::from(arch_flags) << 8);
    Message::new(label::TCB_READ_REGISTERS, &[flags, count], &[])
}

/// Marshals `seL4_TCB_WriteRegisters`: MR0 = resume_target | arch_flags << 8,
/// MR1 = count, MR2.. = all 32 registers (the stub always sends 34 MRs).
pub fn write_registers_msg(
    resume_target: bool,
    arch_flags: u8,
    count: Word,
    regs: &UserContext,
) -> Message {
    let mut mrs = [0; 2 + USER_CONTEXT_WORDS];
    mrs[0] = Word::from(resume_target) | (Word::from(arch_flags) << 8);
    mrs[1] = count;
    for (d, s) in mrs.iter_mut().skip(2).zip(context_to_words(regs)) {
        *d = s;
    }
    Message::new(label::TCB_WRITE_REGISTERS, &mrs, &[])
}

/// The flags of `seL4_TCB_CopyRegisters`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyFlags {
    /// Suspend the source first.
    pub suspend_source: bool,
    /// Resume the target afterwards.
    pub resume_target: bool,
    /// Copy the frame registers (pc, ra, sp, gp, s0–s11).
    pub transfer_frame: bool,
    /// Copy the integer registers (a0–a7, t0–t6, tp).
    pub transfer_integer: bool,
    /// Architecture flags (ignored on RISC-V).
    pub arch_flags: u8,
}

/// Marshals `seL4_TCB_CopyRegisters`: MR0 = the four flag bits and
/// arch_flags << 8; extra cap 0 = source.
pub fn copy_registers_msg(source: Tcb, f: CopyFlags) -> Message {
    let w = Word::from(f.suspend_source)
        | Word::from(f.resume_target) << 1
        | Word::from(f.transfer_frame) << 2
        | Word::from(f.transfer_integer) << 3
        | Word::from(f.arch_flags) << 8;
    Message::new(label::TCB_COPY_REGISTERS, &[w], &[source.cptr()])
}

/// Marshals `seL4_TCB_Configure` (classic): MR0 fault_ep (a cptr word),
/// MR1 cspace_root_data, MR2 vspace_root_data, MR3 buffer; extra caps
/// cspace root, vspace root, buffer frame.
pub fn configure_msg(
    fault_ep: CPtr,
    cspace_root: CNode,
    cspace_root_data: Word,
    vspace_root: PageTable,
    vspace_root_data: Word,
    buffer: Word,
    buffer_frame: Frame,
) -> Message {
    Message::new(
        label::TCB_CONFIGURE,
        &[fault_ep.0, cspace_root_data, vspace_root_data, buffer],
        &[cspace_root.cptr(), vspace_root.cptr(), buffer_frame.cptr()],
    )
}

/// Marshals `seL4_TCB_SetSpace` (classic): MR0 fault_ep, MR1 cspace data,
/// MR2 vspace data; extra caps cspace root, vspace root.
pub fn set_space_msg(
    fault_ep: CPtr,
    cspace_root: CNode,
    cspace_root_data: Word,
    vspace_root: PageTable,
    vspace_root_data: Word,
) -> Message {
    Message::new(
        label::TCB_SET_SPACE,
        &[fault_ep.0, cspace_root_data, vspace_root_data],
        &[cspace_root.cptr(), vspace_root.cptr()],
    )
}

impl Tcb {
    fn call(self, msg: &Message) -> Result<Message, Error> {
        invoke(self.cptr(), msg)
    }

    /// `seL4_TCB_ReadRegisters`: the first `count` registers in
    /// `seL4_UserContext` order (the rest read as 0).
    pub fn read_registers(
        self,
        suspend_source: bool,
        arch_flags: u8,
        count: Word,
    ) -> Result<UserContext, Error> {
        let reply = self.call(&read_registers_msg(suspend_source, arch_flags, count))?;
        Ok(context_from_words(reply.mrs()))
    }

    /// `seL4_TCB_WriteRegisters`.
    pub fn write_registers(
        self,
        resume_target: bool,
        arch_flags: u8,
        count: Word,
        regs: &UserContext,
    ) -> Result<(), Error> {
        self.call(&write_registers_msg(resume_target, arch_flags, count, regs))
            .map(drop)
    }

    /// `seL4_TCB_CopyRegisters`: copies registers from `source` into this TCB.
    pub fn copy_registers(self, source: Tcb, flags: CopyFlags) -> Result<(), Error> {
        self.call(&copy_registers_msg(source, flags)).map(drop)
    }

    /// `seL4_TCB_Configure` (classic).
    #[allow(clippy::too_many_arguments)] // Mirrors seL4_TCB_Configure argument for argument.
    pub fn configure(
        self,
        fault_ep: CPtr,
        cspace_root: CNode,
        cspace_root_data: Word,
        vspace_root: PageTable,
        vspace_root_data: Word,
        buffer: Word,
        buffer_frame: Frame,
    ) -> Result<(), Error> {
        let msg = configure_msg(
            fault_ep,
            cspace_root,
            cspace_root_data,
            vspace_root,
            vspace_root_data,
            buffer,
            buffer_frame,
        );
        self.call(&msg).map(drop)
    }

    /// `seL4_TCB_SetPriority`: MR0 priority; extra cap 0 the authority TCB.
    pub fn set_priority(self, authority: Tcb, priority: Word) -> Result<(), Error> {
        self.call(&Message::new(
            label::TCB_SET_PRIORITY,
            &[priority],
            &[authority.cptr()],
        ))
        .map(drop)
    }

    /// `seL4_TCB_SetMCPriority`: MR0 mcp; extra cap 0 the authority TCB.
    pub fn set_mc_priority(self, authority: Tcb, mcp: Word) -> Result<(), Error> {
        self.call(&Message::new(
            label::TCB_SET_MC_PRIORITY,
            &[mcp],
            &[authority.cptr()],
        ))
        .map(drop)
    }

    /// `seL4_TCB_SetSchedParams` (classic): MR0 mcp, MR1 priority.
    pub fn set_sched_params(self, authority: Tcb, mcp: Word, priority: Word) -> Result<(), Error> {
        self.call(&Message::new(
            label::TCB_SET_SCHED_PARAMS,
            &[mcp, priority],
            &[authority.cptr()],
        ))
        .map(drop)
    }

    /// `seL4_TCB_SetIPCBuffer`: MR0 buffer vaddr (0 = none); extra cap 0 frame.
    pub fn set_ipc_buffer(self, buffer: Word, buffer_frame: Frame) -> Result<(), Error> {
        self.call(&Message::new(
            label::TCB_SET_IPC_BUFFER,
            &[buffer],
            &[buffer_frame.cptr()],
        ))
        .map(drop)
    }

    /// `seL4_TCB_SetSpace` (classic).
    pub fn set_space(
        self,
        fault_ep: CPtr,
        cspace_root: CNode,
        cspace_root_data: Word,
        vspace_root: PageTable,
        vspace_root_data: Word,
    ) -> Result<(), Error> {
        self.call(&set_space_msg(
            fault_ep,
            cspace_root,
            cspace_root_data,
            vspace_root,
            vspace_root_data,
        ))
        .map(drop)
    }

    /// `seL4_TCB_Suspend`.
    pub fn suspend(self) -> Result<(), Error> {
        self.call(&Message::empty(label::TCB_SUSPEND)).map(drop)
    }

    /// `seL4_TCB_Resume`.
    pub fn resume(self) -> Result<(), Error> {
        self.call(&Message::empty(label::TCB_RESUME)).map(drop)
    }

    /// `seL4_TCB_BindNotification`: extra cap 0 the notification.
    pub fn bind_notification(self, notification: Notification) -> Result<(), Error> {
        self.call(&Message::new(
            label::TCB_BIND_NOTIFICATION,
            &[],
            &[notification.cptr()],
        ))
        .map(drop)
    }

    /// `seL4_TCB_UnbindNotification`.
    pub fn unbind_notification(self) -> Result<(), Error> {
        self.call(&Message::empty(label::TCB_UNBIND_NOTIFICATION))
            .map(drop)
    }

    /// `seL4_TCB_SetTLSBase`: MR0 the new `tp`.
    pub fn set_tls_base(self, tls_base: Word) -> Result<(), Error> {
        self.call(&Message::new(label::TCB_SET_TLS_BASE, &[tls_base], &[]))
            .map(drop)
    }

    /// `seL4_TCB_SetFlags`: MR0 clear, MR1 set; returns the new flags (MR0).
    pub fn set_flags(self, clear: Word, set: Word) -> Result<Word, Error> {
        Ok(self
            .call(&Message::new(label::TCB_SET_FLAGS, &[clear, set], &[]))?
            .mr(0))
    }
}

#[cfg(all(test, not(target_arch = "riscv64")))]
mod tests {
    use super::*;
    use crate::object::testing::{ok, one_call};

    const T: Tcb = Tcb::from_bits(1);

    fn sample() -> UserContext {
        let w: [Word; 32] = core::array::from_fn(|i| 100 + i as Word);
        context_from_words(&w)
    }

    #[test]
    fn context_order() {
        let c = sample();
        assert_eq!((c.pc, c.ra, c.sp, c.gp), (100, 101, 102, 103));
        assert_eq!(
            (c.s[0], c.s[11], c.a[0], c.a[7], c.t[0], c.t[6], c.tp),
            (104, 115, 116, 123, 124, 130, 131)
        );
        assert_eq!(context_to_words(&c)[31], 131);
    }

    #[test]
    fn read_registers_round_trip() {
        let reply = Message::new(0, &context_to_words(&sample()), &[]);
        let (r, dest, msg) = one_call(reply, || T.read_registers(true, 0, 32));
        assert_eq!(r, Ok(sample()));
        assert_eq!(dest, 1);
        assert_eq!((msg.label(), msg.mrs()), (2, &[1, 32][..]));
    }

    #[test]
    fn write_registers_sends_34() {
        let (_, _, msg) = one_call(ok(), || T.write_registers(true, 2, 5, &sample()));
        assert_eq!(msg.label(), 3);
        assert_eq!(msg.len(), 34);
        assert_eq!(&msg.mrs()[..3], &[1 | 2 << 8, 5, 100]);
        assert_eq!(msg.mr(33), 131);
    }

    #[test]
    fn configure_and_space() {
        let m = configure_msg(
            CPtr(7),
            CNode::from_bits(2),
            0x33,
            PageTable::from_bits(3),
            0,
            0x1000,
            Frame::from_bits(10),
        );
        assert_eq!(
            (m.label(), m.mrs(), m.caps()),
            (5, &[7, 0x33, 0, 0x1000][..], &[2, 3, 10][..])
        );
        let m = set_space_msg(CPtr(7), CNode::from_bits(2), 1, PageTable::from_bits(3), 2);
        assert_eq!(
            (m.label(), m.mrs(), m.caps()),
            (10, &[7, 1, 2][..], &[2, 3][..])
        );
    }

    #[test]
    fn copy_registers_flags() {
        let f = CopyFlags {
            suspend_source: true,
            resume_target: false,
            transfer_frame: true,
            transfer_integer: true,
            arch_flags: 1,
        };
        let m = copy_registers_msg(Tcb::from_bits(20), f);
        assert_eq!(
            (m.label(), m.mrs(), m.caps()),
            (4, &[0b1101 | 1 << 8][..], &[20][..])
        );
    }

    /// (label, method call, MRs, caps) of one simple method.
    type Case = (
        Word,
        fn() -> Result<(), Error>,
        &'static [Word],
        &'static [Word],
    );

    #[test]
    fn simple_methods() {
        let cases: [Case; 8] = [
            (6, || T.set_priority(T, 200), &[200], &[1]),
            (7, || T.set_mc_priority(T, 100), &[100], &[1]),
            (8, || T.set_sched_params(T, 100, 50), &[100, 50], &[1]),
            (
                9,
                || T.set_ipc_buffer(0x2000, Frame::from_bits(10)),
                &[0x2000],
                &[10],
            ),
            (11, || T.suspend(), &[], &[]),
            (12, || T.resume(), &[], &[]),
            (
                13,
                || T.bind_notification(Notification::from_bits(40)),
                &[],
                &[40],
            ),
            (15, || T.set_tls_base(0xabc), &[0xabc], &[]),
        ];
        for (l, f, mrs, caps) in cases {
            let (r, _, msg) = one_call(ok(), f);
            assert_eq!(r, Ok(()));
            assert_eq!((msg.label(), msg.mrs(), msg.caps()), (l, mrs, caps));
        }
        let (_, _, msg) = one_call(ok(), || T.unbind_notification());
        assert_eq!(msg.label(), 14);
        let (r, _, msg) = one_call(Message::new(0, &[1], &[]), || T.set_flags(0, 1));
        assert_eq!((r, msg.label(), msg.mrs()), (Ok(1), 16, &[0, 1][..]));
    }

    #[test]
    fn read_registers_range_error() {
        let (r, _, _) = one_call(Message::new(4, &[1, 32], &[]), || {
            T.read_registers(false, 0, 0)
        });
        assert_eq!(r, Err(Error::RangeError { min: 1, max: 32 }));
    }
}
